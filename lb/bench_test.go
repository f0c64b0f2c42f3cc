package lb

import (
	"fmt"
	"testing"

	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/transport"
)

// benchEndpoints returns n endpoints on distinct hosts, weighted (WeightType
// 1, weights 1..100) or not.
func benchEndpoints(n int, weighted bool) []discovery.Endpoint {
	eps := make([]discovery.Endpoint, n)
	for i := range eps {
		a := transport.Address{Network: "tcp", Host: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), Port: 10000 + i%7, Weight: -1}
		if weighted {
			a.Weight, a.WeightType = 1+i*37%100, 1
		}
		eps[i] = discovery.FromAddress(a)
	}
	return eps
}

func benchPick(b *testing.B, bal Balancer, n int, r Request, vary bool) {
	p := bal.NewPicker(benchEndpoints(n, false))
	p.Pick(&r) // builds the hash tables
	b.ReportAllocs()
	b.ResetTimer()
	h := uint32(2654435761)
	for i := 0; i < b.N; i++ {
		if vary {
			h = h*1664525 + 1013904223
			r.Hash = h
		}
		if p.Pick(&r) < 0 {
			b.Fatal("no pick")
		}
	}
}

func BenchmarkPick(b *testing.B) {
	skipOne := func(i int) bool { return i == 7 }
	for _, bm := range []struct {
		name string
		bal  Balancer
		r    Request
		vary bool
	}{
		{"RoundRobin", RoundRobin(), Request{}, false},
		{"RoundRobin/skip1", RoundRobin(), Request{Skip: skipOne}, false},
		{"Random", Random(), Request{}, false},
		{"WeightedRoundRobin", WeightedRoundRobin(), Request{}, false},
		{"TARS/nohash", TARS(), Request{}, false},
		{"TARS/consistent", TARS(), Request{HashType: ConsistentHash}, true},
		{"TARS/consistent/skip1", TARS(), Request{HashType: ConsistentHash, Skip: skipOne}, true},
		{"TARS/mod", TARS(), Request{HashType: ModHash}, true},
	} {
		b.Run(bm.name+"/50", func(b *testing.B) { benchPick(b, bm.bal, 50, bm.r, bm.vary) })
	}
}

func BenchmarkPickParallel(b *testing.B) {
	for _, bm := range []struct {
		name string
		bal  Balancer
		r    Request
	}{
		{"RoundRobin", RoundRobin(), Request{}},
		{"TARS/consistent", TARS(), Request{HashType: ConsistentHash}},
	} {
		b.Run(bm.name+"/50", func(b *testing.B) {
			p := bm.bal.NewPicker(benchEndpoints(50, false))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := bm.r
				h := uint32(1)
				for pb.Next() {
					h = h*1664525 + 1013904223
					r.Hash = h
					p.Pick(&r)
				}
			})
		})
	}
}

// BenchmarkNewPicker measures applying an endpoint set: NewPicker, and for
// the hashed cases the first hashed Pick that builds the tables.
func BenchmarkNewPicker(b *testing.B) {
	for _, n := range []int{50, 1000} {
		for _, bm := range []struct {
			name     string
			bal      func() Balancer
			weighted bool
			r        *Request
			fresh    bool // a new balancer every time: no remembered ring points
		}{
			{"RoundRobin", RoundRobin, false, nil, false},
			{"TARS", TARS, false, nil, false},
			{"TARS/weighted", TARS, true, nil, false},
			{"WeightedRoundRobin", WeightedRoundRobin, true, nil, false},
			{"TARS+mod", TARS, false, &Request{HashType: ModHash}, false},
			{"TARS+ring", TARS, false, &Request{HashType: ConsistentHash}, false},
			{"TARS+ring/cold", TARS, false, &Request{HashType: ConsistentHash}, true},
			{"TARS/weighted+ring", TARS, true, &Request{HashType: ConsistentHash}, false},
		} {
			b.Run(fmt.Sprintf("%s/%d", bm.name, n), func(b *testing.B) {
				eps := benchEndpoints(n, bm.weighted)
				bal := bm.bal()
				if bm.r != nil {
					bal.NewPicker(eps).Pick(bm.r)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if bm.fresh {
						bal = bm.bal()
					}
					p := bal.NewPicker(eps)
					if bm.r != nil {
						p.Pick(bm.r)
					}
				}
			})
		}
	}
}
