package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotars/tars"
)

// timeBuckets are TarsGo's timePoint (and TarsCpp's resetStatInterv).
var timeBuckets = [9]int32{5, 10, 50, 100, 200, 500, 1000, 2000, 3000}

// TimeBuckets returns the upper bounds, in milliseconds, of the nine time
// buckets of StatMicMsgBody.IntervalCount, TarsGo's and TarsCpp's: 5, 10,
// 50, 100, 200, 500, 1000, 2000 and 3000. A call of t ms goes to the first
// bucket with t < bound; a call of 3000 ms or more goes to none.
func TimeBuckets() [9]int32 { return timeBuckets }

// Bucket returns the index in TimeBuckets of the bucket a call of ms
// milliseconds is counted in, and false for calls of 3000 ms or more, which
// no bucket counts.
func Bucket(ms int64) (int, bool) {
	for i, b := range timeBuckets {
		if ms < int64(b) {
			return i, true
		}
	}
	return 0, false
}

// Master names of a server's own reports (TarsGo tarsprotocol.go).
const (
	MasterFromServer = "stat_from_server" // normal calls
	MasterOneway     = "one_way_client"   // one-way calls
)

// StatOptions configure a StatReporter. The zero value of every field but
// Identity takes the default.
type StatOptions struct {
	Identity
	// Interval is how often the statistics are sent (default
	// DefaultInterval): one reportMicMsg call for the calls made and one for
	// the calls served, each only when there is something to send.
	Interval time.Duration
	// Timeout bounds each report call (default DefaultReportTimeout), and
	// the final send when Run's context ends.
	Timeout time.Duration
	// MaxHeads bounds the distinct heads kept per interval on each side
	// (default DefaultMaxHeads). A call whose head is new once the bound is
	// reached is not recorded; ReporterStats.Dropped counts it. At about
	// 200 bytes a head, the default keeps a report near 2 MB; while it
	// collects, the reporter holds about 550 bytes a head, and 64 more for
	// each further lock stripe its calls came by (up to 7 more on a
	// multi-core machine): near 10 MB a side at the default, at worst.
	MaxHeads int
	// Now is the clock calls are timed with (default time.Now). It is read
	// when a call enters the middleware and when it leaves.
	Now func() time.Time
	// Logger receives failed reports (default none).
	Logger *slog.Logger
}

// ReporterStats count what a reporter did.
type ReporterStats struct {
	Reports  uint64 // report calls that succeeded
	Failures uint64 // report calls that failed; their data is dropped, as TarsGo drops it
	Dropped  uint64 // calls not recorded: their head was new and MaxHeads were kept
	Skipped  uint64 // client calls of a servant not named "App.Server.Obj" (TarsGo skips them too)
}

// aggSlot is the part of a head's statistics within an interval that the
// calls under one lock stripe add to: 64 bytes, a cache line.
type aggSlot struct {
	count, timeout, exec int32
	buckets              [len(timeBuckets)]int32
	total                int64
	max, min             int32 // max < 0: no call yet
}

// add adds a call of ms >= 0 milliseconds.
func (s *aggSlot) add(out outcome, ms int64) {
	switch out {
	case succeeded:
		s.count++
	case timedOut:
		s.timeout++
	default:
		s.exec++
	}
	s.total += ms
	t := clamp32(ms)
	if s.max < 0 {
		s.max, s.min = t, t
	} else {
		s.max, s.min = max(s.max, t), min(s.min, t)
	}
	if i, ok := Bucket(ms); ok {
		s.buckets[i]++
	}
}

// agg is one head's statistics within an interval: a slot per lock stripe
// of its statTable, made by the first call under its stripe (most heads
// of a big table get few calls), slot i written under stripe i only.
type agg []*aggSlot

func newAgg(stripes int) agg { return make(agg, stripes) }

// add adds a call of ms >= 0 milliseconds to slot i; stripe i is held.
func (a agg) add(i int, out outcome, ms int64) {
	s := a[i]
	if s == nil {
		s = &aggSlot{max: -1}
		a[i] = s
	}
	s.add(out, ms)
}

// body sums the slots up; every stripe is held. The sums, maxima and
// minima are those of the calls in any order: what adding every call to
// one row gives.
func (a agg) body() StatMicMsgBody {
	var sum aggSlot
	sum.max = -1
	for _, s := range a {
		if s == nil || s.max < 0 {
			continue
		}
		sum.count += s.count
		sum.timeout += s.timeout
		sum.exec += s.exec
		for j := range sum.buckets {
			sum.buckets[j] += s.buckets[j]
		}
		sum.total += s.total
		if sum.max < 0 {
			sum.max, sum.min = s.max, s.min
		} else {
			sum.max, sum.min = max(sum.max, s.max), min(sum.min, s.min)
		}
	}
	b := StatMicMsgBody{
		Count: sum.count, TimeoutCount: sum.timeout, ExecCount: sum.exec,
		IntervalCount: make(map[int32]int32, len(timeBuckets)),
		TotalRspTime:  sum.total, MaxRspTime: sum.max, MinRspTime: sum.min,
	}
	for i, k := range timeBuckets {
		b.IntervalCount[k] = sum.buckets[i]
	}
	return b
}

// statKey is what a call gives of its head, before the head is built: the
// parts that vary between the heads of a side (the rest is the reporter's
// Identity). Several keys may stand for one head (servants of one
// "App.Server", a peer's IP given as a host); a key stands for one head
// only. It hashes in a fraction of a StatMicMsgHead's time.
type statKey struct {
	servant string     // a client's servant ("" on a server)
	method  string     // the method
	host    string     // a client's peer that is not a TCP or UDP address
	ip      netip.Addr // a client's peer's IP
	port    int32      // a client's peer's port
	ret     int32      // the return value
	oneway  bool       // a server's one-way call
}

// stripeLock is a lock on a cache line of its own (a sync.Mutex is 8
// bytes).
type stripeLock struct {
	sync.Mutex
	_ [64 - 8]byte
}

// statTable is one side's statistics within an interval: the heads, and
// the keys calls find them by (nil for the key of a head not kept). A call
// adds to a known key under one lock stripe: the maps are only read under
// a stripe, and stripe i guards slot i of every agg. New keys and Flush
// take every stripe, in order: Flush waits for the calls adding to the
// interval, so that each call lands whole in one interval.
//
// A call picks its stripe from hints, a sync.Pool: mostly the one the
// goroutine's processor took last, so that a stripe's lock and slots stay
// in one core's cache.
type statTable struct {
	stripes []stripeLock
	keys    map[statKey]agg
	heads   map[StatMicMsgHead]agg

	hints   sync.Pool // *int: an index in stripes
	indices [lockStripes]int
	next    atomic.Uint32 // the index of the next hint made
}

// lockStripes is the number of lock stripes of a table, and of slots of a
// head, when more than one goroutine runs at a time.
const lockStripes = 8

// tableStripes is the number of stripes of a new table: one when one
// goroutine runs at a time.
func tableStripes() int {
	if runtime.GOMAXPROCS(0) > 1 {
		return lockStripes
	}
	return 1
}

// init makes t an empty table of n <= lockStripes stripes.
func (t *statTable) init(n int) {
	t.stripes = make([]stripeLock, n)
	t.keys, t.heads = map[statKey]agg{}, map[StatMicMsgHead]agg{}
	for i := range t.indices {
		t.indices[i] = i
	}
	t.hints.New = func() any { return &t.indices[int(t.next.Add(1)-1)%len(t.stripes)] }
}

// add adds a call to the head of k, if k is known, or counts it in dropped
// if k is known for a head not kept; false when k is new.
func (t *statTable) add(k statKey, out outcome, ms int64, dropped *atomic.Uint64) bool {
	i, hint := 0, (*int)(nil)
	if len(t.stripes) > 1 {
		hint = t.hints.Get().(*int)
		i = *hint
	}
	l := &t.stripes[i]
	l.Lock()
	a, ok := t.keys[k]
	if a != nil {
		a.add(i, out, ms)
	}
	l.Unlock()
	if hint != nil {
		t.hints.Put(hint)
	}
	if ok && a == nil {
		dropped.Add(1)
	}
	return ok
}

func (t *statTable) lock() {
	for i := range t.stripes {
		t.stripes[i].Lock()
	}
}

func (t *statTable) unlock() {
	for i := range t.stripes {
		t.stripes[i].Unlock()
	}
}

// outcome is how a call counts: in count, timeoutCount or execCount.
type outcome uint8

const (
	succeeded outcome = iota
	timedOut
	failed
)

// A StatReporter collects call statistics from client and server chains
// (its Middleware) and sends them to the stat server (StatF.reportMicMsg)
// while Run runs: TarsGo's StatFHelper, without globals and with bounded
// memory.
//
// What it records is what TarsGo v1.4.6 records:
//
//   - A call made (client chain), ReportStatFromClient: masterName the
//     Identity's module name, masterIp its LocalIP, slaveName the first two
//     parts of the servant ("App.Server"), slaveIp and slavePort the
//     endpoint called (empty when none was reached), interfaceName the
//     method, returnValue the iRet the server answered (0 when no answer
//     came). A success counts in count; a call that saw no answer within
//     its deadline, or whose caller cancelled it, in timeoutCount; any other
//     failure in execCount. As in TarsGo, a call the server answered with
//     iRet 0 but whose answer did not decode counts as a success, and so
//     does a one-way call that was sent.
//   - A call served (server chain), ReportStatFromServer: masterName
//     MasterFromServer (MasterOneway for one-way calls), masterIp "",
//     slaveName "App.Server", slaveIp the LocalIP, slavePort 0, returnValue
//     the iRet the server answers. iRet 0 counts in count, anything else in
//     execCount.
//
// Each call adds its time t in ms (from entering the middleware to leaving
// it) to totalRspTime, to maxRspTime and minRspTime (a plain minimum) and
// to the first bucket of TimeBuckets with t < bound; a head's first call
// sets all nine buckets. Calls of the same head within an interval add up.
//
// Where it differs from TarsGo: a served call's time starts when the call
// enters the middleware, not when its packet arrived; calls the server
// answers before its chain (tars_ping, queue timeouts, overload) are not
// reported, where TarsGo reports tars_ping and queue timeouts; a handler's
// plain error is reported with the -99 gotars answers (TarsGo answers 1);
// the heads of calls made carry no slave set, and slaveName no set suffix,
// because a Call does not say the set of the endpoint it reached; masterIp
// is the LocalIP given (TarsGo looks up the first non-loopback IPv4);
// tarsVersion is the Identity's (TarsGo sends its own version).
type StatReporter struct {
	client   *tars.Client
	id       identity
	interval time.Duration
	timeout  time.Duration
	maxHeads int
	now      func() time.Time
	log      reportLog

	sides   [2]statTable          // [0]: calls made, [1]: calls served
	ipNames map[netip.Addr]string // guarded by sides[0]'s stripes, all taken

	running                             atomic.Bool
	reports, failures, dropped, skipped atomic.Uint64
	slaveNames                          sync.Map // servant -> slaveName ("" when it has no two parts)
	slaveNameCount                      atomic.Int64
}

// NewStatReporter returns a reporter that sends to the stat server through
// c: a client of StatObj (which resolves "tars.tarsstat.StatObj" through
// the registry, or names its endpoints). It starts nothing: put its
// Middleware on clients and servers, and run Run.
//
// c may carry the reporter's own Middleware: its report calls are then
// reported in the next interval, as TarsGo reports its own.
func NewStatReporter(c *tars.Client, o StatOptions) (*StatReporter, error) {
	if c == nil {
		return nil, errors.New("monitor: NewStatReporter needs a client of the stat server")
	}
	id, err := o.Identity.resolve()
	if err != nil {
		return nil, err
	}
	if o.Interval < 0 || o.Timeout < 0 || o.MaxHeads < 0 {
		return nil, errors.New("monitor: negative Interval, Timeout or MaxHeads")
	}
	r := &StatReporter{
		client: c, id: id, interval: o.Interval, timeout: o.Timeout, maxHeads: o.MaxHeads,
		now: o.Now, log: reportLog{o.Logger},
	}
	if r.interval == 0 {
		r.interval = DefaultInterval
	}
	if r.timeout == 0 {
		r.timeout = DefaultReportTimeout
	}
	if r.maxHeads == 0 {
		r.maxHeads = DefaultMaxHeads
	}
	if r.now == nil {
		r.now = time.Now
	}
	for i := range r.sides {
		r.sides[i].init(tableStripes())
	}
	r.ipNames = map[netip.Addr]string{}
	return r, nil
}

// Middleware is the reporter's tars.Middleware, for client and server
// chains alike (tars.WithMiddleware(r.Middleware)). Put it outermost to
// time what callers see, inside a retry middleware to count every
// attempt. A server handler's panic is recorded as CodeServerUnknownErr
// on its way out (the panic goes on).
func (r *StatReporter) Middleware(next tars.Invoker) tars.Invoker {
	return func(ctx context.Context, call *tars.Call) (err error) {
		start := r.now()
		done := false
		defer func() {
			if !done {
				err = tars.NewError(tars.CodeServerUnknownErr, "panic")
			}
			ms := max(r.now().Sub(start).Milliseconds(), 0)
			if call.Server {
				r.recordServer(call, err, ms)
			} else {
				r.recordClient(call, err, ms)
			}
		}()
		err = next(ctx, call)
		done = true
		return err
	}
}

// Stats returns the reporter's counts so far.
func (r *StatReporter) Stats() ReporterStats {
	return ReporterStats{
		Reports: r.reports.Load(), Failures: r.failures.Load(),
		Dropped: r.dropped.Load(), Skipped: r.skipped.Load(),
	}
}

func (r *StatReporter) slaveName(servant string) string {
	if v, ok := r.slaveNames.Load(servant); ok {
		return v.(string)
	}
	name := ""
	if a, rest, ok := strings.Cut(servant, "."); ok {
		b, _, _ := strings.Cut(rest, ".")
		name = a + "." + b
	}
	if r.slaveNameCount.Load() < maxSlaveNames { // a bounded cache: a client calls few servants
		if _, loaded := r.slaveNames.LoadOrStore(servant, name); !loaded {
			r.slaveNameCount.Add(1)
		}
	}
	return name
}

// maxSlaveNames bounds the cache of slaveNames by servant.
const maxSlaveNames = 4096

// peerAddr splits a call's Peer into its IP, for TCP and UDP peers, or its
// host otherwise, and its port.
func peerAddr(a net.Addr) (netip.Addr, string, int32) {
	switch a := a.(type) {
	case nil:
		return netip.Addr{}, "", 0
	case *net.TCPAddr:
		ap := a.AddrPort()
		return ap.Addr().Unmap(), "", int32(ap.Port())
	case *net.UDPAddr:
		ap := a.AddrPort()
		return ap.Addr().Unmap(), "", int32(ap.Port())
	}
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return netip.Addr{}, a.String(), 0
	}
	p, _ := strconv.Atoi(port)
	return netip.Addr{}, host, int32(p)
}

// ipString returns ip as text, from a cache that saves the allocation per
// call; every stripe of r.sides[0] is held.
func (r *StatReporter) ipString(ip netip.Addr) string {
	if s, ok := r.ipNames[ip]; ok {
		return s
	}
	if len(r.ipNames) >= maxIPNames {
		clear(r.ipNames)
	}
	s := ip.String()
	r.ipNames[ip] = s
	return s
}

// maxIPNames bounds the cache of IP strings.
const maxIPNames = 4096

// localCodes are the codes a client makes itself, never a server's answer.
func localCode(c tars.Code) bool {
	switch c {
	case tars.CodeProxyConnectErr, tars.CodeAdapterNull, tars.CodeSendRequestErr, tars.CodeClientDecodeErr:
		return true
	}
	return false
}

func gaveUp(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// classifyClient sorts a call made as TarsGo's ServantProxy.TarsInvoke
// does: a local timeout (TARSINVOKETIMEOUT) counts as a timeout with the
// untouched response's iRet 0; an answer with a non-zero iRet is a failure
// with that iRet; any failure without an answer is a failure with iRet 0.
func classifyClient(call *tars.Call, err error) (outcome, int32) {
	if err == nil {
		return succeeded, 0
	}
	var e *tars.Error
	if !errors.As(err, &e) || e == nil {
		if gaveUp(err) {
			return timedOut, 0
		}
		return failed, 0
	}
	cause := e.Unwrap()
	switch {
	case e.Code == tars.CodeInvokeTimeout && cause != nil && gaveUp(cause):
		return timedOut, 0
	case e.Code == tars.CodeClientDecodeErr:
		return succeeded, 0 // the answer came with iRet 0; TarsGo decodes it after its report
	case cause == nil && call.Peer != nil && !localCode(e.Code):
		return failed, int32(e.Code) // the server's answer
	}
	return failed, 0
}

func (r *StatReporter) recordClient(call *tars.Call, err error, ms int64) {
	out, ret := classifyClient(call, err)
	ip, host, port := peerAddr(call.Peer)
	k := statKey{servant: call.Servant, method: call.Method, host: host, ip: ip, port: port, ret: ret}
	t := &r.sides[0]
	if t.add(k, out, ms, &r.dropped) {
		return
	}
	slave := r.slaveName(call.Servant)
	if slave == "" {
		r.skipped.Add(1)
		return
	}
	h := StatMicMsgHead{
		MasterName: r.id.clientMaster, SlaveName: slave, InterfaceName: call.Method,
		MasterIP: r.id.localIP, SlaveIP: host, SlavePort: port, ReturnValue: ret,
		TarsVersion: r.id.version,
	}
	t.lock()
	defer t.unlock()
	if ip.IsValid() {
		h.SlaveIP = r.ipString(ip)
	}
	r.addLocked(t, k, h, out, ms)
}

func (r *StatReporter) recordServer(call *tars.Call, err error, ms int64) {
	code := tars.CodeOf(err)
	out := succeeded
	if code != tars.CodeSuccess {
		out = failed
	}
	k := statKey{method: call.Method, ret: int32(code), oneway: call.Oneway}
	t := &r.sides[1]
	if t.add(k, out, ms, &r.dropped) {
		return
	}
	master := MasterFromServer
	if call.Oneway {
		master = MasterOneway
	}
	h := StatMicMsgHead{
		MasterName: master, SlaveName: r.id.serverSlave, InterfaceName: call.Method,
		SlaveIP: r.id.localIP, ReturnValue: int32(code),
		SlaveSetName: r.id.setName, SlaveSetArea: r.id.setArea, SlaveSetID: r.id.setID,
		TarsVersion: r.id.version,
	}
	t.lock()
	defer t.unlock()
	r.addLocked(t, k, h, out, ms)
}

func clamp32(v int64) int32 {
	return int32(min(max(v, -1<<31), 1<<31-1))
}

// addLocked adds a call of ms >= 0 milliseconds, whose key k was not
// known, to its head h, or drops it when h is new and MaxHeads are kept,
// and makes k known; every stripe of t is held.
func (r *StatReporter) addLocked(t *statTable, k statKey, h StatMicMsgHead, out outcome, ms int64) {
	a, known := t.keys[k] // known since the call looked (nil: its head is not kept)
	if !known {
		a = t.heads[h]
	}
	if a == nil && !known && len(t.heads) < r.maxHeads {
		a = newAgg(len(t.stripes))
		t.heads[h] = a
	}
	if !known && len(t.keys) < maxKeysPerHead*r.maxHeads {
		t.keys[k] = a // nil when h is not kept: its next calls are dropped under one stripe
	}
	if a == nil {
		r.dropped.Add(1)
		return
	}
	a.add(0, out, ms)
}

// maxKeysPerHead bounds the keys kept, per head kept: calls by the keys
// beyond take every stripe.
const maxKeysPerHead = 2

// Flush sends what was collected since the last send now: one
// reportMicMsg call for the calls made (bFromClient true) and one for the
// calls served (false), each bounded by the Timeout. What a failed call
// carried is dropped. It returns the calls' errors, joined.
func (r *StatReporter) Flush(ctx context.Context) error {
	var sides [len(r.sides)]map[StatMicMsgHead]agg
	for i := range r.sides {
		t := &r.sides[i]
		t.lock() // waits for the calls adding to the interval's heads
		sides[i] = t.heads
		t.heads = make(map[StatMicMsgHead]agg, len(sides[i]))
		t.keys = make(map[statKey]agg, len(t.keys))
		t.unlock()
	}
	var errs []error
	for i, m := range sides {
		if len(m) == 0 {
			continue
		}
		msg := make(map[StatMicMsgHead]StatMicMsgBody, len(m))
		for h, a := range m {
			msg[h] = a.body()
		}
		if err := r.send(ctx, msg, i == 0); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (r *StatReporter) send(ctx context.Context, msg map[StatMicMsgHead]StatMicMsgBody, fromClient bool) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	ret, err := ReportMicMsg.Call(ctx, r.client, ReportMicMsgArgs{Msg: msg, FromClient: fromClient})
	if err == nil && ret != 0 {
		err = fmt.Errorf("monitor: reportMicMsg returned %d", ret)
	}
	if err != nil {
		r.failures.Add(1)
		r.log.failed("reportMicMsg", len(msg), err)
		return err
	}
	r.reports.Add(1)
	return nil
}

// Run sends the statistics every Interval until ctx ends, then sends what
// is left once more, within the Timeout, and returns ctx's error. Failed
// sends are counted (Stats) and logged, not returned. Run may run once at a
// time: a second concurrent Run returns ErrRunning.
func (r *StatReporter) Run(ctx context.Context) error {
	return runLoop(ctx, &r.running, r.interval, r.timeout, r.Flush)
}

// runLoop calls flush every interval until ctx ends, then once more within
// timeout.
func runLoop(ctx context.Context, running *atomic.Bool, interval, timeout time.Duration, flush func(context.Context) error) error {
	if !running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer running.Store(false)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = flush(ctx)
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
			_ = flush(fctx)
			cancel()
			return ctx.Err()
		}
	}
}
