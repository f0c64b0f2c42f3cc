// Package tarsdig holds go.uber.org/dig providers that build a gotars
// application from its configuration tree: config → resolver → clients →
// server → servants → middleware. An application Provides them (all at
// once with Provide, or one by one), adds its own constructors — the
// *config.Config, its servants, its middleware — and Invokes what it runs.
//
//	c := dig.New()
//	c.Provide(func() (*config.Config, error) { … })          // the application's config
//	tarsdig.Provide(c)                                        // resolver, clients, chains, server
//	c.Provide(func(s *Store) tarsdig.Servant { … }, dig.Group(tarsdig.ServantGroup))
//	err := tarsdig.Run(ctx, c)                                // listen, serve until ctx ends, shut down
//
// Nothing starts in a provider: NewServer builds a server and registers the
// servants' handlers, NewClients dials nothing, NewResolver asks no
// registry. Listening and serving happen in Run (or Listen and Serve), in
// the goroutine that calls it, until its context ends.
//
// dig keys values by type, not by runtime strings, so the clients of the
// application's servant objects come from one factory, *Clients, by object
// name. dig's value groups are unordered: middleware joins a chain as a
// Middleware value whose Order places it.
//
// The root package tars does not import this package; it is the only
// place of the module that needs dig.
package tarsdig

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"go.uber.org/dig"

	"github.com/gotars/tars"
	"github.com/gotars/tars/app"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/discovery"
)

// The value groups the providers read. Provide a value into one with
// dig.Group (c.Provide(ctor, dig.Group(tarsdig.ServantGroup))) or with a
// dig.Out field tagged `group:"…"`.
const (
	ServantGroup            = "tars.servants"                   // Servant values: the handlers NewServer registers
	ServerMiddlewareGroup   = "tars.server.middleware"          // Middleware values: the server chain
	ClientMiddlewareGroup   = "tars.client.middleware"          // Middleware values: every client's call chain
	EndpointMiddlewareGroup = "tars.client.endpoint_middleware" // Middleware values: every client's endpoint chain
	ServerOptionGroup       = "tars.server.options"             // tars.ServerOption values, after the config's
	ClientOptionGroup       = "tars.client.options"             // tars.ClientOption values, after the config's
)

// ErrClosed is returned by Clients once Close was called.
var ErrClosed = errors.New("tarsdig: clients closed")

// Servant is one served object as the servant group holds it: its name,
// which must be a servant of the configuration (servants.<Name>), and the
// function that registers its handlers on the server (tars.Handle calls
// with that servant name).
type Servant struct {
	Name string // the servant object, "App.Server.Obj"
	// Register registers the handlers of servant on srv; it must start
	// nothing. NewServer calls it once, with Name.
	Register func(srv *tars.Server, servant string)
}

// Middleware is one contribution to a chain. Chains run in Order, lowest
// first (the outermost); Name breaks ties and must be unique within a
// chain, so that the same wiring always builds the same chain.
type Middleware struct {
	Name       string
	Order      int
	Middleware tars.Middleware
}

// ServerChain is the server's middleware chain, outermost first.
type ServerChain []tars.Middleware

// ClientChain is the middleware every client built by Clients runs: Call
// around each call (tars.WithMiddleware), Endpoint around each attempt once
// its endpoint is picked (tars.WithEndpointMiddleware).
type ClientChain struct {
	Call     []tars.Middleware
	Endpoint []tars.Middleware
}

// Provide registers the package's providers on c: NewServerChain,
// NewClientChain, NewResolver, NewClients and NewServer. The application
// provides the *config.Config, and its servants, middleware and extra
// options in the groups. To replace the resolver (Consul, say), decorate
// it: c.Decorate(func(discovery.Resolver) discovery.Resolver { … }).
func Provide(c *dig.Container) error {
	for _, ctor := range []any{NewServerChain, NewClientChain, NewResolver, NewClients, NewServer} {
		if err := c.Provide(ctor); err != nil {
			return err
		}
	}
	return nil
}

// ChainParams are the contributions to one chain.
type ChainParams struct {
	dig.In
	Server   []Middleware `group:"tars.server.middleware"`
	Client   []Middleware `group:"tars.client.middleware"`
	Endpoint []Middleware `group:"tars.client.endpoint_middleware"`
}

// NewServerChain orders the server middleware group into the server chain.
func NewServerChain(p ChainParams) (ServerChain, error) {
	return order(ServerMiddlewareGroup, p.Server)
}

// NewClientChain orders the client and endpoint middleware groups into the
// chains of every client.
func NewClientChain(p ChainParams) (ClientChain, error) {
	call, err := order(ClientMiddlewareGroup, p.Client)
	if err != nil {
		return ClientChain{}, err
	}
	ep, err := order(EndpointMiddlewareGroup, p.Endpoint)
	if err != nil {
		return ClientChain{}, err
	}
	return ClientChain{Call: call, Endpoint: ep}, nil
}

func order(group string, ms []Middleware) ([]tars.Middleware, error) {
	ms = slices.Clone(ms)
	slices.SortFunc(ms, func(a, b Middleware) int {
		return cmp.Or(cmp.Compare(a.Order, b.Order), cmp.Compare(a.Name, b.Name))
	})
	out := make([]tars.Middleware, 0, len(ms))
	for i, m := range ms {
		if m.Middleware == nil {
			return nil, fmt.Errorf("tarsdig: %s: middleware %q is nil", group, m.Name)
		}
		if i > 0 && ms[i-1].Name == m.Name {
			return nil, fmt.Errorf("tarsdig: %s: two middleware named %q", group, m.Name)
		}
		out = append(out, m.Middleware)
	}
	return out, nil
}

// ResolverParams are what NewResolver reads.
type ResolverParams struct {
	dig.In
	Config *config.Config
	Logger *slog.Logger `optional:"true"`
}

// NewResolver returns the resolver of the clients' objects that have no
// static endpoints: the TARS registry named by client.locator
// (tarsregistry, asked every client.refresh_interval, with the node name
// and, when server.data_path is set, TarsGo's cache file
// <data_path>/<server>.tarsdat). Without a locator it returns a nil
// resolver: every object then needs static endpoints
// (client.objects.<obj>.endpoints), or the application decorates the
// resolver with its own (discovery/consul for client.consul). It
// connects to nothing.
func NewResolver(p ResolverParams) (discovery.Resolver, error) {
	cfg := p.Config
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Client.Locator == "" {
		return nil, nil
	}
	return app.RegistryResolver(cfg, p.Logger)
}

// ServerParams are what NewServer reads.
type ServerParams struct {
	dig.In
	Config   *config.Config
	Chain    ServerChain
	Servants []Servant           `group:"tars.servants"`
	Options  []tars.ServerOption `group:"tars.server.options"`
	Logger   *slog.Logger        `optional:"true"`
}

// NewServer builds the server of the configuration (app.ServerOptions: the
// configuration's options and the servants' rate limits),
// with the logger, the server chain and the group's options, and registers
// every servant of the servant group. Each registered servant must be a
// servant of the configuration and each configured servant must be
// registered, exactly once. It listens on nothing: Run and Serve do.
func NewServer(p ServerParams) (*tars.Server, error) {
	opts, err := app.ServerOptions(p.Config)
	if err != nil {
		return nil, err
	}
	if p.Logger != nil {
		opts = append(opts, tars.WithLogger(p.Logger))
	}
	if len(p.Chain) > 0 {
		opts = append(opts, tars.WithMiddleware(p.Chain...))
	}
	opts = append(opts, p.Options...)

	seen := map[string]bool{}
	var errs []error
	for _, s := range p.Servants {
		switch _, ok := p.Config.Servants[s.Name]; {
		case s.Register == nil:
			errs = append(errs, fmt.Errorf("tarsdig: servant %q has no Register function", s.Name))
		case seen[s.Name]:
			errs = append(errs, fmt.Errorf("tarsdig: servant %q is provided twice", s.Name))
		case !ok:
			errs = append(errs, fmt.Errorf("tarsdig: servant %q is not configured (no servants.%s.endpoint)", s.Name, s.Name))
		}
		seen[s.Name] = true
	}
	names := make([]string, 0, len(p.Config.Servants))
	for n := range p.Config.Servants {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if !seen[n] {
			errs = append(errs, fmt.Errorf("tarsdig: servants.%s is configured but no servant of that name is provided", n))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	srv := tars.NewServer(opts...)
	for _, s := range p.Servants {
		s.Register(srv, s.Name)
	}
	return srv, nil
}
