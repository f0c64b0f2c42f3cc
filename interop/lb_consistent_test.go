package interop

// The consistent-hash ring of lb.TARS() against TarsGo v1.4.6's own
// selector (tars/selector/consistenthash, built as endpointManager builds
// it: consistenthash.New(enableWeight, KetamaHash).Refresh(activeEp)).

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/TarsCloud/TarsGo/tars/selector"
	"github.com/TarsCloud/TarsGo/tars/selector/consistenthash"

	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/lb"
)

// lbCompareRing checks that for every code lb's pick (with skip) is the
// endpoint TarsGo's ring c picks, and returns how many codes it compared.
func lbCompareRing(t *testing.T, eps []discovery.Endpoint, p lb.Picker, c *consistenthash.ConsistentHash, codes []uint32, skip func(int) bool) int {
	t.Helper()
	bad := 0
	for _, code := range codes {
		got := p.Pick(&lb.Request{HashType: lb.ConsistentHash, Hash: code, Skip: skip})
		ep, err := c.Select(hashMsg{code, selector.ConsistentHash})
		if err != nil {
			t.Fatalf("TarsGo's ring: %v", err)
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
	return len(codes)
}

// TestLBConsistentHashAgreesWithTarsGo: for 1..50 endpoints on distinct
// hosts, unweighted, weighted (weights -1, 0, 1..300) and mixed weight
// types, lb picks TarsGo's endpoint for every one of 100,000 random codes
// and for the codes at and next to every ring point.
func TestLBConsistentHashAgreesWithTarsGo(t *testing.T) {
	for _, w := range []lbWeights{lbUnweighted, lbWeighted, lbMixed} {
		t.Run(w.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(w)+1, 0xc0de))
			total := 0
			for n := 1; n <= 50; n++ {
				eps := lbEndpoints(r, n, 1, w)
				set, ok := lbTarsGoSet(t, eps)
				if !ok {
					continue
				}
				c := consistenthash.New(set.weighted, consistenthash.KetamaHash)
				c.Refresh(set.sorted)
				if set.weighted != allStaticWeight(eps) {
					t.Fatalf("%d endpoints: TarsGo weights them: %v", n, set.weighted)
				}
				if w == lbWeighted && allZeroWeight(eps) {
					continue // TarsGo's ring is empty: Select fails
				}
				codes := make([]uint32, lbCodes())
				for i := range codes {
					codes[i] = r.Uint32()
				}
				codes = append(codes, lbEdgeCodes(eps)...)
				p := lb.TARS().NewPicker(eps)
				total += lbCompareRing(t, eps, p, c, codes, nil)
				if t.Failed() {
					t.Fatalf("%d endpoints %v", n, eps)
				}
			}
			t.Logf("%d codes over 1..50 endpoints agree", total)
		})
	}
}

func allStaticWeight(eps []discovery.Endpoint) bool {
	for _, e := range eps {
		if e.WeightType != 1 {
			return false
		}
	}
	return true
}

func allZeroWeight(eps []discovery.Endpoint) bool {
	for _, e := range eps {
		if e.Weight != 0 {
			return false
		}
	}
	return true
}

// TestLBConsistentHashSameHost: several endpoints on one host (ports and
// networks differ) hash as one, as TarsGo's ring keyed by host does: the
// host's first endpoint in TarsGo's order takes all its codes.
func TestLBConsistentHashSameHost(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 0xc0de))
	for _, tc := range []struct {
		n, perHost int
		w          lbWeights
	}{
		{2, 3, lbUnweighted}, {10, 4, lbUnweighted}, {40, 5, lbUnweighted}, {10, 4, lbWeighted}, {40, 3, lbWeighted},
	} {
		t.Run(fmt.Sprintf("%d/%d/%v", tc.n, tc.perHost, tc.w), func(t *testing.T) {
			eps := lbEndpoints(r, tc.n, tc.perHost, tc.w)
			set, ok := lbTarsGoSet(t, eps)
			if !ok {
				t.Fatal("TarsGo cannot hold the set")
			}
			c := consistenthash.New(set.weighted, consistenthash.KetamaHash)
			c.Refresh(set.sorted)
			codes := make([]uint32, lbCodes()/10)
			for i := range codes {
				codes[i] = r.Uint32()
			}
			picked := map[int]bool{}
			p := lb.TARS().NewPicker(eps)
			for _, code := range codes {
				picked[p.Pick(&lb.Request{HashType: lb.ConsistentHash, Hash: code})] = true
			}
			lbCompareRing(t, eps, p, c, codes, nil)
			hosts := map[string]bool{}
			for _, e := range eps {
				hosts[e.Host] = true
			}
			if len(picked) > len(hosts) {
				t.Errorf("%d endpoints picked, only %d hosts", len(picked), len(hosts))
			}
		})
	}
}

// TestLBConsistentHashSkipIsRemove: skipping endpoints gives what TarsGo's
// ring gives after Remove of those endpoints (what its endpointManager does
// to a blocked endpoint): the walk goes on to the next live host's point.
func TestLBConsistentHashSkipIsRemove(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 0xc0de))
	for _, n := range []int{2, 3, 10, 50} {
		for _, w := range []lbWeights{lbUnweighted, lbWeighted} {
			t.Run(fmt.Sprintf("%d/%v", n, w), func(t *testing.T) {
				eps := lbEndpoints(r, n, 1, w)
				for i := range eps {
					if eps[i].Weight == 0 {
						eps[i].Weight = 1 // a host with no points cannot show a walk
					}
				}
				set, ok := lbTarsGoSet(t, eps)
				if !ok {
					t.Fatal("TarsGo cannot hold the set")
				}
				c := consistenthash.New(set.weighted, consistenthash.KetamaHash)
				c.Refresh(set.sorted)
				skipped := map[int]bool{}
				for len(skipped) < max(1, n/3) {
					i := r.IntN(n)
					skipped[i] = true
				}
				for i := range skipped {
					for _, ep := range set.sorted {
						if lbIndex(eps, ep) == i {
							if err := c.Remove(ep); err != nil {
								t.Fatal(err)
							}
						}
					}
				}
				codes := make([]uint32, lbCodes()/10)
				for i := range codes {
					codes[i] = r.Uint32()
				}
				lbCompareRing(t, eps, lb.TARS().NewPicker(eps), c, codes, func(i int) bool { return skipped[i] })
			})
		}
	}
}

// TestLBConsistentHashSharedPoint: where two hosts' md5 points coincide,
// lb gives the point to the host TarsGo's ring map gives it to (its last
// writer). Colliding hosts are found by search: 10,240 hosts have about a
// hundred shared points among them.
func TestLBConsistentHashSharedPoint(t *testing.T) {
	owner := map[uint32]string{}
	type pair struct {
		a, b  string
		point uint32
	}
	var pairs []pair
	for i := 0; i < 40*256 && len(pairs) < 8; i++ {
		host := fmt.Sprintf("10.1.%d.%d", i>>8, i&255)
		for v := range 25 {
			for _, pt := range ketamaPoints(fmt.Sprintf("%s_%d", host, v)) {
				if o, ok := owner[pt]; ok && o != host {
					pairs = append(pairs, pair{o, host, pt})
				}
				owner[pt] = host
			}
		}
	}
	if len(pairs) == 0 {
		t.Fatal("no shared point among 10,240 hosts")
	}
	r := rand.New(rand.NewPCG(13, 0xc0de))
	for _, pr := range pairs {
		eps := lbEndpoints(r, 6, 1, lbUnweighted)
		for _, h := range []string{pr.a, pr.b} {
			e := eps[0]
			e.Host = h
			eps = append(eps, e)
		}
		slices.SortFunc(eps, func(x, y discovery.Endpoint) int { return strings.Compare(x.Key(), y.Key()) })
		set, ok := lbTarsGoSet(t, eps)
		if !ok {
			t.Fatal("TarsGo cannot hold the set")
		}
		c := consistenthash.New(set.weighted, consistenthash.KetamaHash)
		c.Refresh(set.sorted)
		lbCompareRing(t, eps, lb.TARS().NewPicker(eps), c, []uint32{pr.point - 1, pr.point, pr.point + 1}, nil)
		ep, _ := c.Select(hashMsg{pr.point, selector.ConsistentHash})
		t.Logf("point %d of %s and %s: TarsGo and lb give it to %s", pr.point, pr.a, pr.b, ep.Host)
	}
}
