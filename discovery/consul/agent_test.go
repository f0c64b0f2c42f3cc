package consul

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/consul/api"
	"go.uber.org/goleak"

	"github.com/gotars/tars/discovery/consul/consultest"
)

// The tests run against real Consul agents (consul agent -dev) on free
// loopback ports. The binary comes from $GOTARS_CONSUL, or from
// scripts/consul.sh, which builds Consul v1.15.4 once into a cache outside
// the repo.

// shared is the agent most tests use (one per test binary: an agent's
// start costs about a second). Tests keep apart by servant names.
var shared *agent

// consulAddr is the HTTP address of the shared agent, for the Examples.
var consulAddr string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	bin, err := consultest.Binary("../../scripts/consul.sh")
	if err != nil {
		fmt.Fprintln(os.Stderr, "consul tests: no consul binary:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "gotars-consul-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	shared, err = startAgent(bin, filepath.Join(dir, "shared"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "consul tests:", err)
		return 1
	}
	consulAddr = shared.Addr
	code := m.Run()
	shared.stop()
	if code == 0 {
		// The keep-alive connections of the clients that Examples make
		// (api.Client has no Close) idle in net/http's loops; any Watch
		// or Run goroutine that outlived its context is still caught.
		if err := goleak.Find(
			goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
			goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
		); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			return 1
		}
	}
	return code
}

// agent is a consultest.Agent with the tests' helpers.
type agent struct{ *consultest.Agent }

func startAgent(bin, dataDir string) (*agent, error) {
	a, err := consultest.Start(bin, dataDir)
	if err != nil {
		return nil, err
	}
	return &agent{a}, nil
}

// newTestAgent starts an agent of the test's own, stopped at its end.
func newTestAgent(t *testing.T) *agent {
	t.Helper()
	a, err := startAgent(shared.Bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.stop)
	return a
}

func (a *agent) stop() { a.Stop() }

// restart stops the agent and starts it again on the same ports.
func (a *agent) restart(t *testing.T) {
	t.Helper()
	if err := a.Restart(); err != nil {
		t.Fatal(err)
	}
}

func newAPIClient(addr string) consultest.APIClient { return consultest.NewAPIClient(addr) }

// client returns a client of agent a, closed at the test's end.
func (a *agent) client(t *testing.T) *api.Client {
	c := newAPIClient(a.Addr)
	t.Cleanup(c.Close)
	return c.Client
}

// AgentAddressForExamples returns the HTTP address of the agent the tests
// start, for the Examples (package consul_test).
func AgentAddressForExamples() string { return consulAddr }
