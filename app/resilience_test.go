package app_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/app"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/middleware/ratelimit"
)

var readEcho = tars.NewEndpoint[echoArgs, string](echoService, "readEcho", tars.Idempotent)

// The objects a TestClientResilienceFromConfig client calls.
const (
	otherObj   = "Test.Other.EchoObj"
	limitedObj = "Test.Limited.EchoObj"
)

// TestServantRateLimitFromConfig: servants.<s>.rate_limit and
// ….methods.<m>.rate_limit answer −9 before queueing, counted as
// overloads; other methods and servants are untouched.
func TestServantRateLimitFromConfig(t *testing.T) {
	cfg := baseConfig()
	sv := cfg.Servants[echoObj]
	sv.RateLimit = config.RateLimit{Rate: 0.001, Burst: 5}                                                         // no refill during the test
	sv.Methods = map[string]config.ServantMethod{"slowEcho": {RateLimit: config.RateLimit{Rate: 0.001, Burst: 2}}} // and slowEcho 2 of them
	cfg.Servants[echoObj] = sv
	a, err := app.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	registerEcho(a.Server(), nil)
	start(t, a)
	c := clientOf(t, echoObj, a.Addr(echoObj))
	var ok, refused int
	for i := range 4 {
		_, err := slowEcho.Call(context.Background(), c, echoArgs{S: fmt.Sprint(i)})
		switch {
		case err == nil:
			ok++
		case tars.CodeOf(err) == tars.CodeServerOverload && strings.Contains(err.Error(), "rate limit"):
			refused++
		default:
			t.Fatal(err)
		}
	}
	if ok != 2 || refused != 2 {
		t.Fatalf("slowEcho: %d answered, %d refused; want 2 and 2", ok, refused)
	}
	// The servant's bucket has 3 tokens left.
	ok, refused = 0, 0
	for range 5 {
		if _, err := echo.Call(context.Background(), c, echoArgs{S: "x"}); err == nil {
			ok++
		} else if tars.CodeOf(err) == tars.CodeServerOverload {
			refused++
		}
	}
	if ok != 3 || refused != 2 {
		t.Fatalf("echo: %d answered, %d refused; want 3 and 2", ok, refused)
	}
	if n := a.Server().Stats().Overloaded; n != 4 {
		t.Fatalf("Overloaded %d, want 4", n)
	}
}

// TestClientResilienceFromConfig: a client the app builds from
// client.objects.<o> retries idempotent calls (methods.*.retry) on another
// endpoint when one refuses them, opens that endpoint's breaker
// (endpoint_breaker), and holds its own rate (rate_limit).
func TestClientResilienceFromConfig(t *testing.T) {
	var refusedCalls atomic.Int32
	bad := tars.NewServer(tars.WithAdmission(func(string, string) error {
		refusedCalls.Add(1)
		return tars.NewError(tars.CodeServerOverload, "busy")
	}))
	good := tars.NewServer()
	for _, servant := range []string{otherObj, limitedObj} {
		tars.Handle(bad, servant, readEcho, func(context.Context, echoArgs) (string, error) { return "bad", nil })
		tars.Handle(good, servant, readEcho, func(_ context.Context, a echoArgs) (string, error) { return a.S, nil })
	}
	var eps []string
	for _, srv := range []*tars.Server{bad, good} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve(ln)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
		})
		eps = append(eps, fmt.Sprintf("tcp -h 127.0.0.1 -p %d -t 3000", ln.Addr().(*net.TCPAddr).Port))
	}
	cfg := baseConfig()
	cfg.Client.Objects = map[string]config.Object{
		otherObj: {
			Endpoints:       strings.Join(eps, ":"),
			EndpointBreaker: config.Breaker{Enabled: true, MinRequests: 3, Timeout: time.Minute},
			Methods:         map[string]config.Method{"*": {Retry: config.Retry{MaxAttempts: 2, Codes: []int{int(tars.CodeServerOverload)}}}},
		},
		// The rate-limited object: the same good server under another name.
		limitedObj: {Endpoints: eps[1], RateLimit: config.ClientRateLimit{Rate: 0.001, Burst: 2}},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	registerEcho(a.Server(), nil)
	start(t, a)
	for i := range 20 {
		got, err := readEcho.Call(context.Background(), mustClient(t, a, otherObj), echoArgs{S: fmt.Sprint(i)})
		if err != nil || got != fmt.Sprint(i) {
			t.Fatalf("call %d: %q, %v; want the good server's answer", i, got, err)
		}
	}
	// The bad endpoint's breaker opened after 3 refusals: it saw no more.
	if n := refusedCalls.Load(); n != 3 {
		t.Fatalf("the refusing server saw %d calls, want 3 (its breaker open after them)", n)
	}
	lc := mustClient(t, a, limitedObj)
	var limited int
	for range 4 {
		if _, err := readEcho.Call(context.Background(), lc, echoArgs{S: "x"}); errors.Is(err, ratelimit.ErrLimited) {
			limited++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if limited != 2 {
		t.Fatalf("%d calls over the client's rate limit, want 2", limited)
	}
}

func mustClient(t *testing.T, a *app.App, obj string) *tars.Client {
	t.Helper()
	c, err := a.Client(obj)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLifecycleAndEndpointMiddleware: WithLifecycle's start sees the built
// App before anything listens and its stop runs after the servers shut
// down; WithClientEndpointMiddleware runs on every attempt of the App's
// clients with the endpoint picked.
func TestLifecycleAndEndpointMiddleware(t *testing.T) {
	backend := tars.NewServer()
	tars.Handle(backend, otherObj, readEcho, func(_ context.Context, a echoArgs) (string, error) { return a.S, nil })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go backend.Serve(ln)
	t.Cleanup(func() { backend.Shutdown(context.Background()) })
	cfg := baseConfig()
	cfg.Client.Objects = map[string]config.Object{otherObj: {Endpoints: fmt.Sprintf("tcp -h 127.0.0.1 -p %d", ln.Addr().(*net.TCPAddr).Port)}}
	var order []string
	var attempts atomic.Int32
	ep := func(next tars.Invoker) tars.Invoker {
		return func(ctx context.Context, call *tars.Call) error {
			if call.Endpoint.Port > 0 {
				attempts.Add(1)
			}
			return next(ctx, call)
		}
	}
	var a *app.App
	a, err = app.New(cfg, app.WithClientEndpointMiddleware(ep),
		app.WithLifecycle(func(_ context.Context, got *app.App) error {
			if got != a || got.Addr(echoObj) != nil {
				return errors.New("start: not the App, or already listening")
			}
			order = append(order, "start")
			return nil
		}, func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				return errors.New("stop: no deadline")
			}
			order = append(order, "stop")
			return nil
		}),
		app.WithLifecycle(nil, func(context.Context) error { order = append(order, "stop2"); return errors.New("flush failed") }))
	if err != nil {
		t.Fatal(err)
	}
	registerEcho(a.Server(), nil)
	cancel, done := start(t, a)
	for i := range 3 {
		if _, err := readEcho.Call(context.Background(), mustClient(t, a, otherObj), echoArgs{S: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if attempts.Load() != 3 {
		t.Fatalf("endpoint middleware saw %d attempts, want 3", attempts.Load())
	}
	cancel()
	err = <-done
	if err == nil || !strings.Contains(err.Error(), "flush failed") {
		t.Fatalf("Run: %v, want the stop hook's error", err)
	}
	if strings.Join(order, ",") != "start,stop,stop2" {
		t.Fatalf("hooks ran %v", order)
	}
}

// TestFailedStartStops: when a lifecycle start fails, Run returns its error
// after the stops of the starts that ran before it, and Ready stays open.
func TestFailedStartStops(t *testing.T) {
	var order []string
	hook := func(name string, fail bool) app.Option {
		return app.WithLifecycle(func(context.Context, *app.App) error {
			if fail {
				return errors.New(name + " failed")
			}
			order = append(order, "start "+name)
			return nil
		}, func(context.Context) error { order = append(order, "stop "+name); return nil })
	}
	a, err := app.New(baseConfig(), hook("a", false), hook("b", true), hook("c", false))
	if err != nil {
		t.Fatal(err)
	}
	registerEcho(a.Server(), nil)
	err = a.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "b failed") {
		t.Fatalf("Run: %v, want the start's error", err)
	}
	if strings.Join(order, ",") != "start a,stop a" {
		t.Errorf("hooks ran %v, want start a, stop a", order)
	}
	select {
	case <-a.Ready():
		t.Error("Ready closed after a failed start")
	default:
	}
}

// TestServantsWithoutHandlersAreLogged: Run warns of a configured servant
// without handlers and of handlers of a servant not configured.
func TestServantsWithoutHandlersAreLogged(t *testing.T) {
	cfg := baseConfig()
	var log syncBuf
	a, err := app.New(cfg, app.WithLogWriter(&log))
	if err != nil {
		t.Fatal(err)
	}
	tars.Handle(a.Server(), otherObj, readEcho, func(_ context.Context, a echoArgs) (string, error) { return a.S, nil })
	if got := a.Server().Servants(); len(got) != 1 || got[0] != otherObj {
		t.Fatalf("Servants() = %v", got)
	}
	cancel, done := start(t, a)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`a configured servant has no handlers" servant=` + echoObj, `handlers of a servant the configuration does not name" servant=` + otherObj} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}
