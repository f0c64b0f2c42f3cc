package retry

import (
	"fmt"
	"sync/atomic"
	"time"
)

// A Budget bounds the extra attempts (retries and backup requests) of the
// calls it counts: over its window, extra attempts may number at most Ratio
// of the calls plus MinPerSecond for each second of the window, as Envoy's
// and Kitex's retry budgets do. A budget keeps an outage from multiplying
// the load on a service already failing: with a 10% budget, a caller whose
// every call fails sends at most 1.1 times its calls, never MaxAttempts
// times.
//
// One budget may be shared by several middleware (retries and hedging of
// the same client, or of every client of a process). Each middleware counts
// the calls it sees: retries around backup requests over the same calls
// would count each twice, so ForClient, which stacks them, has the retries
// alone count it. It is safe for
// concurrent use; under contention it may grant a few attempts past its
// bound (the count is checked, then taken, without a lock).
type Budget struct {
	ratio  float64
	floor  int64 // attempts granted per second whatever the calls
	secs   int64 // the window, in one-second buckets
	bucket []budgetBucket
}

type budgetBucket struct {
	sec     atomic.Int64 // the Unix second the counts are for
	calls   atomic.Int64
	retries atomic.Int64
}

// Default budget: extra attempts at most 10% of the calls of the last ten
// seconds, plus 10 a second (a floor, so a caller with few calls can still
// retry a lost one).
const (
	DefaultRatio        = 0.1
	DefaultMinPerSecond = 10
	DefaultWindow       = 10 * time.Second
)

// NewBudget returns a budget granting extra attempts up to ratio (0..1) of
// the calls over window (whole seconds, at least 1 s), plus minPerSecond
// for each second of the window. It fails for a ratio outside [0, 1], a
// negative floor, or a window under a second or over ten minutes.
func NewBudget(ratio float64, minPerSecond int, window time.Duration) (*Budget, error) {
	switch {
	case ratio < 0 || ratio > 1 || ratio != ratio:
		return nil, fmt.Errorf("retry.NewBudget: ratio %v outside [0, 1]", ratio)
	case minPerSecond < 0:
		return nil, fmt.Errorf("retry.NewBudget: negative floor %d", minPerSecond)
	case window < time.Second || window > 10*time.Minute:
		return nil, fmt.Errorf("retry.NewBudget: window %v outside [1s, 10m]", window)
	}
	secs := int64(window / time.Second)
	return &Budget{ratio: ratio, floor: int64(minPerSecond), secs: secs, bucket: make([]budgetBucket, secs)}, nil
}

// DefaultBudget returns a new budget with the default settings.
func DefaultBudget() *Budget {
	b, _ := NewBudget(DefaultRatio, DefaultMinPerSecond, DefaultWindow)
	return b
}

// at returns the bucket of the second sec, cleared if it held an older one.
func (b *Budget) at(sec int64) *budgetBucket {
	k := &b.bucket[sec%b.secs]
	if old := k.sec.Load(); old != sec && k.sec.CompareAndSwap(old, sec) {
		k.calls.Store(0)
		k.retries.Store(0)
	}
	return k
}

// Call counts one call made (a first attempt).
func (b *Budget) Call() {
	b.at(time.Now().Unix()).calls.Add(1)
}

// Withdraw takes one extra attempt from the budget, reporting false when
// the window's attempts are spent.
func (b *Budget) Withdraw() bool {
	sec := time.Now().Unix()
	cur := b.at(sec)
	var calls, retries int64
	for i := range b.bucket {
		k := &b.bucket[i]
		if s := k.sec.Load(); s > sec-b.secs && s <= sec {
			calls += k.calls.Load()
			retries += k.retries.Load()
		}
	}
	if float64(retries) >= b.ratio*float64(calls)+float64(b.floor*b.secs) {
		return false
	}
	cur.retries.Add(1)
	return true
}
