package tarsotel_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/middleware/tarsotel"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/semconv/v1.43.0/rpcconv"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

const method = userapi.Servant + "/getUser"

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, a := range s.Attributes() {
		m[a.Key] = a.Value
	}
	return m
}

// spansOf returns the client and the server span the recorder holds.
func spansOf(t *testing.T, p *pipeline) (client, server sdktrace.ReadOnlySpan) {
	t.Helper()
	for _, s := range p.rec.Ended() {
		switch s.SpanKind() {
		case trace.SpanKindClient:
			client = s
		case trace.SpanKindServer:
			server = s
		}
	}
	if client == nil || server == nil {
		t.Fatalf("spans: %d ended, want a client and a server span", len(p.rec.Ended()))
	}
	return client, server
}

func TestSpans(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		id                     int32
		timeout                time.Duration
		code                   string
		clientFail, serverFail bool
	}{
		{"ok", idOK, 0, "0", false, false},
		{"service code", idNotFound, 0, "2", true, false},
		{"plain error", idBoom, 0, "-99", true, true},
		{"client deadline", idSlow, 50 * time.Millisecond, "-7", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPipeline(t)
			mw := middleware(t, tarsotel.WithTracerProvider(p.tp), tarsotel.WithMeterProvider(p.mp))
			_, c := serve(t, getUser, []tars.ServerOption{tars.WithMiddleware(mw)}, tars.WithMiddleware(mw))
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			_, err := userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: tc.id})
			if (err != nil) != tc.clientFail {
				t.Fatalf("call: %v, want failure %v", err, tc.clientFail)
			}
			// The server span ends when its handler returns; on a client
			// timeout that is after the client's span.
			deadline := time.Now().Add(5 * time.Second)
			for len(p.rec.Ended()) < 2 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			cs, ss := spansOf(t, p)

			if cs.Name() != method || ss.Name() != method {
				t.Errorf("names %q, %q; want %q", cs.Name(), ss.Name(), method)
			}
			if cs.SpanContext().TraceID() != ss.SpanContext().TraceID() {
				t.Errorf("two traces: client %s, server %s", cs.SpanContext().TraceID(), ss.SpanContext().TraceID())
			}
			if ss.Parent().SpanID() != cs.SpanContext().SpanID() || !ss.Parent().IsRemote() {
				t.Errorf("server parent %s (remote %v), want the client span %s", ss.Parent().SpanID(), ss.Parent().IsRemote(), cs.SpanContext().SpanID())
			}
			if cs.Parent().IsValid() {
				t.Errorf("client span has a parent %s", cs.Parent().SpanID())
			}
			ca, sa := attrs(cs), attrs(ss)
			for _, a := range []map[attribute.Key]attribute.Value{ca, sa} {
				if got := a["rpc.system.name"].AsString(); got != "tars" {
					t.Errorf("rpc.system.name %q", got)
				}
				if got := a["rpc.method"].AsString(); got != method {
					t.Errorf("rpc.method %q", got)
				}
			}
			if got := ca["rpc.response.status_code"].AsString(); got != tc.code {
				t.Errorf("client rpc.response.status_code %q, want %q", got, tc.code)
			}
			wantServer := tc.code
			if tc.id == idSlow {
				wantServer = "0" // the handler finished after the client gave up
			}
			if got := sa["rpc.response.status_code"].AsString(); got != wantServer {
				t.Errorf("server rpc.response.status_code %q, want %q", got, wantServer)
			}
			if got, ok := ca["error.type"]; ok != tc.clientFail || (ok && got.AsString() != tc.code) {
				t.Errorf("client error.type %v (%v), want %q (%v)", got.AsString(), ok, tc.code, tc.clientFail)
			}
			if _, ok := sa["error.type"]; ok != tc.serverFail {
				t.Errorf("server error.type present %v, want %v", ok, tc.serverFail)
			}
			if (cs.Status().Code == codes.Error) != tc.clientFail {
				t.Errorf("client status %v, want error %v", cs.Status(), tc.clientFail)
			}
			if (ss.Status().Code == codes.Error) != tc.serverFail {
				t.Errorf("server status %v, want error %v", ss.Status(), tc.serverFail)
			}
			if got := ca["server.address"].AsString(); got != "127.0.0.1" {
				t.Errorf("server.address %q", got)
			}
			if ca["server.port"].AsInt64() == 0 || ca["server.port"] != ca["network.peer.port"] {
				t.Errorf("server.port %v, network.peer.port %v", ca["server.port"].AsInt64(), ca["network.peer.port"].AsInt64())
			}
			if got := ca["network.peer.address"].AsString(); got != "127.0.0.1" {
				t.Errorf("network.peer.address %q", got)
			}
			if _, ok := sa["network.peer.address"]; ok {
				t.Error("server span has network.peer.address without WithServerPeerAttributes")
			}
		})
	}
}

// TestPropagationKeys checks what goes on the wire: the W3C keys in the
// request's status map, baggage included, and that a handler's own calls
// continue the trace.
func TestPropagationKeys(t *testing.T) {
	p := newPipeline(t)
	mw := middleware(t, tarsotel.WithTracerProvider(p.tp))
	var status map[string]string
	var member string
	var handlerSpan trace.SpanContext
	_, c := serve(t, func(ctx context.Context, a userapi.UserIDArgs) (userapi.UserInfo, error) {
		call, _ := tars.CallFromContext(ctx)
		status = call.Status
		member = baggage.FromContext(ctx).Member("tenant").Value()
		handlerSpan = trace.SpanContextFromContext(ctx)
		return getUser(ctx, a)
	}, []tars.ServerOption{tars.WithMiddleware(mw)}, tars.WithMiddleware(mw))

	m, err := baggage.NewMember("tenant", "acme")
	if err != nil {
		t.Fatal(err)
	}
	b, err := baggage.New(m)
	if err != nil {
		t.Fatal(err)
	}
	ctx := baggage.ContextWithBaggage(context.Background(), b)
	ctx = tars.WithOutgoingStatus(ctx, map[string]string{"STATUS_DYED_KEY": "u7"})
	if _, err := userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: idOK}); err != nil {
		t.Fatal(err)
	}
	cs, ss := spansOf(t, p)
	keys := []string{}
	for k := range status {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"STATUS_DYED_KEY", "baggage", "traceparent"}; !slices.Equal(keys, want) {
		t.Errorf("status keys %q, want %q", keys, want)
	}
	// traceparent: version-traceid-spanid-flags, the client span's ids.
	want := "00-" + cs.SpanContext().TraceID().String() + "-" + cs.SpanContext().SpanID().String() + "-01"
	if status["traceparent"] != want {
		t.Errorf("traceparent %q, want %q", status["traceparent"], want)
	}
	if status["baggage"] != "tenant=acme" || member != "acme" {
		t.Errorf("baggage %q, handler saw tenant=%q", status["baggage"], member)
	}
	if handlerSpan.SpanID() != ss.SpanContext().SpanID() {
		t.Errorf("handler context span %s, want the server span %s", handlerSpan.SpanID(), ss.SpanContext().SpanID())
	}
}

// TestPassThrough: without providers the middleware is next itself: no
// span, no key added to the status map.
func TestPassThrough(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []tarsotel.Option
	}{
		{"no options", nil},
		{"nil providers", []tarsotel.Option{tarsotel.WithTracerProvider(nil), tarsotel.WithMeterProvider(nil)}},
		{"without both", []tarsotel.Option{tarsotel.WithTracerProvider(newPipeline(t).tp), tarsotel.WithoutTracing(), tarsotel.WithoutMetrics()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mw := middleware(t, tc.opts...)
			var status map[string]string
			_, c := serve(t, func(ctx context.Context, a userapi.UserIDArgs) (userapi.UserInfo, error) {
				call, _ := tars.CallFromContext(ctx)
				status = call.Status
				return getUser(ctx, a)
			}, []tars.ServerOption{tars.WithMiddleware(mw)}, tars.WithMiddleware(mw))
			if _, err := userapi.GetUser.Call(context.Background(), c, userapi.UserIDArgs{UserID: idOK}); err != nil {
				t.Fatal(err)
			}
			if len(status) != 0 {
				t.Errorf("status %v, want none", status)
			}
		})
	}
}

func TestFilter(t *testing.T) {
	p := newPipeline(t)
	mw := middleware(t, tarsotel.WithTracerProvider(p.tp), tarsotel.WithMeterProvider(p.mp),
		tarsotel.WithFilter(func(call *tars.Call) bool { return tarsotel.SkipPing(call) && call.Server }))
	_, c := serve(t, getUser, []tars.ServerOption{tars.WithMiddleware(mw)}, tars.WithMiddleware(mw))
	if _, err := userapi.GetUser.Call(context.Background(), c, userapi.UserIDArgs{UserID: idOK}); err != nil {
		t.Fatal(err)
	}
	spans := p.rec.Ended()
	if len(spans) != 1 || spans[0].SpanKind() != trace.SpanKindServer || spans[0].Parent().IsValid() {
		t.Fatalf("%d spans; want one server span, a root (the client call was filtered out)", len(spans))
	}
	if tarsotel.SkipPing(&tars.Call{Method: "tars_ping"}) || !tarsotel.SkipPing(&tars.Call{Method: "getUser"}) {
		t.Error("SkipPing keeps tars_ping or drops getUser")
	}
}

func TestPublicEndpoint(t *testing.T) {
	p := newPipeline(t)
	smw := middleware(t, tarsotel.WithTracerProvider(p.tp), tarsotel.WithPublicEndpoint(), tarsotel.WithServerPeerAttributes())
	cmw := middleware(t, tarsotel.WithTracerProvider(p.tp))
	_, c := serve(t, getUser, []tars.ServerOption{tars.WithMiddleware(smw)}, tars.WithMiddleware(cmw))
	if _, err := userapi.GetUser.Call(context.Background(), c, userapi.UserIDArgs{UserID: idOK}); err != nil {
		t.Fatal(err)
	}
	cs, ss := spansOf(t, p)
	if ss.Parent().IsValid() || ss.SpanContext().TraceID() == cs.SpanContext().TraceID() {
		t.Errorf("public server span: parent %v, trace %s (client trace %s); want a new root", ss.Parent().SpanID(), ss.SpanContext().TraceID(), cs.SpanContext().TraceID())
	}
	if l := ss.Links(); len(l) != 1 || l[0].SpanContext.SpanID() != cs.SpanContext().SpanID() {
		t.Errorf("links %v, want one to the client span", l)
	}
	if got := attrs(ss)["network.peer.address"].AsString(); got != "127.0.0.1" {
		t.Errorf("server network.peer.address %q", got)
	}
}

func TestServerErrorCodes(t *testing.T) {
	p := newPipeline(t)
	mw := middleware(t, tarsotel.WithTracerProvider(p.tp),
		tarsotel.WithServerErrorCodes(func(c tars.Code) bool { return c != tars.CodeSuccess }))
	_, c := serve(t, getUser, []tars.ServerOption{tars.WithMiddleware(mw)}, tars.WithMiddleware(mw))
	if _, err := userapi.GetUser.Call(context.Background(), c, userapi.UserIDArgs{UserID: idNotFound}); tars.CodeOf(err) != userapi.RetNotFound {
		t.Fatalf("call: %v", err)
	}
	_, ss := spansOf(t, p)
	if ss.Status().Code != codes.Error || attrs(ss)["error.type"].AsString() != "2" {
		t.Errorf("server span status %v, error.type %q; want an error of type 2", ss.Status(), attrs(ss)["error.type"].AsString())
	}
}

// TestPropagators: another propagator, here only Baggage, replaces the
// default.
func TestPropagators(t *testing.T) {
	p := newPipeline(t)
	mw := middleware(t, tarsotel.WithTracerProvider(p.tp), tarsotel.WithPropagators(propagation.Baggage{}))
	_, c := serve(t, getUser, []tars.ServerOption{tars.WithMiddleware(mw)}, tars.WithMiddleware(mw))
	if _, err := userapi.GetUser.Call(context.Background(), c, userapi.UserIDArgs{UserID: idOK}); err != nil {
		t.Fatal(err)
	}
	cs, ss := spansOf(t, p)
	if ss.Parent().IsValid() || ss.SpanContext().TraceID() == cs.SpanContext().TraceID() {
		t.Error("trace context crossed without the TraceContext propagator")
	}
}

// TestEndpointMiddleware: in the per-attempt chain, the endpoint
// middleware adds an event per attempt to the call's span; an endpoint
// passed over (ErrEndpointUnavailable) is one attempt, and the span's
// server.* attributes are those of the endpoint that answered.
func TestEndpointMiddleware(t *testing.T) {
	p := newPipeline(t)
	mw := middleware(t, tarsotel.WithTracerProvider(p.tp))
	_, a := listen(t, getUser)
	_, b := listen(t, getUser)
	// Endpoint a is passed over, as an open circuit breaker would.
	refuseA := func(next tars.Invoker) tars.Invoker {
		return func(ctx context.Context, call *tars.Call) error {
			if call.Endpoint.Port == a {
				return tars.ErrEndpointUnavailable
			}
			return next(ctx, call)
		}
	}
	c := dial(t, fmt.Sprintf("tcp -h 127.0.0.1 -p %d:tcp -h 127.0.0.1 -p %d", a, b),
		tars.WithMiddleware(mw), tars.WithEndpointMiddleware(tarsotel.EndpointMiddleware(), refuseA))
	const calls = 40 // enough that some call tries endpoint a first, whatever the balancer picks
	for range calls {
		if _, err := userapi.GetUser.Call(context.Background(), c, userapi.UserIDArgs{UserID: idNotFound}); tars.CodeOf(err) != userapi.RetNotFound {
			t.Fatalf("call: %v", err)
		}
	}
	spans := p.rec.Ended()
	if len(spans) != calls {
		t.Fatalf("%d spans, want %d", len(spans), calls)
	}
	passedOver := 0
	for _, s := range spans {
		if got := attrs(s)["server.port"].AsInt64(); got != int64(b) {
			t.Errorf("span server.port %d, want %d (the endpoint that answered)", got, b)
		}
		ev := s.Events()
		if len(ev) == 0 || len(ev) > 2 {
			t.Fatalf("%d events", len(ev))
		}
		for i, e := range ev {
			got := map[attribute.Key]string{}
			for _, a := range e.Attributes {
				got[a.Key] = a.Value.String()
			}
			if e.Name != "tars.attempt" || got["server.address"] != "127.0.0.1" || got["network.peer.address"] != "127.0.0.1" {
				t.Errorf("event %s %v", e.Name, got)
			}
			last := i == len(ev)-1
			switch {
			case last && (got["server.port"] != fmt.Sprint(b) || got["rpc.response.status_code"] != "2" || got["error.type"] != "2"):
				t.Errorf("last attempt %v, want port %d, code 2", got, b)
			case !last && (got["server.port"] != fmt.Sprint(a) || got["error.type"] != "endpoint_unavailable"):
				t.Errorf("first attempt %v, want port %d passed over", got, a)
			case !last:
				passedOver++
			}
		}
	}
	if passedOver == 0 {
		t.Errorf("no call tried endpoint %d first in %d calls", a, calls)
	}
}

func histograms(t *testing.T, p *pipeline) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := p.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != tarsotel.ScopeName || sm.Scope.Version != tarsotel.Version {
			t.Errorf("scope %s %s", sm.Scope.Name, sm.Scope.Version)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

func TestMetrics(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    []tarsotel.Option
		buckets []float64
	}{
		{"semconv buckets", nil, tarsotel.DurationBuckets()},
		{"own buckets", []tarsotel.Option{tarsotel.WithDurationBuckets(0.001, 0.1)}, []float64{0.001, 0.1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPipeline(t)
			mw := middleware(t, append(tc.opts, tarsotel.WithMeterProvider(p.mp),
				tarsotel.WithMetricAttributes(attribute.String("deployment", "test")))...)
			_, c := serve(t, getUser, []tars.ServerOption{tars.WithMiddleware(mw)}, tars.WithMiddleware(mw))
			calls := map[int32]int{idOK: 3, idNotFound: 2, idBoom: 1}
			for id, n := range calls {
				for range n {
					_, _ = userapi.GetUser.Call(context.Background(), c, userapi.UserIDArgs{UserID: id})
				}
			}
			ms := histograms(t, p)
			for _, name := range []string{"rpc.client.call.duration", "rpc.server.call.duration"} {
				m, ok := ms[name]
				if !ok {
					t.Fatalf("no %s in %v", name, ms)
				}
				if m.Unit != "s" {
					t.Errorf("%s unit %q", name, m.Unit)
				}
				h, ok := m.Data.(metricdata.Histogram[float64])
				if !ok {
					t.Fatalf("%s is %T", name, m.Data)
				}
				type key struct{ code, errType string }
				want := map[key]uint64{{"0", ""}: 3, {"2", "2"}: 2, {"-99", "-99"}: 1}
				if name == "rpc.server.call.duration" {
					want = map[key]uint64{{"0", ""}: 3, {"2", ""}: 2, {"-99", "-99"}: 1}
				}
				got := map[key]uint64{}
				for _, dp := range h.DataPoints {
					if !slices.Equal(dp.Bounds, tc.buckets) {
						t.Errorf("%s bounds %v, want %v", name, dp.Bounds, tc.buckets)
					}
					sys, _ := dp.Attributes.Value("rpc.system.name")
					meth, _ := dp.Attributes.Value("rpc.method")
					dep, _ := dp.Attributes.Value("deployment")
					if sys.AsString() != "tars" || meth.AsString() != method || dep.AsString() != "test" {
						t.Errorf("%s attributes %v", name, dp.Attributes.ToSlice())
					}
					code, _ := dp.Attributes.Value("rpc.response.status_code")
					et, _ := dp.Attributes.Value("error.type")
					got[key{code.AsString(), et.AsString()}] += dp.Count
					if dp.Sum <= 0 || dp.Sum > 10 {
						t.Errorf("%s sum %v s", name, dp.Sum)
					}
				}
				if !maps(got, want) {
					t.Errorf("%s counts %v, want %v", name, got, want)
				}
			}
		})
	}
}

func maps[K comparable](a, b map[K]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestManyCodes: codes past the cache still get their own attributes.
func TestManyCodes(t *testing.T) {
	p := newPipeline(t)
	mw := middleware(t, tarsotel.WithTracerProvider(p.tp), tarsotel.WithMeterProvider(p.mp))
	_, c := serve(t, func(_ context.Context, a userapi.UserIDArgs) (userapi.UserInfo, error) {
		return userapi.UserInfo{}, tars.NewError(tars.Code(a.UserID), "code")
	}, []tars.ServerOption{tars.WithMiddleware(mw)}, tars.WithMiddleware(mw))
	const n = 80
	for i := int32(1); i <= n; i++ {
		if _, err := userapi.GetUser.Call(context.Background(), c, userapi.UserIDArgs{UserID: i}); tars.CodeOf(err) != tars.Code(i) {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	h := histograms(t, p)["rpc.client.call.duration"].Data.(metricdata.Histogram[float64])
	if len(h.DataPoints) != n {
		t.Errorf("%d series, want %d", len(h.DataPoints), n)
	}
	seen := map[string]bool{}
	for _, s := range p.rec.Ended() {
		if s.SpanKind() == trace.SpanKindClient {
			seen[attrs(s)["rpc.response.status_code"].AsString()] = true
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct codes on client spans, want %d", len(seen), n)
	}
}

// TestNewMiddlewareError: an instrument the SDK refuses (buckets out of
// order) is NewMiddleware's error, naming the instrument.
func TestNewMiddlewareError(t *testing.T) {
	p := newPipeline(t)
	mw, err := tarsotel.NewMiddleware(tarsotel.WithMeterProvider(p.mp), tarsotel.WithDurationBuckets(1, 0.5))
	if err == nil || mw != nil || !strings.Contains(err.Error(), "rpc.server.call.duration") {
		t.Fatalf("NewMiddleware: %v, %v; want an error naming rpc.server.call.duration", mw != nil, err)
	}
}

// TestGlobalProviders: WithGlobalProviders reads otel's globals once, at
// construction.
func TestGlobalProviders(t *testing.T) {
	p := newPipeline(t)
	otel.SetTracerProvider(p.tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	defer func() {
		otel.SetTracerProvider(tracenoop.NewTracerProvider())
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator())
	}()
	mw := middleware(t, tarsotel.WithGlobalProviders())
	_, c := serve(t, getUser, []tars.ServerOption{tars.WithMiddleware(mw)}, tars.WithMiddleware(mw))
	if _, err := userapi.GetUser.Call(context.Background(), c, userapi.UserIDArgs{UserID: idOK}); err != nil {
		t.Fatal(err)
	}
	cs, ss := spansOf(t, p)
	if ss.Parent().SpanID() != cs.SpanContext().SpanID() {
		t.Error("server span is not the client span's child")
	}
}

// TestManyMethods: methods past the cache (a client calling names it is
// given) still get their own names and attributes.
func TestManyMethods(t *testing.T) {
	p := newPipeline(t)
	mw := middleware(t, tarsotel.WithTracerProvider(p.tp), tarsotel.WithMeterProvider(p.mp))
	const n = 1100
	invoke := mw(func(context.Context, *tars.Call) error { return nil })
	for i := range n {
		if err := invoke(context.Background(), &tars.Call{Servant: "App.Server.Obj", Method: fmt.Sprint("m", i)}); err != nil {
			t.Fatal(err)
		}
	}
	spans := p.rec.Ended()
	if len(spans) != n {
		t.Fatalf("%d spans", len(spans))
	}
	for i, s := range spans {
		want := fmt.Sprint("App.Server.Obj/m", i)
		if s.Name() != want || attrs(s)["rpc.method"].AsString() != want {
			t.Fatalf("span %d: %s, rpc.method %s", i, s.Name(), attrs(s)["rpc.method"].AsString())
		}
	}
}

// TestSemconvBuckets: the default buckets are those semconv v1.43.0's own
// instruments (rpcconv) use.
func TestSemconvBuckets(t *testing.T) {
	p := newPipeline(t)
	meter := p.mp.Meter("semconv")
	sd, err := rpcconv.NewServerCallDuration(meter)
	if err != nil {
		t.Fatal(err)
	}
	cd, err := rpcconv.NewClientCallDuration(meter)
	if err != nil {
		t.Fatal(err)
	}
	sd.Inst().Record(context.Background(), 0.001)
	cd.Inst().Record(context.Background(), 0.001)
	var rm metricdata.ResourceMetrics
	if err := p.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
				n++
				if !slices.Equal(dp.Bounds, tarsotel.DurationBuckets()) {
					t.Errorf("%s: semconv bounds %v, ours %v", m.Name, dp.Bounds, tarsotel.DurationBuckets())
				}
			}
		}
	}
	if n != 2 {
		t.Errorf("%d histograms", n)
	}
}

// TestRelay: a handler's own calls continue its trace: client → relay
// server, whose handler calls → backend server; four spans, each the
// child of the one before.
func TestRelay(t *testing.T) {
	p := newPipeline(t)
	mw := middleware(t, tarsotel.WithTracerProvider(p.tp))
	_, backendPort := listen(t, getUser, tars.WithMiddleware(mw))
	backend := dial(t, fmt.Sprintf("tcp -h 127.0.0.1 -p %d -t 3000", backendPort), tars.WithMiddleware(mw))
	_, relayPort := listen(t, func(ctx context.Context, a userapi.UserIDArgs) (userapi.UserInfo, error) {
		return userapi.GetUser.Call(ctx, backend, a)
	}, tars.WithMiddleware(mw))
	c := dial(t, fmt.Sprintf("tcp -h 127.0.0.1 -p %d -t 3000", relayPort), tars.WithMiddleware(mw))
	if _, err := userapi.GetUser.Call(context.Background(), c, userapi.UserIDArgs{UserID: idOK}); err != nil {
		t.Fatal(err)
	}
	// Ended innermost first: backend server, relay client, relay server, client.
	spans := p.rec.Ended()
	kinds := []trace.SpanKind{trace.SpanKindServer, trace.SpanKindClient, trace.SpanKindServer, trace.SpanKindClient}
	if len(spans) != len(kinds) {
		t.Fatalf("%d spans", len(spans))
	}
	for i, s := range spans {
		if s.SpanKind() != kinds[i] || s.SpanContext().TraceID() != spans[3].SpanContext().TraceID() {
			t.Errorf("span %d: %v in trace %s", i, s.SpanKind(), s.SpanContext().TraceID())
		}
		if i < 3 && s.Parent().SpanID() != spans[i+1].SpanContext().SpanID() {
			t.Errorf("span %d (%v) parent %s, want %s", i, s.SpanKind(), s.Parent().SpanID(), spans[i+1].SpanContext().SpanID())
		}
	}
	if spans[3].Parent().IsValid() {
		t.Error("the first client span has a parent")
	}
	if got := attrs(spans[1])["server.port"].AsInt64(); got != int64(backendPort) {
		t.Errorf("relay client server.port %d, want %d", got, backendPort)
	}
}
