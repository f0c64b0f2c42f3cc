package interop

import (
	"context"
	"fmt"
	"testing"

	"github.com/gotars/tars"
	"github.com/gotars/tars/discovery/tarsregistry"
	"github.com/gotars/tars/example/userservice/userapi"
)

// BenchmarkRPCRegistry: calls/s of gotars' client over endpoints resolved
// through a TARS registry (TarsGo's generated QueryF dispatch) against the
// same endpoints listed in the object string, in the same run: one endpoint
// (registry1 vs static1) and three (registry3 vs static3). Each server is
// the example UserService, all in this process; getUser(1) is the call.
//
//	go test -run '^$' -bench BenchmarkRPCRegistry -count 6 . > /tmp/reg.txt
//	go tool benchstat -col /impl /tmp/reg.txt
func BenchmarkRPCRegistry(b *testing.B) {
	var eps []tarsregistry.EndpointF
	for range 3 {
		s := rpcStartGotars(b)
		if _, err := s.store.CreateUser(context.Background(), userapi.UserInfoArgs{UserInfo: userapi.UserInfo{UserName: "u", Email: "e@x"}}); err != nil {
			b.Fatal(err)
		}
		eps = append(eps, endpointOf(b, s.addr, ""))
	}
	objOf := func(n int) string {
		obj := userapi.Servant + "@"
		for i, e := range eps[:n] {
			if i > 0 {
				obj += ":"
			}
			obj += fmt.Sprintf("tcp -h %s -p %d", e.Host, e.Port)
		}
		return obj
	}
	type impl struct {
		name string
		c    *tars.Client
	}
	var impls []impl
	for _, n := range []int{1, 3} {
		static, err := tars.NewClient(objOf(n))
		if err != nil {
			b.Fatal(err)
		}
		defer static.Close()
		reg := newTGRegistry()
		reg.group[userapi.Servant] = tgLists{active: tgEndpoints(eps[:n])}
		r, err := tarsregistry.New(serveTGRegistry(b, reg))
		if err != nil {
			b.Fatal(err)
		}
		viaRegistry, err := tars.NewClient(userapi.Servant, tars.WithResolver(r))
		if err != nil {
			b.Fatal(err)
		}
		defer viaRegistry.Close()
		impls = append(impls, impl{fmt.Sprintf("static%d", n), static}, impl{fmt.Sprintf("registry%d", n), viaRegistry})
	}
	for _, impl := range impls {
		call := func(ctx context.Context) error {
			_, err := userapi.GetUser.Call(ctx, impl.c, userapi.UserIDArgs{UserID: 1})
			return err
		}
		// Resolve, dial and warm up before timing.
		if _, err := rpcMeasure(context.Background(), 64, 20000, call, func() {}); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("callers=64/impl=%s", impl.name), func(b *testing.B) {
			b.ReportAllocs()
			s, err := rpcMeasure(context.Background(), 64, b.N, call, b.ResetTimer)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(s.callsPerSec(), "calls/s")
		})
	}
}
