package koanf

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gotars/tars/config"
	"github.com/knadh/koanf/providers/confmap"
	kf "github.com/knadh/koanf/v2"
	"go.uber.org/goleak"
)

// TestMain checks that no goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func environ(kv ...string) func() []string { return func() []string { return kv } }

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFormatsAgree loads the same settings from YAML, JSON and TOML.
func TestFormatsAgree(t *testing.T) {
	var first config.Config
	for i, f := range []string{"userservice.json", "userservice.toml", "userservice.yaml"} {
		l := Loader{File: "../testdata/" + f, NoEnv: true}
		c, err := l.Load()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		sv := c.Servants["UserService.UserServiceObj"]
		if c.Server.App != "UserService" || c.Server.GraceTimeout != 10*time.Second || sv.MaxInvoke != 200 ||
			sv.Endpoint != "tcp -h 0.0.0.0 -p 18015 -t 60000" || c.Client.Timeout != 3*time.Second {
			t.Errorf("%s: %+v", f, c)
		}
		if i == 0 {
			first = c
		} else if f != "userservice.yaml" && !reflect.DeepEqual(c, first) {
			t.Errorf("%s differs from JSON:\n%+v\n%+v", f, c, first)
		}
	}
}

func TestExampleYAML(t *testing.T) {
	l := Loader{File: "../testdata/userservice.yaml", NoEnv: true}
	c, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	p := c.Client.Policy("UserService.UserServiceObj", "getUser")
	if p.Timeout != 500*time.Millisecond || !p.Breaker.Enabled || p.Breaker.FailureRatio != 0.5 || p.Retry.MaxAttempts != 2 {
		t.Errorf("getUser policy = %+v", p)
	}
	if p := c.Client.Policy("UserService.UserServiceObj", "listUsers"); p.Retry.MaxAttempts != 2 || p.Timeout != 1500*time.Millisecond {
		t.Errorf("listUsers policy = %+v", p)
	}
	if got := c.Client.Target("UserService.UserServiceObj"); got != "UserService.UserServiceObj@tcp -h 127.0.0.1 -p 18015 -t 60000" {
		t.Errorf("target = %s", got)
	}
	if c.Observability.MetricsAddress != "0.0.0.0:9100" {
		t.Errorf("metrics = %q", c.Observability.MetricsAddress)
	}
	if _, err := c.ServerOptions(); err != nil {
		t.Fatal(err)
	}
}

// TestLayers: defaults < file < environment < flags.
func TestLayers(t *testing.T) {
	def := config.Default()
	def.Log.Level = "warn"
	def.Observability.MetricsAddress = "127.0.0.1:9100" // the file does not set it: stays
	p := write(t, "app.yaml", `
log:
  level: error
client:
  timeout: 2s
  dial_timeout: 2s
servants:
  A.B.Obj:
    endpoint: tcp -h 127.0.0.1 -p 1
    max_invoke: 10
`)
	fs := flag.NewFlagSet("app", flag.ContinueOnError)
	RegisterFlags(fs, def)
	own := fs.Int("workers", 1, "the caller's own flag")
	if err := fs.Parse([]string{"-config", p, "-client.timeout=9s", "-workers=3"}); err != nil {
		t.Fatal(err)
	}
	l := Loader{Defaults: &def, Flags: fs, Environ: environ(
		"GOTARS_CLIENT__TIMEOUT=5s",               // under the flag
		"GOTARS_CLIENT__DIAL_TIMEOUT=4s",          // over the file
		"GOTARS_SERVANTS__a.b.obj__MAX_INVOKE=20", // the file's servant, in another case
		"HOME=/root",
	)}
	c, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"file over defaults", c.Log.Level, "error"},
		{"defaults stay", c.Observability.MetricsAddress, "127.0.0.1:9100"},
		{"flag over env", c.Client.Timeout, 9 * time.Second},
		{"env over file", c.Client.DialTimeout, 4 * time.Second},
		{"env finds the servant in any case", c.Servants["A.B.Obj"].MaxInvoke, 20},
		{"one servant", len(c.Servants), 1},
		{"caller's flag untouched", *own, 3},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s: got %v, want %v", ch.what, ch.got, ch.want)
		}
	}
	// A flag left at its default does not override the file.
	fs2 := flag.NewFlagSet("app", flag.ContinueOnError)
	RegisterFlags(fs2, def)
	fs2.Parse([]string{"-config=" + p})
	c, err = (&Loader{Defaults: &def, Flags: fs2, NoEnv: true}).Load()
	if err != nil || c.Client.Timeout != 2*time.Second || c.Log.Level != "error" {
		t.Errorf("unset flags: %v, timeout %v, level %v", err, c.Client.Timeout, c.Log.Level)
	}
}

func TestErrorsNameKeyAndSource(t *testing.T) {
	yml := write(t, "app.yaml", "client:\n  timout: 1s\n")
	badVal := write(t, "bad.yaml", "server:\n  max_conns: lots\n")
	toml := write(t, "app.toml", "[log]\nlevl = \"x\"\n")
	tarsBad := write(t, "app.conf", "<tars>\n<application>\n<server>\nqueuecap=x\n</server>\n</application>\n</tars>\n")
	tarsSyntax := write(t, "bad.conf", "<tars>\n<application>\n</tars>\n")
	noExt := write(t, "config", "a: 1\n")
	tests := []struct {
		name string
		l    Loader
		want []string
	}{
		{"unknown YAML key", Loader{File: yml, NoEnv: true}, []string{yml, "client.timout", "unknown key"}},
		{"unknown TOML key", Loader{File: toml, NoEnv: true}, []string{toml, "log.levl", "unknown key"}},
		{"bad value", Loader{File: badVal, NoEnv: true}, []string{badVal, "server.max_conns", "bad integer"}},
		{"bad TARS value", Loader{File: tarsBad, NoEnv: true}, []string{tarsBad + ":4", "/tars/application/server<queuecap>"}},
		{"TARS syntax", Loader{File: tarsSyntax, NoEnv: true}, []string{tarsSyntax + ":3", "</tars> closes <application>"}},
		{"unknown format", Loader{File: noExt, NoEnv: true}, []string{noExt, "cannot tell the format"}},
		{"missing file", Loader{File: "/nonexistent/app.yaml", NoEnv: true}, []string{"/nonexistent/app.yaml"}},
		{"unknown env key", Loader{Environ: environ("GOTARS_CLIENT__TIMOUT=1s")}, []string{"$GOTARS_CLIENT__TIMOUT", "client.timout", "unknown key"}},
		{"bad env value", Loader{Environ: environ("GOTARS_LOG__LEVEL=loud")}, []string{"log.level", "bad log level"}},
		{"env without levels", Loader{Environ: environ("GOTARS_=1")}, []string{"$GOTARS_", "names no key"}},
		{"env with one underscore", Loader{Environ: environ("GOTARS_CLIENT_TIMEOUT=1s")}, []string{"$GOTARS_CLIENT_TIMEOUT"}},
		{"invalid after merge", Loader{Environ: environ("GOTARS_CLIENT__CONNS_PER_ENDPOINT=0")}, []string{"client.conns_per_endpoint", "at least 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.l.Load()
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	fs := flag.NewFlagSet("app", flag.ContinueOnError)
	RegisterFlags(fs, config.Default())
	fs.Parse([]string{"-client.timeout=3000"})
	_, err := (&Loader{Flags: fs, NoEnv: true}).Load()
	var ke *config.KeyError
	if !errors.As(err, &ke) || ke.Key != "client.timeout" || ke.File != "-client.timeout" {
		t.Errorf("bad flag: %v", err)
	}
}

// TestTarsNativeFile loads the file tarsnode writes, with the environment
// over it.
func TestTarsNativeFile(t *testing.T) {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	RegisterFlags(fs, config.Default())
	if err := fs.Parse([]string{"--config=../testdata/UserService.UserServer.config.conf"}); err != nil {
		t.Fatal(err)
	}
	l := Loader{Flags: fs, Environ: environ("GOTARS_LOG__LEVEL=warn",
		"GOTARS_SERVANTS__USERSERVICE.USERSERVER.USERSERVICEOBJ__MAX_INVOKE=50")}
	c, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	sv := c.Servants["UserService.UserServer.UserServiceObj"]
	if c.Server.App != "UserService" || c.Server.NodeName != "10.0.0.5" || c.Client.Timeout != 5*time.Second ||
		sv.QueueCap != 10000 || sv.MaxInvoke != 50 || c.Log.Level != "warn" || c.Server.IdleTimeout != 10*time.Minute {
		t.Errorf("%+v", c)
	}
	want, err := os.ReadFile("../testdata/UserService.UserServer.config.conf")
	if err != nil {
		t.Fatal(err)
	}
	direct, err := config.ReadTars(want)
	if err != nil {
		t.Fatal(err)
	}
	direct.Log.Level = "warn"
	sv2 := direct.Servants["UserService.UserServer.UserServiceObj"]
	sv2.MaxInvoke = 50
	direct.Servants["UserService.UserServer.UserServiceObj"] = sv2
	if !reflect.DeepEqual(c, direct) {
		t.Errorf("Loader and ReadTars disagree:\n%+v\n%+v", c, direct)
	}
}

func TestWatch(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.yaml")
	base := "servants:\n  A.B.Obj:\n    endpoint: tcp -h 127.0.0.1 -p 1\n"
	put := func(s string) {
		// Written aside and renamed in, as editors and ConfigMaps do.
		tmp := p + ".tmp"
		if err := os.WriteFile(tmp, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, p); err != nil {
			t.Fatal(err)
		}
	}
	put(base + "log:\n  level: info\n")
	l := Loader{File: p, NoEnv: true, PollInterval: 10 * time.Millisecond}
	cur, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	changes := make(chan config.Change, 8)
	done := make(chan error, 1)
	go func() { done <- l.Watch(ctx, cur, func(c config.Change) { changes <- c }) }()
	next := func() config.Change {
		t.Helper()
		select {
		case c := <-changes:
			return c
		case <-time.After(10 * time.Second):
			t.Fatal("no change reported")
			return config.Change{}
		}
	}

	put(base + "log:\n  level: debug\nclient:\n  timeout: 1s\n")
	c := next()
	if c.Err != nil || !reflect.DeepEqual(c.Live, []string{"client.timeout", "log.level"}) || c.NeedsRestart() || c.New.Log.Level != "debug" {
		t.Errorf("live change: %v", c)
	}
	put(base + "log:\n  level: debug\nclient:\n  timeout: 1s\n# a comment changes no key\n")
	put(strings.Replace(base, "-p 1", "-p 2", 1) + "log:\n  level: debug\nclient:\n  timeout: 1s\n")
	c = next()
	if c.Err != nil || !reflect.DeepEqual(c.Restart, []string{"servants.A.B.Obj.endpoint"}) || len(c.Live) != 0 {
		t.Errorf("restart change: %v", c)
	}
	put("client:\n  timout: 1s\n")
	c = next()
	if c.Err == nil || !strings.Contains(c.Err.Error(), "client.timout") {
		t.Errorf("bad file: %v", c)
	}
	os.Remove(p)
	if c = next(); c.Err == nil {
		t.Errorf("removed file: %v", c)
	}
	put(base + "log:\n  level: debug\nclient:\n  timeout: 1s\n")
	c = next()
	// Back to the first config: the change is reported against what runs.
	if c.Err != nil || !reflect.DeepEqual(c.Restart, []string{"servants.A.B.Obj.endpoint"}) {
		t.Errorf("recreated file: %v", c)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Watch: %v", err)
	}
	if err := (&Loader{}).Watch(context.Background(), cur, nil); err == nil {
		t.Error("Watch without a file")
	}
}

func Example() {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	RegisterFlags(fs, config.Default())
	_ = fs.Parse([]string{"-config", "../testdata/userservice.yaml", "-log.level=debug"})

	l := Loader{Flags: fs, Environ: func() []string { return []string{"GOTARS_CLIENT__TIMEOUT=2s"} }}
	c, err := l.Load()
	if err != nil {
		panic(err)
	}
	opts, err := c.ServerOptions()
	if err != nil {
		panic(err)
	}
	_ = opts // tars.NewServer(opts...)
	fmt.Println(c.Log.Level, c.Client.Timeout, c.Servants["UserService.UserServiceObj"].Endpoint)
	// Output: debug 2s tcp -h 0.0.0.0 -p 18015 -t 60000
}

// TestKoanfUnmarshalReadsTheTree: the tree's koanf tags serve koanf's own
// decoder too, for programs that use koanf directly.
func TestKoanfUnmarshalReadsTheTree(t *testing.T) {
	l := Loader{File: "../testdata/userservice.yaml", NoEnv: true}
	want, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	k := kf.New(delim)
	if err := k.Load(confmap.Provider(config.ToMap(want), ""), nil); err != nil {
		t.Fatal(err)
	}
	var got config.Config
	if err := k.Unmarshal("", &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("koanf.Unmarshal:\n got %+v\nwant %+v", got, want)
	}
}

// TestDefaultsAreNotWritten: loading never writes into the caller's
// Defaults, so a reload starts from them again.
func TestDefaultsAreNotWritten(t *testing.T) {
	def := config.Default()
	def.Servants = map[string]config.Servant{"A.B.Obj": {Endpoint: "tcp -h 127.0.0.1 -p 1"}}
	p := write(t, "app.yaml", "servants:\n  A.B.Obj:\n    max_invoke: 5\n  C.D.Obj:\n    endpoint: tcp -h 127.0.0.1 -p 2\n")
	l := Loader{Defaults: &def, File: p, Environ: environ("GOTARS_SERVANTS__A.B.OBJ__QUEUE_CAP=7")}
	c, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Servants["A.B.Obj"]; got.MaxInvoke != 5 || got.QueueCap != 7 || got.Endpoint != "tcp -h 127.0.0.1 -p 1" || len(c.Servants) != 2 {
		t.Errorf("loaded %+v", c.Servants)
	}
	if len(def.Servants) != 1 || !reflect.DeepEqual(def.Servants["A.B.Obj"], config.Servant{Endpoint: "tcp -h 127.0.0.1 -p 1"}) {
		t.Errorf("Defaults written: %+v", def.Servants)
	}
}

// TestOtherToolsVariables: GOTARS_ variables that name no level of the
// tree (GOTARS_CACHE, GOTARS_CONSUL: this repository's own scripts set
// them) are another tool's and are left alone.
func TestOtherToolsVariables(t *testing.T) {
	l := Loader{Environ: environ("GOTARS_CACHE=/tmp/cache", "GOTARS_CONSUL=/usr/bin/consul", "GOTARS_RPC_IDLE_N=3", "GOTARS_LOG__LEVEL=debug")}
	c, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Log.Level != "debug" {
		t.Fatalf("log.level %q: the configuration's variable was not read", c.Log.Level)
	}
}
