package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
