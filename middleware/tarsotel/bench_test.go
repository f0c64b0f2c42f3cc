package tarsotel_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/middleware/tarsotel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// cpuTime returns the process's user and system CPU time so far, in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// discard is a span exporter that drops what it is given.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// BenchmarkOverhead measures getUser over loopback, a gotars client and
// server in one process, with the middleware on both sides in three modes:
//
//   - base: no middleware;
//   - noop: NewMiddleware with no providers;
//   - metrics: the SDK's meter provider (both histograms, a manual reader);
//   - otel-1pct: metrics, and the SDK's tracer provider sampling 1% of the
//     traces (ParentBased(TraceIDRatioBased(0.01))), spans batched to an
//     exporter that drops them;
//   - otel: the same with every span sampled (AlwaysSample).
//
// Each mode runs on client and server.
//
// Compare the modes with benchstat; calls/s is 1e9 / (ns/op). cpu-ns/op is
// the process's CPU time (user and system) per call.
func BenchmarkOverhead(b *testing.B) {
	otel := func(sampler sdktrace.Sampler, traces, metrics bool) func(b *testing.B) []tarsotel.Option {
		return func(b *testing.B) []tarsotel.Option {
			var opts []tarsotel.Option
			if traces {
				tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithBatcher(discard{}))
				b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
				opts = append(opts, tarsotel.WithTracerProvider(tp))
			}
			if metrics {
				mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
				b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
				opts = append(opts, tarsotel.WithMeterProvider(mp))
			}
			return opts
		}
	}
	modes := []struct {
		name string
		opts func(b *testing.B) []tarsotel.Option
	}{
		{"base", nil},
		{"noop", func(*testing.B) []tarsotel.Option { return nil }},
		{"metrics", otel(nil, false, true)},
		{"otel-1pct", otel(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.01)), true, true)},
		{"otel", otel(sdktrace.AlwaysSample(), true, true)},
	}
	for _, callers := range []int{1, 64} {
		for _, mode := range modes {
			b.Run(fmt.Sprintf("callers=%d/mode=%s", callers, mode.name), func(b *testing.B) {
				var sopts []tars.ServerOption
				var copts []tars.ClientOption
				if mode.opts != nil {
					mw := middleware(b, mode.opts(b)...)
					sopts = append(sopts, tars.WithMiddleware(mw))
					copts = append(copts, tars.WithMiddleware(mw))
				}
				_, c := serve(b, getUser, sopts, copts...)
				if _, err := userapi.GetUser.Call(context.Background(), c, userapi.UserIDArgs{UserID: idOK}); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.SetParallelism((callers + 1) / 2) // GOMAXPROCS is 2 here; SetParallelism multiplies it
				cpu0 := cpuTime()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					ctx := context.Background()
					for pb.Next() {
						if _, err := userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: idOK}); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.StopTimer()
				// CPU time per call, both sides: what bounds calls/s once the
				// callers keep every core busy, and steadier than wall time
				// on a shared machine.
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}
