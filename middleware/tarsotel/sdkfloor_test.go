package tarsotel_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// BenchmarkSDKFloor measures what the OpenTelemetry SDK alone costs for
// one traced call, without gotars: a client span and a server span with
// the attributes tarsotel sets, the W3C context injected into a map and
// extracted from it, every span sampled and batched to an exporter that
// drops them (spans+propagation; spans: the two spans alone) — the floor
// under BenchmarkOverhead's otel mode. Compare its cpu-ns/op and allocs/op
// with BenchmarkOverhead's base mode (a whole getUser over loopback, both
// sides): the issue's ≤ 15% and ≤ 8 allocations.
//
//	go test -run '^$' -bench SDKFloor -benchmem .
func BenchmarkSDKFloor(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithBatcher(discard{}))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tr := tp.Tracer("bench")
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	attrs := []attribute.KeyValue{
		attribute.String("rpc.system.name", "tars"), semconv.RPCMethod("UserService.UserServiceObj/getUser"),
		semconv.ServerAddress("127.0.0.1"), semconv.ServerPort(18015),
	}
	for _, propagate := range []bool{false, true} {
		name := "spans"
		if propagate {
			name = "spans+propagation"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					ctx, cs := tr.Start(context.Background(), "UserService.UserServiceObj/getUser",
						trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
					sctx := ctx
					if propagate {
						carrier := propagation.MapCarrier{}
						prop.Inject(ctx, carrier)
						sctx = prop.Extract(context.Background(), carrier)
					}
					_, ss := tr.Start(sctx, "UserService.UserServiceObj/getUser",
						trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
					ss.SetAttributes(attribute.Int("rpc.response.status_code", 0))
					ss.End()
					cs.SetAttributes(attribute.Int("rpc.response.status_code", 0))
					cs.End()
				}
			})
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
