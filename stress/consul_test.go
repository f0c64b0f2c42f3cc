package stress

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/gotars/tars"
	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/discovery/consul"
	"github.com/gotars/tars/discovery/consul/consultest"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/transport"
)

// The Consul settings of TestConsulFaults.
const (
	consulTTL         = 2 * time.Second        // the registrations' TTL check; Run beats every third of it
	consulMinInterval = 200 * time.Millisecond // the resolver's query pace: one query cycle
	consulBackoffMin  = 50 * time.Millisecond
	consulBackoffMax  = 500 * time.Millisecond
)

// TestConsulFaults: three backends registered with a real Consul agent
// (v1.15.4, -dev, on loopback) by a Registrar with TTL checks kept passing
// by its Run; 64 callers through one client resolving with consul.Resolver
// (KeepLastGood, 200 ms minimum interval between queries).
//
//   - The agent is restarted (SIGTERM, 1 s down, then started again on the
//     same ports; a -dev agent comes back empty and the Registrar's Run
//     registers again): no call fails, and the resolver publishes the
//     three endpoints without error again within a heartbeat (TTL/3) + the
//     longest back-off + two query cycles + 500 ms of the agent's return.
//   - One instance is deregistered: no call begins on it later than one
//     query cycle (+100 ms) after, and no call fails.
//   - The whole service is deregistered while a second client resolves it
//     with PublishEmpty (the default): no call of that client begins on a
//     backend later than one query cycle (+100 ms) after; its calls then
//     fail with CodeAdapterNull ("no endpoints"). The KeepLastGood client
//     keeps calling the last non-empty set it was given, as that policy
//     says (the instances go one by one: the last one left).
func TestConsulFaults(t *testing.T) {
	const (
		settle    = time.Second
		agentDown = time.Second // between the agent's exit and its start again
		deregLag  = consulMinInterval + 100*time.Millisecond
	)
	recoverBound := consulTTL/3 + consulBackoffMax + 2*consulMinInterval + 500*time.Millisecond
	ag := startConsul(t)
	client := consulClient(t, ag)

	f := startFleet(t, 3)
	rr := consul.NewRegistrar(client, consul.WithTTL(consulTTL))
	regs := make([]discovery.Registration, len(f.backends))
	for i, b := range f.backends {
		regs[i] = discovery.Registration{Servant: userapi.Servant, Endpoint: discovery.Endpoint{Address: transport.Address{
			Network: "tcp", Host: "127.0.0.1", Port: portOf(b.tcp), Timeout: 3 * time.Second, Weight: -1}}}
		if err := rr.Register(context.Background(), regs[i]); err != nil {
			t.Fatal(err)
		}
	}
	runCtx, stopRun := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- rr.Run(runCtx) }()
	defer func() { stopRun(); <-ran }()

	resolverOpts := []consul.ResolverOption{consul.WithWaitTime(time.Minute), consul.WithMinInterval(consulMinInterval),
		consul.WithBackoff(consulBackoffMin, consulBackoffMax)}
	lt := f.load
	seen := &observed{r: consul.NewResolver(client, append(resolverOpts, consul.WithEmpty(consul.KeepLastGood))...), t0: lt.t0}
	c := newClient(t, userapi.Servant, tars.WithResolver(seen), tars.WithEndpointMiddleware(lt.middleware))
	f.warm(t, c, lt.eps...)
	b := lt.eps[1]

	run := lt.callers(c, fleetCallers, fleetCallTimeout)
	time.Sleep(settle)

	// The agent restarted.
	tStop := lt.now()
	ag.Stop()
	tDown := lt.now()
	time.Sleep(agentDown)
	if err := ag.Begin(); err != nil {
		t.Fatal(err)
	}
	tBack := lt.now() // the agent has a leader again
	rec, ok := seen.waitFor(tBack, 10*time.Second, func(st discovery.State) bool { return st.Err == nil && len(st.Endpoints) == 3 })
	time.Sleep(settle)

	// One instance deregistered.
	tDereg := lt.now()
	if err := rr.Deregister(context.Background(), regs[1]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(settle)

	// The whole service deregistered, under a PublishEmpty client.
	lt2 := newLoadTracker(f.backends)
	c2 := newClient(t, userapi.Servant, tars.WithResolver(consul.NewResolver(client, resolverOpts...)),
		tars.WithEndpointMiddleware(lt2.middleware))
	f2 := &fleet{backends: f.backends, load: lt2}
	f2.warm(t, c2, lt2.eps[0], lt2.eps[2])
	run2 := lt2.callersPausing(c2, 8, fleetCallTimeout, 10*time.Millisecond)
	time.Sleep(settle / 2)
	tGone := lt2.now()
	tGone1 := lt.now()
	for _, i := range []int{0, 2} {
		if err := rr.Deregister(context.Background(), regs[i]); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(settle)
	tEnd2 := lt2.now()
	fails2 := run2.finish()
	tEnd := lt.now()
	fails := run.finish()

	lastB, _ := b.lastStart(tDereg, tGone1)
	var lastAny time.Duration
	for _, e := range lt2.eps {
		if l, ok := e.lastStart(tGone, tEnd2); ok {
			lastAny = max(lastAny, l)
		}
	}
	goneLag := max(lastAny-tGone, 0)
	adapterNull := 0
	for _, f := range failsIn(fails2, tGone, tEnd2) {
		if f.code == tars.CodeAdapterNull {
			adapterNull++
		}
	}
	t.Logf("consul: agent restart: down %v (SIGTERM took %v), resolver good again %v after the agent's return (bound %v; states published meanwhile: %s); "+
		"answered during the restart %s; instance deregistered → its last call began %v after (bound %v); "+
		"service deregistered → the PublishEmpty client's last call began %v after (bound %v), then %d of its %d failures CodeAdapterNull; "+
		"the KeepLastGood client answered %s after; failures of the main client %s",
		tBack-tStop, tDown-tStop, rec, recoverBound, seen.since(tStop), lt.counts(tStop, tBack+rec),
		lastB-tDereg, deregLag, goneLag, deregLag, adapterNull, len(failsIn(fails2, tGone, tEnd2)),
		lt.counts(tGone1, tEnd), byCode(fails))
	if len(fails) > 0 {
		t.Errorf("%d calls of the main client failed: %s", len(fails), byCode(fails))
	}
	if !ok || rec > recoverBound {
		t.Errorf("after the agent's restart the resolver published the three endpoints without error %v later (found %t), want within %v", rec, ok, recoverBound)
	}
	if lastB-tDereg > deregLag {
		t.Errorf("a call began on the deregistered instance %v after its deregistration, want within %v", lastB-tDereg, deregLag)
	}
	if goneLag > deregLag {
		t.Errorf("a call of the PublishEmpty client began %v after the service was deregistered, want within %v", goneLag, deregLag)
	}
	if len(failsIn(fails2, tGone+deregLag, tEnd2)) == 0 || adapterNull == 0 {
		t.Errorf("the PublishEmpty client's calls did not fail with CodeAdapterNull once the service was gone: %s", byCode(failsIn(fails2, tGone, tEnd2)))
	}
	if n := len(failsIn(fails2, 0, tGone)); n > 0 {
		t.Errorf("%d calls of the PublishEmpty client failed before the service was deregistered", n)
	}
	if lt.answeredIn(tGone1+deregLag, tEnd) == 0 {
		t.Errorf("the KeepLastGood client stopped calling its last non-empty set: %s", lt.counts(tGone1+deregLag, tEnd))
	}
}

// observed is a Resolver whose published states are recorded with their
// times.
type observed struct {
	r  discovery.Resolver
	t0 time.Time

	mu     sync.Mutex
	states []stampedState
	signal chan struct{}
}

type stampedState struct {
	at time.Duration
	st discovery.State
}

func (o *observed) Watch(ctx context.Context, t discovery.Target, publish func(discovery.State)) error {
	return o.r.Watch(ctx, t, func(st discovery.State) {
		o.mu.Lock()
		o.states = append(o.states, stampedState{time.Since(o.t0), st})
		if o.signal != nil {
			close(o.signal)
			o.signal = nil
		}
		o.mu.Unlock()
		publish(st)
	})
}

// waitFor waits (up to limit) for a state published after from for which
// ok holds, and returns how long after from it came.
func (o *observed) waitFor(from, limit time.Duration, ok func(discovery.State) bool) (time.Duration, bool) {
	deadline := time.After(limit)
	for {
		o.mu.Lock()
		for _, s := range o.states {
			if s.at >= from && ok(s.st) {
				o.mu.Unlock()
				return s.at - from, true
			}
		}
		ch := make(chan struct{})
		o.signal = ch
		o.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			return limit, false
		}
	}
}

// since shows the states published after from.
func (o *observed) since(from time.Duration) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var parts []string
	for _, s := range o.states {
		if s.at < from {
			continue
		}
		p := fmt.Sprintf("+%dms %d endpoints", (s.at-from)/time.Millisecond, len(s.st.Endpoints))
		if s.st.Err != nil {
			p += fmt.Sprintf(" (%.60s)", s.st.Err.Error())
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

// startConsul starts a real agent (consultest) on free loopback ports,
// stopped at the end of the test.
func startConsul(t *testing.T) *consultest.Agent {
	t.Helper()
	bin, err := consultest.Binary("../scripts/consul.sh")
	if err != nil {
		t.Fatal(err)
	}
	a, err := consultest.Start(bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	return a
}

// consulClient returns a client of agent a, closed at the test's end.
func consulClient(t *testing.T, a *consultest.Agent) *api.Client {
	c := consultest.NewAPIClient(a.Addr)
	t.Cleanup(c.Close)
	return c.Client
}
