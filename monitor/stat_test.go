package monitor_test

import (
	"context"
	"errors"
	"maps"
	"net"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/monitor"
)

// The service the stat tests call: Echo on the servant Test.EchoServer.EchoObj.
var (
	echoSvc = tars.NewService("Echo")

	echoOK   = tars.NewEndpoint[textArgs, string](echoSvc, "echo") // answers its argument
	echoFail = tars.NewEndpoint[textArgs, string](echoSvc, "fail") // fails with code 2
	echoBoom = tars.NewEndpoint[textArgs, string](echoSvc, "boom") // fails with a plain error (-99)
	echoSlow = tars.NewEndpoint[textArgs, string](echoSvc, "slow") // waits for a release and its deadline (-7)
	echoNote = tars.NewEndpoint[textArgs, tars.Void](echoSvc, "note")
)

type textArgs struct {
	S string `tars:"1,name=s"`
}

const echoServant = "Test.EchoServer.EchoObj"

// handleEcho registers Echo on srv; slow returns once release is closed (if
// given) and its deadline has passed: after its caller gave up.
func handleEcho(srv *tars.Server, release <-chan struct{}) {
	tars.Handle(srv, echoServant, echoOK, func(_ context.Context, a textArgs) (string, error) { return a.S, nil })
	tars.Handle(srv, echoServant, echoFail, func(context.Context, textArgs) (string, error) {
		return "", tars.NewError(2, "not found")
	})
	tars.Handle(srv, echoServant, echoBoom, func(context.Context, textArgs) (string, error) {
		return "", errors.New("boom")
	})
	tars.Handle(srv, echoServant, echoSlow, func(ctx context.Context, _ textArgs) (string, error) {
		if release != nil {
			<-release
		}
		<-ctx.Done()
		return "", ctx.Err()
	})
	tars.Handle(srv, echoServant, echoNote, func(context.Context, textArgs) (tars.Void, error) { return tars.Void{}, nil })
}

// buckets returns TimeBuckets' nine keys, with counts given for some.
func buckets(counts map[int32]int32) map[int32]int32 {
	m := map[int32]int32{}
	for _, k := range monitor.TimeBuckets() {
		m[k] = counts[k]
	}
	return m
}

func diffMic(t *testing.T, side string, got, want map[monitor.StatMicMsgHead]monitor.StatMicMsgBody) {
	t.Helper()
	for h, w := range want {
		g, ok := got[h]
		if !ok {
			t.Errorf("%s: no row for %+v", side, h)
			continue
		}
		if g.Count != w.Count || g.TimeoutCount != w.TimeoutCount || g.ExecCount != w.ExecCount ||
			g.TotalRspTime != w.TotalRspTime || g.MaxRspTime != w.MaxRspTime || g.MinRspTime != w.MinRspTime ||
			!maps.Equal(g.IntervalCount, w.IntervalCount) {
			t.Errorf("%s: %s.%d:\n got %+v\nwant %+v", side, h.InterfaceName, h.ReturnValue, g, w)
		}
	}
	for h := range got {
		if _, ok := want[h]; !ok {
			t.Errorf("%s: unexpected row %+v: %+v", side, h, got[h])
		}
	}
}

// TestStatReports runs a caller and a server, each with its reporter and
// its own clock, through successes, service errors, a plain error, a
// timeout, a one-way call and a refused connection, and checks the two
// reports the gotars-served StatF receives row by row.
func TestStatReports(t *testing.T) {
	stat := startStatServer(t)
	srvClock, cltClock := newFakeClock(), newFakeClock()

	srvStats, err := monitor.NewStatReporter(stat.statClient(t), monitor.StatOptions{
		Identity: monitor.Identity{App: "Test", Server: "EchoServer", LocalIP: "10.0.0.2"}, Now: srvClock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan string, 100)
	srv := tars.NewServer(tars.WithMiddleware(notify(served), srvStats.Middleware, latency(srvClock)))
	release := make(chan struct{})
	handleEcho(srv, release)
	port := serve(t, srv)

	cltStats, err := monitor.NewStatReporter(stat.statClient(t), monitor.StatOptions{
		Identity: monitor.Identity{App: "Test", Server: "Caller", LocalIP: "10.0.0.1"}, Now: cltClock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, object(echoServant, port), tars.WithMiddleware(cltStats.Middleware, latency(cltClock)))

	waitServed := func() {
		t.Helper()
		select {
		case <-served:
		case <-time.After(10 * time.Second):
			t.Fatal("the server did not record a call")
		}
	}
	ctx := context.Background()
	calls := []struct {
		ep   *tars.Endpoint[textArgs, string]
		ms   int
		code tars.Code
	}{
		{echoOK, 3, 0}, {echoOK, 3, 0}, {echoOK, 7, 0},
		{echoFail, 60, 2}, {echoFail, 4999, 2},
		{echoBoom, 250, tars.CodeServerUnknownErr},
		{echoSlow, 3500, tars.CodeInvokeTimeout},
	}
	for _, call := range calls {
		cctx, cancel := context.WithTimeout(withLatency(ctx, call.ms), time.Second)
		if call.ep == echoSlow {
			cctx, cancel = context.WithTimeout(withLatency(ctx, call.ms), 100*time.Millisecond)
		}
		_, err := call.ep.Call(cctx, c, textArgs{S: "x"})
		cancel()
		if call.ep == echoSlow {
			close(release) // the caller has given up: now the server may answer
		}
		if got := tars.CodeOf(err); got != call.code {
			t.Fatalf("%s: code %d, want %d (%v)", call.ep.Name(), got, call.code, err)
		}
		waitServed() // the server's clock moves for one call at a time
	}
	if err := echoNote.Send(withLatency(ctx, 0), c, textArgs{S: "n"}); err != nil {
		t.Fatal(err)
	}
	waitServed()
	// A call that reaches no endpoint: its port is closed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dead := newClient(t, object(echoServant, deadPort), tars.WithMiddleware(cltStats.Middleware, latency(cltClock)), tars.WithReconnectBackoff(0, 0))
	if _, err := echoOK.Call(withLatency(ctx, 1), dead, textArgs{}); err == nil {
		t.Fatal("a call to a closed port succeeded")
	}

	if err := cltStats.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cltReport := stat.nextMic(t)
	if err := srvStats.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	srvReport := stat.nextMic(t)
	stat.noMore(t)

	if !cltReport.FromClient || srvReport.FromClient {
		t.Errorf("bFromClient: caller's %v, server's %v; want true, false", cltReport.FromClient, srvReport.FromClient)
	}
	ch := func(method string, ret int32) monitor.StatMicMsgHead {
		return monitor.StatMicMsgHead{
			MasterName: "Test.Caller", SlaveName: "Test.EchoServer", InterfaceName: method,
			MasterIP: "10.0.0.1", SlaveIP: "127.0.0.1", SlavePort: int32(port), ReturnValue: ret, TarsVersion: "gotars",
		}
	}
	deadHead := ch("echo", 0)
	deadHead.SlaveIP, deadHead.SlavePort = "", 0
	diffMic(t, "caller", cltReport.Msg, map[monitor.StatMicMsgHead]monitor.StatMicMsgBody{
		ch("echo", 0):   {Count: 3, IntervalCount: buckets(map[int32]int32{5: 2, 10: 1}), TotalRspTime: 13, MaxRspTime: 7, MinRspTime: 3},
		ch("fail", 2):   {ExecCount: 2, IntervalCount: buckets(map[int32]int32{100: 1}), TotalRspTime: 5059, MaxRspTime: 4999, MinRspTime: 60},
		ch("boom", -99): {ExecCount: 1, IntervalCount: buckets(map[int32]int32{500: 1}), TotalRspTime: 250, MaxRspTime: 250, MinRspTime: 250},
		// A local timeout: timeoutCount, iRet 0 (no answer), no bucket past 3000 ms.
		ch("slow", 0): {TimeoutCount: 1, IntervalCount: buckets(nil), TotalRspTime: 3500, MaxRspTime: 3500, MinRspTime: 3500},
		ch("note", 0): {Count: 1, IntervalCount: buckets(map[int32]int32{5: 1}), TotalRspTime: 0},
		deadHead:      {ExecCount: 1, IntervalCount: buckets(map[int32]int32{5: 1}), TotalRspTime: 1, MaxRspTime: 1, MinRspTime: 1},
	})
	sh := func(master, method string, ret int32) monitor.StatMicMsgHead {
		return monitor.StatMicMsgHead{
			MasterName: master, SlaveName: "Test.EchoServer", InterfaceName: method,
			SlaveIP: "10.0.0.2", ReturnValue: ret, TarsVersion: "gotars",
		}
	}
	diffMic(t, "server", srvReport.Msg, map[monitor.StatMicMsgHead]monitor.StatMicMsgBody{
		sh("stat_from_server", "echo", 0):   {Count: 3, IntervalCount: buckets(map[int32]int32{5: 2, 10: 1}), TotalRspTime: 13, MaxRspTime: 7, MinRspTime: 3},
		sh("stat_from_server", "fail", 2):   {ExecCount: 2, IntervalCount: buckets(map[int32]int32{100: 1}), TotalRspTime: 5059, MaxRspTime: 4999, MinRspTime: 60},
		sh("stat_from_server", "boom", -99): {ExecCount: 1, IntervalCount: buckets(map[int32]int32{500: 1}), TotalRspTime: 250, MaxRspTime: 250, MinRspTime: 250},
		sh("stat_from_server", "slow", -7):  {ExecCount: 1, IntervalCount: buckets(nil), TotalRspTime: 3500, MaxRspTime: 3500, MinRspTime: 3500},
		sh("one_way_client", "note", 0):     {Count: 1, IntervalCount: buckets(map[int32]int32{5: 1})},
	})
	if s := cltStats.Stats(); s.Reports != 1 || s.Failures != 0 || s.Dropped != 0 {
		t.Errorf("caller stats %+v", s)
	}
}

// TestStatRealClock times calls with the real clock: a handler that sleeps
// 20 ms gives calls of at least 20 ms on both sides, each in one bucket of
// 50 ms or above.
func TestStatRealClock(t *testing.T) {
	stat := startStatServer(t)
	r, err := monitor.NewStatReporter(stat.statClient(t), monitor.StatOptions{Identity: monitor.Identity{App: "Test", Server: "EchoServer"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := tars.NewServer(tars.WithMiddleware(r.Middleware))
	sleepy := tars.NewEndpoint[textArgs, string](tars.NewService("Sleepy"), "nap")
	tars.Handle(srv, echoServant, sleepy, func(context.Context, textArgs) (string, error) {
		time.Sleep(20 * time.Millisecond)
		return "", nil
	})
	c := newClient(t, object(echoServant, serve(t, srv)), tars.WithMiddleware(r.Middleware))
	const n = 5
	for range n {
		if _, err := sleepy.Call(context.Background(), c, textArgs{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		a := stat.nextMic(t)
		if len(a.Msg) != 1 {
			t.Fatalf("%d rows, want 1", len(a.Msg))
		}
		for h, b := range a.Msg {
			var inBuckets int32
			for k, v := range b.IntervalCount {
				if v > 0 && k < 50 {
					t.Errorf("%s: %d calls in bucket %d, below the 20 ms they slept", h.MasterName, v, k)
				}
				inBuckets += v
			}
			if b.Count != n || b.MinRspTime < 20 || b.TotalRspTime < 20*n || b.MaxRspTime < b.MinRspTime {
				t.Errorf("%s: %+v", h.MasterName, b)
			}
			if b.MaxRspTime < 3000 && inBuckets != n { // (a machine stalled 3 s would put a call past every bucket)
				t.Errorf("%s: %d calls in buckets, want %d", h.MasterName, inBuckets, n)
			}
		}
	}
}
