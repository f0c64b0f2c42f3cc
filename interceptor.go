package tars

import (
	"context"
	"maps"
	"net"
	"reflect"
	"sync"
	"time"

	"github.com/gotars/tars/discovery"
)

// Call describes one RPC as a middleware sees it, on either side. The typed
// request and response travel as pointers (*Req, *Resp) in Request and
// Response, so middleware can inspect them without knowing their types.
type Call struct {
	Servant   string        // the servant object, e.g. "UserService.UserServiceObj"
	Method    string        // the IDL method name, e.g. "getUser"
	Version   int16         // VersionTARS, VersionTUP or VersionJSON
	RequestID int32         // the packet's request id
	Oneway    bool          // no response is sent
	Server    bool          // true in a server chain, false in a client chain
	Timeout   time.Duration // the caller's timeout (iTimeout), 0 when none
	Peer      net.Addr      // the other side: the caller on a server, the server on a client
	// Endpoint is where a client call goes: set for the endpoint chain
	// (WithEndpointMiddleware) before it runs; after the call, the client
	// chain sees the last endpoint tried. Zero on a server.
	Endpoint discovery.Endpoint

	// The request's TARS context and status maps (nil when empty). A
	// client middleware adds entries with SetContext and SetStatus before
	// calling next; a server middleware and the handler read them.
	Context map[string]string
	Status  map[string]string
	// The response's TARS context and status maps: a server handler or
	// middleware sets entries (SetResponseContext, SetResponseStatus); a
	// client middleware reads them after next returns.
	ResponseContext map[string]string
	ResponseStatus  map[string]string

	Request  any // *Req: decoded on a server, to be encoded on a client
	Response any // *Resp: filled by the handler (server) or the decoder (client); nil for oneway calls

	m        *method
	att      *attemptState // a client call's attempt in progress
	deadline time.Time     // a client call's deadline: its ctx's, or fixed by Deadline or the first send
	timeout  time.Duration // the client's timeout, for a call whose ctx has no deadline
	root     *Call         // the call an attempt (NewAttempt) was made for; nil for the call itself
	// mu guards the response maps of a server call against goroutines a
	// handler starts, and, on the root of a client call's attempts, tried.
	mu    sync.Mutex
	tried []string // the keys of the endpoints the attempts of an idempotent client call went to
}

// Idempotent reports whether the call's endpoint was declared Idempotent:
// whether it may be retried or hedged.
func (c *Call) Idempotent() bool { return c.m != nil && c.m.idempotent }

// Deadline returns the time by which a client call must end: its context's
// deadline, or else the client's timeout (WithTimeout) from now — fixed by
// this first call of Deadline (or when the call is first sent), so that
// the attempts of the call (NewAttempt) share it. Retry and hedging
// middleware call it before any attempt runs. Zero on a server call, whose
// handler's context carries the caller's deadline.
func (c *Call) Deadline() time.Time {
	if !c.deadline.IsZero() || c.timeout <= 0 {
		return c.deadline
	}
	return c.deadlineAt(nanotime())
}

// deadlineAt is Deadline with the clock read: now (nanotime) fixes the
// deadline of a call whose context has none.
func (c *Call) deadlineAt(now int64) time.Time {
	if c.deadline.IsZero() && c.timeout > 0 {
		c.deadline = clockBase.Add(time.Duration(now) + c.timeout)
	}
	return c.deadline
}

// NewAttempt returns a new attempt of a client call, for retry and hedging
// middleware to pass to next: the same servant, method, request and
// deadline, copies of the request's context and status maps, and a fresh
// response value. The client sends an attempt of an Idempotent call to an
// endpoint no earlier attempt of the call went to, while such endpoints
// remain. Once an attempt has returned, Adopt takes its outcome into the
// call. NewAttempt returns nil for a server call.
func (c *Call) NewAttempt() *Call {
	if c.Server || c.m == nil {
		return nil
	}
	root := c
	if c.root != nil {
		root = c.root
	}
	if root.Endpoint.Port != 0 && root.m.idempotent {
		// The call itself ran as the first attempt: the next ones avoid
		// the endpoint it went to.
		root.mu.Lock()
		if len(root.tried) == 0 {
			root.tried = append(root.tried, root.Endpoint.Key())
		}
		root.mu.Unlock()
	}
	a := &Call{
		Servant: c.Servant, Method: c.Method, Version: c.Version, Oneway: c.Oneway,
		Context: maps.Clone(c.Context), Status: maps.Clone(c.Status),
		Request: c.Request, m: c.m, deadline: c.Deadline(), root: root,
	}
	if c.Response != nil {
		a.Response = reflect.New(c.m.rspType).Interface()
	}
	return a
}

// Adopt takes into c the outcome of its attempt a (from NewAttempt), which
// must have returned: the response value, the response maps, the endpoint
// and the peer. Adopting c itself does nothing.
func (c *Call) Adopt(a *Call) {
	if a == nil || a == c {
		return
	}
	if c.Response != nil && a.Response != nil {
		reflect.ValueOf(c.Response).Elem().Set(reflect.ValueOf(a.Response).Elem())
	}
	c.ResponseContext, c.ResponseStatus = a.ResponseContext, a.ResponseStatus
	c.Endpoint, c.Peer = a.Endpoint, a.Peer
	c.RequestID, c.Timeout = a.RequestID, a.Timeout
}

// group returns the call whose tried list the attempts (NewAttempt) of an
// idempotent client call share, or nil for other calls — the call itself
// included: it is always the first attempt, so it has nothing to avoid, and
// the endpoint it went to is in its Endpoint, which NewAttempt notes. So a
// call that is not retried records nothing.
func (c *Call) group() *Call {
	if c.root == nil || c.m == nil || !c.m.idempotent || c.Server {
		return nil
	}
	return c.root
}

// Invoker runs a call: the handler at the end of a server chain, the network
// round trip at the end of a client chain. A returned error becomes the
// call's TARS return code (see CodeOf).
type Invoker func(ctx context.Context, call *Call) error

// Middleware wraps an Invoker. The same signature serves server and client
// chains (Call.Server tells them apart); the first middleware given runs
// outermost.
type Middleware func(next Invoker) Invoker

func chain(mws []Middleware, last Invoker) Invoker {
	for i := len(mws) - 1; i >= 0; i-- {
		last = mws[i](last)
	}
	return last
}

// SetContext sets an entry of the request's TARS context map, making the
// map if there is none (client middleware, before calling next).
func (c *Call) SetContext(key, value string) {
	if c.Context == nil {
		c.Context = map[string]string{}
	}
	c.Context[key] = value
}

// SetStatus sets an entry of the request's TARS status map, making the map
// if there is none (client middleware, before calling next).
func (c *Call) SetStatus(key, value string) {
	if c.Status == nil {
		c.Status = map[string]string{}
	}
	c.Status[key] = value
}

type callKey struct{}

// CallFromContext returns the server call that ctx belongs to, inside a
// handler or a server middleware: its TARS context and status maps, the
// caller's address. (Client middleware get their *Call as an argument.)
func CallFromContext(ctx context.Context) (*Call, bool) {
	c, ok := ctx.Value(callKey{}).(*Call)
	return c, ok
}

// SetResponseContext sets an entry of the response's TARS context map of the
// server call that ctx belongs to. It reports false outside a server call.
// It is safe to call from goroutines the handler starts; entries set after
// the handler has returned may miss the answer.
func SetResponseContext(ctx context.Context, key, value string) bool {
	return setResponse(ctx, false, key, value)
}

// SetResponseStatus sets an entry of the response's TARS status map of the
// server call that ctx belongs to, as SetResponseContext does.
func SetResponseStatus(ctx context.Context, key, value string) bool {
	return setResponse(ctx, true, key, value)
}

func setResponse(ctx context.Context, status bool, key, value string) bool {
	c, ok := CallFromContext(ctx)
	if !ok || !c.Server {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m := &c.ResponseContext
	if status {
		m = &c.ResponseStatus
	}
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[key] = value
	return true
}

type outKey struct{ status bool }

// WithOutgoingContext returns a context whose calls carry the entries of m
// in the request's TARS context map (merged over any set earlier).
func WithOutgoingContext(ctx context.Context, m map[string]string) context.Context {
	return withOutgoing(ctx, outKey{}, m)
}

// WithOutgoingStatus returns a context whose calls carry the entries of m in
// the request's TARS status map (merged over any set earlier).
func WithOutgoingStatus(ctx context.Context, m map[string]string) context.Context {
	return withOutgoing(ctx, outKey{status: true}, m)
}

func withOutgoing(ctx context.Context, k outKey, m map[string]string) context.Context {
	old, _ := ctx.Value(k).(map[string]string)
	merged := make(map[string]string, len(old)+len(m))
	for k, v := range old {
		merged[k] = v
	}
	for k, v := range m {
		merged[k] = v
	}
	return context.WithValue(ctx, k, merged)
}

func outgoing(ctx context.Context, status bool) map[string]string {
	m, _ := ctx.Value(outKey{status: status}).(map[string]string)
	return m
}
