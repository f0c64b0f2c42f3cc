package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/monitor"
)

// serve serves srv on a free loopback port until the test ends and returns
// the port.
func serve(t testing.TB, srv *tars.Server) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, tars.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}

func object(servant string, port int) string {
	return fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d -t 3000", servant, port)
}

func newClient(t testing.TB, obj string, opts ...tars.ClientOption) *tars.Client {
	t.Helper()
	c, err := tars.NewClient(obj, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// statServer is a gotars-served StatF and PropertyF: it keeps every report.
type statServer struct {
	port  int
	mic   chan monitor.ReportMicMsgArgs
	props chan monitor.ReportPropMsgArgs
}

func startStatServer(t testing.TB) *statServer {
	t.Helper()
	s := &statServer{mic: make(chan monitor.ReportMicMsgArgs, 100), props: make(chan monitor.ReportPropMsgArgs, 100)}
	srv := tars.NewServer()
	tars.Handle(srv, monitor.StatObj, monitor.ReportMicMsg, func(_ context.Context, a monitor.ReportMicMsgArgs) (int32, error) {
		s.mic <- a
		return 0, nil
	})
	tars.Handle(srv, monitor.PropertyObj, monitor.ReportPropMsg, func(_ context.Context, a monitor.ReportPropMsgArgs) (int32, error) {
		s.props <- a
		return 0, nil
	})
	s.port = serve(t, srv)
	return s
}

func (s *statServer) statClient(t testing.TB) *tars.Client {
	return newClient(t, object(monitor.StatObj, s.port))
}

func (s *statServer) propClient(t testing.TB) *tars.Client {
	return newClient(t, object(monitor.PropertyObj, s.port))
}

func (s *statServer) nextMic(t testing.TB) monitor.ReportMicMsgArgs {
	t.Helper()
	select {
	case a := <-s.mic:
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("no reportMicMsg within 10 s")
	}
	panic("unreachable")
}

func (s *statServer) noMore(t testing.TB) {
	t.Helper()
	select {
	case a := <-s.mic:
		t.Fatalf("unexpected reportMicMsg: %+v", a)
	case a := <-s.props:
		t.Fatalf("unexpected reportPropMsg: %+v", a)
	default:
	}
}

// fakeClock is a clock that moves only when told: calls take the time a
// test gives them, whatever the machine does.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// latKey is the request-context key that tells the latency middleware how
// many milliseconds a call takes.
const latKey = "test_latency_ms"

// withLatency returns ctx whose calls take ms milliseconds of fake time.
func withLatency(ctx context.Context, ms int) context.Context {
	return tars.WithOutgoingContext(ctx, map[string]string{latKey: strconv.Itoa(ms)})
}

// latency is a middleware, inside the stat middleware, that moves clock by
// the call's latKey once the call is over, on either side.
func latency(clock *fakeClock) tars.Middleware {
	return func(next tars.Invoker) tars.Invoker {
		return func(ctx context.Context, call *tars.Call) error {
			err := next(ctx, call)
			if ms, e := strconv.Atoi(call.Context[latKey]); e == nil {
				clock.Advance(time.Duration(ms) * time.Millisecond)
			}
			return err
		}
	}
}

// notify is a server middleware, outside the stat middleware, that says
// when a call has been recorded.
func notify(ch chan<- string) tars.Middleware {
	return func(next tars.Invoker) tars.Invoker {
		return func(ctx context.Context, call *tars.Call) error {
			err := next(ctx, call)
			ch <- call.Method
			return err
		}
	}
}
