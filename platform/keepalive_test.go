package platform_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/platform"
)

// nodeServer is a tarsnode served by gotars: it records keepAlives and
// reportVersions and answers ret.
type nodeServer struct {
	ep       string
	mu       sync.Mutex
	infos    []platform.ServerInfo
	at       []time.Time
	versions []platform.ReportVersionArgs
	ctxs     []map[string]string
	ret      int32
}

func newNodeServer(t testing.TB, ret int32) *nodeServer {
	ns := &nodeServer{ret: ret}
	_, ns.ep = serve(t, func(s *tars.Server) {
		tars.Handle(s, platform.NodeObj, platform.NodeKeepAlive, func(ctx context.Context, a platform.ServerInfoArgs) (int32, error) {
			ns.mu.Lock()
			defer ns.mu.Unlock()
			ns.infos = append(ns.infos, a.ServerInfo)
			ns.at = append(ns.at, time.Now())
			call, _ := tars.CallFromContext(ctx)
			ns.ctxs = append(ns.ctxs, call.Context)
			return ns.ret, nil
		})
		tars.Handle(s, platform.NodeObj, platform.NodeReportVersion, func(ctx context.Context, a platform.ReportVersionArgs) (int32, error) {
			ns.mu.Lock()
			defer ns.mu.Unlock()
			ns.versions = append(ns.versions, a)
			return ns.ret, nil
		})
	})
	return ns
}

func (ns *nodeServer) snapshot() ([]platform.ServerInfo, []time.Time, []platform.ReportVersionArgs) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return slices.Clone(ns.infos), slices.Clone(ns.at), slices.Clone(ns.versions)
}

// waitFor polls until n keepAlives arrived, or fails after 10 s.
func (ns *nodeServer) waitFor(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		infos, _, _ := ns.snapshot()
		if len(infos) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d keepAlives after 10 s, want %d", len(infos), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestKeepAliveRun(t *testing.T) {
	ns := newNodeServer(t, 0)
	const interval = 100 * time.Millisecond
	var dead sync.Map
	k, err := platform.NewKeepAlive(client(t, platform.NodeObj, ns.ep), platform.KeepAliveOptions{
		App: "Demo", Server: "HelloServer", Interval: interval, Version: "v1-test", NodeName: "10.0.0.7",
		Adapters: []string{"Demo.HelloServer.HelloObjAdapter", "Demo.HelloServer.AObjAdapter", platform.AdminAdapter},
		Alive:    func(a string) bool { _, d := dead.Load(a); return !d },
	})
	if err != nil {
		t.Fatal(err)
	}
	adapters := []string{"AdminAdapter", "Demo.HelloServer.AObjAdapter", "Demo.HelloServer.HelloObjAdapter"}
	if got := k.Adapters(); !slices.Equal(got, adapters) {
		t.Errorf("Adapters() = %v, want %v", got, adapters)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- k.Run(ctx) }()

	ns.waitFor(t, 1+3*3) // "" then three rounds
	dead.Store("Demo.HelloServer.AObjAdapter", true)
	infos, _, _ := ns.snapshot()
	deadFrom := len(infos) + 1  // one call may have been under way
	ns.waitFor(t, deadFrom+2*2) // two rounds without the dead adapter
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
	elapsed := time.Since(start)

	infos, at, versions := ns.snapshot()
	if len(versions) != 1 || versions[0] != (platform.ReportVersionArgs{App: "Demo", ServerName: "HelloServer", Version: "v1-test"}) {
		t.Errorf("reportVersion calls %+v, want one", versions)
	}
	if infos[0].Adapter != "" {
		t.Errorf("first keepAlive for adapter %q, want \"\"", infos[0].Adapter)
	}
	pid := int32(os.Getpid())
	for i, in := range infos {
		if in.Application != "Demo" || in.ServerName != "HelloServer" || in.Pid != pid {
			t.Errorf("keepAlive %d: %+v, want Demo/HelloServer pid %d", i, in, pid)
		}
	}
	// Rounds: the adapters in order, then without the dead one.
	got := make([]string, 0, len(infos)-1)
	for _, in := range infos[1:] {
		got = append(got, in.Adapter)
	}
	want := slices.Repeat(adapters, 3)
	if !slices.Equal(got[:9], want) {
		t.Errorf("first rounds %v, want %v", got[:9], want)
	}
	for _, in := range infos[deadFrom:] {
		if in.Adapter == "Demo.HelloServer.AObjAdapter" {
			t.Errorf("the dead adapter was still reported: %v", got[deadFrom-1:])
			break
		}
	}
	// Interval: round i starts about i intervals after the start.
	for i := 1; i < len(infos); i += 3 {
		round := (i-1)/3 + 1
		d := at[i].Sub(at[0])
		if d < time.Duration(round)*interval-interval/2 {
			t.Errorf("round %d began %v after the start, want about %v", round, d, time.Duration(round)*interval)
		}
	}
	if n := len(infos); elapsed < time.Duration((n-1)/3)*interval*3/4 {
		t.Errorf("%d keepAlives in %v: faster than one round per %v", n, elapsed, interval)
	}
	ns.mu.Lock() // a last keepAlive may still be arriving
	first := ns.ctxs[0]
	ns.mu.Unlock()
	if first["node_name"] != "10.0.0.7" {
		t.Errorf("request context %v lacks node_name", first)
	}
}

// TestKeepAliveFailures: a node that is down or does not know the server
// never stops Run; failures are logged once, then suppressed, and the
// recovery is logged.
func TestKeepAliveFailures(t *testing.T) {
	ns := newNodeServer(t, -1)
	logs := new(records)
	k, err := platform.NewKeepAlive(client(t, platform.NodeObj, ns.ep), platform.KeepAliveOptions{
		App: "Demo", Server: "Unknown", Interval: 20 * time.Millisecond, Logger: slog.New(logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- k.Run(ctx) }()
	ns.waitFor(t, 6)
	ns.mu.Lock()
	ns.ret = 0
	n := len(ns.infos)
	ns.mu.Unlock()
	ns.waitFor(t, n+2)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v", err)
	}
	if n := logs.count(slog.LevelWarn, "platform: tarsnode keepAlive failed"); n != 1 {
		t.Errorf("%d failure records, want 1 (rate-limited)", n)
	}
	if v, ok := logs.attr("platform: tarsnode keepAlive failed", "err"); !ok || !strings.Contains(v.String(), "answered reportVersion with -1") {
		t.Errorf("failure record err = %v", v)
	}
	if n := logs.count(slog.LevelInfo, "platform: tarsnode keepAlive recovered"); n != 1 {
		t.Errorf("%d recovery records, want 1", n)
	}

	var ne *platform.NodeError
	ns.mu.Lock()
	ns.ret = -1
	ns.mu.Unlock()
	if err := k.Send(context.Background(), "X"); !errors.As(err, &ne) || ne.Ret != -1 || ne.Adapter != "X" {
		t.Errorf("Send to a node that does not know the server = %v", err)
	}

	// A node that is not there: each call ends within the timeout.
	down, err := tars.NewClient(platform.NodeObj + "@tcp -h 127.0.0.1 -p 1 -t 3000")
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	k, _ = platform.NewKeepAlive(down, platform.KeepAliveOptions{App: "A", Server: "S", Interval: 50 * time.Millisecond, Timeout: time.Second})
	start := time.Now()
	if err := k.Round(context.Background()); err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("Round against nothing = %v after %v", err, time.Since(start))
	}
}

func TestNewKeepAliveErrors(t *testing.T) {
	c, err := tars.NewClient(platform.NodeObj + "@tcp -h 127.0.0.1 -p 1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct {
		name string
		c    *tars.Client
		opts platform.KeepAliveOptions
	}{
		{"nil client", nil, platform.KeepAliveOptions{}},
		{"negative interval", c, platform.KeepAliveOptions{Interval: -1}},
		{"negative timeout", c, platform.KeepAliveOptions{Timeout: -1}},
		{"empty adapter", c, platform.KeepAliveOptions{Adapters: []string{""}}},
	} {
		if _, err := platform.NewKeepAlive(tc.c, tc.opts); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	k, err := platform.NewKeepAlive(c, platform.KeepAliveOptions{})
	if err != nil || !slices.Equal(k.Adapters(), []string{platform.AdminAdapter}) {
		t.Errorf("NewKeepAlive without adapters: %v, %v", k.Adapters(), err)
	}
}
