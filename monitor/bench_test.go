package monitor_test

import (
	"context"
	"net"
	"testing"

	"github.com/gotars/tars"
	"github.com/gotars/tars/monitor"
)

// BenchmarkStatMiddleware measures what the stat middleware adds to a call
// (timing, classifying, aggregating), without the network, from parallel
// callers over 8 methods.
func BenchmarkStatMiddleware(b *testing.B) {
	stat := startStatServer(b)
	r, err := monitor.NewStatReporter(stat.statClient(b), monitor.StatOptions{Identity: monitor.Identity{App: "A", Server: "S"}})
	if err != nil {
		b.Fatal(err)
	}
	methods := []string{"m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7"}
	peer := &net.TCPAddr{IP: net.IPv4(10, 0, 0, 9), Port: 10000}
	for _, side := range []struct {
		name   string
		server bool
	}{{"client", false}, {"server", true}} {
		b.Run(side.name, func(b *testing.B) {
			inv := r.Middleware(func(context.Context, *tars.Call) error { return nil })
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				i := 0
				for pb.Next() {
					call := tars.Call{Servant: "B.T.Obj", Method: methods[i%len(methods)], Server: side.server, Peer: peer}
					_ = inv(ctx, &call)
					i++
				}
			})
		})
	}
}

// BenchmarkStatRoundTrip measures loopback calls from parallel callers
// without and with the stat middleware on both sides: what reporting
// costs a call end to end.
func BenchmarkStatRoundTrip(b *testing.B) {
	stat := startStatServer(b)
	for _, withStats := range []bool{false, true} {
		name := "plain"
		if withStats {
			name = "stats"
		}
		b.Run(name, func(b *testing.B) {
			var opts []tars.Option
			if withStats {
				r, err := monitor.NewStatReporter(stat.statClient(b), monitor.StatOptions{Identity: monitor.Identity{App: "Test", Server: "EchoServer"}})
				if err != nil {
					b.Fatal(err)
				}
				opts = append(opts, tars.WithMiddleware(r.Middleware))
			}
			srvOpts := make([]tars.ServerOption, len(opts))
			cltOpts := make([]tars.ClientOption, len(opts))
			for i, o := range opts {
				srvOpts[i], cltOpts[i] = o, o
			}
			srv := tars.NewServer(srvOpts...)
			handleEcho(srv, nil)
			c := newClient(b, object(echoServant, serve(b, srv)), cltOpts...)
			ctx := context.Background()
			b.ReportAllocs()
			b.SetParallelism(32) // 64 callers on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := echoOK.Call(ctx, c, textArgs{S: "hello"}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
