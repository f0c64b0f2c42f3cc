package tarsotel_test

import (
	"context"
	"testing"

	"github.com/gotars/tars"
	"github.com/gotars/tars/middleware/tarsotel"
	"go.opentelemetry.io/otel/trace"
)

// FuzzServerStatus feeds whatever a caller may put in the request's status
// map to a server middleware: it must never panic, and the server span is
// either the child of a valid remote span context or a root.
func FuzzServerStatus(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "congo=t61rcWkgMzE", "tenant=acme")
	f.Add("00-00000000000000000000000000000000-0000000000000000-00", "", "")
	f.Add("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ",,,=", "a=%zz;;;")
	f.Add("", "", "k="+string(make([]byte, 9000)))
	f.Fuzz(func(t *testing.T, traceparent, tracestate, bag string) {
		p := newPipeline(t)
		mw := middleware(t, tarsotel.WithTracerProvider(p.tp), tarsotel.WithMeterProvider(p.mp))
		call := &tars.Call{Servant: "App.Server.Obj", Method: "m", Server: true,
			Status: map[string]string{"traceparent": traceparent, "tracestate": tracestate, "baggage": bag}}
		var seen trace.SpanContext
		err := mw(func(ctx context.Context, call *tars.Call) error {
			seen = trace.SpanContextFromContext(ctx)
			return nil
		})(context.Background(), call)
		if err != nil {
			t.Fatal(err)
		}
		spans := p.rec.Ended()
		if len(spans) != 1 || !seen.IsValid() || spans[0].SpanContext().SpanID() != seen.SpanID() {
			t.Fatalf("%d spans; handler saw %v", len(spans), seen)
		}
		if parent := spans[0].Parent(); parent.IsValid() && (!parent.IsRemote() || parent.TraceID() != seen.TraceID()) {
			t.Errorf("parent %v of span %v", parent, seen)
		}
	})
}
