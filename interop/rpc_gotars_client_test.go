package interop

// gotars' example client runs its whole demo (userdemo.Run) against a TarsGo
// server of the same IDL (package rpcpeer: TarsGo's transport and the
// tars2go-generated Dispatch), in all three packet versions; and gotars'
// client sees TarsGo's error codes.

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/example/userservice/userdemo"
)

func TestRPCDemoAgainstTarsGo(t *testing.T) {
	srv, _ := rpcStartTarsGo(t)
	for _, v := range []struct {
		name    string
		version int16
	}{{"TARS", tars.VersionTARS}, {"TUP", tars.VersionTUP}, {"JSON", tars.VersionJSON}} {
		t.Run(v.name, func(t *testing.T) {
			c := rpcGotarsClient(t, srv.Endpoint(), tars.WithVersion(v.version))
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var out bytes.Buffer
			err := userdemo.Run(ctx, c, &out)
			t.Logf("demo output:\n%s", out.String())
			if err != nil {
				t.Fatalf("demo against TarsGo in %s: %v", v.name, err)
			}
			if v.version == tars.VersionTUP {
				rpcCheckTUPErrors(t, c)
			}
		})
	}
}

// rpcCheckTUPErrors checks how a handler's error reaches a TUP caller of
// TarsGo: TarsGo's server writes a TUP answer in the RequestPacket layout,
// which has no iRet and no sResultDesc, and it does not put them in the
// status map either (TarsCpp does, as STATUS_RESULT_CODE /
// STATUS_RESULT_DESC; gotars' server too). The answer to getUser of an
// unknown user is an empty UniAttribute, which gotars' client reports as
// CodeServerUnknownErr: the server failed without saying why.
func rpcCheckTUPErrors(t *testing.T, c *tars.Client) {
	t.Helper()
	ctx := context.Background()
	r, err := userapi.CreateUser.Call(ctx, c, userapi.UserInfoArgs{UserInfo: userapi.UserInfo{UserName: "tup", Email: "tup@example.com"}})
	if err != nil || r.Ret != 0 {
		t.Fatalf("createUser: %d, %v", r.Ret, err)
	}
	id := r.Result.UserID
	_, err = userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: id + 1000})
	var te *tars.Error
	if !errors.As(err, &te) || te.Code != tars.CodeServerUnknownErr || !strings.Contains(te.Message, "without results") {
		t.Errorf("getUser of an unknown id in TUP: %v; want CodeServerUnknownErr (TarsGo sends an empty answer)", err)
	}
	for _, want := range []int32{0, 2} {
		if ret, err := userapi.DeleteUser.Call(ctx, c, userapi.UserIDArgs{UserID: id}); err != nil || ret != want {
			t.Errorf("deleteUser %d in TUP: %d, %v; want %d", id, ret, err, want)
		}
	}
}

// TestRPCGotarsClientErrors checks the codes gotars' client reports for
// TarsGo's answers.
func TestRPCGotarsClientErrors(t *testing.T) {
	srv, _ := rpcStartTarsGo(t)
	ctx := context.Background()
	for _, v := range []int16{tars.VersionTARS, tars.VersionJSON} {
		c := rpcGotarsClient(t, srv.Endpoint(), tars.WithVersion(v))
		// A handler's *tars.Error keeps its code and message.
		_, err := userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: 4242})
		var te *tars.Error
		if !errors.As(err, &te) || te.Code != 2 || te.Message != "user 4242 not found" {
			t.Errorf("version %d: getUser of an unknown id: %v; want code 2, \"user 4242 not found\"", v, err)
		}
		// TarsGo answers an unknown function with iRet 1, not -3.
		_, err = noSuchMethod.Call(ctx, c, userapi.UserIDArgs{UserID: 1})
		if !errors.As(err, &te) || te.Code != 1 || !strings.Contains(te.Message, "func mismatch") {
			t.Errorf("version %d: unknown function: %v; want code 1, func mismatch", v, err)
		}
	}
}

// noSuchMethod is a method the UserService IDL does not have.
var noSuchMethod = tars.NewEndpoint[userapi.UserIDArgs, userapi.UserInfo](tars.NewService("UserServiceX"), "noSuchMethod")
