package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/app"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/monitor"
	"github.com/gotars/tars/platform"
	"github.com/gotars/tars/tarstest"
)

// BenchmarkServerChain measures what the runner adds to a served call —
// over in-memory connections (tarstest), so that the network does not
// hide it: a bare tars.Server with the configuration's options, the App's
// server standalone (no middleware), and under tarsnode (the stat
// reporter and the zombie check's start stamp on every call; the reports themselves go
// to a StatF and a ServerF that are never reached within the run).
//
//	go test -run '^$' -bench ServerChain -benchmem ./app/
func BenchmarkServerChain(b *testing.B) {
	handler := func(_ context.Context, a echoArgs) (string, error) { return a.S, nil }
	bench := func(b *testing.B, srv *tars.Server) {
		c, err := tarstest.NewClient(srv, echoObj)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		ctx := context.Background()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := echo.Call(ctx, c, echoArgs{S: "x"}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.Run("bare", func(b *testing.B) {
		cfg := baseConfig()
		opts, err := cfg.ServerOptions()
		if err != nil {
			b.Fatal(err)
		}
		srv := tars.NewServer(opts...)
		tars.Handle(srv, echoObj, echo, handler)
		bench(b, srv)
		shutdown(b, srv)
	})
	for _, tt := range []struct {
		name string
		edit func(*config.Config)
	}{
		{"app", func(*config.Config) {}},
		{"app-stat", func(c *config.Config) {
			c.Observability.StatObj = monitor.StatObj + "@tcp -h 127.0.0.1 -p 1 -t 100"
		}},
		{"app-node", func(c *config.Config) {
			c.Server.Node = platform.NodeObj + "@tcp -h 127.0.0.1 -p 1 -t 100"
		}},
		{"app-tarsnode", func(c *config.Config) {
			// Nothing listens there: the first report would come after the run.
			c.Server.Node = platform.NodeObj + "@tcp -h 127.0.0.1 -p 1 -t 100"
			c.Observability.StatObj = monitor.StatObj + "@tcp -h 127.0.0.1 -p 1 -t 100"
		}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			cfg := baseConfig()
			tt.edit(&cfg)
			a, err := app.New(cfg, app.WithLogWriter(&syncBuf{}))
			if err != nil {
				b.Fatal(err)
			}
			tars.Handle(a.Server(), echoObj, echo, handler)
			bench(b, a.Server()) // in memory: the App's server without Run
			shutdown(b, a.Server())
		})
	}
}

func shutdown(b *testing.B, srv *tars.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		b.Error(err)
	}
}
