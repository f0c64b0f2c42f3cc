package retry_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/middleware/retry"
)

// A client retrying the idempotent getUser on another endpoint, and
// sending a backup request when an attempt has not answered within the
// observed 99th percentile.
func Example() {
	type GetArgs struct {
		ID int32 `tars:"1,name=id"`
	}
	users := tars.NewService("Users")
	get := tars.NewEndpoint[GetArgs, string](users, "get", tars.Idempotent)

	srv := tars.NewServer()
	tars.Handle(srv, "App.Users.UsersObj", get, func(ctx context.Context, a GetArgs) (string, error) {
		return fmt.Sprintf("user %d", a.ID), nil
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	budget := retry.DefaultBudget() // retries and backups together: ≤ 10% of calls + 10/s
	rt, err := retry.New(retry.Policy{MaxAttempts: 3, AttemptTimeout: 300 * time.Millisecond, Backoff: 10 * time.Millisecond, Budget: budget})
	if err != nil {
		panic(err)
	}
	hedge, err := retry.Hedge(retry.HedgePolicy{Percentile: 0.99, Budget: budget})
	if err != nil {
		panic(err)
	}
	c, _ := tars.NewClient(fmt.Sprintf("App.Users.UsersObj@tcp -h 127.0.0.1 -p %d", ln.Addr().(*net.TCPAddr).Port),
		tars.WithMiddleware(rt, hedge))
	defer c.Close()
	name, err := get.Call(context.Background(), c, GetArgs{ID: 7})
	fmt.Println(name, err)
	// Output: user 7 <nil>
}
