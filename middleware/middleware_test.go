package middleware_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/gotars/tars"
	"github.com/gotars/tars/middleware"
)

func TestRecovery(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	tests := []struct {
		name string
		next tars.Invoker
		code tars.Code
	}{
		{"panic", func(context.Context, *tars.Call) error { panic("boom") }, tars.CodeServerUnknownErr},
		{"error passes", func(context.Context, *tars.Call) error { return tars.Errorf(7, "seven") }, 7},
		{"success", func(context.Context, *tars.Call) error { return nil }, tars.CodeSuccess},
	}
	for _, tt := range tests {
		buf.Reset()
		err := middleware.Recovery(log)(tt.next)(context.Background(), &tars.Call{Servant: "S", Method: "m"})
		if got := tars.CodeOf(err); got != tt.code {
			t.Errorf("%s: code %d, want %d (%v)", tt.name, got, tt.code, err)
		}
		logged := strings.Contains(buf.String(), "boom") && strings.Contains(buf.String(), "stack=")
		if logged != (tt.name == "panic") {
			t.Errorf("%s: log %q", tt.name, buf.String())
		}
	}
	// A nil logger recovers silently.
	err := middleware.Recovery(nil)(func(context.Context, *tars.Call) error { panic(errors.New("x")) })(context.Background(), &tars.Call{})
	if tars.CodeOf(err) != tars.CodeServerUnknownErr {
		t.Fatal(err)
	}
}

func TestLogging(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	call := &tars.Call{Servant: "App.Srv.Obj", Method: "get", Version: tars.VersionTUP, RequestID: 12, Server: false}
	mw := middleware.Logging(log)
	if err := mw(func(context.Context, *tars.Call) error { return nil })(context.Background(), call); err != nil {
		t.Fatal(err)
	}
	want := []string{"level=INFO", `msg="tars call"`, "side=client", "servant=App.Srv.Obj", "method=get", "version=3", "request_id=12", "code=0", "duration="}
	for _, w := range want {
		if !strings.Contains(buf.String(), w) {
			t.Errorf("success record lacks %q: %s", w, buf.String())
		}
	}
	buf.Reset()
	call.Server = true
	err := mw(func(context.Context, *tars.Call) error { return tars.Errorf(2, "user 9 not found") })(context.Background(), call)
	if tars.CodeOf(err) != 2 {
		t.Fatal(err)
	}
	for _, w := range []string{"level=WARN", "side=server", "code=2", `error="tars: code(2): user 9 not found"`} {
		if !strings.Contains(buf.String(), w) {
			t.Errorf("failure record lacks %q: %s", w, buf.String())
		}
	}
}
