package retry

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotars/tars"
)

// HedgePolicy is a policy of backup (hedged) requests: when an attempt has
// not answered after a delay, another is sent to another endpoint, and the
// first answer wins; the others are cancelled. Backup requests trade a
// little extra load for a tail latency that one slow endpoint cannot set.
type HedgePolicy struct {
	// Delay before each backup request. 0: the Percentile of the
	// method's observed call latency, once MinSamples calls were seen in
	// the window (until then no backup is sent).
	Delay time.Duration
	// Percentile (0 < p < 1) of the observed latency used when Delay is
	// 0; 0 means 0.99.
	Percentile float64
	// MinDelay and MaxDelay bound the observed delay; 0: 1 ms and the
	// call's whole deadline.
	MinDelay, MaxDelay time.Duration
	// MinSamples is the number of calls of a method the window must hold
	// before its percentile is trusted; 0 means 100.
	MinSamples int
	// Window over which latencies are observed (two halves, the older
	// dropped as the window slides); 0 means 10 s.
	Window time.Duration
	// MaxAttempts bounds the attempts of a call, the first included; 0
	// means 2.
	MaxAttempts int
	// Codes lists, as in Policy, the return codes besides the always
	// retried ones after which an attempt's failure does not end the call
	// while other attempts run or may start.
	Codes []tars.Code
	// Methods limits the policy to these method names; empty: every
	// idempotent method.
	Methods []string
	// Budget bounds the backup requests; nil: a DefaultBudget of the
	// middleware's own.
	Budget *Budget
	// OnBackup, when set, is called for each backup request a call sent,
	// once the call has its answer: its attempt number (2 for the first)
	// and whether it was the attempt that answered (for metrics:
	// tarsotel's Events.BackupRequest has this shape but for attempt).
	OnBackup func(ctx context.Context, call *tars.Call, attempt int, won bool)
}

type hedger struct {
	HedgePolicy
	underRetry bool // retries around it (ForClient) count the calls and retry the failures
	mu         sync.RWMutex
	hists      map[methodKey]*latency
}

type methodKey struct{ servant, method string }

// Hedge returns a client middleware sending backup requests for the calls
// of idempotent endpoints under p. It fails for settings out of range. As
// New, it passes other calls through. Each call it hedges runs its
// attempts on goroutines of its own, all ended before the call returns.
func Hedge(p HedgePolicy) (tars.Middleware, error) { return hedge(p, false) }

// hedge is Hedge; underRetry is for ForClient, which puts retries around
// the backup requests with one budget: the retries count each call, and
// retry a call whose attempts all failed, with their back-off — the
// backup requests only race slow attempts.
func hedge(p HedgePolicy, underRetry bool) (tars.Middleware, error) {
	if p.Delay < 0 || p.MinDelay < 0 || p.MaxDelay < 0 || p.MaxAttempts < 0 || p.MinSamples < 0 || p.Window < 0 ||
		p.Percentile < 0 || p.Percentile >= 1 || (p.MaxDelay > 0 && p.MaxDelay < p.MinDelay) {
		return nil, fmt.Errorf("retry.Hedge: setting out of range in %+v", p)
	}
	if p.Percentile == 0 {
		p.Percentile = 0.99
	}
	if p.MinDelay == 0 {
		p.MinDelay = time.Millisecond
	}
	if p.MinSamples == 0 {
		p.MinSamples = 100
	}
	if p.Window == 0 {
		p.Window = 10 * time.Second
	}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = 2
	}
	if p.Budget == nil {
		p.Budget = DefaultBudget()
	}
	p.Codes = slices.Clone(p.Codes)
	p.Methods = slices.Clone(p.Methods)
	h := &hedger{HedgePolicy: p, underRetry: underRetry, hists: map[methodKey]*latency{}}
	return func(next tars.Invoker) tars.Invoker {
		return func(ctx context.Context, call *tars.Call) error {
			if !applies(call, h.Methods) || h.MaxAttempts < 2 || IsAttempt(ctx) {
				return next(ctx, call)
			}
			return h.invoke(ctx, next, call)
		}
	}, nil
}

type outcome struct {
	a        *tars.Call
	n        int // the attempt's number, 1 for the first
	err      error
	panicked any // what the attempt panicked with, if it did
}

func (h *hedger) invoke(ctx context.Context, next tars.Invoker, call *tars.Call) error {
	if !h.underRetry {
		h.Budget.Call()
	}
	var hist *latency
	delay := h.Delay
	if delay == 0 {
		hist = h.latency(call)
		var ok bool
		if delay, ok = hist.percentile(h.Percentile, h.MinSamples); !ok {
			// No trusted percentile yet: one attempt, observed.
			start := time.Now()
			err := next(ctx, call)
			if err == nil {
				hist.record(time.Since(start))
			}
			return err
		}
		delay = max(delay, h.MinDelay)
		if h.MaxDelay > 0 {
			delay = min(delay, h.MaxDelay)
		}
	}
	start := time.Now()
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan outcome, h.MaxAttempts)
	running, started := 0, 0
	launch := func() {
		a := call.NewAttempt()
		started++
		n := started
		if n > 1 {
			a.SetStatus(StatusKey, strconv.Itoa(n))
		}
		running++
		go func() {
			o := outcome{a: a, n: n}
			defer func() {
				// A panic goes on on the caller's goroutine (below), where
				// recovery middleware around this one sees it, as it would
				// without backup requests.
				if r := recover(); r != nil {
					o.panicked = r
				}
				results <- o
			}()
			o.err = next(hctx, a)
		}()
	}
	// drain waits for the attempts still running, which return once
	// cancelled; a panic among them goes on here.
	drain := func(last *outcome) {
		var p any
		for ; running > 0; running-- {
			o := <-results
			if o.panicked != nil {
				p = o.panicked
			}
			if last != nil {
				*last = o
			}
		}
		if p != nil {
			panic(p)
		}
	}
	report := func(winner int) {
		if h.OnBackup != nil {
			for n := 2; n <= started; n++ {
				h.OnBackup(ctx, call, n, n == winner)
			}
		}
	}
	launch()
	t := time.NewTimer(delay)
	defer t.Stop()
	var last outcome
	for {
		select {
		case o := <-results:
			running--
			last = o
			if o.panicked != nil {
				cancel()
				drain(nil)
				panic(o.panicked)
			}
			if o.err != nil && retryable(ctx, o.err, h.Codes) {
				if running > 0 {
					continue // another attempt may still answer
				}
				if !h.underRetry && started < h.MaxAttempts && time.Until(deadline(ctx, call)) > time.Millisecond && h.Budget.Withdraw() {
					launch() // the failed attempt was the last: try another now
					t.Reset(delay)
					continue
				}
			}
			// An answer (or the last failure): it wins.
			cancel()
			drain(nil)
			call.Adopt(o.a)
			if o.err == nil && hist != nil {
				hist.record(time.Since(start))
			}
			report(o.n)
			return o.err
		case <-t.C:
			if started < h.MaxAttempts && h.Budget.Withdraw() {
				launch()
				t.Reset(delay)
			}
		case <-ctx.Done():
			// The caller gave up: the attempts see it through hctx.
			drain(&last)
			call.Adopt(last.a)
			report(0)
			return last.err
		}
	}
}

// latency returns the latency record of the call's method.
func (h *hedger) latency(call *tars.Call) *latency {
	key := methodKey{call.Servant, call.Method}
	h.mu.RLock()
	l := h.hists[key]
	h.mu.RUnlock()
	if l != nil {
		return l
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if l = h.hists[key]; l == nil {
		l = newLatency(h.Window)
		h.hists[key] = l
	}
	return l
}

// latency is a sliding record of call latencies: two halves of a window,
// each a histogram with four buckets an octave from 50 µs (±10%), the older
// half cleared as the window moves on. The percentile is computed at most
// every 100 ms.
type latency struct {
	half  int64 // nanoseconds in half the window
	halfs [2]latencyHalf

	cachedAt atomic.Int64 // when the percentile was computed (UnixNano)
	cached   atomic.Int64 // that percentile, in ns; -1: not enough samples
}

type latencyHalf struct {
	epoch   atomic.Int64 // which half-window the counts are for
	count   atomic.Int64
	buckets [latencyBuckets]atomic.Int64
}

const (
	latencyBuckets = 96 // 50 µs · 2^(96/4) ≈ 14 min
	latencyBase    = 50 * time.Microsecond
)

func newLatency(window time.Duration) *latency {
	return &latency{half: int64(max(window/2, time.Millisecond))}
}

func bucketOf(d time.Duration) int {
	if d <= latencyBase {
		return 0
	}
	i := int(4 * math.Log2(float64(d)/float64(latencyBase)))
	return min(i, latencyBuckets-1)
}

// upper returns the upper bound of bucket i.
func upper(i int) time.Duration {
	return time.Duration(float64(latencyBase) * math.Exp2(float64(i+1)/4))
}

func (l *latency) slot(now int64) *latencyHalf {
	epoch := now / l.half
	s := &l.halfs[epoch%2]
	if old := s.epoch.Load(); old != epoch && s.epoch.CompareAndSwap(old, epoch) {
		s.count.Store(0)
		for i := range s.buckets {
			s.buckets[i].Store(0)
		}
	}
	return s
}

func (l *latency) record(d time.Duration) {
	s := l.slot(time.Now().UnixNano())
	s.buckets[bucketOf(d)].Add(1)
	s.count.Add(1)
}

// percentile returns the p-th percentile of the latencies in the window,
// and false while it holds fewer than minSamples.
func (l *latency) percentile(p float64, minSamples int) (time.Duration, bool) {
	now := time.Now().UnixNano()
	if at := l.cachedAt.Load(); now-at < int64(100*time.Millisecond) && at != 0 {
		v := l.cached.Load()
		return time.Duration(v), v >= 0
	}
	epoch := now / l.half
	var counts [latencyBuckets]int64
	var total int64
	for i := range l.halfs {
		s := &l.halfs[i]
		if e := s.epoch.Load(); e != epoch && e != epoch-1 {
			continue
		}
		for j := range s.buckets {
			n := s.buckets[j].Load()
			counts[j] += n
			total += n
		}
	}
	v := int64(-1)
	if total >= int64(minSamples) {
		want := int64(math.Ceil(p * float64(total)))
		var seen int64
		for i, n := range counts {
			if seen += n; seen >= want {
				v = int64(upper(i))
				break
			}
		}
	}
	l.cached.Store(v)
	l.cachedAt.Store(now)
	return time.Duration(v), v >= 0
}
