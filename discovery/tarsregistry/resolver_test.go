package tarsregistry_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/discovery/tarsregistry"
	"github.com/gotars/tars/transport"
)

const servant = "Demo.HelloServer.HelloObj"

func TestNewLocator(t *testing.T) {
	for _, tc := range []struct {
		locator string
		ok      bool
	}{
		{"tars.tarsregistry.QueryObj@tcp -h 10.0.0.1 -p 17890:tcp -h 10.0.0.2 -p 17890", true},
		{"tars.tarsregistry.QueryObj@tcp -h 10.0.0.1 -p 17890 -t 5000", true},
		{"tars.tarsregistry.QueryObj", false},                 // no endpoints
		{"tars.tarsregistry.QueryObj@tcp -h 10.0.0.1", false}, // no port
		{"", false},
		{"tars.tarsregistry.QueryObj@http -h a -p 1", false},
	} {
		r, err := tarsregistry.New(tc.locator)
		if (err == nil) != tc.ok {
			t.Errorf("New(%q) = %v, want ok=%v", tc.locator, err, tc.ok)
		}
		if err == nil && r.Locator() != tc.locator {
			t.Errorf("Locator() = %q, want %q", r.Locator(), tc.locator)
		}
	}
}

func TestBadTarget(t *testing.T) {
	reg := newRegistry(t)
	res := newResolver(t, reg.locator, fast()...)
	for _, target := range []discovery.Target{
		{Servant: ""},
		{Servant: "A.B.C@tcp -h 127.0.0.1 -p 1"},
		{Servant: servant, SetID: "a.b"},
		{Servant: servant, SetID: "a.b.c.d"},
		{Servant: servant, SetID: "*.b.c"},
		{Servant: servant, SetID: "a.*.c"},
		{Servant: servant, SetID: "a..c"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := res.Watch(ctx, target, func(discovery.State) { t.Errorf("%+v: published", target) })
		cancel()
		if !errors.Is(err, tarsregistry.ErrBadTarget) {
			t.Errorf("Watch(%+v) = %v, want ErrBadTarget", target, err)
		}
	}
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if len(reg.queries) != 0 {
		t.Errorf("bad targets queried the registry %d times", len(reg.queries))
	}
}

// The first query runs at once; later answers are published when they
// change, and only then.
func TestRefreshPublishesChanges(t *testing.T) {
	reg := newRegistry(t)
	reg.setGroup(servant, eps(9002, 9001), nil)
	res := newResolver(t, reg.locator, fast()...)
	start := time.Now()
	w := startWatch(t, res, discovery.Target{Servant: servant})
	s := w.next(t)
	if s.Err != nil || !slices.Equal(ports(s.Endpoints), []int{9001, 9002}) || len(s.Inactive) != 0 {
		t.Fatalf("first state %+v, want 9001 and 9002 sorted, no error", s)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("first state after %v", d)
	}
	// Several refreshes of the same answer publish nothing.
	for range 3 {
		<-reg.asked
	}
	select {
	case s := <-w.states:
		t.Fatalf("unchanged answer published %+v", s)
	default:
	}
	reg.setGroup(servant, eps(9003, 9001, 9002), nil)
	s = w.until(t, "three endpoints", func(s discovery.State) bool { return len(s.Endpoints) == 3 })
	if s.Err != nil || !slices.Equal(ports(s.Endpoints), []int{9001, 9002, 9003}) {
		t.Errorf("after the change %+v", s)
	}
	reg.setGroup(servant, eps(9003), nil)
	s = w.until(t, "one endpoint", func(s discovery.State) bool { return len(s.Endpoints) == 1 })
	if s.Endpoints[0].Port != 9003 {
		t.Errorf("after the removal %+v", s)
	}
	if q := reg.lastQuery(t); q.Method != "findObjectByIdInSameGroup" || q.ID != servant {
		t.Errorf("asked %+v, want findObjectByIdInSameGroup(%q)", q, servant)
	}
}

func TestRefreshInterval(t *testing.T) {
	reg := newRegistry(t)
	reg.setGroup(servant, eps(9001), nil)
	res := newResolver(t, reg.locator, tarsregistry.WithRefreshInterval(time.Hour))
	w := startWatch(t, res, discovery.Target{Servant: servant})
	w.next(t)
	time.Sleep(100 * time.Millisecond)
	reg.mu.Lock()
	n := len(reg.queries)
	reg.mu.Unlock()
	if n != 1 {
		t.Errorf("%d queries within 100ms with an hour's refresh interval, want 1", n)
	}
}

// TarsGo's rule: an error keeps the last good list, published again with
// the error; a good answer clears it.
func TestKeepLastGoodOnError(t *testing.T) {
	reg := newRegistry(t)
	reg.setGroup(servant, eps(9001, 9002), eps(9009))
	res := newResolver(t, reg.locator, fast()...)
	w := startWatch(t, res, discovery.Target{Servant: servant})
	if s := w.next(t); s.Err != nil || len(s.Endpoints) != 2 {
		t.Fatalf("first state %+v", s)
	}

	reg.setFail(tars.Errorf(tars.CodeServerUnknownErr, "registry database down"))
	s := w.until(t, "an error", func(s discovery.State) bool { return s.Err != nil })
	if !slices.Equal(ports(s.Endpoints), []int{9001, 9002}) || !slices.Equal(ports(s.Inactive), []int{9009}) {
		t.Errorf("on error %+v, want the last good lists", s)
	}
	if tars.CodeOf(s.Err) != tars.CodeServerUnknownErr {
		t.Errorf("error %v, want the registry's code", s.Err)
	}

	reg.setFail(nil)
	reg.setGroup(servant, eps(9003), nil)
	s = w.until(t, "recovery", func(s discovery.State) bool { return s.Err == nil })
	if !slices.Equal(ports(s.Endpoints), []int{9003}) || len(s.Inactive) != 0 {
		t.Errorf("after recovery %+v", s)
	}

	// The registry goes away altogether.
	reg.stop()
	s = w.until(t, "an error", func(s discovery.State) bool { return s.Err != nil })
	if !slices.Equal(ports(s.Endpoints), []int{9003}) {
		t.Errorf("registry down: %+v, want the last good list", s)
	}
	if c := tars.CodeOf(s.Err); c != tars.CodeProxyConnectErr && c != tars.CodeSendRequestErr {
		t.Errorf("registry down: error %v (code %d)", s.Err, c)
	}
}

// TarsGo's rule (PR #79): an answer without an active endpoint is ignored,
// inactive list included.
func TestKeepLastGoodOnEmpty(t *testing.T) {
	reg := newRegistry(t)
	reg.setGroup(servant, eps(9001), eps(9002))
	res := newResolver(t, reg.locator, fast()...)
	w := startWatch(t, res, discovery.Target{Servant: servant})
	w.next(t)
	reg.setGroup(servant, nil, eps(9001, 9002))
	s := w.until(t, "an error", func(s discovery.State) bool { return s.Err != nil })
	if !errors.Is(s.Err, tarsregistry.ErrNoActive) {
		t.Errorf("error %v, want ErrNoActive", s.Err)
	}
	if !slices.Equal(ports(s.Endpoints), []int{9001}) || !slices.Equal(ports(s.Inactive), []int{9002}) {
		t.Errorf("empty answer: %+v, want the last good lists", s)
	}
	reg.setGroup(servant, eps(9004), nil)
	s = w.until(t, "recovery", func(s discovery.State) bool { return s.Err == nil })
	if !slices.Equal(ports(s.Endpoints), []int{9004}) {
		t.Errorf("after recovery %+v", s)
	}
}

// Nothing known yet and an empty answer: no endpoints, the inactive ones,
// ErrNoActive; an unknown servant likewise (the registry answers 0 and
// empty lists).
func TestEmptyFirstAnswer(t *testing.T) {
	reg := newRegistry(t)
	reg.setGroup(servant, nil, eps(9002))
	res := newResolver(t, reg.locator, fast()...)
	for _, tc := range []struct {
		servant  string
		inactive []int
	}{{servant, []int{9002}}, {"No.Such.Obj", []int{}}} {
		w := startWatch(t, res, discovery.Target{Servant: tc.servant})
		s := w.next(t)
		if !errors.Is(s.Err, tarsregistry.ErrNoActive) || len(s.Endpoints) != 0 || !slices.Equal(ports(s.Inactive), tc.inactive) {
			t.Errorf("%s: %+v", tc.servant, s)
		}
		w.stop(t)
	}
}

func TestActiveAndInactiveApart(t *testing.T) {
	reg := newRegistry(t)
	reg.setGroup(servant, eps(9003, 9001, 9001), eps(9005, 9004))
	res := newResolver(t, reg.locator, fast()...)
	w := startWatch(t, res, discovery.Target{Servant: servant})
	s := w.next(t)
	if !slices.Equal(ports(s.Endpoints), []int{9001, 9003}) || !slices.Equal(ports(s.Inactive), []int{9004, 9005}) {
		t.Errorf("%+v, want active 9001 9003 (deduplicated) and inactive 9004 9005", s)
	}
	reg.setGroup(servant, eps(9003, 9001), eps(9004))
	s = w.until(t, "one inactive", func(s discovery.State) bool { return len(s.Inactive) == 1 })
	if !slices.Equal(ports(s.Endpoints), []int{9001, 9003}) || s.Inactive[0].Port != 9004 {
		t.Errorf("inactive change: %+v", s)
	}
}

func TestSetLookup(t *testing.T) {
	reg := newRegistry(t)
	reg.setGroup(servant, eps(9001), nil)
	reg.sets[servant] = map[string]tarsregistry.SetLists{
		"app.sz.1": {Active: []tarsregistry.EndpointF{{Host: "127.0.0.1", Port: 9101, IsTCP: 1, SetID: "app.sz.1"}}},
		"app.sz.*": {Active: []tarsregistry.EndpointF{{Host: "127.0.0.1", Port: 9101, IsTCP: 1, SetID: "app.sz.1"}, {Host: "127.0.0.1", Port: 9102, IsTCP: 1, SetID: "app.sz.2"}}},
	}
	res := newResolver(t, reg.locator, fast()...)
	for _, tc := range []struct {
		set   string
		ports []int
		ret   int32 // a QueryError's
	}{
		{"", []int{9001}, 0},
		{"app.sz.1", []int{9101}, 0},
		{"app.sz.*", []int{9101, 9102}, 0},
		{"app.gz.1", nil, -1}, // set enabled, nothing found
	} {
		w := startWatch(t, res, discovery.Target{Servant: servant, SetID: tc.set})
		s := w.next(t)
		q := reg.lastQuery(t)
		if tc.set == "" {
			if q.Method != "findObjectByIdInSameGroup" {
				t.Errorf("no set: asked %s", q.Method)
			}
		} else if q.Method != "findObjectByIdInSameSet" || q.SetID != tc.set || q.ID != servant {
			t.Errorf("set %s: asked %+v", tc.set, q)
		}
		var qe *tarsregistry.QueryError
		if tc.ret != 0 {
			if !errors.As(s.Err, &qe) || qe.Ret != tc.ret || qe.SetID != tc.set || qe.Method != "findObjectByIdInSameSet" {
				t.Errorf("set %s: error %v, want a QueryError with %d", tc.set, s.Err, tc.ret)
			}
		} else if s.Err != nil || !slices.Equal(ports(s.Endpoints), tc.ports) {
			t.Errorf("set %s: %+v, want %v", tc.set, s, tc.ports)
		}
		for _, e := range s.Endpoints {
			if tc.set != "" && e.SetID == "" {
				t.Errorf("set %s: endpoint without its set id: %+v", tc.set, e)
			}
		}
		w.stop(t)
	}
}

func TestAnyGroup(t *testing.T) {
	reg := newRegistry(t)
	reg.setGroup(servant, eps(9001), nil)
	reg.any[servant] = tarsregistry.Lists{Active: eps(9001, 9002, 9003), Inactive: eps(9004)}
	res := newResolver(t, reg.locator, fast(tarsregistry.WithAnyGroup())...)
	for _, set := range []string{"", "app.sz.1"} { // 4Any whatever the set
		w := startWatch(t, res, discovery.Target{Servant: servant, SetID: set})
		s := w.next(t)
		if q := reg.lastQuery(t); q.Method != "findObjectById4Any" || q.ID != servant {
			t.Errorf("set %q: asked %+v, want findObjectById4Any", set, q)
		}
		if s.Err != nil || !slices.Equal(ports(s.Endpoints), []int{9001, 9002, 9003}) || !slices.Equal(ports(s.Inactive), []int{9004}) {
			t.Errorf("set %q: %+v", set, s)
		}
		w.stop(t)
	}
}

func TestNodeNameContext(t *testing.T) {
	reg := newRegistry(t)
	reg.setGroup(servant, eps(9001), nil)
	for _, tc := range []struct {
		opts []tarsregistry.Option
		want string // "" for no entry
	}{
		{nil, ""},
		{[]tarsregistry.Option{tarsregistry.WithNodeName("10.1.2.3")}, "10.1.2.3"},
	} {
		w := startWatch(t, newResolver(t, reg.locator, fast(tc.opts...)...), discovery.Target{Servant: servant})
		w.next(t)
		q := reg.lastQuery(t)
		got, ok := q.Context["node_name"]
		if tc.want == "" && ok || tc.want != "" && got != tc.want {
			t.Errorf("request context %v, want node_name %q", q.Context, tc.want)
		}
		w.stop(t)
	}
}

func TestEndpointMapping(t *testing.T) {
	for _, tc := range []struct {
		in   tarsregistry.EndpointF
		want discovery.Endpoint
	}{
		{tarsregistry.EndpointF{Host: "10.0.0.1", Port: 80, Timeout: 3000, IsTCP: 1},
			discovery.Endpoint{Address: transport.Address{Network: "tcp", Host: "10.0.0.1", Port: 80, Timeout: 3 * time.Second}}},
		{tarsregistry.EndpointF{Host: "10.0.0.1", Port: 80, IsTCP: 0},
			discovery.Endpoint{Address: transport.Address{Network: "udp", Host: "10.0.0.1", Port: 80}}},
		{tarsregistry.EndpointF{Host: "h", Port: 443, IsTCP: 2, Weight: 70, WeightType: 1, AuthType: 1, SetID: "a.b.c", NodeName: "node-1",
			Grid: 4, GroupWorkID: 5, GroupRealID: 6, QoS: 8, BakFlag: 9},
			discovery.Endpoint{Address: transport.Address{Network: "ssl", Host: "h", Port: 443, Weight: 70, WeightType: 1, Auth: 1},
				SetID: "a.b.c", NodeName: "node-1"}},
		{tarsregistry.EndpointF{Host: "h", Port: 1, IsTCP: 7}, // unknown: tcp, as TarsGo
			discovery.Endpoint{Address: transport.Address{Network: "tcp", Host: "h", Port: 1}}},
	} {
		got := tarsregistry.ToEndpoint(tc.in)
		meta := map[string]string{
			"grid": strconv.Itoa(int(tc.in.Grid)), "groupworkid": strconv.Itoa(int(tc.in.GroupWorkID)),
			"grouprealid": strconv.Itoa(int(tc.in.GroupRealID)), "qos": strconv.Itoa(int(tc.in.QoS)),
			"bakFlag": strconv.Itoa(int(tc.in.BakFlag)),
		}
		if got.Address != tc.want.Address || got.SetID != tc.want.SetID || got.NodeName != tc.want.NodeName || fmt.Sprint(got.Meta) != fmt.Sprint(meta) {
			t.Errorf("Endpoint(%+v)\n = %+v\nwant %+v meta %v", tc.in, got, tc.want, meta)
		}
	}
}

func TestInvalidEndpointsLeftOut(t *testing.T) {
	reg := newRegistry(t)
	bad := []tarsregistry.EndpointF{{Host: "", Port: 9001, IsTCP: 1}, {Host: "127.0.0.1", Port: 0, IsTCP: 1}, {Host: "127.0.0.1", Port: 70000, IsTCP: 1}}
	reg.setGroup(servant, append(eps(9002), bad...), nil)
	res := newResolver(t, reg.locator, fast()...)
	w := startWatch(t, res, discovery.Target{Servant: servant})
	s := w.next(t)
	var ie *tarsregistry.InvalidEndpointError
	if !errors.As(s.Err, &ie) || len(ie.Dropped) != 3 || !slices.Equal(ports(s.Endpoints), []int{9002}) {
		t.Errorf("%+v, want 9002 and an InvalidEndpointError for 3", s)
	}
	// Only invalid ones: as an empty answer, the last good list kept.
	reg.setGroup(servant, bad[1:], nil)
	s = w.until(t, "an error for 2", func(s discovery.State) bool {
		return errors.As(s.Err, &ie) && len(ie.Dropped) == 2
	})
	if s.Endpoints[0].Port != 9002 {
		t.Errorf("%+v", s)
	}
}

func TestThousandEndpoints(t *testing.T) {
	reg := newRegistry(t)
	var active, inactive []tarsregistry.EndpointF
	for i := range 1000 {
		active = append(active, tarsregistry.EndpointF{Host: fmt.Sprintf("10.0.%d.%d", i/256, i%256), Port: int32(10000 + i), Timeout: 3000, IsTCP: 1,
			Weight: int32(i % 100), WeightType: 1, SetID: "app.sz.1", NodeName: "node", Grid: int32(i)})
	}
	for i := range 100 {
		inactive = append(inactive, ep(int32(20000+i)))
	}
	slices.Reverse(active)
	reg.setGroup(servant, active, inactive)
	res := newResolver(t, reg.locator, fast()...)
	w := startWatch(t, res, discovery.Target{Servant: servant})
	s := w.next(t)
	if s.Err != nil || len(s.Endpoints) != 1000 || len(s.Inactive) != 100 {
		t.Fatalf("%d active, %d inactive, err %v", len(s.Endpoints), len(s.Inactive), s.Err)
	}
	if !slices.IsSortedFunc(s.Endpoints, func(a, b discovery.Endpoint) int { return cmpKey(a, b) }) {
		t.Error("endpoints not sorted by key")
	}
	seen := map[int]bool{}
	for _, e := range s.Endpoints {
		i := e.Port - 10000
		if seen[i] || e.Host != fmt.Sprintf("10.0.%d.%d", i/256, i%256) || e.Weight != i%100 || e.Meta["grid"] != strconv.Itoa(i) {
			t.Fatalf("endpoint %+v", e)
		}
		seen[i] = true
	}
}

func cmpKey(a, b discovery.Endpoint) int {
	switch {
	case a.Key() < b.Key():
		return -1
	case a.Key() > b.Key():
		return 1
	}
	return 0
}

// The published state is the subscriber's: changing it changes nothing in
// the resolver.
func TestPublishedStateIsOwned(t *testing.T) {
	reg := newRegistry(t)
	reg.setGroup(servant, eps(9001, 9002), nil)
	res := newResolver(t, reg.locator, fast()...)
	w := startWatch(t, res, discovery.Target{Servant: servant})
	s := w.next(t)
	s.Endpoints[0].Port = 1
	s.Endpoints[1].Meta["grid"] = "x"
	reg.setGroup(servant, eps(9001, 9002, 9003), nil)
	s = w.until(t, "three", func(s discovery.State) bool { return len(s.Endpoints) == 3 })
	if !slices.Equal(ports(s.Endpoints), []int{9001, 9002, 9003}) || s.Endpoints[1].Meta["grid"] != "0" {
		t.Errorf("%+v", s)
	}
}

func TestCacheWrittenAndRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "Demo.Client.tarsdat")
	reg := newRegistry(t)
	active := []tarsregistry.EndpointF{ep(9001), {Host: "127.0.0.1", Port: 9002, Timeout: 3000, IsTCP: 1, NodeName: "node-2", Weight: 10, WeightType: 1}}
	reg.setGroup(servant, active, eps(9003))
	reg.setGroup("Demo.Other.Obj", eps(9100), nil)
	res := newResolver(t, reg.locator, fast(tarsregistry.WithCacheFile(path))...)
	w := startWatch(t, res, discovery.Target{Servant: servant})
	w.next(t)
	w2 := startWatch(t, res, discovery.Target{Servant: "Demo.Other.Obj"})
	w2.next(t)
	var ac *tarsregistry.AppCache
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		if ac, err = tarsregistry.ReadAppCache(path); err == nil && len(ac.ObjCaches) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cache file: %v, %+v", err, ac)
		}
		time.Sleep(10 * time.Millisecond)
	}
	oc, ok := ac.Lookup(servant, "", reg.locator)
	if !ok || !slices.Equal(oc.Endpoints, active) || !slices.Equal(oc.InactiveEndpoints, eps(9003)) {
		t.Fatalf("cache entry %+v", oc)
	}
	if _, err := time.Parse(time.DateTime, ac.ModifyTime); err != nil {
		t.Errorf("ModifyTime %q: %v", ac.ModifyTime, err)
	}
	w.stop(t)
	w2.stop(t)
	reg.stop()

	// Another process starts while the registry is down: the cache serves.
	res2 := newResolver(t, reg.locator, fast(tarsregistry.WithCacheFile(path))...)
	w3 := startWatch(t, res2, discovery.Target{Servant: servant})
	s := w3.next(t)
	if s.Err == nil || !slices.Equal(ports(s.Endpoints), []int{9001, 9002}) || !slices.Equal(ports(s.Inactive), []int{9003}) {
		t.Fatalf("registry down, cache: %+v", s)
	}
	if s.Endpoints[1].NodeName != "node-2" || s.Endpoints[1].Weight != 10 {
		t.Errorf("cached endpoint %+v", s.Endpoints[1])
	}
	// Entries are keyed by servant, set and locator.
	for _, tc := range []struct {
		locator string
		target  discovery.Target
	}{
		{reg.locator, discovery.Target{Servant: servant, SetID: "a.b.c"}},
		{reg.locator, discovery.Target{Servant: "Demo.Unknown.Obj"}},
		{reg.locator + " ", discovery.Target{Servant: servant}},
	} {
		w := startWatch(t, newResolver(t, tc.locator, fast(tarsregistry.WithCacheFile(path))...), tc.target)
		if s := w.next(t); s.Err == nil || len(s.Endpoints) != 0 {
			t.Errorf("%q %+v: %+v, want nothing from the cache", tc.locator, tc.target, s)
		}
		w.stop(t)
	}
}

// A registry down from the start and no cache: an error, no endpoints,
// retries until it comes up.
func TestRegistryDownAtStart(t *testing.T) {
	port := freePort(t)
	locator := fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d", tarsregistry.QueryObj, port)
	res := newResolver(t, locator, fast(tarsregistry.WithCacheFile(filepath.Join(t.TempDir(), "missing.tarsdat")))...)
	w := startWatch(t, res, discovery.Target{Servant: servant})
	s := w.next(t)
	if s.Err == nil || len(s.Endpoints) != 0 {
		t.Fatalf("%+v", s)
	}
	reg := newRegistryAt(t, fmt.Sprintf("127.0.0.1:%d", port))
	reg.setGroup(servant, eps(9001), nil)
	s = w.until(t, "the registry's answer", func(s discovery.State) bool { return s.Err == nil })
	if !slices.Equal(ports(s.Endpoints), []int{9001}) {
		t.Errorf("%+v", s)
	}
}

// A locator whose first registry is dead: the next query goes to another.
func TestLocatorWithDeadRegistry(t *testing.T) {
	reg := newRegistry(t)
	reg.setGroup(servant, eps(9001), nil)
	locator := fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d:tcp -h 127.0.0.1 -p %d", tarsregistry.QueryObj, freePort(t), reg.port)
	for range 3 { // whichever the client tries first
		w := startWatch(t, newResolver(t, locator, fast()...), discovery.Target{Servant: servant})
		s := w.until(t, "an answer", func(s discovery.State) bool { return s.Err == nil })
		if !slices.Equal(ports(s.Endpoints), []int{9001}) {
			t.Errorf("%+v", s)
		}
		w.stop(t)
	}
}

func TestCacheFileUnwritable(t *testing.T) {
	reg := newRegistry(t)
	reg.setGroup(servant, eps(9001), nil)
	path := filepath.Join(t.TempDir(), "no-such-dir", "x.tarsdat")
	res := newResolver(t, reg.locator, fast(tarsregistry.WithCacheFile(path))...)
	w := startWatch(t, res, discovery.Target{Servant: servant})
	if s := w.next(t); s.Err != nil || len(s.Endpoints) != 1 {
		t.Errorf("an unwritable cache must not spoil the answer: %+v", s)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("file written")
	}
}

func TestWatchEndsWithContext(t *testing.T) {
	reg := newRegistry(t)
	reg.setGroup(servant, eps(9001), nil)
	res := newResolver(t, reg.locator, tarsregistry.WithRefreshInterval(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	n := 0
	err := res.Watch(ctx, discovery.Target{Servant: servant}, func(discovery.State) { n++ })
	if !errors.Is(err, context.DeadlineExceeded) || n != 1 {
		t.Errorf("Watch = %v after %d states, want DeadlineExceeded after 1", err, n)
	}
}
