package interop

// gotars' client calling through a TARS registry served by TarsGo's
// generated QueryF dispatch: it resolves, balances and fails over; and for
// the same hash code it picks the backend TarsGo's own client picks.

import (
	"context"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	tarsgo "github.com/TarsCloud/TarsGo/tars"
	"github.com/TarsCloud/TarsGo/tars/util/current"

	"github.com/gotars/tars"
	"github.com/gotars/tars/discovery/tarsregistry"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/example/userservice/userserver"
	UserService "github.com/gotars/tars/interop/gen/UserService"
	"github.com/gotars/tars/lb"
)

// namedServer is a gotars example server on host whose user 1 is named
// after it, so that a getUser(1) says which server answered.
type namedServer struct {
	srv  *tars.Server
	addr string
	done chan error
	once sync.Once
}

func startNamed(t *testing.T, host string) *namedServer {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Skipf("cannot listen on %s: %v", host, err)
	}
	store := userserver.NewStore()
	if _, err := store.CreateUser(context.Background(), userapi.UserInfoArgs{UserInfo: userapi.UserInfo{UserName: ln.Addr().String(), Email: "x@y"}}); err != nil {
		t.Fatal(err)
	}
	s := &namedServer{srv: tars.NewServer(), addr: ln.Addr().String(), done: make(chan error, 1)}
	userserver.Register(s.srv, userapi.Servant, store)
	go func() { s.done <- s.srv.Serve(ln) }()
	t.Cleanup(s.stop)
	return s
}

func (s *namedServer) stop() {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.srv.Shutdown(ctx)
		<-s.done
	})
}

func registryClient(t *testing.T, locator string, opts ...tars.ClientOption) *tars.Client {
	t.Helper()
	r, err := tarsregistry.New(locator, tarsregistry.WithRefreshInterval(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	c, err := tars.NewClient(userapi.Servant, append([]tars.ClientOption{tars.WithResolver(r)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// whoAnswers calls getUser(1) and returns the name of the server that
// answered.
func whoAnswers(ctx context.Context, c *tars.Client) (string, error) {
	u, err := userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: 1})
	return u.UserName, err
}

func TestRegistryClientBalancesAndFailsOver(t *testing.T) {
	var servers []*namedServer
	var eps []tarsregistry.EndpointF
	for range 3 {
		s := startNamed(t, "127.0.0.1")
		servers = append(servers, s)
		eps = append(eps, endpointOf(t, s.addr, ""))
	}
	reg := newTGRegistry()
	reg.group[userapi.Servant] = tgLists{active: tgEndpoints(eps)}
	c := registryClient(t, serveTGRegistry(t, reg))
	ctx := context.Background()
	count := func(n int) map[string]int {
		got := map[string]int{}
		for range n {
			who, err := whoAnswers(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			got[who]++
		}
		return got
	}
	got := count(300)
	for _, s := range servers {
		if got[s.addr] != 100 {
			t.Fatalf("round robin over the registry's three endpoints: %v", got)
		}
	}
	// One server stops: its calls fail over (its connection is refused, so
	// nothing was sent) and its share spreads over both live ones.
	servers[0].stop()
	got = count(300)
	if got[servers[0].addr] != 0 || got[servers[1].addr] < 100 || got[servers[2].addr] < 100 {
		t.Fatalf("after a server stopped: %v", got)
	}
	// The registry drops it: the next refresh takes it out for good.
	reg.mu.Lock()
	reg.group[userapi.Servant] = tgLists{active: tgEndpoints(eps[1:])}
	reg.mu.Unlock()
	time.Sleep(500 * time.Millisecond)
	got = count(200)
	if got[servers[1].addr] != 100 || got[servers[2].addr] != 100 {
		t.Fatalf("after the registry dropped it: %v", got)
	}
}

// TestRegistryHashAgreesWithTarsGo: gotars' client and TarsGo's, both
// resolving through the same registry, send a call with the same hash code
// to the same backend — consistent and modulo hash. The three servers are
// on three loopback hosts (the ring is keyed by host).
func TestRegistryHashAgreesWithTarsGo(t *testing.T) {
	var eps []tarsregistry.EndpointF
	for _, host := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"} {
		s := startNamed(t, host)
		ep := endpointOf(t, s.addr, "")
		ep.Timeout = 3000
		eps = append(eps, ep)
	}
	reg := newTGRegistry()
	reg.group[userapi.Servant] = tgLists{active: tgEndpoints(eps)}
	locator := serveTGRegistry(t, reg)
	ours := registryClient(t, locator)
	comm := tarsgo.NewCommunicator()
	comm.SetProperty("locator", locator)
	theirs := UserService.NewUserServiceClient(userapi.Servant, comm)

	rng := rand.New(rand.NewPCG(8, 9))
	for _, kind := range []struct {
		name string
		lb   lb.HashType
		tg   int
	}{{"consistent", lb.ConsistentHash, int(tarsgo.ConsistentHash)}, {"modulo", lb.ModHash, int(tarsgo.ModHash)}} {
		seen := map[string]bool{}
		for range 200 {
			code := rng.Uint32()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			who, err := whoAnswers(lb.WithHash(ctx, kind.lb, code), ours)
			if err != nil {
				cancel()
				t.Fatal(err)
			}
			tctx := current.ContextWithClientCurrent(ctx)
			current.SetClientHash(tctx, kind.tg, code)
			u, err := theirs.GetUserWithContext(tctx, 1)
			if err != nil {
				cancel()
				t.Fatal(err)
			}
			cancel()
			if u.UserName != who {
				t.Fatalf("%s hash %d: gotars picked %s, TarsGo %s", kind.name, code, who, u.UserName)
			}
			seen[who] = true
		}
		if len(seen) != 3 {
			t.Fatalf("%s hash: 200 codes reached %d of 3 backends", kind.name, len(seen))
		}
	}
}
