package lb

import (
	"crypto/md5"
	"slices"
	"strconv"
)

// virtualNodes is TarsGo's selector.ConHashVirtualNodes: ring points per
// host, 4 from each md5.
const virtualNodes = 100

// ring is the ketama ring: points ascending, owners[k] the endpoint index
// owning points[k]. Points are unique.
type ring struct {
	points []uint32
	owners []int32
	// start[b] is the first position whose point is >= b<<shift: the
	// search for a code looks only between start[code>>shift] and the
	// next bucket's start, a few points.
	start []int32
	shift uint
}

// ringNames is how many virtual names ("host_0", …) an endpoint gets, as
// TarsGo's ConsistentHash.weight: 25 unweighted; weighted, weight/4, at
// least 1, none for a weight of 0 or less.
func ringNames(e *epInfo, weighted bool) int {
	w := virtualNodes
	if weighted {
		w = e.weight
	}
	if w <= 0 {
		return 0
	}
	return max(w/4, 1)
}

// appendHostPoints appends the 4*names ring points of host: for each
// virtual name "host_i" the md5's four little-endian 32-bit words (TarsGo's
// KetamaHash, TarsCpp's E_TC_CONHASH_KETAMAHASH).
func appendHostPoints(dst []uint32, host string, names int) []uint32 {
	buf := make([]byte, 0, len(host)+8)
	buf = append(buf, host...)
	buf = append(buf, '_')
	for i := range names {
		p := md5.Sum(strconv.AppendInt(buf, int64(i), 10))
		for k := 0; k < 16; k += 4 {
			dst = append(dst, uint32(p[k])|uint32(p[k+1])<<8|uint32(p[k+2])<<16|uint32(p[k+3])<<24)
		}
	}
	return dst
}

// buildRing builds the ring over hosts (indices into infos, host-deduped,
// in TarsGo's order). Where two hosts share a point, the later host owns
// it: TarsGo's hashRing map keeps its last writer.
func buildRing(hosts []int32, infos []epInfo, weighted bool, points *pointCache) *ring {
	// Each entry is point<<32 | position in hosts, so sorting orders by
	// point and, for a shared point, puts its last writer last.
	n := 0
	for _, i := range hosts {
		n += 4 * ringNames(&infos[i], weighted)
	}
	points.reserve(len(hosts))
	all := make([]uint64, 0, n)
	var scratch []uint32
	for pos, i := range hosts {
		names := ringNames(&infos[i], weighted)
		if names == 0 {
			continue
		}
		pts := points.get(infos[i].host, names, &scratch)
		for _, pt := range pts {
			all = append(all, uint64(pt)<<32|uint64(pos))
		}
	}
	sortRing(all)
	r := &ring{points: make([]uint32, 0, len(all)), owners: make([]int32, 0, len(all))}
	for k, v := range all {
		if k+1 < len(all) && all[k+1]>>32 == v>>32 {
			continue // a later writer of the same point follows
		}
		r.points = append(r.points, uint32(v>>32))
		r.owners = append(r.owners, hosts[uint32(v)])
	}
	r.index()
	return r
}

// index builds start: about four points per bucket, at most 1<<16
// buckets.
func (r *ring) index() {
	bits := uint(1)
	for bits < 16 && 4<<bits < len(r.points) {
		bits++
	}
	r.shift = 32 - bits
	r.start = make([]int32, 1<<bits+1)
	k := 0
	for b := range 1 << bits {
		for k < len(r.points) && r.points[k]>>r.shift < uint32(b) {
			k++
		}
		r.start[b] = int32(k)
	}
	r.start[1<<bits] = int32(len(r.points))
}

// search returns the position of the first point >= code, wrapping to 0.
func (r *ring) search(code uint32) int {
	b := code >> r.shift
	lo, hi := int(r.start[b]), int(r.start[b+1])
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if r.points[mid] < code {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == len(r.points) {
		return 0
	}
	return lo
}

// pick returns the owner of the first point >= code; with skip, the owner
// of the first point from there on that is not skipped; -1 when every
// owner is skipped.
func (r *ring) pick(code uint32, skip func(int) bool) int {
	if len(r.points) == 0 {
		return -1
	}
	k := r.search(code)
	o := int(r.owners[k])
	if skip == nil || !skip(o) {
		return o
	}
	last := o
	for range len(r.points) - 1 {
		if k++; k == len(r.points) {
			k = 0
		}
		o = int(r.owners[k])
		if o == last {
			continue
		}
		if !skip(o) {
			return o
		}
		last = o
	}
	return -1
}

// sortRing sorts ring entries (point<<32 | position) by point, keeping
// entries of equal point in the order given: the caller appends them by
// ascending position, so the result is sorted by the whole value. Big
// inputs get a stable byte-wise radix sort on the point's four bytes.
func sortRing(s []uint64) {
	if len(s) < 4096 {
		slices.Sort(s)
		return
	}
	tmp := make([]uint64, len(s))
	src, dst := s, tmp
	for shift := uint(32); shift < 64; shift += 8 {
		var count [256]int
		for _, v := range src {
			count[byte(v>>shift)]++
		}
		if count[byte(src[0]>>shift)] == len(src) {
			continue // every key has this byte
		}
		sum := 0
		for b := range count {
			count[b], sum = sum, sum+count[b]
		}
		for _, v := range src {
			b := byte(v >> shift)
			dst[count[b]] = v
			count[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &s[0] {
		copy(s, src)
	}
}
