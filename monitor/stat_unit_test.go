package monitor_test

import (
	"context"
	"errors"
	"maps"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/monitor"
)

// TestBucket checks the bucket rule (TarsGo statf.go getIntervCount): the
// first bound with t < bound; none from 3000 ms.
func TestBucket(t *testing.T) {
	for _, tc := range []struct {
		ms    int64
		bound int32 // 0: no bucket
	}{
		{-1, 5}, {0, 5}, {4, 5}, {5, 10}, {9, 10}, {10, 50}, {49, 50}, {50, 100}, {99, 100},
		{100, 200}, {199, 200}, {200, 500}, {499, 500}, {500, 1000}, {999, 1000},
		{1000, 2000}, {1999, 2000}, {2000, 3000}, {2999, 3000}, {3000, 0}, {3001, 0}, {1 << 40, 0},
	} {
		i, ok := monitor.Bucket(tc.ms)
		var got int32
		if ok {
			got = monitor.TimeBuckets()[i]
		}
		if got != tc.bound {
			t.Errorf("Bucket(%d) = bound %d, want %d", tc.ms, got, tc.bound)
		}
	}
}

// TestIdentity checks the names the reports carry, with and without a set,
// and the identities that are refused.
func TestIdentity(t *testing.T) {
	stat := startStatServer(t)
	c := stat.statClient(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name                 string
		id                   monitor.Identity
		master, slave, setID string
	}{
		{"app server", monitor.Identity{App: "A", Server: "S"}, "A.S", "A.S", ""},
		{"module name", monitor.Identity{App: "A", Server: "S", ModuleName: "M"}, "M", "A.S", ""},
		{"nothing", monitor.Identity{}, "tup_client", "tup_client", ""},
		{"set", monitor.Identity{App: "A", Server: "S", SetDivision: "gz.sz.1", TarsVersion: "9.9"}, "A.S.gzsz1@9.9", "A.S.gzsz1", "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := monitor.NewStatReporter(c, monitor.StatOptions{Identity: tc.id})
			if err != nil {
				t.Fatal(err)
			}
			// One call made and one served, through the middleware alone.
			inv := r.Middleware(func(context.Context, *tars.Call) error { return nil })
			_ = inv(ctx, &tars.Call{Servant: "B.T.Obj", Method: "m"})
			_ = inv(ctx, &tars.Call{Servant: "A.S.Obj", Method: "m", Server: true})
			if err := r.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				a := stat.nextMic(t)
				for h := range a.Msg {
					if a.FromClient && (h.MasterName != tc.master || h.SlaveName != "B.T") {
						t.Errorf("client head %+v, want master %q", h, tc.master)
					}
					if !a.FromClient && (h.SlaveName != tc.slave || h.SlaveSetID != tc.setID || h.MasterName != "stat_from_server") {
						t.Errorf("server head %+v, want slave %q set %q", h, tc.slave, tc.setID)
					}
				}
			}
		})
	}
	for _, id := range []monitor.Identity{
		{App: "A"}, {Server: "S"}, {App: "A.B", Server: "S"},
		{App: "A", Server: "S", SetDivision: "gz.sz"}, {App: "A", Server: "S", SetDivision: "gz..1"},
		{SetDivision: "gz.sz.1"},
	} {
		if _, err := monitor.NewStatReporter(c, monitor.StatOptions{Identity: id}); err == nil {
			t.Errorf("identity %+v accepted", id)
		}
	}
	if _, err := monitor.NewStatReporter(nil, monitor.StatOptions{}); err == nil {
		t.Error("a nil client accepted")
	}
	if _, err := monitor.NewStatReporter(c, monitor.StatOptions{Interval: -1}); err == nil {
		t.Error("a negative interval accepted")
	}
}

// TestMaxHeads checks that heads beyond MaxHeads are dropped and counted,
// each of their calls, while known heads keep counting, and that servants
// without "App.Server." are skipped.
func TestMaxHeads(t *testing.T) {
	stat := startStatServer(t)
	r, err := monitor.NewStatReporter(stat.statClient(t), monitor.StatOptions{MaxHeads: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	inv := r.Middleware(func(context.Context, *tars.Call) error { return nil })
	for _, m := range []string{"a", "b", "c", "a", "d", "b", "c"} { // c again: a key known as not kept
		_ = inv(ctx, &tars.Call{Servant: "X.Y.Obj", Method: m})
	}
	_ = inv(ctx, &tars.Call{Servant: "NoDots", Method: "a"})
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	a := stat.nextMic(t)
	got := map[string]int32{}
	for h, b := range a.Msg {
		got[h.InterfaceName] = b.Count
	}
	if len(got) != 2 || got["a"] != 2 || got["b"] != 2 {
		t.Errorf("rows %v, want a:2 b:2", got)
	}
	if s := r.Stats(); s.Dropped != 3 || s.Skipped != 1 || s.Reports != 1 {
		t.Errorf("stats %+v, want 3 dropped, 1 skipped, 1 report", s)
	}
	// The next interval starts empty: the bound is per interval.
	_ = inv(ctx, &tars.Call{Servant: "X.Y.Obj", Method: "c"})
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if a := stat.nextMic(t); len(a.Msg) != 1 {
		t.Errorf("second interval: %d rows, want 1", len(a.Msg))
	}
	// Nothing recorded: nothing sent.
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	stat.noMore(t)
}

// TestPanicRecorded checks that a handler's panic is recorded as a failure
// with CodeServerUnknownErr and goes on.
func TestPanicRecorded(t *testing.T) {
	stat := startStatServer(t)
	r, err := monitor.NewStatReporter(stat.statClient(t), monitor.StatOptions{Identity: monitor.Identity{App: "A", Server: "S"}})
	if err != nil {
		t.Fatal(err)
	}
	inv := r.Middleware(func(context.Context, *tars.Call) error { panic("oops") })
	func() {
		defer func() {
			if p := recover(); p != "oops" {
				t.Errorf("recovered %v, want the handler's panic", p)
			}
		}()
		_ = inv(context.Background(), &tars.Call{Servant: "A.S.Obj", Method: "m", Server: true})
	}()
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for h, b := range stat.nextMic(t).Msg {
		if h.ReturnValue != int32(tars.CodeServerUnknownErr) || b.ExecCount != 1 {
			t.Errorf("row %+v %+v, want one failure with -99", h, b)
		}
	}
}

// TestRun checks that Run sends every interval, refuses a second Run,
// sends what is left when its context ends and returns ctx's error.
func TestRun(t *testing.T) {
	stat := startStatServer(t)
	r, err := monitor.NewStatReporter(stat.statClient(t), monitor.StatOptions{Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	inv := r.Middleware(func(context.Context, *tars.Call) error { return nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	_ = inv(ctx, &tars.Call{Servant: "X.Y.Obj", Method: "tick"})
	if a := stat.nextMic(t); len(a.Msg) != 1 {
		t.Errorf("periodic report: %d rows", len(a.Msg))
	}
	// Run is running (it sent): a second one is refused at once.
	if err := r.Run(ctx); !errors.Is(err, monitor.ErrRunning) {
		t.Errorf("second Run: %v, want ErrRunning", err)
	}
	// Recorded just before the end: sent by the final flush, or by a tick.
	_ = inv(ctx, &tars.Call{Servant: "X.Y.Obj", Method: "last"})
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	for h := range stat.nextMic(t).Msg {
		if h.InterfaceName != "last" {
			t.Errorf("final report has %q", h.InterfaceName)
		}
	}
	stat.noMore(t)
}

// TestRunFinalSendBounded checks that a stat server that never answers
// holds Run's end no longer than the Timeout, and that the failure is
// counted.
func TestRunFinalSendBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c // hold it open, read nothing
		}
	}()
	defer func() {
		ln.Close()
		for c := range accepted {
			c.Close()
		}
	}()
	c := newClient(t, object(monitor.StatObj, ln.Addr().(*net.TCPAddr).Port))
	r, err := monitor.NewStatReporter(c, monitor.StatOptions{Interval: time.Hour, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	inv := r.Middleware(func(context.Context, *tars.Call) error { return nil })
	_ = inv(context.Background(), &tars.Call{Servant: "X.Y.Obj", Method: "m"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run's final send was not bounded")
	}
	if s := r.Stats(); s.Failures != 1 || s.Reports != 0 {
		t.Errorf("stats %+v, want 1 failure", s)
	}
}

// TestClassifyServerTimeout checks that a timeout the server answers
// (iRet -7, no local cause) is a failure with -7, not a timeout, as in
// TarsGo, and that a middleware's bare context error is a timeout.
func TestClassifyServerTimeout(t *testing.T) {
	stat := startStatServer(t)
	r, err := monitor.NewStatReporter(stat.statClient(t), monitor.StatOptions{})
	if err != nil {
		t.Fatal(err)
	}
	peer := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
	for _, e := range []error{tars.NewError(tars.CodeInvokeTimeout, "server said"), context.DeadlineExceeded} {
		inv := r.Middleware(func(_ context.Context, c *tars.Call) error { c.Peer = peer; return e })
		_ = inv(context.Background(), &tars.Call{Servant: "X.Y.Obj", Method: "m"})
	}
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows := stat.nextMic(t).Msg
	var n int
	for h, b := range rows {
		switch {
		case h.ReturnValue == -7 && b.ExecCount == 1 && b.TimeoutCount == 0:
			n++
		case h.ReturnValue == 0 && b.TimeoutCount == 1 && b.ExecCount == 0:
			n++
		default:
			t.Errorf("row %+v %+v", h, b)
		}
		if h.SlaveIP != "127.0.0.1" || h.SlavePort != 9 || !strings.HasPrefix(h.SlaveName, "X.Y") {
			t.Errorf("head %+v", h)
		}
	}
	if n != 2 {
		t.Errorf("%d rows of 2", n)
	}
}

// TestSelfReport checks that a reporter whose stat client carries its own
// middleware reports its report calls in the next interval, without
// deadlock, as TarsGo reports its own.
func TestSelfReport(t *testing.T) {
	stat := startStatServer(t)
	var r *monitor.StatReporter
	c := newClient(t, object(monitor.StatObj, stat.port), tars.WithMiddleware(func(next tars.Invoker) tars.Invoker {
		return func(ctx context.Context, call *tars.Call) error { return r.Middleware(next)(ctx, call) }
	}))
	r, err := monitor.NewStatReporter(c, monitor.StatOptions{Identity: monitor.Identity{App: "A", Server: "S"}})
	if err != nil {
		t.Fatal(err)
	}
	inv := r.Middleware(func(context.Context, *tars.Call) error { return nil })
	_ = inv(context.Background(), &tars.Call{Servant: "X.Y.Obj", Method: "m"})
	for _, want := range []string{"X.Y.m", "tars.tarsstat.reportMicMsg"} {
		if err := r.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		a := stat.nextMic(t)
		for h, b := range a.Msg {
			if got := h.SlaveName + "." + h.InterfaceName; got != want || b.Count != 1 {
				t.Errorf("row %s %+v, want %s counted once", got, b, want)
			}
		}
		if len(a.Msg) != 1 {
			t.Errorf("%d rows, want 1", len(a.Msg))
		}
	}
}

// TestStatConcurrent checks that calls from several goroutines, on both
// sides, while Flush runs again and again, are each reported once and
// whole: over all reports, every head's counts add up to the calls made
// with it, and each row's bucket counts to its count.
func TestStatConcurrent(t *testing.T) {
	stat := startStatServer(t)
	clock := newFakeClock() // still: every call takes 0 ms
	r, err := monitor.NewStatReporter(stat.statClient(t), monitor.StatOptions{
		Identity: monitor.Identity{App: "A", Server: "S"}, Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	inv := r.Middleware(func(_ context.Context, call *tars.Call) error {
		if call.Method == "fail" {
			return tars.NewError(2, "no")
		}
		return nil
	})
	const workers, perWorker = 4, 3000
	methods := []string{"a", "b", "fail"}
	peers := []net.Addr{&net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 1}, &net.TCPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 2}}
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				call := tars.Call{Servant: "B.T.Obj", Method: methods[(w+i)%len(methods)], Server: i%2 == 0, Peer: peers[i%len(peers)]}
				_ = inv(ctx, &call)
			}
		})
	}
	flushes := make(chan error, 1)
	stop := make(chan struct{})
	go func() { // at most 2 reports a flush: fewer than the stat server's 100 kept
		for range 40 {
			select {
			case <-stop:
			default:
				if err := r.Flush(ctx); err != nil {
					flushes <- err
					return
				}
				continue
			}
			break
		}
		<-stop
		flushes <- r.Flush(ctx)
	}()
	wg.Wait()
	close(stop)
	if err := <-flushes; err != nil {
		t.Fatal(err)
	}
	type side struct {
		server bool
		method string
	}
	got := map[side]int32{}
	for range r.Stats().Reports {
		a := stat.nextMic(t)
		for h, b := range a.Msg {
			n := b.Count + b.ExecCount + b.TimeoutCount
			if b.IntervalCount[5] != n || b.TotalRspTime != 0 || b.MaxRspTime != 0 || b.MinRspTime != 0 {
				t.Errorf("row %+v: %+v, want its %d calls in the 5 ms bucket, 0 ms", h, b, n)
			}
			if (h.InterfaceName == "fail") != (b.ExecCount > 0 && b.Count == 0 && h.ReturnValue == 2) || b.TimeoutCount != 0 {
				t.Errorf("row %+v: %+v: wrong outcome", h, b)
			}
			got[side{!a.FromClient, h.InterfaceName}] += n
		}
	}
	want := map[side]int32{}
	for w := range workers {
		for i := range perWorker {
			want[side{i%2 == 0, methods[(w+i)%len(methods)]}]++
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("calls reported %v, want %v", got, want)
	}
	if s := r.Stats(); s.Dropped != 0 || s.Failures != 0 {
		t.Errorf("stats %+v", s)
	}
}
