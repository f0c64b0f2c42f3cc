package koanf_test

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"

	"github.com/gotars/tars"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/config/koanf"
)

// A server that reads its configuration in layers and follows the file:
// live changes are taken, the rest logged as waiting for a restart.
func ExampleLoader_Watch() {
	fs := flag.NewFlagSet(os.Args[0], flag.ExitOnError)
	koanf.RegisterFlags(fs, config.Default())
	fs.Parse(os.Args[1:])

	l := koanf.Loader{Flags: fs}
	cfg, err := l.Load()
	if err != nil {
		slog.Error("config", "err", err)
		os.Exit(2)
	}
	level := new(slog.LevelVar)
	lv, _ := config.ParseLevel(cfg.Log.Level)
	level.Set(lv)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	opts, _ := cfg.ServerOptions()
	srv := tars.NewServer(append(opts, tars.WithLogger(log))...)
	_ = srv // register servants, listen on cfg.Servants[…].Endpoint, Serve

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if l.Path() == "" {
		return
	}
	l.Watch(ctx, cfg, func(ch config.Change) {
		if ch.Err != nil {
			log.Warn("config reload refused", "err", ch.Err)
			return
		}
		if lv, err := config.ParseLevel(ch.New.Log.Level); err == nil {
			level.Set(lv)
		}
		// Rebuild clients from ch.New.ClientOptions/Target and swap them in.
		if ch.NeedsRestart() {
			log.Warn("config keys need a restart", "keys", ch.Restart)
		}
		log.Info("config applied", "keys", ch.Live)
	})
}
