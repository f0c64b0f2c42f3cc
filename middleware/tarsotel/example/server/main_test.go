package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gotars/tars"
	"github.com/gotars/tars/app"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/middleware/tarsotel"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

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

// serve runs the command with args until the returned stop is called,
// which returns run's error; it waits until the servant and /metrics
// listen.
func serve(t *testing.T, traces io.Writer, args ...string) (servant, metrics net.Addr, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan [2]net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"server", "-log.level=none"}, args...), traces, func(s, m net.Addr) { addrs <- [2]net.Addr{s, m} })
	}()
	var a [2]net.Addr
	select {
	case a = <-addrs:
	case err := <-done:
		cancel()
		t.Fatalf("run: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("not listening after 20 s")
	}
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				err = errors.New("run did not return 20 s after its context ended")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return a[0], a[1], stop
}

// call makes n getUser calls of a user that does not exist (the service's
// code 2, an answer: not a failed call).
func call(t *testing.T, servant net.Addr, n int) {
	t.Helper()
	c, err := tars.NewClient(fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d -t 3000", userapi.Servant, servant.(*net.TCPAddr).Port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range n {
		if _, err := userapi.GetUser.Call(context.Background(), c, userapi.UserIDArgs{UserID: 1}); tars.CodeOf(err) != userapi.RetNotFound {
			t.Fatalf("getUser: %v, want code %d", err, userapi.RetNotFound)
		}
	}
}

// scrape gets /metrics, lints it and checks the calls' histogram and the
// server's counts are there.
func scrape(t *testing.T, metrics net.Addr, calls int) {
	t.Helper()
	hc := &http.Client{Timeout: 5 * time.Second}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get("http://" + metrics.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d, %v", resp.StatusCode, err)
	}
	problems, err := promlint.New(bytes.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	for _, want := range []string{
		fmt.Sprintf(`rpc_server_call_duration_seconds_count{otel_scope_name="%s",otel_scope_schema_url="https://opentelemetry.io/schemas/1.43.0",otel_scope_version="%s",rpc_method="%s/getUser",rpc_response_status_code="2",rpc_system_name="tars"} %d`, tarsotel.ScopeName, tarsotel.Version, userapi.Servant, calls),
		"tars_server_connections_accepted_total{",
		"tars_server_calls_in_flight{",
		`target_info{service_name="UserService.UserServer"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}

// TestRun: from flags alone, -listen and -metrics on free loopback ports:
// calls show on /metrics, which passes promlint; no spans without a trace
// exporter.
func TestRun(t *testing.T) {
	var traces syncBuf
	servant, metrics, stop := serve(t, &traces, "-listen", "127.0.0.1:0", "-metrics", "127.0.0.1:0")
	if metrics == nil {
		t.Fatal("no /metrics address")
	}
	call(t, servant, 3)
	scrape(t, metrics, 3)
	if err := stop(); err != nil {
		t.Errorf("run: %v", err)
	}
	if b := traces.Bytes(); len(b) != 0 {
		t.Errorf("spans without observability.trace_exporter:\n%s", b)
	}
}

// TestRunConfig: from config.yaml (metrics, stdout traces), its endpoint
// and metrics address overridden by -listen and -metrics, every call
// sampled by -observability.trace_sample_ratio: /metrics as above, and a
// server span per call flushed when run returns.
func TestRunConfig(t *testing.T) {
	var traces syncBuf
	servant, metrics, stop := serve(t, &traces, "-config", "config.yaml", "-listen", "127.0.0.1:0",
		"-metrics", "127.0.0.1:0", "-observability.trace_sample_ratio=1")
	if tcp, ok := metrics.(*net.TCPAddr); !ok || tcp.Port == 9464 {
		t.Fatalf("-metrics did not override observability.metrics_address: %v", metrics)
	}
	call(t, servant, 2)
	scrape(t, metrics, 2)
	if err := stop(); err != nil {
		t.Errorf("run: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(traces.Bytes()))
	n := 0
	for {
		var s struct {
			Name     string
			SpanKind int
		}
		if err := dec.Decode(&s); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("spans: %v\n%s", err, traces.Bytes())
		}
		if s.Name != userapi.Servant+"/getUser" || s.SpanKind != 2 {
			t.Errorf("span %q of kind %d, want %s/getUser of kind server (2)", s.Name, s.SpanKind, userapi.Servant)
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d spans, want 2:\n%s", n, traces.Bytes())
	}
}

// TestUsage: a bad observability key is a usage error (exit code 2)
// naming it, before anything listens.
func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		key  string
	}{
		{[]string{"-listen", "127.0.0.1:0", "-observability.trace_exporter=zipkin"}, "observability.trace_exporter"},
		{[]string{"-listen", "127.0.0.1:0", "-metrics", "nonsense"}, "observability.metrics_address"},
		{[]string{"-listen", "nonsense"}, "-listen"},
	} {
		err := run(context.Background(), append([]string{"server"}, tc.args...), io.Discard, nil)
		var ke *config.KeyError
		if app.ExitCode(err) != app.ExitUsage || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%v: %v (exit %d), want a usage error naming %s", tc.args, err, app.ExitCode(err), tc.key)
		}
		if strings.HasPrefix(tc.key, "observability.") && (!errors.As(err, &ke) || ke.Key != tc.key) {
			t.Errorf("%v: %v is not a *config.KeyError of %s", tc.args, err, tc.key)
		}
	}
}
