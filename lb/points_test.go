package lb

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPointCache: remembered points equal freshly computed ones, for fewer
// and more virtual names than remembered, and the cache stays bounded.
func TestPointCache(t *testing.T) {
	var c pointCache
	var scratch []uint32
	for i := range 3 * pointCacheMin {
		host := fmt.Sprintf("h%d", i%(2*pointCacheMin+100))
		names := 1 + (i*7)%25
		got := slices.Clone(c.get(host, names, &scratch))
		want := appendHostPoints(nil, host, names)
		if !slices.Equal(got, want) {
			t.Fatalf("%s, %d names: remembered points differ", host, names)
		}
	}
	if c.prev == nil {
		t.Error("the newer generation was never retired")
	}
	if n := len(c.cur) + len(c.prev); n > 2*pointCacheMin {
		t.Errorf("%d hosts remembered, want at most %d", n, 2*pointCacheMin)
	}
	var none *pointCache
	if got := none.get("x", 3, &scratch); !slices.Equal(got, appendHostPoints(nil, "x", 3)) {
		t.Error("nil cache: wrong points")
	}
}

// TestBalancerReusesPoints: a balancer's pickers over changing sets and
// weights of the same hosts pick what a fresh balancer's pickers pick.
func TestBalancerReusesPoints(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	shared := TARS()
	base := benchEndpoints(300, false)
	for round := range 20 {
		set := slices.Clone(base[:100+r.IntN(200)])
		if round%2 == 1 {
			for i := range set {
				set[i].Weight, set[i].WeightType = r.IntN(120), 1
			}
		}
		a, b := shared.NewPicker(set), TARS().NewPicker(set)
		for range 2000 {
			req := &Request{HashType: ConsistentHash, Hash: r.Uint32()}
			if x, y := a.Pick(req), b.Pick(req); x != y {
				t.Fatalf("round %d, code %d: shared balancer picks %d, fresh %d", round, req.Hash, x, y)
			}
		}
	}
}
