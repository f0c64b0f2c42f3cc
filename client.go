package tars

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/lb"
	"github.com/gotars/tars/protocol"
	"github.com/gotars/tars/transport"
)

// Client calls the endpoints of one servant object over a few multiplexed
// connections per endpoint. Build it with NewClient from an object name in
// TARS syntax; it is safe for concurrent use; Close it when done.
//
// The endpoints come from the object string ("Obj@tcp -h … -p …") or from
// a resolver (WithResolver; the TARS registry, Consul), which may change
// them while calls run: connections to removed endpoints drain and close,
// new ones are dialled when first picked. A balancer picks an endpoint per
// call (WithBalancer; by default TARS's own: round robin, static weights,
// and the modulo and consistent hashes of lb.WithHash).
//
// A call never waits for a socket: its deadline bounds it whole, dialling
// and writing included. An endpoint that fails calls is taken out of
// rotation by the HealthPolicy and probed again later; one that has
// answered nothing for a while although calls wait on it (a hung backend)
// is passed over while others answer; no endpoint takes more than
// WithMaxInflight calls at once. A call that could not connect goes to
// another endpoint, never the same one twice.
type Client struct {
	servant string
	cfg     clientConfig
	chain   Invoker // the client middleware, ending in roundTrip
	attempt Invoker // the endpoint middleware, ending in send
	reqID   atomic.Int32
	closed  atomic.Bool
	// ctx bounds the client's own work (dials, resolution), cancelled by
	// Close; wg waits for that work.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	static bool // the object string listed the endpoints
	mu     sync.Mutex
	byset  map[string]*resolution // per TARS set ("" for the client's own)
	own    atomic.Pointer[resolution]
}

// NewClient returns a client for the object obj, in TARS syntax:
// "UserService.UserServiceObj@tcp -h 127.0.0.1 -p 18015 -t 3000", with
// several endpoints joined by ':', or a bare servant name
// ("App.Server.Obj") resolved through the WithResolver resolver. No
// connection is made and nothing is started until the first call. An
// invalid option is an error naming it.
func NewClient(obj string, opts ...ClientOption) (*Client, error) {
	servant, addrs, err := transport.ParseObject(obj)
	if err != nil {
		return nil, err
	}
	cfg, err := newClientConfig(opts)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 && cfg.resolver == nil {
		return nil, fmt.Errorf("tars.NewClient: object %q lists no endpoints and the client has no resolver (WithResolver)", obj)
	}
	c := &Client{servant: servant, cfg: cfg, static: len(addrs) > 0, byset: map[string]*resolution{}}
	for _, a := range addrs {
		if a.Network == "ssl" && c.cfg.tls == nil && c.cfg.dial == nil {
			return nil, fmt.Errorf("tars.NewClient: %s: an ssl endpoint needs WithTLSConfig", a)
		}
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.chain = chain(c.cfg.middleware, c.roundTrip)
	c.attempt = chain(c.cfg.epMiddleware, c.send)
	if c.static {
		eps := make([]discovery.Endpoint, len(addrs))
		for i, a := range addrs {
			eps[i] = discovery.FromAddress(a)
		}
		r := c.newResolution("")
		r.apply(discovery.State{Endpoints: discovery.Normalize(eps)})
		c.byset[""] = r
	}
	return c, nil
}

// Servant returns the servant object the client calls.
func (c *Client) Servant() string { return c.servant }

// Close stops resolution, dials in progress and every connection; calls
// waiting on them fail with CodeSendRequestErr, later calls with
// CodeProxyConnectErr.
func (c *Client) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.cancel()
	c.mu.Lock()
	rs := make([]*resolution, 0, len(c.byset))
	for _, r := range c.byset {
		rs = append(rs, r)
	}
	c.mu.Unlock()
	for _, r := range rs {
		if set := r.set.Load(); set != nil {
			for _, e := range set.eps {
				e.close()
			}
		}
	}
	c.wg.Wait()
	return nil
}

func (c *Client) logger() *slog.Logger { return c.cfg.logger }

// invoke runs the client chain for one call of m.
func (c *Client) invoke(ctx context.Context, m *method, req, rsp any, oneway bool) error {
	if m.svc == nil {
		return errors.New("tars: call of an undeclared endpoint")
	}
	call := &Call{
		Servant: c.servant, Method: m.name, Version: c.cfg.version, Oneway: oneway,
		Context: maps.Clone(outgoing(ctx, false)), Status: maps.Clone(outgoing(ctx, true)),
		Request: req, Response: rsp, m: m,
	}
	if d, ok := ctx.Deadline(); ok {
		call.deadline = d
	} else {
		call.timeout = c.cfg.timeout // the deadline is fixed when first asked for or sent
	}
	err := c.chain(ctx, call)
	// After the whole chain: the call's own maps, which a retry or a backup
	// request (Adopt) took from the attempt that won.
	if r, ok := ctx.Value(responseMapsKey{}).(*ResponseMaps); ok {
		r.Context, r.Status = call.ResponseContext, call.ResponseStatus
	}
	return err
}

// gaveUp is the error of a call whose caller gave up: its deadline passed
// (cause context.DeadlineExceeded) or it cancelled.
func gaveUp(err error, what string) *Error {
	if errors.Is(err, context.Canceled) {
		return &Error{Code: CodeInvokeTimeout, Message: what + ": call canceled", cause: err}
	}
	return &Error{Code: CodeInvokeTimeout, Message: what + ": deadline passed", cause: context.DeadlineExceeded}
}

// ErrEndpointUnavailable, returned (or wrapped) by an endpoint middleware
// instead of calling next, sends the call to another endpoint: a circuit
// breaker open for the endpoint picked says so. The call fails with
// CodeAdapterNull when no endpoint is left.
var ErrEndpointUnavailable = errors.New("tars: endpoint unavailable")

// attemptState is what the end of the endpoint chain needs: the frame to
// send and the connection picked.
type attemptState struct {
	frame    []byte
	deadline int64 // nanotime
	timeout  time.Duration
	e        *endpoint
	cc       *clientConn
	probe    bool
	now      int64 // nanotime when the endpoint was picked
}

// roundTrip is the end of the client chain: encode once, then pick an
// endpoint and run the endpoint chain, again on another endpoint when the
// call could not be sent.
func (c *Client) roundTrip(ctx context.Context, call *Call) error {
	if c.closed.Load() {
		return NewError(CodeProxyConnectErr, "client closed")
	}
	m := call.m
	now := nanotime()
	deadline := call.deadlineAt(now) // fixed now, for the call's later attempts
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d // an attempt's own timeout
	}
	end := monoOf(deadline)
	timeout := time.Duration(end - now)
	if timeout <= 0 {
		return &Error{Code: CodeInvokeTimeout, Message: "deadline passed before the call was sent", cause: context.DeadlineExceeded}
	}
	call.Timeout = timeout
	call.RequestID = c.nextID()

	w := getWriter()
	defer putWriter(w)
	if err := encodeArgs(m, call.Version, w, call.Request); err != nil {
		return wrapError(CodeSendRequestErr, err)
	}
	// iTimeout rounds up: the server's deadline must not come before ours.
	ms := (timeout + time.Millisecond - 1) / time.Millisecond
	pkt := protocol.RequestPacket{
		Version: call.Version, RequestID: call.RequestID, ServantName: c.servant, FuncName: m.name,
		Buffer: w.Bytes(), Timeout: int32(min(int64(ms), 1<<31-1)),
		Context: call.Context, Status: call.Status,
	}
	if call.Oneway {
		pkt.PacketType = protocol.PacketOneway
	}
	fb := getFrameBuf()
	defer putFrameBuf(fb)
	frame := protocol.AppendRequest((*fb)[:0], &pkt)
	*fb = frame
	if len(frame) > c.cfg.maxPacket {
		return Errorf(CodeSendRequestErr, "request of %d bytes exceeds the maximum packet size %d", len(frame), c.cfg.maxPacket)
	}

	set, err := c.resolve(ctx, deadline)
	if err != nil {
		return err
	}
	ps := getPickState(set)
	defer putPickState(ps)
	if t, code := lb.HashFromContext(ctx); t != lb.NoHash {
		ps.req.HashType, ps.req.Hash = t, code
	}
	st := &ps.attempt
	st.frame, st.deadline, st.timeout = frame, end, timeout
	call.att = st
	defer func() { call.att = nil }()
	g := call.group()
	if g != nil {
		g.avoidTried(ps)
	}
	var lastErr error
	for range len(set.eps) + 1 {
		e, probe := ps.pick(now)
		if e == nil {
			break
		}
		ps.tried(e)
		if g != nil {
			g.mu.Lock()
			g.tried = append(g.tried, e.key)
			g.mu.Unlock()
		}
		// The fast path, taken by nearly every call: a live connection,
		// read without locking; else slotConn, which may dial.
		slot := e.slot(call.RequestID)
		cc := slot.cc.Load()
		if cc == nil || !cc.usable() {
			var err error
			cc, err = c.slotConn(ctx, deadline, e, slot)
			now = nanotime() // a dial may have taken a while
			if err != nil {
				if isGaveUp(err) {
					return err
				}
				e.health.failure(&c.cfg.health, now, probe)
				lastErr = err // nothing was sent: try another endpoint
				continue
			}
		}
		st.e, st.cc, st.probe, st.now = e, cc, probe, now
		call.Endpoint, call.Peer = *e.info.Load(), cc.conn.RemoteAddr()
		err := c.attempt(ctx, call)
		if errors.Is(err, ErrEndpointUnavailable) {
			if probe {
				e.health.probing.Store(false)
			}
			lastErr = err
			now = nanotime()
			continue
		}
		return err
	}
	if lastErr == nil {
		lastErr = errors.New("every endpoint is out of rotation, at its in-flight bound or tried")
	}
	if errors.Is(lastErr, ErrEndpointUnavailable) {
		return &Error{Code: CodeAdapterNull, Message: fmt.Sprintf("%s: no endpoint available: %v", c.servant, lastErr), cause: lastErr}
	}
	var te *Error
	if errors.As(lastErr, &te) {
		return lastErr
	}
	return &Error{Code: CodeAdapterNull, Message: fmt.Sprintf("%s: %v", c.servant, lastErr), cause: lastErr}
}

// send is the end of the endpoint chain: write the frame on the connection
// picked, wait for the answer, decode it.
func (c *Client) send(ctx context.Context, call *Call) error {
	st := call.att
	if st == nil || st.cc == nil {
		return errors.New("tars: endpoint middleware called next outside a call")
	}
	e, cc, m := st.e, st.cc, call.m
	pol := &c.cfg.health
	if call.Oneway {
		if err := cc.conn.Write(st.frame); err != nil {
			e.health.failure(pol, nanotime(), st.probe)
			return wrapError(CodeSendRequestErr, err)
		}
		e.health.success(pol, nanotime(), st.probe)
		return nil
	}
	// The connection times the call out at its deadline, unless the
	// caller's context ends it no later (client_deadline.go).
	var connDeadline int64
	if d, ok := ctx.Deadline(); !ok || monoOf(d) > st.deadline {
		connDeadline = st.deadline
	}
	wt, err := cc.register(call.RequestID, connDeadline)
	if err != nil {
		e.health.failure(pol, nanotime(), st.probe)
		return err
	}
	defer putWaiter(wt)
	e.begin()
	defer e.end()
	if err := cc.conn.Write(st.frame); err != nil {
		if !cc.unregister(call.RequestID) {
			<-wt.done // the failed connection has signalled the waiter: drain it before it is reused
		}
		e.health.failure(pol, nanotime(), st.probe)
		return wrapError(CodeSendRequestErr, err)
	}
	// Wait for the answer, the connection timing the call out, or the
	// caller giving up. The write never blocks: the deadline bounds the
	// call whole.
	// The clock as the endpoint was picked, unless endpoint middleware ran
	// since (it may take its time). The success below is dated by it: close
	// enough for rules counted in seconds.
	sent := st.now
	if len(c.cfg.epMiddleware) > 0 {
		sent = nanotime()
	}
	var cause error
	select {
	case <-wt.done:
	case <-ctx.Done():
		cause = ctx.Err()
		if !cc.unregister(call.RequestID) {
			<-wt.done // the answer (or the connection's timeout) is being delivered: take it
			cause = nil
		}
	}
	if cause == nil && wt.err == errCallDeadline {
		cause = context.DeadlineExceeded // the connection timed the call out
	}
	if cause != nil {
		if cause == context.DeadlineExceeded {
			e.health.failure(pol, nanotime(), st.probe)
		} else if st.probe {
			e.health.probing.Store(false)
		}
		return gaveUp(cause, fmt.Sprintf("%s.%s: no answer from %s within %v", c.servant, m.name, e.addr, st.timeout.Round(time.Millisecond)))
	}
	res := wt
	if res.err != nil {
		var te *Error
		if errors.As(res.err, &te) && te.Code == CodeSendRequestErr {
			e.health.failure(pol, nanotime(), st.probe)
		} else {
			e.health.success(pol, sent, st.probe)
		}
		return res.err
	}
	e.health.success(pol, sent, st.probe)
	resp := &res.resp
	call.ResponseContext, call.ResponseStatus = resp.Context, resp.Status
	if resp.Ret != CodeSuccess {
		return &Error{Code: resp.Ret, Message: resp.ResultDesc}
	}
	budget := c.cfg.decodeBudget
	if budget == 0 {
		budget = rpcDecodeBudget(len(resp.Buffer))
	}
	if err := decodeResultsBudget(m, call.Version, resp.Buffer, call.Response, budget); err != nil {
		if errors.Is(err, errTUPEmpty) {
			// iRet 0 and no results: a TarsGo server's answer to a TUP
			// call whose handler failed (it drops the code from TUP
			// answers). Report a server failure, not a decoding one.
			return &Error{Code: CodeServerUnknownErr, Message: "the server answered without results or an error code (TarsGo servers drop the error code of failed TUP calls)", cause: err}
		}
		return wrapError(CodeClientDecodeErr, err)
	}
	return nil
}

func (c *Client) nextID() int32 {
	for {
		if id := c.reqID.Add(1); id != 0 {
			return id
		}
	}
}

func isGaveUp(err error) bool {
	var te *Error
	return errors.As(err, &te) && te.Code == CodeInvokeTimeout
}

// ResponseMaps receives the response's TARS context and status maps of the
// calls made with a context from WithResponseMaps: what a caller reads
// without writing middleware (grpc's Header call option).
type ResponseMaps struct {
	Context map[string]string
	Status  map[string]string
}

type responseMapsKey struct{}

// WithResponseMaps returns a context whose calls store their response's
// context and status maps in r. Use one r per call.
func WithResponseMaps(ctx context.Context, r *ResponseMaps) context.Context {
	return context.WithValue(ctx, responseMapsKey{}, r)
}

type setKey struct{}

// WithCallSet returns a context whose calls go to the servant's endpoints
// in the TARS set ("name.area.group"), resolved on their own; "" is the
// client's own (WithSet). Clients whose object string lists endpoints
// ignore it.
func WithCallSet(ctx context.Context, set string) context.Context {
	return context.WithValue(ctx, setKey{}, set)
}

// pickState is one call's pick: the tried endpoints and a Skip function
// made once per pooled value (a closure per call would allocate).
type pickState struct {
	set     *epSet
	req     lb.Request
	now     int64 // nanotime
	pol     *HealthPolicy
	max     int32
	stalled bool // pass over stalled endpoints
	tried1  [4]*endpoint
	triedN  []*endpoint
	nTried  int
	probe   *endpoint
	attempt attemptState
}

var pickPool = sync.Pool{New: func() any {
	ps := &pickState{}
	ps.req.Skip = ps.skip
	return ps
}}

func getPickState(set *epSet) *pickState {
	ps := pickPool.Get().(*pickState)
	ps.set = set
	return ps
}

func putPickState(ps *pickState) {
	skip := ps.req.Skip
	*ps = pickState{triedN: ps.triedN[:0]}
	ps.req.Skip = skip
	pickPool.Put(ps)
}

// avoidTried marks tried, in ps, the endpoints of ps's set that earlier
// attempts of the call g went to, unless that is all of them: an attempt
// goes elsewhere while it can, and back to an endpoint tried before only
// when none is left.
func (g *Call) avoidTried(ps *pickState) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.tried) == 0 {
		return
	}
	n := 0
	for _, e := range ps.set.eps {
		if slices.Contains(g.tried, e.key) {
			n++
		}
	}
	if n == 0 || n >= len(ps.set.eps) {
		return
	}
	for _, e := range ps.set.eps {
		if slices.Contains(g.tried, e.key) {
			ps.tried(e)
		}
	}
}

func (ps *pickState) tried(e *endpoint) {
	if ps.nTried < len(ps.tried1) {
		ps.tried1[ps.nTried] = e
	} else {
		ps.triedN = append(ps.triedN, e)
	}
	ps.nTried++
}

func (ps *pickState) wasTried(e *endpoint) bool {
	for i := range min(ps.nTried, len(ps.tried1)) {
		if ps.tried1[i] == e {
			return true
		}
	}
	for _, t := range ps.triedN {
		if t == e {
			return true
		}
	}
	return false
}

func (ps *pickState) skip(i int) bool {
	e := ps.set.eps[i]
	if ps.wasTried(e) || e.inflight.Load() >= ps.max || e.downUntil.Load() > ps.now {
		return true
	}
	if ps.stalled && e.stalled(ps.now) {
		return true
	}
	return e.health.out.Load() && !ps.mayProbe(e)
}

// mayProbe lets one call through to an endpoint out of rotation once its
// retry time has come.
func (ps *pickState) mayProbe(e *endpoint) bool {
	if ps.probe != nil {
		return false
	}
	ok, probe := e.health.usable(ps.pol, ps.now)
	if probe {
		ps.probe = e
	}
	return ok
}

// lessLoaded compares the endpoint picked with another at random and takes
// the other when the picked one has clearly more calls in flight: a hung
// endpoint, whose calls never end, cannot gather every caller before the
// stall rule notices it (the power of two choices, applied only to
// unhashed calls and only past a margin, so the balancer's order holds
// under even load).
func (ps *pickState) lessLoaded(i int, e *endpoint) *endpoint {
	n := len(ps.set.eps)
	if n < 2 {
		return e
	}
	load := e.inflight.Load()
	if load < 8 {
		return e
	}
	j := rand.IntN(n - 1)
	if j >= i {
		j++
	}
	o := ps.set.eps[j]
	if ol := o.inflight.Load(); load > ol+8+ol/4 && !ps.skip(j) {
		return o
	}
	return e
}

// pick returns the next endpoint to try: healthy, not stalled, not tried;
// else a stalled one; else, when every endpoint is out of rotation, one of
// those anyway.
func (ps *pickState) pick(now int64) (*endpoint, bool) {
	set := ps.set
	ps.now, ps.pol, ps.max = now, set.pol, set.maxInflight
	ps.probe = nil
	for _, stalled := range [2]bool{true, false} {
		ps.stalled = stalled
		if i := set.picker.Pick(&ps.req); i >= 0 {
			e := set.eps[i]
			if ps.probe != e && ps.req.HashType == lb.NoHash {
				e = ps.lessLoaded(i, e)
			}
			return e, ps.probe == e
		}
		if ps.probe != nil { // a probe granted to an endpoint not picked
			ps.probe.health.probing.Store(false)
			ps.probe = nil
		}
	}
	// Every endpoint is out of rotation: call one not tried anyway.
	for _, e := range set.eps {
		if !ps.wasTried(e) && e.inflight.Load() < ps.max {
			return e, false
		}
	}
	return nil, false
}
