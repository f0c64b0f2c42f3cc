// Command server serves the example UserService as the application runner
// (package app) runs it, with tarsotel's traces and metrics from the same
// configuration (package otelapp): observability.metrics_address serves
// /metrics, observability.trace_exporter "stdout" prints the spans (one JSON
// object a line) and "otlp" sends them to observability.trace_endpoint,
// sampled at observability.trace_sample_ratio. It runs until SIGINT,
// SIGTERM or AdminF shutdown, then shuts down gracefully.
//
//	cd middleware/tarsotel
//	# from flags alone: the servant on -listen, /metrics on -metrics
//	go run ./example/server -listen 127.0.0.1:18015 -metrics 127.0.0.1:9464
//	# from a configuration file (YAML, JSON, TOML or TARS-native; GOTARS_… variables and -key=value flags over it):
//	go run ./example/server -config example/server/config.yaml
//	go run ./example/server --config=../../example/userservice/UserService.UserServer.config.conf -metrics 127.0.0.1:9464
//
// -listen and -metrics override the file: -listen is the endpoint of the
// servant named …UserServiceObj (there must be one), -metrics is
// observability.metrics_address. The UserService is served on every servant
// whose name ends in "UserServiceObj".
//
// Exit codes: 0 after a clean stop, 1 when serving failed, 2 for a bad
// configuration or command line.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/gotars/tars/app"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/config/koanf"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/example/userservice/userserver"
	"github.com/gotars/tars/middleware"
	"github.com/gotars/tars/middleware/tarsotel/otelapp"
	"github.com/gotars/tars/transport"
)

func main() {
	app.Main(func(ctx context.Context) error { return run(ctx, os.Args, os.Stdout, nil) })
}

// defaultListen is where the servant listens with neither -config nor
// -listen.
const defaultListen = "127.0.0.1:18015"

// run serves until ctx ends (or AdminF shutdown), then shuts down and
// flushes the spans. Spans of the "stdout" exporter go to traces. ready,
// when not nil, is told the servant's address and the /metrics one (nil
// without metrics) once both listen.
func run(ctx context.Context, args []string, traces io.Writer, ready func(servant, metrics net.Addr)) (err error) {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	listen := fs.String("listen", "", "TCP address to serve the UserService on, over the file's endpoint (default "+defaultListen+" without -config)")
	metrics := fs.String("metrics", "", "address to serve /metrics on: observability.metrics_address, over the file's")
	koanf.RegisterFlags(fs, config.Default())
	if err := fs.Parse(args[1:]); err != nil {
		return app.Usage(err)
	}
	l := &koanf.Loader{Flags: fs}
	if l.Path() == "" {
		def := config.Default()
		def.Server.App, def.Server.Server = "UserService", "UserServer"
		ep, err := endpoint(defaultListen)
		if err != nil {
			return err
		}
		def.Servants = map[string]config.Servant{userapi.Servant: {Endpoint: ep}}
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
	overridden := *listen != "" || *metrics != ""
	if *listen != "" {
		if len(servants) > 1 {
			return app.Usage(fmt.Errorf("-listen: the configuration has %d UserService servants (%s): put their endpoints in the file", len(servants), strings.Join(servants, ", ")))
		}
		ep, err := endpoint(*listen)
		if err != nil {
			return app.Usage(err)
		}
		sv := cfg.Servants[servants[0]]
		sv.Endpoint = ep
		cfg.Servants[servants[0]] = sv
	}
	if *metrics != "" {
		cfg.Observability.MetricsAddress = *metrics
	}

	tel, err := otelapp.New(cfg, otelapp.WithTraceWriter(traces))
	if err != nil {
		return err // a *app.UsageError naming the key
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if serr := tel.Shutdown(sctx); serr != nil && err == nil {
			err = serr
		}
	}()

	log, level := app.NewLogger(cfg, app.LogWriter(cfg))
	var a *app.App
	opts := append(tel.AppOptions(), // first: the spans cover the program's middleware
		app.WithLogger(log, level),
		app.WithServerMiddleware(middleware.Recovery(log)),
		app.WithTask("announce", func(ctx context.Context) error {
			var maddr net.Addr
			if cfg.Observability.MetricsAddress != "" {
				select {
				case <-tel.MetricsListening():
				case <-ctx.Done():
					return nil
				}
				maddr = tel.MetricsAddr()
				log.Info("metrics", "url", "http://"+maddr.String()+otelapp.MetricsPath)
			}
			if ready != nil {
				ready(a.Addr(servants[0]), maddr)
			}
			return nil
		}))
	if l.Path() != "" && !overridden {
		opts = append(opts, app.WithWatch(l)) // a reload would undo the flags' overrides
	}
	if a, err = app.New(cfg, opts...); err != nil {
		return err
	}
	store := userserver.NewStore()
	for _, s := range servants {
		userserver.Register(a.Server(), s, store)
	}
	return a.Run(ctx)
}

// endpoint is the TARS endpoint of -listen's host:port.
func endpoint(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("-listen %q: %w", addr, err)
	}
	ep := fmt.Sprintf("tcp -h %s -p %s -t 60000", host, port)
	if _, err := transport.ParseAddress(ep); err != nil {
		return "", fmt.Errorf("-listen %q: %w", addr, err)
	}
	return ep, nil
}
