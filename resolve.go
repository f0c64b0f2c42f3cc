package tars

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/lb"
	"github.com/gotars/tars/transport"
)

type resolverOption struct{ r discovery.Resolver }

func (o resolverOption) applyClient(c *clientConfig) { c.resolver = o.r }
func (o resolverOption) check() error {
	if o.r == nil {
		return errors.New("WithResolver(nil)")
	}
	return nil
}
func (o resolverOption) String() string { return "WithResolver" }

// WithResolver sets where a client whose object string lists no endpoints
// finds them: the TARS registry (discovery/tarsregistry), Consul (the
// discovery/consul module), a discovery.StaticResolver. The client starts
// watching at its first call and stops at Close.
func WithResolver(r discovery.Resolver) ClientOption { return resolverOption{r} }

type balancerOption struct{ b lb.Balancer }

func (o balancerOption) applyClient(c *clientConfig) { c.balancer = o.b }
func (o balancerOption) check() error {
	if o.b == nil {
		return errors.New("WithBalancer(nil)")
	}
	return nil
}
func (o balancerOption) String() string { return "WithBalancer(" + o.b.Name() + ")" }

// WithBalancer sets how a client picks an endpoint per call (default
// lb.TARS(): TarsGo's choice — round robin from a random start, TARS's
// static weights when every endpoint has weight type 1, and for calls
// given a hash with lb.WithHash the modulo hash or TARS's consistent-hash
// ring).
func WithBalancer(b lb.Balancer) ClientOption { return balancerOption{b} }

type setOption string

func (o setOption) applyClient(c *clientConfig) { c.set = string(o) }
func (o setOption) check() error {
	if o != "" && !validSet(string(o)) {
		return fmt.Errorf("WithSet(%q): a TARS set is name.area.group", string(o))
	}
	return nil
}
func (o setOption) String() string { return fmt.Sprintf("WithSet(%q)", string(o)) }

// WithSet resolves the client's servant within the TARS set
// "name.area.group" (TarsGo's setdivision; the registry's
// findObjectByIdInSameSet).
func WithSet(set string) ClientOption { return setOption(set) }

func validSet(s string) bool {
	parts := strings.Split(s, ".")
	return len(parts) == 3 && !slices.Contains(parts, "")
}

type endpointMiddlewareOption struct{ mw []Middleware }

func (o *endpointMiddlewareOption) applyClient(c *clientConfig) {
	c.epMiddleware = append(c.epMiddleware, o.mw...)
}
func (o *endpointMiddlewareOption) check() error {
	for i, m := range o.mw {
		if m == nil {
			return fmt.Errorf("WithEndpointMiddleware: middleware %d is nil", i)
		}
	}
	return nil
}
func (o *endpointMiddlewareOption) String() string {
	return fmt.Sprintf("WithEndpointMiddleware(%d)", len(o.mw))
}

// WithEndpointMiddleware appends middleware to a client's second chain,
// which runs once per attempt after an endpoint is picked (Kitex's instance
// middleware): Call.Endpoint and Call.Peer say where the call goes. An
// endpoint middleware that returns ErrEndpointUnavailable without calling
// next sends the call to another endpoint (a per-endpoint circuit breaker
// open). The client chain (WithMiddleware) runs once per call, around all
// attempts.
func WithEndpointMiddleware(mw ...Middleware) ClientOption { return &endpointMiddlewareOption{mw} }

// resolution is the endpoint set of one target (the servant in one set),
// kept current by a watch of the resolver.
type resolution struct {
	c       *Client
	target  discovery.Target
	set     atomic.Pointer[epSet]
	ready   chan struct{} // closed once a set is known
	readyMu sync.Once
	watch   sync.Once
}

// epSet is one published endpoint set with its picker.
type epSet struct {
	eps         []*endpoint
	picker      lb.Picker
	err         error // the resolution's error, when the set is empty or stale
	pol         *HealthPolicy
	maxInflight int32
}

func (c *Client) newResolution(set string) *resolution {
	return &resolution{c: c, target: discovery.Target{Servant: c.servant, SetID: set}, ready: make(chan struct{})}
}

// resolve returns the endpoint set for the call, waiting (no longer than
// the call's deadline) for the first one.
func (c *Client) resolve(ctx context.Context, deadline time.Time) (*epSet, error) {
	set := c.cfg.set
	if !c.static {
		if s, ok := ctx.Value(setKey{}).(string); ok && s != "" {
			set = s
		}
	}
	var r *resolution
	if set == c.cfg.set {
		r = c.own.Load() // the usual case: no lock
	}
	if r != nil {
		if s := r.set.Load(); s != nil && len(s.eps) > 0 {
			return s, nil
		}
	}
	c.mu.Lock()
	r = c.byset[set]
	if r == nil {
		if c.static {
			r = c.byset[""]
		} else {
			r = c.newResolution(set)
			c.byset[set] = r
		}
	}
	if set == c.cfg.set {
		c.own.Store(r)
	}
	c.mu.Unlock()
	if s := r.set.Load(); s != nil && len(s.eps) > 0 {
		return s, nil
	}
	r.start()
	select {
	case <-r.ready:
	default:
		t := getTimer(time.Until(deadline))
		defer putTimer(t)
		select {
		case <-r.ready:
		case <-t.C:
			return nil, gaveUp(context.DeadlineExceeded, c.servant+": resolving endpoints")
		case <-ctx.Done():
			return nil, gaveUp(ctx.Err(), c.servant+": resolving endpoints")
		}
	}
	s := r.set.Load()
	if len(s.eps) == 0 {
		msg := fmt.Sprintf("%s: no endpoints", c.servant)
		if r.target.SetID != "" {
			msg += " in set " + r.target.SetID
		}
		if s.err != nil {
			return nil, &Error{Code: CodeAdapterNull, Message: msg + ": " + s.err.Error(), cause: s.err}
		}
		return nil, NewError(CodeAdapterNull, msg)
	}
	return s, nil
}

// start begins watching the resolver, once; the watch ends with Close.
func (r *resolution) start() {
	r.watch.Do(func() {
		c := r.c
		if c.static || c.closed.Load() {
			return
		}
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			err := c.cfg.resolver.Watch(c.ctx, r.target, r.apply)
			if err != nil && c.ctx.Err() == nil {
				// A watch that gives up for good (a bad target).
				r.apply(discovery.State{Err: err})
			}
		}()
	})
}

// apply installs a published state: endpoints already known keep their
// connections and health, new ones are added, removed ones drain and
// close. Calls in progress keep the set they picked from.
func (r *resolution) apply(st discovery.State) {
	c := r.c
	old := r.set.Load()
	if len(st.Endpoints) == 0 && old != nil && len(old.eps) > 0 && st.Err != nil {
		// An error with nothing to offer: keep calling what we know.
		return
	}
	known := map[string]*endpoint{}
	if old != nil {
		for _, e := range old.eps {
			known[e.key] = e
		}
	}
	eps := discovery.Normalize(st.Endpoints)
	set := &epSet{eps: make([]*endpoint, 0, len(eps)), err: st.Err, pol: &c.cfg.health, maxInflight: int32(c.cfg.maxInflight)}
	now := nanotime()
	for _, ep := range eps {
		e := known[ep.Key()]
		if e == nil {
			e = c.newEndpoint(ep, now)
		} else {
			delete(known, ep.Key())
			if !reflect.DeepEqual(*e.info.Load(), ep) {
				e.info.Store(&ep) // calls in progress read it
			}
		}
		set.eps = append(set.eps, e)
	}
	set.picker = c.cfg.balancer.NewPicker(eps)
	r.set.Store(set)
	r.readyMu.Do(func() { close(r.ready) })
	for _, e := range known { // removed: drain and close
		e.retire()
	}
	if c.closed.Load() {
		for _, e := range set.eps {
			e.close()
		}
	}
}

func (c *Client) newEndpoint(ep discovery.Endpoint, now int64) *endpoint {
	e := &endpoint{key: ep.Key(), addr: ep.Address, slots: make([]*connSlot, c.cfg.conns)}
	e.info.Store(&ep)
	for i := range e.slots {
		e.slots[i] = &connSlot{}
	}
	e.health.init(now)
	return e
}

// stallAfter is how long an endpoint may answer nothing while calls wait on
// it before new calls prefer other endpoints.
const stallAfter = 500 * time.Millisecond

// endpoint is one endpoint's connection slots, load and health.
type endpoint struct {
	key        string                             // info's Key
	addr       transport.Address                  // where it is dialled; fixed for its key
	info       atomic.Pointer[discovery.Endpoint] // as last resolved (weights, set and metadata may change)
	slots      []*connSlot
	inflight   atomic.Int32
	busySince  atomic.Int64 // nanotime when inflight last rose from 0
	lastAnswer atomic.Int64 // nanotime of the last answer read
	downUntil  atomic.Int64 // nanotime: every slot is in its reconnect pause until then
	health     health
	retired    atomic.Bool
}

// slot picks one of the endpoint's connections by the call's request id:
// round robin over the client's calls without a shared counter of its own
// (the ids already are one).
func (e *endpoint) slot(id int32) *connSlot {
	if len(e.slots) == 1 {
		return e.slots[0]
	}
	return e.slots[uint32(id)%uint32(len(e.slots))]
}

func (e *endpoint) begin() {
	// A busy period begins when the first call goes out, unless the
	// endpoint has answered nothing since the last one began: an endpoint
	// whose calls all timed out stays stalled, and takes one call at a time
	// until it answers.
	if e.inflight.Add(1) == 1 && e.lastAnswer.Load() >= e.busySince.Load() {
		e.busySince.Store(nanotime())
	}
}

func (e *endpoint) end() { e.inflight.Add(-1) }

// answered notes that an answer came; the stall rule needs it to the
// millisecond, so the shared line is written at most once a millisecond.
func (e *endpoint) answered() {
	if n := nanotime(); n-e.lastAnswer.Load() >= int64(time.Millisecond) {
		e.lastAnswer.Store(n)
	}
}

// stalled reports calls waiting on e while it has answered nothing for
// stallAfter.
func (e *endpoint) stalled(now int64) bool {
	if e.inflight.Load() == 0 {
		return false
	}
	since := max(e.busySince.Load(), e.lastAnswer.Load())
	return now-since > int64(stallAfter)
}

// retire drains the endpoint's connections: no new calls, closed once the
// calls on them are answered.
func (e *endpoint) retire() {
	e.retired.Store(true)
	for _, s := range e.slots {
		s.mu.Lock()
		cc := s.cc.Load()
		s.mu.Unlock()
		if cc != nil {
			cc.retire()
		}
	}
}

// close closes the endpoint's connections now.
func (e *endpoint) close() {
	for _, s := range e.slots {
		s.mu.Lock()
		cc := s.cc.Swap(nil)
		s.mu.Unlock()
		if cc != nil {
			cc.close()
		}
	}
}
