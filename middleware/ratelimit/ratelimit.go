// Package ratelimit holds token-bucket rate limits (golang.org/x/time/rate)
// for gotars servers and clients, per servant or per method.
//
// A Rule names a servant, and optionally one of its methods, with a rate
// and a burst. A call of a method with a rule of its own and a servant rule
// takes a token from both buckets, or from neither: a call one bucket
// refuses costs the other nothing.
//
// On a server (Server, in tars.WithMiddleware) a call over the limit is
// answered tars.CodeServerOverload (−9, TARSSERVEROVERLOAD) at once,
// without running its handler: what a TARS server answers when its queue
// is full, which TarsGo and TarsCpp clients know. On a client (Client) a
// call over the limit either fails at once or waits for a token within its
// deadline (WithWait); either way a refused call is never sent, and its
// error is errors.Is(err, ErrLimited).
//
// Nothing here starts a goroutine; the buckets refill by the clock when a
// call looks at them.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/gotars/tars"
	"golang.org/x/time/rate"
)

// ErrLimited is what every call a limiter refuses is errors.Is: on the
// server, the handler's error before it is sent as −9 (the caller sees the
// code, not this value); on a client, the call's error.
var ErrLimited = errors.New("ratelimit: over the rate limit")

// Rule is one token bucket: Rate tokens a second, at most Burst at once.
// With Method empty it limits all the calls of Servant's methods together;
// with Method set, that method's.
type Rule struct {
	Servant string     // the servant object, "App.Server.Obj"
	Method  string     // a method of it; "": the whole servant
	Rate    rate.Limit // tokens a second (rate.Every(d): one per d); rate.Inf: no limit
	Burst   int        // the bucket's size: calls admitted at once after a quiet spell (≥ 1)
}

// String names the rule, for errors and logs: "App.S.Obj.method 100/s burst 10".
func (r Rule) String() string {
	name := r.Servant
	if r.Method != "" {
		name += "." + r.Method
	}
	return fmt.Sprintf("%s %g/s burst %d", name, float64(r.Rate), r.Burst)
}

type key struct{ servant, method string }

// bucket is a rule's limiter.
type bucket struct {
	rule Rule
	lim  *rate.Limiter
}

// servantBuckets are a servant's buckets: its own and its methods'. mu
// makes "both or neither" exact when a call needs two.
type servantBuckets struct {
	own     *bucket
	methods map[string]*bucket
	mu      sync.Mutex
}

// limits are the buckets of a rule set, read-only once built.
type limits struct {
	servants map[string]*servantBuckets
}

func build(who string, rules []Rule) (*limits, error) {
	l := &limits{servants: map[string]*servantBuckets{}}
	seen := map[key]bool{}
	for _, r := range rules {
		switch {
		case r.Servant == "":
			return nil, fmt.Errorf("ratelimit.%s: rule %v without a servant", who, r)
		case seen[key{r.Servant, r.Method}]:
			return nil, fmt.Errorf("ratelimit.%s: two rules for %v", who, r)
		case math.IsNaN(float64(r.Rate)) || r.Rate < 0:
			return nil, fmt.Errorf("ratelimit.%s: rule %v: negative rate", who, r)
		case r.Rate != rate.Inf && r.Burst < 1:
			return nil, fmt.Errorf("ratelimit.%s: rule %v: a burst below 1 admits no call", who, r)
		}
		seen[key{r.Servant, r.Method}] = true
		if r.Rate == rate.Inf {
			continue // no limit
		}
		sb := l.servants[r.Servant]
		if sb == nil {
			sb = &servantBuckets{methods: map[string]*bucket{}}
			l.servants[r.Servant] = sb
		}
		b := &bucket{rule: r, lim: rate.NewLimiter(r.Rate, r.Burst)}
		if r.Method == "" {
			sb.own = b
		} else {
			sb.methods[r.Method] = b
		}
	}
	return l, nil
}

// find returns the buckets a call of servant.method takes from (either
// may be nil) and the lock that pairs them.
func (l *limits) find(servant, method string) (sb *servantBuckets, m, s *bucket) {
	sb = l.servants[servant]
	if sb == nil {
		return nil, nil, nil
	}
	return sb, sb.methods[method], sb.own
}

// allow takes a token from m and s at now, from both or neither; it
// returns the bucket that refused.
func (sb *servantBuckets) allow(now time.Time, m, s *bucket) *bucket {
	switch {
	case m == nil && s == nil:
		return nil
	case m == nil:
		if !s.lim.AllowN(now, 1) {
			return s
		}
		return nil
	case s == nil:
		if !m.lim.AllowN(now, 1) {
			return m
		}
		return nil
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if m.lim.TokensAt(now) < 1 {
		return m
	}
	if !s.lim.AllowN(now, 1) {
		return s
	}
	m.lim.AllowN(now, 1) // cannot fail: every taker of m holds mu
	return nil
}

// Limiter is a server's buckets for a rule set: Admit is its decision,
// Middleware puts it in a server chain (Server does both at once).
type Limiter struct{ l *limits }

// NewLimiter returns the buckets of rules, or an error naming a bad rule.
func NewLimiter(rules ...Rule) (*Limiter, error) {
	l, err := build("NewLimiter", rules)
	if err != nil {
		return nil, err
	}
	return &Limiter{l}, nil
}

// Admit takes a token for a call of servant.method: nil when the call may
// run (or no rule applies), else a *tars.Error of code
// tars.CodeServerOverload that is errors.Is(err, ErrLimited). It is what
// the middleware calls, and what tars.WithAdmission takes to refuse a
// request before it is queued or decoded:
//
//	lim, err := ratelimit.NewLimiter(rules...)
//	srv := tars.NewServer(tars.WithAdmission(lim.Admit))
func (l *Limiter) Admit(servant, method string) error {
	if sb, m, s := l.l.find(servant, method); sb != nil {
		if b := sb.allow(time.Now(), m, s); b != nil {
			return tars.Errorf(tars.CodeServerOverload, "rate limit of %v: %w", b.rule, ErrLimited)
		}
	}
	return nil
}

// Middleware returns server middleware that answers calls over the limits
// tars.CodeServerOverload at once, without running their handlers. Calls
// of servants and methods without a rule pass. In a client chain it does
// nothing.
//
// It runs where server middleware runs: after the call was admitted to its
// servant's queue, holding a running place, and decoded. A refused call
// costs a place for a moment and its decoding, not its handler.
func (l *Limiter) Middleware() tars.Middleware {
	return func(next tars.Invoker) tars.Invoker {
		return func(ctx context.Context, call *tars.Call) error {
			if !call.Server {
				return next(ctx, call)
			}
			if err := l.Admit(call.Servant, call.Method); err != nil {
				return err
			}
			return next(ctx, call)
		}
	}
}

// Server returns the server middleware of NewLimiter(rules...): calls over
// the rules' limits are answered tars.CodeServerOverload at once, without
// running their handlers.
func Server(rules ...Rule) (tars.Middleware, error) {
	l, err := build("Server", rules)
	if err != nil {
		return nil, err
	}
	return (&Limiter{l}).Middleware(), nil
}

// ClientOption configures Client.
type ClientOption func(*clientConfig)

type clientConfig struct {
	maxWait time.Duration // 0: fail at once
}

// WithWait makes a client call over the limit wait for its token, as long
// as the token comes before the call's deadline (its context's, or the
// client's timeout from the call's start: tars.Call.Deadline) and within
// max. A call whose token would come later fails at once; one whose
// context ends while it waits fails with the context's error. max must be
// positive.
func WithWait(max time.Duration) ClientOption {
	return func(c *clientConfig) { c.maxWait = max }
}

// Client returns client middleware that holds calls to the rules' limits,
// or an error naming a bad rule or option. Over the limit a call fails at
// once (or, WithWait, after waiting in vain) with a *tars.Error of code
// tars.CodeServerOverload that is errors.Is(err, ErrLimited), without
// being sent: the caller is asked to back off, as a server's −9 asks,
// and can tell its own limit from a server's answer. In a server chain it
// does nothing.
//
// Put it first (outermost) in the chain, before a circuit breaker, so that
// calls it refuses are not counted as the service's failures.
func Client(rules []Rule, opts ...ClientOption) (tars.Middleware, error) {
	l, err := build("Client", rules)
	if err != nil {
		return nil, err
	}
	var cfg clientConfig
	wait := false
	for _, o := range opts {
		o(&cfg)
		wait = true
	}
	if wait && cfg.maxWait <= 0 {
		return nil, fmt.Errorf("ratelimit.Client: WithWait(%v): want a positive wait", cfg.maxWait)
	}
	return func(next tars.Invoker) tars.Invoker {
		return func(ctx context.Context, call *tars.Call) error {
			if call.Server {
				return next(ctx, call)
			}
			sb, m, s := l.find(call.Servant, call.Method)
			if sb == nil || m == nil && s == nil {
				return next(ctx, call)
			}
			now := time.Now()
			b := sb.allow(now, m, s)
			if b == nil {
				return next(ctx, call)
			}
			if !wait {
				return refused(call, b)
			}
			// The wait counts against the call's time: fixing its
			// deadline now starts the client's timeout here.
			maxWait := cfg.maxWait
			if dl := call.Deadline(); !dl.IsZero() {
				maxWait = min(maxWait, dl.Sub(now))
			}
			if err := sb.wait(ctx, now, maxWait, m, s); err != nil {
				if errors.Is(err, ErrLimited) {
					return refused(call, b)
				}
				return err
			}
			return next(ctx, call)
		}
	}, nil
}

func refused(call *tars.Call, b *bucket) error {
	return tars.Errorf(tars.CodeServerOverload, "%s.%s: client rate limit of %v: %w", call.Servant, call.Method, b.rule, ErrLimited)
}

// wait reserves a token of m and s (either may be nil) and waits for them,
// within maxWait (and ctx's deadline, which the call's includes); ErrLimited when they come too late, ctx's
// error (as a *tars.Error) when it ends first. Reservations given up are
// cancelled, giving their tokens back as far as later reservations allow.
func (sb *servantBuckets) wait(ctx context.Context, now time.Time, maxWait time.Duration, m, s *bucket) error {
	budget := maxWait
	if dl, ok := ctx.Deadline(); ok {
		budget = min(budget, dl.Sub(now))
	}
	sb.mu.Lock()
	var rs [2]*rate.Reservation
	var delay time.Duration
	for i, b := range [2]*bucket{m, s} {
		if b == nil {
			continue
		}
		rs[i] = b.lim.ReserveN(now, 1)
		delay = max(delay, rs[i].DelayFrom(now))
	}
	if delay > budget {
		cancelAll(rs, now)
		sb.mu.Unlock()
		return ErrLimited
	}
	sb.mu.Unlock()
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		sb.mu.Lock()
		cancelAll(rs, time.Now())
		sb.mu.Unlock()
		err := ctx.Err()
		if errors.Is(err, context.Canceled) {
			return tars.Errorf(tars.CodeInvokeTimeout, "call canceled waiting for a rate limit token: %w", err)
		}
		return tars.Errorf(tars.CodeInvokeTimeout, "deadline passed waiting for a rate limit token: %w", err)
	}
}

func cancelAll(rs [2]*rate.Reservation, at time.Time) {
	for _, r := range rs {
		if r != nil {
			r.CancelAt(at)
		}
	}
}
