package consul

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/transport"
	"github.com/hashicorp/consul/api"
)

func reg(servant string, ep discovery.Endpoint) discovery.Registration {
	return discovery.Registration{Servant: servant, Endpoint: ep}
}

// register registers and deregisters at the test's end.
func register(t *testing.T, r *Registrar, rg discovery.Registration) {
	t.Helper()
	if err := r.Register(context.Background(), rg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Deregister(context.Background(), rg) })
}

// TestRegisterResolve registers endpoints with every TARS field and reads
// them back through a Watch, and checks what the agent holds.
func TestRegisterResolve(t *testing.T) {
	client := shared.client(t)
	rr := NewRegistrar(client)
	const servant = "Test.Resolve.HelloObj"
	s1, s2 := listen(t), listen(t)

	e1 := s1.endpoint()
	e1.Weight, e1.WeightType, e1.Timeout = 30, 1, 2500*time.Millisecond
	e1.SetID = "gz.sz.1"
	e1.Meta = map[string]string{"version": "1.2.0", "zone_a": "x"}
	e2 := s2.endpoint()
	e2.Network = "ssl"
	e2.Weight = 0 // TARS's "no traffic" weight, which Consul's Weights cannot hold
	e2.Auth = 1
	register(t, rr, reg(servant, e1))
	register(t, rr, reg(servant, e2))

	w := startWatch(t, NewResolver(client, fast...), discovery.Target{Servant: servant})
	st := w.waitFor(t, "both endpoints", hasKeys(s1.hostPort(), s2.hostPort()))
	if len(st.Inactive) != 0 {
		t.Errorf("Inactive = %s, want none", show(st))
	}
	if st.Endpoints[0].Key() > st.Endpoints[1].Key() {
		t.Errorf("endpoints not sorted by Key: %s", show(st))
	}
	for _, got := range st.Endpoints {
		want := e1
		if got.Port == s2.Port {
			want = e2
		}
		if got.Address != want.Address {
			t.Errorf("endpoint %v: Address = %+v, want %+v", got.HostPort(), got.Address, want.Address)
		}
		if got.SetID != want.SetID || got.NodeName != "gotars-test" {
			t.Errorf("endpoint %v: SetID %q NodeName %q, want %q gotars-test", got.HostPort(), got.SetID, got.NodeName, want.SetID)
		}
		wantMeta := maps.Clone(want.Meta)
		if wantMeta == nil {
			wantMeta = map[string]string{}
		}
		wantMeta[EndpointMetaServiceID] = ServiceID(servant, want.Host, want.Port)
		wantMeta[EndpointMetaDatacenter] = "dc1"
		wantMeta[EndpointMetaStatus] = "passing"
		if !maps.Equal(got.Meta, wantMeta) {
			t.Errorf("endpoint %v: Meta = %v, want %v", got.HostPort(), got.Meta, wantMeta)
		}
	}

	// What the agent holds: the mapped name, the ID, Meta keys without
	// dots, the weights, one passing check with DeregisterCriticalServiceAfter.
	svc, _, err := client.Agent().Service(ServiceID(servant, s1.Host, s1.Port), nil)
	if err != nil {
		t.Fatal(err)
	}
	if svc.Service != "test-resolve-helloobj" || svc.Meta[MetaServant] != servant ||
		svc.Meta[MetaTimeout] != "2500" || svc.Meta[MetaSet] != "gz.sz.1" || svc.Weights.Passing != 30 {
		t.Errorf("agent service = %+v", svc)
	}
	for k := range svc.Meta {
		if strings.Contains(k, ".") {
			t.Errorf("Meta key %q has a dot", k)
		}
	}
	checks, err := client.Agent().Checks()
	if err != nil {
		t.Fatal(err)
	}
	c := checks[checkID(svc.ID)]
	if c == nil || c.Type != "tcp" || c.Status != api.HealthPassing {
		t.Fatalf("check of %s = %+v, want a passing tcp check", svc.ID, c)
	}
	// The agent does not report the check's definition (its address,
	// DeregisterCriticalServiceAfter), and reaps
	// no sooner than 1 min plus its 30 s reap interval:
	// TestServiceRegistration checks what is sent.
}

// TestServiceRegistration checks the registration Register sends: the
// check of each mode and DeregisterCriticalServiceAfter, never below
// Consul's minimum of 1 min.
func TestServiceRegistration(t *testing.T) {
	ep := discovery.Endpoint{Address: transport.Address{Network: "udp", Host: "10.0.0.7", Port: 18015, Weight: 5}}
	for _, tc := range []struct {
		opts       []RegistrarOption
		deregister string
		check      func(*api.AgentServiceCheck) bool
	}{
		{nil, "1m0s", func(c *api.AgentServiceCheck) bool {
			return c.UDP == "10.0.0.7:18015" && c.TCP == "" && c.Interval == "10s" && c.Timeout == "5s" && c.TTL == ""
		}},
		{[]RegistrarOption{WithDeregisterAfter(10 * time.Second), WithCheck(2*time.Second, time.Second)}, "1m0s",
			func(c *api.AgentServiceCheck) bool { return c.UDP != "" && c.Interval == "2s" && c.Timeout == "1s" }},
		{[]RegistrarOption{WithDeregisterAfter(5 * time.Minute), WithTTL(15 * time.Second)}, "5m0s",
			func(c *api.AgentServiceCheck) bool {
				return c.TTL == "15s" && c.UDP == "" && c.TCP == "" && c.Interval == ""
			}},
	} {
		cfg := newRegistrarConfig(tc.opts)
		svc, err := cfg.service(reg("App.Server.Obj", ep))
		if err != nil {
			t.Fatal(err)
		}
		c := svc.Check
		if c.DeregisterCriticalServiceAfter != tc.deregister || c.Status != api.HealthPassing ||
			c.CheckID != "service:App.Server.Obj-10.0.0.7-18015" || !tc.check(c) {
			t.Errorf("%v: check %+v, want DeregisterCriticalServiceAfter %s", tc.opts, c, tc.deregister)
		}
		if svc.Name != "app-server-obj" || svc.Weights.Passing != 5 || svc.Meta[MetaTransport] != "udp" {
			t.Errorf("%v: service %+v", tc.opts, svc)
		}
	}
}

// TestWatchFollowsChanges: a second registration arrives within the
// blocking query that is waiting (the wait is a minute; the bound 20 s), a
// deregistration likewise, and deregistering twice is not an error.
func TestWatchFollowsChanges(t *testing.T) {
	client := shared.client(t)
	rr := NewRegistrar(client)
	const servant = "Test.Changes.Obj"
	s1, s2 := listen(t), listen(t)
	register(t, rr, reg(servant, s1.endpoint()))

	w := startWatch(t, NewResolver(client, fast...), discovery.Target{Servant: servant})
	w.waitFor(t, "the first endpoint", hasKeys(s1.hostPort()))
	time.Sleep(200 * time.Millisecond) // let the next query block

	start := time.Now()
	register(t, rr, reg(servant, s2.endpoint()))
	w.waitFor(t, "the second registration", hasKeys(s1.hostPort(), s2.hostPort()))
	t.Logf("registration seen after %v", time.Since(start))

	start = time.Now()
	if err := rr.Deregister(context.Background(), reg(servant, s1.endpoint())); err != nil {
		t.Fatal(err)
	}
	w.waitFor(t, "the deregistration", hasKeys(s2.hostPort()))
	t.Logf("deregistration seen after %v", time.Since(start))

	// Withdrawing again, or what was never registered, is success (404).
	if err := rr.Deregister(context.Background(), reg(servant, s1.endpoint())); err != nil {
		t.Errorf("second Deregister: %v", err)
	}
	if err := rr.Deregister(context.Background(), reg("Never.Registered.Obj", s1.endpoint())); err != nil {
		t.Errorf("Deregister of an unknown service: %v", err)
	}
}

// TestEmptyPolicy: PublishEmpty publishes the empty set once the last
// instance is gone; KeepLastGood keeps the last set with ErrEmpty, and
// clears the error when an instance is back.
func TestEmptyPolicy(t *testing.T) {
	client := shared.client(t)
	rr := NewRegistrar(client)
	const servant = "Test.Empty.Obj"
	s := listen(t)
	register(t, rr, reg(servant, s.endpoint()))

	publish := startWatch(t, NewResolver(client, opts(WithEmpty(PublishEmpty))...), discovery.Target{Servant: servant})
	keep := startWatch(t, NewResolver(client, opts(WithEmpty(KeepLastGood))...), discovery.Target{Servant: servant})
	publish.waitFor(t, "the endpoint", hasKeys(s.hostPort()))
	keep.waitFor(t, "the endpoint", hasKeys(s.hostPort()))

	if err := rr.Deregister(context.Background(), reg(servant, s.endpoint())); err != nil {
		t.Fatal(err)
	}
	publish.waitFor(t, "the empty set", hasKeys())
	st := keep.waitFor(t, "the kept set", func(st discovery.State) bool { return st.Err != nil })
	if !errors.Is(st.Err, ErrEmpty) || !sameKeys(st.Endpoints, []string{s.hostPort()}) {
		t.Errorf("KeepLastGood after the last deregistration: %s, want the endpoint and ErrEmpty", show(st))
	}

	register(t, rr, reg(servant, s.endpoint()))
	publish.waitFor(t, "the endpoint back", hasKeys(s.hostPort()))
	keep.waitFor(t, "the error cleared", hasKeys(s.hostPort()))

	// A first answer that is empty publishes the empty set, under both.
	for _, p := range []EmptyPolicy{PublishEmpty, KeepLastGood} {
		w := startWatch(t, NewResolver(client, opts(WithEmpty(p))...), discovery.Target{Servant: "Test.Empty.NoneObj"})
		w.waitFor(t, p.String()+": the empty first answer", hasKeys())
	}
}

// TestTTLHeartbeat: a TTL registration stays passing only while Run beats;
// without beats its check goes critical (the endpoint leaves the passing
// set and shows in Inactive with WithPassingOnly(false)); Heartbeat
// registers again a service the agent forgot.
func TestTTLHeartbeat(t *testing.T) {
	client := shared.client(t)
	rr := NewRegistrar(client, WithTTL(time.Second))
	const servant = "Test.TTL.Obj"
	s := listen(t)
	rg := reg(servant, s.endpoint())
	register(t, rr, rg)

	passing := startWatch(t, NewResolver(client, fast...), discovery.Target{Servant: servant})
	all := startWatch(t, NewResolver(client, opts(WithPassingOnly(false))...), discovery.Target{Servant: servant})
	passing.waitFor(t, "the passing endpoint", hasKeys(s.hostPort()))

	// No heartbeat: the TTL (1 s) runs out.
	passing.waitFor(t, "the endpoint gone critical", hasKeys())
	st := all.waitFor(t, "the endpoint inactive", func(st discovery.State) bool {
		return st.Err == nil && len(st.Endpoints) == 0 && sameKeys(st.Inactive, []string{s.hostPort()})
	})
	if got := st.Inactive[0].Meta[EndpointMetaStatus]; got != api.HealthCritical {
		t.Errorf("inactive endpoint status %q, want critical", got)
	}

	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- rr.Run(ctx) }()
	passing.waitFor(t, "the endpoint passing again under Run", hasKeys(s.hostPort()))
	all.waitFor(t, "the endpoint active again", hasKeys(s.hostPort()))

	// The agent forgets the service (as a restarted -dev agent does): the
	// next beat gets 404 and registers it again.
	id := ServiceID(servant, s.Host, s.Port)
	if err := client.Agent().ServiceDeregister(id); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(waitBound); ; {
		if svc, _, err := client.Agent().Service(id, nil); err == nil && svc != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not registered again within %v", id, waitBound)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The watch may or may not have seen the short gap.
	passing.settle(t, "the service registered again by a heartbeat", 500*time.Millisecond, hasKeys(s.hostPort()))

	cancel()
	if err := <-ran; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
	if err := rr.Heartbeat(context.Background()); err != nil {
		t.Errorf("Heartbeat: %v", err)
	}
	// After Deregister a beat does not bring the service back.
	if err := rr.Deregister(context.Background(), rg); err != nil {
		t.Fatal(err)
	}
	if err := rr.Heartbeat(context.Background()); err != nil {
		t.Errorf("Heartbeat with nothing registered: %v", err)
	}
	passing.waitFor(t, "the deregistration", hasKeys())
	if _, _, err := client.Agent().Service(ServiceID(servant, s.Host, s.Port), nil); err == nil {
		t.Error("the service is registered after Deregister and a heartbeat")
	}

	// Without WithTTL, Run has nothing to do.
	if err := NewRegistrar(client).Run(context.Background()); err != nil {
		t.Errorf("Run without WithTTL: %v", err)
	}
}

// TestWarningStatus: an instance whose check warns leaves the passing-only
// set, and is called with its warning weight under WithPassingOnly(false).
func TestWarningStatus(t *testing.T) {
	client := shared.client(t)
	rr := NewRegistrar(client, WithTTL(time.Minute))
	const servant = "Test.Warn.Obj"
	s1, s2 := listen(t), listen(t)
	e1 := s1.endpoint()
	e1.Weight = 7
	register(t, rr, reg(servant, e1))
	register(t, rr, reg(servant, s2.endpoint()))
	passing := startWatch(t, NewResolver(client, fast...), discovery.Target{Servant: servant})
	all := startWatch(t, NewResolver(client, opts(WithPassingOnly(false))...), discovery.Target{Servant: servant})
	passing.waitFor(t, "both", hasKeys(s1.hostPort(), s2.hostPort()))

	if err := client.Agent().UpdateTTL(checkID(ServiceID(servant, s1.Host, s1.Port)), "slow", api.HealthWarning); err != nil {
		t.Fatal(err)
	}
	passing.waitFor(t, "the warning instance gone", hasKeys(s2.hostPort()))
	st := all.waitFor(t, "the warning instance", func(st discovery.State) bool {
		return hasKeys(s1.hostPort(), s2.hostPort())(st) && slices.ContainsFunc(st.Endpoints, func(e discovery.Endpoint) bool {
			return e.Meta[EndpointMetaStatus] == api.HealthWarning
		})
	})
	for _, e := range st.Endpoints {
		if e.Port == s1.Port && (e.Weight != 7 || e.Meta[EndpointMetaStatus] != api.HealthWarning) {
			t.Errorf("warning instance: weight %d status %q, want 7 warning", e.Weight, e.Meta[EndpointMetaStatus])
		}
	}
}

// TestTagFilter: a resolver with tags sees only the instances that carry
// all of them.
func TestTagFilter(t *testing.T) {
	client := shared.client(t)
	const servant = "Test.Tags.Obj"
	s1, s2, s3 := listen(t), listen(t), listen(t)
	register(t, NewRegistrar(client, WithTags("v1")), reg(servant, s1.endpoint()))
	register(t, NewRegistrar(client, WithTags("v1", "canary")), reg(servant, s2.endpoint()))
	register(t, NewRegistrar(client, WithTags("v2")), reg(servant, s3.endpoint()))

	for _, tc := range []struct {
		tags []string
		want []string
	}{
		{nil, []string{s1.hostPort(), s2.hostPort(), s3.hostPort()}},
		{[]string{"v1"}, []string{s1.hostPort(), s2.hostPort()}},
		{[]string{"v1", "canary"}, []string{s2.hostPort()}},
		{[]string{"v2"}, []string{s3.hostPort()}},
		{[]string{"v3"}, nil},
	} {
		w := startWatch(t, NewResolver(client, opts(WithTags(tc.tags...))...), discovery.Target{Servant: servant})
		w.waitFor(t, "tags "+strings.Join(tc.tags, ","), hasKeys(tc.want...))
	}
}

// TestDatacenterFilter: the agent's own datacenter resolves; an unknown
// one is an error the watch publishes and keeps retrying.
func TestDatacenterFilter(t *testing.T) {
	client := shared.client(t)
	const servant = "Test.DC.Obj"
	s := listen(t)
	register(t, NewRegistrar(client), reg(servant, s.endpoint()))

	w := startWatch(t, NewResolver(client, opts(WithDatacenter("dc1"))...), discovery.Target{Servant: servant})
	st := w.waitFor(t, "dc1", hasKeys(s.hostPort()))
	if dc := st.Endpoints[0].Meta[EndpointMetaDatacenter]; dc != "dc1" {
		t.Errorf("datacenter %q, want dc1", dc)
	}

	// Consistent reads (from the leader) resolve the same.
	w = startWatch(t, NewResolver(client, opts(WithDatacenter("dc1"), WithAllowStale(false))...), discovery.Target{Servant: servant})
	w.waitFor(t, "dc1 without stale reads", hasKeys(s.hostPort()))

	w = startWatch(t, NewResolver(client, opts(WithDatacenter("dc-elsewhere"))...), discovery.Target{Servant: servant})
	st = w.waitFor(t, "an error", func(st discovery.State) bool { return st.Err != nil })
	if len(st.Endpoints) != 0 || !strings.Contains(st.Err.Error(), "datacenter") {
		t.Errorf("unknown datacenter: %s, want no endpoints and a datacenter error", show(st))
	}
}

// TestSetFilter: a target's TARS set keeps the instances of that set, or
// of its area with group "*"; a servant without sets is not filtered.
func TestSetFilter(t *testing.T) {
	client := shared.client(t)
	rr := NewRegistrar(client)
	const servant = "Test.Set.Obj"
	s1, s2, s3 := listen(t), listen(t), listen(t)
	for _, x := range []struct {
		s   *server
		set string
	}{{s1, "app.sz.1"}, {s2, "app.sz.2"}, {s3, "app.gz.1"}} {
		ep := x.s.endpoint()
		ep.SetID = x.set
		register(t, rr, reg(servant, ep))
	}
	for _, tc := range []struct {
		set  string
		want []string
	}{
		{"", []string{s1.hostPort(), s2.hostPort(), s3.hostPort()}},
		{"app.sz.1", []string{s1.hostPort()}},
		{"app.sz.*", []string{s1.hostPort(), s2.hostPort()}},
		{"app.bj.1", nil},
	} {
		w := startWatch(t, NewResolver(client, fast...), discovery.Target{Servant: servant, SetID: tc.set})
		w.waitFor(t, "set "+tc.set, hasKeys(tc.want...))
	}
	s4 := listen(t)
	register(t, rr, reg("Test.NoSet.Obj", s4.endpoint()))
	w := startWatch(t, NewResolver(client, fast...), discovery.Target{Servant: "Test.NoSet.Obj", SetID: "app.sz.1"})
	w.waitFor(t, "an unset servant", hasKeys(s4.hostPort()))
}

// TestNameCollision: servants that share a Consul name (Consul compares
// names without case) see only their own instances; an instance another
// tool registered under the name, without tars_servant, is seen by both.
func TestNameCollision(t *testing.T) {
	client := shared.client(t)
	rr := NewRegistrar(client)
	a, b := "Coll.Server.Obj", "coll.server_obj"
	na, _ := ServiceName(a)
	nb, _ := ServiceName(b)
	if na != nb {
		t.Fatalf("ServiceName(%q) = %q, ServiceName(%q) = %q; the test needs a collision", a, na, b, nb)
	}
	sa, sb, sx := listen(t), listen(t), listen(t)
	register(t, rr, reg(a, sa.endpoint()))
	register(t, rr, reg(b, sb.endpoint()))
	foreign := &api.AgentServiceRegistration{ID: "foreign-" + na, Name: na, Address: sx.Host, Port: sx.Port}
	if err := client.Agent().ServiceRegister(foreign); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Agent().ServiceDeregister(foreign.ID) })

	wa := startWatch(t, NewResolver(client, fast...), discovery.Target{Servant: a})
	wb := startWatch(t, NewResolver(client, fast...), discovery.Target{Servant: b})
	wa.waitFor(t, a, hasKeys(sa.hostPort(), sx.hostPort()))
	wb.waitFor(t, b, hasKeys(sb.hostPort(), sx.hostPort()))

	// The round trip: each registration is found under the mapped name and
	// carries its exact servant.
	entries, _, err := client.Health().Service(na, "", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	servants := map[string]bool{}
	for _, e := range entries {
		servants[e.Service.Meta[MetaServant]] = true
	}
	if !servants[a] || !servants[b] || len(entries) != 3 {
		t.Errorf("entries under %q carry servants %v (%d entries), want %q, %q and the foreign one", na, servants, len(entries), a, b)
	}
}

// TestAgentRestart: with the agent stopped the watch keeps publishing the
// last good set with State.Err; restarted on the same ports (empty, as a
// -dev agent is), a TTL registrar's Run registers again and resolution
// recovers with no error.
func TestAgentRestart(t *testing.T) {
	ag := newTestAgent(t)
	client := ag.client(t)
	rr := NewRegistrar(client, WithTTL(2*time.Second))
	const servant = "Test.Restart.Obj"
	s := listen(t)
	register(t, rr, reg(servant, s.endpoint()))
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- rr.Run(ctx) }()
	defer func() { cancel(); <-ran }()

	// Lift the service index well above what a fresh agent reaches, so the
	// restart takes it backwards: a watch that kept its index would block
	// for its whole wait (1 min) on the new agent.
	name, _ := ServiceName(servant)
	for i := range 40 {
		churn := reg(servant, discovery.Endpoint{Address: transport.Address{Host: "127.0.0.2", Port: 1000 + i}})
		if err := rr.Register(context.Background(), churn); err != nil {
			t.Fatal(err)
		}
		if err := rr.Deregister(context.Background(), churn); err != nil {
			t.Fatal(err)
		}
	}
	_, before, err := client.Health().Service(name, "", true, nil)
	if err != nil {
		t.Fatal(err)
	}

	w := startWatch(t, NewResolver(client, fast...), discovery.Target{Servant: servant})
	w.waitFor(t, "the endpoint", hasKeys(s.hostPort()))

	ag.stop()
	st := w.waitFor(t, "an error with the agent down", func(st discovery.State) bool { return st.Err != nil })
	if !sameKeys(st.Endpoints, []string{s.hostPort()}) {
		t.Errorf("agent down: %s, want the last good set with the error", show(st))
	}

	ag.restart(t)
	w.waitFor(t, "recovery after the restart", hasKeys(s.hostPort()))
	_, after, err := client.Health().Service(name, "", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if after.LastIndex >= before.LastIndex {
		t.Errorf("index %d after the restart, %d before: the test meant it to go backwards", after.LastIndex, before.LastIndex)
	}
	t.Logf("service index %d before the restart, %d after", before.LastIndex, after.LastIndex)
}

// TestWatchEndsWithContext: cancelling the context ends a Watch whose
// blocking query is in flight, request and all.
func TestWatchEndsWithContext(t *testing.T) {
	client := shared.client(t)
	s := listen(t)
	register(t, NewRegistrar(client), reg("Test.Cancel.Obj", s.endpoint()))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	got := make(chan discovery.State, 10)
	go func() {
		done <- NewResolver(client, fast...).Watch(ctx, discovery.Target{Servant: "Test.Cancel.Obj"},
			func(s discovery.State) { got <- s })
	}()
	select {
	case <-got:
	case <-time.After(waitBound):
		t.Fatal("no state published")
	}
	time.Sleep(100 * time.Millisecond) // the next query is blocking now
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Watch returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return within 5 s of cancel")
	}
}

// TestBadInput: bad targets and registrations get typed errors before
// anything is sent.
func TestBadInput(t *testing.T) {
	client := shared.client(t)
	r := NewResolver(client)
	for _, servant := range []string{"", "App.Server.Obj@tcp -h 1", "a/b", strings.Repeat("x", MaxServantLength+1)} {
		err := r.Watch(context.Background(), discovery.Target{Servant: servant}, func(discovery.State) { t.Error("published") })
		if !errors.Is(err, ErrServantName) {
			t.Errorf("Watch(%q) = %v, want ErrServantName", servant, err)
		}
	}
	if err := NewResolver(nil).Watch(context.Background(), discovery.Target{Servant: "A.B.C"}, nil); !errors.Is(err, ErrNoClient) {
		t.Errorf("Watch without a client = %v", err)
	}
	if err := NewRegistrar(nil).Register(context.Background(), reg("A.B.C", listen(t).endpoint())); !errors.Is(err, ErrNoClient) {
		t.Errorf("Register without a client = %v", err)
	}

	ok := discovery.Endpoint{Address: transport.Address{Network: "tcp", Host: "127.0.0.1", Port: 18015, Weight: -1}}
	with := func(f func(*discovery.Endpoint)) discovery.Endpoint { e := ok; f(&e); return e }
	rr := NewRegistrar(client)
	for _, tc := range []struct {
		name    string
		servant string
		ep      discovery.Endpoint
		want    error
	}{
		{"bad servant", "A B", ok, ErrServantName},
		{"no host", "A.B.C", with(func(e *discovery.Endpoint) { e.Host = "" }), ErrRegistration},
		{"unspecified host", "A.B.C", with(func(e *discovery.Endpoint) { e.Host = "0.0.0.0" }), ErrRegistration},
		{"host with a slash", "A.B.C", with(func(e *discovery.Endpoint) { e.Host = "a/b" }), ErrRegistration},
		{"port 0", "A.B.C", with(func(e *discovery.Endpoint) { e.Port = 0 }), ErrRegistration},
		{"port 65536", "A.B.C", with(func(e *discovery.Endpoint) { e.Port = 65536 }), ErrRegistration},
		{"transport", "A.B.C", with(func(e *discovery.Endpoint) { e.Network = "quic" }), ErrRegistration},
		{"weight", "A.B.C", with(func(e *discovery.Endpoint) { e.Weight = 70000 }), ErrRegistration},
		{"meta key with a dot", "A.B.C", with(func(e *discovery.Endpoint) { e.Meta = map[string]string{"tars.protocol": "tars"} }), ErrRegistration},
		{"meta key reserved", "A.B.C", with(func(e *discovery.Endpoint) { e.Meta = map[string]string{"consul-x": "1"} }), ErrRegistration},
		{"meta key tars_", "A.B.C", with(func(e *discovery.Endpoint) { e.Meta = map[string]string{MetaSet: "a.b.c"} }), ErrRegistration},
		{"meta value", "A.B.C", with(func(e *discovery.Endpoint) { e.Meta = map[string]string{"k": strings.Repeat("v", 513)} }), ErrRegistration},
	} {
		err := rr.Register(context.Background(), reg(tc.servant, tc.ep))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Register = %v, want %v", tc.name, err, tc.want)
		}
	}
	services, err := client.Agent().Services()
	if err != nil {
		t.Fatal(err)
	}
	for id := range services {
		if strings.HasPrefix(id, "A.B.C-") || strings.HasPrefix(id, "A B") {
			t.Errorf("refused registration %q reached the agent", id)
		}
	}
}
