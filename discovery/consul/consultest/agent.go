// Package consultest runs real Consul agents (consul agent -dev, v1.15.4 as
// scripts/consul.sh builds it) on free loopback ports, for tests of the
// Consul backend and of programs that use it.
package consultest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/consul/api"
)

// Binary finds the agent binary: $GOTARS_CONSUL, else what script (the
// repo's scripts/consul.sh, as a path from the test's directory) prints,
// building it when missing: minutes, once.
func Binary(script string) (string, error) {
	if p := os.Getenv("GOTARS_CONSUL"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("GOTARS_CONSUL: %w", err)
		}
		return p, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, script)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w", script, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Agent is one consul agent -dev process on fixed loopback ports, which
// Restart reuses.
type Agent struct {
	Bin, DataDir string
	ports        [4]int // http, serf lan, serf wan, server
	Addr         string // the HTTP address, "127.0.0.1:port"

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}

	logMu sync.Mutex
	log   *bytes.Buffer
}

// Start starts an agent of binary bin with its data in dataDir, on free
// loopback ports, and waits for it to have a leader (30 s at most).
func Start(bin, dataDir string) (*Agent, error) {
	var err error
	for range 3 { // a port picked free may be taken before the agent binds it
		a := &Agent{Bin: bin, DataDir: dataDir}
		for i := range a.ports {
			if a.ports[i], err = freePort(); err != nil {
				return nil, err
			}
		}
		a.Addr = "127.0.0.1:" + strconv.Itoa(a.ports[0])
		if err = a.Begin(); err == nil {
			return a, nil
		}
	}
	return nil, err
}

// Begin starts the agent (again, after Stop) on its ports and waits for a
// leader.
func (a *Agent) Begin() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := os.MkdirAll(a.DataDir, 0o700); err != nil {
		return err
	}
	cmd := exec.Command(a.Bin, "agent", "-dev",
		"-bind", "127.0.0.1", "-client", "127.0.0.1",
		"-http-port", strconv.Itoa(a.ports[0]),
		"-serf-lan-port", strconv.Itoa(a.ports[1]),
		"-serf-wan-port", strconv.Itoa(a.ports[2]),
		"-server-port", strconv.Itoa(a.ports[3]),
		"-dns-port", "-1", "-grpc-port", "-1", "-grpc-tls-port", "-1",
		"-data-dir", a.DataDir,
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
	client := NewAPIClient(a.Addr)
	defer client.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		leader, err := client.Status().Leader()
		if err == nil && leader != "" {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("consul agent exited before it had a leader:\n%s", a.Output())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			a.kill()
			return fmt.Errorf("consul agent had no leader within 30 s (last error %v):\n%s", err, a.Output())
		}
	}
}

// Stop ends the agent: SIGTERM, then SIGKILL after 10 s.
func (a *Agent) Stop() {
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

func (a *Agent) kill() {
	if a.cmd != nil {
		a.cmd.Process.Kill()
		<-a.done
		a.cmd = nil
	}
}

// Restart stops the agent and starts it again on the same ports. A -dev
// agent keeps its state in memory: it comes back empty.
func (a *Agent) Restart() error {
	a.Stop()
	return a.Begin()
}

// logWriter collects the agent's output, shown when it fails to start.
type logWriter struct{ a *Agent }

func (w logWriter) Write(p []byte) (int, error) {
	w.a.logMu.Lock()
	defer w.a.logMu.Unlock()
	return w.a.log.Write(p)
}

// Output returns what the agent printed.
func (a *Agent) Output() string {
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

// APIClient is an *api.Client whose idle connections Close closes.
type APIClient struct {
	*api.Client
	tr *http.Transport
}

// NewAPIClient returns a client of the agent at addr.
func NewAPIClient(addr string) APIClient {
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second}
	c, err := api.NewClient(&api.Config{Address: addr, Scheme: "http", Transport: tr})
	if err != nil {
		panic(err) // NewClient fails only on bad TLS settings
	}
	return APIClient{c, tr}
}

// Close closes the client's idle connections.
func (c APIClient) Close() { c.tr.CloseIdleConnections() }
