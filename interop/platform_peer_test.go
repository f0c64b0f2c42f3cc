package interop

// gotars under the TARS platform, against TarsGo's generated code: package
// platform's KeepAlive calling a tarsnode stand-in served by TarsGo's
// ServerF dispatch (tars/protocol/res/nodef), its RemoteConfig pulling from
// a tarsconfig stand-in served by TarsGo's Config dispatch (configf), and
// its Admin answering TarsGo's generated AdminF client (adminf), as
// tarsnode and tarsweb call it, and its RemoteLog sending to TarsGo's Log
// dispatch (logf).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tarsgo "github.com/TarsCloud/TarsGo/tars"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/adminf"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/configf"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/logf"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/nodef"
	"github.com/TarsCloud/TarsGo/tars/util/current"

	"github.com/gotars/tars"
	"github.com/gotars/tars/platform"
)

// tgNode is tarsnode's ServerF on TarsGo's generated types, served by
// nodef.NewServerF()'s Dispatch: it records what it is told.
type tgNode struct {
	mu        sync.Mutex
	infos     []nodef.ServerInfo
	at        []time.Time
	nodeNames []string
	versions  [][3]string
}

var _ nodef.ServerFServantWithContext = (*tgNode)(nil)

func (n *tgNode) KeepAlive(ctx context.Context, si *nodef.ServerInfo) (int32, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.infos = append(n.infos, *si)
	n.at = append(n.at, time.Now())
	m, _ := current.GetRequestContext(ctx)
	n.nodeNames = append(n.nodeNames, m["node_name"])
	return 0, nil
}

func (n *tgNode) KeepActiving(context.Context, *nodef.ServerInfo) (int32, error) {
	return 0, errors.New("keepActiving: TarsGo never sends it, nor should gotars")
}

func (n *tgNode) ReportVersion(_ context.Context, app, server, version string) (int32, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.versions = append(n.versions, [3]string{app, server, version})
	return 0, nil
}

func (n *tgNode) GetLatestKeepAliveTime(context.Context) (uint32, error) { return 0, nil }

func (n *tgNode) snapshot() ([]nodef.ServerInfo, []time.Time, []string, [][3]string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.infos), slices.Clone(n.at), slices.Clone(n.nodeNames), slices.Clone(n.versions)
}

// TestPlatformKeepAliveTarsGoNode: keepAlives reach TarsGo's ServerF with
// the ServerInfo tarsnode needs, adapter "" first, then every interval one
// per adapter with AdminAdapter, and reportVersion once.
func TestPlatformKeepAliveTarsGoNode(t *testing.T) {
	node := new(tgNode)
	addr := idlServeTarsGo(t, nodef.NewServerF(), node)
	host, port, _ := net.SplitHostPort(addr)
	c, err := tars.NewClient(fmt.Sprintf("%s@tcp -h %s -p %s -t 3000", platform.NodeObj, host, port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	const interval = 150 * time.Millisecond
	k, err := platform.NewKeepAlive(c, platform.KeepAliveOptions{
		App: "Demo", Server: "HelloServer", Adapters: []string{"Demo.HelloServer.HelloObjAdapter"},
		Interval: interval, Version: "gotars-test", NodeName: "10.1.2.3",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- k.Run(ctx) }()
	const rounds = 4
	want := 1 + rounds*2
	deadline := time.Now().Add(20 * time.Second)
	for {
		infos, _, _, _ := node.snapshot()
		if len(infos) >= want {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("%d keepAlives after 20 s, want %d", len(infos), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v", err)
	}

	infos, at, nodeNames, versions := node.snapshot()
	if !slices.Equal(versions, [][3]string{{"Demo", "HelloServer", "gotars-test"}}) {
		t.Errorf("reportVersion calls: %v", versions)
	}
	pid := int32(os.Getpid())
	var adapters []string
	for i, si := range infos {
		if si.Application != "Demo" || si.ServerName != "HelloServer" || si.Pid != pid {
			t.Errorf("keepAlive %d: %+v; want application Demo, serverName HelloServer, pid %d", i, si, pid)
		}
		if nodeNames[i] != "10.1.2.3" {
			t.Errorf("keepAlive %d: context node_name %q", i, nodeNames[i])
		}
		adapters = append(adapters, si.Adapter)
	}
	wantAdapters := []string{""}
	for range rounds {
		wantAdapters = append(wantAdapters, "AdminAdapter", "Demo.HelloServer.HelloObjAdapter")
	}
	if !slices.Equal(adapters[:want], wantAdapters) {
		t.Errorf("adapters %q, want %q", adapters[:want], wantAdapters)
	}
	// Round r starts r intervals after the first keepAlive (ticker-driven:
	// never early; late only by scheduling).
	for r := 1; r <= rounds; r++ {
		d := at[1+(r-1)*2].Sub(at[0])
		if lo := time.Duration(r)*interval - interval/3; d < lo {
			t.Errorf("round %d began %v after the first keepAlive, before %v", r, d, lo)
		}
	}
	gaps := at[1+(rounds-1)*2].Sub(at[1]) / (rounds - 1)
	t.Logf("mean gap between rounds %v (interval %v)", gaps, interval)
	if gaps < interval/2 || gaps > 10*interval {
		t.Errorf("mean gap between rounds %v, want about %v", gaps, interval)
	}
}

// tgConfig is tarsconfig's Config on TarsGo's generated types, served by
// configf.NewConfig()'s Dispatch: loadConfigByInfo answers the file named,
// -1 for one it lacks and 429 for "busy.conf" (tarsconfig's rate limit).
type tgConfig struct {
	mu    sync.Mutex
	files map[string]string
	asked []configf.ConfigInfo
}

var _ configf.ConfigServantWithContext = (*tgConfig)(nil)

var errNotUsed = errors.New("not used by gotars")

func (c *tgConfig) ListConfig(context.Context, string, string, *[]string) (int32, error) {
	return 0, errNotUsed
}
func (c *tgConfig) LoadConfig(context.Context, string, string, string, *string) (int32, error) {
	return 0, errNotUsed
}
func (c *tgConfig) LoadConfigByHost(context.Context, string, string, string, *string) (int32, error) {
	return 0, errNotUsed
}
func (c *tgConfig) CheckConfig(context.Context, string, string, string, *string) (int32, error) {
	return 0, errNotUsed
}
func (c *tgConfig) ListConfigByInfo(context.Context, *configf.ConfigInfo, *[]string) (int32, error) {
	return 0, errNotUsed
}
func (c *tgConfig) CheckConfigByInfo(context.Context, *configf.ConfigInfo, *string) (int32, error) {
	return 0, errNotUsed
}

func (c *tgConfig) LoadConfigByInfo(_ context.Context, ci *configf.ConfigInfo, config *string) (int32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = append(c.asked, *ci)
	if ci.Filename == "busy.conf" {
		return 429, nil
	}
	s, ok := c.files[ci.Filename]
	if !ok {
		return -1, nil
	}
	*config = s
	return 0, nil
}

func (c *tgConfig) ListAllConfigByInfo(_ context.Context, ci *configf.GetConfigListInfo, vf *[]string) (int32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name := range c.files {
		*vf = append(*vf, name)
	}
	slices.Sort(*vf)
	return 0, nil
}

func (c *tgConfig) last() configf.ConfigInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.asked[len(c.asked)-1]
}

// platformAdmin is a gotars server with platform.Admin on AdminObj and a
// TarsGo AdminF client of it (tars/protocol/res/adminf, on the shared
// communicator).
type platformAdmin struct {
	admin    *platform.Admin
	level    *slog.LevelVar
	srv      *tars.Server
	served   chan error
	stopped  chan error // what the Shutdown function's graceful shutdown returned
	tgClient *adminf.AdminF
}

func startPlatformAdmin(t *testing.T, rc *platform.RemoteConfig) *platformAdmin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &platformAdmin{level: new(slog.LevelVar), srv: tars.NewServer(), served: make(chan error, 1), stopped: make(chan error, 1)}
	p.admin = platform.NewAdmin(platform.AdminOptions{
		App: "Demo", Server: "HelloServer", Version: "gotars-test", LogLevel: p.level, Config: rc,
		Servers: map[string]*tars.Server{platform.AdminAdapter: p.srv}, Logger: slog.New(slog.DiscardHandler),
		Shutdown: func() { // what a program gives: a graceful shutdown (then it would exit)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			p.stopped <- p.srv.Shutdown(ctx)
		},
	})
	p.admin.Handle(p.srv)
	go func() { p.served <- p.srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p.srv.Shutdown(ctx) // a no-op once the admin shut it down
		if err := <-p.served; !errors.Is(err, tars.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	p.tgClient = new(adminf.AdminF)
	rpcComm().StringToProxy(fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d -t 5000", platform.AdminObj, ln.Addr().(*net.TCPAddr).Port), p.tgClient)
	return p
}

// TestPlatformAdminTarsGoClient: TarsGo's generated AdminF client, as
// tarsweb and tarsnode call AdminObj: notify answers TarsGo's strings and
// sets the level; shutdown is answered, then the program's graceful
// shutdown runs and the server stops.
func TestPlatformAdminTarsGoClient(t *testing.T) {
	p := startPlatformAdmin(t, nil)
	if err := p.admin.Register("app.echo", "echo ARGS", func(_ context.Context, args string) (string, error) {
		if args == "fail" {
			return "", errors.New("echo failed")
		}
		return args, nil
	}); err != nil {
		t.Fatal(err)
	}
	p.level.Set(slog.LevelInfo)
	for _, tc := range []struct{ cmd, want string }{
		{"tars.setloglevel DEBUG", "tars.setloglevel DEBUG succ"},
		{"tars.viewversion", "gotars-test"},
		{"tars.setloglevel", "tars.setloglevel failed: missing loglevel!"},
		{"tars.setloglevel LOUD", "tars.setloglevel failed: unknown log level [LOUD]!"},
		{"tars.dumpstack", "tars.dumpstack succ"},
		{"tars.gracerestart", "tars.gracerestart not support now!"},
		{"app.echo hello there", "hello there"},
	} {
		got, err := p.tgClient.Notify(tc.cmd)
		if err != nil || got != tc.want {
			t.Errorf("TarsGo Notify(%q) = %q, %v; want %q", tc.cmd, got, err, tc.want)
		}
		if tc.cmd == "tars.setloglevel DEBUG" && p.level.Level() != slog.LevelDebug {
			t.Errorf("after %q the level is %v", tc.cmd, p.level.Level())
		}
	}
	if p.level.Level() != slog.LevelDebug {
		t.Errorf("level %v, want DEBUG", p.level.Level())
	}
	status, err := p.tgClient.Notify("tars.viewstatus")
	if err != nil || !strings.Contains(status, "ServerName(server)            HelloServer\n") || !strings.Contains(status, "[server:AdminAdapter]:\n") {
		t.Errorf("tars.viewstatus = %q, %v", status, err)
	}
	// iRet 1, as TarsGo's own server answers a failed dispatch: TarsGo's
	// client makes it a plain error with the text (any other code would
	// be a *tarsgo.Error).
	_, err = p.tgClient.Notify("app.echo fail")
	var te *tarsgo.Error
	if err == nil || errors.As(err, &te) || err.Error() != "echo failed" {
		t.Errorf("a failing command reached TarsGo as %v (%T), want iRet 1 with its text", err, err)
	}

	select {
	case <-p.admin.Done():
		t.Fatal("shut down before shutdown")
	default:
	}
	if err := p.tgClient.Shutdown(); err != nil {
		t.Fatalf("TarsGo Shutdown: %v", err)
	}
	select {
	case err := <-p.stopped:
		if err != nil {
			t.Errorf("the graceful shutdown failed: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the shutdown function did not run")
	}
	if err := <-p.served; !errors.Is(err, tars.ErrServerClosed) {
		t.Errorf("Serve returned %v", err)
	}
	p.served <- tars.ErrServerClosed // for the cleanup
}

// TestPlatformRemoteConfigTarsGoConfig: files served by TarsGo's Config
// dispatch land in basepath, pulled at start (LoadAll) and by
// tars.loadconfig from TarsGo's AdminF client; a refusal names the file.
func TestPlatformRemoteConfigTarsGoConfig(t *testing.T) {
	tc := &tgConfig{files: map[string]string{
		"HelloServer.conf": "<hello>\n  greeting=hi\n</hello>\n",
		"extra.conf":       "x=1\n",
	}}
	addr := idlServeTarsGo(t, configf.NewConfig(), tc)
	host, port, _ := net.SplitHostPort(addr)
	c, err := tars.NewClient(fmt.Sprintf("%s@tcp -h %s -p %s -t 3000", platform.ConfigObj, host, port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	basepath := t.TempDir()
	rc, err := platform.NewRemoteConfig(c, platform.RemoteConfigOptions{
		App: "Demo", Server: "HelloServer", SetDivision: "demo.sz.1", BasePath: basepath,
		Files: []string{"HelloServer.conf"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rc.LoadAll(ctx); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(basepath, "HelloServer.conf")); err != nil || string(b) != tc.files["HelloServer.conf"] {
		t.Errorf("basepath/HelloServer.conf = %q, %v", b, err)
	}
	if got, want := tc.last(), (configf.ConfigInfo{Appname: "Demo", Servername: "HelloServer", Filename: "HelloServer.conf", Setdivision: "demo.sz.1"}); got != want {
		t.Errorf("TarsGo's Config read %+v, want %+v", got, want)
	}
	if _, err := rc.LoadApp(ctx, "extra.conf"); err != nil {
		t.Fatal(err)
	}
	if got := tc.last(); got.Servername != "" || got.Appname != "Demo" || got.Filename != "extra.conf" {
		t.Errorf("LoadApp: TarsGo's Config read %+v", got)
	}
	files, err := rc.List(ctx)
	if err != nil || !slices.Equal(files, []string{"HelloServer.conf", "extra.conf"}) {
		t.Errorf("List = %v, %v", files, err)
	}
	_, err = rc.Load(ctx, "busy.conf")
	var ce *platform.ConfigError
	if !errors.As(err, &ce) || ce.Ret != 429 || ce.File != "busy.conf" {
		t.Errorf("a refused load = %v", err)
	}

	// tars.loadconfig from TarsGo's AdminF client, as tarsweb's "push
	// config" does.
	os.Remove(filepath.Join(basepath, "extra.conf"))
	p := startPlatformAdmin(t, rc)
	got, err := p.tgClient.Notify("tars.loadconfig extra.conf")
	if err != nil || got != "Getconfig Success!: extra.conf" {
		t.Errorf("tars.loadconfig = %q, %v", got, err)
	}
	if b, err := os.ReadFile(filepath.Join(basepath, "extra.conf")); err != nil || string(b) != "x=1\n" {
		t.Errorf("basepath/extra.conf = %q, %v", b, err)
	}
	_, err = p.tgClient.Notify("tars.loadconfig absent.conf")
	var te *tarsgo.Error
	if err == nil || errors.As(err, &te) || err.Error() != `platform: config file "absent.conf": tarsconfig answered ret -1` {
		t.Errorf("tars.loadconfig of an absent file reached TarsGo as %v (%T), want iRet 1 naming the file", err, err)
	}
}

// tgLog is tarslog's Log on TarsGo's generated types, served by
// logf.NewLog()'s Dispatch.
type tgLog struct {
	mu    sync.Mutex
	infos []logf.LogInfo
	lines []string
}

var _ logf.LogServantWithContext = (*tgLog)(nil)

func (l *tgLog) Logger(context.Context, string, string, string, string, []string) error {
	return errNotUsed
}

func (l *tgLog) LoggerbyInfo(_ context.Context, info *logf.LogInfo, buffer []string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.infos = append(l.infos, *info)
	l.lines = append(l.lines, buffer...)
	return nil
}

// TestPlatformRemoteLogTarsGoLog: slog records written to a RemoteLog
// reach TarsGo's Log dispatch with the LogInfo TarsGo's own remote logger
// sends (NewRemoteTimeWriter's defaults).
func TestPlatformRemoteLogTarsGoLog(t *testing.T) {
	tl := new(tgLog)
	addr := idlServeTarsGo(t, logf.NewLog(), tl)
	host, port, _ := net.SplitHostPort(addr)
	c, err := tars.NewClient(fmt.Sprintf("%s@tcp -h %s -p %s -t 3000", platform.LogObj, host, port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rl, err := platform.NewRemoteLog(c, platform.RemoteLogOptions{App: "Demo", Server: "HelloServer", File: "access", Interval: 30 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rl.Run(ctx) }()
	logger := slog.New(slog.NewJSONHandler(rl, nil))
	for i := range 5 {
		logger.Info("served", "n", i)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		tl.mu.Lock()
		n := len(tl.lines)
		tl.mu.Unlock()
		if n >= 5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if len(tl.lines) != 5 {
		t.Fatalf("TarsGo's Log got %d lines, want 5: %q", len(tl.lines), tl.lines)
	}
	for i, line := range tl.lines {
		if !strings.Contains(line, `"msg":"served","n":`+fmt.Sprint(i)+`}`) || strings.HasSuffix(line, "\n") {
			t.Errorf("line %d: %q", i, line)
		}
	}
	want := logf.LogInfo{Appname: "Demo", Servername: "HelloServer", SFilename: "access", SFormat: "%Y%m%d",
		BHasSufix: true, BHasAppNamePrefix: true, BHasSquareBracket: false, SConcatStr: "_", SSepar: "|"}
	if tl.infos[0] != want {
		t.Errorf("TarsGo read LogInfo %+v, want %+v", tl.infos[0], want)
	}
}
