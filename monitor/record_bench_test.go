package monitor_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/monitor"
	"github.com/gotars/tars/tarstest"
)

// benchReporter returns a reporter whose reports would go to a stat server
// nobody listens at; the benchmarks never run it, so nothing is sent.
func benchReporter(b *testing.B) *monitor.StatReporter {
	b.Helper()
	c := newClient(b, monitor.StatObj+"@tcp -h 127.0.0.1 -p 1 -t 100")
	r, err := monitor.NewStatReporter(c, monitor.StatOptions{
		Identity: monitor.Identity{App: "Demo", Server: "UserServer", LocalIP: "10.0.0.7"},
	})
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// reportCPU reports the process's CPU time per op since start as
// cpu-ns/op, when it can be read: what the calls cost the cores, spinning
// on contended locks included, however many other processes share them
// (ns/op, wall time, grows with them).
func reportCPU(b *testing.B, start time.Duration) {
	if start == 0 {
		return
	}
	b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
}

// benchCalls returns calls of methods × peers distinct heads: methods
// methods of one servant called at peers endpoints (a client's heads), or
// served to peers callers (a server's heads: one per method).
func benchCalls(server bool, methods, peers int) []tars.Call {
	calls := make([]tars.Call, 0, methods*peers)
	for m := range methods {
		for p := range peers {
			calls = append(calls, tars.Call{
				Servant: "Demo.OrderServer.OrderObj", Method: fmt.Sprintf("method%02d", m), Server: server,
				Peer: &net.TCPAddr{IP: net.IPv4(10, 0, 1, byte(p+1)), Port: 10000 + p},
			})
		}
	}
	return calls
}

// BenchmarkStatRecord measures what the stat middleware adds to a call —
// timing it, classifying it and adding it to its head — around a handler
// that does nothing, on both sides, with one head and with many (50
// methods at 8 endpoints: 400 client heads, 50 server heads), from one
// goroutine (serial) and from GOMAXPROCS goroutines (parallel):
//
//	go test -run '^$' -bench StatRecord -benchmem -cpu 1,2 ./monitor/
func BenchmarkStatRecord(b *testing.B) {
	for _, side := range []struct {
		name   string
		server bool
	}{{"client", false}, {"server", true}} {
		for _, shape := range []struct {
			name           string
			methods, peers int
		}{{"heads=1", 1, 1}, {"heads=50x8", 50, 8}} {
			b.Run(side.name+"/"+shape.name+"/serial", func(b *testing.B) {
				inv := benchReporter(b).Middleware(func(context.Context, *tars.Call) error { return nil })
				calls := benchCalls(side.server, shape.methods, shape.peers)
				ctx := context.Background()
				b.ReportAllocs()
				cpu := processCPU()
				i := 0
				for b.Loop() {
					_ = inv(ctx, &calls[i%len(calls)])
					i++
				}
				reportCPU(b, cpu)
			})
			b.Run(side.name+"/"+shape.name+"/parallel", func(b *testing.B) {
				inv := benchReporter(b).Middleware(func(context.Context, *tars.Call) error { return nil })
				ctx := context.Background()
				b.ReportAllocs()
				cpu := processCPU()
				b.RunParallel(func(pb *testing.PB) {
					calls := benchCalls(side.server, shape.methods, shape.peers)
					i := 0
					for pb.Next() {
						_ = inv(ctx, &calls[i%len(calls)])
						i++
					}
				})
				reportCPU(b, cpu)
			})
		}
	}
}

// BenchmarkPropertyReport measures Property.Report, for a property with
// every policy (Distr of 6 bounds), from one goroutine and from GOMAXPROCS
// goroutines reporting to the same property:
//
//	go test -run '^$' -bench PropertyReport -benchmem -cpu 1,2 ./monitor/
func BenchmarkPropertyReport(b *testing.B) {
	newProp := func(b *testing.B) *monitor.Property {
		c := newClient(b, monitor.PropertyObj+"@tcp -h 127.0.0.1 -p 1 -t 100")
		r, err := monitor.NewPropertyReporter(c, monitor.PropertyOptions{Identity: monitor.Identity{App: "Demo", Server: "UserServer"}})
		if err != nil {
			b.Fatal(err)
		}
		p, err := r.Property("latency", monitor.Sum(), monitor.Avg(), monitor.Distr(0, 10, 50, 100, 500, 1000), monitor.Max(), monitor.Min(), monitor.Count())
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	b.Run("serial", func(b *testing.B) {
		p := newProp(b)
		b.ReportAllocs()
		cpu := processCPU()
		var v int64
		for b.Loop() {
			p.Report(v % 1200)
			v++
		}
		reportCPU(b, cpu)
	})
	b.Run("parallel", func(b *testing.B) {
		p := newProp(b)
		b.ReportAllocs()
		cpu := processCPU()
		b.RunParallel(func(pb *testing.PB) {
			var v int64
			for pb.Next() {
				p.Report(v % 1200)
				v++
			}
		})
		reportCPU(b, cpu)
	})
}

// BenchmarkStatInMemory measures what the stat middleware adds to a served
// call end to end — over in-memory connections (tarstest), so that the
// network does not hide it, as app's BenchmarkServerChain does — from one
// caller (serial) and from GOMAXPROCS callers (parallel), without the
// middleware (plain) and with it (stats):
//
//	go test -run '^$' -bench StatInMemory -benchmem -cpu 1,2 ./monitor/
func BenchmarkStatInMemory(b *testing.B) {
	for _, withStats := range []bool{false, true} {
		name := "plain"
		if withStats {
			name = "stats"
		}
		for _, parallel := range []bool{false, true} {
			mode := "serial"
			if parallel {
				mode = "parallel"
			}
			b.Run(name+"/"+mode, func(b *testing.B) {
				var opts []tars.ServerOption
				if withStats {
					opts = append(opts, tars.WithMiddleware(benchReporter(b).Middleware))
				}
				srv := tars.NewServer(opts...)
				handleEcho(srv, nil)
				c, err := tarstest.NewClient(srv, echoServant)
				if err != nil {
					b.Fatal(err)
				}
				defer func() {
					c.Close()
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					if err := srv.Shutdown(ctx); err != nil {
						b.Error(err)
					}
				}()
				ctx := context.Background()
				b.ReportAllocs()
				cpu := processCPU()
				if !parallel {
					for b.Loop() {
						if _, err := echoOK.Call(ctx, c, textArgs{S: "x"}); err != nil {
							b.Fatal(err)
						}
					}
					reportCPU(b, cpu)
					return
				}
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := echoOK.Call(ctx, c, textArgs{S: "x"}); err != nil {
							b.Error(err)
							return
						}
					}
				})
				reportCPU(b, cpu)
			})
		}
	}
}
