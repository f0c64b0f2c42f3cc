package lb

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// smoothSequenceScan is smoothSequence the plain way: every group looked at
// every round.
func smoothSequenceScan(ws []int64, members [][]int32, rank []int, total int) []int32 {
	R := int64(len(rank))
	a := make([]int64, len(ws)) // ws*R
	b := make([]int64, len(ws)) // candidate's rank - total*wraps*R
	turn := make([]int, len(ws))
	for g := range ws {
		a[g] = ws[g] * R
		b[g] = int64(rank[members[g][0]])
	}
	seq := make([]int32, 0, total)
	t64 := int64(total)
	for t := int64(1); t <= t64; t++ {
		best, bk := 0, a[0]*t+b[0]
		for g := 1; g < len(a); g++ {
			if k := a[g]*t + b[g]; k > bk {
				best, bk = g, k
			}
		}
		m := members[best]
		seq = append(seq, m[turn[best]])
		old := int64(rank[m[turn[best]]])
		if turn[best]++; turn[best] == len(m) {
			turn[best] = 0
			b[best] -= t64 * R
		}
		b[best] += int64(rank[m[turn[best]]]) - old
	}
	return seq
}

// TestSmoothSequence checks the blocked smoothSequence against the plain
// scan on random groups (interop checks both against TarsGo).
func TestSmoothSequence(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	for _, n := range []int{1, 2, 3, 10, 50, 200, 1000} {
		for range 5 {
			// n endpoints, weights 1..maxW, ranks a random permutation.
			maxW := 1 + r.IntN(100)
			rank := r.Perm(n)
			var ws []int64
			var members [][]int32
			total := 0
			byRank := make([]int, n)
			for p, k := range rank {
				byRank[k] = p
			}
			for k := n - 1; k >= 0; k-- {
				p := byRank[k]
				w := int64(1 + (p*7919)%maxW)
				g := slices.Index(ws, w)
				if g < 0 {
					ws, members = append(ws, w), append(members, nil)
					g = len(ws) - 1
				}
				members[g] = append(members[g], int32(p))
				total += int(w)
			}
			total += r.IntN(2) // TarsGo's one round more when a weight is 0
			got := smoothSequence(ws, members, rank, total)
			want := smoothSequenceScan(ws, members, rank, total)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("n=%d maxW=%d: sequences differ", n, maxW)
			}
		}
	}
}
