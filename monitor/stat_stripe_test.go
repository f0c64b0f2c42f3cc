package monitor

import (
	"maps"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gotars/tars"
)

// rowRef is a head's row as one lock around one row adds it up, call after
// call (the reporter before its lock stripes, and TarsGo's StatFHelper):
// what the stripes' sums must equal.
type rowRef struct {
	count, timeout, exec int32
	buckets              [len(timeBuckets)]int32
	total                int64
	max, min             int32
	seen                 bool
}

func (a *rowRef) add(out outcome, ms int64) {
	t := clamp32(ms)
	if !a.seen {
		a.max, a.min, a.seen = t, t, true
	}
	switch out {
	case succeeded:
		a.count++
	case timedOut:
		a.timeout++
	default:
		a.exec++
	}
	a.total += ms
	a.max, a.min = max(a.max, t), min(a.min, t)
	if i, ok := Bucket(ms); ok {
		a.buckets[i]++
	}
}

type stripeCall struct {
	out outcome
	ms  int64
}

// TestStripesSumUp checks that a head's slots, added to by calls under
// every stripe from several goroutines, sum up to the row one lock gives
// the same calls, for several stripe counts and for times across every
// bucket, beyond 3000 ms and beyond int32.
func TestStripesSumUp(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stripes int
		calls   []stripeCall
	}{
		{"one call", lockStripes, []stripeCall{{succeeded, 7}}},
		{"one stripe", 1, randomCalls(1, 500)},
		{"zero ms", lockStripes, []stripeCall{{succeeded, 0}, {failed, 0}, {timedOut, 0}}},
		{"huge", lockStripes, []stripeCall{{succeeded, 1 << 40}, {failed, 2}, {timedOut, 1<<31 - 1}}},
		{"random", lockStripes, randomCalls(2, 4000)},
		{"random two stripes", 2, randomCalls(3, 4000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ref rowRef
			for _, c := range tc.calls {
				ref.add(c.out, c.ms)
			}
			want := StatMicMsgBody{
				Count: ref.count, TimeoutCount: ref.timeout, ExecCount: ref.exec,
				IntervalCount: map[int32]int32{},
				TotalRspTime:  ref.total, MaxRspTime: ref.max, MinRspTime: ref.min,
			}
			for i, k := range timeBuckets {
				want.IntervalCount[k] = ref.buckets[i]
			}

			var tab statTable
			tab.init(tc.stripes)
			k := statKey{method: "m"}
			a := newAgg(tc.stripes)
			tab.keys[k] = a
			var wg sync.WaitGroup
			var dropped atomic.Uint64
			const workers = 4
			for w := range workers {
				wg.Go(func() {
					for i := w; i < len(tc.calls); i += workers {
						c := tc.calls[i]
						if i%2 == 0 { // as a call does: a stripe from the hints
							if !tab.add(k, c.out, c.ms, &dropped) {
								t.Error("known key not found")
								return
							}
							continue
						}
						j := i % tc.stripes // every stripe, whatever the hints give
						tab.stripes[j].Lock()
						a.add(j, c.out, c.ms)
						tab.stripes[j].Unlock()
					}
				})
			}
			wg.Wait()
			tab.lock()
			got := a.body()
			tab.unlock()
			if got.Count != want.Count || got.TimeoutCount != want.TimeoutCount || got.ExecCount != want.ExecCount ||
				got.TotalRspTime != want.TotalRspTime || got.MaxRspTime != want.MaxRspTime || got.MinRspTime != want.MinRspTime ||
				!maps.Equal(got.IntervalCount, want.IntervalCount) {
				t.Errorf("striped sums\n got %+v\nwant %+v", got, want)
			}
			if n := dropped.Load(); n != 0 {
				t.Errorf("%d calls dropped", n)
			}
		})
	}
}

// randomCalls returns n calls of every outcome, most within 3000 ms.
func randomCalls(seed uint64, n int) []stripeCall {
	rng := rand.New(rand.NewPCG(seed, seed))
	calls := make([]stripeCall, n)
	for i := range calls {
		calls[i] = stripeCall{out: outcome(rng.IntN(3)), ms: rng.Int64N(3500)}
	}
	return calls
}

// newBareReporter is a reporter without a stat client, for the tables alone.
func newBareReporter(maxHeads int) *StatReporter {
	r := &StatReporter{maxHeads: maxHeads, ipNames: map[netip.Addr]string{}}
	for i := range r.sides {
		r.sides[i].init(tableStripes())
	}
	return r
}

// TestNewKeyOverMaxHeads: once MaxHeads are kept, a new key is dropped —
// also when two of its calls both missed it and take the stripes one after
// the other (the second finds the key known as not kept). Both orders, and
// the race itself.
func TestNewKeyOverMaxHeads(t *testing.T) {
	r := newBareReporter(1)
	r.recordServer(&tars.Call{Server: true, Method: "a"}, nil, 1)
	tb := &r.sides[1] // calls served
	k, h := statKey{method: "b"}, StatMicMsgHead{InterfaceName: "b"}
	tb.lock()
	r.addLocked(tb, k, h, succeeded, 1)
	r.addLocked(tb, k, h, succeeded, 1) // the second caller that missed it
	tb.unlock()
	if d := r.dropped.Load(); d != 2 {
		t.Errorf("dropped %d, want 2", d)
	}
	for round := range 200 {
		r := newBareReporter(1)
		r.recordServer(&tars.Call{Server: true, Method: "a"}, nil, 1)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				<-start
				r.recordServer(&tars.Call{Server: true, Method: "b"}, nil, 1)
			})
		}
		close(start)
		wg.Wait()
		if d := r.dropped.Load(); d != 4 {
			t.Fatalf("round %d: dropped %d, want 4", round, d)
		}
	}
}
