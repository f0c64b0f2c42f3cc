package interop

// The TARS registry both ways: gotars' discovery/tarsregistry resolving
// through a registry served by TarsGo's generated QueryF dispatch, TarsGo's
// own client resolving through a registry served by gotars, and the
// EndpointF bytes and .tarsdat files each side writes read by the other.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	tarsgo "github.com/TarsCloud/TarsGo/tars"
	"github.com/TarsCloud/TarsGo/tars/protocol/codec"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/endpointf"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/queryf"
	"github.com/TarsCloud/TarsGo/tars/util/current"

	"github.com/gotars/tars"
	"github.com/gotars/tars/codec/reflectcodec"
	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/discovery/tarsregistry"
	"github.com/gotars/tars/example/userservice/userapi"
	UserService "github.com/gotars/tars/interop/gen/UserService"
)

// tgEndpoint is e as TarsGo's generated EndpointF (which has no nodeName).
func tgEndpoint(e tarsregistry.EndpointF) endpointf.EndpointF {
	return endpointf.EndpointF{Host: e.Host, Port: e.Port, Timeout: e.Timeout, Istcp: e.IsTCP, Grid: e.Grid,
		Groupworkid: e.GroupWorkID, Grouprealid: e.GroupRealID, SetId: e.SetID, Qos: e.QoS, BakFlag: e.BakFlag,
		Weight: e.Weight, WeightType: e.WeightType, AuthType: e.AuthType}
}

// ourEndpoint is TarsGo's e as ours.
func ourEndpoint(e endpointf.EndpointF) tarsregistry.EndpointF {
	return tarsregistry.EndpointF{Host: e.Host, Port: e.Port, Timeout: e.Timeout, IsTCP: e.Istcp, Grid: e.Grid,
		GroupWorkID: e.Groupworkid, GroupRealID: e.Grouprealid, SetID: e.SetId, QoS: e.Qos, BakFlag: e.BakFlag,
		Weight: e.Weight, WeightType: e.WeightType, AuthType: e.AuthType}
}

func tgEndpoints(es []tarsregistry.EndpointF) []endpointf.EndpointF {
	out := make([]endpointf.EndpointF, len(es))
	for i, e := range es {
		out[i] = tgEndpoint(e)
	}
	return out
}

// regQuery is one lookup a registry answered.
type regQuery struct {
	Method, ID, SetID, NodeName string
	HasNodeName                 bool
}

// tgLists is one servant's answer.
type tgLists struct{ active, inactive []endpointf.EndpointF }

// tgRegistry implements TarsGo's generated queryf.QueryFServantWithContext
// from tables; it is served by queryf.NewQueryF()'s Dispatch.
type tgRegistry struct {
	mu      sync.Mutex
	group   map[string]tgLists            // InSameGroup, 4All, findObjectById
	any     map[string]tgLists            // 4Any
	sets    map[string]map[string]tgLists // InSameSet
	queries []regQuery
}

var _ queryf.QueryFServantWithContext = (*tgRegistry)(nil)

func newTGRegistry() *tgRegistry {
	return &tgRegistry{group: map[string]tgLists{}, any: map[string]tgLists{}, sets: map[string]map[string]tgLists{}}
}

func (r *tgRegistry) record(ctx context.Context, method, id, set string) {
	q := regQuery{Method: method, ID: id, SetID: set}
	if m, ok := current.GetRequestContext(ctx); ok {
		q.NodeName, q.HasNodeName = m["node_name"]
	}
	r.queries = append(r.queries, q)
}

func (r *tgRegistry) last() regQuery {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.queries) == 0 {
		return regQuery{}
	}
	return r.queries[len(r.queries)-1]
}

func (r *tgRegistry) FindObjectById(ctx context.Context, id string) ([]endpointf.EndpointF, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.record(ctx, "findObjectById", id, "")
	return r.group[id].active, nil
}

func (r *tgRegistry) lists(table map[string]tgLists, id string, a, i *[]endpointf.EndpointF) (int32, error) {
	l := table[id]
	*a, *i = l.active, l.inactive
	return 0, nil
}

func (r *tgRegistry) FindObjectById4Any(ctx context.Context, id string, a, i *[]endpointf.EndpointF) (int32, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.record(ctx, "findObjectById4Any", id, "")
	return r.lists(r.any, id, a, i)
}

func (r *tgRegistry) FindObjectById4All(ctx context.Context, id string, a, i *[]endpointf.EndpointF) (int32, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.record(ctx, "findObjectById4All", id, "")
	return r.lists(r.group, id, a, i)
}

func (r *tgRegistry) FindObjectByIdInSameGroup(ctx context.Context, id string, a, i *[]endpointf.EndpointF) (int32, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.record(ctx, "findObjectByIdInSameGroup", id, "")
	return r.lists(r.group, id, a, i)
}

func (r *tgRegistry) FindObjectByIdInSameStation(ctx context.Context, id, station string, a, i *[]endpointf.EndpointF) (int32, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.record(ctx, "findObjectByIdInSameStation", id, station)
	return r.lists(r.group, id, a, i)
}

func (r *tgRegistry) FindObjectByIdInSameSet(ctx context.Context, id, set string, a, i *[]endpointf.EndpointF) (int32, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.record(ctx, "findObjectByIdInSameSet", id, set)
	l, ok := r.sets[id][set]
	if !ok {
		return -1, nil
	}
	*a, *i = l.active, l.inactive
	return 0, nil
}

// serveTGRegistry serves r through TarsGo's generated QueryF dispatch on a
// loopback port until the test ends and returns its locator.
func serveTGRegistry(t testing.TB, r *tgRegistry) string {
	addr := idlServeTarsGo(t, queryf.NewQueryF(), r)
	host, port, _ := net.SplitHostPort(addr)
	return fmt.Sprintf("%s@tcp -h %s -p %s -t 3000", tarsregistry.QueryObj, host, port)
}

// gtRegistry is a registry served by gotars from tarsregistry's
// declarations.
type gtRegistry struct {
	mu      sync.Mutex
	group   map[string]tarsregistry.Lists
	sets    map[string]map[string]tarsregistry.SetLists
	queries []regQuery
	locator string
	stop    func()
}

func (r *gtRegistry) record(ctx context.Context, method, id, set string) {
	call, _ := tars.CallFromContext(ctx)
	q := regQuery{Method: method, ID: id, SetID: set}
	q.NodeName, q.HasNodeName = call.Context["node_name"]
	r.mu.Lock()
	r.queries = append(r.queries, q)
	r.mu.Unlock()
}

func (r *gtRegistry) all() []regQuery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.queries)
}

func serveGTRegistry(t *testing.T) *gtRegistry {
	t.Helper()
	r := &gtRegistry{group: map[string]tarsregistry.Lists{}, sets: map[string]map[string]tarsregistry.SetLists{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := tars.NewServer()
	tars.Handle(srv, tarsregistry.QueryObj, tarsregistry.FindObjectByIDInSameGroup, func(ctx context.Context, a tarsregistry.IDArgs) (tarsregistry.Lists, error) {
		r.record(ctx, "findObjectByIdInSameGroup", a.ID, "")
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.group[a.ID], nil
	})
	tars.Handle(srv, tarsregistry.QueryObj, tarsregistry.FindObjectByIDInSameSet, func(ctx context.Context, a tarsregistry.SetArgs) (tarsregistry.SetLists, error) {
		r.record(ctx, "findObjectByIdInSameSet", a.ID, a.SetID)
		r.mu.Lock()
		defer r.mu.Unlock()
		l, ok := r.sets[a.ID][a.SetID]
		if !ok {
			return tarsregistry.SetLists{Ret: -1}, nil
		}
		return l, nil
	})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
			<-done
		})
	}
	t.Cleanup(r.stop)
	r.locator = fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d -t 3000", tarsregistry.QueryObj, ln.Addr().(*net.TCPAddr).Port)
	return r
}

// firstState runs res.Watch until the first state is published.
func firstState(t *testing.T, res *tarsregistry.Resolver, target discovery.Target) discovery.State {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got discovery.State
	n := 0
	res.Watch(ctx, target, func(s discovery.State) { got, n = s, n+1; cancel() })
	if n != 1 {
		t.Fatalf("Watch(%+v) published %d states", target, n)
	}
	return got
}

// endpointOf is the gotars server at addr as the registry lists it.
func endpointOf(t testing.TB, addr string, node string) tarsregistry.EndpointF {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	var p int32
	fmt.Sscan(port, &p)
	return tarsregistry.EndpointF{Host: host, Port: p, Timeout: 60000, IsTCP: tarsregistry.IsTCP, NodeName: node}
}

// Our resolver asks a registry served by TarsGo's generated QueryF dispatch,
// finds three gotars example servers and calls each of them.
func TestRegistryResolverThroughTarsGoRegistry(t *testing.T) {
	var live []tarsregistry.EndpointF
	for range 3 {
		live = append(live, endpointOf(t, rpcStartGotars(t).addr, ""))
	}
	dead := endpointOf(t, "127.0.0.1:1", "")
	reg := newTGRegistry()
	reg.group[userapi.Servant] = tgLists{active: tgEndpoints(live), inactive: tgEndpoints([]tarsregistry.EndpointF{dead})}
	setEp := live[1]
	setEp.SetID = "demo.sz.1"
	reg.sets[userapi.Servant] = map[string]tgLists{"demo.sz.1": {active: tgEndpoints([]tarsregistry.EndpointF{setEp})}}
	reg.any[userapi.Servant] = tgLists{active: tgEndpoints(live), inactive: tgEndpoints([]tarsregistry.EndpointF{dead, endpointOf(t, "127.0.0.1:2", "")})}
	locator := serveTGRegistry(t, reg)

	res, err := tarsregistry.New(locator, tarsregistry.WithNodeName("node-7"))
	if err != nil {
		t.Fatal(err)
	}
	s := firstState(t, res, discovery.Target{Servant: userapi.Servant})
	if s.Err != nil || len(s.Endpoints) != 3 || len(s.Inactive) != 1 || s.Inactive[0].Port != 1 {
		t.Fatalf("state %+v", s)
	}
	if q := reg.last(); q.Method != "findObjectByIdInSameGroup" || q.ID != userapi.Servant || q.NodeName != "node-7" {
		t.Errorf("TarsGo's dispatch saw %+v", q)
	}
	for i, e := range s.Endpoints {
		c, err := tars.NewClient(userapi.Servant + "@" + e.Address.String())
		if err != nil {
			t.Fatal(err)
		}
		r, err := userapi.CreateUser.Call(context.Background(), c, userapi.UserInfoArgs{UserInfo: userapi.UserInfo{UserName: fmt.Sprint("u", i), Email: "e@x"}})
		c.Close()
		if err != nil || r.Ret != 0 || r.Result.UserID != 1 {
			t.Errorf("createUser on %v: %+v, %v", e.Address, r, err)
		}
	}

	s = firstState(t, res, discovery.Target{Servant: userapi.Servant, SetID: "demo.sz.1"})
	if q := reg.last(); q.Method != "findObjectByIdInSameSet" || q.SetID != "demo.sz.1" {
		t.Errorf("TarsGo's dispatch saw %+v", q)
	}
	if s.Err != nil || len(s.Endpoints) != 1 || s.Endpoints[0].Port != int(setEp.Port) || s.Endpoints[0].SetID != "demo.sz.1" {
		t.Errorf("set state %+v", s)
	}
	s = firstState(t, res, discovery.Target{Servant: userapi.Servant, SetID: "demo.gz.1"})
	if qe := (*tarsregistry.QueryError)(nil); !errors.As(s.Err, &qe) || qe.Ret != -1 {
		t.Errorf("unknown set: %v", s.Err)
	}

	resAny, _ := tarsregistry.New(locator, tarsregistry.WithAnyGroup())
	s = firstState(t, resAny, discovery.Target{Servant: userapi.Servant})
	if q := reg.last(); q.Method != "findObjectById4Any" || q.HasNodeName {
		t.Errorf("TarsGo's dispatch saw %+v", q)
	}
	if s.Err != nil || len(s.Endpoints) != 3 || len(s.Inactive) != 2 {
		t.Errorf("4Any state %+v", s)
	}
}

// randomEndpoints returns n random EndpointF values (every field, edge
// values included), without nodeName: what TarsGo's struct can carry.
func randomEndpoints(seed uint64, n int) []tarsregistry.EndpointF {
	g := newValueGen(seed)
	out := make([]tarsregistry.EndpointF, n)
	for i := range out {
		g.fill(reflect.ValueOf(&out[i]).Elem())
		out[i].NodeName = ""
	}
	return out
}

// Every EndpointF TarsGo writes, our decoder reads: byte for byte through
// both codecs, and in every QueryF answer of TarsGo's generated dispatch.
func TestRegistryEndpointFFromTarsGo(t *testing.T) {
	eps := randomEndpoints(8, 2000)
	for i, e := range eps {
		buf := codec.NewBuffer()
		te := tgEndpoint(e)
		if err := te.WriteTo(buf); err != nil {
			t.Fatal(err)
		}
		var got tarsregistry.EndpointF
		if err := reflectcodec.Unmarshal(buf.ToBytes(), &got); err != nil || got != e {
			t.Fatalf("#%d: TarsGo wrote %+v, we read %+v (%v)", i, te, got, err)
		}
		ours, err := reflectcodec.Marshal(&e)
		if err != nil || !slices.Equal(ours, buf.ToBytes()) {
			t.Fatalf("#%d %+v: we write %x, TarsGo %x (%v)", i, e, ours, buf.ToBytes(), err)
		}
		var back endpointf.EndpointF
		if err := back.ReadFrom(codec.NewReader(ours)); err != nil || back != te {
			t.Fatalf("#%d: TarsGo read back %+v (%v)", i, back, err)
		}
	}

	reg := newTGRegistry()
	for i := range 20 {
		id := fmt.Sprintf("App.S%d.Obj", i)
		chunk := eps[i*100 : i*100+100]
		reg.group[id] = tgLists{active: tgEndpoints(chunk[:60]), inactive: tgEndpoints(chunk[60:])}
		reg.any[id] = tgLists{active: tgEndpoints(chunk[30:]), inactive: tgEndpoints(chunk[:30])}
		reg.sets[id] = map[string]tgLists{"a.b.c": {active: tgEndpoints(chunk[:10]), inactive: tgEndpoints(chunk[10:])}}
	}
	c, err := tars.NewClient(serveTGRegistry(t, reg))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	for i := range 20 {
		id := fmt.Sprintf("App.S%d.Obj", i)
		chunk := eps[i*100 : i*100+100]
		check := func(method string, active, inactive []tarsregistry.EndpointF, wantA, wantI []tarsregistry.EndpointF) {
			t.Helper()
			if !slices.Equal(active, wantA) || !slices.Equal(inactive, wantI) {
				t.Errorf("%s(%s): lists differ from what TarsGo wrote", method, id)
			}
		}
		g, err := tarsregistry.FindObjectByIDInSameGroup.Call(ctx, c, tarsregistry.IDArgs{ID: id})
		if err != nil || g.Ret != 0 {
			t.Fatal(err, g.Ret)
		}
		check("findObjectByIdInSameGroup", g.Active, g.Inactive, chunk[:60], chunk[60:])
		a, err := tarsregistry.FindObjectByID4Any.Call(ctx, c, tarsregistry.IDArgs{ID: id})
		if err != nil {
			t.Fatal(err)
		}
		check("findObjectById4Any", a.Active, a.Inactive, chunk[30:], chunk[:30])
		l, err := tarsregistry.FindObjectByID4All.Call(ctx, c, tarsregistry.IDArgs{ID: id})
		if err != nil {
			t.Fatal(err)
		}
		check("findObjectById4All", l.Active, l.Inactive, chunk[:60], chunk[60:])
		s, err := tarsregistry.FindObjectByIDInSameSet.Call(ctx, c, tarsregistry.SetArgs{ID: id, SetID: "a.b.c"})
		if err != nil || s.Ret != 0 {
			t.Fatal(err, s.Ret)
		}
		check("findObjectByIdInSameSet", s.Active, s.Inactive, chunk[:10], chunk[10:])
		st, err := tarsregistry.FindObjectByIDInSameStation.Call(ctx, c, tarsregistry.StationArgs{ID: id, Station: "sz"})
		if err != nil {
			t.Fatal(err)
		}
		check("findObjectByIdInSameStation", st.Active, st.Inactive, chunk[:60], chunk[60:])
		v, err := tarsregistry.FindObjectByID.Call(ctx, c, tarsregistry.IDArgs{ID: id})
		if err != nil {
			t.Fatal(err)
		}
		check("findObjectById", v, nil, chunk[:60], nil)
	}
	if q := reg.last(); q.Method != "findObjectById" {
		t.Errorf("last query %+v", q)
	}
}

// Tag 14 (nodeName), which TarsGo v1.4.6's EndpointF lacks: written by
// TarsGo's codec by hand, with a further unknown tag after it, our decoder
// reads nodeName and skips the rest; written by our encoder, TarsGo's
// generated code reads the other fields and skips it.
func TestRegistryEndpointFTag14(t *testing.T) {
	eps := randomEndpoints(14, 300)
	buf := codec.NewBuffer()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(buf.WriteHead(codec.LIST, 2))
	must(buf.WriteInt32(int32(len(eps)), 0))
	for i := range eps {
		eps[i].NodeName = fmt.Sprintf("node-%d", i)
		te := tgEndpoint(eps[i])
		must(buf.WriteHead(codec.StructBegin, 0))
		must(te.WriteTo(buf))
		must(buf.WriteString(eps[i].NodeName, 14))
		must(buf.WriteInt64(int64(i), 20)) // a field newer still
		must(buf.WriteHead(codec.StructEnd, 0))
	}
	var got struct {
		Active []tarsregistry.EndpointF `tars:"2"`
	}
	if err := reflectcodec.Unmarshal(buf.ToBytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Active, eps) {
		t.Fatalf("read %d endpoints, not those TarsGo wrote", len(got.Active))
	}

	ours, err := reflectcodec.Marshal(&got)
	if err != nil {
		t.Fatal(err)
	}
	r := codec.NewReader(ours)
	var length int32
	_, _, err = r.SkipToNoCheck(2, true)
	must(err)
	must(r.ReadInt32(&length, 0, true))
	for i := range int(length) {
		var te endpointf.EndpointF
		must(te.ReadBlock(r, 0, true))
		want := eps[i]
		want.NodeName = ""
		if ourEndpoint(te) != want {
			t.Fatalf("#%d: TarsGo read %+v from our bytes", i, te)
		}
	}
}

// TarsGo's own client, given only a locator and a servant name without
// '@', resolves through a registry served by gotars (whose answers carry
// tag 14) and calls the gotars server it lists; with tars.WithSet it asks
// findObjectByIdInSameSet.
func TestRegistryTarsGoClientThroughOurRegistry(t *testing.T) {
	srvA, srvB := rpcStartGotars(t), rpcStartGotars(t)
	reg := serveGTRegistry(t)
	reg.group[userapi.Servant] = tarsregistry.Lists{
		Active:   []tarsregistry.EndpointF{endpointOf(t, srvA.addr, "node-a")},
		Inactive: []tarsregistry.EndpointF{endpointOf(t, "127.0.0.1:1", "node-x")},
	}
	setEp := endpointOf(t, srvB.addr, "node-b")
	setEp.SetID = "demo.sz.1"
	reg.sets[userapi.Servant] = map[string]tarsregistry.SetLists{"demo.sz.1": {Active: []tarsregistry.EndpointF{setEp}}}

	comm := tarsgo.NewCommunicator()
	comm.SetProperty("locator", reg.locator)
	cli := UserService.NewUserServiceClient(userapi.Servant, comm)
	var out UserService.UserInfo
	ret, err := cli.CreateUser(&UserService.UserInfo{UserName: "ada", Email: "ada@x"}, &out)
	if err != nil || ret != 0 || out.UserId != 1 {
		t.Fatalf("TarsGo createUser through the registry: %d %+v %v", ret, out, err)
	}
	qs := reg.all()
	if len(qs) == 0 || qs[0].Method != "findObjectByIdInSameGroup" || qs[0].ID != userapi.Servant {
		t.Fatalf("registry queries %+v", qs)
	}

	setCli := UserService.NewUserServiceClient(userapi.Servant, comm, tarsgo.WithSet("demo.sz.1"))
	ret, err = setCli.CreateUser(&UserService.UserInfo{UserName: "bob", Email: "bob@x"}, &out)
	if err != nil || ret != 0 || out.UserId != 1 { // srvB's first user
		t.Fatalf("TarsGo createUser in a set: %d %+v %v", ret, out, err)
	}
	found := false
	for _, q := range reg.all() {
		found = found || q.Method == "findObjectByIdInSameSet" && q.SetID == "demo.sz.1"
	}
	if !found {
		t.Errorf("no findObjectByIdInSameSet among %+v", reg.all())
	}
	// Each user went to its own server.
	for _, tc := range []struct {
		srv  *rpcGotarsServer
		name string
	}{{srvA, "ada"}, {srvB, "bob"}} {
		c := rpcGotarsClient(t, tc.srv.Obj())
		u, err := userapi.GetUser.Call(context.Background(), c, userapi.UserIDArgs{UserID: 1})
		if err != nil || u.UserName != tc.name {
			t.Errorf("%s: user 1 is %+v, %v", tc.srv.addr, u, err)
		}
	}
}
