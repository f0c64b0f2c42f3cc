package interop

// The application runner (package app) under the TARS platform, against
// TarsGo's generated code: started from a TARS-native file, as tarsnode
// starts a server, whose node and config objects are TarsGo's ServerF and
// Config dispatch standing in for tarsnode and tarsconfig, and driven by
// TarsGo's generated AdminF client, as tarsnode and tarsweb drive it.

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/TarsCloud/TarsGo/tars/protocol/res/adminf"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/configf"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/nodef"

	"github.com/gotars/tars/app"
	"github.com/gotars/tars/config/koanf"
	"github.com/gotars/tars/example/userservice/userserver"
	usgen "github.com/gotars/tars/interop/gen/UserService"
	"github.com/gotars/tars/platform"
)

// appTarsConf is the file tarsnode would write for UserService.UserServer
// (the shape of config/testdata/UserService.UserServer.config.conf), with
// the framework objects on the test's TarsGo peers and every port the
// server listens on left to the system (-p 0).
const appTarsConf = `<tars>
  <application>
    enableset=n
    setdivision=NULL
    <client>
      sync-invoke-timeout=3000
      async-invoke-timeout=5000
      refresh-endpoint-interval=60000
      modulename=UserService.UserServer
    </client>
    <server>
      app=UserService
      server=UserServer
      nodename=127.0.0.1
      localip=127.0.0.1
      local=tcp -h 127.0.0.1 -p 0 -t 10000
      basepath=%s
      logLevel=INFO
      config=tars.tarsconfig.ConfigObj@tcp -h 127.0.0.1 -p %s -t 5000
      deactivating-timeout=3000
      mainloopticker=%d
      gracedowntimeout=5000
      node=tars.tarsnode.ServerObj@tcp -h 127.0.0.1 -p %s -t 60000
      <UserService.UserServer.UserServiceObjAdapter>
        allow=
        endpoint=tcp -h 127.0.0.1 -p 0 -t 60000
        maxconns=200000
        protocol=tars
        queuecap=10000
        queuetimeout=60000
        servant=UserService.UserServer.UserServiceObj
        threads=5
      </UserService.UserServer.UserServiceObjAdapter>
    </server>
  </application>
</tars>
`

// TestAppUnderTarsNode: the runner started from a TARS-native file keeps
// TarsGo's tarsnode told (reportVersion once; keepAlive adapter "" at
// start, then every mainloopticker one per adapter with AdminAdapter, each
// with application, serverName and pid), pulls its file from TarsGo's
// tarsconfig into basepath before serving, serves the UserService to
// TarsGo's generated client, answers TarsGo's AdminF client (setloglevel
// changes its level, loadconfig pulls another file), and returns cleanly
// on AdminF shutdown, after which no keepAlive is sent.
func TestAppUnderTarsNode(t *testing.T) {
	node := new(tgNode)
	_, nodePort, _ := net.SplitHostPort(idlServeTarsGo(t, nodef.NewServerF(), node))
	tc := &tgConfig{files: map[string]string{
		"UserServer.conf": "<userserver>\n  greeting=hi\n</userserver>\n",
		"extra.conf":      "x=1\n",
	}}
	_, confPort, _ := net.SplitHostPort(idlServeTarsGo(t, configf.NewConfig(), tc))

	const interval = 200 * time.Millisecond
	dir := t.TempDir()
	base := filepath.Join(dir, "bin") + "/"
	path := filepath.Join(dir, "UserService.UserServer.config.conf")
	conf := fmt.Sprintf(appTarsConf, base, confPort, interval.Milliseconds(), nodePort)
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	// As the example server reads --config=.
	l := &koanf.Loader{File: path, NoEnv: true}
	cfg, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	var loaded sync.Map
	a, err := app.New(cfg, app.WithLogWriter(testWriter{t}), app.WithVersion("userservice-test"),
		app.WithConfigFiles("UserServer.conf"),
		app.WithConfigLoaded(func(name, path string) { loaded.Store(name, path) }))
	if err != nil {
		t.Fatal(err)
	}
	const servant = "UserService.UserServer.UserServiceObj"
	userserver.Register(a.Server(), servant, userserver.NewStore())
	if a.LogLevel().Level() != slog.LevelInfo {
		t.Fatalf("level %v from logLevel=INFO", a.LogLevel().Level())
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	select {
	case <-a.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("not ready within 20 s")
	}
	// Pulled before the servants listened.
	if b, err := os.ReadFile(filepath.Join(base, "UserServer.conf")); err != nil || string(b) != tc.files["UserServer.conf"] {
		t.Errorf("basepath/UserServer.conf = %q, %v", b, err)
	}
	if got, want := tc.last(), (configf.ConfigInfo{Appname: "UserService", Servername: "UserServer", Filename: "UserServer.conf"}); got != want {
		t.Errorf("tarsconfig was asked %+v, want %+v", got, want)
	}
	if _, ok := loaded.Load("UserServer.conf"); !ok {
		t.Error("WithConfigLoaded was not called")
	}

	// The UserService, from TarsGo's generated client.
	ua := a.Addr(servant).(*net.TCPAddr)
	us := new(usgen.UserService)
	rpcComm().StringToProxy(fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d -t 5000", servant, ua.Port), us)
	var created usgen.UserInfo
	if ret, err := us.CreateUser(&usgen.UserInfo{UserName: "ada", Email: "ada@example.com"}, &created); err != nil || ret != 0 {
		t.Fatalf("TarsGo createUser = %d, %v", ret, err)
	}
	if u, err := us.GetUser(created.UserId); err != nil || u.UserName != "ada" || created.UserId == 0 {
		t.Errorf("TarsGo getUser = %+v, %v", u, err)
	}

	// keepAlives: "" first, then rounds of AdminAdapter and the servant's adapter.
	const rounds = 3
	want := 1 + rounds*2
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if infos, _, _, _ := node.snapshot(); len(infos) >= want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d keepAlives within 20 s", want)
		}
	}

	// TarsGo's AdminF client, as tarsweb and tarsnode call AdminObj.
	admin := new(adminf.AdminF)
	aa := a.Addr(platform.AdminObj).(*net.TCPAddr)
	rpcComm().StringToProxy(fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d -t 5000", platform.AdminObj, aa.Port), admin)
	if got, err := admin.Notify("tars.setloglevel DEBUG"); err != nil || got != "tars.setloglevel DEBUG succ" {
		t.Errorf("notify setloglevel = %q, %v", got, err)
	}
	if a.LogLevel().Level() != slog.LevelDebug || !a.Logger().Enabled(context.Background(), slog.LevelDebug) {
		t.Errorf("level %v after tars.setloglevel DEBUG", a.LogLevel().Level())
	}
	if got, err := admin.Notify("tars.viewversion"); err != nil || got != "userservice-test" {
		t.Errorf("notify viewversion = %q, %v", got, err)
	}
	if got, err := admin.Notify("tars.loadconfig extra.conf"); err != nil || got != "Getconfig Success!: extra.conf" {
		t.Errorf("notify loadconfig = %q, %v", got, err)
	}
	if b, err := os.ReadFile(filepath.Join(base, "extra.conf")); err != nil || string(b) != "x=1\n" {
		t.Errorf("basepath/extra.conf = %q, %v", b, err)
	}

	if err := admin.Shutdown(); err != nil {
		t.Fatalf("TarsGo AdminF shutdown: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after AdminF shutdown = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return within 20 s of AdminF shutdown")
	}
	if _, err := us.GetUser(created.UserId); err == nil {
		t.Error("the servant still answers after shutdown")
	}
	infos, at, nodeNames, versions := node.snapshot()
	time.Sleep(3 * interval)
	if later, _, _, _ := node.snapshot(); len(later) != len(infos) {
		t.Errorf("%d keepAlives after Run returned", len(later)-len(infos))
	}

	if !slices.Equal(versions, [][3]string{{"UserService", "UserServer", "userservice-test"}}) {
		t.Errorf("reportVersion calls %v", versions)
	}
	pid := int32(os.Getpid())
	var adapters []string
	for i, si := range infos {
		if si.Application != "UserService" || si.ServerName != "UserServer" || si.Pid != pid {
			t.Errorf("keepAlive %d: %+v, want UserService/UserServer pid %d", i, si, pid)
		}
		if nodeNames[i] != "127.0.0.1" {
			t.Errorf("keepAlive %d: node_name %q", i, nodeNames[i])
		}
		adapters = append(adapters, si.Adapter)
	}
	wantAdapters := []string{""}
	for range rounds {
		wantAdapters = append(wantAdapters, platform.AdminAdapter, "UserService.UserServer.UserServiceObjAdapter")
	}
	if !slices.Equal(adapters[:want], wantAdapters) {
		t.Errorf("adapters %q, want %q", adapters[:want], wantAdapters)
	}
	// Round r begins r intervals after the first keepAlive: never early.
	for r := 1; r <= rounds; r++ {
		if d, lo := at[1+(r-1)*2].Sub(at[0]), time.Duration(r)*interval-interval/4; d < lo {
			t.Errorf("round %d began %v after the first keepAlive, before %v", r, d, lo)
		}
	}
	gap := at[1+(rounds-1)*2].Sub(at[1]) / (rounds - 1)
	t.Logf("mean gap between keepAlive rounds %v (mainloopticker %v)", gap, interval)
	if gap < interval/2 || gap > 10*interval {
		t.Errorf("mean gap between rounds %v, want about %v", gap, interval)
	}
}

// testWriter sends the runner's log to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// TestExampleServerUnderTarsNode starts the example server binary as
// tarsnode starts a server — `server --config=<App.Server.config.conf>` —
// against the TarsGo stand-ins: tarsnode sees keepAlives carrying the
// child's pid, tarsconfig's file lands in basepath, TarsGo's client calls
// the UserService, and AdminF shutdown from TarsGo's client makes the
// process exit 0.
func TestExampleServerUnderTarsNode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example server")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "server")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/gotars/tars/example/userservice/server").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	node := new(tgNode)
	_, nodePort, _ := net.SplitHostPort(idlServeTarsGo(t, nodef.NewServerF(), node))
	tc := &tgConfig{files: map[string]string{"UserServer.conf": "greeting=hi\n"}}
	_, confPort, _ := net.SplitHostPort(idlServeTarsGo(t, configf.NewConfig(), tc))

	port, adminPort := freeLoopbackPort(t), freeLoopbackPort(t)
	base := filepath.Join(dir, "bin") + "/"
	conf := fmt.Sprintf(appTarsConf, base, confPort, 200, nodePort)
	conf = strings.Replace(conf, "local=tcp -h 127.0.0.1 -p 0", fmt.Sprintf("local=tcp -h 127.0.0.1 -p %d", adminPort), 1)
	conf = strings.Replace(conf, "endpoint=tcp -h 127.0.0.1 -p 0", fmt.Sprintf("endpoint=tcp -h 127.0.0.1 -p %d", port), 1)
	path := filepath.Join(dir, "UserService.UserServer.config.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--config="+path, "-remote-config=UserServer.conf")
	for _, kv := range os.Environ() { // the server reads GOTARS_… as config keys: give it none
		if !strings.HasPrefix(kv, "GOTARS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var out strings.Builder
	var outMu sync.Mutex
	cmd.Stdout = writerFunc(func(p []byte) (int, error) { outMu.Lock(); defer outMu.Unlock(); return out.Write(p) })
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	logs := func() string { outMu.Lock(); defer outMu.Unlock(); return out.String() }
	pid := int32(cmd.Process.Pid)
	// Started: three keepAlives from the child ("" and a first round).
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		infos, _, _, _ := node.snapshot()
		if len(infos) >= 3 {
			break
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("the server exited (%v); its log:\n%s", err, logs())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than 3 keepAlives within 30 s; the server's log:\n%s", logs())
		}
	}
	if b, err := os.ReadFile(filepath.Join(base, "UserServer.conf")); err != nil || string(b) != "greeting=hi\n" {
		t.Errorf("basepath/UserServer.conf = %q, %v", b, err)
	}
	us := new(usgen.UserService)
	rpcComm().StringToProxy(fmt.Sprintf("UserService.UserServer.UserServiceObj@tcp -h 127.0.0.1 -p %d -t 5000", port), us)
	var created usgen.UserInfo
	if ret, err := us.CreateUser(&usgen.UserInfo{UserName: "grace", Email: "grace@example.com"}, &created); err != nil || ret != 0 {
		t.Errorf("TarsGo createUser = %d, %v", ret, err)
	}
	admin := new(adminf.AdminF)
	rpcComm().StringToProxy(fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d -t 5000", platform.AdminObj, adminPort), admin)
	if got, err := admin.Notify("tars.setloglevel DEBUG"); err != nil || got != "tars.setloglevel DEBUG succ" {
		t.Errorf("notify = %q, %v", got, err)
	}
	if err := admin.Shutdown(); err != nil {
		t.Fatalf("AdminF shutdown: %v", err)
	}
	select {
	case err := <-exited:
		exited <- err // for the deferred wait
		if err != nil {
			t.Fatalf("the server exited with %v after AdminF shutdown:\n%s", err, logs())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the server still runs 30 s after AdminF shutdown:\n%s", logs())
	}
	infos, _, _, versions := node.snapshot()
	if len(versions) != 1 || versions[0][0] != "UserService" || versions[0][1] != "UserServer" || !strings.HasPrefix(versions[0][2], "gotars ") {
		t.Errorf("reportVersion calls %v", versions)
	}
	for i, si := range infos {
		if si.Application != "UserService" || si.ServerName != "UserServer" || si.Pid != pid {
			t.Errorf("keepAlive %d: %+v, want the child's pid %d", i, si, pid)
		}
	}
	if infos[0].Adapter != "" {
		t.Errorf("first keepAlive for adapter %q", infos[0].Adapter)
	}
	if s := logs(); !strings.Contains(s, "app: stopping: AdminF shutdown") || !strings.Contains(s, "app: stopped") {
		t.Errorf("the server's log:\n%s", s)
	}
}

// freeLoopbackPort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
