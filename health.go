package tars

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// HealthPolicy says when a client stops sending calls to an endpoint and
// when it tries again: TarsGo's rule by default. Only failures of the
// endpoint itself count — calls that timed out, could not be sent, or
// whose connection could not be made — never a server's own return codes,
// and never a caller's cancellation.
//
// An endpoint is taken out of rotation when FailN calls in a row failed
// and none has succeeded for FailInterval, or when, at the end of a Window
// that began with a failure, at least MinCalls of its calls failed and that
// was at least FailRatio of them (TarsGo counts its window from the last
// reset; counting from the first failure spares the calls that succeed a
// shared counter). After
// Retry, the next call (any call) goes to it as a probe: an answer puts it
// back, a failure keeps it out for another Retry. While every endpoint is
// out, calls go to them anyway.
type HealthPolicy struct {
	FailN        int           // consecutive failures (TarsGo: 5)
	FailInterval time.Duration // without a success (TarsGo: 5s)
	Window       time.Duration // the ratio rule's window (TarsGo: 60s)
	MinCalls     int           // calls in a window before the ratio counts (TarsGo: 2)
	FailRatio    float64       // failed share of a window's calls (TarsGo: 0.5)
	Retry        time.Duration // between probes of an endpoint out of rotation (TarsGo: 30s)
	Disabled     bool          // never take endpoints out of rotation
}

// DefaultHealth is TarsGo's inactivation rule (PLATFORM.md §3.1).
var DefaultHealth = HealthPolicy{FailN: 5, FailInterval: 5 * time.Second, Window: time.Minute, MinCalls: 2,
	FailRatio: 0.5, Retry: 30 * time.Second}

func (p HealthPolicy) check() error {
	if p.Disabled {
		return nil
	}
	if p.FailN < 1 || p.FailInterval < 0 || p.Window <= 0 || p.MinCalls < 1 || p.FailRatio <= 0 || p.FailRatio > 1 || p.Retry <= 0 {
		return fmt.Errorf("WithHealth(%+v): want FailN, MinCalls ≥ 1, Window, Retry > 0, 0 < FailRatio ≤ 1", p)
	}
	return nil
}

type healthOption struct{ p HealthPolicy }

func (o healthOption) applyClient(c *clientConfig) { c.health = o.p }
func (o healthOption) check() error                { return o.p.check() }
func (o healthOption) String() string              { return fmt.Sprintf("WithHealth(%+v)", o.p) }

// WithHealth sets when a client takes an endpoint out of rotation and
// probes it again (default DefaultHealth, TarsGo's rule).
func WithHealth(p HealthPolicy) ClientOption { return healthOption{p} }

// health is one endpoint's record under a HealthPolicy. Successes touch
// atomics only; failures and window ends take the lock.
type health struct {
	consecutive atomic.Int32
	lastSuccess atomic.Int64 // nanotime
	calls       atomic.Int32 // in the current window
	failing     atomic.Bool  // the current window has seen a failure
	out         atomic.Bool  // out of rotation
	probing     atomic.Bool  // a probe is in flight

	windowStart atomic.Int64 // nanotime

	mu      sync.Mutex
	fails   int   // in the current window
	retryAt int64 // nanotime
}

func (h *health) init(now int64) {
	h.lastSuccess.Store(now)
	h.windowStart.Store(now)
}

// usable reports whether a call may go to the endpoint; a call let through
// to an endpoint out of rotation is its probe (probe reports it).
func (h *health) usable(p *HealthPolicy, now int64) (ok, probe bool) {
	if p.Disabled || !h.out.Load() {
		return true, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if now < h.retryAt || !h.probing.CompareAndSwap(false, true) {
		return false, false
	}
	return true, true
}

// success records an answer (of any return code).
func (h *health) success(p *HealthPolicy, now int64, probe bool) {
	if p.Disabled {
		return
	}
	// Successes touch no shared counter when all is well (a store per
	// call would bounce the line between cores): the window counts calls
	// only once it has seen a failure, and a success newer by 10 ms is
	// news enough for a rule counted in seconds.
	if now-h.lastSuccess.Load() > int64(10*time.Millisecond) {
		h.lastSuccess.Store(now)
	}
	if h.consecutive.Load() != 0 {
		h.consecutive.Store(0)
	}
	if h.failing.Load() {
		h.calls.Add(1)
	}
	if probe || h.out.Load() {
		h.mu.Lock()
		h.out.Store(false)
		h.probing.Store(false)
		h.fails = 0
		h.calls.Store(0)
		h.failing.Store(false)
		h.windowStart.Store(now)
		h.mu.Unlock()
		return
	}
	if h.failing.Load() && now-h.windowStart.Load() >= int64(p.Window) {
		h.endWindow(p, now)
	}
}

// failure records a timeout or a send or connect failure. It reports
// whether the endpoint went out of rotation.
func (h *health) failure(p *HealthPolicy, now int64, probe bool) bool {
	if p.Disabled {
		return false
	}
	h.calls.Add(1)
	n := h.consecutive.Add(1)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fails++
	if !h.failing.Load() {
		// The first failure opens the window of the ratio rule.
		h.failing.Store(true)
		h.windowStart.Store(now)
		h.calls.Store(1)
		h.fails = 1
	}
	if probe {
		h.probing.Store(false)
		h.retryAt = now + int64(p.Retry)
		return false
	}
	if h.out.Load() {
		return false
	}
	if int(n) >= p.FailN && now-h.lastSuccess.Load() >= int64(p.FailInterval) {
		h.takeOut(p, now)
		return true
	}
	return h.endWindowLocked(p, now)
}

func (h *health) takeOut(p *HealthPolicy, now int64) {
	h.out.Store(true)
	h.retryAt = now + int64(p.Retry)
	h.fails = 0
	h.calls.Store(0)
	h.failing.Store(false)
	h.windowStart.Store(now)
}

// endWindow applies the ratio rule when the window is over.
func (h *health) endWindow(p *HealthPolicy, now int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.endWindowLocked(p, now)
}

func (h *health) endWindowLocked(p *HealthPolicy, now int64) bool {
	if now-h.windowStart.Load() < int64(p.Window) {
		return false
	}
	calls := int(h.calls.Load())
	out := calls >= p.MinCalls && h.fails >= p.MinCalls && float64(h.fails) >= p.FailRatio*float64(calls)
	if out {
		h.takeOut(p, now)
		return true
	}
	h.fails = 0
	h.calls.Store(0)
	h.failing.Store(false)
	h.windowStart.Store(now)
	return false
}
