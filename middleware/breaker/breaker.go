// Package breaker holds circuit breakers for gotars clients, built on
// github.com/sony/gobreaker/v2: a breaker per servant and method
// (Method, in the client chain of tars.WithMiddleware) that fails calls
// fast while a method keeps failing, and a breaker per endpoint (Endpoint,
// in the chain of tars.WithEndpointMiddleware) that sends calls to the
// servant's other endpoints while one of them keeps failing.
//
// A breaker is closed (calls pass and are counted), open (calls are refused
// without being sent, for Settings.Timeout) or half-open (up to
// Settings.MaxRequests probes pass; that many successes in a row close it,
// one failure opens it again). By default it opens when, over a rolling
// window of Settings.Interval (in buckets of Settings.BucketPeriod), at
// least Settings.MinRequests calls were counted and at least
// Settings.FailureRatio of them failed.
//
// # What counts
//
// A call counts as a success when it returns nil or a service's own
// positive TARS return code (tars.CodeOf(err) > 0: the service answered);
// as a failure otherwise (framework codes: timeouts, connection failures,
// overload, server errors). It is not counted at all when the caller gave
// up, which the middleware tells from the context it was given:
//
//   - the context was already done when the call reached the breaker;
//   - the context was cancelled (context.Canceled: the caller's own
//     cancellation, never a backend's fault);
//   - the call timed out (tars.CodeInvokeTimeout) at the context's own
//     deadline, and that deadline left the call less than
//     Settings.MinTimeout when it reached the breaker: a caller with
//     little time left gave up, it did not give the backend a fair chance.
//
// A timeout is a failure when the backend had at least MinTimeout to
// answer (the request carried that much as its TARS timeout), and always
// when the context's deadline has not passed: the client's own call
// timeout (tars.WithTimeout) or a server that answered
// tars.CodeInvokeTimeout. Settings.IsExcluded and Settings.IsSuccessful
// judge what remains (defaults DefaultIsExcluded and DefaultIsSuccessful).
//
// # Setting them up
//
// NewMethod and NewEndpoint take Settings (zero fields: the defaults);
// FromConfig maps a config.Breaker onto them and FromClientConfig gives
// each method the breaker its configuration asks for. In a client's chain,
// put a client rate limiter before the method breaker, so that calls it
// refuses are not counted.
//
// Nothing here starts a goroutine: breakers are created lazily by the
// calls that need them and change state when calls look at them.
package breaker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotars/tars"
	"github.com/sony/gobreaker/v2"
)

// State is a breaker's state: StateClosed, StateHalfOpen or StateOpen.
type State = gobreaker.State

// Counts are the calls a breaker counted in its current window (or, when
// half-open, since it became half-open): what ReadyToTrip decides on.
type Counts = gobreaker.Counts

// The breaker states.
const (
	StateClosed   = gobreaker.StateClosed   // calls pass and are counted
	StateHalfOpen = gobreaker.StateHalfOpen // up to MaxRequests probes pass
	StateOpen     = gobreaker.StateOpen     // calls are refused until Timeout has passed
)

// ErrOpen is what every call a breaker refuses is errors.Is: open, or
// half-open with its MaxRequests probes already in flight.
var ErrOpen = errors.New("breaker: circuit open")

// Defaults of Settings (DefaultSettings).
const (
	DefaultMaxRequests  = 3                      // probes while half-open, and successes in a row that close it
	DefaultInterval     = 10 * time.Second       // the rolling window
	DefaultBucketPeriod = time.Second            // its buckets
	DefaultTimeout      = 5 * time.Second        // open → half-open
	DefaultFailureRatio = 0.5                    // failed share of the counted calls that trips it
	DefaultMinRequests  = 20                     // counted calls in the window before the ratio applies
	DefaultMinTimeout   = 100 * time.Millisecond // see the package doc: shorter caller deadlines do not count
	DefaultMaxEndpoints = 4096                   // endpoint breakers held at most
	DefaultIdle         = 10 * time.Minute       // an endpoint breaker unused for this long may be dropped
)

// Settings configure the breakers of a Method or an Endpoint middleware:
// every gobreaker.Settings field, and the default trip rule's ratio and
// minimum. Zero fields take the defaults above; DefaultSettings returns
// them filled in.
type Settings struct {
	// MaxRequests is how many probes a half-open breaker lets through at
	// once, and how many successes in a row close it.
	MaxRequests uint32
	// Interval is the closed state's counting window; with BucketPeriod
	// it rolls (gobreaker rounds it up to a multiple of BucketPeriod).
	// Negative: the counts are never cleared while closed (gobreaker's
	// Interval 0), and BucketPeriod is unused.
	Interval time.Duration
	// BucketPeriod is the step of the rolling window; it must not exceed
	// Interval.
	BucketPeriod time.Duration
	// Timeout is how long a breaker stays open before it lets probes
	// through (half-open).
	Timeout time.Duration
	// FailureRatio and MinRequests are the default trip rule: open when at
	// least MinRequests calls were counted (successes and failures) in the
	// window and at least FailureRatio of them failed. 0 < FailureRatio ≤ 1.
	FailureRatio float64
	MinRequests  uint32
	// ReadyToTrip, when set, replaces the ratio rule: gobreaker calls it
	// after each failure counted in the closed state.
	ReadyToTrip func(Counts) bool
	// IsSuccessful says whether an error a call returned counts as a
	// success (default DefaultIsSuccessful).
	IsSuccessful func(err error) bool
	// IsExcluded says whether an error is not counted at all (default
	// DefaultIsExcluded). It sees only what the caller-gave-up rule of the
	// package doc left.
	IsExcluded func(err error) bool
	// MinTimeout is the least time a call must have had, when it reached
	// the breaker, for a timeout at its context's deadline to count as a
	// failure (see the package doc). Negative: every such timeout counts.
	MinTimeout time.Duration
	// OnStateChange, when set, is told of every state change, with the
	// breaker's name ("Servant.method", or "Servant@tcp -h host -p port"
	// for an endpoint). gobreaker calls it while it holds the breaker's
	// lock, on the goroutine of the call that caused the change: it must
	// not call State or anything else that looks at a breaker (that
	// deadlocks), and should only log, count or hand the event off.
	OnStateChange func(name string, from, to State)
}

// DefaultSettings returns the defaults: a 10 s window rolling by the
// second, open at 50% failures of at least 20 calls, half-open after 5 s
// with 3 probes.
func DefaultSettings() Settings {
	return Settings{}.withDefaults()
}

func (s Settings) withDefaults() Settings {
	if s.MaxRequests == 0 {
		s.MaxRequests = DefaultMaxRequests
	}
	if s.Interval == 0 {
		s.Interval = DefaultInterval
	}
	if s.BucketPeriod == 0 && s.Interval > 0 {
		s.BucketPeriod = min(DefaultBucketPeriod, s.Interval)
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	if s.FailureRatio == 0 {
		s.FailureRatio = DefaultFailureRatio
	}
	if s.MinRequests == 0 {
		s.MinRequests = DefaultMinRequests
	}
	if s.MinTimeout == 0 {
		s.MinTimeout = DefaultMinTimeout
	}
	if s.IsSuccessful == nil {
		s.IsSuccessful = DefaultIsSuccessful
	}
	if s.IsExcluded == nil {
		s.IsExcluded = DefaultIsExcluded
	}
	return s
}

func (s Settings) check() error {
	switch {
	case s.BucketPeriod < 0 || s.Timeout < 0:
		return fmt.Errorf("breaker: negative BucketPeriod %v or Timeout %v", s.BucketPeriod, s.Timeout)
	case s.Interval > 0 && s.BucketPeriod > s.Interval:
		return fmt.Errorf("breaker: BucketPeriod %v exceeds Interval %v", s.BucketPeriod, s.Interval)
	case s.ReadyToTrip == nil && !(s.FailureRatio > 0 && s.FailureRatio <= 1):
		return fmt.Errorf("breaker: FailureRatio %v, want 0 < ratio ≤ 1", s.FailureRatio)
	}
	return nil
}

// DefaultIsSuccessful counts nil and a service's own positive return codes
// (the service answered; a business error) as successes.
func DefaultIsSuccessful(err error) bool {
	return err == nil || tars.CodeOf(err) > 0
}

// DefaultIsExcluded leaves uncounted a cancellation from anywhere
// (context.Canceled: a closed client, a cancelled parent) and calls an
// inner breaker or endpoint middleware refused without sending them
// (ErrOpen, tars.ErrEndpointUnavailable).
func DefaultIsExcluded(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, ErrOpen) || errors.Is(err, tars.ErrEndpointUnavailable)
}

// ratioTrip is the default ReadyToTrip.
func ratioTrip(ratio float64, minReq uint32) func(Counts) bool {
	return func(c Counts) bool {
		n := c.TotalSuccesses + c.TotalFailures
		return n >= minReq && float64(c.TotalFailures) >= ratio*float64(n)
	}
}

// errGaveUp is what a breaker is told of a call whose caller gave up: it
// is excluded before Settings.IsExcluded sees anything.
var errGaveUp = errors.New("breaker: the caller gave up")

func (s Settings) gobreaker(name string) gobreaker.Settings {
	trip := s.ReadyToTrip
	if trip == nil {
		trip = ratioTrip(s.FailureRatio, s.MinRequests)
	}
	excluded, successful := s.IsExcluded, s.IsSuccessful
	interval, bucket := s.Interval, s.BucketPeriod
	if interval < 0 {
		interval, bucket = 0, 0
	}
	return gobreaker.Settings{
		Name: name, MaxRequests: s.MaxRequests, Interval: interval, BucketPeriod: bucket,
		Timeout: s.Timeout, ReadyToTrip: trip, OnStateChange: s.OnStateChange,
		IsSuccessful: successful,
		IsExcluded:   func(err error) bool { return err == errGaveUp || excluded(err) },
	}
}

// entry is one breaker of a group, with when it was last used.
type entry struct {
	cb         *gobreaker.CircuitBreaker[struct{}]
	openErr    error // the error of a refused call
	minTimeout time.Duration
	lastUsed   atomic.Int64 // unix nanoseconds
}

func newEntry(s Settings, name string, openErr error) *entry {
	return &entry{cb: gobreaker.NewCircuitBreaker[struct{}](s.gobreaker(name)), openErr: openErr, minTimeout: s.MinTimeout}
}

// group holds breakers by key, creating them on first use. With max > 0
// it holds at most max, and a new key drops the breakers unused for idle
// (when the group is full, or idle has passed since it last looked), then,
// if the group is still full, the least recently used one.
type group[K comparable] struct {
	max       int
	idle      time.Duration
	mu        sync.RWMutex
	m         map[K]*entry
	lastSweep time.Time
}

// get returns k's breaker, made by mk if there is none; nil when mk
// returns nil.
func (g *group[K]) get(k K, now time.Time, mk func() *entry) *entry {
	g.mu.RLock()
	e, ok := g.m[k]
	g.mu.RUnlock()
	if !ok {
		g.mu.Lock()
		if e, ok = g.m[k]; !ok {
			if g.max > 0 && (len(g.m) >= g.max || now.Sub(g.lastSweep) > g.idle) {
				g.evictLocked(now)
			}
			e = mk()
			g.m[k] = e
		}
		g.mu.Unlock()
	}
	if g.max > 0 && e != nil {
		// Only endpoint breakers are evicted: skip the store when the
		// stamp is fresh, so that concurrent calls do not fight over it.
		if t := now.UnixNano(); t-e.lastUsed.Load() > int64(min(time.Second, g.idle/8)) {
			e.lastUsed.Store(t)
		}
	}
	return e
}

func (g *group[K]) lookup(k K) *entry {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.m[k]
}

func (g *group[K]) evictLocked(now time.Time) {
	g.lastSweep = now
	cut := now.Add(-g.idle).UnixNano()
	var oldest K
	var oldestT int64
	first := true
	for k, e := range g.m {
		t := e.lastUsed.Load()
		if t < cut {
			delete(g.m, k)
			continue
		}
		if first || t < oldestT {
			oldest, oldestT, first = k, t, false
		}
	}
	if len(g.m) >= g.max && !first {
		delete(g.m, oldest)
	}
}

func (g *group[K]) len() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.m)
}

// guard runs next through e: refused calls get what refused returns, the
// outcome of the others is counted by the package's rules (a panic counts
// as a failure and goes on).
func (e *entry) guard(ctx context.Context, call *tars.Call, next tars.Invoker, refused func(gb error) error) error {
	var err error
	start := time.Now()
	_, gbErr := e.cb.Execute(func() (struct{}, error) {
		err = next(ctx, call)
		return struct{}{}, outcome(ctx, start, e.minTimeout, err)
	})
	if err == nil && gbErr != nil && (gbErr == gobreaker.ErrOpenState || gbErr == gobreaker.ErrTooManyRequests) {
		return refused(gbErr)
	}
	return err
}

// outcome is the error the breaker is told: errGaveUp for a caller that
// gave up (see the package doc), else err.
func outcome(ctx context.Context, start time.Time, minTimeout time.Duration, err error) error {
	if err == nil {
		return nil
	}
	cerr := ctx.Err()
	if cerr == context.Canceled {
		return errGaveUp
	}
	if tars.CodeOf(err) != tars.CodeInvokeTimeout || minTimeout < 0 {
		return err
	}
	dl, ok := ctx.Deadline()
	if !ok {
		return err // the client's own timeout: the backend had it all
	}
	if cerr == nil && time.Now().Before(dl) {
		return err // not the caller's deadline: the server answered a timeout
	}
	if dl.Sub(start) < minTimeout {
		return errGaveUp
	}
	return err
}
