// Command server serves the example UserService until SIGINT, SIGTERM or
// AdminF shutdown, then shuts down gracefully. It runs three ways:
//
//	# standalone, from a YAML file (env GOTARS_… and flags -key=value over it):
//	go run ./example/userservice/server -config example/userservice/config.yaml
//	# as tarsnode starts it, from the TARS-native file tarsnode writes:
//	go run ./example/userservice/server --config=example/userservice/UserService.UserServer.config.conf
//	# with no file: the servant on one address, TCP and UDP
//	go run ./example/userservice/server -listen 127.0.0.1:18015
//
// The UserService is served on every servant of the configuration whose
// name ends in "UserServiceObj" (UserService.UserServiceObj standalone,
// UserService.UserServer.UserServiceObj under tarsnode). With -config the
// file is watched: a new log level applies at once, other changes are
// logged as needing a restart. -remote-config NAME pulls NAME from
// tarsconfig into basepath at start.
//
// Exit codes: 0 after a clean stop, 1 when serving failed, 2 for a bad
// configuration or command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/gotars/tars"
	"github.com/gotars/tars/app"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/config/koanf"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/example/userservice/userserver"
	"github.com/gotars/tars/middleware"
	"github.com/gotars/tars/transport"
)

func main() { app.Main(func(ctx context.Context) error { return run(ctx, os.Args) }) }

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	listen := fs.String("listen", "", "with no -config: the TCP (and UDP) address to serve on (default 127.0.0.1:18015)")
	udp := fs.Bool("udp", true, "with -listen: also serve UDP on the same address")
	remote := fs.String("remote-config", "", "comma-separated files to pull from tarsconfig (server<config>) into basepath at start")
	koanf.RegisterFlags(fs, config.Default())
	if err := fs.Parse(args[1:]); err != nil {
		return app.Usage(err)
	}
	l := &koanf.Loader{Flags: fs}
	legacy := l.Path() == ""
	if !legacy && *listen != "" {
		return app.Usage(errors.New("-listen and -config exclude each other: put the endpoint in the file"))
	}
	if legacy {
		def, err := listenConfig(*listen)
		if err != nil {
			return app.Usage(err)
		}
		l.Defaults = &def
	}
	cfg, err := l.Load()
	if err != nil {
		return app.Usage(err)
	}
	servants, err := userserver.ServantsIn(cfg)
	if err != nil {
		return app.Usage(err)
	}

	w := app.LogWriter(cfg) // log.path's file (tarsnode's logpath), else stderr
	if f, ok := w.(*app.LogFile); ok {
		fmt.Fprintln(os.Stderr, "logging to", f.Path())
	}
	log, level := app.NewLogger(cfg, w)
	opts := []app.Option{
		app.WithLogger(log, level),
		app.WithServerMiddleware(middleware.Recovery(log)),
	}
	if !legacy {
		opts = append(opts, app.WithWatch(l))
	}
	if *remote != "" {
		opts = append(opts, app.WithConfigFiles(strings.Split(*remote, ",")...))
	}
	a, err := app.New(cfg, opts...)
	if err != nil {
		return err
	}
	store := userserver.NewStore()
	for _, s := range servants {
		userserver.Register(a.Server(), s, store)
	}

	if !legacy || !*udp {
		return a.Run(ctx)
	}
	// -listen: UDP on the TCP address too, served by hand beside the
	// runner (which serves one endpoint per servant).
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	select {
	case err := <-done:
		return err
	case <-a.Ready():
	}
	pc, err := net.ListenPacket("udp", a.Addr(userapi.Servant).String())
	if err != nil {
		a.Stop()
		return errors.Join(err, <-done)
	}
	served := make(chan error, 1)
	go func() { served <- a.Server().ServePacket(pc) }()
	log.Info("serving UDP", "addr", pc.LocalAddr().String())
	err = <-done // Run shut the server down: ServePacket returns
	if serr := <-served; serr != nil && !errors.Is(serr, tars.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// listenConfig is the configuration of -listen: the UserService servant on
// addr (127.0.0.1:18015 when empty).
func listenConfig(addr string) (config.Config, error) {
	if addr == "" {
		addr = "127.0.0.1:18015"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return config.Config{}, fmt.Errorf("-listen %q: %w", addr, err)
	}
	ep := fmt.Sprintf("tcp -h %s -p %s -t 60000", host, port)
	if _, err := transport.ParseAddress(ep); err != nil {
		return config.Config{}, fmt.Errorf("-listen %q: %w", addr, err)
	}
	c := config.Default()
	c.Server.App, c.Server.Server = "UserService", "UserServer"
	c.Servants = map[string]config.Servant{userapi.Servant: {Endpoint: ep}}
	return c, nil
}
