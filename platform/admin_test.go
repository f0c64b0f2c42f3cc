package platform_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/platform"
)

// adminFixture is an Admin served on AdminObj, with a client of it.
type adminFixture struct {
	admin  *platform.Admin
	level  *slog.LevelVar
	srv    *tars.Server
	client *tars.Client
	logs   *records
	downs  atomic.Int32
}

func newAdminFixture(t *testing.T, mod func(*platform.AdminOptions)) *adminFixture {
	t.Helper()
	f := &adminFixture{level: new(slog.LevelVar), logs: new(records)}
	opts := platform.AdminOptions{
		App: "Demo", Server: "HelloServer", Version: "v9.9.9-test", LogLevel: f.level,
		Shutdown: func() { f.downs.Add(1) }, Logger: slog.New(f.logs),
	}
	if mod != nil {
		mod(&opts)
	}
	var ep string
	f.srv, ep = serve(t, func(s *tars.Server) {
		if opts.Servers == nil {
			opts.Servers = map[string]*tars.Server{"Demo.HelloServer.AdminAdapter": s}
		}
		f.admin = platform.NewAdmin(opts)
		f.admin.Handle(s)
	})
	f.client = client(t, platform.AdminObj, ep, tars.WithConnsPerEndpoint(1))
	return f
}

func (f *adminFixture) notify(t *testing.T, cmd string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return platform.AdminNotify.Call(ctx, f.client, platform.NotifyArgs{Command: cmd})
}

// TestAdminNotifyReplies checks the reply of every built-in command, on
// the wire, against TarsGo's tars/admin.go strings.
func TestAdminNotifyReplies(t *testing.T) {
	f := newAdminFixture(t, nil)
	if err := f.admin.Register("app.echo", "echo ARGS: answer ARGS", func(_ context.Context, args string) (string, error) {
		return "echo:" + args, nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cmd, want string
	}{
		{"tars.viewversion", "v9.9.9-test"},
		{"tars.setloglevel DEBUG", "tars.setloglevel DEBUG succ"},
		{"tars.setloglevel", "tars.setloglevel failed: missing loglevel!"},
		{"tars.setloglevel LOUD", "tars.setloglevel failed: unknown log level [LOUD]!"},
		{"tars.dumpstack", "tars.dumpstack succ"},
		{"tars.loadconfig", "tars.loadconfig failed: missing file name!"},
		{"tars.gracerestart", "tars.gracerestart not support now!"},
		{"tars.pprof 8080", "tars.pprof 8080 not support now!"},
		{"no.such.command a b", "no.such.command a b not support now!"},
		{"", " not support now!"},
		{"app.echo", "echo:"},
		{"app.echo  one two ", "echo:one two"},
		{"  app.echo\tx", "echo:x"},
	} {
		got, err := f.notify(t, tc.cmd)
		if err != nil || got != tc.want {
			t.Errorf("notify(%q) = %q, %v; want %q", tc.cmd, got, err, tc.want)
		}
	}
	if n := f.logs.count(slog.LevelInfo, "platform: tars.dumpstack"); n != 1 {
		t.Errorf("tars.dumpstack logged %d records, want 1", n)
	}
	if v, ok := f.logs.attr("platform: tars.dumpstack", "stacks"); !ok || !strings.Contains(v.String(), "goroutine ") {
		t.Errorf("tars.dumpstack's record holds no stacks: %v", v)
	}

	var stacks lockedBuffer
	g := newAdminFixture(t, func(o *platform.AdminOptions) { o.StackWriter = &stacks })
	if got, err := g.notify(t, "tars.dumpstack"); err != nil || got != "tars.dumpstack succ" {
		t.Errorf("tars.dumpstack = %q, %v", got, err)
	}
	if s := stacks.String(); !strings.Contains(s, " tars.dumpstack: ") || !strings.Contains(s, "goroutine ") {
		t.Errorf("StackWriter got %q", s)
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestAdminSetLogLevel(t *testing.T) {
	f := newAdminFixture(t, nil)
	for _, tc := range []struct {
		level string
		want  slog.Level
	}{
		{"DEBUG", slog.LevelDebug},
		{"WARN", slog.LevelWarn},
		{"ERROR", slog.LevelError},
		{"NONE", platform.LevelNone},
		{"info", slog.LevelInfo}, // TarsGo takes upper case only
	} {
		if _, err := f.notify(t, "tars.setloglevel "+tc.level); err != nil {
			t.Fatal(err)
		}
		if got := f.level.Level(); got != tc.want {
			t.Errorf("after %s the level is %v, want %v", tc.level, got, tc.want)
		}
	}
	f.level.Set(slog.LevelWarn)
	if got, _ := f.notify(t, "tars.setloglevel LOUD"); !strings.Contains(got, "failed") || f.level.Level() != slog.LevelWarn {
		t.Errorf("an unknown level answered %q and left %v", got, f.level.Level())
	}

	noLevel := newAdminFixture(t, func(o *platform.AdminOptions) { o.LogLevel = nil })
	if got, _ := noLevel.notify(t, "tars.setloglevel DEBUG"); got != "tars.setloglevel DEBUG failed: no log level to set!" {
		t.Errorf("without a LevelVar: %q", got)
	}
}

func TestAdminShutdown(t *testing.T) {
	f := newAdminFixture(t, nil)
	select {
	case <-f.admin.Done():
		t.Fatal("Done closed before shutdown")
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 3 {
		if _, err := platform.AdminShutdown.Call(ctx, f.client, tars.Void{}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-f.admin.Done():
	case <-ctx.Done():
		t.Fatal("Done not closed after shutdown")
	}
	for f.downs.Load() == 0 && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	if n := f.downs.Load(); n != 1 {
		t.Errorf("Shutdown ran %d times, want 1", n)
	}
}

// TestAdminShutdownGraceful: the Shutdown function may shut down the very
// server AdminObj runs on: the shutdown call is answered first.
func TestAdminShutdownGraceful(t *testing.T) {
	ln := listen(t)
	srv := tars.NewServer()
	stopped := make(chan error, 1)
	admin := platform.NewAdmin(platform.AdminOptions{Logger: slog.New(slog.DiscardHandler), Shutdown: func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stopped <- srv.Shutdown(ctx)
	}})
	admin.Handle(srv)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	c := client(t, platform.AdminObj, endpointOf(ln))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := platform.AdminShutdown.Call(ctx, c, tars.Void{}); err != nil {
		t.Fatalf("shutdown call: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("graceful shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, tars.ErrServerClosed) {
		t.Errorf("Serve returned %v", err)
	}
}

func TestAdminRegister(t *testing.T) {
	a := platform.NewAdmin(platform.AdminOptions{})
	ok := func(context.Context, string) (string, error) { return "", nil }
	for _, tc := range []struct {
		name string
		fn   platform.AdminCommand
	}{
		{"", ok},
		{"two words", ok},
		{"tab\tname", ok},
		{"tars.help", ok},
		{"tars.setloglevel", ok},
		{"nil.fn", nil},
	} {
		if err := a.Register(tc.name, "", tc.fn); !errors.Is(err, platform.ErrBadCommand) {
			t.Errorf("Register(%q) = %v, want ErrBadCommand", tc.name, err)
		}
	}
	if err := a.Register("app.x", "", ok); err != nil {
		t.Fatal(err)
	}
	if err := a.Register("app.x", "", ok); !errors.Is(err, platform.ErrBadCommand) {
		t.Errorf("second Register = %v", err)
	}
}

// TestAdminCommandErrors: a command's error fails the call as TarsGo's
// Dispatch does: iRet 1 with the text, or the code of a *tars.Error.
func TestAdminCommandErrors(t *testing.T) {
	f := newAdminFixture(t, nil)
	f.admin.Register("app.fail", "", func(context.Context, string) (string, error) { return "", errors.New("it broke") })
	f.admin.Register("app.code", "", func(context.Context, string) (string, error) { return "", tars.Errorf(42, "coded") })
	for _, tc := range []struct {
		cmd  string
		code tars.Code
		msg  string
	}{
		{"app.fail", 1, "it broke"},
		{"app.code", 42, "coded"},
		{"tars.loadconfig x.conf", 1, "no remote config"},
	} {
		_, err := f.notify(t, tc.cmd)
		var te *tars.Error
		if !errors.As(err, &te) || te.Code != tc.code || !strings.Contains(te.Message, tc.msg) {
			t.Errorf("notify(%q) = %v; want code %d with %q", tc.cmd, err, tc.code, tc.msg)
		}
	}
}

func TestAdminHelpStatusConnection(t *testing.T) {
	f := newAdminFixture(t, nil)
	f.admin.Register("app.reload", "reload the cache", func(context.Context, string) (string, error) { return "", nil })

	help, err := f.notify(t, "tars.help")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(help, "\r\n"), "\r\n")
	var names []string
	for _, l := range lines {
		name, _, _ := strings.Cut(l, ":")
		names = append(names, name)
	}
	want := []string{"app.reload", "tars.connection", "tars.dumpstack", "tars.help", "tars.loadconfig", "tars.setloglevel", "tars.viewstatus", "tars.viewversion"}
	if strings.Join(names, " ") != strings.Join(want, " ") || !strings.Contains(help, "app.reload: reload the cache\r\n") {
		t.Errorf("tars.help:\n%s", help)
	}

	f.level.Set(slog.LevelWarn)
	status, err := f.notify(t, "tars.viewstatus")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Application(app)              Demo\n", "ServerName(server)            HelloServer\n",
		"Version                       v9.9.9-test\n", "Pid                           " + strconv.Itoa(os.Getpid()) + "\n",
		"LogLevel(loglevel)            WARN\n", "[server:Demo.HelloServer.AdminAdapter]:\n",
		"connections                   1\n", "inflight                      1\n", // this very call
	} {
		if !strings.Contains(status, want) {
			t.Errorf("tars.viewstatus lacks %q:\n%s", want, status)
		}
	}

	conns, err := f.notify(t, "tars.connection")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(conns, "[adapter:Demo.HelloServer.AdminAdapter] [connections:1]\n") || !strings.Contains(conns, "accepted                      1\n") {
		t.Errorf("tars.connection:\n%s", conns)
	}

	none := newAdminFixture(t, func(o *platform.AdminOptions) { o.Servers = map[string]*tars.Server{} })
	if got, _ := none.notify(t, "tars.connection"); got != "no server to report\n" {
		t.Errorf("tars.connection without servers: %q", got)
	}
}

// TestAdminLoadConfig: tars.loadconfig pulls through the RemoteConfig and
// answers TarsGo's strings.
func TestAdminLoadConfig(t *testing.T) {
	cfgSrv := newConfigServer(t, map[string]string{"app.conf": "k=v\n"})
	dir := t.TempDir()
	rc, err := platform.NewRemoteConfig(client(t, platform.ConfigObj, cfgSrv.ep), platform.RemoteConfigOptions{App: "Demo", Server: "HelloServer", BasePath: dir})
	if err != nil {
		t.Fatal(err)
	}
	f := newAdminFixture(t, func(o *platform.AdminOptions) { o.Config = rc })
	if got, err := f.notify(t, "tars.loadconfig app.conf"); err != nil || got != "Getconfig Success!: app.conf" {
		t.Fatalf("loadconfig = %q, %v", got, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "app.conf")); err != nil || string(b) != "k=v\n" {
		t.Errorf("basepath/app.conf = %q, %v", b, err)
	}
	_, err = f.notify(t, "tars.loadconfig missing.conf")
	var te *tars.Error
	if !errors.As(err, &te) || te.Code != 1 || !strings.Contains(te.Message, `"missing.conf"`) {
		t.Errorf("loadconfig of a missing file: %v", err)
	}
}

// FuzzAdminNotify: any command line gets a reply or an error, never a
// panic.
func FuzzAdminNotify(f *testing.F) {
	for _, s := range []string{"tars.setloglevel DEBUG", "tars.viewstatus", "tars.loadconfig ../x", "tars.help", "\x00", " \t", "app.x y"} {
		f.Add(s)
	}
	level := new(slog.LevelVar)
	a := platform.NewAdmin(platform.AdminOptions{LogLevel: level, Logger: slog.New(slog.DiscardHandler)})
	a.Register("app.x", "", func(_ context.Context, args string) (string, error) { return args, nil })
	f.Fuzz(func(t *testing.T, cmd string) {
		if strings.HasPrefix(strings.TrimSpace(cmd), "tars.dumpstack") {
			return // slow, and nothing to parse
		}
		reply, err := a.Notify(context.Background(), cmd)
		if err == nil && reply == "" && !strings.HasPrefix(strings.TrimLeft(cmd, " \t\r\n\v\f"), "app.x") {
			t.Errorf("notify(%q): empty reply", cmd)
		}
	})
}

// TestFrameworkVersion: the default version names gotars and the module's
// version from the build information, and tars.viewversion answers it.
func TestFrameworkVersion(t *testing.T) {
	v := platform.FrameworkVersion()
	if !strings.HasPrefix(v, "gotars ") || v == "gotars unknown" || v == "gotars " {
		t.Errorf("FrameworkVersion() = %q", v)
	}
	got, err := platform.NewAdmin(platform.AdminOptions{}).Notify(context.Background(), "tars.viewversion")
	if err != nil || got != v {
		t.Errorf("tars.viewversion = %q, %v; want %q", got, err, v)
	}
	t.Logf("FrameworkVersion() = %q", v)
}
