package lb

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/transport"
)

// eps returns endpoints "tcp -h HOST -p PORT" for "host:port" strings, with
// the given weights (WeightType 1) when weights is not nil.
func eps(t testing.TB, hostports []string, weights []int) []discovery.Endpoint {
	t.Helper()
	out := make([]discovery.Endpoint, len(hostports))
	for i, hp := range hostports {
		var host string
		var port int
		if _, err := fmt.Sscanf(hp, "%s %d", &host, &port); err != nil {
			t.Fatalf("bad host port %q: %v", hp, err)
		}
		a := transport.Address{Network: "tcp", Host: host, Port: port, Weight: -1}
		if weights != nil {
			a.Weight, a.WeightType = weights[i], 1
		}
		out[i] = discovery.FromAddress(a)
	}
	return out
}

func allBalancers() []Balancer {
	return []Balancer{TARS(), RoundRobin(), Random(), WeightedRoundRobin(), ModHashBalancer(), ConsistentHashBalancer()}
}

func TestHashTypeString(t *testing.T) {
	for _, tc := range []struct {
		t    HashType
		want string
	}{{NoHash, "NoHash"}, {ModHash, "ModHash"}, {ConsistentHash, "ConsistentHash"}, {7, "HashType(7)"}} {
		if got := tc.t.String(); got != tc.want {
			t.Errorf("%d: %q, want %q", tc.t, got, tc.want)
		}
	}
}

func TestBalancerNames(t *testing.T) {
	want := []string{"tars", "round_robin", "random", "weighted_round_robin", "mod_hash", "consistent_hash"}
	for i, b := range allBalancers() {
		if b.Name() != want[i] {
			t.Errorf("balancer %d: name %q, want %q", i, b.Name(), want[i])
		}
	}
}

// TestNoEndpoints: with no endpoints, or all of them skipped, every
// balancer picks -1 for every kind of request.
func TestNoEndpoints(t *testing.T) {
	all := func(int) bool { return true }
	set := eps(t, []string{"a 1", "a 2", "b 1"}, nil)
	for _, b := range allBalancers() {
		for _, ht := range []HashType{NoHash, ModHash, ConsistentHash} {
			for _, code := range []uint32{0, 12345, math.MaxUint32} {
				if i := b.NewPicker(nil).Pick(&Request{HashType: ht, Hash: code}); i != -1 {
					t.Errorf("%s, no endpoints, %v: picked %d", b.Name(), ht, i)
				}
				if i := b.NewPicker(set).Pick(&Request{HashType: ht, Hash: code, Skip: all}); i != -1 {
					t.Errorf("%s, all skipped, %v: picked %d", b.Name(), ht, i)
				}
			}
		}
		if i := b.NewPicker(nil).Pick(nil); i != -1 {
			t.Errorf("%s, no endpoints, nil request: picked %d", b.Name(), i)
		}
	}
}

// TestRoundRobinCycle: unhashed round robin visits every endpoint once per
// cycle, same-host endpoints included (TarsGo would use one per host).
func TestRoundRobinCycle(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  []string
	}{
		{"one", []string{"a 1"}},
		{"distinct hosts", []string{"a 1", "b 1", "c 1", "d 1", "e 1"}},
		{"one host", []string{"a 1", "a 2", "a 3"}},
		{"mixed", []string{"a 1", "a 2", "b 1", "c 7", "c 8"}},
	} {
		for _, b := range []Balancer{TARS(), RoundRobin(), ModHashBalancer(), ConsistentHashBalancer()} {
			t.Run(tc.name+"/"+b.Name(), func(t *testing.T) {
				p := b.NewPicker(eps(t, tc.set, nil))
				for cycle := range 3 {
					seen := make([]int, len(tc.set))
					for range tc.set {
						i := p.Pick(&Request{})
						if i < 0 || i >= len(tc.set) {
							t.Fatalf("picked %d of %d", i, len(tc.set))
						}
						seen[i]++
					}
					for i, n := range seen {
						if n != 1 {
							t.Fatalf("cycle %d: endpoint %d picked %d times: %v", cycle, i, n, seen)
						}
					}
				}
			})
		}
	}
}

// TestStaticWeightShares: over one cycle of the router cache, each endpoint
// is picked as often as TARS's scaling of its weight says.
func TestStaticWeightShares(t *testing.T) {
	for _, tc := range []struct {
		name    string
		weights []int
		want    []int // picks per cycle
	}{
		// maxRange = clamp(max/min, 10, 100); scaled = w*maxRange/max.
		{"equal", []int{1, 1}, []int{10, 10}},
		{"ten to one", []int{100, 50, 10}, []int{10, 5, 1}},
		{"wide", []int{200, 1}, []int{100, 1}},        // 200 counts as 100: 100/1 = 100
		{"not given", []int{-1, 50}, []int{10, 5}},    // -1 counts as 100
		{"above 100", []int{300, 100}, []int{10, 10}}, // both 100
		// A weight of 0: maxRange 1, one round more than the weights:
		// the 0 gets a slot up front, the 100 both rounds.
		{"zero", []int{0, 100}, []int{1, 2}},
		{"zeros", []int{0, 0, 100}, []int{1, 1, 2}},
		{"all zero", []int{0, 0}, []int{1, 1}}, // TarsGo divides by zero; taken as equal
		{"hundred to one", []int{1, 1000}, []int{1, 100}},
		{"scaled to zero", []int{3, 100}, []int{1, 33}}, // maxRange 33: 3*33/100 = 0
	} {
		for _, b := range []Balancer{TARS(), WeightedRoundRobin()} {
			t.Run(tc.name+"/"+b.Name(), func(t *testing.T) {
				hosts := make([]string, len(tc.weights))
				cycle := 0
				for i := range hosts {
					hosts[i] = fmt.Sprintf("h%d 1", i)
					cycle += tc.want[i]
				}
				p := b.NewPicker(eps(t, hosts, tc.weights))
				for range 2 {
					got := make([]int, len(hosts))
					for range cycle {
						got[p.Pick(nil)]++
					}
					if fmt.Sprint(got) != fmt.Sprint(tc.want) {
						t.Fatalf("picks per cycle %v, want %v", got, tc.want)
					}
				}
			})
		}
	}
}

// TestWeightTypeRule: TARS() weights only when every endpoint has
// WeightType 1; WeightedRoundRobin() always does.
func TestWeightTypeRule(t *testing.T) {
	set := eps(t, []string{"a 1", "b 1"}, []int{100, 10})
	set[1].WeightType = 0
	count := func(b Balancer) []int {
		p := b.NewPicker(set)
		got := make([]int, 2)
		for range 11 * 10 {
			got[p.Pick(nil)]++
		}
		return got
	}
	if got := count(TARS()); got[0] != got[1] {
		t.Errorf("TARS with mixed weight types: %v, want an even split", got)
	}
	if got := count(WeightedRoundRobin()); got[0] != 10*got[1] {
		t.Errorf("WeightedRoundRobin: %v, want 10 to 1", got)
	}
}

// shares picks n times and returns each endpoint's share.
func shares(p Picker, r *Request, size, n int) []float64 {
	counts := make([]int, size)
	for range n {
		if i := p.Pick(r); i >= 0 {
			counts[i]++
		}
	}
	s := make([]float64, size)
	for i, c := range counts {
		s[i] = float64(c) / float64(n)
	}
	return s
}

// TestSkipSpreads: a skipped endpoint's share goes to all the others
// evenly (by weight, for weighted round robin), not to its neighbour.
func TestSkipSpreads(t *testing.T) {
	hosts := []string{"a 1", "b 1", "c 1", "d 1", "e 1", "f 1", "g 1", "h 1", "i 1", "j 1"}
	for _, tc := range []struct {
		bal     Balancer
		skipped []int
	}{
		{RoundRobin(), []int{3}},
		{RoundRobin(), []int{0, 1}},
		{RoundRobin(), []int{2, 5, 6, 9}},
		{TARS(), []int{3}},
		{TARS(), []int{9, 0}},
		{Random(), []int{4}},
		{WeightedRoundRobin(), []int{3}},
		{WeightedRoundRobin(), []int{3, 4}},
	} {
		t.Run(fmt.Sprintf("%s/%v", tc.bal.Name(), tc.skipped), func(t *testing.T) {
			skip := map[int]bool{}
			for _, i := range tc.skipped {
				skip[i] = true
			}
			p := tc.bal.NewPicker(eps(t, hosts, nil))
			const n = 90_000
			s := shares(p, &Request{Skip: func(i int) bool { return skip[i] }}, len(hosts), n)
			want := 1 / float64(len(hosts)-len(skip))
			for i, share := range s {
				if skip[i] {
					if share != 0 {
						t.Errorf("skipped endpoint %d got %.3f", i, share)
					}
					continue
				}
				// Random's share has a standard deviation near 0.001 here.
				if math.Abs(share-want) > 0.01 {
					t.Errorf("endpoint %d: share %.4f, want %.4f: %v", i, share, want, s)
				}
			}
		})
	}
}

// TestSkipThreeOneDead is issue 8's case: three endpoints, one dead, the
// other two take half each.
func TestSkipThreeOneDead(t *testing.T) {
	for _, b := range []Balancer{TARS(), RoundRobin()} {
		for dead := range 3 {
			p := b.NewPicker(eps(t, []string{"a 1", "b 1", "c 1"}, nil))
			counts := make([]int, 3)
			for range 3000 {
				counts[p.Pick(&Request{Skip: func(i int) bool { return i == dead }})]++
			}
			for i, c := range counts {
				if i != dead && c != 1500 {
					t.Errorf("%s, %d dead: %v, want 1500 each for the others", b.Name(), dead, counts)
					break
				}
			}
		}
	}
}

// TestHashDispatch: TARS() routes by the request's hash type; the hash
// balancers route every hashed call their way; calls without a hash go
// round robin.
func TestHashDispatch(t *testing.T) {
	set := eps(t, []string{"10.0.0.1 1", "10.0.0.2 1", "10.0.0.3 1", "10.0.0.4 1", "10.0.0.5 1"}, nil)
	tp, mp, cp := TARS().NewPicker(set), ModHashBalancer().NewPicker(set), ConsistentHashBalancer().NewPicker(set)
	r := rand.New(rand.NewPCG(1, 2))
	differ := 0
	for range 10_000 {
		h := r.Uint32()
		mod, ring := tp.Pick(&Request{HashType: ModHash, Hash: h}), tp.Pick(&Request{HashType: ConsistentHash, Hash: h})
		for _, ht := range []HashType{ModHash, ConsistentHash} {
			if got := mp.Pick(&Request{HashType: ht, Hash: h}); got != mod {
				t.Fatalf("mod_hash, %v, code %d: %d, TARS mod %d", ht, h, got, mod)
			}
			if got := cp.Pick(&Request{HashType: ht, Hash: h}); got != ring {
				t.Fatalf("consistent_hash, %v, code %d: %d, TARS ring %d", ht, h, got, ring)
			}
		}
		if mod != ring {
			differ++
		}
		if got := tp.Pick(&Request{HashType: ConsistentHash, Hash: h}); got != ring {
			t.Fatalf("code %d: %d, then %d", h, ring, got)
		}
	}
	if differ == 0 {
		t.Error("modulo and consistent hash always agree: one of them is not used")
	}
}

// TestConsistentHashMovesOnlySkipped: skipping endpoints moves only the
// codes that went to them.
func TestConsistentHashMovesOnlySkipped(t *testing.T) {
	var hosts []string
	for i := range 20 {
		hosts = append(hosts, fmt.Sprintf("10.1.0.%d 80", i))
	}
	p := TARS().NewPicker(eps(t, hosts, nil))
	skip := func(i int) bool { return i == 4 || i == 11 }
	r := rand.New(rand.NewPCG(3, 4))
	moved := 0
	for range 20_000 {
		h := r.Uint32()
		before := p.Pick(&Request{HashType: ConsistentHash, Hash: h})
		after := p.Pick(&Request{HashType: ConsistentHash, Hash: h, Skip: skip})
		switch {
		case skip(after):
			t.Fatalf("code %d: picked skipped %d", h, after)
		case !skip(before) && after != before:
			t.Fatalf("code %d moved from live %d to %d", h, before, after)
		case skip(before):
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("no code went to a skipped endpoint")
	}
}

// TestHashFallback: a hashed call with nowhere to hash to (every weight 0,
// or the host's owner skipped) goes round robin.
func TestHashFallback(t *testing.T) {
	zero := eps(t, []string{"a 1", "b 1"}, []int{0, 0})
	oneHost := eps(t, []string{"a 1", "a 2"}, nil)
	for _, tc := range []struct {
		name string
		set  []discovery.Endpoint
		ht   HashType
		skip func(int) bool
	}{
		{"zero weights/ring", zero, ConsistentHash, nil},
		{"zero weights/mod", zero, ModHash, nil},
		{"one host/ring", oneHost, ConsistentHash, nil},
		{"one host/mod", oneHost, ModHash, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := TARS().NewPicker(tc.set)
			owner := p.Pick(&Request{HashType: tc.ht, Hash: 99})
			if owner < 0 {
				t.Fatal("no pick")
			}
			other := p.Pick(&Request{HashType: tc.ht, Hash: 99, Skip: func(i int) bool { return i == owner }})
			if other < 0 || other == owner {
				t.Fatalf("owner %d skipped: picked %d", owner, other)
			}
		})
	}
}

// TestModHashSkipStable: a skipped endpoint's codes move, the others stay.
func TestModHashSkipStable(t *testing.T) {
	for _, weights := range [][]int{nil, {10, 20, 30, 40, 50}} {
		p := TARS().NewPicker(eps(t, []string{"a 1", "b 1", "c 1", "d 1", "e 1"}, weights))
		skip := func(i int) bool { return i == 2 }
		for h := range uint32(5000) {
			before := p.Pick(&Request{HashType: ModHash, Hash: h})
			after := p.Pick(&Request{HashType: ModHash, Hash: h, Skip: skip})
			if after == 2 || (before != 2 && after != before) {
				t.Fatalf("weights %v, code %d: %d, with 2 skipped %d", weights, h, before, after)
			}
		}
	}
}

// TestConcurrentPicks: pickers are safe for concurrent use, including the
// first hashed picks that build the tables (run with -race).
func TestConcurrentPicks(t *testing.T) {
	set := benchEndpoints(200, false)
	for _, b := range allBalancers() {
		p := b.NewPicker(set)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for k := range 2000 {
					r := Request{HashType: HashType(k % 3), Hash: uint32(k*7919 + g), Skip: func(i int) bool { return i%5 == g }}
					if i := p.Pick(&r); i < 0 || i >= len(set) || i%5 == g {
						t.Errorf("%s: picked %d", b.Name(), i)
						return
					}
				}
			})
		}
		wg.Wait()
	}
}

func TestPickAllocs(t *testing.T) {
	set := benchEndpoints(50, false)
	for _, b := range allBalancers() {
		p := b.NewPicker(set)
		for _, ht := range []HashType{NoHash, ModHash, ConsistentHash} {
			r := &Request{HashType: ht, Hash: 12345, Skip: func(i int) bool { return i == 3 }}
			p.Pick(r)
			if a := testing.AllocsPerRun(100, func() { p.Pick(r) }); a != 0 {
				t.Errorf("%s %v: %v allocs per Pick", b.Name(), ht, a)
			}
		}
	}
}

func TestWithHash(t *testing.T) {
	ctx := context.Background()
	if ht, h := HashFromContext(ctx); ht != NoHash || h != 0 {
		t.Errorf("empty context: %v %d", ht, h)
	}
	ctx = WithHash(ctx, ConsistentHash, 42)
	if ht, h := HashFromContext(ctx); ht != ConsistentHash || h != 42 {
		t.Errorf("got %v %d", ht, h)
	}
	if ht, _ := HashFromContext(WithHash(ctx, NoHash, 0)); ht != NoHash {
		t.Errorf("NoHash does not clear: %v", ht)
	}
}

func TestHashNewNeverZero(t *testing.T) {
	// The one-at-a-time hash of "" is 0; TARS makes it 1.
	if h := HashNew(""); h != 1 {
		t.Errorf(`HashNew("") = %d, want 1`, h)
	}
	if HashString("") != 0 || Hash("") != 0 {
		t.Error("HashString or Hash of \"\" is not 0")
	}
}

// TestSortRing checks the ring sort against slices.Sort on entries made as
// buildRing makes them: by ascending position, points random (some equal).
func TestSortRing(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 100, 4095, 4096, 20_000, 100_000} {
		a := make([]uint64, 0, n)
		for i := range n {
			pt := r.Uint32()
			if r.IntN(10) == 0 && i > 0 {
				pt = uint32(a[r.IntN(i)] >> 32) // a shared point
			}
			if r.IntN(3) == 0 {
				pt &= 0xffff00ff // a byte all equal in some
			}
			a = append(a, uint64(pt)<<32|uint64(i/100))
		}
		b := slices.Clone(a)
		sortRing(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Fatalf("n=%d: sortRing differs from slices.Sort", n)
		}
	}
}

// TestWeightedSkipSpreads: under static weight a skipped endpoint's share
// goes to the others in proportion to their weights, as TARS scales them:
// 10, 20, 30, 40 become 2, 5, 7, 10 (maxRange 10).
func TestWeightedSkipSpreads(t *testing.T) {
	weights := []int{10, 20, 30, 40}
	for _, b := range []Balancer{TARS(), WeightedRoundRobin()} {
		p := b.NewPicker(eps(t, []string{"a 1", "b 1", "c 1", "d 1"}, weights))
		s := shares(p, &Request{Skip: func(i int) bool { return i == 1 }}, 4, 80_000)
		for i, want := range []float64{2.0 / 19, 0, 7.0 / 19, 10.0 / 19} {
			if math.Abs(s[i]-want) > 0.01 {
				t.Errorf("%s: shares %v, want endpoint %d at %.3f", b.Name(), s, i, want)
			}
		}
	}
}
