package tarsdig

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"go.uber.org/dig"

	"github.com/gotars/tars"
	"github.com/gotars/tars/app"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/discovery"
)

// Clients builds the clients of the application's servant objects from the
// configuration: a client of obj dials obj's static endpoints
// (client.objects.<obj>.endpoints) or, without them, watches obj through
// the resolver; it takes the client settings (cfg.ClientOptions), obj's
// balancer, the TARS set, the client chains and the client option group.
// It is safe for concurrent use.
type Clients struct {
	cfg      *config.Config
	resolver discovery.Resolver
	opts     []tars.ClientOption

	mu     sync.Mutex
	shared map[string]*tars.Client
	closed bool
}

// ClientsParams are what NewClients reads.
type ClientsParams struct {
	dig.In
	Config   *config.Config
	Resolver discovery.Resolver `optional:"true"` // nil: static endpoints only
	Chain    ClientChain
	Options  []tars.ClientOption `group:"tars.client.options"`
	Logger   *slog.Logger        `optional:"true"`
}

// NewClients validates the configuration and returns the factory of its
// clients. It dials nothing; a client connects at its first call.
func NewClients(p ClientsParams) (*Clients, error) {
	if err := p.Config.Validate(); err != nil {
		return nil, err
	}
	var opts []tars.ClientOption
	if p.Logger != nil {
		opts = append(opts, tars.WithLogger(p.Logger))
	}
	if p.Config.Client.SetDivision != "" {
		opts = append(opts, tars.WithSet(p.Config.Client.SetDivision))
	}
	if len(p.Chain.Call) > 0 {
		opts = append(opts, tars.WithMiddleware(p.Chain.Call...))
	}
	if len(p.Chain.Endpoint) > 0 {
		opts = append(opts, tars.WithEndpointMiddleware(p.Chain.Endpoint...))
	}
	opts = append(opts, p.Options...)
	return &Clients{cfg: p.Config, resolver: p.Resolver, opts: opts, shared: map[string]*tars.Client{}}, nil
}

// Get returns the shared client of obj, building it on first use. Close
// closes it; callers must not.
func (cs *Clients) Get(obj string) (*tars.Client, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closed {
		return nil, ErrClosed
	}
	if c, ok := cs.shared[obj]; ok {
		return c, nil
	}
	c, err := cs.build(obj, nil)
	if err != nil {
		return nil, err
	}
	cs.shared[obj] = c
	return c, nil
}

// New returns a new client of obj, with opts after the configured ones;
// the caller owns it and closes it.
func (cs *Clients) New(obj string, opts ...tars.ClientOption) (*tars.Client, error) {
	cs.mu.Lock()
	closed := cs.closed
	cs.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	return cs.build(obj, opts)
}

// Close closes the shared clients (those of Get); Get and New fail after
// it.
func (cs *Clients) Close() error {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.closed = true
	var errs []error
	for obj, c := range cs.shared {
		errs = append(errs, c.Close())
		delete(cs.shared, obj)
	}
	return errors.Join(errs...)
}

func (cs *Clients) build(obj string, extra []tars.ClientOption) (*tars.Client, error) {
	if obj == "" || strings.Contains(obj, "@") {
		return nil, fmt.Errorf("tarsdig: client of %q: want a servant object name without endpoints", obj)
	}
	opts, err := cs.cfg.ClientOptions(obj)
	if err != nil {
		return nil, err
	}
	// The set, the balancer, the per-method timeouts, rate limit,
	// breakers, retries and backup requests: what the runner's clients get.
	more, err := app.ClientOptions(cs.cfg, obj)
	if err != nil {
		return nil, fmt.Errorf("tarsdig: %w", err)
	}
	opts = append(opts, more...)
	target, topts, err := app.ClientTarget(cs.cfg, obj, cs.resolver)
	if err != nil {
		return nil, err
	}
	opts = append(opts, topts...)
	opts = append(opts, cs.opts...)
	opts = append(opts, extra...)
	return tars.NewClient(target, opts...)
}
