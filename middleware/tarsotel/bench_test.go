package tarsotel_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/middleware/tarsotel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// discard is a span exporter that drops what it is given.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// BenchmarkOverhead measures getUser over loopback, a gotars client and
// server in one process, with the middleware on both sides in three modes:
//
//   - base: no middleware;
//   - noop: NewMiddleware with no providers;
//   - otel: the SDK's tracer provider (every span sampled, batched to an
//     exporter that drops them) and meter provider (both histograms, a
//     manual reader), on client and server.
//
// Compare the modes with benchstat; calls/s is 1e9 / (ns/op).
func BenchmarkOverhead(b *testing.B) {
	modes := []struct {
		name string
		opts func(b *testing.B) []tarsotel.Option
	}{
		{"base", nil},
		{"noop", func(*testing.B) []tarsotel.Option { return nil }},
		{"otel", func(b *testing.B) []tarsotel.Option {
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()),
				sdktrace.WithBatcher(discard{}))
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			b.Cleanup(func() {
				_ = tp.Shutdown(context.Background())
				_ = mp.Shutdown(context.Background())
			})
			return []tarsotel.Option{tarsotel.WithTracerProvider(tp), tarsotel.WithMeterProvider(mp)}
		}},
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
			})
		}
	}
}
