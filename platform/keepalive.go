package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/gotars/tars"
)

// Defaults of KeepAliveOptions.
const (
	// DefaultKeepAliveInterval is TarsGo's mainloopticker: tarsnode's
	// zombie timeout (hearttimeout) is longer.
	DefaultKeepAliveInterval = 10 * time.Second
	// DefaultKeepAliveTimeout bounds one keepAlive or reportVersion call
	// (never beyond the interval).
	DefaultKeepAliveTimeout = 3 * time.Second
	// keepAliveLogEvery is how often a failing node is logged again.
	keepAliveLogEvery = time.Minute
)

// KeepAliveOptions configures a KeepAlive.
type KeepAliveOptions struct {
	// App and Server name the server to tarsnode (ServerInfo application
	// and serverName): server<app> and server<server>.
	App, Server string
	// Adapters are the names of the server's adapters (the domains under
	// /tars/application/server, "App.Server.ObjAdapter"). AdminAdapter is
	// always added: tarsnode tracks it.
	Adapters []string
	// Interval is the time between rounds; DefaultKeepAliveInterval when 0.
	Interval time.Duration
	// Timeout bounds each call; DefaultKeepAliveTimeout when 0, and never
	// more than Interval.
	Timeout time.Duration
	// Version is what reportVersion reports; FrameworkVersion() when
	// empty.
	Version string
	// NodeName goes in the request context as "node_name", as TARS
	// servers send it on every framework call.
	NodeName string
	// Alive, when set, is asked before each adapter's keepAlive: an
	// adapter it calls dead is not reported, so that tarsnode restarts a
	// server whose adapter is stuck (TarsGo skips a "zombie" adapter: all
	// handlers busy and none started for zombietimeout).
	Alive func(adapter string) bool
	// Logger receives failed calls, rate-limited (the first, then one a
	// minute with the count of the others, and the recovery); nil logs
	// nothing.
	Logger *slog.Logger
}

// KeepAlive tells tarsnode (ServerF at tars.tarsnode.ServerObj, the
// server<node> key) that the server lives, as TarsGo's main loop does:
// Run reports the version once and sends keepAlive with adapter "" at
// start, then every Interval one keepAlive per adapter, AdminAdapter
// included; ServerInfo carries the process id. Failures are logged and
// retried at the next round: they never stop Run. Build it with
// NewKeepAlive, which starts nothing.
//
// TarsCpp differs in timing only: it sends keepActiving every 5 s while
// its initialize() runs, then each adapter's keepAlive in one burst with
// AdminAdapter's, every 10 s.
type KeepAlive struct {
	node     *tars.Client
	opts     KeepAliveOptions
	adapters []string
	pid      int32

	mu       sync.Mutex
	failing  bool
	lastLog  time.Time
	suppress int
}

// NewKeepAlive returns a KeepAlive calling tarsnode through node, a client
// of the object server<node> names (NodeObj with its endpoint). It fails
// for a nil client, a negative interval or timeout, or an empty adapter
// name.
func NewKeepAlive(node *tars.Client, opts KeepAliveOptions) (*KeepAlive, error) {
	if node == nil {
		return nil, errors.New("platform: NewKeepAlive: nil node client")
	}
	if opts.Interval < 0 || opts.Timeout < 0 {
		return nil, fmt.Errorf("platform: NewKeepAlive: negative interval (%v) or timeout (%v)", opts.Interval, opts.Timeout)
	}
	if opts.Interval == 0 {
		opts.Interval = DefaultKeepAliveInterval
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultKeepAliveTimeout
	}
	opts.Timeout = min(opts.Timeout, opts.Interval)
	if opts.Version == "" {
		opts.Version = FrameworkVersion()
	}
	adapters := []string{AdminAdapter}
	for _, a := range opts.Adapters {
		if a == "" {
			return nil, errors.New("platform: NewKeepAlive: empty adapter name")
		}
		adapters = append(adapters, a)
	}
	slices.Sort(adapters)
	return &KeepAlive{node: node, opts: opts, adapters: slices.Compact(adapters), pid: int32(os.Getpid())}, nil
}

// Adapters returns the adapter names each round reports, AdminAdapter
// included, sorted.
func (k *KeepAlive) Adapters() []string { return slices.Clone(k.adapters) }

// Run reports the version and sends the first keepAlive (adapter ""),
// then a round every Interval, until ctx ends; it returns ctx's error.
// Stop it (cancel ctx) when the server begins to shut down, as TarsGo
// stops its keepAlives then.
func (k *KeepAlive) Run(ctx context.Context) error {
	k.note(ctx, k.ReportVersion(ctx))
	k.note(ctx, k.Send(ctx, ""))
	tick := time.NewTicker(k.opts.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		k.note(ctx, k.Round(ctx))
	}
}

// Round sends one keepAlive per adapter that is alive, in order, within
// one Interval all told (so that a hung node does not pile rounds up), and
// returns the failures joined.
func (k *KeepAlive) Round(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, k.opts.Interval)
	defer cancel()
	var errs []error
	for _, a := range k.adapters {
		if ctx.Err() != nil {
			break
		}
		if k.opts.Alive != nil && !k.opts.Alive(a) {
			continue
		}
		if err := k.Send(ctx, a); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// NodeError is the error of a call tarsnode answered with a non-zero
// code: -1 when it does not know the server (App.Server is not deployed
// on this node).
type NodeError struct {
	Method  string // keepAlive or reportVersion
	Adapter string
	Ret     int32
}

// Error names the call and the code.
func (e *NodeError) Error() string {
	if e.Method == NodeKeepAlive.Name() {
		return fmt.Sprintf("platform: tarsnode answered keepAlive(adapter %q) with %d", e.Adapter, e.Ret)
	}
	return fmt.Sprintf("platform: tarsnode answered %s with %d", e.Method, e.Ret)
}

// Send sends one keepAlive for adapter ("" refreshes every adapter).
func (k *KeepAlive) Send(ctx context.Context, adapter string) error {
	ctx, cancel := k.callCtx(ctx)
	defer cancel()
	ret, err := NodeKeepAlive.Call(ctx, k.node, ServerInfoArgs{ServerInfo: ServerInfo{
		Application: k.opts.App, ServerName: k.opts.Server, Pid: k.pid, Adapter: adapter}})
	if err != nil {
		return fmt.Errorf("platform: keepAlive(adapter %q): %w", adapter, err)
	}
	if ret != 0 {
		return &NodeError{Method: NodeKeepAlive.Name(), Adapter: adapter, Ret: ret}
	}
	return nil
}

// ReportVersion sends reportVersion(app, server, Version).
func (k *KeepAlive) ReportVersion(ctx context.Context) error {
	ctx, cancel := k.callCtx(ctx)
	defer cancel()
	ret, err := NodeReportVersion.Call(ctx, k.node, ReportVersionArgs{App: k.opts.App, ServerName: k.opts.Server, Version: k.opts.Version})
	if err != nil {
		return fmt.Errorf("platform: reportVersion: %w", err)
	}
	if ret != 0 {
		return &NodeError{Method: NodeReportVersion.Name(), Ret: ret}
	}
	return nil
}

func (k *KeepAlive) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if k.opts.NodeName != "" {
		ctx = tars.WithOutgoingContext(ctx, map[string]string{"node_name": k.opts.NodeName})
	}
	return context.WithTimeout(ctx, k.opts.Timeout)
}

// note logs err, rate-limited, or the recovery after failures; nothing
// once ctx has ended (the calls failed for that).
func (k *KeepAlive) note(ctx context.Context, err error) {
	if k.opts.Logger == nil || ctx.Err() != nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	now := time.Now()
	if err == nil {
		if k.failing {
			k.opts.Logger.Info("platform: tarsnode keepAlive recovered", "suppressed", k.suppress)
		}
		k.failing, k.suppress = false, 0
		return
	}
	if k.failing && now.Sub(k.lastLog) < keepAliveLogEvery {
		k.suppress++
		return
	}
	k.opts.Logger.Warn("platform: tarsnode keepAlive failed", "app", k.opts.App, "server", k.opts.Server, "err", err, "suppressed", k.suppress)
	k.failing, k.lastLog, k.suppress = true, now, 0
}
