package consul

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"go.uber.org/goleak"
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
	bin, err := consulBinary()
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
	consulAddr = shared.addr
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

// consulBinary finds the agent binary: $GOTARS_CONSUL, else what
// scripts/consul.sh prints (building it when missing: minutes, once).
func consulBinary() (string, error) {
	if p := os.Getenv("GOTARS_CONSUL"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("GOTARS_CONSUL: %w", err)
		}
		return p, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "../../scripts/consul.sh")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("../../scripts/consul.sh: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// agent is one consul agent -dev process on fixed loopback ports, which
// restart reuses.
type agent struct {
	bin, dataDir string
	ports        [4]int // http, serf lan, serf wan, server
	addr         string // the HTTP address

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}

	logMu sync.Mutex
	log   *bytes.Buffer
}

func startAgent(bin, dataDir string) (*agent, error) {
	var err error
	for range 3 { // a port picked free may be taken before the agent binds it
		a := &agent{bin: bin, dataDir: dataDir}
		for i := range a.ports {
			if a.ports[i], err = freePort(); err != nil {
				return nil, err
			}
		}
		a.addr = "127.0.0.1:" + strconv.Itoa(a.ports[0])
		if err = a.start(); err == nil {
			return a, nil
		}
	}
	return nil, err
}

// newTestAgent starts an agent of the test's own, stopped at its end.
func newTestAgent(t *testing.T) *agent {
	t.Helper()
	a, err := startAgent(shared.bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.stop)
	return a
}

func (a *agent) start() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := os.MkdirAll(a.dataDir, 0o700); err != nil {
		return err
	}
	cmd := exec.Command(a.bin, "agent", "-dev",
		"-bind", "127.0.0.1", "-client", "127.0.0.1",
		"-http-port", strconv.Itoa(a.ports[0]),
		"-serf-lan-port", strconv.Itoa(a.ports[1]),
		"-serf-wan-port", strconv.Itoa(a.ports[2]),
		"-server-port", strconv.Itoa(a.ports[3]),
		"-dns-port", "-1", "-grpc-port", "-1", "-grpc-tls-port", "-1",
		"-data-dir", a.dataDir,
		"-node", "gotars-test", "-datacenter", "dc1", "-log-level", "warn")
	a.logMu.Lock()
	a.log = new(bytes.Buffer)
	a.logMu.Unlock()
	cmd.Stdout, cmd.Stderr = logWriter{a}, logWriter{a}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	a.cmd, a.done = cmd, done

	// Wait for a leader, the exit of the agent, or 30 s.
	client := newAPIClient(a.addr)
	defer client.close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		leader, err := client.Status().Leader()
		if err == nil && leader != "" {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("consul agent exited before it had a leader:\n%s", a.output())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			a.kill()
			return fmt.Errorf("consul agent had no leader within 30 s (last error %v):\n%s", err, a.output())
		}
	}
}

// stop ends the agent: SIGTERM, then SIGKILL after 10 s.
func (a *agent) stop() {
	a.mu.Lock()
	cmd, done := a.cmd, a.done
	a.cmd = nil
	a.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

func (a *agent) kill() {
	if a.cmd != nil {
		a.cmd.Process.Kill()
		<-a.done
		a.cmd = nil
	}
}

// restart stops the agent and starts it again on the same ports. A -dev
// agent keeps its state in memory: it comes back empty.
func (a *agent) restart(t *testing.T) {
	t.Helper()
	a.stop()
	if err := a.start(); err != nil {
		t.Fatal(err)
	}
}

// logWriter collects the agent's output, shown when it fails to start.
type logWriter struct{ a *agent }

func (w logWriter) Write(p []byte) (int, error) {
	w.a.logMu.Lock()
	defer w.a.logMu.Unlock()
	return w.a.log.Write(p)
}

func (a *agent) output() string {
	a.logMu.Lock()
	defer a.logMu.Unlock()
	return a.log.String()
}

// freePort returns a loopback port free for both TCP and UDP (Serf uses
// both).
func freePort() (int, error) {
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		ln.Close()
		if err == nil {
			pc.Close()
			return port, nil
		}
	}
	return 0, errors.New("no loopback port free for TCP and UDP")
}

// apiClient is an *api.Client whose idle connections the test closes.
type apiClient struct {
	*api.Client
	tr *http.Transport
}

func newAPIClient(addr string) apiClient {
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second}
	c, err := api.NewClient(&api.Config{Address: addr, Scheme: "http", Transport: tr})
	if err != nil {
		panic(err) // NewClient fails only on bad TLS settings
	}
	return apiClient{c, tr}
}

func (c apiClient) close() { c.tr.CloseIdleConnections() }

// client returns a client of agent a, closed at the test's end.
func (a *agent) client(t *testing.T) *api.Client {
	c := newAPIClient(a.addr)
	t.Cleanup(c.close)
	return c.Client
}

// AgentAddressForExamples returns the HTTP address of the agent the tests
// start, for the Examples (package consul_test).
func AgentAddressForExamples() string { return consulAddr }
