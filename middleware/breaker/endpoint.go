package breaker

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/discovery"
)

// Endpoint is a set of circuit breakers for a client's endpoint chain
// (tars.WithEndpointMiddleware): one per servant and endpoint (network,
// host and port: discovery.Endpoint.Key). While an endpoint's breaker is
// open, the calls the balancer picks it for are refused without being
// sent, with an error wrapping tars.ErrEndpointUnavailable (and ErrOpen),
// and the client sends them to another endpoint; only when every endpoint
// refuses does a call fail, with tars.CodeAdapterNull.
//
// It counts what the client's health rule (tars.HealthPolicy) does not: a
// server that answers but fails (negative return codes) is taken out of
// rotation too, on a failure ratio instead of TarsGo's fixed rule.
//
// Endpoints come and go with discovery, so the set is bounded: a breaker
// not used for Idle (default DefaultIdle; an endpoint in the resolved set
// is used whenever the balancer picks it, open or not) is dropped when a
// new endpoint needs a breaker, and at most MaxEndpoints are held (default
// DefaultMaxEndpoints; past it, the least recently used goes). A dropped
// breaker comes back closed.
//
// It is safe for concurrent use; share one across clients or give each
// client its own.
type Endpoint struct {
	s Settings
	g group[endpointKey]
}

type endpointKey struct {
	servant, network, host string
	port                   int
}

// EndpointOption bounds an Endpoint's breakers.
type EndpointOption struct{ apply func(*group[endpointKey]) }

// MaxEndpoints sets how many endpoint breakers are held at most (n ≥ 1).
func MaxEndpoints(n int) EndpointOption {
	return EndpointOption{func(g *group[endpointKey]) { g.max = n }}
}

// Idle sets how long an endpoint breaker unused is kept (d > 0, and longer
// than Settings.Timeout, so that an open breaker is not forgotten before
// it would have let probes through).
func Idle(d time.Duration) EndpointOption {
	return EndpointOption{func(g *group[endpointKey]) { g.idle = d }}
}

// NewEndpoint returns an Endpoint with settings s (zero fields: the
// defaults), or an error naming a setting out of range.
func NewEndpoint(s Settings, opts ...EndpointOption) (*Endpoint, error) {
	s = s.withDefaults()
	if err := s.check(); err != nil {
		return nil, err
	}
	b := &Endpoint{s: s, g: group[endpointKey]{max: DefaultMaxEndpoints, idle: DefaultIdle, m: map[endpointKey]*entry{}}}
	for _, o := range opts {
		if o.apply != nil {
			o.apply(&b.g)
		}
	}
	switch {
	case b.g.max < 1:
		return nil, fmt.Errorf("breaker: MaxEndpoints(%d), want ≥ 1", b.g.max)
	case b.g.idle <= s.Timeout:
		return nil, fmt.Errorf("breaker: Idle(%v) must exceed Timeout %v", b.g.idle, s.Timeout)
	}
	return b, nil
}

// Middleware returns the endpoint middleware that runs each attempt
// through its endpoint's breaker.
func (b *Endpoint) Middleware() tars.Middleware {
	return func(next tars.Invoker) tars.Invoker {
		return func(ctx context.Context, call *tars.Call) error {
			if call.Server || ctx.Err() != nil || call.Endpoint.Port == 0 {
				return next(ctx, call)
			}
			ep := &call.Endpoint
			k := endpointKey{call.Servant, ep.Network, ep.Host, ep.Port}
			e := b.g.get(k, time.Now(), func() *entry {
				name := endpointName(call.Servant, *ep)
				return newEntry(b.s, name, fmt.Errorf("%s: circuit breaker: %w: %w", name, ErrOpen, tars.ErrEndpointUnavailable))
			})
			return e.guard(ctx, call, next, func(error) error { return e.openErr })
		}
	}
}

func endpointName(servant string, ep discovery.Endpoint) string {
	return servant + "@" + ep.Network + " -h " + ep.Host + " -p " + strconv.Itoa(ep.Port)
}

// State returns the state of the breaker of servant's endpoint ep:
// StateClosed for one not called yet.
func (b *Endpoint) State(servant string, ep discovery.Endpoint) State {
	if e := b.g.lookup(endpointKey{servant, ep.Network, ep.Host, ep.Port}); e != nil {
		return e.cb.State()
	}
	return StateClosed
}

// Counts returns what the breaker of servant's endpoint ep has counted in
// its current window.
func (b *Endpoint) Counts(servant string, ep discovery.Endpoint) Counts {
	if e := b.g.lookup(endpointKey{servant, ep.Network, ep.Host, ep.Port}); e != nil {
		return e.cb.Counts()
	}
	return Counts{}
}

// Len returns how many endpoint breakers are held.
func (b *Endpoint) Len() int { return b.g.len() }

// String names the breaker set, for logs.
func (b *Endpoint) String() string { return fmt.Sprintf("breaker.Endpoint(%d endpoints)", b.g.len()) }
