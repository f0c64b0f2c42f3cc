package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/middleware/breaker"
	"github.com/gotars/tars/middleware/ratelimit"
	"github.com/gotars/tars/transport"
	"go.uber.org/goleak"
	"golang.org/x/time/rate"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	rlService = tars.NewService("Rl")
	pingM     = tars.NewEndpoint[tars.Void, tars.Void](rlService, "ping")
	otherM    = tars.NewEndpoint[tars.Void, tars.Void](rlService, "other")
)

// never is a rate so low that no token comes back during a test: a bucket
// admits its burst and then nothing.
var never = rate.Every(time.Hour)

// server is a real loopback server of the servants given, counting the
// handler runs per servant.method.
type server struct {
	addr *net.TCPAddr
	mu   sync.Mutex
	runs map[string]int
}

func (s *server) ran(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runs[name]
}

func startServer(t *testing.T, opts []tars.ServerOption, servants ...string) *server {
	t.Helper()
	s := &server{runs: map[string]int{}}
	srv := tars.NewServer(opts...)
	for _, sv := range servants {
		for _, m := range []*tars.Endpoint[tars.Void, tars.Void]{pingM, otherM} {
			name := sv + "." + m.Name()
			tars.Handle(srv, sv, m, func(context.Context, tars.Void) (tars.Void, error) {
				s.mu.Lock()
				s.runs[name]++
				s.mu.Unlock()
				return tars.Void{}, nil
			})
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	s.addr = ln.Addr().(*net.TCPAddr)
	return s
}

func client(t *testing.T, servant string, s *server, opts ...tars.ClientOption) *tars.Client {
	t.Helper()
	c, err := tars.NewClient(fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d", servant, s.addr.Port), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// burst sends n calls at once and counts the answers by code.
func burst(t *testing.T, c *tars.Client, m *tars.Endpoint[tars.Void, tars.Void], n int) map[tars.Code]int {
	t.Helper()
	var mu sync.Mutex
	codes := map[tars.Code]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := m.Call(context.Background(), c, tars.Void{})
			mu.Lock()
			codes[tars.CodeOf(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return codes
}

// A burst over a method's limit gets exactly the calls over it answered
// −9, unrun; the servant's limit applies to the method too, the calls it
// refused cost the servant nothing, and another servant is untouched.
func TestServerLimits(t *testing.T) {
	const a, b = "Rl.A.Obj", "Rl.B.Obj"
	mw, err := ratelimit.Server(
		ratelimit.Rule{Servant: a, Method: "ping", Rate: never, Burst: 3},
		ratelimit.Rule{Servant: a, Rate: never, Burst: 5},
	)
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, []tars.ServerOption{tars.WithMiddleware(mw)}, a, b)
	ca, cb := client(t, a, s), client(t, b, s)
	steps := []struct {
		name   string
		c      *tars.Client
		m      *tars.Endpoint[tars.Void, tars.Void]
		calls  int
		ok, rl int // answers 0 and −9
	}{
		{"A.ping over its method limit", ca, pingM, 12, 3, 9},
		{"A.other: what the servant's bucket has left", ca, otherM, 6, 2, 4},
		{"A.ping: the servant's bucket is empty too", ca, pingM, 2, 0, 2},
		{"B untouched", cb, pingM, 40, 40, 0},
		{"B.other untouched", cb, otherM, 10, 10, 0},
	}
	for _, st := range steps {
		codes := burst(t, st.c, st.m, st.calls)
		if codes[tars.CodeSuccess] != st.ok || codes[tars.CodeServerOverload] != st.rl || len(codes) > 2 {
			t.Errorf("%s: answers %v, want %d ok and %d −9", st.name, codes, st.ok, st.rl)
		}
	}
	for name, want := range map[string]int{a + ".ping": 3, a + ".other": 2, b + ".ping": 40, b + ".other": 10} {
		if got := s.ran(name); got != want {
			t.Errorf("%s ran %d times, want %d (a refused call must not run)", name, got, want)
		}
	}
}

// A method's own rule alone, and Inf: no limit.
func TestServerMethodOnly(t *testing.T) {
	const a = "Rl.M.Obj"
	mw, err := ratelimit.Server(
		ratelimit.Rule{Servant: a, Method: "other", Rate: never, Burst: 2},
		ratelimit.Rule{Servant: a, Method: "ping", Rate: rate.Inf},
	)
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, []tars.ServerOption{tars.WithMiddleware(mw)}, a)
	c := client(t, a, s)
	if codes := burst(t, c, otherM, 7); codes[0] != 2 || codes[tars.CodeServerOverload] != 5 {
		t.Errorf("other: %v", codes)
	}
	if codes := burst(t, c, pingM, 30); codes[0] != 30 {
		t.Errorf("ping (Inf): %v", codes)
	}
}

func TestClientFailFast(t *testing.T) {
	const a = "Rl.C.Obj"
	s := startServer(t, nil, a)
	mw, err := ratelimit.Client([]ratelimit.Rule{{Servant: a, Method: "ping", Rate: never, Burst: 2}})
	if err != nil {
		t.Fatal(err)
	}
	c := client(t, a, s, tars.WithMiddleware(mw))
	var limited atomic.Int32
	for i := range 6 {
		_, err := pingM.Call(context.Background(), c, tars.Void{})
		switch {
		case i < 2 && err != nil:
			t.Fatalf("call %d: %v", i, err)
		case i >= 2 && (!errors.Is(err, ratelimit.ErrLimited) || tars.CodeOf(err) != tars.CodeServerOverload):
			t.Fatalf("call %d: %v, want ErrLimited with −9", i, err)
		case err != nil:
			limited.Add(1)
		}
	}
	if got := s.ran(a + ".ping"); got != 2 || limited.Load() != 4 {
		t.Fatalf("server ran ping %d times, %d refused; want 2 and 4", got, limited.Load())
	}
	for range 5 { // the other method has no rule
		if _, err := otherM.Call(context.Background(), c, tars.Void{}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestClientWait(t *testing.T) {
	const a = "Rl.W.Obj"
	s := startServer(t, nil, a)
	// One token each 50 ms, one at a time: four calls take at least
	// 150 ms, all of them succeed.
	mw, err := ratelimit.Client([]ratelimit.Rule{{Servant: a, Rate: rate.Every(50 * time.Millisecond), Burst: 1}}, ratelimit.WithWait(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	c := client(t, a, s, tars.WithMiddleware(mw))
	start := time.Now()
	for i := range 4 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := pingM.Call(ctx, c, tars.Void{})
		cancel()
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("4 calls at one token per 50 ms took %v", d)
	}

	// A token that would come after the deadline: refused at once, not
	// at the deadline.
	mw, err = ratelimit.Client([]ratelimit.Rule{{Servant: a, Method: "other", Rate: never, Burst: 1}}, ratelimit.WithWait(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	c = client(t, a, s, tars.WithMiddleware(mw))
	if _, err := otherM.Call(context.Background(), c, tars.Void{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = otherM.Call(ctx, c, tars.Void{})
	if !errors.Is(err, ratelimit.ErrLimited) || ctx.Err() != nil {
		t.Fatalf("%v (ctx %v): want ErrLimited before the deadline", err, ctx.Err())
	}

	// A wait the caller cancels ends with the cancellation, and gives the
	// token back: the next call waits about 300 ms, within WithWait's
	// 400 ms (without the token back it would need about 600 ms and be
	// refused at once).
	mw, err = ratelimit.Client([]ratelimit.Rule{{Servant: a, Method: "other", Rate: rate.Every(300 * time.Millisecond), Burst: 1}}, ratelimit.WithWait(400*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	c = client(t, a, s, tars.WithMiddleware(mw))
	if _, err := otherM.Call(context.Background(), c, tars.Void{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err = otherM.Call(ctx, c, tars.Void{})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ratelimit.ErrLimited) {
		t.Fatalf("cancelled wait: %v", err)
	}
	if _, err := otherM.Call(context.Background(), c, tars.Void{}); err != nil {
		t.Fatalf("after the cancelled wait: %v", err)
	}

	// Without a context deadline, the client's own timeout bounds the wait
	// too: a token 500 ms away is refused at once under a 100 ms timeout.
	mw, err = ratelimit.Client([]ratelimit.Rule{{Servant: a, Method: "other", Rate: 2, Burst: 1}}, ratelimit.WithWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	c = client(t, a, s, tars.WithMiddleware(mw), tars.WithTimeout(100*time.Millisecond))
	if _, err := otherM.Call(context.Background(), c, tars.Void{}); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if _, err := otherM.Call(context.Background(), c, tars.Void{}); !errors.Is(err, ratelimit.ErrLimited) {
		t.Fatalf("a token past the client's timeout: %v after %v, want ErrLimited at once", err, time.Since(start))
	}
}

func TestRuleErrors(t *testing.T) {
	tests := []struct {
		name  string
		rules []ratelimit.Rule
		opts  []ratelimit.ClientOption
	}{
		{"no servant", []ratelimit.Rule{{Method: "m", Rate: 1, Burst: 1}}, nil},
		{"twice", []ratelimit.Rule{{Servant: "S", Rate: 1, Burst: 1}, {Servant: "S", Rate: 2, Burst: 1}}, nil},
		{"negative rate", []ratelimit.Rule{{Servant: "S", Rate: -1, Burst: 1}}, nil},
		{"no burst", []ratelimit.Rule{{Servant: "S", Rate: 10}}, nil},
		{"zero wait", []ratelimit.Rule{{Servant: "S", Rate: 10, Burst: 1}}, []ratelimit.ClientOption{ratelimit.WithWait(0)}},
	}
	for _, tt := range tests {
		_, cerr := ratelimit.Client(tt.rules, tt.opts...)
		if cerr == nil {
			t.Errorf("%s: Client took it", tt.name)
		}
		if tt.opts == nil {
			if _, err := ratelimit.Server(tt.rules...); err == nil {
				t.Errorf("%s: Server took it", tt.name)
			}
		}
	}
}

// The cost of a limiter on the server path for a call under its limit.
func BenchmarkServerAllow(b *testing.B) {
	for _, bc := range []struct {
		name  string
		rules []ratelimit.Rule
	}{
		{"none", []ratelimit.Rule{{Servant: "T.T.Obj", Rate: 1, Burst: 1}}},
		{"servant", []ratelimit.Rule{{Servant: "S.S.Obj", Rate: 1e12, Burst: 1 << 30}}},
		{"servant+method", []ratelimit.Rule{{Servant: "S.S.Obj", Rate: 1e12, Burst: 1 << 30}, {Servant: "S.S.Obj", Method: "m", Rate: 1e12, Burst: 1 << 30}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			mw, err := ratelimit.Server(bc.rules...)
			if err != nil {
				b.Fatal(err)
			}
			inv := mw(func(context.Context, *tars.Call) error { return nil })
			ctx := context.Background()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				call := &tars.Call{Servant: "S.S.Obj", Method: "m", Server: true}
				for pb.Next() {
					if err := inv(ctx, call); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// Admit is the middleware's decision, on its own.
func TestAdmit(t *testing.T) {
	l, err := ratelimit.NewLimiter(ratelimit.Rule{Servant: "S", Method: "m", Rate: never, Burst: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		err := l.Admit("S", "m")
		if (err == nil) != (i < 2) {
			t.Fatalf("call %d: %v", i, err)
		}
		if err != nil && (!errors.Is(err, ratelimit.ErrLimited) || tars.CodeOf(err) != tars.CodeServerOverload) {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if err := l.Admit("S", "other"); err != nil {
		t.Fatal(err)
	}
	if _, err := ratelimit.NewLimiter(ratelimit.Rule{Method: "m"}); err == nil {
		t.Fatal("a rule without a servant was taken")
	}
}

// A server's −9 answers count as its endpoint's failures in a client's
// endpoint breaker: once one of two servers is over its limit, the
// client's calls go to the other.
func TestServerLimitSteersEndpointBreaker(t *testing.T) {
	const a = "Rl.E.Obj"
	mw, err := ratelimit.Server(ratelimit.Rule{Servant: a, Rate: never, Burst: 2})
	if err != nil {
		t.Fatal(err)
	}
	limited := startServer(t, []tars.ServerOption{tars.WithMiddleware(mw)}, a)
	free := startServer(t, nil, a)
	eb, err := breaker.NewEndpoint(breaker.Settings{MinRequests: 3, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ep := func(s *server) discovery.Endpoint {
		return discovery.FromAddress(transport.Address{Network: "tcp", Host: "127.0.0.1", Port: s.addr.Port, Weight: -1})
	}
	c, err := tars.NewClient(a, tars.WithResolver(discovery.NewStatic(ep(limited), ep(free))), tars.WithEndpointMiddleware(eb.Middleware()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	overloaded := 0
	for range 40 {
		if _, err := pingM.Call(context.Background(), c, tars.Void{}); tars.CodeOf(err) == tars.CodeServerOverload {
			overloaded++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	// The limited server ran 2 calls and refused the next 2: 2 failures of
	// 4 counted trip the breaker (MinRequests 3, ratio 0.5); every later
	// call went to the other.
	if overloaded != 2 || limited.ran(a+".ping") != 2 || free.ran(a+".ping") != 36 {
		t.Fatalf("%d answered −9; limited ran %d, free ran %d", overloaded, limited.ran(a+".ping"), free.ran(a+".ping"))
	}
	if s := eb.State(a, ep(limited)); s != breaker.StateOpen {
		t.Fatalf("limited server's breaker %v", s)
	}
}

// Server limits apply to server chains only, client limits to client
// chains only.
func TestChainSides(t *testing.T) {
	rules := []ratelimit.Rule{{Servant: "S", Rate: never, Burst: 1}}
	srv, _ := ratelimit.Server(rules...)
	cli, _ := ratelimit.Client(rules)
	for _, tt := range []struct {
		name   string
		mw     tars.Middleware
		server bool // the side it limits
	}{{"Server", srv, true}, {"Client", cli, false}} {
		inv := tt.mw(func(context.Context, *tars.Call) error { return nil })
		for range 3 {
			if err := inv(context.Background(), &tars.Call{Servant: "S", Method: "m", Server: !tt.server}); err != nil {
				t.Fatalf("%s on the other side: %v", tt.name, err)
			}
		}
		inv(context.Background(), &tars.Call{Servant: "S", Method: "m", Server: tt.server})
		if err := inv(context.Background(), &tars.Call{Servant: "S", Method: "m", Server: tt.server}); !errors.Is(err, ratelimit.ErrLimited) {
			t.Fatalf("%s on its side: %v", tt.name, err)
		}
	}
}
