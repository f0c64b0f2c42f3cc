package interop

// lb's pickers and TarsGo v1.4.6's selectors in the same run:
//
//	go test -run '^$' -bench LB -benchmem .

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/TarsCloud/TarsGo/tars/selector"
	"github.com/TarsCloud/TarsGo/tars/selector/consistenthash"
	"github.com/TarsCloud/TarsGo/tars/selector/modhash"
	"github.com/TarsCloud/TarsGo/tars/selector/roundrobin"

	"github.com/gotars/tars/lb"
)

// BenchmarkLBPick: one pick over 50 endpoints.
func BenchmarkLBPick(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	eps := lbEndpoints(r, 50, 1, lbUnweighted)
	set, _ := lbTarsGoSet(b, eps)
	rr := roundrobin.New(false)
	rr.Refresh(set.sorted)
	ch := consistenthash.New(false, consistenthash.KetamaHash)
	ch.Refresh(set.sorted)
	mh := modhash.New(false)
	mh.Refresh(set.sorted)
	p := lb.TARS().NewPicker(eps)
	for _, bm := range []struct {
		name  string
		typ   lb.HashType
		sel   selector.Selector
		tarsT selector.HashType
	}{
		{"RoundRobin", lb.NoHash, rr, selector.ModHash},
		{"ConsistentHash", lb.ConsistentHash, ch, selector.ConsistentHash},
		{"ModHash", lb.ModHash, mh, selector.ModHash},
	} {
		b.Run(bm.name+"/gotars", func(b *testing.B) {
			req := lb.Request{HashType: bm.typ}
			p.Pick(&req)
			b.ReportAllocs()
			h := uint32(1)
			for b.Loop() {
				h = h*1664525 + 1013904223
				req.Hash = h
				p.Pick(&req)
			}
		})
		b.Run(bm.name+"/tarsgo", func(b *testing.B) {
			b.ReportAllocs()
			h := uint32(1)
			for b.Loop() {
				h = h*1664525 + 1013904223
				bm.sel.Select(hashMsg{h, bm.tarsT})
			}
		})
	}
}

// BenchmarkLBUpdate: taking a new set of n endpoints, and for the ring its
// first hashed pick (lb builds its ring then, from the md5s its balancer
// remembers; -cold with a new balancer). TarsGo's endpointManager builds
// round robin, ring and modhash on every update.
func BenchmarkLBUpdate(b *testing.B) {
	for _, n := range []int{50, 1000} {
		r := rand.New(rand.NewPCG(2, uint64(n)))
		eps := lbEndpoints(r, n, 1, lbUnweighted)
		set, _ := lbTarsGoSet(b, eps)
		b.Run(fmt.Sprintf("RoundRobin/%d/gotars", n), func(b *testing.B) {
			bal := lb.TARS()
			b.ReportAllocs()
			for b.Loop() {
				bal.NewPicker(eps).Pick(nil)
			}
		})
		b.Run(fmt.Sprintf("RoundRobin/%d/tarsgo", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				roundrobin.New(false).Refresh(set.sorted)
			}
		})
		b.Run(fmt.Sprintf("ConsistentHash/%d/gotars", n), func(b *testing.B) {
			bal := lb.TARS()
			req := &lb.Request{HashType: lb.ConsistentHash, Hash: 1}
			bal.NewPicker(eps).Pick(req)
			b.ReportAllocs()
			for b.Loop() {
				bal.NewPicker(eps).Pick(req)
			}
		})
		b.Run(fmt.Sprintf("ConsistentHash/%d/gotars-cold", n), func(b *testing.B) {
			req := &lb.Request{HashType: lb.ConsistentHash, Hash: 1}
			b.ReportAllocs()
			for b.Loop() {
				lb.TARS().NewPicker(eps).Pick(req) // a new balancer: every host's md5s again
			}
		})
		b.Run(fmt.Sprintf("ConsistentHash/%d/tarsgo", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				consistenthash.New(false, consistenthash.KetamaHash).Refresh(set.sorted)
			}
		})
	}
}
