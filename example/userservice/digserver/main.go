// Command digserver serves the example UserService wired with go.uber.org/dig
// (package tarsdig): the configuration, the store, the servant and the
// middleware are constructors in a container, and tarsdig.Run serves the
// configured endpoints until SIGINT or SIGTERM, then shuts down within
// server.grace_timeout.
//
//	go run ./example/userservice/digserver -config config/testdata/userservice.yaml
//	go run ./example/userservice/digserver --config=config/testdata/userservice.tars.conf
//
// The file is YAML (.yaml, .yml) or the TARS-native format tarsnode writes
// (.conf, .tars); its servants.UserService.UserServiceObj.endpoint is where
// the UserService listens. (The full layered loader — environment, flags,
// hot reload — is config/koanf's; this example reads one file.)
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/dig"

	"github.com/gotars/tars"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/config/koanf"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/example/userservice/userserver"
	"github.com/gotars/tars/middleware"
	"github.com/gotars/tars/tarsdig"
)

func main() {
	file := flag.String("config", "", "configuration file: YAML (.yaml, .yml), JSON, TOML or TARS-native (.conf, .tars)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if *file == "" {
		fmt.Fprintln(os.Stderr, "digserver: -config FILE is required")
		os.Exit(2)
	}
	cfg, err := load(*file)
	if err != nil {
		log.Error("bad configuration", "err", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log, nil); err != nil {
		log.Error("server failed", "err", err)
		os.Exit(1)
	}
	log.Info("stopped")
}

// load reads a configuration file onto config.Default() and validates it
// (config/koanf, without the environment: the file alone).
func load(file string) (*config.Config, error) {
	cfg, err := (&koanf.Loader{File: file, NoEnv: true}).Load()
	if err != nil {
		return nil, err
	}
	return &cfg, nil
}

// container wires the UserService: the config and logger given, the
// tarsdig providers, the store, the servant, and the recovery and logging
// middleware (recovery outermost).
func container(cfg *config.Config, log *slog.Logger) (*dig.Container, error) {
	c := dig.New()
	steps := []func() error{
		func() error { return c.Provide(func() *config.Config { return cfg }) },
		func() error { return c.Provide(func() *slog.Logger { return log }) },
		func() error { return tarsdig.Provide(c) },
		func() error { return c.Provide(userserver.NewStore) },
		func() error {
			return c.Provide(func(s *userserver.Store) tarsdig.Servant {
				return tarsdig.Servant{Name: userapi.Servant, Register: func(srv *tars.Server, servant string) {
					userserver.Register(srv, servant, s)
				}}
			}, dig.Group(tarsdig.ServantGroup))
		},
		func() error {
			return c.Provide(func(l *slog.Logger) tarsdig.Middleware {
				return tarsdig.Middleware{Name: "recovery", Order: 0, Middleware: middleware.Recovery(l)}
			}, dig.Group(tarsdig.ServerMiddlewareGroup))
		},
		func() error {
			return c.Provide(func(l *slog.Logger) tarsdig.Middleware {
				return tarsdig.Middleware{Name: "logging", Order: 10, Middleware: middleware.Logging(l)}
			}, dig.Group(tarsdig.ServerMiddlewareGroup))
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// run serves the UserService of cfg until ctx ends; ready, when not nil,
// learns the bound sockets before serving begins.
func run(ctx context.Context, cfg *config.Config, log *slog.Logger, ready func(*tarsdig.Listeners)) error {
	c, err := container(cfg, log)
	if err != nil {
		return err
	}
	var opts []tarsdig.RunOption
	if ready != nil {
		opts = append(opts, tarsdig.WithReady(ready))
	}
	return tarsdig.Run(ctx, c, opts...)
}
