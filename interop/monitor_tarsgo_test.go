package interop

// The monitor package (TARS stat and property reporting) against TarsGo
// v1.4.6: its generated StatF and PropertyF dispatch (tars/protocol/res/statf,
// propertyf) serve as the stat and property servers, TarsGo's own
// aggregation (StatFHelper.collectMsg, reached by linkname: it is
// unexported) computes what the rows must be from the same calls, and
// TarsGo's own policy types (tars.NewSum, NewDistr, …) compute the property
// values from the same samples.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"
	_ "unsafe" // go:linkname

	tarsgo "github.com/TarsCloud/TarsGo/tars"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/propertyf"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/statf"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
	UserService "github.com/gotars/tars/interop/gen/UserService"
	"github.com/gotars/tars/interop/rpcpeer"
	"github.com/gotars/tars/monitor"
)

// tarsgoCollect is TarsGo's StatFHelper.collectMsg: it adds one call's
// StatInfo to a row map, its time bucketed by getIntervCount. It uses no
// field of the helper.
//
//go:linkname tarsgoCollect github.com/TarsCloud/TarsGo/tars.(*StatFHelper).collectMsg
func tarsgoCollect(s *tarsgo.StatFHelper, info tarsgo.StatInfo, m map[statf.StatMicMsgHead]statf.StatMicMsgBody, n map[statf.StatMicMsgHead]int)

// tgStatServer is TarsGo's generated StatF and PropertyF served by TarsGo's
// transport; it keeps what it receives, decoded into TarsGo's types.
type tgStatServer struct {
	mic   chan tgMic
	props chan map[propertyf.StatPropMsgHead]propertyf.StatPropMsgBody
}

type tgMic struct {
	msg        map[statf.StatMicMsgHead]statf.StatMicMsgBody
	fromClient bool
}

func (s *tgStatServer) ReportMicMsg(_ context.Context, msg map[statf.StatMicMsgHead]statf.StatMicMsgBody, bFromClient bool) (int32, error) {
	s.mic <- tgMic{msg, bFromClient}
	return 0, nil
}

func (s *tgStatServer) ReportSampleMsg(context.Context, []statf.StatSampleMsg) (int32, error) {
	return 0, nil
}

func (s *tgStatServer) ReportPropMsg(_ context.Context, msg map[propertyf.StatPropMsgHead]propertyf.StatPropMsgBody) (int32, error) {
	s.props <- msg
	return 0, nil
}

var (
	_ statf.StatFServantWithContext         = (*tgStatServer)(nil)
	_ propertyf.PropertyFServantWithContext = (*tgStatServer)(nil)
)

// monStartTarsGo serves d (statf.NewStatF() or propertyf.NewPropertyF())
// with impl until the test ends and returns the object string of servant.
func monStartTarsGo(t *testing.T, d rpcpeer.Dispatcher, impl any, servant string) string {
	t.Helper()
	srv, err := rpcpeer.Serve(d, impl, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("TarsGo server shutdown: %v", err)
		}
	})
	host, port, _ := net.SplitHostPort(srv.Addr())
	return fmt.Sprintf("%s@tcp -h %s -p %s -t 3000", servant, host, port)
}

func (s *tgStatServer) nextMic(t *testing.T) tgMic {
	t.Helper()
	select {
	case m := <-s.mic:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("TarsGo's StatF received nothing within 10 s")
	}
	panic("unreachable")
}

// monClock is a clock that moves only when told, so that each call takes
// the time the test gives it.
type monClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *monClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *monClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

const monLatKey = "test_latency_ms"

// monLatency, inside the stat middleware, moves clock by the call's
// monLatKey once the call is over.
func monLatency(clock *monClock) tars.Middleware {
	return func(next tars.Invoker) tars.Invoker {
		return func(ctx context.Context, call *tars.Call) error {
			err := next(ctx, call)
			if ms, e := strconv.Atoi(call.Context[monLatKey]); e == nil {
				clock.Advance(time.Duration(ms) * time.Millisecond)
			}
			return err
		}
	}
}

// monNotify, outside the stat middleware, tells when a served call has been
// recorded.
func monNotify(ch chan<- string) tars.Middleware {
	return func(next tars.Invoker) tars.Invoker {
		return func(ctx context.Context, call *tars.Call) error {
			err := next(ctx, call)
			ch <- call.Method
			return err
		}
	}
}

// The gotars service the test serves: Mon.EchoServer.EchoObj.
var (
	monSvc  = tars.NewService("MonEcho")
	monEcho = tars.NewEndpoint[monArgs, string](monSvc, "echo")
	monFail = tars.NewEndpoint[monArgs, string](monSvc, "fail") // code 7
	monBoom = tars.NewEndpoint[monArgs, string](monSvc, "boom") // a plain error: -99
	monSlow = tars.NewEndpoint[monArgs, string](monSvc, "slow") // returns after its caller gave up: -7
	monNote = tars.NewEndpoint[monArgs, tars.Void](monSvc, "note")
)

type monArgs struct {
	S string `tars:"1,name=s"`
}

const monServant = "Mon.EchoServer.EchoObj"

// tgRow is one call as TarsGo's ReportStatFromClient / ReportStatFromServer
// would hand it to collectMsg: its head, how it counts and its time.
func tgRow(h statf.StatMicMsgHead, succ, timeout, exec int32, ms int64) tarsgo.StatInfo {
	return tarsgo.StatInfo{Head: h, Body: statf.StatMicMsgBody{
		Count: succ, TimeoutCount: timeout, ExecCount: exec,
		TotalRspTime: ms, MaxRspTime: int32(ms), MinRspTime: int32(ms),
	}}
}

// TestMonitorStatTarsGo: a gotars caller and a gotars server, each with its
// StatReporter, report to TarsGo's StatF. The caller calls the gotars
// server (successes, a service code, a plain error, a timeout, a one-way
// call) and TarsGo's UserService (a success and its "not found" code 2),
// with times from 0 ms to past 3000 ms on every bucket edge. What TarsGo's
// StatF decodes must equal what TarsGo's own collectMsg makes of the same
// calls: heads, counts, buckets, times.
func TestMonitorStatTarsGo(t *testing.T) {
	tg := &tgStatServer{mic: make(chan tgMic, 10), props: make(chan map[propertyf.StatPropMsgHead]propertyf.StatPropMsgBody, 10)}
	statObj := monStartTarsGo(t, statf.NewStatF(), tg, monitor.StatObj)
	cltClock, srvClock := &monClock{now: time.Unix(1_700_000_000, 0)}, &monClock{now: time.Unix(1_700_000_000, 0)}

	srvStats, err := monitor.NewStatReporter(rpcGotarsClient(t, statObj), monitor.StatOptions{
		Identity: monitor.Identity{App: "Mon", Server: "EchoServer", LocalIP: "10.0.0.2"}, Now: srvClock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan string, 100)
	srv := tars.NewServer(tars.WithMiddleware(monNotify(served), srvStats.Middleware, monLatency(srvClock)))
	tars.Handle(srv, monServant, monEcho, func(_ context.Context, a monArgs) (string, error) { return a.S, nil })
	tars.Handle(srv, monServant, monFail, func(context.Context, monArgs) (string, error) { return "", tars.NewError(7, "seven") })
	tars.Handle(srv, monServant, monBoom, func(context.Context, monArgs) (string, error) { return "", errors.New("boom") })
	release := make(chan struct{}) // closed once slow's caller has given up
	tars.Handle(srv, monServant, monSlow, func(ctx context.Context, _ monArgs) (string, error) {
		<-release
		<-ctx.Done()
		return "", ctx.Err()
	})
	tars.Handle(srv, monServant, monNote, func(context.Context, monArgs) (tars.Void, error) { return tars.Void{}, nil })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-srvDone
	})
	echoPort := ln.Addr().(*net.TCPAddr).Port

	tgUsers, _ := rpcStartTarsGo(t)
	_, tgPortS, _ := net.SplitHostPort(tgUsers.Addr())
	tgPort, _ := strconv.Atoi(tgPortS)

	cltStats, err := monitor.NewStatReporter(rpcGotarsClient(t, statObj), monitor.StatOptions{
		Identity: monitor.Identity{App: "Mon", Server: "Caller", LocalIP: "10.0.0.1"}, Now: cltClock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	mw := tars.WithMiddleware(cltStats.Middleware, monLatency(cltClock))
	echoC := rpcGotarsClient(t, fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d -t 3000", monServant, echoPort), mw)
	usersC := rpcGotarsClient(t, tgUsers.Endpoint(), mw)

	// What TarsGo makes of the same calls, side by side.
	wantClt := map[statf.StatMicMsgHead]statf.StatMicMsgBody{}
	wantSrv := map[statf.StatMicMsgHead]statf.StatMicMsgBody{}
	helper := &tarsgo.StatFHelper{}
	clientHead := func(slave, method string, port int, ret int32) statf.StatMicMsgHead {
		return statf.StatMicMsgHead{
			MasterName: "Mon.Caller", MasterIp: "10.0.0.1", SlaveName: slave, InterfaceName: method,
			SlaveIp: "127.0.0.1", SlavePort: int32(port), ReturnValue: ret, TarsVersion: monitor.DefaultTarsVersion,
		}
	}
	serverHead := func(master, method string, ret int32) statf.StatMicMsgHead {
		return statf.StatMicMsgHead{
			MasterName: master, SlaveName: "Mon.EchoServer", InterfaceName: method,
			SlaveIp: "10.0.0.2", ReturnValue: ret, TarsVersion: monitor.DefaultTarsVersion,
		}
	}
	ctx := context.Background()
	lat := func(ms int64) context.Context {
		return tars.WithOutgoingContext(ctx, map[string]string{monLatKey: strconv.FormatInt(ms, 10)})
	}

	// Each call to the gotars server is recorded by its server before the
	// next one starts: the server's clock moves for one call at a time.
	waitServed := func() {
		t.Helper()
		select {
		case <-served:
		case <-time.After(10 * time.Second):
			t.Fatal("the gotars server did not record a call")
		}
	}

	// Calls to the gotars server: every bucket edge, on echo.
	for _, ms := range []int64{0, 4, 5, 9, 10, 49, 50, 99, 100, 199, 200, 499, 500, 999, 1000, 1999, 2000, 2999, 3000, 4500} {
		if _, err := monEcho.Call(lat(ms), echoC, monArgs{S: "x"}); err != nil {
			t.Fatal(err)
		}
		waitServed()
		tarsgoCollect(helper, tgRow(clientHead("Mon.EchoServer", "echo", echoPort, 0), 1, 0, 0, ms), wantClt, map[statf.StatMicMsgHead]int{})
		tarsgoCollect(helper, tgRow(serverHead("stat_from_server", "echo", 0), 1, 0, 0, ms), wantSrv, map[statf.StatMicMsgHead]int{})
	}
	for _, ms := range []int64{12, 700} {
		if _, err := monFail.Call(lat(ms), echoC, monArgs{}); tars.CodeOf(err) != 7 {
			t.Fatalf("fail: %v", err)
		}
		waitServed()
		tarsgoCollect(helper, tgRow(clientHead("Mon.EchoServer", "fail", echoPort, 7), 0, 0, 1, ms), wantClt, map[statf.StatMicMsgHead]int{})
		tarsgoCollect(helper, tgRow(serverHead("stat_from_server", "fail", 7), 0, 0, 1, ms), wantSrv, map[statf.StatMicMsgHead]int{})
	}
	if _, err := monBoom.Call(lat(33), echoC, monArgs{}); tars.CodeOf(err) != tars.CodeServerUnknownErr {
		t.Fatalf("boom: %v", err)
	}
	waitServed()
	tarsgoCollect(helper, tgRow(clientHead("Mon.EchoServer", "boom", echoPort, -99), 0, 0, 1, 33), wantClt, map[statf.StatMicMsgHead]int{})
	tarsgoCollect(helper, tgRow(serverHead("stat_from_server", "boom", -99), 0, 0, 1, 33), wantSrv, map[statf.StatMicMsgHead]int{})
	// A timeout: the caller's deadline passes; TarsGo's client counts it in
	// timeoutCount with the untouched response's iRet 0; the server answers
	// -7 (late), a failure on its side.
	tctx, cancel := context.WithTimeout(lat(150), 100*time.Millisecond)
	_, err = monSlow.Call(tctx, echoC, monArgs{})
	cancel()
	close(release)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow: %v", err)
	}
	waitServed()
	tarsgoCollect(helper, tgRow(clientHead("Mon.EchoServer", "slow", echoPort, 0), 0, 1, 0, 150), wantClt, map[statf.StatMicMsgHead]int{})
	tarsgoCollect(helper, tgRow(serverHead("stat_from_server", "slow", -7), 0, 0, 1, 150), wantSrv, map[statf.StatMicMsgHead]int{})
	// A one-way call: a success on both sides, "one_way_client" on the server's.
	if err := monNote.Send(lat(2), echoC, monArgs{}); err != nil {
		t.Fatal(err)
	}
	waitServed()
	tarsgoCollect(helper, tgRow(clientHead("Mon.EchoServer", "note", echoPort, 0), 1, 0, 0, 2), wantClt, map[statf.StatMicMsgHead]int{})
	tarsgoCollect(helper, tgRow(serverHead("one_way_client", "note", 0), 1, 0, 0, 2), wantSrv, map[statf.StatMicMsgHead]int{})

	// Calls to TarsGo's UserService: created, found, then not found (iRet 2).
	created, err := userapi.CreateUser.Call(lat(8), usersC, userapi.UserInfoArgs{UserInfo: userapi.UserInfo{UserName: "ada", Email: "ada@example.org"}})
	if err != nil || created.Ret != 0 {
		t.Fatalf("createUser: %+v %v", created, err)
	}
	tarsgoCollect(helper, tgRow(clientHead("UserService.UserServiceObj", "createUser", tgPort, 0), 1, 0, 0, 8), wantClt, map[statf.StatMicMsgHead]int{})
	if _, err := userapi.GetUser.Call(lat(120), usersC, userapi.UserIDArgs{UserID: created.Result.UserID}); err != nil {
		t.Fatal(err)
	}
	tarsgoCollect(helper, tgRow(clientHead("UserService.UserServiceObj", "getUser", tgPort, 0), 1, 0, 0, 120), wantClt, map[statf.StatMicMsgHead]int{})
	if _, err := userapi.GetUser.Call(lat(1500), usersC, userapi.UserIDArgs{UserID: 999}); tars.CodeOf(err) != 2 {
		t.Fatalf("getUser(999): %v", err)
	}
	tarsgoCollect(helper, tgRow(clientHead("UserService.UserServiceObj", "getUser", tgPort, 2), 0, 0, 1, 1500), wantClt, map[statf.StatMicMsgHead]int{})

	if err := cltStats.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	gotClt := tg.nextMic(t)
	if err := srvStats.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	gotSrv := tg.nextMic(t)

	if !gotClt.fromClient || gotSrv.fromClient {
		t.Errorf("bFromClient: caller %v, server %v; want true, false", gotClt.fromClient, gotSrv.fromClient)
	}
	monDiffRows(t, "caller", gotClt.msg, wantClt)
	monDiffRows(t, "server", gotSrv.msg, wantSrv)
}

func monDiffRows(t *testing.T, side string, got, want map[statf.StatMicMsgHead]statf.StatMicMsgBody) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	for h, w := range want {
		if g, ok := got[h]; !ok {
			t.Errorf("%s: missing row %+v", side, h)
		} else if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: %s ret %d:\n got %+v\nwant %+v (TarsGo's collectMsg)", side, h.InterfaceName, h.ReturnValue, g, w)
		}
	}
	for h, g := range got {
		if _, ok := want[h]; !ok {
			t.Errorf("%s: unexpected row %+v: %+v", side, h, g)
		}
	}
}

// TestMonitorPropertyTarsGo: a gotars PropertyReporter reports to TarsGo's
// PropertyF; the values TarsGo's PropertyF decodes equal those TarsGo's own
// policy types (tars.NewSum, NewAvg, NewDistr, NewMax, NewMin, NewCount)
// give for the same samples, with the values TarsGo does not send (equal
// to the policy's initial value) left out as its ReportToServer leaves
// them out.
func TestMonitorPropertyTarsGo(t *testing.T) {
	tg := &tgStatServer{mic: make(chan tgMic, 10), props: make(chan map[propertyf.StatPropMsgHead]propertyf.StatPropMsgBody, 10)}
	propObj := monStartTarsGo(t, propertyf.NewPropertyF(), tg, monitor.PropertyObj)
	r, err := monitor.NewPropertyReporter(rpcGotarsClient(t, propObj), monitor.PropertyOptions{
		Identity: monitor.Identity{App: "Mon", Server: "EchoServer", LocalIP: "10.0.0.2", SetDivision: "gz.sz.1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	bounds := []int{100, 10, 50, 10, 1000}
	samples := map[string][]int{
		"latency": {3, 10, 11, 50, 51, 999, 1000, 5000, -4, 0},
		"zeros":   {0, 0, 0},
		"one":     {42},
		"mean":    {1, 2, 2},
	}
	want := map[propertyf.StatPropMsgHead]propertyf.StatPropMsgBody{}
	for name, vs := range samples {
		b64 := make([]int64, len(bounds))
		for i, b := range bounds {
			b64[i] = int64(b)
		}
		p, err := r.Property(name, monitor.Sum(), monitor.Avg(), monitor.Distr(b64...), monitor.Max(), monitor.Min(), monitor.Count())
		if err != nil {
			t.Fatal(err)
		}
		methods := []tarsgo.ReportMethod{tarsgo.NewSum(), tarsgo.NewAvg(), tarsgo.NewDistr(bounds), tarsgo.NewMax(), tarsgo.NewMin(), tarsgo.NewCount()}
		for _, v := range vs {
			p.Report(int64(v))
			for _, m := range methods {
				m.Set(v)
			}
		}
		body := propertyf.StatPropMsgBody{VInfo: []propertyf.StatPropInfo{}}
		for _, m := range methods {
			v := m.Get()
			if tgSkips(m.Enum(), v) {
				continue
			}
			body.VInfo = append(body.VInfo, propertyf.StatPropInfo{Policy: m.Enum().String(), Value: v})
		}
		want[propertyf.StatPropMsgHead{
			ModuleName: "Mon.EchoServer.gzsz1", Ip: "10.0.0.2", PropertyName: name,
			SetName: "gz", SetArea: "sz", SetID: "1", IPropertyVer: 2,
		}] = body
	}
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got map[propertyf.StatPropMsgHead]propertyf.StatPropMsgBody
	select {
	case got = <-tg.props:
	case <-time.After(10 * time.Second):
		t.Fatal("TarsGo's PropertyF received nothing")
	}
	for h, w := range want {
		g, ok := got[h]
		if !ok {
			t.Errorf("missing head %+v", h)
			continue
		}
		if !reflect.DeepEqual(g.VInfo, w.VInfo) {
			t.Errorf("%s:\n got %v\nwant %v (TarsGo's policies)", h.PropertyName, g.VInfo, w.VInfo)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d heads, want %d", len(got), len(want))
	}
}

// tgSkips is the rule of TarsGo's PropertyReportHelper.ReportToServer: a
// policy whose value is its initial one is not sent.
func tgSkips(p tarsgo.ReportPolicy, v string) bool {
	switch p {
	case tarsgo.ReportPolicyDistr:
		return v == ""
	case tarsgo.ReportPolicyMax:
		return v == "-9999999"
	}
	return v == "0"
}

// TestMonitorStatFromTarsGoCaller: TarsGo's generated UserService client
// calls gotars' example UserService, whose StatReporter reports to
// TarsGo's StatF. The server's rows (a success, a service result, the
// "not found" code 2, a one-way call) equal TarsGo's collectMsg of the same
// calls.
func TestMonitorStatFromTarsGoCaller(t *testing.T) {
	tg := &tgStatServer{mic: make(chan tgMic, 10), props: make(chan map[propertyf.StatPropMsgHead]propertyf.StatPropMsgBody, 10)}
	statObj := monStartTarsGo(t, statf.NewStatF(), tg, monitor.StatObj)
	clock := &monClock{now: time.Unix(1_700_000_000, 0)}
	stats, err := monitor.NewStatReporter(rpcGotarsClient(t, statObj), monitor.StatOptions{
		Identity: monitor.Identity{App: "Demo", Server: "UserServer", LocalIP: "10.0.0.3"}, Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan string, 10)
	srv := rpcStartGotars(t, tars.WithMiddleware(monNotify(served), stats.Middleware, monLatency(clock)))
	users := rpcTarsGoClient(srv.Obj())

	want := map[statf.StatMicMsgHead]statf.StatMicMsgBody{}
	row := func(master, method string, ret int32, ms int64) {
		t.Helper()
		select {
		case <-served:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s was not recorded", method)
		}
		h := statf.StatMicMsgHead{
			MasterName: master, SlaveName: "Demo.UserServer", InterfaceName: method,
			SlaveIp: "10.0.0.3", ReturnValue: ret, TarsVersion: monitor.DefaultTarsVersion,
		}
		succ, exec := int32(1), int32(0)
		if ret != 0 {
			succ, exec = 0, 1
		}
		tarsgoCollect(&tarsgo.StatFHelper{}, tgRow(h, succ, 0, exec, ms), want, map[statf.StatMicMsgHead]int{})
	}
	lat := func(ms int) map[string]string { return map[string]string{monLatKey: strconv.Itoa(ms)} }

	var created UserService.UserInfo
	ret, err := users.CreateUser(&UserService.UserInfo{UserName: "ada", Email: "ada@example.org"}, &created, lat(30))
	if err != nil || ret != 0 {
		t.Fatalf("createUser: %d %v", ret, err)
	}
	row("stat_from_server", "createUser", 0, 30)
	// A refused user is the method's own result 1, with iRet 0: a success.
	if ret, err := users.CreateUser(&UserService.UserInfo{}, &created, lat(40)); err != nil || ret != 1 {
		t.Fatalf("createUser(empty): %d %v", ret, err)
	}
	row("stat_from_server", "createUser", 0, 40)
	if _, err := users.GetUser(created.UserId, lat(4)); err != nil {
		t.Fatal(err)
	}
	row("stat_from_server", "getUser", 0, 4)
	if _, err := users.GetUser(999, lat(600)); err == nil {
		t.Fatal("getUser(999) succeeded")
	}
	row("stat_from_server", "getUser", 2, 600)
	if _, err := users.GetUserOneWayWithContext(context.Background(), created.UserId, lat(1)); err != nil {
		t.Fatal(err)
	}
	row("one_way_client", "getUser", 0, 1)

	if err := stats.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := tg.nextMic(t)
	if got.fromClient {
		t.Error("a server's report has bFromClient true")
	}
	monDiffRows(t, "server", got.msg, want)
}
