package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/platform"
)

// TestCommands builds the three commands and runs them as a user would: the
// server on a free port, the client demo against it (in every packet
// version), the server stopped with SIGTERM; and the combined demo.
func TestCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	dir := t.TempDir()
	for _, cmd := range []string{"server", "client", "."} {
		out := filepath.Join(dir, filepath.Base(filepath.Clean(cmd)))
		if cmd == "." {
			out = filepath.Join(dir, "userservice")
		}
		b := exec.Command("go", "build", "-o", out, "./"+cmd)
		if msg, err := b.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", cmd, err, msg)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// A free port for the server's -listen.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := exec.CommandContext(ctx, filepath.Join(dir, "server"), "-listen", addr)
	var srvOut strings.Builder
	srv.Stdout, srv.Stderr = &srvOut, &srvOut
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	for deadline := time.Now().Add(20 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never listened: %s", srvOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	host, port, _ := net.SplitHostPort(addr)
	for _, v := range []string{"1", "3", "5"} {
		cl := exec.CommandContext(ctx, filepath.Join(dir, "client"),
			"-endpoint", fmt.Sprintf("UserService.UserServiceObj@tcp -h %s -p %s", host, port), "-version", v)
		out, err := cl.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "demo passed") {
			t.Fatalf("client (version %s): %v\n%s", v, err, out)
		}
	}
	// A client pointed at nothing fails with a non-zero exit.
	bad := exec.CommandContext(ctx, filepath.Join(dir, "client"), "-endpoint", "UserService.UserServiceObj@tcp -h 127.0.0.1 -p 1")
	if err := bad.Run(); err == nil {
		t.Fatal("client against no server exited 0")
	}
	srv.Process.Signal(syscall.SIGTERM)
	if err := srv.Wait(); err != nil {
		t.Fatalf("server after SIGTERM: %v\n%s", err, srvOut.String())
	}
	if !strings.Contains(srvOut.String(), "stopped") {
		t.Fatalf("no graceful stop in the server's log:\n%s", srvOut.String())
	}

	out, err := exec.CommandContext(ctx, filepath.Join(dir, "userservice")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "demo passed") {
		t.Fatalf("go run ./example/userservice: %v\n%s", err, out)
	}
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServer starts the server binary with args and env and waits until
// addr accepts connections.
func startServer(t *testing.T, ctx context.Context, bin, addr string, env []string, args ...string) (*exec.Cmd, *syncBuilder) {
	t.Helper()
	srv := exec.CommandContext(ctx, bin, args...)
	srv.Env = append(os.Environ(), env...)
	out := new(syncBuilder)
	srv.Stdout, srv.Stderr = out, out
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	for deadline := time.Now().Add(20 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return srv, out
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never listened on %s: %s", addr, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// exitCode waits for cmd and returns its exit code.
func exitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	err := cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("wait: %v", err)
	return -1
}

// TestServerBothWays runs the server command as README.md gives it: from
// config.yaml (the endpoint moved to a free port by a GOTARS_ variable),
// called by the client command and stopped by SIGTERM with exit 0; from
// the TARS-native file tarsnode would hand it (ports moved), with AdminObj
// answering notify and AdminF shutdown making it exit 0; and with a bad
// configuration, exit 2.
func TestServerBothWays(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	dir := t.TempDir()
	for _, cmd := range []string{"server", "client"} {
		if msg, err := exec.Command("go", "build", "-o", filepath.Join(dir, cmd), "./"+cmd).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", cmd, err, msg)
		}
	}
	bin := filepath.Join(dir, "server")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	t.Run("yaml", func(t *testing.T) {
		port := freePort(t)
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		srv, out := startServer(t, ctx, bin, addr,
			[]string{fmt.Sprintf("GOTARS_SERVANTS__UserService.UserServiceObj__ENDPOINT=tcp -h 127.0.0.1 -p %d -t 60000", port),
				"GOTARS_LOG__LEVEL=debug"},
			"-config", "config.yaml", "-server.grace_timeout=5s")
		cl := exec.CommandContext(ctx, filepath.Join(dir, "client"), "-endpoint", fmt.Sprintf("UserService.UserServiceObj@tcp -h 127.0.0.1 -p %d", port))
		if b, err := cl.CombinedOutput(); err != nil || !strings.Contains(string(b), "demo passed") {
			t.Fatalf("client: %v\n%s", err, b)
		}
		srv.Process.Signal(syscall.SIGTERM)
		if code := exitCode(t, srv); code != 0 {
			t.Fatalf("exit %d after SIGTERM:\n%s", code, out.String())
		}
		if s := out.String(); !strings.Contains(s, "app: stopped") || !strings.Contains(s, "level=DEBUG") || !strings.Contains(s, "server.grace_timeout=5s") {
			t.Errorf("log:\n%s", s)
		}
	})

	t.Run("tarsnode", func(t *testing.T) {
		b, err := os.ReadFile("UserService.UserServer.config.conf")
		if err != nil {
			t.Fatal(err)
		}
		port, admin := freePort(t), freePort(t)
		s := strings.ReplaceAll(string(b), "-p 18015", fmt.Sprintf("-p %d", port))
		s = strings.ReplaceAll(s, "-p 19001", fmt.Sprintf("-p %d", admin))
		// Nothing listens on the node's, registry's ports: the calls fail
		// and are logged; the server serves regardless.
		s = strings.ReplaceAll(s, "-p 19386", fmt.Sprintf("-p %d", freePort(t)))
		s = strings.ReplaceAll(s, "-p 17890", fmt.Sprintf("-p %d", freePort(t)))
		logs := t.TempDir()
		s = strings.ReplaceAll(s, "logpath=/usr/local/app/tars/app_log/", "logpath="+logs)
		conf := filepath.Join(t.TempDir(), "UserService.UserServer.config.conf")
		if err := os.WriteFile(conf, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		srv, out := startServer(t, ctx, bin, fmt.Sprintf("127.0.0.1:%d", admin), nil, "--config="+conf)
		cl := exec.CommandContext(ctx, filepath.Join(dir, "client"), "-endpoint", fmt.Sprintf("UserService.UserServer.UserServiceObj@tcp -h 127.0.0.1 -p %d", port))
		if b, err := cl.CombinedOutput(); err != nil || !strings.Contains(string(b), "demo passed") {
			t.Fatalf("client: %v\n%s", err, b)
		}
		c, err := tars.NewClient(fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d -t 5000", platform.AdminObj, admin))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if got, err := platform.AdminNotify.Call(ctx, c, platform.NotifyArgs{Command: "tars.setloglevel DEBUG"}); err != nil || got != "tars.setloglevel DEBUG succ" {
			t.Errorf("notify = %q, %v", got, err)
		}
		if _, err := platform.AdminShutdown.Call(ctx, c, tars.Void{}); err != nil {
			t.Fatal(err)
		}
		if code := exitCode(t, srv); code != 0 {
			t.Fatalf("exit %d after AdminF shutdown:\n%s", code, out.String())
		}
		// The log went where TarsGo writes it: logpath/app/server/app.server.log.
		logFile := filepath.Join(logs, "UserService", "UserServer", "UserService.UserServer.log")
		b, err = os.ReadFile(logFile)
		if s := string(b); err != nil || !strings.Contains(s, "AdminF shutdown") || !strings.Contains(s, "keepAlive failed") ||
			!strings.Contains(out.String(), "logging to "+logFile) {
			t.Errorf("%s: %v\n%s\nstderr:\n%s", logFile, err, s, out.String())
		}
	})

	t.Run("bad config", func(t *testing.T) {
		for _, args := range [][]string{
			{"-config", "config.yaml", "-client.timeout=soon"},
			{"-config", "config.yaml", "-listen", "127.0.0.1:0"},
			{"-no-such-flag"},
		} {
			cmd := exec.CommandContext(ctx, bin, args...)
			b, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Errorf("%q: %v, want exit 2\n%s", args, err, b)
			}
		}
	})
}
