package consul

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/gotars/tars/discovery"
	"github.com/hashicorp/consul/api"
)

// FuzzEndpointMeta feeds arbitrary Meta values (what any tool may have
// registered) to the entry decoder: it never panics, and keeps only
// values it can use.
func FuzzEndpointMeta(f *testing.F) {
	f.Add("tcp", "3000", "1", "0", "app.sz.1", "1", "x", 18015)
	f.Add("quic", "-5", "x", "-1", "", "99999999999999999999", "", -1)
	f.Add("", "9223372036854775807", "", "", "", "", "", 70000)
	f.Fuzz(func(t *testing.T, tr, timeout, wtype, weight, set, auth, other string, port int) {
		e := &api.ServiceEntry{
			Node: &api.Node{Node: "n", Address: "10.0.0.1", Datacenter: "dc1"},
			Service: &api.AgentService{ID: "id", Service: "a-b-c", Port: port, Weights: api.AgentWeights{Passing: 3},
				Meta: map[string]string{MetaTransport: tr, MetaTimeout: timeout, MetaWeightType: wtype,
					MetaWeight: weight, MetaSet: set, MetaAuth: auth, "other": other}},
		}
		ep, ok, usable := endpoint(e, "A.B.C")
		if !ok {
			t.Fatal("an entry without tars_servant was dropped")
		}
		if usable && (ep.Network != "tcp" && ep.Network != "udp" && ep.Network != "ssl" || ep.Port <= 0 || ep.Port > 65535) {
			t.Fatalf("usable endpoint %+v", ep)
		}
		if ep.Timeout < 0 || ep.Weight < 0 {
			t.Fatalf("negative timeout or weight: %+v", ep)
		}
		if ep.Host != "10.0.0.1" || ep.Meta["other"] != other {
			t.Fatalf("host or Meta lost: %+v", ep)
		}
	})
}

// BenchmarkResolve1000 measures turning an answer of 1,000 instances into a
// published State (decode, sort, de-duplicate, compare with the last set,
// copy).
func BenchmarkResolve1000(b *testing.B) {
	entries := make([]*api.ServiceEntry, 1000)
	for i := range entries {
		entries[i] = &api.ServiceEntry{
			Node: &api.Node{Node: "node" + strconv.Itoa(i%50), Address: "10.0.0.1", Datacenter: "dc1"},
			Service: &api.AgentService{ID: fmt.Sprint("App.Server.Obj-", i), Service: "app-server-obj",
				Address: fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256), Port: 18015,
				Weights: api.AgentWeights{Passing: 10, Warning: 1},
				Meta:    map[string]string{MetaServant: "App.Server.Obj", MetaTransport: "tcp", MetaTimeout: "3000", MetaSet: "app.sz.1"}},
			Checks: api.HealthChecks{{CheckID: "service:x", Status: api.HealthPassing}},
		}
	}
	published := 0
	w := watch{r: &Resolver{cfg: newResolverConfig(nil)}, target: discovery.Target{Servant: "App.Server.Obj"},
		publish: func(discovery.State) { published++ }}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		// Alternate two sets so that every answer is a change to publish.
		entries[0].Service.Port = 18015 + i%2
		w.resolved(entries)
	}
	if published == 0 {
		b.Fatal("nothing published")
	}
}
