package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/platform"
)

// configPullTimeout bounds pulling the remote config files at start.
const configPullTimeout = 30 * time.Second

// Run runs the App until ctx ends, AdminF shutdown is called or Stop is:
// it pulls the remote config files, listens on every servant's endpoint
// and the admin endpoint, serves, reports, keeps tarsnode told and watches
// the configuration; then it stops gracefully (see the package doc) and
// returns once every goroutine it started has ended.
//
// It returns nil after a clean stop; an error when it could not start
// (a listener, a remote config file), when a listener failed while
// serving, or when the graceful shutdown outlived server.grace_timeout
// (the calls still running were cut). An App runs once: a second Run
// returns ErrRunning.
func (a *App) Run(ctx context.Context) error {
	if a.ran.Swap(true) {
		return ErrRunning
	}
	defer a.closeClients()
	if ctx.Err() != nil {
		return nil // stopped before it started
	}
	cfg := a.Config()
	a.log.Debug("app: starting", "app", cfg.Server.App, "server", cfg.Server.Server, "log.level", cfg.Log.Level,
		"server.grace_timeout", cfg.Server.GraceTimeout, "client.timeout", cfg.Client.Timeout)

	if err := a.pullConfig(ctx, &cfg); err != nil {
		return err
	}
	started := 0 // the lifecycle starts that ran
	for _, lc := range a.opts.lifecycle {
		if lc.start != nil {
			if err := lc.start(ctx, a); err != nil {
				return errors.Join(fmt.Errorf("app: start: %w", err), a.runStops(ctx, started))
			}
		}
		started++
	}
	a.checkServants(cfg)
	lns, err := a.listen(cfg)
	if err != nil {
		return errors.Join(err, a.runStops(ctx, started))
	}

	var wg sync.WaitGroup
	serveErr := make(chan error, len(lns)+len(a.opts.tasks))
	for _, l := range lns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.serve(); err != nil && !errors.Is(err, tars.ErrServerClosed) {
				serveErr <- fmt.Errorf("app: serving %s on %s: %w", l.servant, l.addr, err)
			}
		}()
	}

	// Reporters run until after the server stopped, to report its last calls.
	repCtx, repCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer repCancel()
	if a.stats != nil {
		wg.Add(1)
		go func() { defer wg.Done(); a.stats.Run(repCtx) }()
	}
	if a.props != nil {
		wg.Add(1)
		go func() { defer wg.Done(); a.props.Run(repCtx) }()
	}
	for _, rl := range a.rlogs {
		wg.Add(1)
		go func() { defer wg.Done(); rl.Run(repCtx) }()
	}
	// keepAlive and the watch stop first.
	keepCtx, keepCancel := context.WithCancel(ctx)
	defer keepCancel()
	var keepWG sync.WaitGroup
	if a.keep != nil {
		keepWG.Add(1)
		go func() { defer keepWG.Done(); a.keep.Run(keepCtx) }()
	}
	if l := a.opts.loader; l != nil {
		if l.Path() == "" {
			a.log.Debug("app: no configuration file to watch")
		} else {
			keepWG.Add(1)
			go func() {
				defer keepWG.Done()
				if err := l.Watch(keepCtx, cfg, func(ch config.Change) { a.apply(ch) }); err != nil {
					a.log.Error("app: watch", "err", err)
				}
			}()
		}
	}
	for _, tk := range a.opts.tasks {
		keepWG.Add(1)
		go func() {
			defer keepWG.Done()
			if err := tk.fn(keepCtx); err != nil && keepCtx.Err() == nil {
				serveErr <- fmt.Errorf("app: task %s: %w", tk.name, err)
			}
		}()
	}
	close(a.ready)
	a.log.Info("app: running", "app", cfg.Server.App, "server", cfg.Server.Server, "servants", len(a.listens),
		"admin", a.adminSpec != nil, "node", cfg.Server.Node != "")

	var admin <-chan struct{}
	if a.admin != nil {
		admin = a.admin.Done()
	}
	var runErr error
	select {
	case <-ctx.Done():
		a.log.Info("app: stopping", "cause", context.Cause(ctx))
	case <-admin:
		a.log.Info("app: stopping: AdminF shutdown")
	case <-a.stop:
		a.log.Info("app: stopping: Stop")
	case runErr = <-serveErr:
		a.log.Error("app: stopping", "err", runErr)
	}

	// Stop: keepAlive first (tarsnode must not see a shutting-down server
	// as alive), then the servers within the grace, then the reporters.
	keepCancel()
	keepWG.Wait()
	grace, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Server.GraceTimeout)
	err = a.srv.Shutdown(grace)
	cancel()
	if err != nil && !errors.Is(err, tars.ErrServerClosed) {
		err = fmt.Errorf("app: graceful shutdown did not finish within server.grace_timeout (%v): %w", cfg.Server.GraceTimeout, err)
		a.log.Error("app: stopping", "err", err)
		runErr = errors.Join(runErr, err)
	}
	if a.adminS != nil {
		// The shutdown call's answer is queued: a short grace lets it out.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		a.adminS.Shutdown(actx)
		cancel()
	}
	runErr = errors.Join(runErr, a.runStops(ctx, len(a.opts.lifecycle)))
	repCancel()
	wg.Wait()
	a.log.Info("app: stopped")
	return runErr // closeClients closes the log file after this
}

// runStops runs the stops of the first n lifecycle pairs (those whose start
// ran), within 5 s, joining their errors.
func (a *App) runStops(ctx context.Context, n int) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var errs error
	for _, lc := range a.opts.lifecycle[:n] {
		if lc.stop == nil {
			continue
		}
		if err := lc.stop(sctx); err != nil {
			a.log.Error("app: stopping", "err", err)
			errs = errors.Join(errs, fmt.Errorf("app: stop: %w", err))
		}
	}
	return errs
}

// pullConfig pulls WithConfigFiles' files into base_path.
func (a *App) pullConfig(ctx context.Context, cfg *config.Config) error {
	files := a.opts.configFiles
	if a.rconf == nil || len(files) == 0 {
		return nil
	}
	base := cfg.Server.BasePath
	if err := os.MkdirAll(base, 0o755); err != nil {
		return fmt.Errorf("app: server.base_path: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, configPullTimeout)
	defer cancel()
	var errs []error
	for _, f := range files {
		if _, err := a.rconf.Load(ctx, f); err != nil {
			if _, serr := os.Stat(filepath.Join(base, filepath.Base(f))); serr == nil {
				a.log.Warn("app: remote config: using the copy in base_path", "file", f, "err", err)
				continue
			}
			errs = append(errs, err)
			continue
		}
		a.log.Info("app: remote config pulled", "file", f, "dir", base)
	}
	if len(errs) > 0 {
		return fmt.Errorf("app: remote config: %w", errors.Join(errs...))
	}
	return nil
}

// listener is one bound endpoint and how to serve it.
type listener struct {
	servant string
	addr    net.Addr
	serve   func() error
	close   func() error
}

// listen binds every servant's endpoint, and the admin one; on an error
// it closes what it bound.
// checkServants warns of configured servants no handler was registered
// for (their calls would be answered "no servant") and of handlers of
// servants the configuration does not name (TarsGo refuses to start with
// those; here they are served on every servant's endpoint).
func (a *App) checkServants(cfg config.Config) {
	handled := a.srv.Servants()
	for name := range cfg.Servants {
		if !slices.Contains(handled, name) {
			a.log.Warn("app: a configured servant has no handlers", "servant", name)
		}
	}
	for _, name := range handled {
		if _, ok := cfg.Servants[name]; !ok {
			a.log.Warn("app: handlers of a servant the configuration does not name", "servant", name)
		}
	}
}

func (a *App) listen(cfg config.Config) ([]listener, error) {
	specs := append([]listenSpec(nil), a.listens...)
	if a.adminSpec != nil {
		specs = append(specs, *a.adminSpec)
	}
	var lns []listener
	fail := func(err error) ([]listener, error) {
		for _, l := range lns {
			l.close()
		}
		return nil, err
	}
	for _, s := range specs {
		hostPort := s.addr.ListenHostPort()
		srv := a.srv
		if s.servant == platform.AdminObj {
			srv = a.adminS
		}
		switch s.addr.Network {
		case "udp":
			pc, err := net.ListenPacket("udp", hostPort)
			if err != nil {
				return fail(fmt.Errorf("app: %s: %w", s.servant, err))
			}
			lns = append(lns, listener{servant: s.servant, addr: pc.LocalAddr(), close: pc.Close,
				serve: func() error { return srv.ServePacket(pc) }})
		default: // tcp, ssl
			ln, err := net.Listen("tcp", hostPort)
			if err != nil {
				return fail(fmt.Errorf("app: %s: %w", s.servant, err))
			}
			l := listener{servant: s.servant, addr: ln.Addr(), close: ln.Close, serve: func() error { return srv.Serve(ln) }}
			if s.tls != nil {
				l.serve = func() error { return srv.ServeTLS(ln, s.tls) }
			}
			lns = append(lns, l)
		}
	}
	a.mu.Lock()
	for _, l := range lns {
		a.addrs[l.servant] = l.addr
		a.log.Info("app: listening", "servant", l.servant, "addr", l.addr.String())
	}
	a.mu.Unlock()
	return lns, nil
}

// apply applies a change the watch reports.
func (a *App) apply(ch config.Change) {
	defer func() {
		if a.opts.onReload != nil {
			a.opts.onReload(ch)
		}
	}()
	if ch.Err != nil {
		a.log.Error("app: reload: the configuration stays as it was", "err", ch.Err)
		return
	}
	if len(ch.Restart) > 0 {
		a.log.Warn("app: reload: these keys take effect after a restart", "keys", ch.Restart)
	}
	a.mu.Lock()
	old := a.cfg
	a.cfg = ch.New.Clone()
	cfg := a.cfg.Clone()
	a.mu.Unlock()
	if old.Log.Level != cfg.Log.Level {
		if lvl, err := config.ParseLevel(cfg.Log.Level); err == nil {
			a.level.Set(lvl)
		}
	}
	if clientKeysChanged(ch.Live) {
		a.rebuildClients(&old, &cfg)
	}
	if len(ch.Live) > 0 {
		a.log.Info("app: reload: applied", "keys", ch.Live)
	}
}

// closeClients closes every client once Run ends: the program's, those a
// reload retired, and the framework's.
func (a *App) closeClients() {
	close(a.closing)
	a.mu.Lock()
	a.stopped = true
	cs := make([]*tars.Client, 0, len(a.clients))
	for _, c := range a.clients {
		cs = append(cs, c)
	}
	a.clients = map[string]*tars.Client{}
	a.mu.Unlock()
	a.retiring.Wait()
	for _, c := range cs {
		c.Close()
	}
	for _, c := range a.framework {
		c.Close()
	}
	if a.logFile != nil {
		a.logFile.Close()
	}
}
