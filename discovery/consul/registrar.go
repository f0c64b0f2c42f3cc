package consul

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gotars/tars/discovery"
	"github.com/hashicorp/consul/api"
)

// Registrar registers a server's servants with its local Consul agent. It
// implements discovery.Registrar and is safe for concurrent use; it starts
// nothing by itself.
//
// Each registration is a Consul service named ServiceName(servant), with ID
// ServiceID(servant, host, port), the endpoint's address, its TARS fields in
// Meta (MetaServant, MetaTransport, MetaTimeout, …; the endpoint's own Meta
// is added as it is), its weight in Weights, and one check: by default a
// TCP check of the port (UDP for udp endpoints), or with WithTTL a TTL
// check the caller keeps passing with Run or Heartbeat. The check starts
// passing, so register once the server listens; and its
// DeregisterCriticalServiceAfter (WithDeregisterAfter) makes Consul drop a
// server that died without deregistering. A server deregisters when it
// shuts down, before it drains its connections.
type Registrar struct {
	client *api.Client
	cfg    registrarConfig

	mu   sync.Mutex
	regs map[string]*api.AgentServiceRegistration // by service ID, for heartbeats
}

var _ discovery.Registrar = (*Registrar)(nil)

// NewRegistrar returns a registrar that registers through client (made with
// api.NewClient, pointing at the server's local agent). It starts nothing.
func NewRegistrar(client *api.Client, opts ...RegistrarOption) *Registrar {
	return &Registrar{client: client, cfg: newRegistrarConfig(opts), regs: make(map[string]*api.AgentServiceRegistration)}
}

// Register registers reg with the agent, or updates it (its check is
// replaced). The request runs under ctx. A registration Consul would refuse
// gets an error wrapping ErrRegistration or ErrServantName before anything
// is sent.
func (r *Registrar) Register(ctx context.Context, reg discovery.Registration) error {
	if r.client == nil {
		return ErrNoClient
	}
	svc, err := r.cfg.service(reg)
	if err != nil {
		return err
	}
	if err := r.register(ctx, svc); err != nil {
		return err
	}
	r.mu.Lock()
	r.regs[svc.ID] = svc
	r.mu.Unlock()
	return nil
}

func (r *Registrar) register(ctx context.Context, svc *api.AgentServiceRegistration) error {
	opts := api.ServiceRegisterOpts{ReplaceExistingChecks: true}.WithContext(ctx)
	if err := r.client.Agent().ServiceRegisterOpts(svc, opts); err != nil {
		return fmt.Errorf("consul: register %s: %w", svc.ID, err)
	}
	return nil
}

// Deregister removes reg from the agent. The request runs under ctx; a
// service the agent does not know (404) is not an error.
func (r *Registrar) Deregister(ctx context.Context, reg discovery.Registration) error {
	if r.client == nil {
		return ErrNoClient
	}
	if err := checkServant(reg.Servant); err != nil {
		return err
	}
	id := ServiceID(reg.Servant, reg.Endpoint.Host, reg.Endpoint.Port)
	r.mu.Lock()
	delete(r.regs, id)
	r.mu.Unlock()
	q := (&api.QueryOptions{}).WithContext(ctx)
	if err := r.client.Agent().ServiceDeregisterOpts(id, q); err != nil && !isNotFound(err) {
		return fmt.Errorf("consul: deregister %s: %w", id, err)
	}
	return nil
}

// Heartbeat marks the TTL check of every registration passing, once, under
// ctx; a registration the agent no longer knows (an agent that lost its
// state) is registered again. It does nothing without WithTTL. The error
// joins those of the registrations that failed.
func (r *Registrar) Heartbeat(ctx context.Context) error {
	if r.client == nil {
		return ErrNoClient
	}
	if r.cfg.ttl <= 0 {
		return nil
	}
	r.mu.Lock()
	svcs := make([]*api.AgentServiceRegistration, 0, len(r.regs))
	for _, s := range r.regs {
		svcs = append(svcs, s)
	}
	r.mu.Unlock()

	var errs []error
	agent := r.client.Agent()
	for _, svc := range svcs {
		q := (&api.QueryOptions{}).WithContext(ctx)
		err := agent.UpdateTTLOpts(checkID(svc.ID), "", api.HealthPassing, q)
		if isNotFound(err) && r.registered(svc) {
			err = r.register(ctx, svc) // registers the check passing
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("consul: heartbeat %s: %w", svc.ID, err))
		}
	}
	return errors.Join(errs...)
}

// registered reports whether svc is still meant to be registered (not
// deregistered since the heartbeat began).
func (r *Registrar) registered(svc *api.AgentServiceRegistration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.regs[svc.ID] == svc
}

// Run keeps the TTL checks passing: it calls Heartbeat every third of the
// TTL until ctx ends, then returns ctx's error. Failed heartbeats are
// reported to WithLogger's logger and retried at the next beat. Without
// WithTTL it returns nil at once (the agent's own probes keep a TCP check).
func (r *Registrar) Run(ctx context.Context) error {
	if r.client == nil {
		return ErrNoClient
	}
	if r.cfg.ttl <= 0 {
		return nil
	}
	tick := time.NewTicker(max(r.cfg.ttl/3, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if err := r.Heartbeat(ctx); err != nil && ctx.Err() == nil && r.cfg.logger != nil {
			r.cfg.logger.WarnContext(ctx, "consul: heartbeat failed", "err", err)
		}
	}
}

func isNotFound(err error) bool {
	var se api.StatusError
	return errors.As(err, &se) && se.Code == http.StatusNotFound
}
