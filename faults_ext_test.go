package tars_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/middleware"
	"github.com/gotars/tars/protocol"
	"github.com/gotars/tars/transport"
)

// Endpoints of the fault tests.
var (
	faultSvc    = tars.NewService("Fault")
	block       = tars.NewEndpoint[blockArgs, int32](faultSvc, "block")
	typedNil    = tars.NewEndpoint[tars.Void, int32](faultSvc, "typedNil")
	timeoutSeen = tars.NewEndpoint[tars.Void, int64](faultSvc, "timeoutSeen")
	wrappedDL   = tars.NewEndpoint[tars.Void, tars.Void](faultSvc, "wrappedDeadline")
	bigAnswer   = tars.NewEndpoint[blockArgs, []byte](faultSvc, "bigAnswer")
	setLater    = tars.NewEndpoint[tars.Void, tars.Void](faultSvc, "setLater")
)

type blockArgs struct {
	ID int32 `tars:"1,name=id"`
}

// faultServer serves the fault endpoints on servant "Fault.S.A" (and "Fault.S.B").
type faultServer struct {
	srv     *tars.Server
	addr    string
	obj     string
	objB    string
	release chan struct{} // closed to let blocked handlers return
	started sync.Map      // id -> time the handler started
	runs    atomic.Int32
}

func startFaultServer(t *testing.T, opts ...tars.ServerOption) *faultServer {
	t.Helper()
	fs := &faultServer{srv: tars.NewServer(opts...), release: make(chan struct{})}
	for _, servant := range []string{"Fault.S.A", "Fault.S.B"} {
		tars.Handle(fs.srv, servant, block, func(ctx context.Context, a blockArgs) (int32, error) {
			fs.started.Store(a.ID, time.Now())
			fs.runs.Add(1)
			<-fs.release // ignores its context on purpose
			return a.ID, nil
		})
	}
	tars.Handle(fs.srv, "Fault.S.A", typedNil, func(ctx context.Context, _ tars.Void) (int32, error) {
		var e *tars.Error // the classic func validate() *tars.Error
		return 7, e
	})
	tars.Handle(fs.srv, "Fault.S.A", timeoutSeen, func(ctx context.Context, _ tars.Void) (int64, error) {
		c, _ := tars.CallFromContext(ctx)
		dl, _ := ctx.Deadline()
		return int64(c.Timeout) + 0*int64(time.Until(dl)), nil
	})
	tars.Handle(fs.srv, "Fault.S.A", wrappedDL, func(ctx context.Context, _ tars.Void) (tars.Void, error) {
		return tars.Void{}, fmt.Errorf("database: %w", context.DeadlineExceeded)
	})
	tars.Handle(fs.srv, "Fault.S.A", bigAnswer, func(ctx context.Context, a blockArgs) ([]byte, error) {
		return make([]byte, a.ID), nil
	})
	tars.Handle(fs.srv, "Fault.S.A", setLater, func(ctx context.Context, _ tars.Void) (tars.Void, error) {
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tars.SetResponseStatus(ctx, fmt.Sprintf("k%d", i), "v")
				tars.SetResponseContext(ctx, fmt.Sprintf("k%d", i), "v")
			}()
		}
		wg.Wait()
		return tars.Void{}, nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fs.addr = ln.Addr().String()
	port := ln.Addr().(*net.TCPAddr).Port
	fs.obj = fmt.Sprintf("Fault.S.A@tcp -h 127.0.0.1 -p %d", port)
	fs.objB = fmt.Sprintf("Fault.S.B@tcp -h 127.0.0.1 -p %d", port)
	done := make(chan struct{})
	go func() { fs.srv.Serve(ln); close(done) }()
	t.Cleanup(func() {
		fs.unblock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		fs.srv.Shutdown(ctx)
		<-done
	})
	return fs
}

func (fs *faultServer) unblock() {
	select {
	case <-fs.release:
	default:
		close(fs.release)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestTypedNilErrorIsSuccess(t *testing.T) {
	fs := startFaultServer(t)
	c := newClient(t, fs.obj)
	got, err := typedNil.Call(context.Background(), c, tars.Void{})
	if err != nil || got != 7 {
		t.Fatalf("typed nil *Error: %d, %v (want success)", got, err)
	}
	var e *tars.Error
	if code := tars.CodeOf(e); code != tars.CodeSuccess {
		t.Fatalf("CodeOf(typed nil) = %v", code)
	}
	if e.Error() == "" || e.Unwrap() != nil {
		t.Fatal("nil *Error methods")
	}
}

func TestServantsDoNotShareAdmission(t *testing.T) {
	fs := startFaultServer(t, tars.WithServantLimits("Fault.S.A", tars.ServantLimits{MaxInvoke: 2, MaxQueue: 2}))
	a := newClient(t, fs.obj)
	b := newClient(t, fs.objB)
	ctx := context.Background()
	var wg sync.WaitGroup
	var overloaded atomic.Int32
	for i := range 20 { // overload servant A
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := block.Call(ctx, a, blockArgs{ID: int32(i)})
			if tars.CodeOf(err) == tars.CodeServerOverload {
				overloaded.Add(1)
			}
		}()
	}
	waitFor(t, "A saturated", func() bool { return overloaded.Load() == 16 })
	// B is untouched: its calls run at once (their handlers block too, so
	// run them concurrently and count the starts).
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := block.Call(ctx, b, blockArgs{ID: int32(100 + i)}); err != nil {
				t.Errorf("servant B: %v", err)
			}
		}()
	}
	waitFor(t, "B's handlers", func() bool { return fs.runs.Load() == 12 })
	fs.unblock()
	wg.Wait()
}

func TestQueueTimeoutLeavesAMargin(t *testing.T) {
	fs := startFaultServer(t, tars.WithMaxInvoke(1))
	c := newClient(t, fs.obj, tars.WithConnsPerEndpoint(1))
	go block.Call(context.Background(), c, blockArgs{ID: 1})
	waitFor(t, "the busy handler", func() bool { return fs.runs.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := block.Call(ctx, c, blockArgs{ID: 2})
	if code := tars.CodeOf(err); code != tars.CodeServerQueueTimeout {
		t.Fatalf("queued past the caller's deadline: %v (want the server's queue timeout, not the caller's own)", err)
	}
	if d := time.Since(start); d >= 300*time.Millisecond {
		t.Fatalf("answered after %v, not before the caller's deadline", d)
	}
	if _, ok := fs.started.Load(int32(2)); ok {
		t.Fatal("the timed-out request ran")
	}
}

func TestRequestsOfClosedConnectionsDoNotRun(t *testing.T) {
	fs := startFaultServer(t, tars.WithMaxInvoke(1))
	c := newClient(t, fs.obj, tars.WithConnsPerEndpoint(1))
	go block.Call(context.Background(), c, blockArgs{ID: 1})
	waitFor(t, "the busy handler", func() bool { return fs.runs.Load() == 1 })
	// A second caller queues a request and goes away.
	nc, err := net.Dial("tcp", fs.addr)
	if err != nil {
		t.Fatal(err)
	}
	nc.Write(blockFrame(t, 2))
	waitFor(t, "the request queued", func() bool { return fs.srv.Stats().ServantQueueDepth["Fault.S.A"] == 1 })
	nc.Close()
	waitFor(t, "the connection closed", func() bool { return fs.srv.Stats().Conns == 1 })
	fs.unblock()
	waitFor(t, "the drop", func() bool { return fs.srv.Stats().Dropped == 1 })
	if _, ok := fs.started.Load(int32(2)); ok {
		t.Fatal("the request of a closed connection ran")
	}
}

func blockFrame(t *testing.T, id int32) []byte {
	t.Helper()
	var buf bytes.Buffer
	copied := make(chan struct{})
	c, err := tars.NewClient("Fault.S.A@tcp -h 127.0.0.1 -p 1", tars.WithDialer(func(ctx context.Context, _, _ string) (net.Conn, error) {
		a, b := net.Pipe()
		go func() { io.Copy(&buf, b); close(copied) }()
		return a, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	block.Send(ctx, c, blockArgs{ID: id})
	time.Sleep(20 * time.Millisecond)
	c.Close()
	<-copied
	frame := buf.Bytes()
	var req protocol.RequestPacket
	if err := protocol.DecodeRequest(frame, &req); err != nil {
		t.Fatal(err)
	}
	req.PacketType = protocol.PacketNormal
	req.Timeout = 10000
	return protocol.AppendRequest(nil, &req)
}

func TestNoHandlerStartsAfterShutdown(t *testing.T) {
	fs := startFaultServer(t, tars.WithMaxInvoke(1))
	c := newClient(t, fs.obj, tars.WithConnsPerEndpoint(1))
	ctx := context.Background()
	errs := make(chan error, 2)
	go func() { _, err := block.Call(ctx, c, blockArgs{ID: 1}); errs <- err }()
	waitFor(t, "the running handler", func() bool { return fs.runs.Load() == 1 })
	go func() { _, err := block.Call(ctx, c, blockArgs{ID: 2}); errs <- err }()
	waitFor(t, "the queued request", func() bool { return fs.srv.Stats().ServantQueueDepth["Fault.S.A"] == 1 })
	sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := fs.srv.Shutdown(sctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v", err)
	}
	returned := time.Now()
	// Both callers got an answer before the connection closed: the
	// queued one did not run (overload), the running one did not finish.
	codes := map[tars.Code]int{}
	for range 2 {
		codes[tars.CodeOf(<-errs)]++
	}
	if codes[tars.CodeServerOverload] != 1 || codes[tars.CodeServerUnknownErr] != 1 {
		t.Fatalf("answers at the grace's end: %v (want one overload, one server error; none lost)", codes)
	}
	fs.unblock() // the first handler returns: nothing may start now
	time.Sleep(50 * time.Millisecond)
	if v, ok := fs.started.Load(int32(2)); ok {
		t.Fatalf("a queued handler started %v after Shutdown returned", v.(time.Time).Sub(returned))
	}
}

func TestShutdownPushesReconnectAndRefusesNewCalls(t *testing.T) {
	fs := startFaultServer(t)
	nc, err := net.Dial("tcp", fs.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write(blockFrame(t, 1)) // keeps the shutdown waiting
	waitFor(t, "the running handler", func() bool { return fs.runs.Load() == 1 })
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		fs.srv.Shutdown(ctx)
	}()
	fr := protocol.NewFrameReader(nc, 0)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	frame, err := fr.Next()
	if err != nil {
		t.Fatal(err)
	}
	var push protocol.ResponsePacket
	if err := protocol.DecodeResponse(frame, &push); err != nil || push.RequestID != 0 || push.ResultDesc != "_reconnect_" {
		t.Fatalf("first frame after Shutdown: %+v %v (want the _reconnect_ push)", push, err)
	}
	// A call that arrives during the shutdown is refused, not lost.
	late := blockFrame(t, 2)
	var req protocol.RequestPacket
	protocol.DecodeRequest(late, &req)
	req.RequestID = 99
	nc.Write(protocol.AppendRequest(nil, &req))
	frame, err = fr.Next()
	if err != nil {
		t.Fatal(err)
	}
	var resp protocol.ResponsePacket
	if err := protocol.DecodeResponse(frame, &resp); err != nil || resp.RequestID != 99 || resp.Ret != tars.CodeServerOverload {
		t.Fatalf("a call during shutdown: %+v %v (want CodeServerOverload)", resp, err)
	}
	fs.unblock()
}

// pingPeer is a minimal TARS server: it answers tars_ping, and after the
// first answer on a connection pushes _reconnect_.
func pingPeer(t *testing.T) (obj string, accepted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = new(atomic.Int32)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				fr := protocol.NewFrameReader(nc, 0)
				for first := true; ; first = false {
					nc.SetReadDeadline(time.Now().Add(5 * time.Second))
					frame, err := fr.Next()
					if err != nil {
						return
					}
					var req protocol.RequestPacket
					if protocol.DecodeRequest(frame, &req) != nil {
						return
					}
					out := protocol.AppendResponse(nil, &protocol.ResponsePacket{Version: 1, RequestID: req.RequestID})
					if first {
						out = protocol.AppendResponse(out, &protocol.ResponsePacket{Version: 1, ResultDesc: "_reconnect_"})
					}
					nc.Write(out)
				}
			}()
		}
	}()
	return fmt.Sprintf("P.P.PObj@tcp -h 127.0.0.1 -p %d", ln.Addr().(*net.TCPAddr).Port), accepted
}

func TestClientHonoursReconnectPush(t *testing.T) {
	obj, accepted := pingPeer(t)
	c := newClient(t, obj, tars.WithConnsPerEndpoint(1))
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the push to be read", func() bool {
		return c.Ping(ctx) == nil && accepted.Load() == 2
	})
}

func TestCallDeadlineBoundsTheWrite(t *testing.T) {
	// A peer that accepts and never reads.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, nc)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, nc := range held {
			nc.Close()
		}
		mu.Unlock()
	}()
	c := newClient(t, fmt.Sprintf("Fault.S.A@tcp -h 127.0.0.1 -p %d", ln.Addr().(*net.TCPAddr).Port),
		tars.WithMaxPacket(16<<20), tars.WithConnsPerEndpoint(1))
	var wg sync.WaitGroup
	for i, size := range []int{8 << 20, 100} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := echo.Call(ctx, c, echoArgs{B: make([]byte, size)})
			d := time.Since(start)
			if tars.CodeOf(err) != tars.CodeInvokeTimeout || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("call %d: %v (want CodeInvokeTimeout and DeadlineExceeded)", i, err)
			}
			if d > time.Second {
				t.Errorf("call %d of %d bytes with a 200ms deadline returned after %v", i, size, d)
			}
		}()
		time.Sleep(20 * time.Millisecond)
	}
	wg.Wait()
}

func TestDialHoldsNoCallerPastItsDeadline(t *testing.T) {
	var dials atomic.Int32
	gate := make(chan struct{})
	fs := startFaultServer(t)
	c := newClient(t, fs.obj, tars.WithConnsPerEndpoint(1), tars.WithDialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		select { // a slow dial
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}))
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := c.Ping(ctx)
			if d := time.Since(start); d > 200*time.Millisecond {
				t.Errorf("a 20ms call waited %v behind a dial", d)
			}
			if !errors.Is(err, context.DeadlineExceeded) || tars.CodeOf(err) != tars.CodeInvokeTimeout {
				t.Errorf("during a slow dial: %v", err)
			}
		}()
	}
	wg.Wait()
	// The callers' deadlines are theirs: the endpoint is not in back-off,
	// and the dial they started completes for the next caller.
	close(gate)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("after the callers gave up: %v (their deadlines put the endpoint in back-off)", err)
	}
	if n := dials.Load(); n != 1 {
		t.Fatalf("%d dials for one slot", n)
	}
}

func TestHandlerDeadlinesAreTimeouts(t *testing.T) {
	fs := startFaultServer(t)
	c := newClient(t, fs.obj)
	// A handler's wrapped context.DeadlineExceeded: CodeInvokeTimeout, and
	// the caller's error is a deadline too.
	_, err := wrappedDL.Call(context.Background(), c, tars.Void{})
	if tars.CodeOf(err) != tars.CodeInvokeTimeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("handler deadline: %v", err)
	}
	// The server's deadline is not before the caller's: iTimeout rounds up.
	ctx, cancel := context.WithTimeout(context.Background(), 199500*time.Microsecond)
	defer cancel()
	got, err := timeoutSeen.Call(ctx, c, tars.Void{})
	if err != nil {
		t.Fatal(err)
	}
	if dl, _ := ctx.Deadline(); time.Duration(got) < time.Until(dl) {
		t.Fatalf("the server saw a timeout of %v, less than the caller's", time.Duration(got))
	}
}

func TestCancelIsNotAServerFailure(t *testing.T) {
	fs := startFaultServer(t)
	var logs bytes.Buffer
	lw := &lockedWriter{w: &logs, mu: &sync.Mutex{}}
	c := newClient(t, fs.obj, tars.WithMiddleware(middleware.Logging(slog.New(slog.NewTextHandler(lw, nil)))))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		waitFor(t, "the handler", func() bool { return fs.runs.Load() == 1 })
		cancel()
	}()
	_, err := block.Call(ctx, c, blockArgs{ID: 1})
	if !errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled call: %v", err)
	}
	if code := tars.CodeOf(err); code == tars.CodeServerUnknownErr {
		t.Fatalf("a cancel reported as a server failure: %v", code)
	}
	lw.mu.Lock()
	out := logs.String()
	lw.mu.Unlock()
	if !strings.Contains(out, "level=INFO") || strings.Contains(out, "level=WARN") {
		t.Fatalf("a client's cancel logged as a failure: %s", out)
	}
}

func TestOversizeAnswerFailsOnlyItsCall(t *testing.T) {
	fs := startFaultServer(t)
	c := newClient(t, fs.obj, tars.WithMaxPacket(64<<10), tars.WithConnsPerEndpoint(1))
	ctx := context.Background()
	if _, err := bigAnswer.Call(ctx, c, blockArgs{ID: 10}); err != nil {
		t.Fatal(err)
	}
	_, err := bigAnswer.Call(ctx, c, blockArgs{ID: 1 << 20})
	if tars.CodeOf(err) != tars.CodeClientDecodeErr {
		t.Fatalf("an answer over the maximum packet: %v", err)
	}
	got, err := bigAnswer.Call(ctx, c, blockArgs{ID: 100})
	if err != nil || len(got) != 100 {
		t.Fatalf("the next call: %d %v", len(got), err)
	}
	if n := fs.srv.Stats().Accepted; n != 1 {
		t.Fatalf("%d connections: the oversize answer dropped the connection", n)
	}
}

func TestHungEndpointIsPassedOver(t *testing.T) {
	fs := startFaultServer(t)
	// A hung endpoint: accepts, reads, never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer func() { ln.Close(); wg.Wait() }()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); io.Copy(io.Discard, nc); nc.Close() }()
		}
	}()
	healthy := strings.TrimPrefix(fs.obj, "Fault.S.A@")
	obj := fmt.Sprintf("Fault.S.A@tcp -h 127.0.0.1 -p %d:%s", ln.Addr().(*net.TCPAddr).Port, healthy)
	c := newClient(t, obj)
	var stuck sync.WaitGroup
	for range 4 { // callers caught by the hung endpoint
		stuck.Add(1)
		go func() {
			defer stuck.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			typedNil.Call(ctx, c, tars.Void{})
		}()
	}
	time.Sleep(700 * time.Millisecond) // past the stall window
	for i := range 50 {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		_, err := typedNil.Call(ctx, c, tars.Void{})
		cancel()
		if err != nil {
			t.Fatalf("call %d went to the hung endpoint: %v", i, err)
		}
	}
	c.Close()
	stuck.Wait()
}

func TestOptionsAreValidated(t *testing.T) {
	for _, opt := range []tars.ClientOption{tars.WithTimeout(0), tars.WithConnsPerEndpoint(0), tars.WithMaxPacket(10),
		tars.WithVersion(7), tars.WithMaxInflight(0), tars.WithDialTimeout(-1), tars.WithReconnectBackoff(2, 1),
		tars.WithDialer(nil), tars.WithMiddleware(nil), tars.WithIdleTimeout(-1), tars.WithSet("a.b"), tars.WithSet("a..c")} {
		_, err := tars.NewClient("A.B.C@tcp -h 127.0.0.1 -p 1", opt)
		name := strings.SplitN(fmt.Sprint(opt), "(", 2)[0]
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("NewClient(%v): %v (want an error naming the option)", opt, err)
		}
	}
	for _, opt := range []tars.ServerOption{tars.WithMaxInvoke(-1), tars.WithMaxInvoke(0), tars.WithMaxQueue(-1),
		tars.WithMaxPacket(10), tars.WithQueueTimeout(0), tars.WithMemoryBudget(0), tars.WithMaxConns(-1),
		tars.WithServantLimits("a b", tars.ServantLimits{}), tars.WithServantLimits("A", tars.ServantLimits{MaxInvoke: -1}),
		tars.WithAdmission(nil)} {
		name := strings.SplitN(fmt.Sprint(opt), "(", 2)[0]
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), name) {
					t.Errorf("NewServer(%v): panic %v (want one naming the option)", opt, r)
				}
			}()
			tars.NewServer(opt)
		}()
	}
	if _, err := tars.NewClient("A.B.C@ssl -h 127.0.0.1 -p 1"); err == nil {
		t.Error("an ssl endpoint without WithTLSConfig was accepted")
	}
	// Options compare without panicking.
	mw := middleware.Recovery(nil)
	opts := []tars.ClientOption{tars.WithMiddleware(mw), tars.WithDialer(func(context.Context, string, string) (net.Conn, error) { return nil, nil }), tars.WithTimeout(time.Second)}
	for _, a := range opts {
		for _, b := range opts {
			_ = a == b
		}
	}
	if tars.WithTimeout(time.Second) != tars.WithTimeout(time.Second) {
		t.Error("equal options compare unequal")
	}
}

func TestErrorfWraps(t *testing.T) {
	e := tars.Errorf(7, "reading %s: %w", "x", io.ErrUnexpectedEOF)
	if !errors.Is(e, io.ErrUnexpectedEOF) || e.Code != 7 || e.Message != "reading x: unexpected EOF" {
		t.Fatalf("Errorf %%w: %#v", e)
	}
	two := tars.Errorf(8, "%w and %w", io.EOF, io.ErrClosedPipe)
	if !errors.Is(two, io.EOF) || !errors.Is(two, io.ErrClosedPipe) {
		t.Fatal("Errorf with two %w")
	}
	if errors.Unwrap(tars.Errorf(9, "plain %d", 1)) != nil {
		t.Fatal("Errorf without %w has a cause")
	}
}

func TestHandleRejectsWhatNoPeerCanCall(t *testing.T) {
	s := tars.NewServer()
	h := func(context.Context, blockArgs) (int32, error) { return 0, nil }
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"nil server", func() { tars.Handle(nil, "A.B.C", block, h) }, "nil server"},
		{"nil endpoint", func() { tars.Handle[blockArgs, int32](s, "A.B.C", nil, h) }, "nil endpoint"},
		{"nil handler", func() { tars.Handle(s, "A.B.C", block, nil) }, "nil handler"},
		{"empty", func() { tars.Handle(s, "", block, h) }, "empty servant"},
		{"space", func() { tars.Handle(s, "A.B C", block, h) }, "whitespace"},
		{"at", func() { tars.Handle(s, "A.B@C", block, h) }, "'@'"},
		{"colon", func() { tars.Handle(s, "A.B:C", block, h) }, "':'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), tt.want) {
					t.Fatalf("panic %v, want one naming %q", r, tt.want)
				}
			}()
			tt.f()
		})
	}
}

func TestSetResponseFromHandlerGoroutines(t *testing.T) {
	fs := startFaultServer(t)
	var got map[string]string
	mw := func(next tars.Invoker) tars.Invoker {
		return func(ctx context.Context, call *tars.Call) error {
			err := next(ctx, call)
			got = call.ResponseStatus
			return err
		}
	}
	c := newClient(t, fs.obj, tars.WithMiddleware(mw))
	if _, err := setLater.Call(context.Background(), c, tars.Void{}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("response status %v", got)
	}
}

func TestIPv6Endpoints(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	srv := tars.NewServer()
	tars.Handle(srv, "Fault.S.A", typedNil, func(context.Context, tars.Void) (int32, error) { return 6, nil })
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	defer func() { srv.Shutdown(context.Background()); <-done }()
	c := newClient(t, fmt.Sprintf("Fault.S.A@tcp -h ::1 -p %d -t 3000", ln.Addr().(*net.TCPAddr).Port))
	if got, err := typedNil.Call(context.Background(), c, tars.Void{}); err != nil || got != 6 {
		t.Fatalf("over ::1: %d %v", got, err)
	}
}

func TestConnectionLimitsAndTimeouts(t *testing.T) {
	fs := startFaultServer(t, tars.WithMaxConns(2), tars.WithIdleTimeout(200*time.Millisecond), tars.WithFrameTimeout(200*time.Millisecond))
	var conns []net.Conn
	defer func() {
		for _, nc := range conns {
			nc.Close()
		}
	}()
	dial := func() net.Conn {
		nc, err := net.Dial("tcp", fs.addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, nc)
		return nc
	}
	idle, partial := dial(), dial()
	partial.Write([]byte{0, 0, 1, 0, 1}) // a frame begun, never finished
	waitFor(t, "two connections", func() bool { return fs.srv.Stats().Conns == 2 })
	over := dial()
	start := time.Now()
	over.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := over.Read(make([]byte, 1)); err == nil || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("over the cap: %v after %v (want closed at once)", err, time.Since(start))
	}
	for _, nc := range []net.Conn{idle, partial} {
		nc.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := nc.Read(make([]byte, 1)); err == nil || errors.Is(err, transport.ErrIdle) {
			t.Fatalf("read: %v", err)
		}
	}
	st := fs.srv.Stats()
	if st.Refused != 1 || st.IdleClosed != 1 || st.FrameTimeouts != 1 {
		t.Fatalf("stats %+v", st.Stats)
	}
}

// TestAdmissionRefusesBeforeQueueing: WithAdmission answers before a
// request takes a place: with servant A's only running place and only
// queue slot held by blocked calls, a refused request still gets its own
// code at once (not A's "queue full"), and no refused request runs.
func TestAdmissionRefusesBeforeQueueing(t *testing.T) {
	var asked atomic.Int32
	admit := func(servant, method string) error {
		asked.Add(1)
		switch {
		case servant == "Fault.S.B":
			return tars.NewError(tars.CodeServerOverload, "servant B is limited")
		case method == "typedNil":
			return tars.NewError(42, "not now")
		}
		return nil
	}
	fs := startFaultServer(t, tars.WithServantLimits("Fault.S.A", tars.ServantLimits{MaxInvoke: 1, MaxQueue: 1, QueueTimeout: 5 * time.Second}),
		tars.WithAdmission(admit))
	ca, err := tars.NewClient(fs.obj)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	cb, err := tars.NewClient(fs.objB)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	// Fill A: one call runs (blocked), one waits.
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			block.Call(ctx, ca, blockArgs{ID: int32(i)})
		}()
	}
	waitFor(t, "a call running on A", func() bool { return fs.runs.Load() == 1 })
	waitFor(t, "a call waiting on A", func() bool { return asked.Load() == 2 })
	time.Sleep(20 * time.Millisecond) // the second is queued behind the first
	if _, err := typedNil.Call(ctx, ca, tars.Void{}); tars.CodeOf(err) != 42 {
		t.Fatalf("typedNil on a full A: %v, want the admission's code 42", err)
	}
	for i := range 20 {
		_, err := block.Call(ctx, cb, blockArgs{ID: int32(100 + i)})
		if tars.CodeOf(err) != tars.CodeServerOverload || !strings.Contains(err.Error(), "servant B is limited") {
			t.Fatalf("call %d to B: %v, want the admission's −9", i, err)
		}
	}
	if got := fs.runs.Load(); got != 1 {
		t.Fatalf("%d calls ran, want the one blocked on A", got)
	}
	if st := fs.srv.Stats(); st.Overloaded != 20 {
		t.Fatalf("Overloaded %d, want the 20 −9 answers", st.Overloaded)
	}
	fs.unblock()
	wg.Wait()
	if got := fs.runs.Load(); got != 2 {
		t.Fatalf("%d calls ran, want A's two", got)
	}
}
