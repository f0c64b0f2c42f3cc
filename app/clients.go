package app

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/discovery/tarsregistry"
	"github.com/gotars/tars/lb"
	"github.com/gotars/tars/middleware/breaker"
	"github.com/gotars/tars/middleware/ratelimit"
	"github.com/gotars/tars/middleware/retry"
)

// Client returns the client of the servant obj ("App.Server.Obj"), built
// from the configuration on first use and kept: the client-wide settings
// with obj's (config.ClientOptions), obj's balancer, the per-method
// timeouts, the set, the stat middleware and the program's, and obj's
// static endpoints (client.objects.<obj>.endpoints) or else the resolver.
//
// After a reload that changed client keys, Client returns a client built
// from the new configuration; the one returned before keeps working until
// its calls had time to finish (the longest timeout configured, then it is
// closed). So a program asks Client for each call (a map look-up) rather
// than keeping the result. Once Run has returned, Client fails with
// ErrStopped.
func (a *App) Client(obj string) (*tars.Client, error) {
	a.mu.RLock()
	c, ok := a.clients[obj]
	stopped := a.stopped
	a.mu.RUnlock()
	if stopped {
		return nil, ErrStopped
	}
	if ok {
		return c, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped {
		return nil, ErrStopped
	}
	if c, ok := a.clients[obj]; ok {
		return c, nil
	}
	c, err := a.buildClient(&a.cfg, obj)
	if err != nil {
		return nil, err
	}
	a.clients[obj] = c
	return c, nil
}

func (a *App) buildClient(cfg *config.Config, obj string) (*tars.Client, error) {
	if obj == "" || strings.Contains(obj, "@") {
		return nil, fmt.Errorf("app: Client(%q): want a servant name; endpoints go in client.objects.<obj>.endpoints", obj)
	}
	opts, err := cfg.ClientOptions(obj)
	if err != nil {
		return nil, err
	}
	opts = append(opts, tars.WithLogger(a.log))
	more, err := ClientOptions(cfg, obj)
	if err != nil {
		return nil, err
	}
	opts = append(opts, more...)
	// Per attempt, below the retries: the stat reports and the program's
	// middleware.
	var mws []tars.Middleware
	if a.stats != nil {
		mws = append(mws, a.stats.Middleware)
	}
	mws = append(mws, a.opts.clientMW...)
	if len(mws) > 0 {
		opts = append(opts, tars.WithMiddleware(mws...))
	}
	if len(a.opts.clientEpMW) > 0 {
		opts = append(opts, tars.WithEndpointMiddleware(a.opts.clientEpMW...))
	}
	target, topts, err := ClientTarget(cfg, obj, a.res)
	if err != nil {
		return nil, err
	}
	opts = append(opts, topts...)
	if a.opts.clientOpts != nil {
		more, err := a.opts.clientOpts(obj, cfg)
		if err != nil {
			return nil, fmt.Errorf("app: client of %s: %w", obj, err)
		}
		opts = append(opts, more...)
	}
	c, err := tars.NewClient(target, opts...)
	if err != nil {
		return nil, fmt.Errorf("app: client of %s: %w", obj, err)
	}
	return c, nil
}

// ClientTarget returns what a client of obj is made for
// (tars.NewClient): obj with its static endpoints
// (client.objects.<obj>.endpoints), or else obj with res resolving it, as
// an option; an error when it has neither.
func ClientTarget(cfg *config.Config, obj string, res discovery.Resolver) (string, []tars.ClientOption, error) {
	target := cfg.Client.Target(obj)
	if strings.Contains(target, "@") {
		return target, nil, nil
	}
	if res == nil {
		return "", nil, fmt.Errorf("app: client of %s: no client.objects.%s.endpoints and no resolver to find it (set client.locator, or give one)", obj, obj)
	}
	return target, []tars.ClientOption{tars.WithResolver(res)}, nil
}

// RegistryResolver returns the TARS registry resolver of the clients'
// objects without static endpoints: client.locator, asked every
// client.refresh_interval through a client of the configuration's options
// for QueryObj (client.tls, the timeouts) and extra, with the node name
// (server.node_name, else server.local_ip) and, when server.data_path is
// set, TarsGo's cache file <data_path>/<server>.tarsdat. The runner's
// clients use it, and tarsdig's. It connects to nothing.
func RegistryResolver(cfg *config.Config, log *slog.Logger, extra ...tars.ClientOption) (discovery.Resolver, error) {
	copts, err := cfg.ClientOptions(tarsregistry.QueryObj)
	if err != nil {
		return nil, err
	}
	opts := []tarsregistry.Option{
		tarsregistry.WithRefreshInterval(cfg.Client.RefreshInterval),
		tarsregistry.WithClientOptions(append(copts, extra...)...),
	}
	if n := cmp.Or(cfg.Server.NodeName, cfg.Server.LocalIP); n != "" {
		opts = append(opts, tarsregistry.WithNodeName(n))
	}
	if cfg.Server.DataPath != "" && cfg.Server.Server != "" {
		opts = append(opts, tarsregistry.WithCacheFile(filepath.Join(cfg.Server.DataPath, cfg.Server.Server+".tarsdat")))
	}
	if log != nil {
		opts = append(opts, tarsregistry.WithLogger(log))
	}
	r, err := tarsregistry.New(cfg.Client.Locator, opts...)
	if err != nil {
		return nil, &config.KeyError{Key: "client.locator", Err: err}
	}
	return r, nil
}

// ServerOptions returns the options of the configuration's server:
// config.ServerOptions, and the servants' rate limits
// (servants.<s>.rate_limit, servants.<s>.methods.<m>.rate_limit), which
// answer −9 before a request is queued (tars.WithAdmission). The runner's
// server is built with them; tarsdig's is too.
func ServerOptions(cfg *config.Config) ([]tars.ServerOption, error) {
	opts, err := cfg.ServerOptions()
	if err != nil {
		return nil, err
	}
	if rules := ratelimit.ServerRules(cfg.Servants); len(rules) > 0 {
		lim, err := ratelimit.NewLimiter(rules...)
		if err != nil {
			return nil, fmt.Errorf("servants.*.rate_limit: %w", err)
		}
		opts = append(opts, tars.WithAdmission(lim.Admit))
	}
	return opts, nil
}

// ClientOptions returns the options of a client of obj that its
// configuration asks for beyond config.ClientOptions: the set
// (client.set_division), the balancer (client.balancer,
// client.objects.<obj>.balancer), and the client chain,
// outermost first — the per-method timeouts (….methods.<m>.timeout, so
// that every attempt of a call shares them), the object's rate limit, the
// methods' circuit breakers (one verdict per call), retries and backup
// requests — and the endpoint breaker after the pick. The runner's clients
// are built with them; a program (or tarsdig) building its own clients
// from the same configuration uses them too.
func ClientOptions(cfg *config.Config, obj string) ([]tars.ClientOption, error) {
	bal, err := balancer(cfg, obj)
	if err != nil {
		return nil, err
	}
	opts := []tars.ClientOption{tars.WithBalancer(bal)}
	if set := cfg.Client.SetDivision; set != "" {
		opts = append(opts, tars.WithSet(set))
	}
	var mws []tars.Middleware
	if mw := methodTimeouts(cfg, obj); mw != nil {
		mws = append(mws, mw)
	}
	resil, ep, err := resilience(cfg, obj)
	if err != nil {
		return nil, err
	}
	mws = append(mws, resil...)
	if len(mws) > 0 {
		opts = append(opts, tars.WithMiddleware(mws...))
	}
	if ep != nil {
		opts = append(opts, tars.WithEndpointMiddleware(ep))
	}
	return opts, nil
}

// resilience returns the client middleware obj's configuration asks for —
// its rate limit (client.objects.<obj>.rate_limit), the methods' circuit
// breakers (….methods.<m>.breaker), retries and backup requests
// (….methods.<m>.retry, ….hedge, one budget for both) — and its endpoint
// breaker (client.objects.<obj>.endpoint_breaker), nil when off.
func resilience(cfg *config.Config, obj string) ([]tars.Middleware, tars.Middleware, error) {
	var mws []tars.Middleware
	if r, ropts, ok := ratelimit.ClientRule(obj, cfg.Client.Objects[obj].RateLimit); ok {
		mw, err := ratelimit.Client([]ratelimit.Rule{r}, ropts...)
		if err != nil {
			return nil, nil, fmt.Errorf("app: client of %s: client.objects.%s.rate_limit: %w", obj, obj, err)
		}
		mws = append(mws, mw)
	}
	if anyMethod(cfg, obj, func(m config.Method) bool { return m.Breaker.Enabled }) {
		mb, err := breaker.NewMethod(breaker.Settings{}, breaker.FromClientConfig(&cfg.Client))
		if err != nil {
			return nil, nil, fmt.Errorf("app: client of %s: %w", obj, err)
		}
		mws = append(mws, mb.Middleware())
	}
	if anyMethod(cfg, obj, func(m config.Method) bool { return m.Retry.MaxAttempts > 1 || m.Hedge != (config.Hedge{}) }) {
		mws = append(mws, retry.ForClient(&cfg.Client, obj, nil))
	}
	var ep tars.Middleware
	if b := cfg.Client.Objects[obj].EndpointBreaker; b.Enabled {
		eb, err := breaker.NewEndpoint(breaker.FromConfig(b))
		if err != nil {
			return nil, nil, fmt.Errorf("app: client of %s: client.objects.%s.endpoint_breaker: %w", obj, obj, err)
		}
		ep = eb.Middleware()
	}
	return mws, ep, nil
}

// anyMethod reports whether a method policy of obj (or of "*") satisfies f.
func anyMethod(cfg *config.Config, obj string, f func(config.Method) bool) bool {
	for _, o := range []string{obj, "*"} {
		for _, m := range cfg.Client.Objects[o].Methods {
			if f(m) {
				return true
			}
		}
	}
	return false
}

// balancer maps client.balancer (or obj's) onto package lb. round_robin is
// lb.TARS(), the client's default: round robin for calls without a hash,
// as TarsGo sends them, and the TARS hashes for calls that carry one.
func balancer(cfg *config.Config, obj string) (lb.Balancer, error) {
	name := cfg.Client.Balancer
	for _, o := range []string{"*", obj} {
		if b := cfg.Client.Objects[o].Balancer; b != "" {
			name = b
		}
	}
	switch name {
	case "", "round_robin":
		return lb.TARS(), nil
	case "random":
		return lb.Random(), nil
	case "mod_hash":
		return lb.ModHashBalancer(), nil
	case "consistent_hash":
		return lb.ConsistentHashBalancer(), nil
	}
	return nil, &config.KeyError{Key: "client.balancer", Err: fmt.Errorf("%q: unknown", name)}
}

// methodTimeouts returns a middleware giving each call the timeout of its
// method (client.Policy: client.objects.<obj|*>.methods.<m|*>.timeout)
// when the caller's context has no deadline and the method's differs from
// the client's own (WithTimeout, the object's); nil when none differs.
func methodTimeouts(cfg *config.Config, obj string) tars.Middleware {
	objTimeout := cfg.Client.Timeout // what config.ClientOptions gives WithTimeout
	for _, o := range []string{"*", obj} {
		if t := cfg.Client.Objects[o].Timeout; t > 0 {
			objTimeout = t
		}
	}
	other := cfg.Client.Policy(obj, "").Timeout // a method without an entry of its own ("" names none)
	byMethod := map[string]time.Duration{}
	for _, o := range []string{obj, "*"} {
		for m := range cfg.Client.Objects[o].Methods {
			if m != "*" {
				byMethod[m] = cfg.Client.Policy(obj, m).Timeout
			}
		}
	}
	differs := other != objTimeout
	for _, t := range byMethod {
		differs = differs || t != objTimeout
	}
	if !differs {
		return nil
	}
	return func(next tars.Invoker) tars.Invoker {
		return func(ctx context.Context, call *tars.Call) error {
			if _, ok := ctx.Deadline(); ok {
				return next(ctx, call)
			}
			t, ok := byMethod[call.Method]
			if !ok {
				t = other
			}
			if t <= 0 || t == objTimeout {
				return next(ctx, call)
			}
			ctx, cancel := context.WithTimeout(ctx, t)
			defer cancel()
			return next(ctx, call)
		}
	}
}

// longestTimeout is the longest a call of cfg's clients may take.
func longestTimeout(cfg *config.Config) time.Duration {
	d := cfg.Client.Timeout
	for _, o := range cfg.Client.Objects {
		d = max(d, o.Timeout)
		for _, m := range o.Methods {
			d = max(d, m.Timeout)
		}
	}
	return d
}

// clientKeysChanged reports whether a live change touches the clients.
func clientKeysChanged(live []string) bool {
	for _, k := range live {
		if strings.HasPrefix(k, "client.") {
			return true
		}
	}
	return false
}

// rebuildClients builds every client built so far again from cfg and swaps
// them in; the old ones are closed after the longest timeout of the old
// configuration, or when Run ends (after the graceful shutdown, whose
// handlers may still use them). A client that cannot be built keeps
// its old one, and the error is logged.
func (a *App) rebuildClients(old, cfg *config.Config) {
	a.mu.Lock()
	var retired []*tars.Client
	for obj, c := range a.clients {
		nc, err := a.buildClient(cfg, obj)
		if err != nil {
			a.log.Error("app: reload: the client keeps its old settings", "obj", obj, "err", err)
			continue
		}
		a.clients[obj] = nc
		retired = append(retired, c)
	}
	a.mu.Unlock()
	if len(retired) == 0 {
		return
	}
	a.log.Info("app: reload: clients rebuilt", "clients", len(retired))
	wait := longestTimeout(old) + time.Second
	a.retiring.Add(1)
	go func() {
		defer a.retiring.Done()
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-a.closing:
		}
		for _, c := range retired {
			c.Close()
		}
	}()
}
