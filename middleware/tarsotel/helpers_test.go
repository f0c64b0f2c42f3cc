package tarsotel_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/middleware/tarsotel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The user ids the test handler answers specially.
const (
	idOK       = 7  // a user
	idNotFound = 2  // the service's own code 2 (RetNotFound)
	idBoom     = 99 // a plain error: CodeServerUnknownErr
	idSlow     = 50 // sleeps 200 ms, past a 50 ms client deadline
)

func getUser(ctx context.Context, a userapi.UserIDArgs) (userapi.UserInfo, error) {
	switch a.UserID {
	case idNotFound:
		return userapi.UserInfo{}, tars.NewError(userapi.RetNotFound, "no such user")
	case idBoom:
		return userapi.UserInfo{}, errors.New("boom")
	case idSlow:
		time.Sleep(200 * time.Millisecond) // past the caller's deadline, whatever ctx says
	}
	return userapi.UserInfo{UserID: a.UserID, UserName: "alice", Email: "alice@example.com", Age: 30,
		CreateTime: "2026-11-25 10:00:00", Tags: []string{"a", "b"}, Metadata: map[string]string{"k": "v"}}, nil
}

// pipeline is a tracer provider recording every span and a meter provider
// read by hand.
type pipeline struct {
	rec    *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
}

func newPipeline(t testing.TB) *pipeline {
	p := &pipeline{rec: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	p.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(p.rec))
	p.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(p.reader))
	t.Cleanup(func() {
		_ = p.tp.Shutdown(context.Background())
		_ = p.mp.Shutdown(context.Background())
	})
	return p
}

// serve starts a gotars server of userapi.GetUser (handler h) with the
// server options on a loopback port, and returns a client of it with the
// client options; both are stopped when the test ends.
func serve(t testing.TB, h func(context.Context, userapi.UserIDArgs) (userapi.UserInfo, error),
	sopts []tars.ServerOption, copts ...tars.ClientOption) (*tars.Server, *tars.Client) {
	t.Helper()
	srv, port := listen(t, h, sopts...)
	return srv, dial(t, fmt.Sprintf("tcp -h 127.0.0.1 -p %d -t 3000", port), copts...)
}

// listen starts a gotars server of userapi.GetUser (handler h) on a
// loopback port, stopped when the test ends.
func listen(t testing.TB, h func(context.Context, userapi.UserIDArgs) (userapi.UserInfo, error),
	sopts ...tars.ServerOption) (*tars.Server, int) {
	t.Helper()
	srv := tars.NewServer(sopts...)
	tars.Handle(srv, userapi.Servant, userapi.GetUser, h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-done
	})
	return srv, ln.Addr().(*net.TCPAddr).Port
}

// dial returns a client of userapi.Servant at the endpoints eps (TARS
// syntax), closed when the test ends (before the servers it calls stop).
func dial(t testing.TB, eps string, copts ...tars.ClientOption) *tars.Client {
	t.Helper()
	c, err := tars.NewClient(userapi.Servant+"@"+eps, copts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// middleware returns tarsotel's middleware with opts, failing the test on
// an error.
func middleware(t testing.TB, opts ...tarsotel.Option) tars.Middleware {
	t.Helper()
	mw, err := tarsotel.NewMiddleware(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return mw
}
