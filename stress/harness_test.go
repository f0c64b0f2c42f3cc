package stress

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gotars/tars"
	"github.com/gotars/tars/codec/reflectcodec"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/protocol"
)

func TestMain(m *testing.M) {
	if p := os.Getenv(childEnv); p != "" {
		os.Exit(runChild(p))
	}
	raiseNofile()
	goleak.VerifyTestMain(m)
}

const (
	kiB = 1 << 10
	miB = 1 << 20
	giB = 1 << 30
)

// raiseNofile lifts this process's RLIMIT_NOFILE soft limit to the hard
// limit (the Go runtime usually has already) and returns it.
func raiseNofile() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	return lim.Cur
}

// needFDs skips the test when neither this process nor the child can hold n
// more descriptors.
func needFDs(t *testing.T, n int) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	if lim.Max < uint64(n) {
		t.Skipf("RLIMIT_NOFILE hard limit %d is below the %d descriptors this attack needs per process; raise it (ulimit -Hn) to run it", lim.Max, n)
	}
}

// child is a server under attack, running in its own process.
type child struct {
	t        testing.TB
	profile  string
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	replies  chan Stats
	exited   chan struct{}
	reqMu    sync.Mutex
	tcp, udp string
	rssCap   int64

	logLines atomic.Int64
	logMu    sync.Mutex
	logFirst []string

	killMu     sync.Mutex
	killReason string
	maxRSS     atomic.Int64 // the largest VmRSS seen from outside
	stopped    atomic.Bool  // SIGSTOP'd
}

// childConfig tunes a child.
type childConfig struct {
	nofile int    // the child's RLIMIT_NOFILE when > 0
	rssCap int64  // the child is killed when its RSS passes it (default 2 GiB)
	addr   string // the child's TCP address (default 127.0.0.1:0)
}

// startChild runs a server with the given profile (see serverOptions) in a
// child process; it is stopped at the end of the test.
func startChild(t testing.TB, profile string, cfg childConfig) *child {
	t.Helper()
	if cfg.rssCap == 0 {
		cfg.rssCap = 2 * giB
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+profile)
	if cfg.nofile > 0 {
		cmd.Env = append(cmd.Env, nofileEnv+"="+strconv.Itoa(cfg.nofile))
	}
	if cfg.addr != "" {
		cmd.Env = append(cmd.Env, addrEnv+"="+cfg.addr)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	// The end of its stdin stops the child; a kill stops it too should this
	// process die while it is SIGSTOP'd.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	outW.Close()
	errW.Close()
	c := &child{t: t, profile: profile, cmd: cmd, stdin: stdin, replies: make(chan Stats, 1),
		exited: make(chan struct{}), rssCap: cfg.rssCap}
	go func() {
		cmd.Wait()
		close(c.exited)
	}()
	go func() { // the log: count lines, keep the first few
		defer errR.Close()
		sc := bufio.NewScanner(errR)
		sc.Buffer(make([]byte, 64*kiB), 1*miB)
		for sc.Scan() {
			c.logLines.Add(1)
			c.logMu.Lock()
			if len(c.logFirst) < 5 {
				c.logFirst = append(c.logFirst, sc.Text())
			}
			c.logMu.Unlock()
		}
	}()
	helloCh := make(chan hello, 1)
	go func() {
		defer outR.Close()
		sc := bufio.NewScanner(outR)
		first := true
		for sc.Scan() {
			if first {
				var h hello
				json.Unmarshal(sc.Bytes(), &h)
				helloCh <- h
				first = false
				continue
			}
			var s Stats
			if json.Unmarshal(sc.Bytes(), &s) == nil {
				select {
				case c.replies <- s:
				default:
				}
			}
		}
	}()
	t.Cleanup(c.stop)
	select {
	case h := <-helloCh:
		c.tcp, c.udp = h.TCP, h.UDP
	case <-c.exited:
		t.Fatalf("child %s exited at start-up: %s", profile, c.logs())
	case <-time.After(10 * time.Second):
		t.Fatalf("child %s did not start within 10s", profile)
	}
	return c
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// obj is the object string of the child's UserService.
func (c *child) obj(servant string) string {
	host, port, _ := net.SplitHostPort(c.tcp)
	return fmt.Sprintf("%s@tcp -h %s -p %s -t 3000", servant, host, port)
}

// stop ends the child: the end of its stdin stops it, a kill if it lingers.
func (c *child) stop() {
	if c.stopped.Load() {
		c.cmd.Process.Signal(syscall.SIGCONT)
	}
	c.stdin.Close()
	select {
	case <-c.exited:
	case <-time.After(3 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
	}
}

// kill ends the child at once, noting why.
func (c *child) kill(reason string) {
	c.killMu.Lock()
	if c.killReason == "" {
		c.killReason = reason
	}
	c.killMu.Unlock()
	c.cmd.Process.Kill()
}

// killed reports why the child was killed, "" if it was not.
func (c *child) killed() string {
	c.killMu.Lock()
	defer c.killMu.Unlock()
	return c.killReason
}

// logs returns the number of log lines so far and the first few.
func (c *child) logs() string {
	c.logMu.Lock()
	defer c.logMu.Unlock()
	return fmt.Sprintf("%d log lines, first: %q", c.logLines.Load(), c.logFirst)
}

// request sends a command of the line protocol and waits for its Stats.
func (c *child) request(cmd string, timeout time.Duration) (Stats, error) {
	c.reqMu.Lock()
	defer c.reqMu.Unlock()
	select { // a reply that came after its request gave up
	case <-c.replies:
	default:
	}
	if _, err := io.WriteString(c.stdin, cmd+"\n"); err != nil {
		return Stats{}, err
	}
	select {
	case s := <-c.replies:
		return s, nil
	case <-c.exited:
		return Stats{}, fmt.Errorf("child exited (%s)", c.killed())
	case <-time.After(timeout):
		return Stats{}, fmt.Errorf("no %s answer within %v", cmd, timeout)
	}
}

// stats returns the child's current Stats.
func (c *child) stats(t testing.TB) Stats {
	t.Helper()
	s, err := c.request("stats", 5*time.Second)
	if err != nil {
		t.Fatalf("child stats: %v", err)
	}
	return s
}

// gcStats collects the child's garbage, returns freed memory to the OS and
// returns its Stats: what is still held, not what was used once.
func (c *child) gcStats(t testing.TB) Stats {
	t.Helper()
	s, err := c.request("gc", 10*time.Second)
	if err != nil {
		t.Fatalf("child gc: %v", err)
	}
	return s
}

// peaks are the largest values seen while watching a child.
type peaks struct {
	Goroutines int
	Heap       int64
	RSS        int64 // the peak resident set: VmHWM, or the largest VmRSS seen
	Samples    int
	// Profile is the child's goroutine profile taken the first time its
	// goroutines passed the watch's limit ("" if they never did).
	Profile string
}

func (p peaks) String() string {
	return fmt.Sprintf("peak goroutines %d, peak RSS %s, peak heap %s (%d samples)",
		p.Goroutines, mib(p.RSS), mib(p.Heap), p.Samples)
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/miB) }

// watch samples the child every 50ms until the returned function is called,
// which returns the peaks. A child whose RSS passes its cap is killed. The
// first time its goroutines pass goroutineLimit (when > 0), their profile
// is taken, for the report of a failed bound.
func (c *child) watch(goroutineLimit int) (stop func() peaks) {
	var (
		mu   sync.Mutex
		p    peaks
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Add(2)
	go func() { // from outside: RSS, even when the child is too busy to answer
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			rss, hwm := procMem(c.pid())
			mu.Lock()
			p.RSS = max(p.RSS, rss, hwm)
			mu.Unlock()
			c.maxRSS.Store(max(c.maxRSS.Load(), rss))
			if rss > c.rssCap {
				c.kill(fmt.Sprintf("RSS %s passed the test's cap %s", mib(rss), mib(c.rssCap)))
			}
			select {
			case <-done:
				return
			case <-c.exited:
				return
			case <-tick.C:
			}
		}
	}()
	go func() { // from inside: goroutines, heap
		defer wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if s, err := c.request("stats", 2*time.Second); err == nil {
				mu.Lock()
				p.Goroutines = max(p.Goroutines, s.Goroutines)
				p.Heap = max(p.Heap, s.HeapBytes)
				p.RSS = max(p.RSS, s.HWM)
				p.Samples++
				profile := goroutineLimit > 0 && s.Goroutines > goroutineLimit && p.Profile == ""
				mu.Unlock()
				if profile {
					if g, err := c.request("goroutines", 5*time.Second); err == nil {
						mu.Lock()
						p.Profile = fmt.Sprintf("%d goroutines:\n%s", g.Goroutines, g.Profile)
						mu.Unlock()
					}
				}
			}
			select {
			case <-done:
				return
			case <-c.exited:
				return
			case <-tick.C:
			}
		}
	}()
	return func() peaks {
		close(done)
		wg.Wait()
		if s, err := c.request("stats", 2*time.Second); err == nil {
			p.Goroutines = max(p.Goroutines, s.Goroutines)
			p.RSS = max(p.RSS, s.HWM)
		}
		return p
	}
}

// alive fails the test if the child was killed for passing its memory cap.
func (c *child) alive(t testing.TB) {
	t.Helper()
	if r := c.killed(); r != "" {
		t.Errorf("server killed: %s", r)
	}
}

// ---- TARS frames for raw attack clients ----

func mustParams[T any]() *reflectcodec.Params {
	p, err := reflectcodec.StructParams(reflect.TypeFor[T]())
	if err != nil {
		panic(err)
	}
	return p
}

var queryParams = mustParams[userapi.QueryArgs]()

// body encodes a parameter list as a TARS (version 1) request body: the
// struct's fields at their tags, as reflectcodec.Marshal writes a struct.
func body(_ *reflectcodec.Params, v any) []byte {
	b, err := reflectcodec.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

var queryBody = body(queryParams, &userapi.QueryArgs{Query: userapi.UserQuery{PageSize: 50}})

// appendRequest appends one request frame for servant.fn with body b.
func appendRequest(dst []byte, id int32, servant, fn string, b []byte) []byte {
	return protocol.AppendRequest(dst, &protocol.RequestPacket{
		Version: protocol.VersionTARS, RequestID: id, ServantName: servant, FuncName: fn,
		Buffer: b, Timeout: 3000,
	})
}

// appendQueries appends n queryUsers frames with ids from id.
func appendQueries(dst []byte, id int32, n int) []byte {
	for i := range n {
		dst = appendRequest(dst, id+int32(i), userapi.Servant, "queryUsers", queryBody)
	}
	return dst
}

// roundTrip sends one queryUsers on a raw connection and reads its answer.
func roundTrip(nc net.Conn, id int32, timeout time.Duration) error {
	nc.SetDeadline(time.Now().Add(timeout))
	defer nc.SetDeadline(time.Time{})
	if _, err := nc.Write(appendQueries(nil, id, 1)); err != nil {
		return err
	}
	fr := protocol.NewFrameReader(nc, 0)
	f, err := fr.Next()
	if err != nil {
		return err
	}
	var rsp protocol.ResponsePacket
	if err := protocol.DecodeResponse(f, &rsp); err != nil {
		return err
	}
	if rsp.RequestID != id || rsp.Ret != 0 {
		return fmt.Errorf("answer id %d ret %d %q", rsp.RequestID, rsp.Ret, rsp.ResultDesc)
	}
	return nil
}

// frameHeader is a frame's length prefix claiming a frame of n bytes.
func frameHeader(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }

// ---- connections ----

// dial opens a raw TCP connection that closes with a reset (no TIME_WAIT
// left behind by mass attacks).
func dial(addr string) (*net.TCPConn, error) {
	return dialFrom(addr, nil)
}

// dialSources are the loopback source addresses mass attacks dial from
// (all to 127.0.0.1): connect slows to a crawl once one source address has
// most of its ephemeral ports in use.
var dialSources = func() []*net.TCPAddr {
	var a []*net.TCPAddr
	for i := range 16 {
		a = append(a, &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(1+i))})
	}
	return a
}()

// dialFrom is dial from a given local address (nil: any).
func dialFrom(addr string, local *net.TCPAddr) (*net.TCPConn, error) {
	d := net.Dialer{Timeout: 3 * time.Second}
	if local != nil {
		d.LocalAddr = local
	}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	tc := nc.(*net.TCPConn)
	tc.SetLinger(0)
	return tc, nil
}

// watchedConn is a raw connection whose closing by the peer is timed.
type watchedConn struct {
	*net.TCPConn
	opened   time.Time
	closedAt atomic.Int64 // unix nanos when the peer closed it; 0 while open
	done     chan struct{}
}

// watchClose starts a reader that records when the peer closes the
// connection (EOF or reset); whatever it sends is discarded.
func watchClose(tc *net.TCPConn, opened time.Time) *watchedConn {
	w := &watchedConn{TCPConn: tc, opened: opened, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		buf := make([]byte, 512)
		for {
			if _, err := tc.Read(buf); err != nil {
				if !errors.Is(err, net.ErrClosed) {
					w.closedAt.Store(time.Now().UnixNano())
				}
				return
			}
		}
	}()
	return w
}

// closedAfter is how long after opening the peer closed it, and whether it has.
func (w *watchedConn) closedAfter() (time.Duration, bool) {
	at := w.closedAt.Load()
	if at == 0 {
		return 0, false
	}
	return time.Unix(0, at).Sub(w.opened), true
}

// dialMany opens n connections with par dialers; first, when set, is
// written on each right after it connects. They are closed at the end of the
// test.
func dialMany(t testing.TB, addr string, n, par int, first []byte) []*watchedConn {
	t.Helper()
	conns := make([]*watchedConn, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var firstErr error
	for range par {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				tc, err := dialFrom(addr, dialSources[i%len(dialSources)])
				if err == nil && first != nil {
					_, err = tc.Write(first)
				}
				if err != nil {
					errMu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("connection %d: %w", i, err)
					}
					errMu.Unlock()
					if tc != nil {
						tc.Close()
					}
					next.Store(int64(n))
					return
				}
				conns[i] = watchClose(tc, time.Now())
			}
		})
	}
	wg.Wait()
	t.Cleanup(func() { closeAll(conns) })
	if firstErr != nil {
		closeAll(conns)
		t.Fatalf("dialling %d connections: %v", n, firstErr)
	}
	return conns
}

func closeAll(conns []*watchedConn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	for _, c := range conns {
		if c != nil {
			<-c.done
		}
	}
}

// waitClosed waits until every connection is closed by the peer or the
// deadline passes, and returns how many are still open.
func waitClosed(conns []*watchedConn, deadline time.Time) int {
	for {
		open := 0
		for _, c := range conns {
			if _, ok := c.closedAfter(); !ok {
				open++
			}
		}
		if open == 0 || time.Now().After(deadline) {
			return open
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ---- normal callers ----

// callStats is what a normal caller saw.
type callStats struct {
	ok    int
	codes map[tars.Code]int // failures by code
	lat   []time.Duration   // every call's duration
}

func (s *callStats) failed() int {
	n := 0
	for _, v := range s.codes {
		n += v
	}
	return n
}

func (s *callStats) merge(o *callStats) {
	s.ok += o.ok
	if s.codes == nil {
		s.codes = map[tars.Code]int{}
	}
	for k, v := range o.codes {
		s.codes[k] += v
	}
	s.lat = append(s.lat, o.lat...)
}

// quantile returns the q-quantile of the latencies.
func (s *callStats) quantile(q float64) time.Duration {
	if len(s.lat) == 0 {
		return 0
	}
	l := slices.Clone(s.lat)
	slices.Sort(l)
	return l[min(len(l)-1, int(q*float64(len(l))))]
}

func (s *callStats) String() string {
	return fmt.Sprintf("%d ok, %d failed %v, p50 %v, p99 %v, max %v", s.ok, s.failed(), s.codes,
		s.quantile(0.5), s.quantile(0.99), s.quantile(1))
}

// callLoop calls getUser(1) on c until ctx ends, each call with its own
// timeout, pausing between calls, and returns what it saw.
func callLoop(ctx context.Context, c *tars.Client, timeout, pause time.Duration) *callStats {
	s := &callStats{codes: map[tars.Code]int{}}
	for ctx.Err() == nil {
		cctx, cancel := context.WithTimeout(context.Background(), timeout)
		start := time.Now()
		u, err := userapi.GetUser.Call(cctx, c, userapi.UserIDArgs{UserID: 1})
		s.lat = append(s.lat, time.Since(start))
		cancel()
		switch {
		case err != nil:
			s.codes[tars.CodeOf(err)]++
		case u.UserID != 1:
			s.codes[tars.CodeClientDecodeErr]++
		default:
			s.ok++
		}
		if pause > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
		}
	}
	return s
}

// goCallLoop runs callLoop in a goroutine; wait returns its stats.
func goCallLoop(ctx context.Context, c *tars.Client, timeout, pause time.Duration) (wait func() *callStats) {
	ch := make(chan *callStats, 1)
	go func() { ch <- callLoop(ctx, c, timeout, pause) }()
	return func() *callStats { return <-ch }
}

// newClient returns a gotars client of the object, closed at the end of the test.
func newClient(t testing.TB, obj string, opts ...tars.ClientOption) *tars.Client {
	t.Helper()
	c, err := tars.NewClient(obj, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
