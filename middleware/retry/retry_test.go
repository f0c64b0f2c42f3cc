package retry_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gotars/tars"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/middleware"
	"github.com/gotars/tars/middleware/retry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type Args struct {
	N int32 `tars:"1,name=n"`
}

var (
	svc = tars.NewService("Echo")
	// Get is idempotent: it may be retried and hedged.
	Get = tars.NewEndpoint[Args, int32](svc, "get", tars.Idempotent)
	// Put is not.
	Put = tars.NewEndpoint[Args, int32](svc, "put")
	// Fan calls on, through the client the backend's handler is given.
	Fan = tars.NewEndpoint[Args, int32](svc, "fan", tars.Idempotent)
)

const servant = "Test.Echo.EchoObj"

// backend is one server of the test's three: it counts its calls,
// remembers the attempt numbers it saw, and can be killed (listener and
// connections closed at once, as a process that dies).
type backend struct {
	srv      *tars.Server
	ln       net.Listener
	port     int
	calls    atomic.Int32
	behave   atomic.Pointer[func(ctx context.Context, n int32) (int32, error)]
	mu       sync.Mutex
	conns    []net.Conn
	attempts []string
	down     func(ctx context.Context) (int32, error) // Fan's downstream call, set by the test
}

type trackingListener struct {
	net.Listener
	b *backend
}

func (l trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.b.mu.Lock()
		l.b.conns = append(l.b.conns, c)
		l.b.mu.Unlock()
	}
	return c, err
}

func startBackend(t testing.TB, id int32) *backend {
	t.Helper()
	b := &backend{srv: tars.NewServer()}
	ok := func(context.Context, int32) (int32, error) { return id, nil }
	b.behave.Store(&ok)
	handler := func(ctx context.Context, a Args) (int32, error) {
		b.calls.Add(1)
		if sc, ok := tars.CallFromContext(ctx); ok {
			b.mu.Lock()
			b.attempts = append(b.attempts, sc.Status[retry.StatusKey])
			b.mu.Unlock()
		}
		tars.SetResponseContext(ctx, "served-by", fmt.Sprint(id))
		return (*b.behave.Load())(ctx, a.N)
	}
	tars.Handle(b.srv, servant, Get, handler)
	tars.Handle(b.srv, servant, Put, handler)
	tars.Handle(b.srv, servant, Fan, func(ctx context.Context, a Args) (int32, error) {
		b.calls.Add(1)
		return b.down(ctx)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b.ln, b.port = ln, ln.Addr().(*net.TCPAddr).Port
	go b.srv.Serve(trackingListener{ln, b})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		b.srv.Shutdown(ctx)
	})
	return b
}

func (b *backend) set(f func(ctx context.Context, n int32) (int32, error)) { b.behave.Store(&f) }

// kill closes the listener and every connection, answering nothing.
func (b *backend) kill() {
	b.ln.Close()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.conns {
		c.Close()
	}
}

func (b *backend) seen() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.attempts)
}

func startBackends(t testing.TB, n int) ([]*backend, string) {
	var bs []*backend
	var eps []string
	for i := range n {
		b := startBackend(t, int32(i))
		bs = append(bs, b)
		eps = append(eps, fmt.Sprintf("tcp -h 127.0.0.1 -p %d -t 3000", b.port))
	}
	return bs, servant + "@" + strings.Join(eps, ":")
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

func mustRetry(t *testing.T, p retry.Policy) tars.Middleware {
	t.Helper()
	mw, err := retry.New(p)
	if err != nil {
		t.Fatal(err)
	}
	return mw
}

func mustHedge(t *testing.T, p retry.HedgePolicy) tars.Middleware {
	t.Helper()
	mw, err := retry.Hedge(p)
	if err != nil {
		t.Fatal(err)
	}
	return mw
}

func overloaded(context.Context, int32) (int32, error) {
	return 0, tars.NewError(tars.CodeServerOverload, "busy")
}

// TestAttemptsGoToOtherEndpoints: every backend refuses; three attempts go
// to the three backends, one each, the extra ones marked with StatusKey.
func TestAttemptsGoToOtherEndpoints(t *testing.T) {
	bs, obj := startBackends(t, 3)
	for _, b := range bs {
		b.set(overloaded)
	}
	rt := mustRetry(t, retry.Policy{MaxAttempts: 3, Codes: []tars.Code{tars.CodeServerOverload}})
	c := newClient(t, obj, tars.WithMiddleware(rt))
	for i := range 5 {
		for _, b := range bs {
			b.calls.Store(0)
		}
		_, err := Get.Call(context.Background(), c, Args{N: 1})
		if tars.CodeOf(err) != tars.CodeServerOverload {
			t.Fatalf("call %d: %v, want the last attempt's −9", i, err)
		}
		for j, b := range bs {
			if n := b.calls.Load(); n != 1 {
				t.Fatalf("call %d: backend %d saw %d attempts, want 1 each", i, j, n)
			}
		}
	}
	var marks []string
	for _, b := range bs {
		marks = append(marks, b.seen()...)
	}
	slices.Sort(marks)
	want := slices.Repeat([]string{""}, 5)
	want = append(want, slices.Repeat([]string{"2"}, 5)...)
	want = append(want, slices.Repeat([]string{"3"}, 5)...)
	if !slices.Equal(marks, want) {
		t.Fatalf("attempt marks %q, want %q", marks, want)
	}
}

// TestWhatIsNotRetried: calls of endpoints not declared idempotent, codes
// not listed, a service's own codes and a caller's cancel are not retried.
func TestWhatIsNotRetried(t *testing.T) {
	bs, obj := startBackends(t, 3)
	rt := mustRetry(t, retry.Policy{MaxAttempts: 3, Codes: []tars.Code{tars.CodeServerOverload}})
	c := newClient(t, obj, tars.WithMiddleware(rt))
	total := func() (n int32) {
		for _, b := range bs {
			n += b.calls.Swap(0)
		}
		return n
	}
	tests := []struct {
		name   string
		ep     *tars.Endpoint[Args, int32]
		behave func(context.Context, int32) (int32, error)
		cancel bool
		code   tars.Code
	}{
		{"not idempotent", Put, overloaded, false, tars.CodeServerOverload},
		{"service code", Get, func(context.Context, int32) (int32, error) { return 0, tars.NewError(42, "no") }, false, 42},
		{"code not listed", Get, func(context.Context, int32) (int32, error) {
			return 0, tars.NewError(tars.CodeServerNoFuncErr, "no")
		}, false, tars.CodeServerNoFuncErr},
		{"caller cancelled", Get, func(ctx context.Context, _ int32) (int32, error) {
			time.Sleep(100 * time.Millisecond)
			return 0, nil
		}, true, tars.CodeInvokeTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, b := range bs {
				b.set(tt.behave)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				time.AfterFunc(20*time.Millisecond, cancel)
			}
			_, err := tt.ep.Call(ctx, c, Args{})
			if tars.CodeOf(err) != tt.code {
				t.Fatalf("%v, want code %d", err, tt.code)
			}
			if tt.cancel {
				time.Sleep(150 * time.Millisecond) // let the handler count
			}
			if n := total(); n != 1 {
				t.Fatalf("%d attempts, want 1", n)
			}
		})
	}
}

// TestBudgetBoundsRetries: with every backend failing, 100 calls make at
// most 10% more attempts (no floor), not MaxAttempts times as many.
func TestBudgetBoundsRetries(t *testing.T) {
	bs, obj := startBackends(t, 3)
	for _, b := range bs {
		b.set(overloaded)
	}
	budget, err := retry.NewBudget(0.1, 0, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var exhausted atomic.Int32
	rt := mustRetry(t, retry.Policy{MaxAttempts: 5, Codes: []tars.Code{tars.CodeServerOverload}, Budget: budget,
		OnBudgetExhausted: func(*tars.Call) { exhausted.Add(1) }})
	c := newClient(t, obj, tars.WithMiddleware(rt))
	for range 100 {
		Get.Call(context.Background(), c, Args{})
	}
	var n int32
	for _, b := range bs {
		n += b.calls.Load()
	}
	// The calls run one after the other, so the bound holds exactly
	// (a window rolling over a second boundary only drops counts).
	if n < 100 || n > 110 {
		t.Fatalf("%d attempts for 100 calls, want 100..110", n)
	}
	if exhausted.Load() < 80 {
		t.Fatalf("budget refused %d retries, want ≥ 80", exhausted.Load())
	}
}

// TestAttemptTimeout: one backend hangs; with a per-attempt timeout the
// call moves on to another within its own deadline.
func TestAttemptTimeout(t *testing.T) {
	bs, obj := startBackends(t, 2)
	release := make(chan struct{})
	defer close(release)
	// It ignores its own deadline (iTimeout): an answer at that moment
	// would race the attempt's timeout.
	hang := func(ctx context.Context, _ int32) (int32, error) {
		<-release
		return -1, nil
	}
	bs[0].set(hang)
	var retried atomic.Int32
	rt := mustRetry(t, retry.Policy{MaxAttempts: 2, AttemptTimeout: 50 * time.Millisecond,
		OnRetry: func(_ context.Context, _ *tars.Call, n int, err error) {
			if n == 2 && tars.CodeOf(err) == tars.CodeInvokeTimeout {
				retried.Add(1)
			}
		}})
	c := newClient(t, obj, tars.WithMiddleware(rt))
	for i := range 6 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		got, err := Get.Call(ctx, c, Args{})
		cancel()
		if err != nil || got != 1 {
			t.Fatalf("call %d: %d, %v; want backend 1's answer", i, got, err)
		}
	}
	if retried.Load() == 0 {
		t.Fatal("no call was retried after its attempt timed out")
	}
}

// TestNoRetryDownstreamOfAnAttempt: a server handling an extra attempt
// makes its own calls without retrying them.
func TestNoRetryDownstreamOfAnAttempt(t *testing.T) {
	down, dobj := startBackends(t, 2)
	for _, b := range down {
		b.set(overloaded)
	}
	rt := mustRetry(t, retry.Policy{MaxAttempts: 3, Codes: []tars.Code{tars.CodeServerOverload}})
	dc := newClient(t, dobj, tars.WithMiddleware(rt))
	up, uobj := startBackends(t, 2)
	for _, b := range up {
		b.down = func(ctx context.Context) (int32, error) { return Get.Call(ctx, dc, Args{}) }
	}
	uc := newClient(t, uobj, tars.WithMiddleware(mustRetry(t, retry.Policy{MaxAttempts: 2, Codes: []tars.Code{tars.CodeServerOverload}})))
	if _, err := Fan.Call(context.Background(), uc, Args{}); tars.CodeOf(err) != tars.CodeServerOverload {
		t.Fatal(err)
	}
	// The first upstream attempt retries downstream (3 attempts); the
	// second is itself a retry and calls downstream once.
	var n int32
	for _, b := range down {
		n += b.calls.Load()
	}
	if n != 4 {
		t.Fatalf("downstream saw %d attempts, want 3 + 1", n)
	}
}

// TestKilledBackendUnderLoad is the fault test of the issue: three
// backends, callers under load, one killed while calls wait on it → no
// idempotent call fails with retries; without them, the calls it held do.
func TestKilledBackendUnderLoad(t *testing.T) {
	for _, withRetry := range []bool{true, false} {
		t.Run(fmt.Sprintf("retry=%v", withRetry), func(t *testing.T) {
			bs, obj := startBackends(t, 3)
			// The victim holds its calls a little, so some wait on it
			// when it dies.
			bs[0].set(func(ctx context.Context, _ int32) (int32, error) {
				time.Sleep(5 * time.Millisecond)
				return 0, nil
			})
			var opts []tars.ClientOption
			if withRetry {
				opts = append(opts, tars.WithMiddleware(mustRetry(t, retry.Policy{MaxAttempts: 3})))
			}
			c := newClient(t, obj, opts...)
			var ok, failed atomic.Int32
			var wg sync.WaitGroup
			const callers, perCaller = 16, 150
			for range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range perCaller {
						ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
						if _, err := Get.Call(ctx, c, Args{}); err != nil {
							failed.Add(1)
						} else {
							ok.Add(1)
						}
						cancel()
					}
				}()
			}
			// Kill the victim once it holds calls.
			deadline := time.Now().Add(5 * time.Second)
			for bs[0].calls.Load() < 20 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			bs[0].kill()
			wg.Wait()
			t.Logf("ok %d, failed %d", ok.Load(), failed.Load())
			if withRetry && failed.Load() != 0 {
				t.Fatalf("%d idempotent calls failed with retries", failed.Load())
			}
			if !withRetry && failed.Load() == 0 {
				t.Log("no call was in flight on the victim when it died (the test proves less this run)")
			}
		})
	}
}

// TestHedgeBeatsASlowBackend is the second fault test: one backend
// of three answers in 300 ms; with backup requests after 20 ms no call
// waits for it, without them a third of the calls do.
func TestHedgeBeatsASlowBackend(t *testing.T) {
	for _, hedge := range []bool{true, false} {
		t.Run(fmt.Sprintf("hedge=%v", hedge), func(t *testing.T) {
			bs, obj := startBackends(t, 3)
			bs[0].set(func(ctx context.Context, _ int32) (int32, error) {
				time.Sleep(300 * time.Millisecond)
				return 0, nil
			})
			var opts []tars.ClientOption
			var hedged, won atomic.Int32
			if hedge {
				budget, _ := retry.NewBudget(0.5, 10, 10*time.Second)
				opts = append(opts, tars.WithMiddleware(mustHedge(t, retry.HedgePolicy{Delay: 20 * time.Millisecond, Budget: budget,
					OnBackup: func(_ context.Context, _ *tars.Call, n int, w bool) {
						if n == 2 {
							hedged.Add(1)
						}
						if w {
							won.Add(1)
						}
					}})))
			}
			c := newClient(t, obj, opts...)
			var slow atomic.Int32
			var wg sync.WaitGroup
			const callers, perCaller = 8, 15
			for range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range perCaller {
						start := time.Now()
						var r tars.ResponseMaps // the winner's, not a cancelled loser's
						if _, err := Get.Call(tars.WithResponseMaps(context.Background(), &r), c, Args{}); err != nil {
							t.Error(err)
						} else if r.Context["served-by"] == "" {
							t.Errorf("the response maps were lost: %v", r.Context)
						}
						if time.Since(start) >= 250*time.Millisecond {
							slow.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			t.Logf("calls that waited for the slow backend: %d of %d; backups %d", slow.Load(), callers*perCaller, hedged.Load())
			if hedge && (won.Load() == 0 || won.Load() > hedged.Load()) {
				t.Fatalf("backups %d, of which won %d", hedged.Load(), won.Load())
			}
			if hedge && slow.Load() != 0 {
				t.Fatalf("%d calls waited for the slow backend despite backup requests", slow.Load())
			}
			if !hedge && slow.Load() < callers*perCaller/10 {
				t.Fatalf("only %d calls were slow without backups: the slow backend took too few", slow.Load())
			}
		})
	}
}

// TestHedgeObservedPercentile: with Delay 0 no backup is sent until the
// window has MinSamples calls; then calls slower than the observed
// percentile get one.
func TestHedgeObservedPercentile(t *testing.T) {
	bs, obj := startBackends(t, 2)
	var n atomic.Int32
	// Backend 0 is slow on every 10th of its calls.
	bs[0].set(func(ctx context.Context, _ int32) (int32, error) {
		if n.Add(1)%10 == 0 {
			time.Sleep(200 * time.Millisecond)
		}
		return 0, nil
	})
	var hedged atomic.Int32
	budget, _ := retry.NewBudget(1, 100, 10*time.Second)
	c := newClient(t, obj, tars.WithMiddleware(mustHedge(t, retry.HedgePolicy{Percentile: 0.9, MinSamples: 50, Budget: budget,
		OnBackup: func(context.Context, *tars.Call, int, bool) { hedged.Add(1) }})))
	for range 50 {
		if _, err := Get.Call(context.Background(), c, Args{}); err != nil {
			t.Fatal(err)
		}
	}
	if hedged.Load() != 0 {
		t.Fatalf("%d backups before MinSamples calls", hedged.Load())
	}
	time.Sleep(150 * time.Millisecond) // the cached percentile expires
	var slow int
	for range 60 {
		start := time.Now()
		if _, err := Get.Call(context.Background(), c, Args{}); err != nil {
			t.Fatal(err)
		}
		if time.Since(start) > 150*time.Millisecond {
			slow++
		}
	}
	if hedged.Load() == 0 || slow != 0 {
		t.Fatalf("backups %d, slow calls %d: want backups and no slow call", hedged.Load(), slow)
	}
}

// TestHedgeFailureStartsTheNext: an attempt that fails retryably before the
// delay lets the next start at once rather than failing the call.
func TestHedgeFailureStartsTheNext(t *testing.T) {
	bs, obj := startBackends(t, 2)
	bs[0].set(overloaded)
	bs[1].set(overloaded)
	c := newClient(t, obj, tars.WithMiddleware(mustHedge(t, retry.HedgePolicy{Delay: time.Second, Codes: []tars.Code{tars.CodeServerOverload}})))
	start := time.Now()
	_, err := Get.Call(context.Background(), c, Args{})
	if tars.CodeOf(err) != tars.CodeServerOverload {
		t.Fatal(err)
	}
	if bs[0].calls.Load()+bs[1].calls.Load() != 2 {
		t.Fatalf("attempts %d + %d, want one on each", bs[0].calls.Load(), bs[1].calls.Load())
	}
	if time.Since(start) > 900*time.Millisecond {
		t.Fatal("the second attempt waited for the delay")
	}
	// A service's own code is an answer: no second attempt.
	bs[0].set(func(context.Context, int32) (int32, error) { return 0, tars.NewError(3, "three") })
	bs[1].set(func(context.Context, int32) (int32, error) { return 0, tars.NewError(3, "three") })
	bs[0].calls.Store(0)
	bs[1].calls.Store(0)
	if _, err := Get.Call(context.Background(), c, Args{}); tars.CodeOf(err) != 3 {
		t.Fatal(err)
	}
	if n := bs[0].calls.Load() + bs[1].calls.Load(); n != 1 {
		t.Fatalf("%d attempts after a service's answer, want 1", n)
	}
}

func TestPoliciesAreValidated(t *testing.T) {
	if _, err := retry.New(retry.Policy{MaxAttempts: -1}); err == nil {
		t.Error("negative MaxAttempts accepted")
	}
	for _, p := range []retry.HedgePolicy{{Percentile: 1}, {Delay: -1}, {MinDelay: 2, MaxDelay: 1}} {
		if _, err := retry.Hedge(p); err == nil {
			t.Errorf("%+v accepted", p)
		}
	}
	for _, b := range []struct {
		ratio  float64
		floor  int
		window time.Duration
	}{{-0.1, 0, time.Second}, {1.5, 0, time.Second}, {0.1, -1, time.Second}, {0.1, 0, time.Millisecond}} {
		if _, err := retry.NewBudget(b.ratio, b.floor, b.window); err == nil {
			t.Errorf("budget %+v accepted", b)
		}
	}
}

func TestRetryErrorsKeepTheirCode(t *testing.T) {
	bs, obj := startBackends(t, 1)
	bs[0].set(overloaded)
	c := newClient(t, obj, tars.WithMiddleware(mustRetry(t, retry.Policy{MaxAttempts: 2, Codes: []tars.Code{tars.CodeServerOverload}})))
	_, err := Get.Call(context.Background(), c, Args{})
	var te *tars.Error
	if !errors.As(err, &te) || te.Code != tars.CodeServerOverload {
		t.Fatal(err)
	}
	// With one endpoint, the retry goes back to it.
	if n := bs[0].calls.Load(); n != 2 {
		t.Fatalf("%d attempts, want 2 on the only endpoint", n)
	}
}

// TestForClient: the configuration's retry and hedge policies, per method
// (client.objects.<o>.methods.<m>), through ForClient.
func TestForClient(t *testing.T) {
	bs, obj := startBackends(t, 2)
	bs[0].set(overloaded)
	cfg := config.Default()
	cfg.Client.Objects = map[string]config.Object{servant: {Methods: map[string]config.Method{
		"get": {Retry: config.Retry{MaxAttempts: 2, Codes: []int{int(tars.CodeServerOverload)}}},
		"fan": {Hedge: config.Hedge{Delay: 10 * time.Millisecond}},
	}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, obj, tars.WithMiddleware(retry.ForClient(&cfg.Client, servant, nil)))
	// A later change to the configuration (a reload) is for middleware
	// built from it, not this one: it took a copy.
	cfg.Client.Objects[servant] = config.Object{}
	for i := range 6 {
		if _, err := Get.Call(context.Background(), c, Args{}); err != nil {
			t.Fatalf("get %d: %v (retried onto the other backend)", i, err)
		}
	}
	// put has no policy (and is not idempotent): its refusals come back.
	var refused int
	for range 6 {
		if _, err := Put.Call(context.Background(), c, Args{}); tars.CodeOf(err) == tars.CodeServerOverload {
			refused++
		}
	}
	if refused != 3 {
		t.Fatalf("put refused %d of 6, want 3 (no retries)", refused)
	}
	// fan is hedged: with backend 0 slow, no call waits for it.
	bs[0].set(func(context.Context, int32) (int32, error) { return 0, nil })
	for _, b := range bs {
		b.down = func(ctx context.Context) (int32, error) {
			if b == bs[0] {
				time.Sleep(300 * time.Millisecond)
			}
			return 1, nil
		}
	}
	for i := range 6 {
		start := time.Now()
		if _, err := Fan.Call(context.Background(), c, Args{}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 250*time.Millisecond {
			t.Fatalf("fan %d took %v: no backup request", i, d)
		}
	}
}

// TestHedgePanicReachesCaller: a panic below the hedging middleware, on an
// attempt's goroutine, goes on on the caller's, where recovery middleware
// around it turns it into an error instead of the process dying.
func TestHedgePanicReachesCaller(t *testing.T) {
	_, obj := startBackends(t, 2)
	boom := func(next tars.Invoker) tars.Invoker {
		return func(ctx context.Context, call *tars.Call) error { panic("endpoint middleware failed") }
	}
	c := newClient(t, obj, tars.WithEndpointMiddleware(boom),
		tars.WithMiddleware(middleware.Recovery(nil), mustHedge(t, retry.HedgePolicy{Delay: time.Millisecond})))
	_, err := Get.Call(context.Background(), c, Args{})
	if tars.CodeOf(err) != tars.CodeServerUnknownErr || !strings.Contains(err.Error(), "endpoint middleware failed") {
		t.Fatalf("err = %v, want the panic as CodeServerUnknownErr", err)
	}
}

// TestForClientCountsEachCallOnce: retries around backup requests share one
// budget, and a call is counted in it once — a budget granting one extra
// attempt per call grants one after one call, not two.
func TestForClientCountsEachCallOnce(t *testing.T) {
	_, obj := startBackends(t, 1)
	cfg := config.Default()
	cfg.Client.Objects = map[string]config.Object{servant: {Methods: map[string]config.Method{
		"get": {Retry: config.Retry{MaxAttempts: 2}, Hedge: config.Hedge{Delay: time.Second}},
	}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	budget, err := retry.NewBudget(1, 0, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, obj, tars.WithMiddleware(retry.ForClient(&cfg.Client, servant, budget)))
	if _, err := Get.Call(context.Background(), c, Args{}); err != nil {
		t.Fatal(err)
	}
	granted := 0
	for budget.Withdraw() {
		granted++
	}
	if granted != 1 {
		t.Fatalf("the budget granted %d extra attempts after one call, want 1", granted)
	}
}

// TestForClientFailuresRetriedOnce: retries around backup requests, every
// backend failing at once with a code both retry: the call sends
// retry.max_attempts requests — the retries retry failures, the backup
// requests do not as well.
func TestForClientFailuresRetriedOnce(t *testing.T) {
	bs, obj := startBackends(t, 2)
	for _, b := range bs {
		b.set(func(context.Context, int32) (int32, error) {
			return 0, tars.NewError(tars.CodeInvokeTimeout, "gave up") // always retried
		})
	}
	cfg := config.Default()
	cfg.Client.Objects = map[string]config.Object{servant: {Methods: map[string]config.Method{
		"get": {Retry: config.Retry{MaxAttempts: 3, Codes: []int{int(tars.CodeServerOverload)}}, Hedge: config.Hedge{Delay: time.Second, MaxAttempts: 2}},
	}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	budget, err := retry.NewBudget(1, 100, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, obj, tars.WithMiddleware(retry.ForClient(&cfg.Client, servant, budget)))
	if _, err := Get.Call(context.Background(), c, Args{}); tars.CodeOf(err) != tars.CodeInvokeTimeout {
		t.Fatalf("err = %v, want the failure", err)
	}
	if n := bs[0].calls.Load() + bs[1].calls.Load(); n != 3 {
		t.Fatalf("%d requests for one call, want 3 (retry.max_attempts)", n)
	}
}
