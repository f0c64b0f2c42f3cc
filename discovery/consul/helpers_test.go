package consul

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/transport"
)

// waitBound bounds every wait for a published state. Updates arrive within
// one blocking query (milliseconds); the bound only keeps a broken test
// from hanging, and is far below the watches' wait time (1 min), so a state
// that arrives proves the query woke on the change rather than timed out.
const waitBound = 20 * time.Second

// fast are the resolver options of most tests: a wait time far above
// waitBound, and short back-offs so restarts are quick.
var fast = []ResolverOption{WithWaitTime(time.Minute), WithMinInterval(20 * time.Millisecond),
	WithBackoff(50*time.Millisecond, 500*time.Millisecond)}

func opts(extra ...ResolverOption) []ResolverOption {
	return append(append([]ResolverOption{}, fast...), extra...)
}

// watcher runs one Watch and collects what it publishes.
type watcher struct {
	states chan discovery.State
	cancel context.CancelFunc
	done   chan error
	last   discovery.State
}

func startWatch(t *testing.T, r *Resolver, target discovery.Target) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{states: make(chan discovery.State, 1000), cancel: cancel, done: make(chan error, 1)}
	go func() { w.done <- r.Watch(ctx, target, func(s discovery.State) { w.states <- s }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-w.done:
		case <-time.After(10 * time.Second):
			t.Error("Watch did not return within 10 s of its context's end")
		}
	})
	return w
}

// waitFor returns the first published state for which ok holds, failing
// the test after waitBound.
func (w *watcher) waitFor(t *testing.T, what string, ok func(discovery.State) bool) discovery.State {
	t.Helper()
	timeout := time.After(waitBound)
	for {
		select {
		case s := <-w.states:
			w.last = s
			if ok(s) {
				return s
			}
		case err := <-w.done:
			t.Fatalf("waiting for %s: Watch returned %v; last state %s", what, err, show(w.last))
		case <-timeout:
			t.Fatalf("waiting for %s: not published within %v; last state %s", what, waitBound, show(w.last))
		}
	}
}

// settle waits until the watch has published nothing new for quiet, and
// fails the test unless the last state satisfies ok: for changes that may
// cancel out before a query sees them (a deregistration at once undone).
func (w *watcher) settle(t *testing.T, what string, quiet time.Duration, ok func(discovery.State) bool) {
	t.Helper()
	timeout := time.After(waitBound)
	for {
		select {
		case s := <-w.states:
			w.last = s
			continue
		case <-time.After(quiet):
		case <-timeout:
		}
		break
	}
	if !ok(w.last) {
		t.Fatalf("%s: last state %s", what, show(w.last))
	}
}

// hasKeys reports whether the state is error-free with exactly the
// endpoints of these host:port pairs.
func hasKeys(want ...string) func(discovery.State) bool {
	return func(s discovery.State) bool { return s.Err == nil && sameKeys(s.Endpoints, want) }
}

func sameKeys(eps []discovery.Endpoint, want []string) bool {
	if len(eps) != len(want) {
		return false
	}
	got := make(map[string]bool, len(eps))
	for _, e := range eps {
		got[e.HostPort()] = true
	}
	for _, k := range want {
		if !got[k] {
			return false
		}
	}
	return true
}

func show(s discovery.State) string {
	var b strings.Builder
	b.WriteString("{Endpoints: [")
	for i, e := range s.Endpoints {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.Address.String())
	}
	b.WriteString("] Inactive: [")
	for i, e := range s.Inactive {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.Address.String())
	}
	b.WriteString("] Err: ")
	if s.Err != nil {
		b.WriteString(s.Err.Error())
	} else {
		b.WriteString("nil")
	}
	b.WriteString("}")
	return b.String()
}

// server is a real loopback TCP listener that accepts and closes
// connections: what a TCP check probes.
type server struct {
	ln   net.Listener
	wg   sync.WaitGroup
	Host string
	Port int
}

func listen(t *testing.T) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{ln: ln, Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *server) close() { s.ln.Close(); s.wg.Wait() }

func (s *server) hostPort() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// endpoint returns a TARS endpoint of s.
func (s *server) endpoint() discovery.Endpoint {
	return discovery.Endpoint{Address: transport.Address{Network: "tcp", Host: s.Host, Port: s.Port, Weight: -1}}
}
