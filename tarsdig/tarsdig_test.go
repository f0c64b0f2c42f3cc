package tarsdig_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/dig"

	"github.com/gotars/tars"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/discovery/tarsregistry"
	"github.com/gotars/tars/tarsdig"
	"github.com/gotars/tars/transport"
)

// The test service: echo returns its argument with the server's tag.
type echoArgs struct {
	S string `tars:"1,name=s"`
}

var (
	echoService = tars.NewService("Echo")
	echo        = tars.NewEndpoint[echoArgs, string](echoService, "echo")
)

const echoObj = "Test.EchoServer.EchoObj"

// testConfig is a valid configuration with servants on 127.0.0.1:0 (each
// servant name given maps to its network).
func testConfig(servants map[string]string) *config.Config {
	c := config.Default()
	c.Server.App, c.Server.Server = "Test", "EchoServer"
	c.Server.GraceTimeout = 5 * time.Second
	c.Servants = map[string]config.Servant{}
	for n, network := range servants {
		c.Servants[n] = config.Servant{Endpoint: network + " -h 127.0.0.1 -p 0 -t 60000"}
	}
	return &c
}

// echoServant serves echo, answering tag+s.
func echoServant(name, tag string) tarsdig.Servant {
	return tarsdig.Servant{Name: name, Register: func(srv *tars.Server, servant string) {
		tars.Handle(srv, servant, echo, func(_ context.Context, a echoArgs) (string, error) { return tag + a.S, nil })
	}}
}

// newContainer provides cfg, the package's providers and extra
// constructors (each with its provide options).
func newContainer(t *testing.T, cfg *config.Config, provide ...func(*dig.Container) error) *dig.Container {
	t.Helper()
	c := dig.New()
	if err := c.Provide(func() *config.Config { return cfg }); err != nil {
		t.Fatal(err)
	}
	if err := tarsdig.Provide(c); err != nil {
		t.Fatal(err)
	}
	for _, p := range provide {
		if err := p(c); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// running is an application started with tarsdig.Run.
type running struct {
	ls   *tarsdig.Listeners
	stop func() error // cancels Run's context and returns its error
}

func start(t *testing.T, c *dig.Container) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *tarsdig.Listeners, 1)
	done := make(chan error, 1)
	go func() { done <- tarsdig.Run(ctx, c, tarsdig.WithReady(func(ls *tarsdig.Listeners) { ready <- ls })) }()
	r := &running{}
	var once sync.Once
	var runErr error
	r.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(10 * time.Second):
				runErr = errors.New("Run did not return within 10s of its context ending")
			}
		})
		return runErr
	}
	t.Cleanup(func() { r.stop() })
	select {
	case r.ls = <-ready:
	case err := <-done:
		t.Fatalf("Run returned before listening: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not listen within 10s")
	}
	return r
}

func callEcho(t *testing.T, c *tars.Client, s string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := echo.Call(ctx, c, echoArgs{S: s})
	if err != nil {
		t.Fatalf("echo(%q): %v", s, err)
	}
	return got
}

// TestRunServesEveryNetwork wires a server with a TCP and a UDP servant
// through dig, calls each over a real socket with a client built by
// Clients (its endpoints from a decorated resolver), and shuts down
// gracefully when the context ends.
func TestRunServesEveryNetwork(t *testing.T) {
	const udpObj = "Test.EchoServer.UdpObj"
	cfg := testConfig(map[string]string{echoObj: "tcp", udpObj: "udp"})
	static := map[string]*discovery.StaticResolver{echoObj: discovery.NewStatic(), udpObj: discovery.NewStatic()}
	c := newContainer(t, cfg,
		func(c *dig.Container) error {
			return c.Provide(func() tarsdig.Servant { return echoServant(echoObj, "tcp:") }, dig.Group(tarsdig.ServantGroup))
		},
		func(c *dig.Container) error {
			return c.Provide(func() tarsdig.Servant { return echoServant(udpObj, "udp:") }, dig.Group(tarsdig.ServantGroup))
		},
		func(c *dig.Container) error {
			// No locator: NewResolver gives nil, and the application decorates it.
			return c.Decorate(func(r discovery.Resolver) discovery.Resolver {
				if r != nil {
					t.Errorf("NewResolver without a locator = %T, want nil", r)
				}
				return byServant(static)
			})
		},
	)
	r := start(t, c)
	for obj, s := range static {
		a, err := transport.ParseAddress(r.ls.Endpoint(obj, ""))
		if err != nil {
			t.Fatal(err)
		}
		if a.Port == 0 {
			t.Fatalf("%s: endpoint %s still has port 0", obj, a)
		}
		s.Update(discovery.FromAddress(a))
	}
	if err := c.Invoke(func(cs *tarsdig.Clients) {
		for obj, want := range map[string]string{echoObj: "tcp:hi", udpObj: "udp:hi"} {
			cl, err := cs.Get(obj)
			if err != nil {
				t.Fatal(err)
			}
			if again, _ := cs.Get(obj); again != cl {
				t.Errorf("Get(%s) twice returned two clients", obj)
			}
			if got := callEcho(t, cl, "hi"); got != want {
				t.Errorf("%s: echo = %q, want %q", obj, got, want)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := r.stop(); err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
	if err := c.Invoke(func(cs *tarsdig.Clients) {
		if _, err := cs.Get(echoObj); !errors.Is(err, tarsdig.ErrClosed) {
			t.Errorf("Get after Run returned: %v, want ErrClosed", err)
		}
	}); err != nil {
		t.Fatal(err)
	}
}

// byServant resolves each servant through its own static resolver.
type byServant map[string]*discovery.StaticResolver

func (b byServant) Watch(ctx context.Context, t discovery.Target, publish func(discovery.State)) error {
	r, ok := b[t.Servant]
	if !ok {
		return fmt.Errorf("no resolver for %s", t.Servant)
	}
	return r.Watch(ctx, t, publish)
}

// TestChainsRunInOrder: the server and client middleware groups become
// chains in Order (then Name), whatever order dig hands them over in.
func TestChainsRunInOrder(t *testing.T) {
	var mu sync.Mutex
	var trace []string
	mark := func(name string) tars.Middleware {
		return func(next tars.Invoker) tars.Invoker {
			return func(ctx context.Context, call *tars.Call) error {
				mu.Lock()
				trace = append(trace, name)
				mu.Unlock()
				return next(ctx, call)
			}
		}
	}
	cfg := testConfig(map[string]string{echoObj: "tcp"})
	static := discovery.NewStatic()
	var provides []func(*dig.Container) error
	for _, m := range []struct {
		group, name string
		order       int
	}{
		{tarsdig.ServerMiddlewareGroup, "s-late", 20},
		{tarsdig.ServerMiddlewareGroup, "s-b", 10},
		{tarsdig.ServerMiddlewareGroup, "s-a", 10},
		{tarsdig.ClientMiddlewareGroup, "c-late", 5},
		{tarsdig.ClientMiddlewareGroup, "c-early", -5},
		{tarsdig.EndpointMiddlewareGroup, "e", 0},
	} {
		provides = append(provides, func(c *dig.Container) error {
			return c.Provide(func() tarsdig.Middleware {
				return tarsdig.Middleware{Name: m.name, Order: m.order, Middleware: mark(m.name)}
			}, dig.Group(m.group))
		})
	}
	provides = append(provides,
		func(c *dig.Container) error {
			return c.Provide(func() tarsdig.Servant { return echoServant(echoObj, "") }, dig.Group(tarsdig.ServantGroup))
		},
		func(c *dig.Container) error {
			return c.Decorate(func(discovery.Resolver) discovery.Resolver { return static })
		})
	c := newContainer(t, cfg, provides...)
	r := start(t, c)
	a, _ := transport.ParseAddress(r.ls.Endpoint(echoObj, ""))
	static.Update(discovery.FromAddress(a))
	if err := c.Invoke(func(cs *tarsdig.Clients) {
		cl, err := cs.New(echoObj)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		callEcho(t, cl, "x")
	}); err != nil {
		t.Fatal(err)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	want := []string{"c-early", "c-late", "e", "s-a", "s-b", "s-late"}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(trace, want) {
		t.Errorf("middleware ran %v, want %v", trace, want)
	}
}

// TestClientsStaticEndpointsAndRegistry: an object with static endpoints
// in the config is dialled directly; one without goes through the TARS
// registry named by client.locator (a real QueryF served by gotars).
func TestClientsStaticEndpointsAndRegistry(t *testing.T) {
	// A backend served apart, and a registry that lists it for echoObj.
	backend := tars.NewServer()
	echoServant(echoObj, "backend:").Register(backend, echoObj)
	bln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := bln.Addr().(*net.TCPAddr).Port
	registry := tars.NewServer()
	var asked sync.Map
	tars.Handle(registry, tarsregistry.QueryObj, tarsregistry.FindObjectByIDInSameGroup, func(_ context.Context, a tarsregistry.IDArgs) (tarsregistry.Lists, error) {
		asked.Store(a.ID, true)
		if a.ID != echoObj {
			return tarsregistry.Lists{Ret: -1}, nil
		}
		return tarsregistry.Lists{Active: []tarsregistry.EndpointF{{Host: "127.0.0.1", Port: int32(port), Timeout: 3000, IsTCP: 1}}}, nil
	})
	rln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { backend.Serve(bln) })
	wg.Go(func() { registry.Serve(rln) })
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		backend.Shutdown(ctx)
		registry.Shutdown(ctx)
		wg.Wait()
	}()

	const staticObj = "Test.Static.EchoObj"
	cfg := config.Default()
	cfg.Client.Locator = fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d", tarsregistry.QueryObj, rln.Addr().(*net.TCPAddr).Port)
	cfg.Client.Objects = map[string]config.Object{
		// The backend serves echoObj only; calling it as staticObj through
		// static endpoints must reach it (and fail with "no servant").
		staticObj: {Endpoints: fmt.Sprintf("tcp -h 127.0.0.1 -p %d -t 3000", port), Balancer: "random"},
	}
	c := newContainer(t, &cfg)
	if err := c.Invoke(func(cs *tarsdig.Clients, r discovery.Resolver) {
		if _, ok := r.(*tarsregistry.Resolver); !ok {
			t.Errorf("NewResolver with a locator = %T, want *tarsregistry.Resolver", r)
		}
		defer cs.Close()
		cl, err := cs.Get(echoObj)
		if err != nil {
			t.Fatal(err)
		}
		if got := callEcho(t, cl, "via registry"); got != "backend:via registry" {
			t.Errorf("echo = %q", got)
		}
		if _, ok := asked.Load(echoObj); !ok {
			t.Error("the registry was not asked for", echoObj)
		}
		sc, err := cs.Get(staticObj)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := sc.Ping(ctx); err != nil {
			t.Errorf("ping %s over its static endpoints: %v", staticObj, err)
		}
		if _, ok := asked.Load(staticObj); ok {
			t.Errorf("the registry was asked for %s, which has static endpoints", staticObj)
		}
		if _, err := cs.Get(echoObj + "@tcp -h 127.0.0.1 -p 1"); err == nil {
			t.Error("Get of an object string with endpoints: no error")
		}
	}); err != nil {
		t.Fatal(err)
	}
}

// TestWiringErrors: a wiring that cannot work is refused when it is
// invoked, with an error naming what is wrong; nothing is left bound.
func TestWiringErrors(t *testing.T) {
	nilMW := func(group string) func(*dig.Container) error {
		return func(c *dig.Container) error {
			return c.Provide(func() tarsdig.Middleware { return tarsdig.Middleware{Name: "broken"} }, dig.Group(group))
		}
	}
	dupMW := func(c *dig.Container) error {
		for range 2 {
			if err := c.Provide(func() tarsdig.Middleware {
				return tarsdig.Middleware{Name: "twin", Middleware: func(n tars.Invoker) tars.Invoker { return n }}
			}, dig.Group(tarsdig.ClientMiddlewareGroup)); err != nil {
				return err
			}
		}
		return nil
	}
	servant := func(s tarsdig.Servant) func(*dig.Container) error {
		return func(c *dig.Container) error {
			return c.Provide(func() tarsdig.Servant { return s }, dig.Group(tarsdig.ServantGroup))
		}
	}
	for _, tc := range []struct {
		name    string
		cfg     func(*config.Config)
		provide []func(*dig.Container) error
		invoke  any
		want    string
	}{
		{"servant not configured", nil, []func(*dig.Container) error{servant(named(echoObj)), servant(echoServant("Test.EchoServer.OtherObj", ""))},
			func(*tars.Server) {}, "servant \"Test.EchoServer.OtherObj\" is not configured"},
		{"configured servant not provided", nil, nil, func(*tars.Server) {}, "servants." + echoObj + " is configured but no servant"},
		{"servant without Register", nil, []func(*dig.Container) error{servant(tarsdig.Servant{Name: echoObj})},
			func(*tars.Server) {}, "has no Register function"},
		{"nil server middleware", nil, []func(*dig.Container) error{servant(named(echoObj)), nilMW(tarsdig.ServerMiddlewareGroup)},
			func(*tars.Server) {}, `tars.server.middleware: middleware "broken" is nil`},
		{"duplicate client middleware", nil, nil, func(*tarsdig.Clients) {}, `two middleware named "twin"`},
		{"invalid config", func(c *config.Config) { c.Client.Timeout = -1 }, nil, func(*tarsdig.Clients) {}, "client.timeout"},
		{"no endpoints and no resolver", nil, nil, func(cs *tarsdig.Clients) error { _, err := cs.Get(echoObj); return err },
			"no client.objects." + echoObj + ".endpoints and no resolver"},
		{"not_tars", func(c *config.Config) { s := c.Servants[echoObj]; s.Protocol = "not_tars"; c.Servants[echoObj] = s },
			[]func(*dig.Container) error{servant(named(echoObj))}, nil, "not_tars is not served"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(map[string]string{echoObj: "tcp"})
			if tc.cfg != nil {
				tc.cfg(cfg)
			}
			provide := tc.provide
			if tc.name == "duplicate client middleware" {
				provide = append(provide, dupMW)
			}
			c := newContainer(t, cfg, provide...)
			var err error
			if tc.invoke != nil {
				err = c.Invoke(tc.invoke)
			} else {
				err = tarsdig.Run(context.Background(), c)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// named is the echo servant of that name, for the wiring table.
func named(name string) tarsdig.Servant { return echoServant(name, "") }
