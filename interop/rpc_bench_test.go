package interop

// Speed of gotars' RPC against TarsGo's, in the same run (issue 3 §6):
//
//   - BenchmarkRPC: a getUser call (one int in, a UserInfo with 5 tags and 5
//     metadata entries out, 205 bytes of results) over loopback, gotars'
//     server and client versus TarsGo's server and generated client, at 1, 64
//     and 256 concurrent callers; calls/s, p50 and p99 latency.
//   - BenchmarkIdleConns: the memory a server holds per idle connection,
//     with 10,000 connections open, each having made one call.
//
// Run them (about 4 minutes):
//
//	go test -run '^$' -bench 'BenchmarkRPC|BenchmarkIdleConns' -count 6 -benchtime 1s > /tmp/rpc.txt
//	go tool benchstat -col /impl /tmp/rpc.txt
//
// On a machine shared with other work, run -count 1 six times instead, so
// that a burst of outside load falls on every implementation alike rather
// than on six runs of one (docs/benchmarks.md).

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/TarsCloud/TarsGo/tars/protocol/codec"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/requestf"
	"github.com/TarsCloud/TarsGo/tars/transport"
	"github.com/TarsCloud/TarsGo/tars/util/tools"

	"github.com/gotars/tars/example/userservice/userapi"
	UserService "github.com/gotars/tars/interop/gen/UserService"
)

// rpcBenchUser is the user getUser returns in the benchmark: the codec
// benchmark's UserInfo (5 tags, 5 metadata entries).
func rpcBenchUser() UserService.UserInfo {
	return UserService.UserInfo{
		UserName: "user-12345", Email: "user-12345@example.com", Age: 35,
		Tags: []string{"golang", "tars", "rpc", "backend", "vip"},
		Metadata: map[string]string{
			"department": "engineering", "level": "senior", "location": "shenzhen",
			"team": "infrastructure", "source": "signup-form",
		},
	}
}

// rpcStats is the outcome of one measured run.
type rpcStats struct {
	calls    int
	elapsed  time.Duration
	p50, p99 time.Duration
}

func (s rpcStats) callsPerSec() float64 { return float64(s.calls) / s.elapsed.Seconds() }

// rpcMeasure makes n calls from callers goroutines at once, timing each
// call into a preallocated slice.
func rpcMeasure(ctx context.Context, callers, n int, call func(context.Context) error, startTimer func()) (rpcStats, error) {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	if startTimer != nil {
		startTimer()
	}
	start := time.Now()
	for range callers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				t0 := time.Now()
				if err := call(ctx); err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("call %d: %w", i, err) })
					next.Store(int64(n)) // stop everybody
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	s := rpcStats{calls: n, elapsed: time.Since(start)}
	if firstErr != nil {
		return s, firstErr
	}
	slices.Sort(lat)
	s.p50 = lat[(n-1)*50/100]
	s.p99 = lat[int(math.Ceil(float64(n)*0.99))-1]
	return s, nil
}

// rpcBenchImpl is one side of the comparison: a server and a client of the
// same implementation, and a getUser call through them.
type rpcBenchImpl struct {
	name string
	call func(context.Context) error
}

// rpcBenchImpls starts both servers, stores the benchmark user in each and
// returns the two getUser calls, each checking its answer.
func rpcBenchImpls(tb testing.TB) []rpcBenchImpl {
	ctx := context.Background()
	gs := rpcStartGotars(tb)
	gc := rpcGotarsClient(tb, gs.Obj())
	tarsgoGetUser := func(opts ...func(*transport.TarsServerConf)) func(context.Context) error {
		ts, _ := rpcStartTarsGo(tb, opts...)
		tc := rpcTarsGoClient(ts.Endpoint())
		u := rpcBenchUser()
		var created UserService.UserInfo
		if ret, err := tc.CreateUserWithContext(ctx, &u, &created); err != nil || ret != 0 {
			tb.Fatalf("TarsGo createUser: %d, %v", ret, err)
		}
		tid := created.UserId
		return func(ctx context.Context) error {
			u, err := tc.GetUserWithContext(ctx, tid)
			if err == nil && (u.UserId != tid || len(u.Metadata) != 5) {
				err = fmt.Errorf("getUser %d returned %+v", tid, u)
			}
			return err
		}
	}
	u := rpcBenchUser()
	r, err := userapi.CreateUser.Call(ctx, gc, userapi.UserInfoArgs{UserInfo: userapi.UserInfo{
		UserName: u.UserName, Email: u.Email, Age: u.Age, Tags: u.Tags, Metadata: u.Metadata}})
	if err != nil || r.Ret != 0 {
		tb.Fatalf("gotars createUser: %d, %v", r.Ret, err)
	}
	gid := r.Result.UserID
	// TarsGo first: benchstat -col /impl compares the other columns with
	// the first.
	return []rpcBenchImpl{
		{"tarsgo", tarsgoGetUser()},
		{"gotars", func(ctx context.Context) error {
			u, err := userapi.GetUser.Call(ctx, gc, userapi.UserIDArgs{UserID: gid})
			if err == nil && (u.UserID != gid || len(u.Metadata) != 5) {
				err = fmt.Errorf("getUser %d returned %+v", gid, u)
			}
			return err
		}},
		// TarsGo's server turns Nagle's algorithm on by default
		// (tcpnodelay=0); this one has it off, as a config file can ask.
		{"tarsgo-nodelay", tarsgoGetUser(func(c *transport.TarsServerConf) { c.TCPNoDelay = true })},
	}
}

// BenchmarkRPC measures a getUser call over loopback: gotars' server and
// client versus TarsGo's server and tars2go-generated client, in one process
// (both sides share the machine's cores, as in PEERS.md's figures), each
// with its library's defaults (gotars: 2 connections per endpoint, TarsGo:
// 1). One op is one call; b.N calls are spread over the callers.
func BenchmarkRPC(b *testing.B) {
	impls := rpcBenchImpls(b)
	ctx := context.Background()
	for _, callers := range []int{1, 64, 256} {
		for _, impl := range impls {
			b.Run(fmt.Sprintf("callers=%d/impl=%s", callers, impl.name), func(b *testing.B) {
				b.ReportAllocs()
				s, err := rpcMeasure(ctx, callers, b.N, impl.call, b.ResetTimer)
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(s.callsPerSec(), "calls/s")
				b.ReportMetric(float64(s.p50.Nanoseconds())/1e3, "p50-µs")
				b.ReportMetric(float64(s.p99.Nanoseconds())/1e3, "p99-µs")
			})
		}
	}
}

// The idle-connection measurement opens the connections from a child
// process (this test binary again, told by idleHelperEnv): 10,000 sockets on
// each side would not fit one process's 20,000 descriptors with room to
// spare, and the client's own memory must not be counted.
const (
	idleHelperEnv  = "GOTARS_RPC_IDLE_ADDR" // host:port to connect to
	idleHelperNEnv = "GOTARS_RPC_IDLE_N"    // how many connections
)

// rpcGetUserFrame is a TARS getUser(userId) request frame built with TarsGo's
// types.
func rpcGetUserFrame(id, reqID int32) []byte {
	body := codec.NewBuffer()
	_ = body.WriteInt32(id, 1)
	req := requestf.RequestPacket{IVersion: 1, IRequestId: reqID, SServantName: userapi.Servant,
		SFuncName: "getUser", SBuffer: tools.ByteToInt8(body.ToBytes()), ITimeout: 10000,
		Context: map[string]string{}, Status: map[string]string{}}
	return rpcFrame(&req)
}

// rpcFrame encodes a request packet with TarsGo's codec and prefixes the
// length.
func rpcFrame(req *requestf.RequestPacket) []byte {
	buf := codec.NewBuffer()
	_ = buf.WriteSliceInt8(make([]int8, 4))
	_ = req.WriteTo(buf)
	b := buf.ToBytes()
	b[0], b[1], b[2], b[3] = byte(len(b)>>24), byte(len(b)>>16), byte(len(b)>>8), byte(len(b))
	return b
}

// rpcIdleHelper runs in the child process: it opens n connections to addr,
// makes one getUser(1) call on each, prints "ready", and holds the
// connections until its standard input closes. It returns the exit code.
func rpcIdleHelper(addr string) int {
	n, err := strconv.Atoi(os.Getenv(idleHelperNEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "idle helper:", err)
		return 2
	}
	conns := make([]net.Conn, 0, n)
	for i := range n {
		nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			fmt.Fprintf(os.Stderr, "idle helper: connection %d: %v\n", i, err)
			return 1
		}
		conns = append(conns, nc)
		rc := &rpcConn{nc}
		frame, err := rc.roundTrip(rpcGetUserFrame(1, int32(i+1)))
		if err != nil {
			fmt.Fprintf(os.Stderr, "idle helper: call on connection %d: %v\n", i, err)
			return 1
		}
		var rsp requestf.ResponsePacket
		if err := rsp.ReadFrom(codec.NewReader(frame[4:])); err != nil || rsp.IRet != 0 || rsp.IRequestId != int32(i+1) {
			fmt.Fprintf(os.Stderr, "idle helper: call on connection %d: iRet %d id %d, %v\n", i, rsp.IRet, rsp.IRequestId, err)
			return 1
		}
		nc.SetDeadline(time.Time{})
	}
	fmt.Println("ready", len(conns))
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
	return 0
}

// rpcIdle is the memory a server in this process holds per connection.
type rpcIdle struct {
	bytesPerConn      float64 // HeapInuse+StackInuse after GC, per connection
	heapPerConn       float64 // HeapInuse alone
	stackPerConn      float64 // StackInuse alone
	goroutinesPerConn float64
}

func rpcMemInUse() (heap, stack uint64, goroutines int) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse, m.StackInuse, runtime.NumGoroutine()
}

// rpcMeasureIdle has a child process open n connections to the server at
// addr (which runs in this process and knows user 1), each making one call,
// and measures what the process holds before and while they are open.
func rpcMeasureIdle(addr string, n int) (rpcIdle, error) {
	time.Sleep(50 * time.Millisecond) // let the previous calls' goroutines end
	h0, s0, g0 := rpcMemInUse()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), idleHelperEnv+"="+addr, idleHelperNEnv+"="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return rpcIdle{}, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return rpcIdle{}, err
	}
	if err := cmd.Start(); err != nil {
		return rpcIdle{}, err
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready "+strconv.Itoa(n) {
		return rpcIdle{}, fmt.Errorf("idle helper said %q, %v", line, err)
	}
	time.Sleep(50 * time.Millisecond) // the last call's handler goroutine ends
	h1, s1, g1 := rpcMemInUse()
	per := func(a, b uint64) float64 { return (float64(b) - float64(a)) / float64(n) }
	return rpcIdle{
		bytesPerConn:      per(h0+s0, h1+s1),
		heapPerConn:       per(h0, h1),
		stackPerConn:      per(s0, s1),
		goroutinesPerConn: float64(g1-g0) / float64(n),
	}, nil
}

// BenchmarkIdleConns measures the memory (Go heap and stacks in use, after
// GC) a server holds per idle TCP connection with 10,000 connections open,
// each having made one getUser call: gotars' server, and TarsGo's for
// comparison. The clients live in a child process. Each op is one whole
// measurement; run it with -benchtime 1x.
func BenchmarkIdleConns(b *testing.B) {
	const n = 10000
	ctx := context.Background()
	b.Run("impl=gotars", func(b *testing.B) {
		s := rpcStartGotars(b)
		if r, err := s.store.CreateUser(ctx, userapi.UserInfoArgs{UserInfo: userapi.UserInfo{UserName: "u", Email: "e"}}); err != nil || r.Result.UserID != 1 {
			b.Fatal(r, err)
		}
		rpcBenchIdle(b, s.addr, n)
	})
	b.Run("impl=tarsgo", func(b *testing.B) {
		s, store := rpcStartTarsGo(b)
		var out UserService.UserInfo
		if ret, err := store.CreateUser(ctx, &UserService.UserInfo{UserName: "u", Email: "e"}, &out); err != nil || ret != 0 || out.UserId != 1 {
			b.Fatal(ret, err)
		}
		rpcBenchIdle(b, s.Addr(), n)
	})
}

func rpcBenchIdle(b *testing.B, addr string, n int) {
	var sum rpcIdle
	for range b.N {
		r, err := rpcMeasureIdle(addr, n)
		if err != nil {
			b.Fatal(err)
		}
		sum.bytesPerConn += r.bytesPerConn
		sum.heapPerConn += r.heapPerConn
		sum.stackPerConn += r.stackPerConn
		sum.goroutinesPerConn += r.goroutinesPerConn
	}
	b.ReportMetric(sum.bytesPerConn/float64(b.N), "B/conn")
	b.ReportMetric(sum.heapPerConn/float64(b.N), "heap-B/conn")
	b.ReportMetric(sum.stackPerConn/float64(b.N), "stack-B/conn")
	b.ReportMetric(sum.goroutinesPerConn/float64(b.N), "goroutines/conn")
}

// TestRPCBenchHarness runs the benchmarks' machinery on a small scale, so
// that `go test` keeps it working: a few hundred calls per implementation
// and caller count, and 200 idle connections to each server.
func TestRPCBenchHarness(t *testing.T) {
	ctx := context.Background()
	for _, impl := range rpcBenchImpls(t) {
		for _, callers := range []int{1, 64, 256} {
			s, err := rpcMeasure(ctx, callers, 300, impl.call, nil)
			if err != nil {
				t.Fatalf("%s, %d callers: %v", impl.name, callers, err)
			}
			if s.p50 <= 0 || s.p99 < s.p50 {
				t.Errorf("%s, %d callers: p50 %v p99 %v", impl.name, callers, s.p50, s.p99)
			}
			t.Logf("%s, %3d callers: %6.0f calls/s, p50 %v, p99 %v (300 calls, not a benchmark)", impl.name, callers, s.callsPerSec(), s.p50, s.p99)
		}
	}
	gs := rpcStartGotars(t)
	if _, err := gs.store.CreateUser(ctx, userapi.UserInfoArgs{UserInfo: userapi.UserInfo{UserName: "u", Email: "e"}}); err != nil {
		t.Fatal(err)
	}
	r, err := rpcMeasureIdle(gs.addr, 200)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("gotars: %.0f B and %.2f goroutines per idle connection (200 connections, not a benchmark)", r.bytesPerConn, r.goroutinesPerConn)
}
