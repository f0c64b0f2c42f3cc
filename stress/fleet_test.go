package stress

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/discovery/tarsregistry"
	"github.com/gotars/tars/example/userservice/userapi"
)

// The harness of issue 8's fault tests (discovery_test.go, consul_test.go):
// a fleet of backend children serving the UserService, one gotars client
// resolving them through a registry, 64 callers, and an endpoint middleware
// that counts, per backend, the calls in flight, begun and answered.

const (
	fleetCallers     = 64                     // callers sharing the one client
	fleetCallTimeout = time.Second            // each call's deadline
	refreshInterval  = 200 * time.Millisecond // the TARS registry resolver's refresh
	spreadWindow     = 100 * time.Millisecond // the resolution of the spread and recovery figures
	minShare         = 0.4                    // a live backend's least share of the calls, per window, when the calls are spread over two
	// stallAfter is the client's stall rule (resolve.go): an endpoint with
	// calls waiting that has answered nothing for this long is passed over.
	stallAfter = 500 * time.Millisecond
	trackSpan  = 60 * time.Second // the longest a tracker counts
)

// fleet is n backends and the tracker of the calls a client makes to them.
type fleet struct {
	backends []*child
	load     *loadTracker
}

// startFleet starts n backend children ("defaults": the UserService).
func startFleet(t *testing.T, n int) *fleet {
	t.Helper()
	f := &fleet{}
	for range n {
		f.backends = append(f.backends, startChild(t, "defaults", childConfig{}))
	}
	f.load = newLoadTracker(f.backends)
	return f
}

// addrs returns the backends' TCP addresses.
func (f *fleet) addrs(bs ...*child) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.tcp)
	}
	return out
}

// warm calls through c until every backend listed in want has answered (so
// that connections exist), for at most 5 s.
func (f *fleet) warm(t *testing.T, c *tars.Client, want ...*epLoad) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		all := true
		for _, e := range want {
			if e.answeredIn(0, f.load.now()+time.Millisecond) == 0 {
				all = false
			}
		}
		if all {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: 1})
		cancel()
	}
	t.Fatalf("warm-up: not every backend answered within 5 s: %s", f.load.counts(0, f.load.now()))
}

// loadTracker counts a client's calls per backend: its endpoint middleware
// (WithEndpointMiddleware) sees every attempt with the endpoint picked.
type loadTracker struct {
	t0     time.Time
	eps    []*epLoad
	byPort map[int]*epLoad
	// phase is a mark the test moves on at its events (a kill, a
	// deregistration); each call records the phase it began in.
	phase atomic.Int32

	// watch, when set, is a backend whose calls begun from phase 1 on have
	// their start times kept in starts.
	watch *epLoad

	mu     sync.Mutex
	fails  []attemptFail
	starts []time.Duration
}

// epLoad is one backend's count.
type epLoad struct {
	name     string // "A", "B", …
	port     int
	inflight atomic.Int32
	byPhase  [8]atomic.Int32 // calls begun in each phase
	started  []atomic.Int32  // calls begun, per millisecond since t0
	answered []atomic.Int32  // calls answered without error, per millisecond of their end
}

// attemptFail is one attempt that failed on a backend.
type attemptFail struct {
	ep         *epLoad
	phase      int32
	start, end time.Duration
	code       tars.Code
	err        string
}

func newLoadTracker(bs []*child) *loadTracker {
	lt := &loadTracker{t0: time.Now(), byPort: map[int]*epLoad{}}
	for i, b := range bs {
		e := &epLoad{name: string(rune('A' + i)), port: portOf(b.tcp),
			started: make([]atomic.Int32, trackSpan/time.Millisecond), answered: make([]atomic.Int32, trackSpan/time.Millisecond)}
		lt.eps = append(lt.eps, e)
		lt.byPort[e.port] = e
	}
	return lt
}

func portOf(hostport string) int {
	var port int
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 {
		fmt.Sscan(hostport[i+1:], &port)
	}
	return port
}

// now is the time since the tracker began.
func (lt *loadTracker) now() time.Duration { return time.Since(lt.t0) }

func bucket(d time.Duration) int {
	return min(max(int(d/time.Millisecond), 0), int(trackSpan/time.Millisecond)-1)
}

// middleware is the endpoint middleware that counts.
func (lt *loadTracker) middleware(next tars.Invoker) tars.Invoker {
	return func(ctx context.Context, call *tars.Call) error {
		e := lt.byPort[call.Endpoint.Port]
		if e == nil {
			return next(ctx, call)
		}
		e.inflight.Add(1) // before the phase is read: a call racing a phase change counts in both
		phase := lt.phase.Load()
		start := lt.now()
		e.byPhase[phase].Add(1)
		e.started[bucket(start)].Add(1)
		if e == lt.watch && phase >= 1 {
			lt.mu.Lock()
			if len(lt.starts) < 100000 {
				lt.starts = append(lt.starts, start)
			}
			lt.mu.Unlock()
		}
		err := next(ctx, call)
		end := lt.now()
		e.inflight.Add(-1)
		if err == nil {
			e.answered[bucket(end)].Add(1)
			return nil
		}
		lt.mu.Lock()
		if len(lt.fails) < 100000 {
			lt.fails = append(lt.fails, attemptFail{ep: e, phase: phase, start: start, end: end, code: tars.CodeOf(err), err: err.Error()})
		}
		lt.mu.Unlock()
		return err
	}
}

func sum(b []atomic.Int32, from, to time.Duration) int {
	n := 0
	for i := bucket(from); i < bucket(to); i++ {
		n += int(b[i].Load())
	}
	return n
}

// startedIn counts the calls begun on e in [from, to).
func (e *epLoad) startedIn(from, to time.Duration) int { return sum(e.started, from, to) }

// answeredIn counts the calls e answered in [from, to).
func (e *epLoad) answeredIn(from, to time.Duration) int { return sum(e.answered, from, to) }

// lastStart returns when the latest call on e in [from, to) began, and
// whether there was one.
func (e *epLoad) lastStart(from, to time.Duration) (time.Duration, bool) {
	for i := bucket(to) - 1; i >= bucket(from); i-- {
		if e.started[i].Load() > 0 {
			return time.Duration(i+1) * time.Millisecond, true
		}
	}
	return 0, false
}

// firstStart returns when the first call on e in [from, to) began.
func (e *epLoad) firstStart(from, to time.Duration) (time.Duration, bool) {
	for i := bucket(from); i < bucket(to); i++ {
		if e.started[i].Load() > 0 {
			return time.Duration(i) * time.Millisecond, true
		}
	}
	return 0, false
}

// answeredIn counts every backend's answers in [from, to).
func (lt *loadTracker) answeredIn(from, to time.Duration) int {
	n := 0
	for _, e := range lt.eps {
		n += e.answeredIn(from, to)
	}
	return n
}

// counts shows the calls each backend answered in [from, to).
func (lt *loadTracker) counts(from, to time.Duration) string {
	var b strings.Builder
	for i, e := range lt.eps {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", e.name, e.answeredIn(from, to))
	}
	return b.String()
}

// watchedStarts returns when the watched backend's calls begun from phase 1
// on began.
func (lt *loadTracker) watchedStarts() []time.Duration {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	return slices.Clone(lt.starts)
}

// failures returns the attempts that failed.
func (lt *loadTracker) failures() []attemptFail {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	return slices.Clone(lt.fails)
}

// spread checks that in every window of [from, to) each of live answered
// at least minShare of the calls live answered, and that they answered
// some. It returns the least share seen and the first bad window's start
// (ok false) if any.
func (lt *loadTracker) spread(live []*epLoad, from, to time.Duration) (least float64, bad time.Duration, ok bool) {
	least = 1
	ok = true
	for w := from; w+spreadWindow <= to; w += spreadWindow {
		total := 0
		counts := make([]int, len(live))
		for i, e := range live {
			counts[i] = e.answeredIn(w, w+spreadWindow)
			total += counts[i]
		}
		if total == 0 {
			least = 0
			if ok {
				bad, ok = w, false
			}
			continue
		}
		for _, n := range counts {
			s := float64(n) / float64(total)
			least = min(least, s)
			if s < minShare && ok {
				bad, ok = w, false
			}
		}
	}
	return least, bad, ok
}

// least returns the smallest share of the calls answered by live in
// [from, to) that one of them answered (0 when they answered none).
func (lt *loadTracker) least(live []*epLoad, from, to time.Duration) float64 {
	total := 0
	for _, e := range live {
		total += e.answeredIn(from, to)
	}
	if total == 0 {
		return 0
	}
	least := 1.0
	for _, e := range live {
		least = min(least, float64(e.answeredIn(from, to))/float64(total))
	}
	return least
}

// timeline shows the calls answered per backend and the callers' failures
// in the windows of [from, to), each labelled by its start relative to at.
func (lt *loadTracker) timeline(fails []callFail, at, from, to, window time.Duration) string {
	var b strings.Builder
	for w := from; w+window <= to; w += window {
		nf := 0
		for _, f := range fails {
			if f.at >= w && f.at < w+window {
				nf++
			}
		}
		fmt.Fprintf(&b, "\n  %+5dms  %s, failed %d", (w-at)/time.Millisecond, lt.counts(w, w+window), nf)
	}
	return b.String()
}

// callFail is a call that failed, as its caller saw it.
type callFail struct {
	start time.Duration // when it began, since the tracker began
	at    time.Duration // when it returned
	phase int32         // the tracker's phase when it began
	code  tars.Code
	err   string
}

// callerRun is n callers looping over getUser(1) through one client.
type callerRun struct {
	lt    *loadTracker
	stop  chan struct{}
	wg    sync.WaitGroup
	ok    atomic.Int64
	mu    sync.Mutex
	fails []callFail
	lost  int // failures beyond the ones kept
}

// callers starts n callers on c, each call with its own deadline, until
// finish.
func (lt *loadTracker) callers(c *tars.Client, n int, timeout time.Duration) *callerRun {
	return lt.callersPausing(c, n, timeout, 0)
}

// callersPausing is callers whose callers pause after each failure (calls
// that fail at once, for want of endpoints, would spin).
func (lt *loadTracker) callersPausing(c *tars.Client, n int, timeout, pause time.Duration) *callerRun {
	r := &callerRun{lt: lt, stop: make(chan struct{})}
	for range n {
		r.wg.Go(func() {
			for {
				select {
				case <-r.stop:
					return
				default:
				}
				phase, start := lt.phase.Load(), lt.now()
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				u, err := userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: 1})
				cancel()
				if err == nil && u.UserID != 1 {
					err = fmt.Errorf("getUser(1) answered user %d", u.UserID)
				}
				if err == nil {
					r.ok.Add(1)
					continue
				}
				r.mu.Lock()
				if len(r.fails) < 100000 {
					r.fails = append(r.fails, callFail{start: start, at: lt.now(), phase: phase, code: tars.CodeOf(err), err: err.Error()})
				} else {
					r.lost++
				}
				r.mu.Unlock()
				if pause > 0 {
					select {
					case <-r.stop:
					case <-time.After(pause):
					}
				}
			}
		})
	}
	return r
}

// finish stops the callers and returns their failures.
func (r *callerRun) finish() []callFail {
	close(r.stop)
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.fails)
}

// failsIn returns the failures returned in [from, to).
func failsIn(fails []callFail, from, to time.Duration) []callFail {
	var out []callFail
	for _, f := range fails {
		if f.at >= from && f.at < to {
			out = append(out, f)
		}
	}
	return out
}

// byCode counts failures per code, with one message of each.
func byCode(fails []callFail) string {
	if len(fails) == 0 {
		return "none"
	}
	n := map[tars.Code]int{}
	msg := map[tars.Code]string{}
	for _, f := range fails {
		n[f.code]++
		if msg[f.code] == "" {
			msg[f.code] = f.err
		}
	}
	var parts []string
	for code, k := range n {
		parts = append(parts, fmt.Sprintf("%d × %d (%q)", k, code, msg[code]))
	}
	slices.Sort(parts)
	return strings.Join(parts, "; ")
}

// connsTo counts the established TCP connections whose remote port is port
// (the client's connections to a backend on loopback), from /proc/net/tcp
// and tcp6.
func connsTo(port int) int {
	n := 0
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(b)) {
			f := strings.Fields(line)
			if len(f) < 4 || f[3] != "01" { // 01: ESTABLISHED
				continue
			}
			_, rport, ok := strings.Cut(f[2], ":")
			if !ok {
				continue
			}
			if p, err := strconv.ParseUint(rport, 16, 16); err == nil && int(p) == port {
				n++
			}
		}
	}
	return n
}

// registryLocator is the locator of a registry child.
func registryLocator(reg *child) string { return reg.obj(tarsregistry.QueryObj) }

// setRegistry makes the registry child list addrs as the servant's active
// endpoints.
func setRegistry(t *testing.T, reg *child, servant string, addrs ...string) {
	t.Helper()
	if _, err := reg.request("set "+servant+" "+strings.Join(addrs, ","), 5*time.Second); err != nil {
		t.Fatalf("registry: set %s %v: %v (%s)", servant, addrs, err, reg.logs())
	}
}

// registryClient returns a client of the UserService resolved through the
// registry child's locator, refreshing every refreshInterval, counted by lt.
func registryClient(t *testing.T, locator string, lt *loadTracker, opts ...tarsregistry.Option) *tars.Client {
	t.Helper()
	r, err := tarsregistry.New(locator, append([]tarsregistry.Option{tarsregistry.WithRefreshInterval(refreshInterval)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return newClient(t, userapi.Servant, tars.WithResolver(r), tars.WithEndpointMiddleware(lt.middleware))
}
