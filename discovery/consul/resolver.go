package consul

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/gotars/tars/discovery"
	"github.com/hashicorp/consul/api"
)

// ErrEmpty is wrapped by State.Err when a KeepLastGood resolver got an answer
// without endpoints and kept publishing its last set.
var ErrEmpty = errors.New("consul: no endpoint in the answer; last set kept")

// ErrNoClient is returned by Watch, Register and Deregister of a Resolver or
// Registrar made without a Consul client.
var ErrNoClient = errors.New("consul: no Consul client")

// Resolver resolves servants through Consul's health endpoint: each Watch
// runs one loop of blocking queries (Health().ServiceMultipleTags with a
// WaitIndex) and publishes the instances as whole sets. It implements
// discovery.Resolver and is safe for concurrent use; it starts nothing by
// itself.
//
// The loop follows Consul's blocking-query rules: the index is reset to 0
// when it goes backwards and after a failed query (a restarted agent may
// start below it), and is kept at least 1 so that queries block; queries
// are paced by a token bucket (WithMinInterval), failed ones back off with
// jitter (WithBackoff); every HTTP request runs under the watch's context
// and a bound of the wait time, so the watch ends, its request and all,
// when the context does. Sets are sorted and de-duplicated
// (discovery.Normalize) and published only when they change. On a failed
// query the last good set is published again with State.Err.
type Resolver struct {
	client *api.Client
	cfg    resolverConfig
}

var _ discovery.Resolver = (*Resolver)(nil)

// NewResolver returns a resolver that queries through client (made with
// api.NewClient; its address, token and TLS settings are the caller's). It
// starts nothing.
func NewResolver(client *api.Client, opts ...ResolverOption) *Resolver {
	return &Resolver{client: client, cfg: newResolverConfig(opts)}
}

// Watch resolves t.Servant under its Consul service name (ServiceName) and
// publishes its instances until ctx ends; then it returns ctx's error. A
// servant name that has no Consul name returns an error wrapping
// ErrServantName at once.
//
// When t.SetID is given, only the instances of that TARS set are published
// (a group "*" takes the whole area), unless no instance has a set at all.
func (r *Resolver) Watch(ctx context.Context, t discovery.Target, publish func(discovery.State)) error {
	if r.client == nil {
		return ErrNoClient
	}
	name, err := ServiceName(t.Servant)
	if err != nil {
		return err
	}
	w := watch{r: r, name: name, target: t, publish: publish}
	return w.run(ctx)
}

type watch struct {
	r       *Resolver
	name    string
	target  discovery.Target
	publish func(discovery.State)

	index     uint64
	failures  int
	pace      pacer
	good      discovery.State // the last successful resolution, as published
	published bool
	last      discovery.State // the last State published
}

func (w *watch) run(ctx context.Context) error {
	cfg := &w.r.cfg
	w.pace.interval = cfg.minInterval
	health := w.r.client.Health()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		delay := w.pace.next(time.Now())
		if w.failures > 0 {
			delay = max(delay, backoff(w.failures, cfg.backoffMin, cfg.backoffMax))
		}
		if delay > 0 {
			timer.Reset(delay)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-timer.C:
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}

		q := &api.QueryOptions{
			Datacenter: cfg.datacenter,
			AllowStale: cfg.allowStale,
			WaitIndex:  w.index,
			WaitTime:   cfg.waitTime,
		}
		// Consul waits up to wait + wait/16; bound the request a little
		// beyond, so a hung agent or network cannot hold the watch.
		qctx, cancel := context.WithTimeout(ctx, cfg.waitTime+cfg.waitTime/16+10*time.Second)
		entries, meta, err := health.ServiceMultipleTags(w.name, cfg.tags, cfg.passingOnly, q.WithContext(qctx))
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			w.failures++
			w.index = 0
			w.emit(discovery.State{Endpoints: w.good.Endpoints, Inactive: w.good.Inactive,
				Err: fmt.Errorf("consul: health query for %q: %w", w.name, err)})
			continue
		}
		w.failures = 0
		w.index = nextIndex(w.index, meta.LastIndex)
		w.resolved(entries)
	}
}

// nextIndex is the WaitIndex of the query after one that was sent with
// prev and answered with got, by the rules of Consul's blocking-query
// guide: an index that went backwards (a restored snapshot, a restarted
// agent) resets to 0, a full read; an index is otherwise at least 1, as 0
// would not block and would turn the loop into a busy poll.
func nextIndex(prev, got uint64) uint64 {
	if got < prev {
		return 0
	}
	return max(got, 1)
}

// resolved turns an answer into a State and publishes it.
func (w *watch) resolved(entries []*api.ServiceEntry) {
	cfg := &w.r.cfg
	var active, inactive []discovery.Endpoint
	for _, e := range entries {
		ep, ok, usable := endpoint(e, w.target.Servant)
		if !ok {
			continue
		}
		status := ep.Meta[EndpointMetaStatus]
		switch {
		case !usable:
			inactive = append(inactive, ep)
		case status == api.HealthPassing || cfg.passingOnly:
			active = append(active, ep)
		case status == api.HealthWarning && e.Service.Weights.Warning > 0:
			ep.Weight = e.Service.Weights.Warning
			active = append(active, ep)
		default:
			inactive = append(inactive, ep)
		}
	}
	if set := w.target.SetID; set != "" {
		has := func(ep discovery.Endpoint) bool { return ep.SetID != "" }
		if slices.ContainsFunc(active, has) || slices.ContainsFunc(inactive, has) {
			out := func(ep discovery.Endpoint) bool { return !inSet(set, ep.SetID) }
			active = slices.DeleteFunc(active, out)
			inactive = slices.DeleteFunc(inactive, out)
		}
	}
	st := discovery.State{Endpoints: discovery.Normalize(active), Inactive: discovery.Normalize(inactive)}
	// An endpoint listed both ways (two registrations of one address) is
	// active.
	st.Inactive = slices.DeleteFunc(st.Inactive, func(ep discovery.Endpoint) bool {
		_, found := slices.BinarySearchFunc(st.Endpoints, ep.Key(), func(e discovery.Endpoint, k string) int {
			return cmp.Compare(e.Key(), k)
		})
		return found
	})
	if len(st.Endpoints) == 0 && cfg.empty == KeepLastGood && len(w.good.Endpoints) > 0 {
		w.emit(discovery.State{Endpoints: w.good.Endpoints, Inactive: w.good.Inactive,
			Err: fmt.Errorf("%w (service %q)", ErrEmpty, w.name)})
		return
	}
	if len(st.Endpoints) == 0 {
		st.Endpoints = nil
	}
	if len(st.Inactive) == 0 {
		st.Inactive = nil
	}
	w.good = st
	w.emit(st)
}

// emit publishes st unless it is what was published last.
func (w *watch) emit(st discovery.State) {
	if w.published && equalEndpoints(st.Endpoints, w.last.Endpoints) &&
		equalEndpoints(st.Inactive, w.last.Inactive) && sameErr(st.Err, w.last.Err) {
		return
	}
	w.published, w.last = true, st
	w.publish(discovery.State{Endpoints: cloneEndpoints(st.Endpoints), Inactive: cloneEndpoints(st.Inactive), Err: st.Err})
}

func sameErr(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Error() == b.Error()
}

// pacer is a token bucket with a burst of two, kept as the time the next
// token is due (GCRA).
type pacer struct {
	interval time.Duration
	tat      time.Time
}

// next returns how long to wait before the query about to be sent at now.
func (p *pacer) next(now time.Time) time.Duration {
	if p.interval <= 0 {
		return 0
	}
	if p.tat.Before(now) {
		p.tat = now
	}
	d := p.tat.Add(-p.interval).Sub(now) // a burst of 2: one token may be taken early
	p.tat = p.tat.Add(p.interval)
	return max(d, 0)
}

// backoff returns the wait after n failures in a row: min·2^(n-1) up to
// max, less a random part of up to a half.
func backoff(n int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + rand.N(d/2+1)
}
