package tarstest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/example/userservice/userserver"
	"github.com/gotars/tars/tarstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestInMemoryCalls(t *testing.T) {
	srv := tars.NewServer()
	userserver.Register(srv, userapi.Servant, userserver.NewStore())
	defer srv.Shutdown(context.Background())
	c, err := tarstest.NewClient(srv, userapi.Servant)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	created, err := userapi.CreateUser.Call(ctx, c, userapi.UserInfoArgs{UserInfo: userapi.UserInfo{UserName: "ada", Email: "ada@example.com"}})
	if err != nil || created.Ret != 0 {
		t.Fatalf("createUser: %+v %v", created, err)
	}
	got, err := userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: created.Result.UserID})
	if err != nil || got.UserName != "ada" {
		t.Fatalf("getUser: %+v %v", got, err)
	}
	// Errors come back as over TCP: the service's own code.
	_, err = userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: 999})
	var te *tars.Error
	if !errors.As(err, &te) || te.Code != 2 {
		t.Fatalf("unknown user: %v", err)
	}
	// Many concurrent calls over the pipes.
	errs := make(chan error, 32)
	for range 32 {
		go func() {
			_, err := userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: created.Result.UserID})
			errs <- err
		}()
	}
	for range 32 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func Example() {
	srv := tars.NewServer()
	userserver.Register(srv, userapi.Servant, userserver.NewStore())
	defer srv.Shutdown(context.Background())
	c, err := tarstest.NewClient(srv, userapi.Servant)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	ctx := context.Background()
	res, err := userapi.CreateUser.Call(ctx, c, userapi.UserInfoArgs{UserInfo: userapi.UserInfo{UserName: "ada", Email: "ada@example.com"}})
	fmt.Println(res.Ret, res.Result.UserID, res.Result.UserName, err)
	// Output: 0 1 ada <nil>
}
