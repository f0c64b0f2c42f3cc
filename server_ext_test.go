package tars_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/example/userservice/userserver"
	"github.com/gotars/tars/middleware"
	"github.com/gotars/tars/protocol"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Test endpoints beside the UserService ones.
var (
	testSvc = tars.NewService("Test")
	echo    = tars.NewEndpoint[echoArgs, echoResults](testSvc, "echo")
	fail    = tars.NewEndpoint[failArgs, tars.Void](testSvc, "fail")
	sleep   = tars.NewEndpoint[sleepArgs, int32](testSvc, "sleep")
	ctxEcho = tars.NewEndpoint[tars.Void, map[string]string](testSvc, "ctxEcho")
)

type echoArgs struct {
	S  string            `tars:"1,name=s"`
	N  int64             `tars:"2,name=n"`
	B  []byte            `tars:"3,name=b"`
	M  map[string]string `tars:"4,name=m"`
	U8 uint8             `tars:"5,name=u8"`
}

type echoResults struct {
	tars.Results
	Ret int32  `tars:"0"`
	S   string `tars:"6,name=sOut"`
	N   int64  `tars:"7,name=nOut"`
	B   []byte `tars:"8,name=bOut"`
}

type failArgs struct {
	Mode string `tars:"1,name=mode"`
}

type sleepArgs struct {
	Millis int32 `tars:"1,name=millis"`
}

type testServer struct {
	srv       *tars.Server
	obj       string // tcp object name
	udpObj    string
	addr      string
	oneways   atomic.Int32
	onewayHit chan struct{}
	running   atomic.Int32
}

func startServer(t *testing.T, opts ...tars.ServerOption) *testServer {
	t.Helper()
	ts := &testServer{srv: tars.NewServer(opts...), onewayHit: make(chan struct{}, 16)}
	userserver.Register(ts.srv, userapi.Servant, userserver.NewStore())
	tars.Handle(ts.srv, "Test.Server.TestObj", echo, func(ctx context.Context, a echoArgs) (echoResults, error) {
		if a.S == "oneway" {
			ts.oneways.Add(1)
			ts.onewayHit <- struct{}{}
		}
		return echoResults{Ret: int32(len(a.S)), S: a.S + "!", N: a.N * 2, B: a.B}, nil
	})
	tars.Handle(ts.srv, "Test.Server.TestObj", fail, func(ctx context.Context, a failArgs) (tars.Void, error) {
		switch a.Mode {
		case "plain":
			return tars.Void{}, errors.New("plain failure")
		case "coded":
			return tars.Void{}, tars.Errorf(1234, "coded failure")
		case "panic":
			panic("handler panic")
		}
		return tars.Void{}, nil
	})
	tars.Handle(ts.srv, "Test.Server.TestObj", sleep, func(ctx context.Context, a sleepArgs) (int32, error) {
		ts.running.Add(1)
		defer ts.running.Add(-1)
		select {
		case <-time.After(time.Duration(a.Millis) * time.Millisecond):
			return a.Millis, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	})
	tars.Handle(ts.srv, "Test.Server.TestObj", ctxEcho, func(ctx context.Context, _ tars.Void) (map[string]string, error) {
		call, _ := tars.CallFromContext(ctx)
		out := map[string]string{}
		for k, v := range call.Context {
			out["ctx:"+k] = v
		}
		for k, v := range call.Status {
			out["status:"+k] = v
		}
		tars.SetResponseContext(ctx, "served-by", "gotars")
		tars.SetResponseStatus(ctx, "answer", "42")
		return out, nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ts.srv.Serve(ln)
	go ts.srv.ServePacket(pc)
	port := ln.Addr().(*net.TCPAddr).Port
	ts.addr = ln.Addr().String()
	ts.obj = fmt.Sprintf("Test.Server.TestObj@tcp -h 127.0.0.1 -p %d -t 3000", port)
	ts.udpObj = fmt.Sprintf("Test.Server.TestObj@udp -h 127.0.0.1 -p %d", pc.LocalAddr().(*net.UDPAddr).Port)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := ts.srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return ts
}

func newClient(t *testing.T, obj string, opts ...tars.ClientOption) *tars.Client {
	t.Helper()
	c, err := tars.NewClient(obj, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func codeOf(t *testing.T, err error) tars.Code {
	t.Helper()
	var te *tars.Error
	if !errors.As(err, &te) {
		t.Fatalf("want a *tars.Error, got %T %v", err, err)
	}
	return te.Code
}

func TestEchoAllVersions(t *testing.T) {
	ts := startServer(t)
	for _, tc := range []struct {
		name    string
		obj     string
		version int16
	}{
		{"tars", ts.obj, tars.VersionTARS},
		{"tup", ts.obj, tars.VersionTUP},
		{"json", ts.obj, tars.VersionJSON},
		{"udp", ts.udpObj, tars.VersionTARS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, tc.obj, tars.WithVersion(tc.version))
			args := echoArgs{S: "héllo", N: -1 << 40, B: []byte{0, 1, 255}, M: map[string]string{"k": "v"}, U8: 200}
			r, err := echo.Call(context.Background(), c, args)
			if err != nil {
				t.Fatal(err)
			}
			if r.Ret != int32(len(args.S)) || r.S != "héllo!" || r.N != -1<<41 || !bytes.Equal(r.B, args.B) {
				t.Fatalf("got %+v", r)
			}
			// Zero values travel too: every parameter is written.
			r, err = echo.Call(context.Background(), c, echoArgs{})
			if err != nil || r.Ret != 0 || r.S != "!" || r.N != 0 || len(r.B) != 0 {
				t.Fatalf("zero args: %+v, %v", r, err)
			}
		})
	}
}

func TestErrorCodes(t *testing.T) {
	ts := startServer(t)
	c := newClient(t, ts.obj)
	ctx := context.Background()
	tests := []struct {
		mode string
		code tars.Code
		msg  string
	}{
		{"plain", tars.CodeServerUnknownErr, "plain failure"},
		{"coded", 1234, "coded failure"},
		{"panic", tars.CodeServerUnknownErr, "handler panic"},
		{"", tars.CodeSuccess, ""},
	}
	for _, tt := range tests {
		_, err := fail.Call(ctx, c, failArgs{Mode: tt.mode})
		if tt.code == tars.CodeSuccess {
			if err != nil {
				t.Fatalf("%q: %v", tt.mode, err)
			}
			continue
		}
		var te *tars.Error
		if !errors.As(err, &te) || te.Code != tt.code || !strings.Contains(te.Message, tt.msg) {
			t.Fatalf("%q: got %v, want code %d with %q", tt.mode, err, tt.code, tt.msg)
		}
	}
	// The connection survived the panic.
	if _, err := echo.Call(ctx, c, echoArgs{S: "still"}); err != nil {
		t.Fatal(err)
	}
	// getUser of an unknown id: the service's code 2 and a text naming the id.
	uc := newClient(t, strings.Replace(ts.obj, "Test.Server.TestObj", userapi.Servant, 1))
	_, err := userapi.GetUser.Call(ctx, uc, userapi.UserIDArgs{UserID: 77})
	var te *tars.Error
	if !errors.As(err, &te) || te.Code != 2 || !strings.Contains(te.Message, "77") {
		t.Fatalf("getUser 77: %v", err)
	}
	// Unknown servant and function.
	other := newClient(t, strings.Replace(ts.obj, "Test.Server.TestObj", "No.Such.Obj", 1))
	if _, err := echo.Call(ctx, other, echoArgs{}); codeOf(t, err) != tars.CodeServerNoServantErr {
		t.Fatalf("unknown servant: %v", err)
	}
	if _, err := userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{}); codeOf(t, err) != tars.CodeServerNoFuncErr {
		t.Fatalf("unknown function: %v", err)
	}
}

// rawCall sends one request packet on a fresh connection and returns the
// decoded answer.
func rawCall(t *testing.T, addr string, req *protocol.RequestPacket) protocol.ResponsePacket {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Write(protocol.AppendRequest(nil, req)); err != nil {
		t.Fatal(err)
	}
	fr := protocol.NewFrameReader(nc, 0)
	frame, err := fr.Next()
	if err != nil {
		t.Fatal(err)
	}
	var resp protocol.ResponsePacket
	if err := protocol.DecodeResponse(frame, &resp); err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestDecodeErrorAndPing(t *testing.T) {
	ts := startServer(t)
	// A body that does not hold echo's parameters.
	resp := rawCall(t, ts.addr, &protocol.RequestPacket{Version: 1, RequestID: 9, ServantName: "Test.Server.TestObj",
		FuncName: "echo", Buffer: []byte{0x16, 0x05}, Timeout: 1000})
	if resp.Ret != tars.CodeServerDecodeErr || resp.RequestID != 9 {
		t.Fatalf("garbage body: %+v", resp)
	}
	// tars_ping is answered for every servant, even one with no handlers.
	for _, servant := range []string{"Test.Server.TestObj", userapi.Servant} {
		resp = rawCall(t, ts.addr, &protocol.RequestPacket{Version: 1, RequestID: 10, ServantName: servant, FuncName: "tars_ping"})
		if resp.Ret != 0 || resp.RequestID != 10 {
			t.Fatalf("tars_ping %s: %+v", servant, resp)
		}
	}
}

func TestOneway(t *testing.T) {
	ts := startServer(t)
	c := newClient(t, ts.obj)
	if err := echo.Send(context.Background(), c, echoArgs{S: "oneway"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ts.onewayHit:
	case <-time.After(5 * time.Second):
		t.Fatal("oneway request not served")
	}
	// No reply was sent: a normal call on the same connection gets its own answer.
	r, err := echo.Call(context.Background(), c, echoArgs{S: "x"})
	if err != nil || r.S != "x!" {
		t.Fatalf("after oneway: %+v %v", r, err)
	}
}

func TestContextMaps(t *testing.T) {
	ts := startServer(t)
	var seen *tars.Call
	capture := func(next tars.Invoker) tars.Invoker {
		return func(ctx context.Context, call *tars.Call) error {
			call.SetContext("added-by-middleware", "yes")
			call.SetStatus("status-by-middleware", "yes")
			err := next(ctx, call)
			seen = call
			return err
		}
	}
	c := newClient(t, ts.obj, tars.WithMiddleware(capture))
	ctx := tars.WithOutgoingContext(context.Background(), map[string]string{"trace": "abc"})
	ctx = tars.WithOutgoingStatus(ctx, map[string]string{"dyed": "1"})
	got, err := ctxEcho.Call(ctx, c, tars.Void{})
	if err != nil {
		t.Fatal(err)
	}
	if got["ctx:trace"] != "abc" || got["status:dyed"] != "1" || got["ctx:added-by-middleware"] != "yes" || got["status:status-by-middleware"] != "yes" {
		t.Fatalf("server saw %v", got)
	}
	if seen.ResponseContext["served-by"] != "gotars" || seen.ResponseStatus["answer"] != "42" {
		t.Fatalf("client saw response maps %v %v", seen.ResponseContext, seen.ResponseStatus)
	}
}

func TestTimeouts(t *testing.T) {
	ts := startServer(t)
	c := newClient(t, ts.obj)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := sleep.Call(ctx, c, sleepArgs{Millis: 2000})
	// Either side may notice first: the client's own timer (which also
	// unwraps to context.DeadlineExceeded) or the server's deadline.
	if codeOf(t, err) != tars.CodeInvokeTimeout {
		t.Fatalf("timeout: %v", err)
	}
	// The server cancels the handler's context at the caller's deadline.
	deadline := time.Now().Add(5 * time.Second)
	for ts.running.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := ts.running.Load(); n != 0 {
		t.Fatalf("%d handlers still running after their deadline", n)
	}
}

func TestOverload(t *testing.T) {
	ts := startServer(t, tars.WithMaxInvoke(1), tars.WithMaxQueue(0))
	c := newClient(t, ts.obj, tars.WithConnsPerEndpoint(1))
	ctx := context.Background()
	done := make(chan error, 1)
	go func() { // occupies the only handler slot
		_, err := sleep.Call(ctx, c, sleepArgs{Millis: 300})
		done <- err
	}()
	for ts.running.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	// No slot and no queue: overload, at once.
	_, err := sleep.Call(ctx, c, sleepArgs{Millis: 1})
	if codeOf(t, err) != tars.CodeServerOverload {
		t.Fatalf("want overload, got %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The slot is free again.
	if _, err := sleep.Call(ctx, c, sleepArgs{Millis: 1}); err != nil {
		t.Fatal(err)
	}
}

func TestQueueTimeoutAnswered(t *testing.T) {
	ts := startServer(t, tars.WithMaxInvoke(1), tars.WithQueueTimeout(50*time.Millisecond))
	c := newClient(t, ts.obj)
	ctx := context.Background()
	done := make(chan struct{})
	go func() { sleep.Call(ctx, c, sleepArgs{Millis: 300}); close(done) }()
	for ts.running.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	// A raw request without iTimeout waits the server's queue timeout and is
	// answered CodeServerQueueTimeout without running.
	resp := rawCall(t, ts.addr, &protocol.RequestPacket{Version: 1, RequestID: 5, ServantName: "Test.Server.TestObj",
		FuncName: "sleep", Buffer: []byte{0x1c}})
	if resp.Ret != tars.CodeServerQueueTimeout {
		t.Fatalf("got %+v", resp)
	}
	<-done
}

func TestBrokenFrameClosesOnlyThatConnection(t *testing.T) {
	ts := startServer(t, tars.WithMaxPacket(1<<16))
	c := newClient(t, ts.obj)
	if _, err := echo.Call(context.Background(), c, echoArgs{S: "before"}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{
		binary.BigEndian.AppendUint32(nil, 2),                                 // length below 4
		binary.BigEndian.AppendUint32(nil, 1<<20),                             // over the maximum
		append(binary.BigEndian.AppendUint32(nil, 8), 0xff, 0xff, 0xff, 0xff), // not a packet
	} {
		nc, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		nc.Write(bad)
		if _, err := nc.Read(make([]byte, 1)); err == nil {
			t.Fatalf("% x: connection not closed", bad)
		}
		nc.Close()
	}
	if _, err := echo.Call(context.Background(), c, echoArgs{S: "after"}); err != nil {
		t.Fatal(err)
	}
}

func TestGracefulShutdown(t *testing.T) {
	srv := tars.NewServer()
	started := make(chan struct{})
	tars.Handle(srv, "Test.Server.TestObj", sleep, func(ctx context.Context, a sleepArgs) (int32, error) {
		close(started)
		time.Sleep(time.Duration(a.Millis) * time.Millisecond)
		return a.Millis, nil
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	c := newClient(t, fmt.Sprintf("Test.Server.TestObj@tcp -h 127.0.0.1 -p %d", ln.Addr().(*net.TCPAddr).Port))
	got := make(chan error, 1)
	go func() {
		n, err := sleep.Call(context.Background(), c, sleepArgs{Millis: 200})
		if err == nil && n != 200 {
			err = fmt.Errorf("got %d", n)
		}
		got <- err
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("in-flight call: %v", err)
	}
	if err := <-served; !errors.Is(err, tars.ErrServerClosed) {
		t.Fatalf("Serve returned %v", err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Fatal("still accepting after Shutdown")
	}
}

func TestClientReconnects(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nobody listens yet
	c := newClient(t, fmt.Sprintf("Test.Server.TestObj@tcp -h 127.0.0.1 -p %d", port),
		tars.WithReconnectBackoff(5*time.Millisecond, 20*time.Millisecond))
	if _, err := echo.Call(context.Background(), c, echoArgs{}); codeOf(t, err) != tars.CodeProxyConnectErr {
		t.Fatalf("no server: %v", err)
	}
	srv := tars.NewServer()
	tars.Handle(srv, "Test.Server.TestObj", echo, func(ctx context.Context, a echoArgs) (echoResults, error) {
		return echoResults{S: a.S}, nil
	})
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := echo.Call(context.Background(), c, echoArgs{S: "up"})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never reconnected: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestConcurrentCalls(t *testing.T) {
	ts := startServer(t)
	c := newClient(t, ts.obj)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				s := fmt.Sprintf("%d-%d", g, i)
				r, err := echo.Call(context.Background(), c, echoArgs{S: s, N: int64(i)})
				if err != nil || r.S != s+"!" || r.N != int64(2*i) {
					errs <- fmt.Errorf("%s: %+v %v", s, r, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestMiddlewareLogging(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, nil))
	ts := startServer(t, tars.WithMiddleware(middleware.Logging(log), middleware.Recovery(log)))
	c := newClient(t, ts.obj)
	fail.Call(context.Background(), c, failArgs{Mode: "panic"})
	echo.Call(context.Background(), c, echoArgs{S: "x"})
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	for _, want := range []string{"method=fail", "code=-99", "tars: panic", "method=echo", "code=0", "side=server"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestPingAndRoundRobin(t *testing.T) {
	a, b := startServer(t), startServer(t)
	pa := a.obj[strings.Index(a.obj, "@")+1:]
	pb := b.obj[strings.Index(b.obj, "@")+1:]
	c := newClient(t, "Test.Server.TestObj@"+pa+":"+pb, tars.WithConnsPerEndpoint(1))
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if err := echo.Send(context.Background(), c, echoArgs{S: "oneway"}); err != nil {
			t.Fatal(err)
		}
	}
	for range 10 {
		select {
		case <-a.onewayHit:
		case <-b.onewayHit:
		case <-time.After(5 * time.Second):
			t.Fatal("oneway calls not served")
		}
	}
	if a.oneways.Load() != 5 || b.oneways.Load() != 5 {
		t.Fatalf("round robin: %d and %d calls", a.oneways.Load(), b.oneways.Load())
	}
}

func TestShutdownCancelsHandlersWhenItGivesUp(t *testing.T) {
	srv := tars.NewServer()
	started, cancelled := make(chan struct{}), make(chan struct{})
	tars.Handle(srv, "Test.Server.TestObj", sleep, func(ctx context.Context, a sleepArgs) (int32, error) {
		close(started)
		<-ctx.Done()
		close(cancelled)
		return 0, ctx.Err()
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	c := newClient(t, fmt.Sprintf("Test.Server.TestObj@tcp -h 127.0.0.1 -p %d", ln.Addr().(*net.TCPAddr).Port), tars.WithTimeout(30*time.Second))
	go sleep.Call(context.Background(), c, sleepArgs{Millis: 1})
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's context was not cancelled")
	}
}

// TestShutdownRacingRequests shuts servers down while calls keep arriving:
// admission and the drain must not race (no panic, every call answered or
// refused cleanly).
func TestShutdownRacingRequests(t *testing.T) {
	for range 20 {
		srv := tars.NewServer()
		tars.Handle(srv, "Test.Server.TestObj", echo, func(ctx context.Context, a echoArgs) (echoResults, error) {
			return echoResults{S: a.S}, nil
		})
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		go srv.Serve(ln)
		c, err := tars.NewClient(fmt.Sprintf("Test.Server.TestObj@tcp -h 127.0.0.1 -p %d", ln.Addr().(*net.TCPAddr).Port),
			tars.WithTimeout(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 50 {
					if _, err := echo.Call(context.Background(), c, echoArgs{S: "x"}); err != nil {
						var te *tars.Error
						if !errors.As(err, &te) {
							t.Errorf("not a *tars.Error: %v", err)
						}
						return
					}
				}
			}()
		}
		time.Sleep(time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		cancel()
		wg.Wait()
		c.Close()
	}
}

// TestClientConnectionDropsDoNotLeakIntoLaterCalls calls a server that
// closes every connection at once (the calls fail in every possible place:
// before, during and after their write), then a healthy one: no later call
// may see an answer meant for a failed one.
func TestClientConnectionDropsDoNotLeakIntoLaterCalls(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			nc.Close()
		}
	}()
	defer func() { ln.Close(); wg.Wait() }()
	bad := newClient(t, fmt.Sprintf("Test.Server.TestObj@tcp -h 127.0.0.1 -p %d", ln.Addr().(*net.TCPAddr).Port),
		tars.WithReconnectBackoff(0, 0))
	ts := startServer(t)
	good := newClient(t, ts.obj)
	var calls sync.WaitGroup
	for g := range 4 {
		calls.Add(1)
		go func() {
			defer calls.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // bounds the test if the bug returns
			defer cancel()
			for i := range 100 {
				if _, err := echo.Call(ctx, bad, echoArgs{}); err == nil {
					t.Error("a call through a closed connection succeeded")
					return
				}
				s := fmt.Sprint(g, i)
				r, err := echo.Call(ctx, good, echoArgs{S: s})
				if err != nil || r.S != s+"!" {
					t.Errorf("healthy call %s: %+v, %v", s, r, err)
					return
				}
			}
		}()
	}
	calls.Wait()
}

func TestClientMiddlewareWithoutOutgoingMaps(t *testing.T) {
	ts := startServer(t)
	c := newClient(t, ts.obj, tars.WithMiddleware(func(next tars.Invoker) tars.Invoker {
		return func(ctx context.Context, call *tars.Call) error {
			call.SetContext("k", "v") // no outgoing maps were set: the map is made here
			return next(ctx, call)
		}
	}))
	got, err := ctxEcho.Call(context.Background(), c, tars.Void{})
	if err != nil || got["ctx:k"] != "v" || len(got) != 1 {
		t.Fatalf("server saw %v, %v", got, err)
	}
}

// TestHandlerContextEnds: a handler's context carries the caller's
// deadline, and is cancelled once the call is answered, releasing what the
// handler left watching it (a context derived from it included).
func TestHandlerContextEnds(t *testing.T) {
	srv := tars.NewServer()
	type seen struct {
		ctx       context.Context
		derived   context.Context
		deadline  time.Time
		hasDL     bool
		errDuring error
	}
	got := make(chan seen, 1)
	tars.Handle(srv, "Test.Server.TestObj", echo, func(ctx context.Context, a echoArgs) (echoResults, error) {
		d, ok := ctx.Deadline()
		derived, cancel := context.WithCancel(ctx)
		go func() { <-derived.Done(); cancel() }() // left running past the call
		got <- seen{ctx, derived, d, ok, ctx.Err()}
		return echoResults{S: a.S}, nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	c, err := tars.NewClient(fmt.Sprintf("Test.Server.TestObj@tcp -h 127.0.0.1 -p %d", ln.Addr().(*net.TCPAddr).Port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	sent := time.Now()
	if _, err := echo.Call(ctx, c, echoArgs{S: "x"}); err != nil {
		t.Fatal(err)
	}
	s := <-got
	// The server's deadline is the caller's, from when the request arrived
	// (iTimeout rounds up to the millisecond): never before the caller's.
	if !s.hasDL || s.deadline.Before(sent.Add(time.Second)) || s.deadline.After(sent.Add(2*time.Second+100*time.Millisecond)) {
		t.Errorf("handler deadline %v (%v); the caller's is %v", s.deadline, s.hasDL, sent.Add(2*time.Second))
	}
	if s.errDuring != nil {
		t.Errorf("Err during the call = %v", s.errDuring)
	}
	for name, ctx := range map[string]context.Context{"handler": s.ctx, "derived": s.derived} {
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("the %s context is not done 5s after the call was answered", name)
		}
		if ctx.Err() != context.Canceled || context.Cause(ctx) != context.Canceled {
			t.Errorf("the %s context ended with %v (cause %v), want context.Canceled", name, ctx.Err(), context.Cause(ctx))
		}
	}
}

// TestServantLoad: the handlers a servant runs and may run, for health
// checks.
func TestServantLoad(t *testing.T) {
	srv := tars.NewServer(tars.WithMaxInvoke(2))
	running, release := make(chan struct{}), make(chan struct{})
	tars.Handle(srv, "Test.Server.TestObj", echo, func(ctx context.Context, a echoArgs) (echoResults, error) {
		running <- struct{}{}
		<-release
		return echoResults{S: a.S}, nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	if r, m, ok := srv.ServantLoad("Test.Server.TestObj"); !ok || r != 0 || m != 2 {
		t.Fatalf("idle: %d running of %d (%v)", r, m, ok)
	}
	c, err := tars.NewClient(fmt.Sprintf("Test.Server.TestObj@tcp -h 127.0.0.1 -p %d", ln.Addr().(*net.TCPAddr).Port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() { _, err := echo.Call(context.Background(), c, echoArgs{S: "x"}); done <- err }()
	<-running
	if r, m, ok := srv.ServantLoad("Test.Server.TestObj"); !ok || r != 1 || m != 2 {
		t.Errorf("one call: %d running of %d (%v)", r, m, ok)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, _, ok := srv.ServantLoad("No.Such.Obj"); ok {
		t.Error("a servant without handlers has a load")
	}
}
