package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gotars/tars"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/config/koanf"
	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/monitor"
	"github.com/gotars/tars/platform"
	"github.com/gotars/tars/transport"
)

// ErrRunning is returned by Run when the App is running or has run: an App
// runs once.
var ErrRunning = errors.New("app: Run called twice")

// ErrStopped is returned by Client once Run has returned.
var ErrStopped = errors.New("app: stopped")

// Option configures an App.
type Option func(*options)

type adminCommand struct {
	name, help string
	fn         platform.AdminCommand
}

type options struct {
	logWriter     io.Writer
	logger        *slog.Logger
	loggerLevel   *slog.LevelVar
	logHandler    func(level slog.Leveler) slog.Handler
	serverMW      []tars.Middleware
	clientMW      []tars.Middleware
	serverOpts    []tars.ServerOption
	clientOpts    func(obj string, cfg *config.Config) ([]tars.ClientOption, error)
	resolver      discovery.Resolver
	commands      []adminCommand
	version       string
	configFiles   []string
	onConfigFile  func(name, path string)
	loader        *koanf.Loader
	onReload      func(config.Change)
	remoteLogs    []string
	tasks         []task
	frameworkOpts []tars.ClientOption
	clientEpMW    []tars.Middleware
	lifecycle     []lifecycle
}

// WithLogWriter sets where the App's text log goes (default LogWriter:
// log.path's file, else os.Stderr), at the level of log.level, which
// tars.setloglevel and a reload change.
func WithLogWriter(w io.Writer) Option { return func(o *options) { o.logWriter = w } }

// WithLogger sets the App's logger and the level it logs at, which New sets
// to log.level and tars.setloglevel and reloads change: the program's
// handler must read it (slog.HandlerOptions.Level). A program that needs
// the logger before New (for its middleware) builds both, with NewLogger
// or by hand. It overrides WithLogWriter and WithLogHandler.
func WithLogger(l *slog.Logger, level *slog.LevelVar) Option {
	return func(o *options) { o.logger, o.loggerLevel = l, level }
}

// NewLogger returns a text logger writing to w at a level of its own, set
// to cfg's log.level (info if it is bad: New reports that): what New makes
// without WithLogger, for a program that needs it sooner. LogWriter(cfg)
// is the w New uses.
func NewLogger(cfg config.Config, w io.Writer) (*slog.Logger, *slog.LevelVar) {
	level := new(slog.LevelVar)
	if l, err := config.ParseLevel(cfg.Log.Level); err == nil {
		level.Set(l)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), level
}

// LogWriter returns where cfg sends the log: with log.path set, the TARS
// server's log file (LogFileFor: log.path/app/server/app.server.log,
// rolled at log.size, log.num kept), else os.Stderr.
func LogWriter(cfg config.Config) io.Writer {
	if cfg.Log.Path == "" {
		return os.Stderr
	}
	return LogFileFor(cfg.Log.Path, cfg.Server.App, cfg.Server.Server, cfg.Log.Size, cfg.Log.Num)
}

// WithLogHandler sets the App's log handler: fn is given the level the App
// keeps (log.level, tars.setloglevel, reloads) and returns the handler,
// which must honour it (slog.HandlerOptions.Level). It overrides
// WithLogWriter.
func WithLogHandler(fn func(level slog.Leveler) slog.Handler) Option {
	return func(o *options) { o.logHandler = fn }
}

// WithServerMiddleware adds middleware to the server's chain, inside the
// stat reporter's (which times what callers see).
func WithServerMiddleware(mw ...tars.Middleware) Option {
	return func(o *options) { o.serverMW = append(o.serverMW, mw...) }
}

// WithClientMiddleware adds middleware to the chain of every client Client
// builds, inside the stat reporter's and the per-method timeouts.
func WithClientMiddleware(mw ...tars.Middleware) Option {
	return func(o *options) { o.clientMW = append(o.clientMW, mw...) }
}

// WithServerOptions adds options to the server's, after those of the
// configuration (so they win).
func WithServerOptions(opts ...tars.ServerOption) Option {
	return func(o *options) { o.serverOpts = append(o.serverOpts, opts...) }
}

// WithClientOptions sets a function asked for more options each time
// Client builds the client of obj (at first use and on a reload), with the
// configuration it is built from: where a program puts a circuit breaker or
// retries built from cfg.Client.Policy(obj, method). Its options come after
// the App's.
func WithClientOptions(fn func(obj string, cfg *config.Config) ([]tars.ClientOption, error)) Option {
	return func(o *options) { o.clientOpts = fn }
}

// WithClientEndpointMiddleware adds endpoint middleware
// (tars.WithEndpointMiddleware) to every client the App builds, after the
// configuration's endpoint breaker: what runs once per attempt, with the
// endpoint picked (tarsotel.EndpointMiddleware records attempts on spans).
func WithClientEndpointMiddleware(mw ...tars.Middleware) Option {
	return func(o *options) { o.clientEpMW = append(o.clientEpMW, mw...) }
}

// WithLifecycle adds functions Run calls at its edges: start (when not
// nil) as Run begins, before the servants listen, with the App — an error
// ends Run before anything is served; stop (when not nil) once the
// servers have shut down, before the reporters send their last reports and
// the clients close, with a context bounded by 5 s — its error joins Run's.
// For integrations that must see the built App and flush at the end
// (middleware/tarsotel/otelapp). Several run in the order given. When Run
// fails before it serves, the stops of the starts that succeeded run.
func WithLifecycle(start func(ctx context.Context, a *App) error, stop func(ctx context.Context) error) Option {
	return func(o *options) { o.lifecycle = append(o.lifecycle, lifecycle{start, stop}) }
}

type lifecycle struct {
	start func(ctx context.Context, a *App) error
	stop  func(ctx context.Context) error
}

// WithFrameworkClientOptions adds options to the clients of the framework
// objects (node, config, stat, property): TLS or a dialer, say.
func WithFrameworkClientOptions(opts ...tars.ClientOption) Option {
	return func(o *options) { o.frameworkOpts = append(o.frameworkOpts, opts...) }
}

// WithResolver sets the resolver of every client whose object has no
// static endpoints, instead of the TARS registry of client.locator: the
// Consul resolver (module discovery/consul), say. It is required when
// client.consul is set.
func WithResolver(r discovery.Resolver) Option { return func(o *options) { o.resolver = r } }

// WithAdminCommand adds a notify command to AdminObj (platform.Admin's
// Register): name is its first word, help what tars.help shows. New fails
// for a name Register refuses.
func WithAdminCommand(name, help string, fn platform.AdminCommand) Option {
	return func(o *options) { o.commands = append(o.commands, adminCommand{name, help, fn}) }
}

// WithVersion sets the version reported to tarsnode (reportVersion) and
// answered to tars.viewversion; platform.FrameworkVersion() by default.
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

// WithConfigFiles names the files Run pulls from tarsconfig
// (server.config_obj) into server.base_path before the servants listen,
// as a TarsGo program's tars.GetRConf().GetConfig(name) does. When one
// cannot be pulled but an older copy is in base_path, Run logs it and goes
// on with the copy (as TarsCpp does); with no copy Run fails.
func WithConfigFiles(names ...string) Option {
	return func(o *options) { o.configFiles = append(o.configFiles, names...) }
}

// WithConfigLoaded sets a function called after each remote config file is
// written to base_path (at start and on tars.loadconfig), with its name and
// path: where the program rereads it.
func WithConfigLoaded(fn func(name, path string)) Option {
	return func(o *options) { o.onConfigFile = fn }
}

// WithWatch makes Run watch the configuration file of l (the Loader the
// configuration came from) and apply changes: see the package doc. Without
// a file the watch is skipped.
func WithWatch(l *koanf.Loader) Option { return func(o *options) { o.loader = l } }

// WithRemoteLog makes the App send lines to tarslog (server.log_obj) as
// the remote file file (TarsGo's tars.GetRemoteLogger(file)): RemoteLog
// returns the io.Writer, whose lines Run sends in batches. The App's own
// failures to send go to stderr, never to the remote log. Without
// server.log_obj, RemoteLog returns a writer that discards, so a program
// runs the same off the platform.
func WithRemoteLog(file string) Option {
	return func(o *options) { o.remoteLogs = append(o.remoteLogs, file) }
}

// WithTask adds background work to Run: fn starts once every endpoint
// listens (Addr answers), with a context that ends when Run begins to stop
// (before the graceful shutdown, as the keepAlives stop); Run waits for it
// before returning. A task that returns an error other than its context's
// stops the App, and Run returns the error. Announcing the servants to a
// registrar (Consul's, with tars.Server.Announce) and running it is one:
//
//	app.WithTask("consul", func(ctx context.Context) error { … return reg.Run(ctx) })
func WithTask(name string, fn func(ctx context.Context) error) Option {
	return func(o *options) { o.tasks = append(o.tasks, task{name, fn}) }
}

type task struct {
	name string
	fn   func(ctx context.Context) error
}

// WithReload sets a function called for every change the watch reports
// (after the App applied what it could), errors included.
func WithReload(fn func(config.Change)) Option { return func(o *options) { o.onReload = fn } }

// App is one application built from its configuration. Build it with New,
// register handlers on Server, then Run it. Its methods are safe for
// concurrent use.
type App struct {
	opts    options
	log     *slog.Logger
	level   *slog.LevelVar
	srv     *tars.Server
	stats   *monitor.StatReporter
	props   *monitor.PropertyReporter
	keep    *platform.KeepAlive
	rconf   *platform.RemoteConfig
	admin   *platform.Admin
	adminS  *tars.Server
	res     discovery.Resolver
	rlogs   map[string]*platform.RemoteLog
	logFile *LogFile // the App's own, from log.path

	listens   []listenSpec
	adminSpec *listenSpec

	framework []*tars.Client // node, config, stat, property

	mu       sync.RWMutex // guards cfg, clients, stopped, addrs
	cfg      config.Config
	clients  map[string]*tars.Client
	stopped  bool
	addrs    map[string]net.Addr
	retiring sync.WaitGroup
	closing  chan struct{} // closed when Run ends, after the graceful shutdown: retired clients close then at the latest

	ran   atomic.Bool
	stop  chan struct{}
	once  sync.Once
	ready chan struct{}
}

// listenSpec is one endpoint to listen on.
type listenSpec struct {
	servant string
	addr    transport.Address
	tls     *tls.Config
}

// UsageError is an error in the configuration or the command line, found
// before anything started: ExitCode maps it to 2.
type UsageError struct{ Err error }

// Error returns the cause's text.
func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *UsageError) Unwrap() error { return e.Err }

// Usage wraps err (unless nil) as a *UsageError.
func Usage(err error) error {
	if err == nil {
		return nil
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		return err
	}
	return &UsageError{Err: err}
}

// New checks cfg and builds the App's server, reporters and platform
// pieces from it; it starts nothing. Its errors are *UsageError values
// naming the key at fault.
func New(cfg config.Config, opts ...Option) (*App, error) {
	a := &App{cfg: cfg.Clone(), clients: map[string]*tars.Client{}, addrs: map[string]net.Addr{},
		stop: make(chan struct{}), ready: make(chan struct{}), closing: make(chan struct{}), level: new(slog.LevelVar)}
	for _, o := range opts {
		o(&a.opts)
	}
	if a.opts.logger != nil && a.opts.loggerLevel != nil {
		a.level = a.opts.loggerLevel
	}
	if err := a.build(); err != nil {
		for _, c := range a.framework {
			c.Close()
		}
		return nil, Usage(err)
	}
	return a, nil
}

func (a *App) build() error {
	c := &a.cfg
	if err := c.Validate(); err != nil {
		return err
	}
	lvl, err := config.ParseLevel(c.Log.Level)
	if err != nil {
		return &config.KeyError{Key: "log.level", Err: err}
	}
	a.level.Set(lvl)
	switch {
	case a.opts.logger != nil:
		a.log = a.opts.logger
	case a.opts.logHandler != nil:
		a.log = slog.New(a.opts.logHandler(a.level))
	default:
		w := a.opts.logWriter
		if w == nil {
			w = LogWriter(*c)
			if f, ok := w.(*LogFile); ok {
				a.logFile = f // closed when Run returns
			}
		}
		a.log = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: a.level}))
	}

	// The resolver of clients without endpoints.
	switch {
	case a.opts.resolver != nil:
		a.res = a.opts.resolver
	case c.Client.Consul != "":
		return &config.KeyError{Key: "client.consul", Err: errors.New("set: give app.WithResolver a Consul resolver (module github.com/gotars/tars/discovery/consul)")}
	case c.Client.Locator != "":
		r, err := RegistryResolver(c, a.log, a.opts.frameworkOpts...)
		if err != nil {
			return err
		}
		a.res = r
	}

	// Reporters.
	id := monitor.Identity{App: c.Server.App, Server: c.Server.Server, ModuleName: c.Client.ModuleName,
		LocalIP: c.Server.LocalIP, SetDivision: c.Client.SetDivision}
	if (id.App == "") != (id.Server == "") {
		id.App, id.Server = "", "" // monitor wants both or neither
	}
	if obj := c.Observability.StatObj; obj != "" {
		sc, err := a.frameworkClient("observability.stat_obj", obj)
		if err != nil {
			return err
		}
		a.stats, err = monitor.NewStatReporter(sc, monitor.StatOptions{Identity: id, Interval: c.Observability.StatInterval, Logger: a.log})
		if err != nil {
			return &config.KeyError{Key: "observability.stat_obj", Err: err}
		}
	}
	if obj := c.Observability.PropertyObj; obj != "" {
		pc, err := a.frameworkClient("observability.property_obj", obj)
		if err != nil {
			return err
		}
		a.props, err = monitor.NewPropertyReporter(pc, monitor.PropertyOptions{Identity: id, Interval: c.Observability.PropertyInterval, Logger: a.log})
		if err != nil {
			return &config.KeyError{Key: "observability.property_obj", Err: err}
		}
	}

	// Stuck adapters get no keepAlive (TarsGo's zombie check).
	var zs *zombies
	if c.Server.Node != "" && c.Server.Tars.ZombieTimeout > 0 {
		zs = newZombies(c.Server.Tars.ZombieTimeout)
		for n, sv := range c.Servants {
			adapter := sv.Adapter
			if adapter == "" {
				adapter = n + "Adapter"
			}
			zs.add(n, adapter)
		}
	}

	// The server and its endpoints.
	sopts, err := ServerOptions(c)
	if err != nil {
		return &UsageError{Err: err}
	}
	sopts = append(sopts, tars.WithLogger(a.log))
	var mws []tars.Middleware
	if a.stats != nil {
		mws = append(mws, a.stats.Middleware)
	}
	if zs != nil {
		mws = append(mws, zs.middleware)
	}
	mws = append(mws, a.opts.serverMW...)
	if len(mws) > 0 {
		sopts = append(sopts, tars.WithMiddleware(mws...))
	}
	sopts = append(sopts, a.opts.serverOpts...)
	if a.srv, err = newServer(sopts); err != nil {
		return err
	}
	if zs != nil {
		zs.srv = a.srv // the limits the server holds, the program's options included
	}
	names := make([]string, 0, len(c.Servants))
	for n := range c.Servants {
		names = append(names, n)
	}
	sort.Strings(names)
	var adapters []string
	for _, n := range names {
		sv := c.Servants[n]
		key := "servants." + n
		if sv.Protocol == "not_tars" {
			return &config.KeyError{Key: key + ".protocol", Err: errors.New("not_tars: gotars serves the TARS protocol only")}
		}
		addr, err := transport.ParseAddress(sv.Endpoint)
		if err != nil {
			return &config.KeyError{Key: key + ".endpoint", Err: err}
		}
		ls := listenSpec{servant: n, addr: addr}
		if addr.Network == "ssl" {
			t := sv.TLS
			if t.Cert == "" || t.Key == "" {
				t = c.Server.TLS
			}
			if ls.tls, err = t.ServerConfig(); err != nil {
				return &config.KeyError{Key: key + ".tls", Err: err}
			}
		}
		a.listens = append(a.listens, ls)
		adapter := sv.Adapter
		if adapter == "" {
			adapter = n + "Adapter"
		}
		adapters = append(adapters, adapter)
	}

	// Under the platform.
	if obj := c.Server.ConfigObj; obj != "" {
		cc, err := a.frameworkClient("server.config_obj", obj)
		if err != nil {
			return err
		}
		a.rconf, err = platform.NewRemoteConfig(cc, platform.RemoteConfigOptions{
			App: c.Server.App, Server: c.Server.Server, SetDivision: c.Client.SetDivision,
			BasePath: c.Server.BasePath, Files: a.opts.configFiles, NodeName: c.Server.NodeName,
			OnLoad: a.opts.onConfigFile,
		})
		if err != nil {
			return &config.KeyError{Key: "server.config_obj", Err: err}
		}
	} else if len(a.opts.configFiles) > 0 {
		return &config.KeyError{Key: "server.config_obj", Err: fmt.Errorf("missing: needed to pull %q", a.opts.configFiles)}
	}
	if len(a.opts.configFiles) > 0 && c.Server.BasePath == "" {
		return &config.KeyError{Key: "server.base_path", Err: fmt.Errorf("missing: needed to pull %q", a.opts.configFiles)}
	}
	if c.Server.Local != "" {
		addr, err := transport.ParseAddress(c.Server.Local)
		if err != nil {
			return &config.KeyError{Key: "server.local", Err: err}
		}
		if addr.Network != "tcp" {
			return &config.KeyError{Key: "server.local", Err: fmt.Errorf("%s: AdminObj is served over tcp", addr.Network)}
		}
		a.adminSpec = &listenSpec{servant: platform.AdminObj, addr: addr}
		if a.adminS, err = newServer([]tars.ServerOption{tars.WithLogger(a.log)}); err != nil {
			return err
		}
		name := "server" // the one server of every servant, in tars.viewstatus and tars.connection
		if c.Server.App != "" && c.Server.Server != "" {
			name = c.Server.App + "." + c.Server.Server
		}
		a.admin = platform.NewAdmin(platform.AdminOptions{
			App: c.Server.App, Server: c.Server.Server, Version: a.opts.version, LogLevel: a.level,
			Servers: map[string]*tars.Server{name: a.srv, platform.AdminAdapter: a.adminS},
			Config:  a.rconf, Logger: a.log,
		})
		for _, cmd := range a.opts.commands {
			if err := a.admin.Register(cmd.name, cmd.help, cmd.fn); err != nil {
				return err
			}
		}
		a.admin.Handle(a.adminS)
	} else if len(a.opts.commands) > 0 {
		a.log.Debug("app: admin commands given but server.local is empty: no AdminObj")
	}
	if len(a.opts.remoteLogs) > 0 && c.Server.LogObj != "" {
		lc, err := a.frameworkClient("server.log_obj", c.Server.LogObj)
		if err != nil {
			return err
		}
		a.rlogs = map[string]*platform.RemoteLog{}
		quiet := slog.New(slog.NewTextHandler(os.Stderr, nil))
		for _, f := range a.opts.remoteLogs {
			rl, err := platform.NewRemoteLog(lc, platform.RemoteLogOptions{App: c.Server.App, Server: c.Server.Server,
				File: f, SetDivision: c.Client.SetDivision, NodeName: c.Server.NodeName, Logger: quiet})
			if err != nil {
				return &config.KeyError{Key: "server.log_obj", Err: err}
			}
			a.rlogs[f] = rl
		}
	}
	if node := c.Server.Node; node != "" {
		if c.Server.Tars.MainLoopTicker < 0 {
			return &config.KeyError{Key: "server.tars.main_loop_ticker", Err: fmt.Errorf("%v: must not be negative (0: 10s)", c.Server.Tars.MainLoopTicker)}
		}
		nc, err := a.frameworkClient("server.node", node)
		if err != nil {
			return err
		}
		ko := platform.KeepAliveOptions{
			App: c.Server.App, Server: c.Server.Server, Adapters: adapters,
			Interval: c.Server.Tars.MainLoopTicker, Version: a.opts.version, NodeName: c.Server.NodeName,
			Logger: a.log,
		}
		if zs != nil {
			ko.Alive = zs.alive
		}
		a.keep, err = platform.NewKeepAlive(nc, ko)
		if err != nil {
			return &config.KeyError{Key: "server.node", Err: err}
		}
	}
	return nil
}

// newServer is tars.NewServer, its panic on a bad option made an error.
func newServer(opts []tars.ServerOption) (srv *tars.Server, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("app: %v", r)
		}
	}()
	return tars.NewServer(opts...), nil
}

// frameworkClient builds the client of a framework object (tarsnode,
// tarsconfig, tarsstat, tarsproperty): with its endpoints, or through the
// resolver.
func (a *App) frameworkClient(key, obj string) (*tars.Client, error) {
	servant, _, _ := strings.Cut(obj, "@")
	opts, err := a.cfg.ClientOptions(servant)
	if err != nil {
		return nil, err
	}
	opts = append(opts, tars.WithLogger(a.log))
	if !strings.Contains(obj, "@") {
		if a.res == nil {
			return nil, &config.KeyError{Key: key, Err: fmt.Errorf("%q lists no endpoints and there is no client.locator (or resolver) to find them", obj)}
		}
		opts = append(opts, tars.WithResolver(a.res))
	}
	opts = append(opts, a.opts.frameworkOpts...)
	c, err := tars.NewClient(obj, opts...)
	if err != nil {
		return nil, &config.KeyError{Key: key, Err: err}
	}
	a.framework = append(a.framework, c)
	return c, nil
}

// Server returns the App's server: register the program's handlers on it
// (tars.Handle) before Run.
func (a *App) Server() *tars.Server { return a.srv }

// Logger returns the App's logger, whose level is log.level (changed by
// tars.setloglevel and reloads).
func (a *App) Logger() *slog.Logger { return a.log }

// LogLevel returns the level the App's logger logs at.
func (a *App) LogLevel() *slog.LevelVar { return a.level }

// Config returns the configuration last applied: New's, or the last one a
// reload brought (whose keys needing a restart are not in force).
func (a *App) Config() config.Config {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.cfg.Clone()
}

// Stats returns the stat reporter, nil without observability.stat_obj.
// Its Middleware is on the server and on every client the App builds.
func (a *App) Stats() *monitor.StatReporter { return a.stats }

// Properties returns the property reporter, nil without
// observability.property_obj: the program creates its properties there
// (Property) and reports samples; Run sends them.
func (a *App) Properties() *monitor.PropertyReporter { return a.props }

// Admin returns the AdminObj servant, nil without server.local.
func (a *App) Admin() *platform.Admin { return a.admin }

// RemoteConfig returns the tarsconfig client, nil without
// server.config_obj: the program pulls more files with it.
func (a *App) RemoteConfig() *platform.RemoteConfig { return a.rconf }

// RemoteLog returns the writer of the remote log file named with
// WithRemoteLog: each Write is one line sent to tarslog while Run runs
// (put it under a slog handler). Without server.log_obj, or for a file
// not named, it discards.
func (a *App) RemoteLog(file string) io.Writer {
	if rl, ok := a.rlogs[file]; ok {
		return rl
	}
	return io.Discard
}

// Ready is closed once Run listens on every endpoint and has started its
// work (remote config pulled, keepAlive begun). It is never closed when Run
// fails before that: wait for Run's return too.
func (a *App) Ready() <-chan struct{} { return a.ready }

// Addr returns the address servant listens on (platform.AdminObj for the
// admin endpoint), nil before Ready or for a servant not configured.
func (a *App) Addr(servant string) net.Addr {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.addrs[servant]
}

// Stop asks Run to stop, as AdminF shutdown does; it returns at once.
func (a *App) Stop() { a.once.Do(func() { close(a.stop) }) }
