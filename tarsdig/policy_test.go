package tarsdig_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/dig"

	"github.com/gotars/tars"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/tarsdig"
	"github.com/gotars/tars/transport"
)

var slow = tars.NewEndpoint[echoArgs, string](echoService, "slow")

// TestMethodTimeouts: a call without a deadline gets its method's timeout
// (client.objects.<obj>.methods.<m>.timeout), others client.timeout; the
// server sees it in the request's timeout, and the slow method's call
// fails with the invoke timeout instead of waiting for client.timeout.
func TestMethodTimeouts(t *testing.T) {
	cfg := testConfig(map[string]string{echoObj: "tcp"})
	cfg.Client.Timeout = 5 * time.Second
	cfg.Client.Objects = map[string]config.Object{echoObj: {Methods: map[string]config.Method{"slow": {Timeout: 150 * time.Millisecond}}}}
	var mu sync.Mutex
	seen := map[string]time.Duration{}
	static := discovery.NewStatic()
	c := newContainer(t, cfg,
		func(c *dig.Container) error {
			return c.Provide(func() tarsdig.Servant {
				return tarsdig.Servant{Name: echoObj, Register: func(srv *tars.Server, servant string) {
					tars.Handle(srv, servant, echo, func(_ context.Context, a echoArgs) (string, error) { return a.S, nil })
					tars.Handle(srv, servant, slow, func(ctx context.Context, a echoArgs) (string, error) {
						<-ctx.Done() // the caller's timeout, carried in the request
						return "", ctx.Err()
					})
				}}
			}, dig.Group(tarsdig.ServantGroup))
		},
		func(c *dig.Container) error {
			return c.Provide(func() tarsdig.Middleware {
				return tarsdig.Middleware{Name: "seen", Middleware: func(next tars.Invoker) tars.Invoker {
					return func(ctx context.Context, call *tars.Call) error {
						mu.Lock()
						seen[call.Method] = call.Timeout
						mu.Unlock()
						return next(ctx, call)
					}
				}}
			}, dig.Group(tarsdig.ServerMiddlewareGroup))
		},
		func(c *dig.Container) error {
			return c.Decorate(func(discovery.Resolver) discovery.Resolver { return static })
		})
	r := start(t, c)
	a, _ := transport.ParseAddress(r.ls.Endpoint(echoObj, ""))
	static.Update(discovery.FromAddress(a))
	if err := c.Invoke(func(cs *tarsdig.Clients) {
		cl, err := cs.Get(echoObj)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := echo.Call(context.Background(), cl, echoArgs{S: "x"}); err != nil {
			t.Fatal(err)
		}
		_, err = slow.Call(context.Background(), cl, echoArgs{S: "x"})
		if code := tars.CodeOf(err); code != tars.CodeInvokeTimeout {
			t.Errorf("slow without a deadline: %v (code %d), want the invoke timeout", err, code)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if d := seen["slow"]; d <= 0 || d > 150*time.Millisecond {
		t.Errorf("the server saw slow's timeout %v, want at most the method's 150ms", d)
	}
	if d := seen["echo"]; d <= time.Second {
		t.Errorf("the server saw echo's timeout %v, want client.timeout's 5s", d)
	}
}

// TestServantRateLimit: servants.<s>.rate_limit holds tarsdig's server to
// its rate as it holds the runner's: −9 once the burst is spent.
func TestServantRateLimit(t *testing.T) {
	cfg := testConfig(map[string]string{echoObj: "tcp"})
	sv := cfg.Servants[echoObj]
	sv.RateLimit = config.RateLimit{Rate: 0.001, Burst: 2} // no refill during the test
	cfg.Servants[echoObj] = sv
	static := discovery.NewStatic()
	c := newContainer(t, cfg,
		func(c *dig.Container) error {
			return c.Provide(func() tarsdig.Servant {
				return tarsdig.Servant{Name: echoObj, Register: func(srv *tars.Server, servant string) {
					tars.Handle(srv, servant, echo, func(_ context.Context, a echoArgs) (string, error) { return a.S, nil })
				}}
			}, dig.Group(tarsdig.ServantGroup))
		},
		func(c *dig.Container) error {
			return c.Decorate(func(discovery.Resolver) discovery.Resolver { return static })
		})
	r := start(t, c)
	a, _ := transport.ParseAddress(r.ls.Endpoint(echoObj, ""))
	static.Update(discovery.FromAddress(a))
	if err := c.Invoke(func(cs *tarsdig.Clients) {
		cl, err := cs.Get(echoObj)
		if err != nil {
			t.Fatal(err)
		}
		var codes []tars.Code
		for range 3 {
			_, err := echo.Call(context.Background(), cl, echoArgs{S: "x"})
			codes = append(codes, tars.CodeOf(err))
		}
		if codes[0] != tars.CodeSuccess || codes[1] != tars.CodeSuccess || codes[2] != tars.CodeServerOverload {
			t.Errorf("codes %v, want 0, 0, %d", codes, tars.CodeServerOverload)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
}
