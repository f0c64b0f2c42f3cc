package lb_test

import (
	"context"
	"fmt"

	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/lb"
	"github.com/gotars/tars/transport"
)

func endpoints(hosts ...string) []discovery.Endpoint {
	eps := make([]discovery.Endpoint, len(hosts))
	for i, h := range hosts {
		eps[i] = discovery.FromAddress(transport.Address{Network: "tcp", Host: h, Port: 10000, Weight: -1})
	}
	return eps
}

// A picker on its own: which backend does each user's hashed call go to?
// TarsGo v1.4.6 picks the same hosts for the same codes.
func ExampleTARS() {
	eps := endpoints("10.0.0.1", "10.0.0.2", "10.0.0.3")
	p := lb.TARS().NewPicker(eps)
	for _, user := range []string{"alice", "bob", "carol", "dave"} {
		i := p.Pick(&lb.Request{HashType: lb.ConsistentHash, Hash: lb.HashNew(user)})
		fmt.Println(user, "->", eps[i].Host)
	}
	// Output:
	// alice -> 10.0.0.3
	// bob -> 10.0.0.2
	// carol -> 10.0.0.3
	// dave -> 10.0.0.3
}

// Skip keeps calls off endpoints that must not be called; their share goes
// to all the others.
func ExampleRoundRobin() {
	eps := endpoints("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4")
	p := lb.RoundRobin().NewPicker(eps)
	down := func(i int) bool { return eps[i].Host == "10.0.0.2" }
	counts := map[string]int{}
	for range 3000 {
		counts[eps[p.Pick(&lb.Request{Skip: down})].Host]++
	}
	fmt.Println(counts)
	// Output:
	// map[10.0.0.1:1000 10.0.0.3:1000 10.0.0.4:1000]
}

// TARS's static weight. Weights are scaled as TARS scales them: 80 and 20
// become 10 and 2 (maxRange = clamp(80/20, 10, 100) = 10, 20*10/80 = 2), so
// a cycle of the router cache is 12 calls, 10 to one and 2 to the other.
func ExampleWeightedRoundRobin() {
	eps := endpoints("10.0.0.1", "10.0.0.2")
	eps[0].Weight, eps[0].WeightType = 80, 1
	eps[1].Weight, eps[1].WeightType = 20, 1
	p := lb.WeightedRoundRobin().NewPicker(eps)
	counts := map[string]int{}
	for range 1200 {
		counts[eps[p.Pick(nil)].Host]++
	}
	fmt.Println(counts)
	// Output:
	// map[10.0.0.1:1000 10.0.0.2:200]
}

// The hash of a call travels on its context, as TarsGo's
// current.SetClientHash does.
func ExampleWithHash() {
	ctx := lb.WithHash(context.Background(), lb.ModHash, lb.HashNew("order-1234"))
	ht, code := lb.HashFromContext(ctx)
	eps := endpoints("10.0.0.1", "10.0.0.2", "10.0.0.3")
	i := lb.TARS().NewPicker(eps).Pick(&lb.Request{HashType: ht, Hash: code})
	fmt.Println(ht, eps[i].Host)
	// Output:
	// ModHash 10.0.0.2
}
