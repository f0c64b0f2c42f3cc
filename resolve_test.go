package tars

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/transport"
)

// thousand returns n endpoints on port 1 (closed) of distinct loopback
// hosts in 127.1/16, plus live: calls that pick one are refused at once
// and fail over, and nothing leaves the machine.
func thousand(n int, live discovery.Endpoint) []discovery.Endpoint {
	eps := make([]discovery.Endpoint, 0, n+1)
	for i := range n {
		eps = append(eps, discovery.FromAddress(transport.Address{Network: "tcp",
			Host: net.IPv4(127, 1, byte(i>>8), byte(i)).String(), Port: 1, Weight: -1}))
	}
	return append(eps, live)
}

// BenchmarkResolveUpdate1000 applies a 1,000-endpoint set to a client that
// already has one (half of the endpoints changed): issue 8's target is
// under 10 ms.
func BenchmarkResolveUpdate1000(b *testing.B) {
	c, err := NewClient("A.B.C", WithResolver(discovery.NewStatic()))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r := c.newResolution("")
	live := discovery.FromAddress(transport.Address{Network: "tcp", Host: "127.0.0.1", Port: 2, Weight: -1})
	a, z := thousand(1000, live), thousand(1000, live)
	for i := range 500 {
		z[i].Port = 3
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			r.apply(discovery.State{Endpoints: a})
		} else {
			r.apply(discovery.State{Endpoints: z})
		}
	}
}

// TestUpdatesDoNotBlockCalls: while a resolver publishes 1,000-endpoint
// sets over and over, calls to the one endpoint that answers keep being
// made and none waits on an update (a call held for a second would be one
// that did). How long an update takes is BenchmarkResolveUpdate1000's.
func TestUpdatesDoNotBlockCalls(t *testing.T) {
	srv := NewServer()
	ping := NewEndpoint[Void, Void](NewService("Upd"), "ping")
	Handle(srv, "Upd.S.Obj", ping, func(context.Context, Void) (Void, error) { return Void{}, nil })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	defer func() { srv.Shutdown(context.Background()); <-done }()
	live := discovery.FromAddress(transport.Address{Network: "tcp", Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Weight: -1})
	static := discovery.NewStatic(live)
	c, err := NewClient("Upd.S.Obj", WithResolver(static), WithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if _, err := ping.Call(ctx, c, Void{}); err != nil {
		t.Fatal(err)
	}
	var calls, slow atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				// The live endpoint is in every set; a call that picks one
				// of the other 1,000 (closed loopback ports) fails over.
				start := time.Now()
				if _, err := ping.Call(ctx, c, Void{}); err == nil {
					calls.Add(1)
				}
				if time.Since(start) > time.Second {
					slow.Add(1)
				}
			}
		})
	}
	big := thousand(1000, live)
	var worst time.Duration
	r := c.own.Load()
	for i := range 40 {
		start := time.Now()
		if i%2 == 0 {
			r.apply(discovery.State{Endpoints: []discovery.Endpoint{live}})
		} else {
			r.apply(discovery.State{Endpoints: big})
		}
		worst = max(worst, time.Since(start))
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if calls.Load() == 0 {
		t.Fatal("no call completed during the updates")
	}
	if n := slow.Load(); n > 0 {
		t.Errorf("%d calls were held a second during the updates", n)
	}
	t.Logf("%d calls during 40 updates; slowest update %v", calls.Load(), worst)
}
