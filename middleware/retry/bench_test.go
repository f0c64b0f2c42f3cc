package retry_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/middleware/retry"
)

// BenchmarkTail measures the caller's latency percentiles with three
// backends, one of them slowed to a 200 ms p99 (5% of its calls take
// 200 ms), without and with backup requests (at the observed p95), against
// three healthy backends. 8 callers; p50, p99 and max are reported.
//
//	go test -run '^$' -bench Tail -benchtime 2000x ./middleware/retry/
func BenchmarkTail(b *testing.B) {
	cases := []struct {
		name  string
		slow  bool
		hedge bool
	}{{"healthy", false, false}, {"slow", true, false}, {"slow+hedge", true, true}}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			bs, obj := startBackends(b, 3)
			if bc.slow {
				bs[0].set(func(ctx context.Context, _ int32) (int32, error) {
					if rand.IntN(100) < 5 {
						time.Sleep(200 * time.Millisecond)
					}
					return 0, nil
				})
			}
			var opts []tars.ClientOption
			if bc.hedge {
				mw, err := retry.Hedge(retry.HedgePolicy{Percentile: 0.95, MinSamples: 100})
				if err != nil {
					b.Fatal(err)
				}
				opts = append(opts, tars.WithMiddleware(mw))
			}
			c, err := tars.NewClient(obj, opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			// Warm up: connections, and the hedger's observed window.
			for range 300 {
				Get.Call(context.Background(), c, Args{})
			}
			var mu sync.Mutex
			var lat []time.Duration
			var wg sync.WaitGroup
			per := max(b.N/8, 1)
			b.ResetTimer()
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					mine := make([]time.Duration, 0, per)
					for range per {
						start := time.Now()
						if _, err := Get.Call(context.Background(), c, Args{}); err != nil {
							b.Error(err)
							return
						}
						mine = append(mine, time.Since(start))
					}
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				}()
			}
			wg.Wait()
			b.StopTimer()
			slices.Sort(lat)
			q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
			b.ReportMetric(q(0.5), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
			b.ReportMetric(float64(lat[len(lat)-1])/1e6, "max-ms")
		})
	}
}
