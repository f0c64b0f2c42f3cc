package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
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
	// 200 bytes a head, the default keeps a report near 2 MB.
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

// agg is one head's statistics within an interval.
type agg struct {
	count, timeout, exec int32
	buckets              [len(timeBuckets)]int32
	total                int64
	max, min             int32
}

func (a *agg) body() StatMicMsgBody {
	b := StatMicMsgBody{
		Count: a.count, TimeoutCount: a.timeout, ExecCount: a.exec,
		IntervalCount: make(map[int32]int32, len(timeBuckets)),
		TotalRspTime:  a.total, MaxRspTime: a.max, MinRspTime: a.min,
	}
	for i, k := range timeBuckets {
		b.IntervalCount[k] = a.buckets[i]
	}
	return b
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

	mu      sync.Mutex
	sides   [2]map[StatMicMsgHead]*agg // [0]: calls made, [1]: calls served
	ipNames map[netip.Addr]string

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
		r.sides[i] = map[StatMicMsgHead]*agg{}
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
			ms := r.now().Sub(start).Milliseconds()
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
// call; r.mu is held.
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
	slave := r.slaveName(call.Servant)
	if slave == "" {
		r.skipped.Add(1)
		return
	}
	out, ret := classifyClient(call, err)
	ip, host, port := peerAddr(call.Peer)
	h := StatMicMsgHead{
		MasterName: r.id.clientMaster, SlaveName: slave, InterfaceName: call.Method,
		MasterIP: r.id.localIP, SlaveIP: host, SlavePort: port, ReturnValue: ret,
		TarsVersion: r.id.version,
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ip.IsValid() {
		h.SlaveIP = r.ipString(ip)
	}
	r.addLocked(0, h, out, ms)
}

func (r *StatReporter) recordServer(call *tars.Call, err error, ms int64) {
	code := tars.CodeOf(err)
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
	out := succeeded
	if code != tars.CodeSuccess {
		out = failed
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addLocked(1, h, out, ms)
}

func clamp32(v int64) int32 {
	return int32(min(max(v, -1<<31), 1<<31-1))
}

// addLocked adds a call to its head's row; r.mu is held.
func (r *StatReporter) addLocked(side int, h StatMicMsgHead, out outcome, ms int64) {
	ms = max(ms, 0)
	t := clamp32(ms)
	m := r.sides[side]
	a, ok := m[h]
	if !ok {
		if len(m) >= r.maxHeads {
			r.dropped.Add(1)
			return
		}
		a = &agg{max: t, min: t}
		m[h] = a
	}
	switch out {
	case succeeded:
		a.count++
	case timedOut:
		a.timeout++
	default:
		a.exec++
	}
	a.total += ms
	a.max, a.min = max(a.max, t), min(a.min, t)
	if i, ok := Bucket(ms); ok {
		a.buckets[i]++
	}
}

// Flush sends what was collected since the last send now: one
// reportMicMsg call for the calls made (bFromClient true) and one for the
// calls served (false), each bounded by the Timeout. What a failed call
// carried is dropped. It returns the calls' errors, joined.
func (r *StatReporter) Flush(ctx context.Context) error {
	r.mu.Lock()
	sides := r.sides
	for i := range r.sides {
		r.sides[i] = make(map[StatMicMsgHead]*agg, len(sides[i]))
	}
	r.mu.Unlock()
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
