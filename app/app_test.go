package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gotars/tars"
	"github.com/gotars/tars/app"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/config/koanf"
	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/monitor"
	"github.com/gotars/tars/platform"
	"github.com/gotars/tars/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The test service: echo returns its argument, after a pause when asked.
type echoArgs struct {
	S     string `tars:"1,name=s"`
	Sleep int32  `tars:"2,name=sleepMs"`
}

var (
	echoService = tars.NewService("Echo")
	echo        = tars.NewEndpoint[echoArgs, string](echoService, "echo")
	slowEcho    = tars.NewEndpoint[echoArgs, string](echoService, "slowEcho")
)

const echoObj = "Test.EchoServer.EchoObj"

func registerEcho(srv *tars.Server, started chan<- struct{}) {
	h := func(ctx context.Context, a echoArgs) (string, error) {
		if started != nil {
			started <- struct{}{}
		}
		if a.Sleep > 0 {
			select {
			case <-time.After(time.Duration(a.Sleep) * time.Millisecond):
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		return a.S, nil
	}
	tars.Handle(srv, echoObj, echo, h)
	tars.Handle(srv, echoObj, slowEcho, h)
}

// syncBuf is a goroutine-safe log sink.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// baseConfig serves echoObj on 127.0.0.1, a port of the system's choice.
func baseConfig() config.Config {
	c := config.Default()
	c.Server.App, c.Server.Server = "Test", "EchoServer"
	c.Server.GraceTimeout = 5 * time.Second
	c.Servants = map[string]config.Servant{echoObj: {Endpoint: "tcp -h 127.0.0.1 -p 0 -t 60000"}}
	return c
}

// start runs a until the test ends (or it returns by itself) and waits for
// it to be ready. The returned channel gives Run's result once.
func start(t *testing.T, a *app.App) (context.CancelFunc, <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		err := a.Run(ctx)
		close(finished)
		done <- err
	}()
	select {
	case <-a.Ready():
	case <-finished:
		cancel()
		t.Fatalf("Run returned before it was ready: %v", <-done)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("not ready after 20 s")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(20 * time.Second):
			t.Error("Run did not return 20 s after its context ended")
		}
	})
	return cancel, done
}

// clientOf returns a gotars client of servant at addr, closed at the end.
func clientOf(t *testing.T, servant string, addr net.Addr) *tars.Client {
	t.Helper()
	ta := addr.(*net.TCPAddr)
	c, err := tars.NewClient(fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d -t 5000", servant, ta.Port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func wait(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return within 20 s")
		return nil
	}
}

// TestRunServesAndStopsGracefully: the servant answers on its configured
// endpoint; when ctx ends, a call in flight finishes and Run returns nil.
func TestRunServesAndStopsGracefully(t *testing.T) {
	var logs syncBuf
	a, err := app.New(baseConfig(), app.WithLogWriter(&logs))
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{}, 4)
	registerEcho(a.Server(), started)
	cancel, done := start(t, a)
	c := clientOf(t, echoObj, a.Addr(echoObj))
	ctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if got, err := echo.Call(ctx, c, echoArgs{S: "hi"}); err != nil || got != "hi" {
		t.Fatalf("echo = %q, %v", got, err)
	}
	<-started

	slow := make(chan error, 1)
	go func() {
		got, err := slowEcho.Call(ctx, c, echoArgs{S: "slow", Sleep: 300})
		if err == nil && got != "slow" {
			err = fmt.Errorf("got %q", got)
		}
		slow <- err
	}()
	<-started // the slow call runs
	cancel()
	if err := wait(t, done); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if err := <-slow; err != nil {
		t.Errorf("the call in flight at shutdown: %v", err)
	}
	if !strings.Contains(logs.String(), "app: stopped") {
		t.Errorf("log:\n%s", logs.String())
	}
	if _, err := a.Client(echoObj); !errors.Is(err, app.ErrStopped) {
		t.Errorf("Client after Run = %v, want ErrStopped", err)
	}
	if err := a.Run(context.Background()); !errors.Is(err, app.ErrRunning) {
		t.Errorf("a second Run = %v", err)
	}
}

// TestGraceExceeded: a handler that outlives server.grace_timeout is cut
// and Run says so.
func TestGraceExceeded(t *testing.T) {
	cfg := baseConfig()
	cfg.Server.GraceTimeout = 100 * time.Millisecond
	a, err := app.New(cfg, app.WithLogWriter(&syncBuf{}))
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{}, 1)
	registerEcho(a.Server(), started)
	_, done := start(t, a)
	c := clientOf(t, echoObj, a.Addr(echoObj))
	slow := make(chan error, 1)
	go func() {
		_, err := slowEcho.Call(context.Background(), c, echoArgs{Sleep: 3000})
		slow <- err
	}()
	<-started
	a.Stop()
	err = wait(t, done)
	if err == nil || !strings.Contains(err.Error(), "server.grace_timeout") || app.ExitCode(err) != app.ExitFailure {
		t.Errorf("Run = %v (exit %d), want the grace exceeded (exit 1)", err, app.ExitCode(err))
	}
	if err := <-slow; err == nil {
		t.Error("the cut call succeeded")
	}
}

// TestListenFailure: an endpoint that cannot be bound fails Run, which
// closes what it bound.
func TestListenFailure(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := baseConfig()
	cfg.Servants["Test.EchoServer.BusyObj"] = config.Servant{Endpoint: fmt.Sprintf("tcp -h 127.0.0.1 -p %d", busy.Addr().(*net.TCPAddr).Port)}
	a, err := app.New(cfg, app.WithLogWriter(&syncBuf{}))
	if err != nil {
		t.Fatal(err)
	}
	err = a.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Test.EchoServer.BusyObj") || app.ExitCode(err) != app.ExitFailure {
		t.Fatalf("Run = %v", err)
	}
}

// TestNewRefuses: configurations the runner cannot run are usage errors
// naming the key, found before anything starts.
func TestNewRefuses(t *testing.T) {
	tests := []struct {
		name string
		edit func(*config.Config)
		opts []app.Option
		key  string
	}{
		{"invalid", func(c *config.Config) { c.Client.Timeout = 0 }, nil, "client.timeout"},
		{"consul without a resolver", func(c *config.Config) { c.Client.Consul = "127.0.0.1:8500" }, nil, "client.consul"},
		{"not_tars", func(c *config.Config) {
			c.Servants[echoObj] = config.Servant{Endpoint: "tcp -h 127.0.0.1 -p 0", Protocol: "not_tars"}
		}, nil, "servants." + echoObj + ".protocol"},
		{"remote files without tarsconfig", func(*config.Config) {}, []app.Option{app.WithConfigFiles("a.conf")}, "server.config_obj"},
		{"stat obj without endpoints or locator", func(c *config.Config) { c.Observability.StatObj = monitor.StatObj }, nil, "observability.stat_obj"},
		{"negative keepAlive interval", func(c *config.Config) {
			c.Server.Node = platform.NodeObj + "@tcp -h 127.0.0.1 -p 1"
			c.Server.Tars.MainLoopTicker = -time.Second
		}, nil, "server.tars.main_loop_ticker"},
		{"udp admin", func(c *config.Config) { c.Server.Local = "udp -h 127.0.0.1 -p 0" }, nil, "server.local"},
		{"bad admin command", func(c *config.Config) { c.Server.Local = "tcp -h 127.0.0.1 -p 0" },
			[]app.Option{app.WithAdminCommand(platform.CmdHelp, "", nil)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig()
			tt.edit(&cfg)
			_, err := app.New(cfg, append(tt.opts, app.WithLogWriter(&syncBuf{}))...)
			var ue *app.UsageError
			if !errors.As(err, &ue) || app.ExitCode(err) != app.ExitUsage {
				t.Fatalf("New = %v, want a usage error", err)
			}
			if !strings.Contains(err.Error(), tt.key) {
				t.Errorf("New = %v, want it to name %s", err, tt.key)
			}
		})
	}
}

// TestAdmin: AdminObj on server.local answers notify (the level changes,
// a program's command runs) and shutdown makes Run return nil.
func TestAdmin(t *testing.T) {
	cfg := baseConfig()
	cfg.Server.Local = "tcp -h 127.0.0.1 -p 0 -t 3000"
	a, err := app.New(cfg, app.WithLogWriter(&syncBuf{}), app.WithVersion("echo-1.0"),
		app.WithAdminCommand("echo.hello", "greets", func(_ context.Context, args string) (string, error) { return "hello " + args, nil }))
	if err != nil {
		t.Fatal(err)
	}
	registerEcho(a.Server(), nil)
	_, done := start(t, a)
	c := clientOf(t, platform.AdminObj, a.Addr(platform.AdminObj))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct{ cmd, want string }{
		{"tars.setloglevel DEBUG", "tars.setloglevel DEBUG succ"},
		{"tars.viewversion", "echo-1.0"},
		{"echo.hello you", "hello you"},
	} {
		got, err := platform.AdminNotify.Call(ctx, c, platform.NotifyArgs{Command: tc.cmd})
		if err != nil || got != tc.want {
			t.Errorf("notify(%q) = %q, %v; want %q", tc.cmd, got, err, tc.want)
		}
	}
	if a.LogLevel().Level() != slog.LevelDebug {
		t.Errorf("level %v after tars.setloglevel DEBUG", a.LogLevel().Level())
	}
	status, err := platform.AdminNotify.Call(ctx, c, platform.NotifyArgs{Command: "tars.viewstatus"})
	if err != nil || !strings.Contains(status, "[server:Test.EchoServer]") || !strings.Contains(status, "[server:AdminAdapter]") {
		t.Errorf("tars.viewstatus = %q, %v", status, err)
	}
	if _, err := platform.AdminShutdown.Call(ctx, c, tars.Void{}); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := wait(t, done); err != nil {
		t.Errorf("Run after AdminF shutdown = %v", err)
	}
}

// TestClients: Client builds the client of an object from its static
// endpoints, with the method timeouts; the stat reporter on the server and
// the clients reports both sides to the StatF object when Run stops.
func TestClients(t *testing.T) {
	// A backend and a stat server, run by the test.
	backend := tars.NewServer()
	registerEcho(backend, nil)
	var mu sync.Mutex
	var reports []monitor.ReportMicMsgArgs
	tars.Handle(backend, monitor.StatObj, monitor.ReportMicMsg, func(_ context.Context, r monitor.ReportMicMsgArgs) (int32, error) {
		mu.Lock()
		defer mu.Unlock()
		reports = append(reports, r)
		return 0, nil
	})
	var lines []string
	tars.Handle(backend, platform.LogObj, platform.LogLoggerByInfo, func(_ context.Context, r platform.LoggerByInfoArgs) (tars.Void, error) {
		mu.Lock()
		defer mu.Unlock()
		if r.Info.AppName == "Test" && r.Info.ServerName == "EchoServer" && r.Info.FileName == "access" {
			lines = append(lines, r.Buffer...)
		}
		return tars.Void{}, nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- backend.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		backend.Shutdown(ctx)
		<-served
	}()
	ep := fmt.Sprintf("tcp -h 127.0.0.1 -p %d -t 3000", ln.Addr().(*net.TCPAddr).Port)

	const backendObj = "Test.Backend.EchoObj"
	cfg := baseConfig()
	cfg.Observability.StatObj = monitor.StatObj + "@" + ep
	cfg.Server.LogObj = platform.LogObj + "@" + ep
	cfg.Client.Objects = map[string]config.Object{
		backendObj: {Endpoints: ep, Methods: map[string]config.Method{"slowEcho": {Timeout: 100 * time.Millisecond}}},
	}
	a, err := app.New(cfg, app.WithLogWriter(&syncBuf{}), app.WithRemoteLog("access"))
	if err != nil {
		t.Fatal(err)
	}
	if a.RemoteLog("other") != io.Discard {
		t.Error("a file not named has a remote log")
	}
	access := slog.New(slog.NewTextHandler(a.RemoteLog("access"), nil))
	// The backend serves echoObj; the app's client calls it as backendObj.
	tars.Handle(backend, backendObj, echo, func(_ context.Context, x echoArgs) (string, error) { return x.S, nil })
	tars.Handle(backend, backendObj, slowEcho, func(ctx context.Context, x echoArgs) (string, error) {
		select {
		case <-time.After(time.Duration(x.Sleep) * time.Millisecond):
			return x.S, nil
		case <-ctx.Done(): // the caller's 100 ms reached the server too
			return "", ctx.Err()
		}
	})
	// The app's own servant relays to the backend through a.Client.
	tars.Handle(a.Server(), echoObj, echo, func(ctx context.Context, x echoArgs) (string, error) {
		c, err := a.Client(backendObj)
		if err != nil {
			return "", err
		}
		access.Info("relay", "s", x.S)
		return echo.Call(ctx, c, x)
	})
	_, done := start(t, a)

	c, err := a.Client(backendObj)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := a.Client(backendObj); again != c {
		t.Error("Client built a second client of the same object")
	}
	ctx := context.Background()
	if got, err := echo.Call(ctx, c, echoArgs{S: "direct"}); err != nil || got != "direct" {
		t.Errorf("echo = %q, %v", got, err)
	}
	// slowEcho's own timeout (100 ms) applies, not the client's 3 s.
	t0 := time.Now()
	_, err = slowEcho.Call(ctx, c, echoArgs{Sleep: 2000})
	if tars.CodeOf(err) != tars.CodeInvokeTimeout || time.Since(t0) > 1500*time.Millisecond {
		t.Errorf("slowEcho = %v after %v; want a timeout near 100 ms", err, time.Since(t0))
	}
	// Through the app's server, relayed.
	if got, err := echo.Call(ctx, clientOf(t, echoObj, a.Addr(echoObj)), echoArgs{S: "relayed"}); err != nil || got != "relayed" {
		t.Errorf("relayed echo = %q, %v", got, err)
	}
	if _, err := a.Client("Test.Nowhere.Obj"); err == nil || !strings.Contains(err.Error(), "client.locator") {
		t.Errorf("a client without endpoints or resolver: %v", err)
	}
	a.Stop()
	if err := wait(t, done); err != nil {
		t.Fatal(err)
	}
	// The last reports went out as Run stopped: the served call (from the
	// server) and the calls made (from the clients).
	mu.Lock()
	defer mu.Unlock()
	var fromServer, fromClient bool
	for _, r := range reports {
		for h := range r.Msg {
			if !r.FromClient && h.MasterName == monitor.MasterFromServer && h.SlaveName == "Test.EchoServer" && h.InterfaceName == "echo" {
				fromServer = true
			}
			if r.FromClient && h.SlaveName == "Test.Backend" && h.InterfaceName == "echo" {
				fromClient = true
			}
		}
	}
	if !fromServer || !fromClient {
		t.Errorf("stat reports: from the server %v, from the clients %v: %+v", fromServer, fromClient, reports)
	}
	// The remote log's line went out as Run stopped, at the latest.
	if len(lines) != 1 || !strings.Contains(lines[0], "msg=relay s=relayed") {
		t.Errorf("remote log lines %q", lines)
	}
}

// TestReload: with a watched YAML file, a new log level applies live, a
// new client timeout rebuilds the clients, and a changed endpoint is
// logged as needing a restart.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.yaml")
	yaml := func(level, timeout, port string) string {
		return `server:
  app: Test
  server: EchoServer
servants:
  ` + echoObj + `:
    endpoint: tcp -h 127.0.0.1 -p ` + port + `
client:
  objects:
    Test.Backend.EchoObj:
      endpoints: tcp -h 127.0.0.1 -p 1
      timeout: ` + timeout + `
log:
  level: ` + level + "\n"
	}
	if err := os.WriteFile(path, []byte(yaml("info", "1s", "0")), 0o600); err != nil {
		t.Fatal(err)
	}
	l := &koanf.Loader{File: path, NoEnv: true, PollInterval: 20 * time.Millisecond}
	cfg, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuf
	changes := make(chan config.Change, 4)
	a, err := app.New(cfg, app.WithLogWriter(&logs), app.WithWatch(l), app.WithReload(func(ch config.Change) { changes <- ch }))
	if err != nil {
		t.Fatal(err)
	}
	registerEcho(a.Server(), nil)
	start(t, a)
	before, err := a.Client("Test.Backend.EchoObj")
	if err != nil {
		t.Fatal(err)
	}
	next := func() config.Change {
		t.Helper()
		select {
		case ch := <-changes:
			return ch
		case <-time.After(10 * time.Second):
			t.Fatal("no change reported within 10 s")
			return config.Change{}
		}
	}
	// The first look at the file: unchanged since Load, nothing reported.
	if err := os.WriteFile(path, []byte(yaml("debug", "2s", "0")), 0o600); err != nil {
		t.Fatal(err)
	}
	ch := next()
	if ch.Err != nil || ch.NeedsRestart() {
		t.Fatalf("change %v", ch)
	}
	if a.LogLevel().Level() != slog.LevelDebug {
		t.Errorf("level %v after the reload", a.LogLevel().Level())
	}
	after, err := a.Client("Test.Backend.EchoObj")
	if err != nil || after == before {
		t.Errorf("the client was not rebuilt (%v)", err)
	}
	if got := a.Config().Client.Objects["Test.Backend.EchoObj"].Timeout; got != 2*time.Second {
		t.Errorf("Config() timeout %v", got)
	}
	if err := os.WriteFile(path, []byte(yaml("debug", "2s", "1")), 0o600); err != nil {
		t.Fatal(err)
	}
	ch = next()
	if !ch.NeedsRestart() {
		t.Fatalf("change %v", ch)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "take effect after a restart") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s := logs.String(); !strings.Contains(s, "take effect after a restart") || !strings.Contains(s, "servants."+echoObj+".endpoint") {
		t.Errorf("log:\n%s", s)
	}
	if err := os.WriteFile(path, []byte("server: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if ch := next(); ch.Err == nil {
		t.Errorf("a broken file: change %v", ch)
	}
	if a.LogLevel().Level() != slog.LevelDebug {
		t.Errorf("a broken file changed the level to %v", a.LogLevel().Level())
	}
}

// TestStopBeforeRun: Stop before Run makes Run start and stop at once.
func TestStopBeforeRun(t *testing.T) {
	a, err := app.New(baseConfig(), app.WithLogWriter(&syncBuf{}))
	if err != nil {
		t.Fatal(err)
	}
	a.Stop()
	a.Stop()
	if err := a.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, app.ExitOK},
		{context.Canceled, app.ExitOK},
		{fmt.Errorf("run: %w", context.Canceled), app.ExitOK},
		{errors.New("boom"), app.ExitFailure},
		{app.Usage(errors.New("bad flag")), app.ExitUsage},
		{fmt.Errorf("wrapped: %w", app.Usage(errors.New("bad"))), app.ExitUsage},
		{app.Usage(nil), app.ExitOK},
	}
	for _, tt := range tests {
		if got := app.ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

// TestTasks: a task runs once the servants listen and ends before Run
// returns; a failing task stops the App with its error.
func TestTasks(t *testing.T) {
	var sawAddr bool
	ended := make(chan struct{})
	var a *app.App
	a, err := app.New(baseConfig(), app.WithLogWriter(&syncBuf{}),
		app.WithTask("watcher", func(ctx context.Context) error {
			sawAddr = a.Addr(echoObj) != nil
			<-ctx.Done()
			close(ended)
			return ctx.Err()
		}))
	if err != nil {
		t.Fatal(err)
	}
	cancel, done := start(t, a)
	cancel()
	if err := wait(t, done); err != nil {
		t.Fatalf("Run = %v", err)
	}
	select {
	case <-ended:
	default:
		t.Fatal("Run returned before its task")
	}
	if !sawAddr {
		t.Error("the task started before the servants listened")
	}

	boom := errors.New("registrar lost")
	b, err := app.New(baseConfig(), app.WithLogWriter(&syncBuf{}),
		app.WithTask("registrar", func(context.Context) error { return boom }))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Run(context.Background()); !errors.Is(err, boom) || app.ExitCode(err) != app.ExitFailure {
		t.Errorf("Run = %v, want the task's error", err)
	}
}

// TestKeepAliveSkipsZombie: under tarsnode (server.node), keepAlive is
// sent for every adapter each main_loop_ticker, but not for one whose
// handlers are all busy with none started for zombie_timeout (TarsGo's
// zombie rule), so that tarsnode restarts a stuck server; it is sent again
// once the adapter moves.
func TestKeepAliveSkipsZombie(t *testing.T) {
	for _, tc := range []struct {
		name string
		sv   config.Servant
		opts []app.Option
	}{
		{"max_invoke in the configuration", config.Servant{Endpoint: "tcp -h 127.0.0.1 -p 0", MaxInvoke: 1, Adapter: "EchoAdapter"}, nil},
		// The limit the server holds counts, whoever set it.
		{"MaxInvoke from the program", config.Servant{Endpoint: "tcp -h 127.0.0.1 -p 0", Adapter: "EchoAdapter"},
			[]app.Option{app.WithServerOptions(tars.WithMaxInvoke(1))}},
	} {
		t.Run(tc.name, func(t *testing.T) { testKeepAliveSkipsZombie(t, tc.sv, tc.opts...) })
	}
}

func testKeepAliveSkipsZombie(t *testing.T, sv config.Servant, opts ...app.Option) {
	node := tars.NewServer()
	var mu sync.Mutex
	var adapters []string
	var versions int
	tars.Handle(node, platform.NodeObj, platform.NodeKeepAlive, func(_ context.Context, a platform.ServerInfoArgs) (int32, error) {
		mu.Lock()
		defer mu.Unlock()
		if a.ServerInfo.Application == "Test" && a.ServerInfo.ServerName == "EchoServer" && a.ServerInfo.Pid == int32(os.Getpid()) {
			adapters = append(adapters, a.ServerInfo.Adapter)
		}
		return 0, nil
	})
	tars.Handle(node, platform.NodeObj, platform.NodeReportVersion, func(_ context.Context, a platform.ReportVersionArgs) (int32, error) {
		mu.Lock()
		defer mu.Unlock()
		versions++
		return 0, nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- node.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		node.Shutdown(ctx)
		<-served
	}()

	cfg := baseConfig()
	cfg.Server.Node = fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d -t 3000", platform.NodeObj, ln.Addr().(*net.TCPAddr).Port)
	cfg.Server.Tars.MainLoopTicker = 40 * time.Millisecond
	cfg.Server.Tars.ZombieTimeout = 120 * time.Millisecond
	cfg.Servants[echoObj] = sv
	a, err := app.New(cfg, append([]app.Option{app.WithLogWriter(&syncBuf{})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	tars.Handle(a.Server(), echoObj, echo, func(ctx context.Context, x echoArgs) (string, error) {
		started <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return x.S, nil
	})
	cancel, done := start(t, a)
	// counts returns how many keepAlives named each adapter since mark.
	mark := func() int { mu.Lock(); defer mu.Unlock(); return len(adapters) }
	since := func(from int) (admin, echo int) {
		mu.Lock()
		defer mu.Unlock()
		for _, ad := range adapters[from:] {
			switch ad {
			case platform.AdminAdapter:
				admin++
			case "EchoAdapter":
				echo++
			}
		}
		return
	}
	waitRounds := func(from, n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if admin, _ := since(from); admin >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("fewer than %d rounds in 10 s", n)
			}
		}
	}
	waitRounds(0, 2)
	if _, e := since(0); e < 1 {
		t.Fatalf("no keepAlive for EchoAdapter while it was idle: %q", adapters)
	}

	// The one handler it may run is stuck.
	c := clientOf(t, echoObj, a.Addr(echoObj))
	call := make(chan error, 1)
	go func() { _, err := echo.Call(context.Background(), c, echoArgs{S: "x"}); call <- err }()
	<-started
	time.Sleep(cfg.Server.Tars.ZombieTimeout + 2*cfg.Server.Tars.MainLoopTicker)
	from := mark()
	waitRounds(from, 4)
	if admin, e := since(from); e != 0 {
		t.Errorf("%d keepAlives for the stuck EchoAdapter in %d rounds", e, admin)
	}

	close(release)
	if err := <-call; err != nil {
		t.Fatal(err)
	}
	from = mark()
	waitRounds(from, 3)
	if _, e := since(from); e == 0 {
		t.Error("no keepAlive for EchoAdapter once it moved again")
	}
	cancel()
	if err := wait(t, done); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if versions != 1 || adapters[0] != "" {
		t.Errorf("reportVersion %d times; first keepAlive for %q", versions, adapters[0])
	}
}

// TestCustomResolver: with WithResolver (Consul's, say), a client whose
// object has no static endpoints is resolved through it, with the client
// middleware and options of the program.
func TestCustomResolver(t *testing.T) {
	backend := tars.NewServer()
	registerEcho(backend, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- backend.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		backend.Shutdown(ctx)
		<-served
	}()
	r := discovery.NewStatic(discovery.FromAddress(transport.Address{Network: "tcp", Host: "127.0.0.1",
		Port: ln.Addr().(*net.TCPAddr).Port, Weight: -1}))
	var seen []string
	var asked []string
	var mu sync.Mutex
	a, err := app.New(baseConfig(), app.WithLogWriter(&syncBuf{}), app.WithResolver(r),
		app.WithClientMiddleware(func(next tars.Invoker) tars.Invoker {
			return func(ctx context.Context, call *tars.Call) error {
				mu.Lock()
				seen = append(seen, call.Servant+"."+call.Method)
				mu.Unlock()
				return next(ctx, call)
			}
		}),
		app.WithClientOptions(func(obj string, cfg *config.Config) ([]tars.ClientOption, error) {
			asked = append(asked, obj+" "+cfg.Server.App)
			return nil, nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	registerEcho(a.Server(), nil)
	_, done := start(t, a)
	c, err := a.Client(echoObj)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := echo.Call(context.Background(), c, echoArgs{S: "resolved"}); err != nil || got != "resolved" {
		t.Errorf("echo = %q, %v", got, err)
	}
	a.Stop()
	if err := wait(t, done); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != echoObj+".echo" || len(asked) != 1 || asked[0] != echoObj+" Test" {
		t.Errorf("middleware saw %q; options asked for %q", seen, asked)
	}
}

// TestLogPath: with log.path, the App logs where TarsGo does:
// log.path/app/server/app.server.log.
func TestLogPath(t *testing.T) {
	cfg := baseConfig()
	cfg.Log.Path = t.TempDir()
	a, err := app.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.Stop()
	if err := a.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(cfg.Log.Path, "Test", "EchoServer", "Test.EchoServer.log"))
	if err != nil || !strings.Contains(string(b), "app: running") || !strings.Contains(string(b), "app: stopped") {
		t.Errorf("log file %q, %v", b, err)
	}
}

// TestRetiredClientOutlivesGrace: a client a reload replaced keeps working
// for the handlers still running through the graceful shutdown (it was
// closed as the shutdown began).
func TestRetiredClientOutlivesGrace(t *testing.T) {
	const backendObj = "Test.Backend.EchoObj"
	backend := tars.NewServer()
	tars.Handle(backend, backendObj, echo, func(_ context.Context, a echoArgs) (string, error) { return a.S, nil })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go backend.Serve(ln)
	t.Cleanup(func() { backend.Shutdown(context.Background()) })
	path := filepath.Join(t.TempDir(), "app.yaml")
	write := func(timeout string) {
		t.Helper()
		y := "server:\n  app: Test\n  server: EchoServer\n  grace_timeout: 5s\nservants:\n  " + echoObj +
			":\n    endpoint: tcp -h 127.0.0.1 -p 0\nclient:\n  objects:\n    " + backendObj +
			fmt.Sprintf(":\n      endpoints: tcp -h 127.0.0.1 -p %d\n      timeout: %s\n", ln.Addr().(*net.TCPAddr).Port, timeout)
		if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("1s")
	l := &koanf.Loader{File: path, NoEnv: true, PollInterval: 20 * time.Millisecond}
	cfg, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	changes := make(chan config.Change, 4)
	a, err := app.New(cfg, app.WithLogWriter(io.Discard), app.WithWatch(l), app.WithReload(func(ch config.Change) { changes <- ch }))
	if err != nil {
		t.Fatal(err)
	}
	var old *tars.Client
	relaying := make(chan struct{}, 1)
	tars.Handle(a.Server(), echoObj, echo, func(ctx context.Context, e echoArgs) (string, error) {
		relaying <- struct{}{}
		time.Sleep(300 * time.Millisecond) // the shutdown has begun meanwhile
		return echo.Call(context.Background(), old, e)
	})
	cancel, done := start(t, a)
	if old, err = a.Client(backendObj); err != nil {
		t.Fatal(err)
	}
	write("2s")
	select {
	case ch := <-changes:
		if ch.Err != nil {
			t.Fatal(ch.Err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no reload within 10 s")
	}
	if now, _ := a.Client(backendObj); now == old {
		t.Fatal("the client was not replaced")
	}
	c, err := tars.NewClient(fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d", echoObj, a.Addr(echoObj).(*net.TCPAddr).Port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := make(chan error, 1)
	go func() {
		s, err := echo.Call(context.Background(), c, echoArgs{S: "relayed"})
		if err == nil && s != "relayed" {
			err = fmt.Errorf("answer %q", s)
		}
		got <- err
	}()
	<-relaying
	cancel() // stop: the handler is running, within the grace
	if err := <-got; err != nil {
		t.Errorf("the handler's call through the retired client during the grace: %v", err)
	}
	if err := wait(t, done); err != nil {
		t.Fatal(err)
	}
}
