package tars_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gotars/tars"
	"github.com/gotars/tars/codec/reflectcodec"
	"github.com/gotars/tars/example/userservice/userapi"
)

type zeroTagged struct {
	Info userapi.UserInfo `tars:"0"`
}
type gapArgs struct {
	A int32 `tars:"1"`
	B int32 `tars:"3"`
}
type goodArgs struct {
	A int32 `tars:"1"`
	B int32 `tars:"2"`
}
type badOut struct {
	tars.Results
	Ret int32 `tars:"0"`
	X   int32 `tars:"2"` // must be 3 after two in parameters
}
type intArgs struct {
	N int `tars:"1"`
}
type dupName struct {
	tars.Results
	X int32 `tars:"3,name=a"` // "a" is an in parameter's name
}

func declare(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err, _ = r.(error)
			if err == nil {
				err = errors.New(r.(string))
			}
		}
	}()
	f()
	return nil
}

func TestEndpointDeclarationRule(t *testing.T) {
	svc := tars.NewService("Decl")
	tests := []struct {
		name string
		decl func()
		want string // substring of the error; "" for success
	}{
		{"struct as request", func() { tars.NewEndpoint[userapi.UserInfo, tars.Void](svc, "a") }, "in parameters are tagged 1..n"},
		{"tag 0 in request", func() { tars.NewEndpoint[zeroTagged, tars.Void](svc, "b") }, "tag 0 found where 1 belongs"},
		{"gap in request", func() { tars.NewEndpoint[gapArgs, tars.Void](svc, "c") }, "tag 3 found where 2 belongs"},
		{"out tag", func() { tars.NewEndpoint[goodArgs, badOut](svc, "d") }, "tag 2 found where 3 belongs"},
		{"go int", func() { tars.NewEndpoint[intArgs, tars.Void](svc, "e") }, "intArgs.N"},
		{"scalar request", func() { tars.NewEndpoint[int32, tars.Void](svc, "f") }, "must be a struct"},
		{"bad name", func() { tars.NewEndpoint[goodArgs, tars.Void](svc, "1x") }, "not a valid TARS identifier"},
		{"tars_ping", func() { tars.NewEndpoint[tars.Void, tars.Void](svc, "tars_ping") }, "built in"},
		{"duplicate param name", func() {
			tars.NewEndpoint[struct {
				A int32 `tars:"1,name=a"`
				B int32 `tars:"2,name=a"`
			}, tars.Void](svc, "g")
		}, "used twice"},
		{"out name clash", func() { tars.NewEndpoint[goodArgs, dupName](svc, "h") }, "used twice"},
		{"require on a parameter", func() {
			tars.NewEndpoint[struct {
				A int32 `tars:"1,require"`
			}, tars.Void](svc, "j")
		}, "require has no meaning on a parameter"},
		{"default on a parameter", func() {
			tars.NewEndpoint[struct {
				A string `tars:"1,default=x"`
			}, tars.Void](svc, "k")
		}, "default= has no meaning on a parameter"},
		{"default on an out parameter", func() {
			tars.NewEndpoint[goodArgs, struct {
				tars.Results
				Ret int32 `tars:"0,default=1"`
			}](svc, "l")
		}, "default= has no meaning on a parameter"},
		{"ok", func() { tars.NewEndpoint[goodArgs, int32](svc, "ok") }, ""},
		{"declared twice", func() { tars.NewEndpoint[goodArgs, int32](svc, "ok") }, "declared twice"},
	}
	for _, tt := range tests {
		err := declare(tt.decl)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		var de *tars.DeclError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want a DeclError containing %q", tt.name, err, tt.want)
		}
	}
	var te *reflectcodec.TypeError
	if err := declare(func() { tars.NewEndpoint[intArgs, tars.Void](svc, "i") }); !errors.As(err, &te) {
		t.Errorf("a codec type error is not reachable with errors.As: %v", err)
	}
}

func TestMethodInfo(t *testing.T) {
	mi := userapi.CreateUser.Info()
	if mi.Name != "createUser" || mi.Service != "UserService" || mi.Return != reflect.TypeFor[int32]() ||
		len(mi.In) != 1 || mi.In[0].Name != "userInfo" || mi.In[0].Tag != 1 ||
		len(mi.Out) != 1 || mi.Out[0].Name != "result" || mi.Out[0].Tag != 2 || !mi.Out[0].Out {
		t.Fatalf("createUser: %+v", mi)
	}
	mi = userapi.BatchGetUsers.Info()
	if mi.Return != reflect.TypeFor[[]userapi.UserInfo]() || len(mi.Out) != 0 || mi.In[0].Name != "userIds" {
		t.Fatalf("batchGetUsers: %+v", mi)
	}
	if got := len(userapi.UserService.Methods()); got != 6 {
		t.Fatalf("UserService has %d methods", got)
	}
}

// TestNewServiceDeclError: NewService fails as NewEndpoint does, with a
// *DeclError naming the service.
func TestNewServiceDeclError(t *testing.T) {
	for _, name := range []string{"", "1x", "User Service", "a.b"} {
		err := declare(func() { tars.NewService(name) })
		var de *tars.DeclError
		if !errors.As(err, &de) || de.Service != name || de.Method != "" || !strings.Contains(err.Error(), "not a valid TARS identifier") {
			t.Errorf("NewService(%q): %v, want a *DeclError", name, err)
		}
	}
}
