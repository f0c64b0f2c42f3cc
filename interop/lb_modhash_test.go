package interop

// lb's modulo hash and static-weight router cache against TarsGo v1.4.6's
// tars/selector/modhash and selector.BuildStaticWeightList, over the list
// TarsGo's endpointManager holds.

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/TarsCloud/TarsGo/tars/selector"
	"github.com/TarsCloud/TarsGo/tars/selector/modhash"
	"github.com/TarsCloud/TarsGo/tars/util/endpoint"

	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/lb"
)

// lbCompareMod checks lb's modulo-hash pick against TarsGo's selector m for
// every code.
func lbCompareMod(t *testing.T, eps []discovery.Endpoint, p lb.Picker, m *modhash.ModHash, codes []uint32, skip func(int) bool) {
	t.Helper()
	bad := 0
	for _, code := range codes {
		got := p.Pick(&lb.Request{HashType: lb.ModHash, Hash: code, Skip: skip})
		ep, err := m.Select(hashMsg{code, selector.ModHash})
		if err != nil {
			t.Fatalf("TarsGo's modhash: %v", err)
		}
		if want := lbIndex(eps, ep); got != want {
			if bad++; bad <= 5 {
				t.Errorf("code %d: lb picks %d, TarsGo picks %d (%s)", code, got, want, ep.Key)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d codes disagree", bad, len(codes))
	}
}

func lbRandomCodes(r *rand.Rand, n int) []uint32 {
	codes := make([]uint32, n, n+64)
	for i := range codes {
		codes[i] = r.Uint32()
	}
	for k := range uint32(64) {
		codes = append(codes, k, 1<<32-1-k) // every small index and the top of the range
	}
	return codes
}

// TestLBModHashAgreesWithTarsGo: on 1..50 endpoints, one per host and up to
// four per host, unweighted, weighted and mixed, lb's ModHash picks TarsGo's
// endpoint for every one of 100,000 random codes and the 64 smallest and
// largest: the host-deduplicated list in crc32 order, code % n, or the
// static-weight router cache.
func TestLBModHashAgreesWithTarsGo(t *testing.T) {
	for _, perHost := range []int{1, 4} {
		for _, w := range []lbWeights{lbUnweighted, lbWeighted, lbMixed} {
			t.Run(fmt.Sprintf("perhost%d/%v", perHost, w), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(perHost*10)+uint64(w), 0x0d))
				for n := 1; n <= 50; n++ {
					eps := lbEndpoints(r, n, perHost, w)
					if n%2 == 0 {
						noZeroWeights(r, eps)
					}
					if w == lbWeighted && allZeroWeight(eps) {
						continue // TarsGo divides by zero
					}
					set, ok := lbTarsGoSet(t, eps)
					if !ok {
						continue
					}
					m := modhash.New(set.weighted)
					m.Refresh(set.sorted)
					codes := lbRandomCodes(r, lbCodes())
					lbCompareMod(t, eps, lb.TARS().NewPicker(eps), m, codes, nil)
					lbCompareMod(t, eps, lb.ModHashBalancer().NewPicker(eps), m, codes[:1000], nil)
					if t.Failed() {
						t.Fatalf("%d endpoints %v", n, eps)
					}
				}
			})
		}
	}
}

// TestLBModHashSkip: the codes of a skipped endpoint go where TarsGo's
// modhash sends them once that endpoint is removed (code % live over the
// list without it); the other codes stay where they were (TarsGo would
// move them too).
func TestLBModHashSkip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 0x0d))
	for _, n := range []int{2, 3, 7, 50} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			eps := lbEndpoints(r, n, 1, lbUnweighted)
			set, ok := lbTarsGoSet(t, eps)
			if !ok {
				t.Fatal("TarsGo cannot hold the set")
			}
			skip := r.IntN(n)
			full := modhash.New(false)
			full.Refresh(set.sorted)
			var rest []endpoint.Endpoint
			for _, ep := range set.sorted {
				if lbIndex(eps, ep) != skip {
					rest = append(rest, ep)
				}
			}
			removed := modhash.New(false)
			removed.Refresh(rest)
			p := lb.TARS().NewPicker(eps)
			moved := 0
			for _, code := range lbRandomCodes(r, lbCodes()/10) {
				got := p.Pick(&lb.Request{HashType: lb.ModHash, Hash: code, Skip: func(i int) bool { return i == skip }})
				was, _ := full.Select(hashMsg{code, selector.ModHash})
				after, _ := removed.Select(hashMsg{code, selector.ModHash})
				want := lbIndex(eps, was)
				if want == skip {
					want = lbIndex(eps, after)
					moved++
				}
				if got != want {
					t.Fatalf("code %d: lb picks %d, want %d", code, got, want)
				}
			}
			if moved == 0 {
				t.Fatal("no code landed on the skipped endpoint")
			}
		})
	}
}

// TestLBStaticWeightCacheIsTarsGo: the weighted round-robin sequence of
// lb.TARS() and lb.WeightedRoundRobin() is a rotation of the router cache
// TarsGo's selector.BuildStaticWeightList builds over the same endpoints
// (one per host; every weight kind, including 0, -1 and above 100), and
// weighted modulo hash indexes that cache.
func TestLBStaticWeightCacheIsTarsGo(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 0x0d))
	// TarsGo's BuildStaticWeightList re-sorts the list, formatting keys,
	// on each of its up to 100*n rounds: sets stay small.
	sizes := []int{1, 2, 3, 5, 10, 20, 50, 100}
	if raceEnabled || testing.Short() {
		sizes = sizes[:len(sizes)-1]
	}
	for _, n := range sizes {
		for _, bal := range []lb.Balancer{lb.TARS(), lb.WeightedRoundRobin()} {
			t.Run(fmt.Sprintf("%s/%d", bal.Name(), n), func(t *testing.T) {
				slots := 0
				defer func() { t.Logf("%d cache slots compared", slots) }()
				for k := range 4 {
					eps := lbEndpoints(r, n, 1, lbWeighted)
					if k > 0 {
						// No weight 0: TarsGo then scales the weights
						// into 1..maxRange and the smooth sequence is long.
						noZeroWeights(r, eps)
					}
					if allZeroWeight(eps) {
						continue
					}
					set, ok := lbTarsGoSet(t, eps)
					if !ok {
						continue
					}
					cache := selector.BuildStaticWeightList(set.sorted)
					want := make([]int, len(cache))
					for k, i := range cache {
						want[k] = lbIndex(eps, set.sorted[i])
					}
					p := bal.NewPicker(eps)
					got := make([]int, 2*len(want))
					for k := range got {
						got[k] = p.Pick(nil)
					}
					if !isRotation(got[:len(want)], want) {
						t.Fatalf("%d endpoints: sequence %v is no rotation of TarsGo's cache %v", n, got[:min(40, len(want))], want[:min(40, len(want))])
					}
					if !slicesEqual(got[:len(want)], got[len(want):]) {
						t.Fatalf("%d endpoints: the sequence does not repeat after %d", n, len(want))
					}
					slots += len(want)
				}
			})
		}
	}
}

func isRotation(got, want []int) bool {
	if len(got) != len(want) {
		return false
	}
	if len(want) == 0 {
		return true
	}
	for s := range want {
		ok := true
		for k := range want {
			if got[k] != want[(s+k)%len(want)] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// noZeroWeights gives every endpoint of weight 0 a weight in 1..100.
func noZeroWeights(r *rand.Rand, eps []discovery.Endpoint) {
	for i := range eps {
		if eps[i].Weight == 0 {
			eps[i].Weight = 1 + r.IntN(100)
		}
	}
}
