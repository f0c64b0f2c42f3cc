package tarsregistry_test

import (
	"context"
	"fmt"
	"net"
	"testing"

	"github.com/gotars/tars"
	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/discovery/tarsregistry"
)

// A resolver asks the registry named by the locator and publishes the
// servant's endpoints. Here the registry is served by gotars itself, from
// the QueryF declarations of this package.
func ExampleResolver() {
	// A registry listing two endpoints of Demo.HelloServer.HelloObj.
	reg := tars.NewServer()
	tars.Handle(reg, tarsregistry.QueryObj, tarsregistry.FindObjectByIDInSameGroup,
		func(ctx context.Context, a tarsregistry.IDArgs) (tarsregistry.Lists, error) {
			return tarsregistry.Lists{Active: []tarsregistry.EndpointF{
				{Host: "10.0.0.2", Port: 10001, Timeout: 3000, IsTCP: tarsregistry.IsTCP},
				{Host: "10.0.0.1", Port: 10001, Timeout: 3000, IsTCP: tarsregistry.IsTCP, NodeName: "node-1"},
			}}, nil
		})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go reg.Serve(ln)
	defer reg.Shutdown(context.Background())

	locator := fmt.Sprintf("tars.tarsregistry.QueryObj@tcp -h 127.0.0.1 -p %d", ln.Addr().(*net.TCPAddr).Port)
	res, err := tarsregistry.New(locator, tarsregistry.WithNodeName("10.0.0.9"))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res.Watch(ctx, discovery.Target{Servant: "Demo.HelloServer.HelloObj"}, func(s discovery.State) {
		for _, e := range s.Endpoints {
			fmt.Println(e.Address, e.NodeName)
		}
		cancel() // one state is enough here; a client keeps watching
	})
	// Output:
	// tcp -h 10.0.0.1 -p 10001 -t 3000 -w 0 node-1
	// tcp -h 10.0.0.2 -p 10001 -t 3000 -w 0
}

// BenchmarkApply1000 measures what a resolver does with a 1,000-endpoint
// answer before publishing it: mapping and normalizing.
func BenchmarkApply1000(b *testing.B) {
	fs := make([]tarsregistry.EndpointF, 1000)
	for i := range fs {
		fs[i] = tarsregistry.EndpointF{Host: fmt.Sprintf("10.0.%d.%d", i/256, i%256), Port: int32(10000 + i), Timeout: 3000, IsTCP: 1, Weight: 10, WeightType: 1}
	}
	b.ReportAllocs()
	for b.Loop() {
		eps := make([]discovery.Endpoint, len(fs))
		for i, f := range fs {
			eps[i] = tarsregistry.ToEndpoint(f)
		}
		discovery.Normalize(eps)
	}
}
