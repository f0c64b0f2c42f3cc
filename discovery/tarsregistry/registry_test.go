package tarsregistry_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gotars/tars"
	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/discovery/tarsregistry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// query is one call the test registry answered.
type query struct {
	Method, ID, SetID string
	Context           map[string]string
}

// registry is a TARS registry served by gotars: QueryF's lookups answered
// from tables the test edits while resolvers watch.
type registry struct {
	mu      sync.Mutex
	group   map[string]tarsregistry.Lists               // InSameGroup and 4All, by servant
	any     map[string]tarsregistry.Lists               // 4Any, by servant (group's when absent)
	sets    map[string]map[string]tarsregistry.SetLists // InSameSet, by servant and set
	fail    error                                       // every lookup fails with it when set
	queries []query
	asked   chan struct{} // a token per answered query

	srv     *tars.Server
	port    int
	locator string
}

func newRegistry(t *testing.T) *registry { return newRegistryAt(t, "127.0.0.1:0") }

// newRegistryAt serves the registry on addr.
func newRegistryAt(t *testing.T, addr string) *registry {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	r := &registry{
		group: map[string]tarsregistry.Lists{}, any: map[string]tarsregistry.Lists{},
		sets: map[string]map[string]tarsregistry.SetLists{}, asked: make(chan struct{}, 1000),
		srv: tars.NewServer(), port: ln.Addr().(*net.TCPAddr).Port,
	}
	r.locator = fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d -t 3000", tarsregistry.QueryObj, r.port)
	byID := func(name string, table func(id string) (tarsregistry.Lists, bool)) func(context.Context, tarsregistry.IDArgs) (tarsregistry.Lists, error) {
		return func(ctx context.Context, a tarsregistry.IDArgs) (tarsregistry.Lists, error) {
			if err := r.record(ctx, name, a.ID, ""); err != nil {
				return tarsregistry.Lists{}, err
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			l, _ := table(a.ID)
			return l, nil // an unknown servant: ret 0, empty lists (as the registry's DbHandle)
		}
	}
	group := func(id string) (tarsregistry.Lists, bool) { l, ok := r.group[id]; return l, ok }
	tars.Handle(r.srv, tarsregistry.QueryObj, tarsregistry.FindObjectByIDInSameGroup, byID("findObjectByIdInSameGroup", group))
	tars.Handle(r.srv, tarsregistry.QueryObj, tarsregistry.FindObjectByID4All, byID("findObjectById4All", group))
	tars.Handle(r.srv, tarsregistry.QueryObj, tarsregistry.FindObjectByID4Any, byID("findObjectById4Any", func(id string) (tarsregistry.Lists, bool) {
		if l, ok := r.any[id]; ok {
			return l, true
		}
		return group(id)
	}))
	tars.Handle(r.srv, tarsregistry.QueryObj, tarsregistry.FindObjectByIDInSameSet, func(ctx context.Context, a tarsregistry.SetArgs) (tarsregistry.SetLists, error) {
		if err := r.record(ctx, "findObjectByIdInSameSet", a.ID, a.SetID); err != nil {
			return tarsregistry.SetLists{}, err
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if l, ok := r.sets[a.ID][a.SetID]; ok {
			return l, nil
		}
		if g, ok := r.group[a.ID]; ok && r.sets[a.ID] == nil { // no set enabled: the group's (QueryImp)
			return tarsregistry.SetLists{Active: g.Active, Inactive: g.Inactive}, nil
		}
		return tarsregistry.SetLists{Ret: -1}, nil
	})
	go r.srv.Serve(ln)
	t.Cleanup(r.stop)
	return r
}

func (r *registry) record(ctx context.Context, method, id, set string) error {
	call, _ := tars.CallFromContext(ctx)
	r.mu.Lock()
	r.queries = append(r.queries, query{Method: method, ID: id, SetID: set, Context: maps.Clone(call.Context)})
	err := r.fail
	r.mu.Unlock()
	select {
	case r.asked <- struct{}{}:
	default:
	}
	return err
}

func (r *registry) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.srv.Shutdown(ctx)
}

func (r *registry) setGroup(servant string, active, inactive []tarsregistry.EndpointF) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.group[servant] = tarsregistry.Lists{Active: active, Inactive: inactive}
}

func (r *registry) setFail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = err
}

func (r *registry) lastQuery(t *testing.T) query {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.queries) == 0 {
		t.Fatal("the registry was never asked")
	}
	return r.queries[len(r.queries)-1]
}

// ep is a TCP EndpointF on 127.0.0.1.
func ep(port int32) tarsregistry.EndpointF {
	return tarsregistry.EndpointF{Host: "127.0.0.1", Port: port, Timeout: 3000, IsTCP: tarsregistry.IsTCP}
}

func eps(ports ...int32) []tarsregistry.EndpointF {
	out := make([]tarsregistry.EndpointF, len(ports))
	for i, p := range ports {
		out[i] = ep(p)
	}
	return out
}

// watch runs r.Watch(t) until the test ends and returns the published
// states.
type watch struct {
	states chan discovery.State
	done   chan error
	cancel context.CancelFunc
}

func startWatch(t *testing.T, res discovery.Resolver, target discovery.Target) *watch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watch{states: make(chan discovery.State, 1000), done: make(chan error, 1), cancel: cancel}
	go func() {
		w.done <- res.Watch(ctx, target, func(s discovery.State) {
			select {
			case w.states <- s:
			default:
				panic("test: too many states")
			}
		})
	}()
	t.Cleanup(func() { w.stop(t) })
	return w
}

func (w *watch) stop(t *testing.T) {
	w.cancel()
	select {
	case err := <-w.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Watch returned %v, want context.Canceled", err)
		}
		w.done <- err // for a second stop
	case <-time.After(5 * time.Second):
		t.Error("Watch did not return after its context ended")
	}
}

// next waits for the next published state.
func (w *watch) next(t *testing.T) discovery.State {
	t.Helper()
	select {
	case s := <-w.states:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no state published within 10s")
		return discovery.State{}
	}
}

// until waits for a state that satisfies ok.
func (w *watch) until(t *testing.T, what string, ok func(discovery.State) bool) discovery.State {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s := <-w.states:
			if ok(s) {
				return s
			}
		case <-deadline:
			t.Fatalf("no state with %s within 10s", what)
		}
	}
}

// ports lists the endpoints' ports in order.
func ports(eps []discovery.Endpoint) []int {
	out := make([]int, len(eps))
	for i, e := range eps {
		out[i] = e.Port
	}
	return out
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// quietly: a short refresh, so tests see several queries.
func fast(opts ...tarsregistry.Option) []tarsregistry.Option {
	return append([]tarsregistry.Option{
		tarsregistry.WithRefreshInterval(20 * time.Millisecond),
		tarsregistry.WithRetryInterval(10 * time.Millisecond),
		tarsregistry.WithQueryTimeout(2 * time.Second),
	}, opts...)
}

func newResolver(t *testing.T, locator string, opts ...tarsregistry.Option) *tarsregistry.Resolver {
	t.Helper()
	r, err := tarsregistry.New(locator, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
