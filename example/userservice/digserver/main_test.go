package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/example/userservice/userdemo"
	"github.com/gotars/tars/tarsdig"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testYAML = `server:
  app: UserService
  server: UserServer
  grace_timeout: 5s
servants:
  UserService.UserServiceObj:
    endpoint: tcp -h 127.0.0.1 -p 0 -t 60000
    max_invoke: 50
    queue_cap: 100
log:
  level: info
`

// TestRunServesTheUserService loads a YAML file, runs the dig-wired server
// on 127.0.0.1:0, runs the client demo (every method of the UserService)
// against it over TCP, then ends the context and expects a graceful stop.
func TestRunServesTheUserService(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(file, []byte(testYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := load(file)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan *tarsdig.Listeners, 1)
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() { done <- run(ctx, cfg, log, func(ls *tarsdig.Listeners) { ready <- ls }) }()
	var ls *tarsdig.Listeners
	select {
	case ls = <-ready:
	case err := <-done:
		t.Fatalf("run returned before listening: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not listen within 10s")
	}

	c, err := tars.NewClient(userapi.Servant + "@" + ls.Endpoint(userapi.Servant, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dctx, dcancel := context.WithTimeout(ctx, 20*time.Second)
	defer dcancel()
	var out strings.Builder
	if err := userdemo.Run(dctx, c, &out); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "batchGetUsers") {
		t.Errorf("demo output does not reach batchGetUsers:\n%s", out.String())
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after the context ended: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return within 10s of its context ending")
	}
}

// TestLoadBothFormats reads the example's configuration in YAML and in the
// TARS-native format tarsnode writes: both name the UserService's
// endpoint and its limits.
func TestLoadBothFormats(t *testing.T) {
	for _, tc := range []struct{ file, endpoint string }{
		{"../../../config/testdata/userservice.yaml", "tcp -h 0.0.0.0 -p 18015 -t 60000"},
		{"../../../config/testdata/userservice.tars.conf", "tcp -h 127.0.0.1 -p 18015 -t 60000"},
	} {
		cfg, err := load(tc.file)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if got := cfg.Servants[userapi.Servant].Endpoint; got != tc.endpoint {
			t.Errorf("%s: endpoint %q, want %q", tc.file, got, tc.endpoint)
		}
		if cfg.Server.App != "UserService" || cfg.Server.Server != "UserServer" {
			t.Errorf("%s: identity %s.%s", tc.file, cfg.Server.App, cfg.Server.Server)
		}
		if _, err := container(cfg, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
			t.Errorf("%s: wiring: %v", tc.file, err)
		}
	}
}

// TestLoadErrorsNameKeyAndFile: an unknown key and a bad value are
// refused, naming the key and the file.
func TestLoadErrorsNameKeyAndFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, body, want string }{
		{"unknown.yaml", "client:\n  timout: 3s\n", "client.timout"},
		{"bad.yaml", "client:\n  timeout: 3000\n", "client.timeout"},
		{"bad.conf", "<tars><application><server>\nqueuecap=lots\n</server></application></tars>\n", "queuecap"},
		{"config.ini", "x=1\n", "name it .yaml"},
	} {
		file := filepath.Join(dir, tc.name)
		if err := os.WriteFile(file, []byte(tc.body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := load(file)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%s: got %v, want an error naming %q and the file", tc.name, err, tc.want)
		}
	}
}
