package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/middleware/breaker"
	"github.com/gotars/tars/transport"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	brkService = tars.NewService("Brk")
	pingM      = tars.NewEndpoint[tars.Void, tars.Void](brkService, "ping")
	failM      = tars.NewEndpoint[tars.Void, tars.Void](brkService, "fail")
	bizM       = tars.NewEndpoint[tars.Void, tars.Void](brkService, "biz")
	slowM      = tars.NewEndpoint[tars.Void, tars.Void](brkService, "slow")
)

// backend is one real loopback server of the servant: ping succeeds unless
// failing is set (then it answers CodeServerUnknownErr), fail always
// fails, biz answers the service's own code 7, slow answers after 300 ms.
type backend struct {
	ep      discovery.Endpoint
	calls   atomic.Int64 // ping calls that reached the handler
	failing atomic.Bool
	srv     *tars.Server
	done    chan struct{}
}

func startBackend(t *testing.T, servant string) *backend {
	t.Helper()
	b := &backend{srv: tars.NewServer(), done: make(chan struct{})}
	tars.Handle(b.srv, servant, pingM, func(context.Context, tars.Void) (tars.Void, error) {
		b.calls.Add(1)
		if b.failing.Load() {
			return tars.Void{}, errors.New("backend failing")
		}
		return tars.Void{}, nil
	})
	tars.Handle(b.srv, servant, failM, func(context.Context, tars.Void) (tars.Void, error) {
		b.calls.Add(1)
		return tars.Void{}, errors.New("always fails")
	})
	tars.Handle(b.srv, servant, bizM, func(context.Context, tars.Void) (tars.Void, error) {
		b.calls.Add(1)
		return tars.Void{}, tars.Errorf(7, "no such user")
	})
	tars.Handle(b.srv, servant, slowM, func(context.Context, tars.Void) (tars.Void, error) {
		b.calls.Add(1)
		time.Sleep(300 * time.Millisecond)
		return tars.Void{}, nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { b.srv.Serve(ln); close(b.done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		b.srv.Shutdown(ctx)
		<-b.done
	})
	b.ep = discovery.FromAddress(transport.Address{Network: "tcp", Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Weight: -1})
	return b
}

// transitions records OnStateChange calls (without calling State: the
// hook runs under the breaker's lock).
type transitions struct {
	mu  sync.Mutex
	log map[string][]string
	at  map[string]time.Time // the last change's time
}

func (tr *transitions) hook(name string, from, to breaker.State) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.log == nil {
		tr.log, tr.at = map[string][]string{}, map[string]time.Time{}
	}
	tr.log[name] = append(tr.log[name], from.String()+"→"+to.String())
	tr.at[name] = time.Now()
}

func (tr *transitions) of(name string) ([]string, time.Time) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return slices.Clone(tr.log[name]), tr.at[name]
}

// waitState polls until the breaker reports want (State moves an open
// breaker to half-open once its Timeout has passed).
func waitState(t *testing.T, get func() breaker.State, want breaker.State) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); get() != want; {
		if time.Now().After(deadline) {
			t.Fatalf("breaker still %v, want %v", get(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Three backends behind one client; one fails every call (a negative
// return code, which the client's health rule does not count). Its
// endpoint breaker opens within the window after MinRequests failures,
// the calls move to the two healthy ones, a half-open probe while it still
// fails opens it again, and once it is healthy the probes close it.
func TestEndpointBreakerSteersAndRecovers(t *testing.T) {
	const servant = "Brk.E.Obj"
	bes := []*backend{startBackend(t, servant), startBackend(t, servant), startBackend(t, servant)}
	bad := bes[1]
	bad.failing.Store(true)
	var tr transitions
	const minReq, probes = 4, 2
	timeout := 1500 * time.Millisecond
	eb, err := breaker.NewEndpoint(breaker.Settings{
		MaxRequests: probes, Interval: 3 * time.Second, BucketPeriod: 300 * time.Millisecond,
		Timeout: timeout, FailureRatio: 0.5, MinRequests: minReq, OnStateChange: tr.hook,
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := tars.NewClient(servant,
		tars.WithResolver(discovery.NewStatic(bes[0].ep, bes[1].ep, bes[2].ep)),
		tars.WithEndpointMiddleware(eb.Middleware()), tars.WithTimeout(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	state := func() breaker.State { return eb.State(servant, bad.ep) }
	badName := fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d", servant, bad.ep.Port)

	// 1. The failing backend trips its breaker after exactly MinRequests
	// failed calls (100% of them), well within the window.
	failed, calls := 0, 0
	for state() != breaker.StateOpen {
		if calls++; calls > 100 {
			t.Fatalf("breaker not open after %d calls (%+v)", calls, eb.Counts(servant, bad.ep))
		}
		if _, err := pingM.Call(ctx, c, tars.Void{}); err != nil {
			if tars.CodeOf(err) != tars.CodeServerUnknownErr {
				t.Fatalf("call %d: %v", calls, err)
			}
			failed++
		}
	}
	if failed != minReq || bad.calls.Load() != minReq {
		t.Fatalf("opened after %d failed calls, %d reached the bad backend; want %d", failed, bad.calls.Load(), minReq)
	}
	t.Logf("open after %d calls", calls)

	// 2. While it is open, every call succeeds on the healthy two.
	before := []int64{bes[0].calls.Load(), bes[1].calls.Load(), bes[2].calls.Load()}
	const n = 30
	for i := range n {
		if _, err := pingM.Call(ctx, c, tars.Void{}); err != nil {
			t.Fatalf("call %d while open: %v", i, err)
		}
	}
	got := []int64{bes[0].calls.Load() - before[0], bes[1].calls.Load() - before[1], bes[2].calls.Load() - before[2]}
	if _, openedAt := tr.of(badName); time.Since(openedAt) < timeout {
		if got[1] != 0 || got[0]+got[2] != n || got[0] < n/3 || got[2] < n/3 {
			t.Fatalf("calls per backend while open: %v, want 0 on the bad one and about half each on the others", got)
		}
	} else {
		t.Logf("slow machine: %d calls took longer than Timeout", n)
	}
	t.Logf("calls per backend while open: %v", got)
	for _, b := range []*backend{bes[0], bes[2]} {
		if s := eb.State(servant, b.ep); s != breaker.StateClosed {
			t.Errorf("healthy backend's breaker %v", s)
		}
	}

	// 3. After Timeout a probe goes to it; it still fails: open again.
	waitState(t, state, breaker.StateHalfOpen)
	for k := bad.calls.Load(); bad.calls.Load() == k; {
		if calls++; calls > 300 {
			t.Fatal("no probe reached the half-open backend")
		}
		pingM.Call(ctx, c, tars.Void{})
	}
	if s := state(); s != breaker.StateOpen {
		t.Fatalf("after a failed probe: %v", s)
	}

	// 4. Healthy again: after Timeout, MaxRequests successful probes in a
	// row close it, and it takes its share of calls again.
	bad.failing.Store(false)
	waitState(t, state, breaker.StateHalfOpen)
	k := bad.calls.Load()
	for state() != breaker.StateClosed {
		if calls++; calls > 400 {
			t.Fatal("breaker did not close")
		}
		if _, err := pingM.Call(ctx, c, tars.Void{}); err != nil {
			t.Fatal(err)
		}
	}
	if p := bad.calls.Load() - k; p != probes {
		t.Errorf("%d probes closed it, want %d", p, probes)
	}
	k = bad.calls.Load()
	for range n {
		if _, err := pingM.Call(ctx, c, tars.Void{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := bad.calls.Load() - k; got < n/4 {
		t.Errorf("recovered backend got %d of %d calls", got, n)
	}
	want := []string{"closed→open", "open→half-open", "half-open→open", "open→half-open", "half-open→closed"}
	if log, _ := tr.of(badName); !slices.Equal(log, want) {
		t.Errorf("transitions of %s: %v, want %v", badName, log, want)
	}
	if eb.Len() != 3 {
		t.Errorf("%d endpoint breakers, want 3", eb.Len())
	}
}

// With its only endpoint's breaker open, a call fails at once with
// CodeAdapterNull, errors.Is ErrOpen and tars.ErrEndpointUnavailable,
// without reaching the server.
func TestEndpointBreakerAllOpen(t *testing.T) {
	const servant = "Brk.A.Obj"
	b := startBackend(t, servant)
	b.failing.Store(true)
	eb, err := breaker.NewEndpoint(breaker.Settings{MinRequests: 2, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	c, err := tars.NewClient(servant, tars.WithResolver(discovery.NewStatic(b.ep)), tars.WithEndpointMiddleware(eb.Middleware()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 2 {
		if _, err := pingM.Call(context.Background(), c, tars.Void{}); tars.CodeOf(err) != tars.CodeServerUnknownErr {
			t.Fatal(err)
		}
	}
	_, err = pingM.Call(context.Background(), c, tars.Void{})
	if tars.CodeOf(err) != tars.CodeAdapterNull || !errors.Is(err, breaker.ErrOpen) || !errors.Is(err, tars.ErrEndpointUnavailable) {
		t.Fatalf("call with the breaker open: %v (code %d)", err, tars.CodeOf(err))
	}
	if n := b.calls.Load(); n != 2 {
		t.Fatalf("%d calls reached the server, want 2", n)
	}
}

// The method breaker: each case its own breaker and client over one real
// server; only calls whose backend failed count.
func TestMethodBreaker(t *testing.T) {
	const servant = "Brk.M.Obj"
	b := startBackend(t, servant)
	obj := fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d", servant, b.ep.Port)
	const minReq = 5
	tests := []struct {
		name     string
		m        *tars.Endpoint[tars.Void, tars.Void]
		calls    int
		ctx      func() (context.Context, context.CancelFunc)
		wantCode tars.Code
		trips    bool
	}{
		{"service's positive code", bizM, 3 * minReq, nil, 7, false},
		{"caller cancels", slowM, 2 * minReq, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(10*time.Millisecond, cancel)
			return ctx, cancel
		}, tars.CodeInvokeTimeout, false},
		{"caller's deadline under MinTimeout", slowM, 2 * minReq, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Millisecond)
		}, tars.CodeInvokeTimeout, false},
		{"server fails", failM, minReq, nil, tars.CodeServerUnknownErr, true},
		{"backend slower than a fair deadline", slowM, minReq, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 150*time.Millisecond)
		}, tars.CodeInvokeTimeout, true},
		{"client's own timeout", slowM, minReq, nil, tars.CodeInvokeTimeout, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mb, err := breaker.NewMethod(breaker.Settings{MinRequests: minReq, FailureRatio: 0.5, Timeout: time.Minute, MinTimeout: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			c, err := tars.NewClient(obj, tars.WithMiddleware(mb.Middleware()), tars.WithTimeout(100*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for i := range tt.calls {
				ctx, cancel := context.Background(), context.CancelFunc(func() {})
				if tt.ctx != nil {
					ctx, cancel = tt.ctx()
				}
				_, err := tt.m.Call(ctx, c, tars.Void{})
				cancel()
				if tars.CodeOf(err) != tt.wantCode || errors.Is(err, breaker.ErrOpen) {
					t.Fatalf("call %d: %v, want code %d", i, err, tt.wantCode)
				}
			}
			st := mb.State(servant, tt.m.Name())
			if tt.trips != (st == breaker.StateOpen) {
				t.Fatalf("after %d calls: %v (%+v)", tt.calls, st, mb.Counts(servant, tt.m.Name()))
			}
			if !tt.trips {
				return
			}
			// Open: the next call fails at once, unsent; other methods pass.
			n := b.calls.Load()
			start := time.Now()
			_, err = tt.m.Call(context.Background(), c, tars.Void{})
			if !errors.Is(err, breaker.ErrOpen) || tars.CodeOf(err) != tars.CodeAdapterNull {
				t.Fatalf("open: %v", err)
			}
			if d := time.Since(start); d > 50*time.Millisecond || b.calls.Load() != n {
				t.Errorf("refused call took %v and reached the server %d times", d, b.calls.Load()-n)
			}
			if _, err := pingM.Call(context.Background(), c, tars.Void{}); err != nil {
				t.Errorf("another method: %v", err)
			}
		})
	}
}

// Skip and For set methods apart.
func TestMethodOptions(t *testing.T) {
	const servant = "Brk.O.Obj"
	b := startBackend(t, servant)
	obj := fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d", servant, b.ep.Port)
	mb, err := breaker.NewMethod(breaker.Settings{MinRequests: 2},
		breaker.Skip(servant, "fail"), breaker.For(servant, "", breaker.Settings{MinRequests: 4}))
	if err != nil {
		t.Fatal(err)
	}
	c, err := tars.NewClient(obj, tars.WithMiddleware(mb.Middleware()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 6 {
		if _, err := failM.Call(context.Background(), c, tars.Void{}); errors.Is(err, breaker.ErrOpen) {
			t.Fatal("a skipped method was refused")
		}
	}
	b.failing.Store(true)
	for i := range 5 {
		_, err := pingM.Call(context.Background(), c, tars.Void{})
		if open := errors.Is(err, breaker.ErrOpen); open != (i == 4) {
			t.Fatalf("call %d: %v (For's MinRequests is 4)", i, err)
		}
	}
}

func TestEndpointBound(t *testing.T) {
	eb, err := breaker.NewEndpoint(breaker.Settings{Timeout: 10 * time.Millisecond}, breaker.MaxEndpoints(3), breaker.Idle(80*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	inv := eb.Middleware()(func(context.Context, *tars.Call) error { return nil })
	call := func(port int) {
		c := &tars.Call{Servant: "S.S.Obj", Method: "m", Endpoint: discovery.FromAddress(transport.Address{Network: "tcp", Host: "10.0.0.1", Port: port})}
		if err := inv(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	for p := 1; p <= 10; p++ {
		call(p)
		if n := eb.Len(); n > 3 {
			t.Fatalf("%d breakers after %d endpoints, cap 3", n, p)
		}
	}
	// Endpoints not seen for Idle go when a new one comes.
	time.Sleep(100 * time.Millisecond)
	call(10)
	call(11)
	if n := eb.Len(); n != 2 {
		t.Fatalf("%d breakers after the idle ones went, want 2 (10 and 11)", n)
	}
}

func TestSettingsErrors(t *testing.T) {
	tests := []struct {
		name string
		make func() error
	}{
		{"ratio above 1", func() error { _, err := breaker.NewMethod(breaker.Settings{FailureRatio: 1.5}); return err }},
		{"negative ratio", func() error { _, err := breaker.NewMethod(breaker.Settings{FailureRatio: -1}); return err }},
		{"bucket over interval", func() error {
			_, err := breaker.NewMethod(breaker.Settings{Interval: time.Second, BucketPeriod: 2 * time.Second})
			return err
		}},
		{"negative timeout", func() error { _, err := breaker.NewEndpoint(breaker.Settings{Timeout: -1}); return err }},
		{"idle under timeout", func() error {
			_, err := breaker.NewEndpoint(breaker.Settings{Timeout: time.Minute}, breaker.Idle(time.Second))
			return err
		}},
		{"no endpoints", func() error { _, err := breaker.NewEndpoint(breaker.Settings{}, breaker.MaxEndpoints(0)); return err }},
		{"empty servant", func() error { _, err := breaker.NewMethod(breaker.Settings{}, breaker.Skip("", "m")); return err }},
		{"twice", func() error {
			_, err := breaker.NewMethod(breaker.Settings{}, breaker.Skip("S", "m"), breaker.For("S", "m", breaker.Settings{}))
			return err
		}},
		{"bad For", func() error {
			_, err := breaker.NewMethod(breaker.Settings{}, breaker.For("S", "m", breaker.Settings{FailureRatio: 2}))
			return err
		}},
	}
	for _, tt := range tests {
		if err := tt.make(); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	// A custom ReadyToTrip needs no ratio; a negative Interval never clears.
	if _, err := breaker.NewMethod(breaker.Settings{FailureRatio: 7, ReadyToTrip: func(breaker.Counts) bool { return false }, Interval: -1}); err != nil {
		t.Error(err)
	}
}

func TestDefaults(t *testing.T) {
	d := breaker.DefaultSettings()
	if d.MaxRequests != breaker.DefaultMaxRequests || d.Interval != breaker.DefaultInterval || d.BucketPeriod != breaker.DefaultBucketPeriod ||
		d.Timeout != breaker.DefaultTimeout || d.FailureRatio != breaker.DefaultFailureRatio || d.MinRequests != breaker.DefaultMinRequests ||
		d.MinTimeout != breaker.DefaultMinTimeout || d.IsSuccessful == nil || d.IsExcluded == nil {
		t.Fatalf("%+v", d)
	}
	tests := []struct {
		err                  error
		successful, excluded bool
	}{
		{nil, true, false},
		{tars.Errorf(7, "not found"), true, false},
		{tars.NewError(tars.CodeServerUnknownErr, "x"), false, false},
		{tars.NewError(tars.CodeServerOverload, "x"), false, false},
		{tars.NewError(tars.CodeInvokeTimeout, "x"), false, false},
		{errors.New("plain"), false, false},
		{fmt.Errorf("x: %w", context.Canceled), false, true},
		{fmt.Errorf("x: %w", breaker.ErrOpen), false, true},
		{fmt.Errorf("x: %w", tars.ErrEndpointUnavailable), false, true},
	}
	for _, tt := range tests {
		if got := breaker.DefaultIsSuccessful(tt.err); got != tt.successful {
			t.Errorf("DefaultIsSuccessful(%v) = %v", tt.err, got)
		}
		if got := breaker.DefaultIsExcluded(tt.err); got != tt.excluded {
			t.Errorf("DefaultIsExcluded(%v) = %v", tt.err, got)
		}
	}
}

func TestFromConfig(t *testing.T) {
	tests := []struct {
		in   config.Breaker
		want breaker.Settings
	}{
		{config.Breaker{}, breaker.Settings{}},
		{config.Breaker{Enabled: true, MaxRequests: 2, Interval: 20 * time.Second, Timeout: 3 * time.Second, FailureRatio: 0.3, MinRequests: 50},
			breaker.Settings{MaxRequests: 2, Interval: 20 * time.Second, BucketPeriod: 2 * time.Second, Timeout: 3 * time.Second, FailureRatio: 0.3, MinRequests: 50}},
		{config.Breaker{MaxRequests: -1, MinRequests: -5}, breaker.Settings{}},
	}
	for _, tt := range tests {
		got := breaker.FromConfig(tt.in)
		if got.MaxRequests != tt.want.MaxRequests || got.Interval != tt.want.Interval || got.BucketPeriod != tt.want.BucketPeriod ||
			got.Timeout != tt.want.Timeout || got.FailureRatio != tt.want.FailureRatio || got.MinRequests != tt.want.MinRequests {
			t.Errorf("FromConfig(%+v) = %+v, want %+v", tt.in, got, tt.want)
		}
		if _, err := breaker.NewMethod(got); err != nil {
			t.Errorf("FromConfig(%+v): %v", tt.in, err)
		}
	}
}

// The cost of a closed breaker on the call path (no network: next returns
// at once), for the method and the endpoint middleware.
func BenchmarkBreakerClosed(b *testing.B) {
	ep := discovery.FromAddress(transport.Address{Network: "tcp", Host: "10.0.0.1", Port: 10000})
	mb, _ := breaker.NewMethod(breaker.Settings{})
	eb, _ := breaker.NewEndpoint(breaker.Settings{})
	for _, bc := range []struct {
		name string
		mw   tars.Middleware
	}{{"method", mb.Middleware()}, {"endpoint", eb.Middleware()}} {
		b.Run(bc.name, func(b *testing.B) {
			inv := bc.mw(func(context.Context, *tars.Call) error { return nil })
			ctx := context.Background()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				call := &tars.Call{Servant: "S.S.Obj", Method: "m", Endpoint: ep}
				for pb.Next() {
					inv(ctx, call)
				}
			})
		})
	}
}

// A panic below the breaker counts as a failure and goes on up.
func TestPanicCounts(t *testing.T) {
	mb, err := breaker.NewMethod(breaker.Settings{MinRequests: 1})
	if err != nil {
		t.Fatal(err)
	}
	inv := mb.Middleware()(func(context.Context, *tars.Call) error { panic("boom") })
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v", r)
			}
		}()
		inv(context.Background(), &tars.Call{Servant: "S.S.Obj", Method: "m"})
	}()
	if s := mb.State("S.S.Obj", "m"); s != breaker.StateOpen {
		t.Fatalf("after a panic: %v", s)
	}
}

// FromClientConfig: each method gets the breaker its configuration's
// policy asks for ("*" entries included), or none.
func TestFromClientConfig(t *testing.T) {
	const servant = "Brk.F.Obj"
	b := startBackend(t, servant)
	b.failing.Store(true)
	obj := fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d", servant, b.ep.Port)
	on := config.Method{Breaker: config.Breaker{Enabled: true, MinRequests: 3}}
	off := config.Method{Breaker: config.Breaker{MinRequests: 1}}
	tests := []struct {
		name    string
		objects map[string]config.Object
		trips   map[string]bool // method → open after 3 failed calls
	}{
		{"none", nil, map[string]bool{"ping": false, "fail": false}},
		{"one method", map[string]config.Object{servant: {Methods: map[string]config.Method{"fail": on}}},
			map[string]bool{"ping": false, "fail": true}},
		{"object star, one off", map[string]config.Object{servant: {Methods: map[string]config.Method{"*": on, "fail": off}}},
			map[string]bool{"ping": true, "fail": false}},
		{"every object", map[string]config.Object{"*": {Methods: map[string]config.Method{"*": on}}},
			map[string]bool{"ping": true, "fail": true}},
		{"another object", map[string]config.Object{"Other.S.Obj": {Methods: map[string]config.Method{"*": on}}},
			map[string]bool{"ping": false, "fail": false}},
	}
	for _, tt := range tests {
		cc := &config.Client{Objects: tt.objects}
		mb, err := breaker.NewMethod(breaker.Settings{}, breaker.FromClientConfig(cc))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		c, err := tars.NewClient(obj, tars.WithMiddleware(mb.Middleware()))
		if err != nil {
			t.Fatal(err)
		}
		// A later change to the configuration (a reload) is for options
		// built from it, not this one: it took a copy.
		cc.Objects = map[string]config.Object{"*": {Methods: map[string]config.Method{"*": off}}}
		for m, want := range tt.trips {
			e := pingM
			if m == "fail" {
				e = failM
			}
			for range 3 {
				e.Call(context.Background(), c, tars.Void{})
			}
			if got := mb.State(servant, m) == breaker.StateOpen; got != want {
				t.Errorf("%s: %s open %v, want %v", tt.name, m, got, want)
			}
		}
		c.Close()
	}
	if _, err := breaker.NewMethod(breaker.Settings{}, breaker.FromClientConfig(&config.Client{}), breaker.FromClientConfig(&config.Client{})); err == nil {
		t.Error("two Policy options taken")
	}
}

// Concurrent callers: the failing endpoint's breaker opens, and the
// failed calls are bounded by MinRequests plus those already in flight
// when it opened.
func TestEndpointBreakerConcurrent(t *testing.T) {
	const servant = "Brk.C.Obj"
	bes := []*backend{startBackend(t, servant), startBackend(t, servant), startBackend(t, servant)}
	bes[0].failing.Store(true)
	const minReq, callers, each = 6, 8, 40
	eb, err := breaker.NewEndpoint(breaker.Settings{MinRequests: minReq, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	c, err := tars.NewClient(servant, tars.WithResolver(discovery.NewStatic(bes[0].ep, bes[1].ep, bes[2].ep)),
		tars.WithEndpointMiddleware(eb.Middleware()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for range each {
				if _, err := pingM.Call(context.Background(), c, tars.Void{}); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if s := eb.State(servant, bes[0].ep); s != breaker.StateOpen {
		t.Fatalf("failing endpoint's breaker %v", s)
	}
	if f, n := failed.Load(), bes[0].calls.Load(); f < minReq || f > minReq+callers-1 || f != n {
		t.Fatalf("%d calls failed, %d reached the failing backend; want %d..%d, equal", f, n, minReq, minReq+callers-1)
	}
	t.Logf("%d of %d calls failed; per backend %d %d %d", failed.Load(), callers*each, bes[0].calls.Load(), bes[1].calls.Load(), bes[2].calls.Load())
}

// Calls/s over loopback with and without both breakers, 64 callers.
func BenchmarkRPC(b *testing.B) {
	const servant = "Brk.B.Obj"
	srv := tars.NewServer()
	tars.Handle(srv, servant, pingM, func(context.Context, tars.Void) (tars.Void, error) { return tars.Void{}, nil })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	defer func() { srv.Shutdown(context.Background()); <-done }()
	obj := fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d", servant, ln.Addr().(*net.TCPAddr).Port)
	mb, _ := breaker.NewMethod(breaker.Settings{})
	eb, _ := breaker.NewEndpoint(breaker.Settings{})
	for _, bc := range []struct {
		name string
		opts []tars.ClientOption
	}{
		{"none", nil},
		{"method+endpoint", []tars.ClientOption{tars.WithMiddleware(mb.Middleware()), tars.WithEndpointMiddleware(eb.Middleware())}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c, err := tars.NewClient(obj, bc.opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			b.ReportAllocs()
			b.SetParallelism(32) // 64 callers on 2 cores
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := pingM.Call(context.Background(), c, tars.Void{}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}

// The breakers do nothing in a server chain: every call reaches next,
// none is counted.
func TestServerChainPasses(t *testing.T) {
	mb, _ := breaker.NewMethod(breaker.Settings{MinRequests: 1})
	eb, _ := breaker.NewEndpoint(breaker.Settings{MinRequests: 1})
	ep := discovery.FromAddress(transport.Address{Network: "tcp", Host: "10.0.0.1", Port: 1})
	for _, mw := range []tars.Middleware{mb.Middleware(), eb.Middleware()} {
		ran := 0
		inv := mw(func(context.Context, *tars.Call) error { ran++; return errors.New("fails") })
		for range 5 {
			inv(context.Background(), &tars.Call{Servant: "S.S.Obj", Method: "m", Server: true, Endpoint: ep})
		}
		if ran != 5 {
			t.Fatalf("next ran %d times of 5", ran)
		}
	}
	if mb.State("S.S.Obj", "m") != breaker.StateClosed || eb.Len() != 0 {
		t.Fatal("a server call was counted")
	}
}
