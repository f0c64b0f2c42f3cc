package tars_test

import (
	"context"
	"fmt"
	"net"
	"testing"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
)

// BenchmarkCall measures a getUser-sized call over loopback, our client and
// server in one process, at several numbers of concurrent callers. The
// comparison with TarsGo is in interop/ (BenchmarkRPC).
func BenchmarkCall(b *testing.B) {
	srv := tars.NewServer()
	user := userapi.UserInfo{UserID: 7, UserName: "alice", Email: "alice@example.com", Age: 30,
		CreateTime: "2026-11-25 10:00:00", Tags: []string{"a", "b"}, Metadata: map[string]string{"k": "v"}}
	tars.Handle(srv, userapi.Servant, userapi.GetUser, func(_ context.Context, a userapi.UserIDArgs) (userapi.UserInfo, error) {
		return user, nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	c, err := tars.NewClient(fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d", userapi.Servant, ln.Addr().(*net.TCPAddr).Port))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for _, callers := range []int{1, 64, 256} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism((callers + 1) / 2) // GOMAXPROCS is 2 here; SetParallelism multiplies it
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					if _, err := userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: 7}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
