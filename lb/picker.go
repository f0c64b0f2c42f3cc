package lb

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/gotars/tars/discovery"
)

// TARS returns the default balancer: TarsGo's choice for every call. A
// call with HashType ConsistentHash goes to the ketama ring, one with
// ModHash to TarsGo's modulo hash, any other call round robin from a
// random start — over the static-weight router cache when every endpoint
// has WeightType 1. The package doc gives the details and where it
// departs from TarsGo (same-host endpoints all take unhashed calls).
//
// The balancer remembers the ring points of the hosts its pickers hashed
// to lately (the package doc's Cost), so that the next picker need not
// compute them again; it is safe for concurrent use, and one balancer can
// serve many clients.
func TARS() Balancer { return &tarsBalancer{name: "tars", mode: byRequest} }

// ModHashBalancer returns a balancer that sends every hashed call, of
// either HashType, by TarsGo's modulo hash; calls without a hash go as
// TARS sends them, round robin.
func ModHashBalancer() Balancer { return &tarsBalancer{name: "mod_hash", mode: alwaysMod} }

// ConsistentHashBalancer returns a balancer that sends every hashed call,
// of either HashType, by the ketama ring TarsGo and TarsCpp use; calls
// without a hash go as TARS sends them, round robin.
func ConsistentHashBalancer() Balancer {
	return &tarsBalancer{name: "consistent_hash", mode: alwaysRing}
}

// RoundRobin returns a balancer that takes the endpoints in turn from a
// random start, ignoring weights and hashes. A skipped endpoint's turns go
// to the others in rotation.
func RoundRobin() Balancer { return rrBalancer{} }

// WeightedRoundRobin returns a balancer that takes the endpoints in the
// order of TARS's static-weight router cache, from a random start, using
// every endpoint's Weight whatever its WeightType (-1, not given, and
// anything above 100 count as 100). Hashes are ignored. A skipped
// endpoint's turns go to the others in proportion to their weights.
func WeightedRoundRobin() Balancer { return rrBalancer{weighted: true} }

// Random returns a balancer that picks endpoints uniformly at random,
// ignoring weights and hashes.
func Random() Balancer { return randomBalancer{} }

type rrBalancer struct{ weighted bool }

func (b rrBalancer) Name() string {
	if b.weighted {
		return "weighted_round_robin"
	}
	return "round_robin"
}

func (b rrBalancer) NewPicker(eps []discovery.Endpoint) Picker {
	p := &rrPicker{}
	if b.weighted {
		infos := newInfos(eps)
		p.init(len(eps), staticCache(tarsOrder(infos), infos))
	} else {
		p.init(len(eps), nil)
	}
	return p
}

// rrPicker is round robin, over the endpoints or over a router cache.
type rrPicker struct {
	n     uint64
	cache []int32 // the static-weight router cache; nil: every endpoint once
	_     [32]byte
	next  atomic.Uint64 // on a cache line of its own: every Pick writes it
	_     [56]byte
}

func (p *rrPicker) init(n int, cache []int32) {
	p.n, p.cache = uint64(n), cache
	if len(cache) > 0 {
		p.next.Store(rand.Uint64N(uint64(len(cache))))
	} else if n > 0 {
		p.next.Store(rand.Uint64N(uint64(n)))
	}
}

func (p *rrPicker) Pick(r *Request) int {
	if r == nil {
		return p.pick(nil)
	}
	return p.pick(r.Skip)
}

func (p *rrPicker) pick(skip func(int) bool) int {
	if p.n == 0 {
		return -1
	}
	c := p.next.Add(1)
	if p.cache != nil {
		i := int(p.cache[c%uint64(len(p.cache))])
		if skip == nil || !skip(i) {
			return i
		}
		// Draw cache slots at random: the skipped endpoint's share goes
		// to the others in proportion to their weights.
		for range 4 {
			if j := int(p.cache[rand.Uint64N(uint64(len(p.cache)))]); !skip(j) {
				return j
			}
		}
		return scan(int(p.n), skip)
	}
	n := p.n
	i := int(c % n)
	if skip == nil || !skip(i) {
		return i
	}
	if n == 1 {
		return -1
	}
	// Round c/n sends i's turn to the endpoint (c/n mod n-1)+1 places on,
	// so over n-1 rounds every other endpoint takes it once.
	if j := int((uint64(i) + 1 + (c/n)%(n-1)) % n); !skip(j) {
		return j
	}
	for range 3 {
		if j := int(rand.Uint64N(n)); !skip(j) {
			return j
		}
	}
	return scan(int(n), skip)
}

// scan returns the first endpoint not skipped from a random start, -1 when
// all are.
func scan(n int, skip func(int) bool) int {
	if n == 0 {
		return -1
	}
	s := rand.IntN(n)
	for k := range n {
		j := s + k
		if j >= n {
			j -= n
		}
		if !skip(j) {
			return j
		}
	}
	return -1
}

type randomBalancer struct{}

func (randomBalancer) Name() string { return "random" }

func (randomBalancer) NewPicker(eps []discovery.Endpoint) Picker {
	return randomPicker{n: len(eps)}
}

type randomPicker struct{ n int }

func (p randomPicker) Pick(r *Request) int {
	if p.n == 0 {
		return -1
	}
	i := rand.IntN(p.n)
	if r == nil || r.Skip == nil || !r.Skip(i) {
		return i
	}
	for range 3 {
		if j := rand.IntN(p.n); !r.Skip(j) {
			return j
		}
	}
	return scan(p.n, r.Skip)
}

// A tarsBalancer's mode says what a hashed call uses.
const (
	byRequest  = iota // the request's HashType
	alwaysMod         // modulo hash
	alwaysRing        // consistent hash
)

type tarsBalancer struct {
	name   string
	mode   int
	points pointCache // ring points of recently seen hosts, shared by this balancer's pickers
}

func (b *tarsBalancer) Name() string { return b.name }

func (b *tarsBalancer) NewPicker(eps []discovery.Endpoint) Picker {
	p := &tarsPicker{mode: b.mode, infos: newInfos(eps), points: &b.points}
	p.weighted = allStatic(p.infos)
	if p.weighted {
		p.rr.init(len(eps), staticCache(tarsOrder(p.infos), p.infos))
	} else {
		p.rr.init(len(eps), nil)
	}
	return p
}

// tarsPicker is TarsGo's endpointManager over one set. The hash tables are
// built on the first call that needs them.
type tarsPicker struct {
	rr       rrPicker
	mode     int
	weighted bool // every endpoint has WeightType 1
	infos    []epInfo
	points   *pointCache

	mu   sync.Mutex // serialises building mod and ring
	mod  atomic.Pointer[modTable]
	ring atomic.Pointer[ring]
}

// modTable is TarsGo's modhash selector.
type modTable struct {
	list  []int32 // host-deduped, TarsGo's order
	cache []int32 // static-weight router cache over list; nil unweighted
}

func (p *tarsPicker) Pick(r *Request) int {
	if r == nil {
		return p.rr.pick(nil)
	}
	t := r.HashType
	if t == ModHash || t == ConsistentHash {
		switch p.mode {
		case alwaysMod:
			t = ModHash
		case alwaysRing:
			t = ConsistentHash
		}
	}
	var i int
	switch t {
	case ConsistentHash:
		i = p.ringTable().pick(r.Hash, r.Skip)
	case ModHash:
		i = p.modTable().pick(r.Hash, r.Skip)
	default:
		return p.rr.pick(r.Skip)
	}
	if i < 0 {
		// Nothing to hash to (every weight 0, or the hashed endpoints
		// skipped): TarsGo picks at random; round robin spreads as well.
		return p.rr.pick(r.Skip)
	}
	return i
}

func (p *tarsPicker) ringTable() *ring {
	if r := p.ring.Load(); r != nil {
		return r
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if r := p.ring.Load(); r != nil {
		return r
	}
	r := buildRing(dedupeHosts(tarsOrder(p.infos), p.infos), p.infos, p.weighted, p.points)
	p.ring.Store(r)
	return r
}

func (p *tarsPicker) modTable() *modTable {
	if m := p.mod.Load(); m != nil {
		return m
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if m := p.mod.Load(); m != nil {
		return m
	}
	m := &modTable{list: dedupeHosts(tarsOrder(p.infos), p.infos)}
	if p.weighted {
		m.cache = staticCache(m.list, p.infos)
	}
	p.mod.Store(m)
	return m
}

// pick is TarsGo's ModHash.Select. A skipped endpoint's codes go to the
// (code % live)-th live endpoint of the list (unweighted) or to the next
// live slot of the cache (weighted); other codes stay where they are.
func (m *modTable) pick(code uint32, skip func(int) bool) int {
	if m.cache != nil {
		k := int(code % uint32(len(m.cache)))
		i := int(m.cache[k])
		if skip == nil || !skip(i) {
			return i
		}
		last := i
		for range len(m.cache) - 1 {
			if k++; k == len(m.cache) {
				k = 0
			}
			j := int(m.cache[k])
			if j == i || j == last {
				continue
			}
			if !skip(j) {
				return j
			}
			last = j
		}
		return -1
	}
	if len(m.list) == 0 {
		return -1
	}
	i := int(m.list[code%uint32(len(m.list))])
	if skip == nil || !skip(i) {
		return i
	}
	live := 0
	for _, j := range m.list {
		if !skip(int(j)) {
			live++
		}
	}
	if live == 0 {
		return -1
	}
	want := int(code % uint32(live))
	for _, j := range m.list {
		if !skip(int(j)) {
			if want == 0 {
				return int(j)
			}
			want--
		}
	}
	return -1
}
