package deploy

import (
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/transport"
)

// TestExecProbeRuns runs the Deployment's exec probes as the kubelet would,
// with tarsping built from cmd/tarsping: against a gotars server (on a
// free loopback port standing for the servant's) the probe passes, and
// with nothing listening it fails.
func TestExecProbeRuns(t *testing.T) {
	m := load(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "tarsping")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/tarsping").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	srv := tars.NewServer()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	}()
	up := ln.Addr().(*net.TCPAddr).Port
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := closed.Addr().(*net.TCPAddr).Port
	closed.Close()

	ran := 0
	for name, p := range map[string]*probe{"readiness": m.ctr.ReadinessProbe, "liveness": m.ctr.LivenessProbe, "startup": m.ctr.StartupProbe} {
		if p == nil || p.Exec == nil {
			continue
		}
		ran++
		cmd := p.Exec.Command
		obj := cmd[len(cmd)-1]
		servant, addrs, err := transport.ParseObject(obj)
		if err != nil {
			t.Fatalf("%s probe: %v", name, err)
		}
		for _, tc := range []struct {
			port int
			code int
		}{{up, 0}, {down, 1}} {
			var eps []string
			for _, a := range addrs {
				a.Port = tc.port
				eps = append(eps, a.String())
			}
			args := append(append([]string(nil), cmd[1:len(cmd)-1]...), servant+"@"+strings.Join(eps, ":"))
			timeout := time.Duration(max(p.TimeoutSeconds, 1)) * time.Second
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
			expired := ctx.Err() != nil
			cancel()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if expired {
				t.Errorf("%s probe %q: still running after the probe's timeoutSeconds (%v)", name, args, timeout)
			}
			if code != tc.code {
				t.Errorf("%s probe %q: exit %d, want %d\n%s", name, args, code, tc.code, out)
			}
		}
	}
	if ran == 0 {
		t.Fatal("no exec probe to run")
	}
}
