package otelapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	"github.com/gotars/tars"
	"github.com/gotars/tars/app"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/middleware/tarsotel"
	"github.com/gotars/tars/middleware/tarsotel/otelapp"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// backendObj is the servant the app's handler calls through a.Client.
const backendObj = "Test.Backend.UserObj"

// syncBuf is a goroutine-safe writer.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// backend serves getUser as backendObj on a loopback port until the test
// ends, and returns its endpoint.
func backend(t *testing.T) string {
	t.Helper()
	srv := tars.NewServer()
	tars.Handle(srv, backendObj, userapi.GetUser, func(_ context.Context, a userapi.UserIDArgs) (userapi.UserInfo, error) {
		return userapi.UserInfo{UserID: a.UserID, UserName: "ada"}, nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-served
	})
	return fmt.Sprintf("tcp -h 127.0.0.1 -p %d -t 3000", ln.Addr().(*net.TCPAddr).Port)
}

// appConfig serves the UserService on 127.0.0.1 (a port of the system's
// choice), with the backend's endpoints for its client.
func appConfig(backendEP string) config.Config {
	c := config.Default()
	c.Server.App, c.Server.Server = "Test", "OtelServer"
	c.Server.GraceTimeout = 5 * time.Second
	c.Servants = map[string]config.Servant{userapi.Servant: {Endpoint: "tcp -h 127.0.0.1 -p 0 -t 60000"}}
	c.Client.Objects = map[string]config.Object{backendObj: {Endpoints: backendEP}}
	return c
}

// running is an App run by a test with its Telemetry.
type running struct {
	a      *app.App
	tel    *otelapp.Telemetry
	cancel context.CancelFunc
	done   chan error
}

// runApp builds the Telemetry and the App from cfg, registers the relay
// handler (getUser asks the backend through the App's client), runs it and
// waits until it is ready (and /metrics listens, with metrics).
func runApp(t *testing.T, cfg config.Config, opts ...otelapp.Option) *running {
	t.Helper()
	tel, err := otelapp.New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	// No Attach, no ClientOptions: AppOptions' hooks do both.
	aopts := append(tel.AppOptions(), app.WithLogWriter(io.Discard))
	a, err := app.New(cfg, aopts...)
	if err != nil {
		tel.Shutdown(context.Background())
		t.Fatal(err)
	}
	tars.Handle(a.Server(), userapi.Servant, userapi.GetUser, func(ctx context.Context, args userapi.UserIDArgs) (userapi.UserInfo, error) {
		c, err := a.Client(backendObj)
		if err != nil {
			return userapi.UserInfo{}, err
		}
		return userapi.GetUser.Call(ctx, c, args)
	})
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{a: a, tel: tel, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- a.Run(ctx) }()
	var listening <-chan struct{}
	if cfg.Observability.MetricsAddress != "" {
		listening = tel.MetricsListening()
	}
	for _, ready := range []<-chan struct{}{a.Ready(), listening} {
		if ready == nil {
			continue
		}
		select {
		case <-ready:
		case err := <-r.done:
			cancel()
			tel.Shutdown(context.Background())
			t.Fatalf("Run returned before it was ready: %v", err)
		case <-time.After(20 * time.Second):
			t.Fatal("not ready after 20 s")
		}
	}
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop ends Run and shuts the Telemetry down (flushing the spans); it may
// be called more than once.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	if r.done != nil {
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("Run did not return 20 s after its context ended")
		}
		r.done = nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.tel.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// call makes n getUser calls to the app's servant with a plain client.
func (r *running) call(t *testing.T, n int) {
	t.Helper()
	addr := r.a.Addr(userapi.Servant).(*net.TCPAddr)
	c, err := tars.NewClient(fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d -t 3000", userapi.Servant, addr.Port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range n {
		u, err := userapi.GetUser.Call(context.Background(), c, userapi.UserIDArgs{UserID: int32(i + 1)})
		if err != nil || u.UserID != int32(i+1) || u.UserName != "ada" {
			t.Fatalf("getUser(%d) = %+v, %v", i+1, u, err)
		}
	}
}

// scrape gets /metrics.
func scrape(t *testing.T, addr net.Addr) string {
	t.Helper()
	hc := &http.Client{Timeout: 5 * time.Second}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get("http://" + addr.String() + otelapp.MetricsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d, %v", resp.StatusCode, err)
	}
	return string(body)
}

// span is what the stdout exporter writes of a span (tracetest.SpanStub's
// JSON), the fields the tests read.
type span struct {
	Name        string
	SpanKind    int // trace.SpanKind: 2 server, 3 client
	SpanContext struct{ TraceID, SpanID string }
	Parent      struct{ TraceID, SpanID string }
	Attributes  []struct {
		Key   string
		Value struct{ Value any }
	}
	Events []struct{ Name string }
}

func (s span) attr(key string) any {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value.Value
		}
	}
	return nil
}

// parseSpans reads the stdout exporter's JSON stream.
func parseSpans(t *testing.T, b []byte) []span {
	t.Helper()
	var spans []span
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		var s span
		if err := dec.Decode(&s); err == io.EOF {
			return spans
		} else if err != nil {
			t.Fatalf("the exporter's output: %v\n%s", err, b)
		}
		spans = append(spans, s)
	}
}

// TestMetricsAndStdoutTraces: one App with observability.metrics_address
// and trace_exporter "stdout": calls through its servant (which calls a
// backend through the App's client) show on /metrics, which passes
// promlint, and as server and client spans, one trace per call, the
// client span a child of the server span, each attempt an event.
func TestMetricsAndStdoutTraces(t *testing.T) {
	cfg := appConfig(backend(t))
	cfg.Observability.MetricsAddress = "127.0.0.1:0"
	cfg.Observability.TraceExporter = "stdout"
	cfg.Observability.TraceSampleRatio = 1
	var out syncBuf
	r := runApp(t, cfg, otelapp.WithTraceWriter(&out))
	const calls = 3
	r.call(t, calls)

	addr := r.tel.MetricsAddr()
	if tcp, ok := addr.(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() || tcp.Port == 0 {
		t.Fatalf("MetricsAddr = %v", addr)
	}
	body := scrape(t, addr)
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	for _, want := range []string{
		fmt.Sprintf(`rpc_server_call_duration_seconds_count{otel_scope_name="%s",otel_scope_schema_url="https://opentelemetry.io/schemas/1.43.0",otel_scope_version="%s",rpc_method="%s/getUser",rpc_response_status_code="0",rpc_system_name="tars"} %d`, tarsotel.ScopeName, tarsotel.Version, userapi.Servant, calls),
		fmt.Sprintf(`rpc_client_call_duration_seconds_count{otel_scope_name="%s",otel_scope_schema_url="https://opentelemetry.io/schemas/1.43.0",otel_scope_version="%s",rpc_method="%s/getUser",rpc_response_status_code="0",rpc_system_name="tars"} %d`, tarsotel.ScopeName, tarsotel.Version, backendObj, calls),
		"tars_server_connections_accepted_total{",
		"tars_server_calls_in_flight{",
		`target_info{service_name="Test.OtelServer"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}

	r.stop(t) // Shutdown flushes the spans
	spans := parseSpans(t, out.Bytes())
	servers := map[string]span{} // by span id
	var clients []span
	for _, s := range spans {
		switch {
		case s.Name == userapi.Servant+"/getUser" && s.SpanKind == 2:
			servers[s.SpanContext.SpanID] = s
		case s.Name == backendObj+"/getUser" && s.SpanKind == 3:
			clients = append(clients, s)
		default:
			t.Errorf("unexpected span %q of kind %d", s.Name, s.SpanKind)
		}
	}
	if len(servers) != calls || len(clients) != calls {
		t.Fatalf("%d server spans and %d client spans, want %d of each:\n%s", len(servers), len(clients), calls, out.Bytes())
	}
	traces := map[string]bool{}
	for _, c := range clients {
		p, ok := servers[c.Parent.SpanID]
		if !ok || p.SpanContext.TraceID != c.SpanContext.TraceID {
			t.Errorf("client span %s: parent %s is not a server span of its trace", c.SpanContext.SpanID, c.Parent.SpanID)
		}
		traces[c.SpanContext.TraceID] = true
		if got := c.attr("rpc.system.name"); got != "tars" {
			t.Errorf("client span rpc.system.name = %v", got)
		}
		if got := c.attr("server.address"); got != "127.0.0.1" {
			t.Errorf("client span server.address = %v", got)
		}
		if len(c.Events) != 1 || c.Events[0].Name != "tars.attempt" {
			t.Errorf("client span events = %+v, want one tars.attempt", c.Events)
		}
	}
	for _, s := range servers {
		if got := s.attr("rpc.response.status_code"); got != "0" {
			t.Errorf("server span rpc.response.status_code = %v", got)
		}
	}
	if len(traces) != calls {
		t.Errorf("%d traces, want one per call (%d)", len(traces), calls)
	}
}

// TestSampleRatioZero: trace_sample_ratio 0 samples no call, so nothing
// is exported.
func TestSampleRatioZero(t *testing.T) {
	cfg := appConfig(backend(t))
	cfg.Observability.TraceExporter = "stdout"
	cfg.Observability.TraceSampleRatio = 0
	var out syncBuf
	r := runApp(t, cfg, otelapp.WithTraceWriter(&out))
	r.call(t, 5)
	r.stop(t)
	if b := out.Bytes(); len(b) != 0 {
		t.Errorf("spans exported with trace_sample_ratio 0:\n%s", b)
	}
	if r.tel.MetricsAddr() != nil || r.tel.Registry() != nil || r.tel.Handler() != nil {
		t.Error("metrics without observability.metrics_address")
	}
}

// collector is an OTLP/HTTP trace receiver on a loopback port: it decodes
// each export request (protobuf) and keeps the span names and kinds.
type collector struct {
	mu    sync.Mutex
	spans []string // "name kind"
	paths []string
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req collectortrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.paths = append(c.paths, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type"))
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				c.spans = append(c.spans, fmt.Sprintf("%s %s", s.Name, s.Kind))
			}
		}
	}
	c.mu.Unlock()
	resp, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(resp)
}

// TestOTLP: trace_exporter "otlp" sends the spans over OTLP/HTTP to
// trace_endpoint (a receiver run by the test, decoding the protobuf), to
// /v1/traces when the URL has no path; Shutdown flushes them.
func TestOTLP(t *testing.T) {
	col := &collector{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: col, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	defer func() {
		hs.Close()
		<-served
	}()

	cfg := appConfig(backend(t))
	cfg.Observability.TraceExporter = "otlp"
	cfg.Observability.TraceEndpoint = "http://" + ln.Addr().String()
	cfg.Observability.TraceSampleRatio = 1
	r := runApp(t, cfg)
	r.call(t, 2)
	r.stop(t)

	col.mu.Lock()
	defer col.mu.Unlock()
	count := map[string]int{}
	for _, s := range col.spans {
		count[s]++
	}
	want := map[string]int{
		userapi.Servant + "/getUser SPAN_KIND_SERVER": 2,
		backendObj + "/getUser SPAN_KIND_CLIENT":      2,
	}
	if fmt.Sprint(count) != fmt.Sprint(want) {
		t.Errorf("spans received: %v, want %v", count, want)
	}
	for _, p := range col.paths {
		if p != "POST /v1/traces application/x-protobuf" {
			t.Errorf("export request: %s", p)
		}
	}
}

// TestBadConfig: bad observability keys are usage errors naming the key.
func TestBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*config.Observability)
		key  string
	}{
		{"unknown exporter", func(o *config.Observability) { o.TraceExporter = "zipkin" }, "observability.trace_exporter"},
		{"ratio above 1", func(o *config.Observability) { o.TraceSampleRatio = 1.5 }, "observability.trace_sample_ratio"},
		{"ratio below 0", func(o *config.Observability) { o.TraceSampleRatio = -0.1 }, "observability.trace_sample_ratio"},
		{"ratio NaN", func(o *config.Observability) { o.TraceSampleRatio = math.NaN() }, "observability.trace_sample_ratio"},
		{"otlp without endpoint", func(o *config.Observability) { o.TraceExporter = "otlp" }, "observability.trace_endpoint"},
		{"otlp endpoint scheme", func(o *config.Observability) {
			o.TraceExporter, o.TraceEndpoint = "otlp", "grpc://collector:4317"
		}, "observability.trace_endpoint"},
		{"otlp endpoint without port", func(o *config.Observability) {
			o.TraceExporter, o.TraceEndpoint = "otlp", "collector"
		}, "observability.trace_endpoint"},
		{"otlp URL without host", func(o *config.Observability) {
			o.TraceExporter, o.TraceEndpoint = "otlp", "http:///v1/traces"
		}, "observability.trace_endpoint"},
		{"metrics address", func(o *config.Observability) { o.MetricsAddress = "9464" }, "observability.metrics_address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			tc.set(&cfg.Observability)
			tel, err := otelapp.New(cfg)
			if err == nil {
				tel.Shutdown(context.Background())
				t.Fatal("no error")
			}
			var ke *config.KeyError
			var ue *app.UsageError
			if !errors.As(err, &ke) || ke.Key != tc.key || !errors.As(err, &ue) {
				t.Errorf("error %v (%T), want a usage error naming %s", err, err, tc.key)
			}
			if !strings.Contains(err.Error(), tc.key) {
				t.Errorf("error %q does not name %s", err, tc.key)
			}
			if app.ExitCode(err) != app.ExitUsage {
				t.Errorf("exit code %d, want %d", app.ExitCode(err), app.ExitUsage)
			}
		})
	}
}

// TestNone: without the keys, nothing is added to the App and the
// providers are no-ops.
func TestNone(t *testing.T) {
	tel, err := otelapp.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	if opts := tel.AppOptions(); len(opts) != 0 {
		t.Errorf("%d app options without observability keys", len(opts))
	}
	if opts := tel.ClientOptions(); len(opts) != 0 {
		t.Errorf("%d client options without a trace exporter", len(opts))
	}
	if _, rec := tel.TracerProvider().Tracer("x").Start(context.Background(), "s"); rec.IsRecording() {
		t.Error("a recording span without a trace exporter")
	}
	tel.Events().Retry(context.Background(), &tars.Call{Servant: "A.B.C", Method: "m"}) // counts nowhere, and does not panic
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Error(err)
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
}

// TestMetricsAddressInUse: a metrics_address that cannot be bound stops
// Run with an error naming the key.
func TestMetricsAddressInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := appConfig("tcp -h 127.0.0.1 -p 1")
	cfg.Observability.MetricsAddress = taken.Addr().String()
	tel, err := otelapp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	a, err := app.New(cfg, append(tel.AppOptions(), app.WithLogWriter(io.Discard))...)
	if err != nil {
		t.Fatal(err)
	}
	if err := tel.Attach(a); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := a.Run(ctx); err == nil || !strings.Contains(err.Error(), "observability.metrics_address") ||
		!strings.Contains(err.Error(), otelapp.MetricsTask) {
		t.Errorf("Run = %v, want the metrics task's error naming observability.metrics_address", err)
	}
}

// TestAttach: Attach is idempotent for one App, refuses a second App and
// refuses after Shutdown; a Telemetry attached but never run shuts down
// with its batcher (goleak checks the goroutine ended).
func TestAttach(t *testing.T) {
	cfg := appConfig("tcp -h 127.0.0.1 -p 1")
	cfg.Observability.MetricsAddress = "127.0.0.1:0"
	cfg.Observability.TraceExporter = "stdout"
	tel, err := otelapp.New(cfg, otelapp.WithTraceWriter(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	newApp := func() *app.App {
		a, err := app.New(cfg, append(tel.AppOptions(), app.WithLogWriter(io.Discard))...)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := newApp()
	if err := tel.Attach(a); err != nil {
		t.Fatal(err)
	}
	if err := tel.Attach(a); err != nil {
		t.Errorf("second Attach of the same App: %v", err)
	}
	if err := tel.Attach(newApp()); err == nil {
		t.Error("Attach of another App: no error")
	}
	if err := tel.Attach(nil); err == nil {
		t.Error("Attach(nil): no error")
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := tel.Attach(a); !errors.Is(err, otelapp.ErrShutdown) {
		t.Errorf("Attach after Shutdown = %v, want ErrShutdown", err)
	}
}

// TestBadMiddlewareOptions: an instrument the options make impossible is
// an error of New, not a usage error, and releases what New built.
func TestBadMiddlewareOptions(t *testing.T) {
	cfg := config.Default()
	cfg.Observability.MetricsAddress = "127.0.0.1:0"
	cfg.Observability.TraceExporter = "stdout"
	tel, err := otelapp.New(cfg, otelapp.WithMiddlewareOptions(tarsotel.WithDurationBuckets(2, 1)))
	if err == nil {
		tel.Shutdown(context.Background())
		t.Fatal("descending buckets: no error")
	}
	if app.ExitCode(err) != app.ExitFailure || !strings.Contains(err.Error(), "rpc.server.call.duration") {
		t.Errorf("error %v (exit %d), want the histogram's error, exit 1", err, app.ExitCode(err))
	}
}
