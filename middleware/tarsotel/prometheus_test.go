package tarsotel_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/middleware/tarsotel"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// TestPrometheus serves everything the package measures through
// NewPrometheus on a registry of the test's own and lints the text
// exposition with promlint.
func TestPrometheus(t *testing.T) {
	reg := prometheus.NewRegistry()
	mp, err := tarsotel.NewPrometheus(reg)
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Shutdown(context.Background())
	defaultBefore, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}

	mw := middleware(t, tarsotel.WithMeterProvider(mp))
	srv, c := serve(t, getUser, []tars.ServerOption{tars.WithMiddleware(mw)}, tars.WithMiddleware(mw))
	unregister, err := tarsotel.ObserveServer(mp, srv)
	if err != nil {
		t.Fatal(err)
	}
	defer unregister()
	ev, err := tarsotel.NewEvents(mp)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int32{idOK, idOK, idNotFound, idBoom} {
		_, _ = userapi.GetUser.Call(context.Background(), c, userapi.UserIDArgs{UserID: id})
	}
	call := &tars.Call{Servant: userapi.Servant, Method: "getUser"}
	ev.BreakerStateChange("b", "closed", "open")
	ev.Retry(context.Background(), call)
	ev.BackupRequest(context.Background(), call, true)

	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	text := rec.Body.String()
	problems, err := promlint.New(strings.NewReader(text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	for _, want := range []string{
		`rpc_client_call_duration_seconds_bucket{error_type="2",otel_scope_name="` + tarsotel.ScopeName + `"`,
		`rpc_server_call_duration_seconds_count{otel_scope_name="` + tarsotel.ScopeName + `",otel_scope_schema_url="https://opentelemetry.io/schemas/1.43.0",otel_scope_version="` + tarsotel.Version + `",rpc_method="` + method + `",rpc_response_status_code="0",rpc_system_name="tars"} 2`,
		`le="0.005"`, `le="10"`,
		"# TYPE tars_server_connections_accepted_total counter",
		"# TYPE tars_server_calls_overloaded_total counter",
		"# TYPE tars_server_connections gauge",
		"# TYPE tars_server_queue_depth gauge",
		"# TYPE tars_server_memory_budget_used_bytes gauge",
		"tars_client_retries_total{",
		"tars_client_breaker_state_changes_total{",
		"tars_client_backup_requests_total{",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("exposition:\n%s", text)
	}

	// Nothing went to the global registry.
	defaultAfter, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(defaultAfter) != len(defaultBefore) {
		t.Errorf("default registry: %d families, was %d", len(defaultAfter), len(defaultBefore))
	}
	for _, mf := range defaultAfter {
		if strings.HasPrefix(mf.GetName(), "rpc_") || strings.HasPrefix(mf.GetName(), "tars_") {
			t.Errorf("default registry has %s", mf.GetName())
		}
	}

	if _, err := tarsotel.NewPrometheus(nil); err == nil {
		t.Error("nil registerer: no error")
	}
}
