package lb

import (
	"cmp"
	"hash/crc32"
	"slices"
	"strconv"
	"strings"

	"github.com/gotars/tars/discovery"
)

// tarsDefaultTimeoutMs is the timeout TarsGo's endpoint.Parse and TarsCpp's
// TC_Endpoint give an endpoint without -t; it is part of TarsGo's key.
const tarsDefaultTimeoutMs = 3000

// epInfo is what the pickers keep of one endpoint.
type epInfo struct {
	host      string
	port      int
	udp       bool
	timeoutMs int64
	weight    int  // the weight as static weighting reads it (see staticWeight)
	static    bool // WeightType 1
}

func newInfos(eps []discovery.Endpoint) []epInfo {
	infos := make([]epInfo, len(eps))
	for i := range eps {
		e := &eps[i]
		ms := int64(tarsDefaultTimeoutMs)
		if e.Timeout > 0 {
			ms = e.Timeout.Milliseconds()
		}
		infos[i] = epInfo{
			host:      e.Host,
			port:      e.Port,
			udp:       strings.EqualFold(e.Network, "udp"),
			timeoutMs: ms,
			weight:    staticWeight(e.Weight),
			static:    e.WeightType == 1,
		}
	}
	return infos
}

// staticWeight is the weight static weighting uses: -1 (not given) and
// anything above 100 count as 100, as TarsGo's endpoint.Parse makes them.
func staticWeight(w int) int {
	if w == -1 || w > 100 {
		return 100
	}
	return w
}

// allStatic reports whether TarsGo would weight this set: every endpoint
// has WeightType 1 (endpointManager.enableWeight).
func allStatic(infos []epInfo) bool {
	for i := range infos {
		if !infos[i].static {
			return false
		}
	}
	return len(infos) > 0
}

// appendTarsKey appends TarsGo's Endpoint.Key (its String):
// "tcp -h HOST -p PORT -t TIMEOUT_MS", "udp" for udp endpoints, "tcp" for
// tcp and ssl.
func appendTarsKey(b []byte, e *epInfo) []byte {
	if e.udp {
		b = append(b, "udp -h "...)
	} else {
		b = append(b, "tcp -h "...)
	}
	b = append(b, e.host...)
	b = append(b, " -p "...)
	b = strconv.AppendInt(b, int64(e.port), 10)
	b = append(b, " -t "...)
	return strconv.AppendInt(b, e.timeoutMs, 10)
}

// tarsOrder returns the indices of infos in TarsGo's candidate order:
// ascending crc32 (IEEE) of the TarsGo key, as endpointManager.updateActiveEp
// sorts. TarsGo's sort is not stable; ties (crc32 collisions) keep the
// order of infos here.
func tarsOrder(infos []epInfo) []int32 {
	type ordered struct {
		crc uint32
		i   int32
	}
	o := make([]ordered, len(infos))
	var buf [128]byte
	for i := range infos {
		o[i] = ordered{crc32.ChecksumIEEE(appendTarsKey(buf[:0], &infos[i])), int32(i)}
	}
	slices.SortFunc(o, func(a, b ordered) int {
		if c := cmp.Compare(a.crc, b.crc); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	idx := make([]int32, len(o))
	for i := range o {
		idx[i] = o[i].i
	}
	return idx
}

// dedupeHosts keeps, of the endpoints in order, the first on each host
// (TarsGo's selectors are keyed by Endpoint.HashKey, the host alone).
func dedupeHosts(order []int32, infos []epInfo) []int32 {
	out := make([]int32, 0, len(order))
	if len(order) <= 16 {
	next:
		for _, i := range order {
			for _, j := range out {
				if infos[j].host == infos[i].host {
					continue next
				}
			}
			out = append(out, i)
		}
		return out
	}
	seen := make(map[string]struct{}, len(order))
	for _, i := range order {
		if _, ok := seen[infos[i].host]; ok {
			continue
		}
		seen[infos[i].host] = struct{}{}
		out = append(out, i)
	}
	return out
}

// staticCache builds TARS's static-weight router cache over list (indices
// into infos, in the order TarsGo would hold them) and returns it as
// indices into infos; nil when there is nothing to weight.
//
// It yields what TarsGo's selector.BuildStaticWeightList yields. That
// function re-sorts every endpoint on every one of totalWeight rounds; here
// endpoints of equal scaled weight are grouped (there are at most 100
// scaled weights), which makes a round cost one step per group.
func staticCache(list []int32, infos []epInfo) []int32 {
	if len(list) == 0 {
		return nil
	}
	minW, maxW := infos[list[0]].weight, infos[list[0]].weight
	for _, i := range list {
		w := infos[i].weight
		minW, maxW = min(minW, w), max(maxW, w)
	}
	if maxW == 0 {
		// TarsGo divides by zero here; take the endpoints as equal.
		return nil
	}
	maxRange, total := 1, 1
	if minW > 0 {
		maxRange, total = min(max(maxW/minW, 10), 100), 0
	}

	// TarsGo breaks ties between equal weights by Endpoint.String, the
	// greater first; rank orders list by that key.
	keys := make([]string, len(list))
	var buf [128]byte
	for p, i := range list {
		keys[p] = string(appendTarsKey(buf[:0], &infos[i]))
	}
	byKey := make([]int, len(list))
	for p := range byKey {
		byKey[p] = p
	}
	slices.SortFunc(byKey, func(a, b int) int {
		if c := strings.Compare(keys[a], keys[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	rank := make([]int, len(list))
	for r, p := range byKey {
		rank[p] = r
	}

	scaled := make([]int, len(list))
	cache := make([]int32, 0, len(list))
	for p, i := range list {
		s := infos[i].weight * maxRange / maxW
		scaled[p] = s
		if s <= 0 {
			cache = append(cache, i)
			continue
		}
		total += s
	}

	// Group the endpoints by scaled weight; members in descending key
	// order. In round t (from 0) an endpoint's current weight is
	// w*(t+1) - total*picks; the greatest is picked, ties to the greater
	// key. Within a group the members with the fewest picks lead, the
	// greatest key first, so a group's candidates come round in member
	// order and its value drops by total each time the turn wraps.
	var (
		ws      []int64   // scaled weight of each group
		members [][]int32 // positions in list
	)
	for r := len(byKey) - 1; r >= 0; r-- {
		p := byKey[r]
		s := int64(scaled[p])
		if s <= 0 {
			continue
		}
		g := slices.Index(ws, s)
		if g < 0 {
			ws = append(ws, s)
			members = append(members, nil)
			g = len(ws) - 1
		}
		members[g] = append(members[g], int32(p))
	}
	if len(ws) == 0 {
		return cache
	}
	seq := smoothSequence(ws, members, rank, total)
	cache = slices.Grow(cache, len(seq))
	for _, p := range seq {
		cache = append(cache, list[p])
	}
	return cache
}

// smoothSequence returns the positions picked in total rounds of TarsGo's
// smooth weighted sequence over groups of equal weight ws[g] with
// members[g] (positions, greatest key first); rank orders positions by key.
//
// A round picks the group whose candidate's current weight is greatest
// and, among equals, whose candidate has the greater key. The current
// weight is ws*(round+1) - total*wraps, wraps counting the times the
// group's turn has come round; the key a*round + b, with a = ws*R and
// b = rank - total*wraps*R for R above every rank, orders by weight then
// rank in one comparison. Each group is a line in the round, which only
// the picked group's b moves.
//
// Checking every group every round costs rounds*groups (up to 100 groups
// and 100 rounds per endpoint). Instead groups sorted by weight are cut
// into blocks; a block remembers its leading line and the first round
// another of its lines overtakes it, and is looked at again only then or
// when one of its groups is picked.
func smoothSequence(ws []int64, members [][]int32, rank []int, total int) []int32 {
	G := len(ws)
	R := int64(len(rank))
	order := make([]int, G) // groups by weight, so a block's lines are nearly parallel
	for g := range order {
		order[g] = g
	}
	slices.SortFunc(order, func(x, y int) int { return cmp.Compare(ws[x], ws[y]) })
	a := make([]int64, G)
	b := make([]int64, G)
	turn := make([]int, G)
	for k, g := range order {
		a[k] = ws[g] * R
		b[k] = int64(rank[members[g][0]])
	}
	B := 1
	for B*B < G {
		B++
	}
	nb := (G + B - 1) / B
	lead := make([]int, nb)    // the block's leading line
	until := make([]int64, nb) // the first round another line overtakes it
	t64 := int64(total)
	look := func(blk int, t int64) {
		lo, hi := blk*B, min(blk*B+B, G)
		w := lo
		for k := lo + 1; k < hi; k++ {
			if a[k]*t+b[k] > a[w]*t+b[w] {
				w = k
			}
		}
		// Line k > w (a faster one) overtakes w from round
		// (b[w]-b[k])/(a[k]-a[w]) + 1; that is before u when
		// b[w]-b[k] < (u-1)*(a[k]-a[w]), which spares most divisions.
		u := t64 + 1
		for k := lo; k < hi; k++ {
			if d := a[k] - a[w]; d > 0 && b[w]-b[k] < (u-1)*d {
				u = (b[w]-b[k])/d + 1
			}
		}
		lead[blk], until[blk] = w, u
	}
	for blk := range nb {
		look(blk, 1)
	}
	seq := make([]int32, 0, total)
	for t := int64(1); t <= t64; t++ {
		best, bk := -1, int64(0)
		for blk := range nb {
			if t >= until[blk] {
				look(blk, t)
			}
			w := lead[blk]
			if k := a[w]*t + b[w]; best < 0 || k > bk {
				best, bk = w, k
			}
		}
		m := members[order[best]]
		seq = append(seq, m[turn[best]])
		old := int64(rank[m[turn[best]]])
		if turn[best]++; turn[best] == len(m) {
			turn[best] = 0
			b[best] -= t64 * R
		}
		b[best] += int64(rank[m[turn[best]]]) - old
		look(best/B, t+1)
	}
	return seq
}
