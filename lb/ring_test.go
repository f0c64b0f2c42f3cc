package lb

import (
	"math/rand/v2"
	"sort"
	"testing"
)

// TestRingSearch: the bucketed search finds the first point >= code,
// wrapping to 0, as sort.Search over all points does.
func TestRingSearch(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, n := range []int{1, 2, 3, 7, 100, 5000, 100_000} {
		rg := &ring{}
		seen := map[uint32]bool{}
		for len(rg.points) < n {
			p := r.Uint32()
			if n < 10 && r.IntN(2) == 0 {
				p = []uint32{0, 1, 1<<32 - 1}[r.IntN(3)]
			}
			if !seen[p] {
				seen[p] = true
				rg.points = append(rg.points, p)
			}
		}
		sort.Slice(rg.points, func(i, j int) bool { return rg.points[i] < rg.points[j] })
		rg.index()
		codes := []uint32{0, 1, 1<<32 - 1, 1<<32 - 2}
		for _, p := range rg.points[:min(n, 1000)] {
			codes = append(codes, p-1, p, p+1)
		}
		for range 10_000 {
			codes = append(codes, r.Uint32())
		}
		for _, c := range codes {
			want := sort.Search(len(rg.points), func(i int) bool { return rg.points[i] >= c })
			if want == len(rg.points) {
				want = 0
			}
			if got := rg.search(c); got != want {
				t.Fatalf("n=%d code %d: position %d, want %d", n, c, got, want)
			}
		}
	}
}
