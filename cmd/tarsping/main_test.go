package main

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gotars/tars"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve runs a gotars server with no handlers on 127.0.0.1:0 (tars_ping is
// built in) until the test ends.
func serve(t *testing.T) int {
	t.Helper()
	srv := tars.NewServer()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// mute accepts connections and never answers: a hung server.
func mute(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// closedPort returns a port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return p
}

func TestExitCodes(t *testing.T) {
	up, hung, down := serve(t), mute(t), closedPort(t)
	ep := func(p int) string { return fmt.Sprintf("tcp -h 127.0.0.1 -p %d", p) }
	const obj = "UserService.UserServiceObj@"
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"served", []string{obj + ep(up)}, 0, "ok in", ""},
		{"quiet", []string{"-q", obj + ep(up)}, 0, "", ""},
		{"two endpoints up", []string{obj + ep(up) + ":" + ep(up)}, 0, "ok in", ""},
		{"nothing listens", []string{"-timeout", "1s", obj + ep(down)}, 1, "", "tarsping: UserService.UserServiceObj@tcp -h 127.0.0.1 -p"},
		{"hung server", []string{"-timeout", "300ms", obj + ep(hung)}, 1, "", "tarsping:"},
		{"one of two down", []string{"-timeout", "1s", obj + ep(up) + ":" + ep(down)}, 1, "ok in", "tarsping:"},
		{"no endpoint", []string{"UserService.UserServiceObj"}, 2, "", "no endpoint"},
		{"bad endpoint", []string{obj + "tcp -h 127.0.0.1 -p nope"}, 2, "", "tarsping:"},
		{"no argument", nil, 2, "", "usage: tarsping"},
		{"bad timeout", []string{"-timeout", "0s", obj + ep(up)}, 2, "", "usage: tarsping"},
		{"unknown flag", []string{"-x", obj + ep(up)}, 2, "", "usage: tarsping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			start := time.Now()
			code := run(tc.args, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stdout %q, stderr %q)", code, tc.code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.stdout) || (tc.stdout == "" && stdout.Len() > 0) {
				t.Errorf("stdout %q, want %q", stdout.String(), tc.stdout)
			}
			if !strings.Contains(stderr.String(), tc.stderr) || (tc.stderr == "" && stderr.Len() > 0) {
				t.Errorf("stderr %q, want %q", stderr.String(), tc.stderr)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v: the timeout does not bound it", d)
			}
		})
	}
}
