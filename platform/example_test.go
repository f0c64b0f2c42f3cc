package platform_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/platform"
)

// Serving AdminObj on the `local` endpoint: tarsweb's "set log level"
// reaches the program's LevelVar, and tarsnode's stop reaches its shutdown.
func ExampleAdmin() {
	// The program's handlers read the level (and write to os.Stderr, not
	// io.Discard).
	level := new(slog.LevelVar)
	logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: level}))

	local := tars.NewServer() // the server of server<local>
	admin := platform.NewAdmin(platform.AdminOptions{
		App: "Demo", Server: "HelloServer", LogLevel: level, Logger: logger,
		Shutdown: func() { /* stop the servers gracefully, then return from main */ },
	})
	admin.Register("app.flush", "drop the caches", func(ctx context.Context, args string) (string, error) {
		return "flushed", nil
	})
	admin.Handle(local)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go local.Serve(ln)
	defer local.Shutdown(context.Background())

	// What tarsnode and tarsweb do.
	c, _ := tars.NewClient(fmt.Sprintf("AdminObj@tcp -h 127.0.0.1 -p %d", ln.Addr().(*net.TCPAddr).Port))
	defer c.Close()
	ctx := context.Background()
	for _, cmd := range []string{"tars.setloglevel DEBUG", "app.flush", "tars.bogus"} {
		reply, err := platform.AdminNotify.Call(ctx, c, platform.NotifyArgs{Command: cmd})
		fmt.Printf("%q %v\n", reply, err)
	}
	fmt.Println("level", level.Level())
	platform.AdminShutdown.Call(ctx, c, tars.Void{})
	<-admin.Done()
	fmt.Println("shutdown requested")
	// Output:
	// "tars.setloglevel DEBUG succ" <nil>
	// "flushed" <nil>
	// "tars.bogus not support now!" <nil>
	// level DEBUG
	// shutdown requested
}

// Telling tarsnode the server lives: node is the object server<node>
// names. A tarsnode stand-in runs in-process here.
func ExampleKeepAlive() {
	seen := make(chan platform.ServerInfo, 16)
	node := tars.NewServer()
	tars.Handle(node, platform.NodeObj, platform.NodeKeepAlive, func(_ context.Context, a platform.ServerInfoArgs) (int32, error) {
		select {
		case seen <- a.ServerInfo:
		default:
		}
		return 0, nil
	})
	tars.Handle(node, platform.NodeObj, platform.NodeReportVersion, func(context.Context, platform.ReportVersionArgs) (int32, error) {
		return 0, nil
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go node.Serve(ln)
	defer node.Shutdown(context.Background())

	c, _ := tars.NewClient(fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d -t 3000", platform.NodeObj, ln.Addr().(*net.TCPAddr).Port))
	defer c.Close()
	k, err := platform.NewKeepAlive(c, platform.KeepAliveOptions{
		App: "Demo", Server: "HelloServer", Adapters: []string{"Demo.HelloServer.HelloObjAdapter"},
		Interval: 50 * time.Millisecond, // 10 s by default
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- k.Run(ctx) }()
	for range 3 { // at start, then one round
		si := <-seen
		fmt.Printf("%s.%s adapter %q pid ok: %v\n", si.Application, si.ServerName, si.Adapter, si.Pid == int32(os.Getpid()))
	}
	cancel()
	fmt.Println(<-done)
	// Output:
	// Demo.HelloServer adapter "" pid ok: true
	// Demo.HelloServer adapter "AdminAdapter" pid ok: true
	// Demo.HelloServer adapter "Demo.HelloServer.HelloObjAdapter" pid ok: true
	// context canceled
}

// Pulling config files from tarsconfig into basepath at start. A
// tarsconfig stand-in runs in-process here.
func ExampleRemoteConfig() {
	cfg := tars.NewServer()
	tars.Handle(cfg, platform.ConfigObj, platform.ConfigLoadConfigByInfo, func(_ context.Context, a platform.ConfigInfoArgs) (platform.InfoContent, error) {
		return platform.InfoContent{Content: "# " + a.ConfigInfo.FileName + " for " + a.ConfigInfo.AppName + "." + a.ConfigInfo.ServerName + "\n"}, nil
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go cfg.Serve(ln)
	defer cfg.Shutdown(context.Background())

	basepath, _ := os.MkdirTemp("", "basepath")
	defer os.RemoveAll(basepath)
	c, _ := tars.NewClient(fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d -t 3000", platform.ConfigObj, ln.Addr().(*net.TCPAddr).Port))
	defer c.Close()
	rc, err := platform.NewRemoteConfig(c, platform.RemoteConfigOptions{
		App: "Demo", Server: "HelloServer", BasePath: basepath, Files: []string{"hello.conf"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := rc.LoadAll(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	b, _ := os.ReadFile(filepath.Join(basepath, "hello.conf"))
	fmt.Print(string(b))
	// Output:
	// # hello.conf for Demo.HelloServer
}

// Sending a server's log lines to tarslog as well: RemoteLog is the
// io.Writer under a slog handler. A tarslog stand-in runs in-process here.
func ExampleRemoteLog() {
	got := make(chan []string, 1)
	tarslog := tars.NewServer()
	tars.Handle(tarslog, platform.LogObj, platform.LogLoggerByInfo, func(_ context.Context, a platform.LoggerByInfoArgs) (tars.Void, error) {
		got <- a.Buffer
		return tars.Void{}, nil
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go tarslog.Serve(ln)
	defer tarslog.Shutdown(context.Background())

	c, _ := tars.NewClient(fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d -t 3000", platform.LogObj, ln.Addr().(*net.TCPAddr).Port))
	defer c.Close()
	rl, _ := platform.NewRemoteLog(c, platform.RemoteLogOptions{App: "Demo", Server: "HelloServer", File: "audit"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rl.Run(ctx) }()

	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	audit := slog.New(slog.NewTextHandler(rl, &slog.HandlerOptions{ReplaceAttr: noTime}))
	audit.Info("login", "user", "ada")
	fmt.Println(<-got) // within a second: the batch interval
	cancel()
	<-done
	// Output:
	// [level=INFO msg=login user=ada]
}
