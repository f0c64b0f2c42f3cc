package tarsdig_test

import (
	"context"
	"errors"
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
	"github.com/gotars/tars/tarsdig"
)

// TestListenFailsWhole: when one servant's endpoint cannot be bound, Listen
// fails naming it and leaves none of the others bound.
func TestListenFailsWhole(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := testConfig(map[string]string{"Test.A.AObj": "tcp", "Test.B.BObj": "tcp"})
	// Test.A.AObj sorts first and binds; Test.B.BObj asks for the taken port.
	cfg.Servants["Test.B.BObj"] = config.Servant{Endpoint: "tcp -h 127.0.0.1 -p " + port(taken.Addr()) + " -t 60000"}
	ls, err := tarsdig.Listen(cfg)
	if err == nil {
		ls.Close()
		t.Fatal("Listen on a taken port: no error")
	}
	if !strings.Contains(err.Error(), "servants.Test.B.BObj.endpoint") {
		t.Errorf("error %q does not name the servant's endpoint", err)
	}

	// Both servants on one fixed port share it.
	cfg.Servants["Test.A.AObj"] = cfg.Servants["Test.B.BObj"]
	taken.Close()
	ls, err = tarsdig.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	if a, b := ls.Addr("Test.A.AObj"), ls.Addr("Test.B.BObj"); a == nil || a.String() != b.String() {
		t.Errorf("servants on one port: %v and %v", a, b)
	}
	if ls.Addr("Test.C.CObj") != nil || ls.Endpoint("Test.C.CObj", "") != "" {
		t.Error("an unknown servant has an address")
	}
}

func port(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

// registry records what a server announces (a Registrar as Consul's is
// used: Register once listening, Deregister when Shutdown begins).
type registry struct {
	mu     sync.Mutex
	events []string
	refuse string // a servant whose registration fails
}

func (r *registry) Register(_ context.Context, reg discovery.Registration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if reg.Servant == r.refuse {
		return errors.New("registry refuses " + reg.Servant)
	}
	r.events = append(r.events, "+"+reg.Servant+" "+reg.Endpoint.HostPort())
	return nil
}

func (r *registry) Deregister(_ context.Context, reg discovery.Registration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, "-"+reg.Servant+" "+reg.Endpoint.HostPort())
	return nil
}

// TestRunAnnounces: with a discovery.Registrar in the container, Run
// announces each servant at its bound port, with server.local_ip for a
// servant listening on 0.0.0.0, and withdraws it at shutdown; the
// announced endpoint answers tars_ping.
func TestRunAnnounces(t *testing.T) {
	cfg := testConfig(map[string]string{echoObj: "tcp"})
	cfg.Servants[echoObj] = config.Servant{Endpoint: "tcp -h 0.0.0.0 -p 0 -t 60000"}
	cfg.Server.LocalIP = "127.0.0.1"
	reg := &registry{}
	c := newContainer(t, cfg,
		func(c *dig.Container) error {
			return c.Provide(func() tarsdig.Servant { return named(echoObj) }, dig.Group(tarsdig.ServantGroup))
		},
		func(c *dig.Container) error {
			return c.Provide(func() discovery.Registrar { return reg })
		})
	r := start(t, c)
	ep := r.ls.Endpoint(echoObj, cfg.Server.LocalIP)
	cl, err := tars.NewClient(echoObj + "@" + ep)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		t.Fatalf("ping %s: %v", ep, err)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	hp := "127.0.0.1:" + port(r.ls.Addr(echoObj))
	want := []string{"+" + echoObj + " " + hp, "-" + echoObj + " " + hp}
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if !slices.Equal(reg.events, want) {
		t.Errorf("registrar saw %v, want %v", reg.events, want)
	}

	// Without local_ip a 0.0.0.0 servant cannot be announced.
	cfg2 := testConfig(map[string]string{echoObj: "tcp"})
	cfg2.Servants[echoObj] = config.Servant{Endpoint: "tcp -h 0.0.0.0 -p 0 -t 60000"}
	c2 := newContainer(t, cfg2,
		func(c *dig.Container) error {
			return c.Provide(func() tarsdig.Servant { return named(echoObj) }, dig.Group(tarsdig.ServantGroup))
		},
		func(c *dig.Container) error { return c.Provide(func() discovery.Registrar { return &registry{} }) })
	if err := tarsdig.Run(context.Background(), c2); err == nil || !strings.Contains(err.Error(), "server.local_ip") {
		t.Errorf("Run announcing 0.0.0.0 without local_ip: %v", err)
	}
}

// TestRunWithdrawsOnAnnounceError: when a registration fails, Run fails
// with it and withdraws what it had registered, leaving nothing bound.
func TestRunWithdrawsOnAnnounceError(t *testing.T) {
	const other = "Test.EchoServer.ZObj" // sorts after echoObj: registered second
	cfg := testConfig(map[string]string{echoObj: "tcp", other: "tcp"})
	reg := &registry{refuse: other}
	c := newContainer(t, cfg,
		func(c *dig.Container) error {
			return c.Provide(func() tarsdig.Servant { return named(echoObj) }, dig.Group(tarsdig.ServantGroup))
		},
		func(c *dig.Container) error {
			return c.Provide(func() tarsdig.Servant { return named(other) }, dig.Group(tarsdig.ServantGroup))
		},
		func(c *dig.Container) error { return c.Provide(func() discovery.Registrar { return reg }) })
	var addr string
	err := tarsdig.Run(context.Background(), c, tarsdig.WithReady(func(ls *tarsdig.Listeners) { addr = ls.Addr(echoObj).String() }))
	if err == nil || !strings.Contains(err.Error(), "registry refuses "+other) {
		t.Fatalf("Run: %v, want the registration error", err)
	}
	reg.mu.Lock()
	events := slices.Clone(reg.events)
	reg.mu.Unlock()
	hp := "127.0.0.1:" + port(mustAddr(t, addr))
	if want := []string{"+" + echoObj + " " + hp, "-" + echoObj + " " + hp}; !slices.Equal(events, want) {
		t.Errorf("registrar saw %v, want %v", events, want)
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after Run failed", addr)
	}
}

func mustAddr(t *testing.T, s string) net.Addr {
	t.Helper()
	a, err := net.ResolveTCPAddr("tcp", s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
