// Package stress attacks a gotars server the way a hostile or broken peer
// would, over loopback, and asserts the bounds of issue 7: goroutines and
// memory of the server, connections closed in time, other callers served
// meanwhile, client deadlines that hold.
//
// The server under attack runs in a child process (the test binary run
// again with GOTARS_STRESS_CHILD set), so that its goroutines, heap and
// resident memory are its own. The child serves the example UserService and
// a slow servant, and answers a line protocol on stdin/stdout: "stats",
// "gc" and "goroutines" return one JSON line of Stats; the end of stdin
// stops it. Its log
// (slog text at Warn) goes to its stderr.
//
// The tests are in the _test files; README.md lists the attacks, their bounds
// and the figures measured. Run them with scripts/stress.sh (without -race:
// memory bounds mean nothing under the race detector).
package stress

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/example/userservice/userserver"
)

// The settings the tests are written against. The server profiles below
// must configure the server with them; the tests assert bounds derived from
// them.
const (
	writeTimeout  = 2 * time.Second // profile "nonreader": a peer that reads nothing is closed after it
	idleTimeout   = 3 * time.Second // profile "timeouts": a connection idle this long is closed
	frameTimeout  = 2 * time.Second // profile "timeouts": a frame must be complete this long after its header
	maxConns      = 64              // profile "maxconns": the connection cap
	smallInvoke   = 100             // profiles "invoke100" and "nonreader": MaxInvoke
	smallQueue    = 100             // profiles "invoke100" and "nonreader": MaxQueue
	servantInvoke = 40              // profile "servants": handlers per servant
	servantQueue  = 40              // profile "servants": queue per servant
	seedUsers     = 100             // users the child's store starts with (ids 1..100)
)

// serverOptions returns the options of the server under attack for a
// profile. It is the one place to switch on new server options: each
// profile names the bounds its tests assert and the options they need.
func serverOptions(profile string) []tars.ServerOption {
	switch profile {
	case "defaults":
		// The defaults, whatever they are: TestPipelinedReaders/defaults
		// (goroutines ≤ DefaultMaxInvoke + conns + 64, RSS ≤ 300 MiB),
		// TestHostileDecode (RSS < 1 GiB: the decode budget, MaxElements and
		// the memory budget must hold by default), TestLogFlood (logs are
		// rate-limited by default), TestFDExhaustion (EMFILE refusal by
		// default), TestHungEndpoint's two servers.
		return nil
	case "invoke100":
		// TestPipelinedReaders/invoke100: goroutines ≤ 100 + conns + 64
		// with backpressure instead of dropping slow readers.
		return []tars.ServerOption{tars.WithMaxInvoke(smallInvoke), tars.WithMaxQueue(smallQueue)}
	case "nonreader":
		// TestNonReader: a connection that never reads is closed after the
		// write timeout; the other callers are served meanwhile. Needs a
		// per-connection in-flight limit:
		// tars.WithMaxConnRequests(smallInvoke / 4).
		return []tars.ServerOption{tars.WithMaxInvoke(smallInvoke), tars.WithMaxQueue(smallQueue),
			tars.WithWriteTimeout(writeTimeout), tars.WithMaxConnRequests(smallInvoke / 4)}
	case "servants":
		// TestServantAdmission: the slow servant's overload must not fail
		// the UserService (per-servant admission: WithServantLimits, or
		// MaxInvoke/MaxQueue applied per servant).
		return []tars.ServerOption{tars.WithMaxInvoke(servantInvoke), tars.WithMaxQueue(servantQueue)}
	case "timeouts":
		// TestSlowloris, TestIdleConns, TestStalledLargeFrames. Needs
		// tars.WithIdleTimeout(idleTimeout), tars.WithFrameTimeout(frameTimeout).
		return []tars.ServerOption{tars.WithIdleTimeout(idleTimeout), tars.WithFrameTimeout(frameTimeout)}
	case "maxconns":
		// TestConnCap. Needs tars.WithMaxConns(maxConns).
		return []tars.ServerOption{tars.WithMaxConns(maxConns)}
	}
	panic("stress: unknown server profile " + strconv.Quote(profile))
}

// clientOptions returns the options of the gotars clients the client-side
// tests use. "hung" (TestHungEndpoint, 64 callers over two endpoints) needs
// a per-endpoint in-flight cap below the callers, so that the hung endpoint
// cannot hold them all, and at least half of them, so that it does not cap
// the healthy rate: tars.WithMaxInflight(32). "deadlines"
// (TestClientDeadlines) needs only the defaults.
func clientOptions(profile string) []tars.ClientOption {
	switch profile {
	case "hung", "deadlines":
		return nil
	}
	panic("stress: unknown client profile " + strconv.Quote(profile))
}

// The slow servant: Stress.SlowObj's int sleep(int millis) sleeps that long
// (or until the call's deadline) and returns millis.
var (
	stressService = tars.NewService("Stress")
	sleepEndpoint = tars.NewEndpoint[sleepArgs, int32](stressService, "sleep")
)

const slowServant = "Stress.SlowObj"

type sleepArgs struct {
	Millis int32 `tars:"1,name=millis"`
}

func sleepHandler(ctx context.Context, a sleepArgs) (int32, error) {
	t := time.NewTimer(time.Duration(a.Millis) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return a.Millis, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Environment of the child process.
const (
	childEnv  = "GOTARS_STRESS_CHILD"  // the server profile; set only in the child
	nofileEnv = "GOTARS_STRESS_NOFILE" // the child's RLIMIT_NOFILE soft limit, when set
)

// hello is the child's first stdout line: where it serves.
type hello struct {
	TCP string `json:"tcp"`
	UDP string `json:"udp"`
}

// Stats is what the child reports of itself.
type Stats struct {
	Goroutines int   `json:"goroutines"`
	HeapBytes  int64 `json:"heap"` // live and unswept heap objects
	RSS        int64 `json:"rss"`  // VmRSS
	HWM        int64 `json:"hwm"`  // VmHWM: the peak RSS so far
	FDs        int   `json:"fds"`  // open file descriptors (counted by "gc" only: costly with many)
	// Profile is the goroutine profile (pprof debug=1: stacks with counts,
	// largest first), cut to profileMax bytes; only "goroutines" fills it.
	Profile string `json:"profile,omitempty"`
}

// runChild is the child process: it serves until stdin closes and returns
// the exit status.
func runChild(profile string) int {
	if s := os.Getenv(nofileEnv); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "stress child:", err)
			return 2
		}
		var lim syscall.Rlimit
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		lim.Cur = min(n, lim.Max)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			fmt.Fprintln(os.Stderr, "stress child: setrlimit:", err)
			return 2
		}
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := tars.NewServer(append(serverOptions(profile), tars.WithLogger(logger))...)
	store := userserver.NewStore()
	for i := 1; i <= seedUsers; i++ {
		name := fmt.Sprintf("user%02d", i)
		store.CreateUser(context.Background(), userapi.UserInfoArgs{UserInfo: userapi.UserInfo{
			UserName: name, Email: name + "@example.org", Age: int32(20 + i), Tags: []string{"seed"}}})
	}
	userserver.Register(srv, userapi.Servant, store)
	tars.Handle(srv, slowServant, sleepEndpoint, sleepHandler)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "stress child:", err)
		return 2
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "stress child:", err)
		return 2
	}
	go srv.Serve(ln)
	go srv.ServePacket(pc)

	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	enc.Encode(hello{TCP: ln.Addr().String(), UDP: pc.LocalAddr().String()})
	out.Flush()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var s Stats
		switch in.Text() {
		case "gc":
			runtime.GC()
			debug.FreeOSMemory()
			s = selfStats()
			s.FDs = fdCount(os.Getpid())
		case "stats":
			s = selfStats()
		case "goroutines":
			s = selfStats()
			var b strings.Builder
			pprof.Lookup("goroutine").WriteTo(&b, 1)
			s.Profile = b.String()
			if len(s.Profile) > profileMax {
				s.Profile = s.Profile[:profileMax]
			}
		default:
			continue
		}
		enc.Encode(s)
		out.Flush()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	return 0
}

// profileMax bounds the goroutine profile a child reports.
const profileMax = 6 << 10

var statSamples = []metrics.Sample{
	{Name: "/sched/goroutines:goroutines"},
	{Name: "/memory/classes/heap/objects:bytes"},
}

func selfStats() Stats {
	metrics.Read(statSamples)
	s := Stats{
		Goroutines: int(statSamples[0].Value.Uint64()),
		HeapBytes:  int64(statSamples[1].Value.Uint64()),
	}
	s.RSS, s.HWM = procMem(os.Getpid())
	return s
}

// fdCount returns the number of open descriptors of process pid, -1 if it
// cannot be read (a process out of descriptors cannot read its own).
func fdCount(pid int) int {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return -1
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return -1
	}
	return len(names)
}

// procMem reads VmRSS and VmHWM of process pid, in bytes.
func procMem(pid int) (rss, hwm int64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	for line := range strings.Lines(string(b)) {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != "VmRSS" && k != "VmHWM" {
			continue
		}
		f := strings.Fields(v) // "123456 kB"
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		if k == "VmRSS" {
			rss = n << 10
		} else {
			hwm = n << 10
		}
	}
	return rss, hwm
}
