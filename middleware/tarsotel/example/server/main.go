// Command server serves the example UserService as UserService.UserServiceObj,
// as example/userservice/server does, with tarsotel's middleware and server
// counts; -metrics ADDR serves them to Prometheus on http://ADDR/metrics.
// It runs until SIGINT or SIGTERM.
//
//	cd middleware/tarsotel && go run ./example/server -listen 127.0.0.1:18015 -metrics 127.0.0.1:9464
//
// It traces nothing (a program that exports traces adds
// tarsotel.WithTracerProvider with its exporter's provider).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/example/userservice/userserver"
	"github.com/gotars/tars/middleware"
	"github.com/gotars/tars/middleware/tarsotel"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18015", "TCP address to serve the UserService on")
	metrics := flag.String("metrics", "", "address to serve /metrics on (none when empty)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := run(ctx, *listen, *metrics, log, func(tcp, m net.Addr) {
		log.Info("serving", "servant", userapi.Servant, "addr", tcp.String())
		if m != nil {
			log.Info("metrics", "url", "http://"+m.String()+"/metrics")
		}
	})
	if err != nil {
		log.Error("server failed", "err", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down; ready is told the addresses
// once both listen.
func run(ctx context.Context, listen, metricsAddr string, log *slog.Logger, ready func(tcp, metrics net.Addr)) error {
	reg := prometheus.NewRegistry()
	mp, err := tarsotel.NewPrometheus(reg)
	if err != nil {
		return err
	}
	defer mp.Shutdown(context.Background())
	otelmw, err := tarsotel.NewMiddleware(tarsotel.WithMeterProvider(mp), tarsotel.WithFilter(tarsotel.SkipPing))
	if err != nil {
		return err
	}
	srv := tars.NewServer(tars.WithLogger(log), tars.WithMiddleware(otelmw, middleware.Recovery(log)))
	userserver.Register(srv, userapi.Servant, userserver.NewStore())
	unregister, err := tarsotel.ObserveServer(mp, srv)
	if err != nil {
		return err
	}
	defer unregister()

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	var hs *http.Server
	var maddr net.Addr
	if metricsAddr != "" {
		mln, err := net.Listen("tcp", metricsAddr)
		if err != nil {
			ln.Close()
			<-errc
			return fmt.Errorf("-metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		hs = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		maddr = mln.Addr()
		go func() { errc <- hs.Serve(mln) }()
	}
	ready(ln.Addr(), maddr)

	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if hs != nil {
		if err := hs.Shutdown(sctx); err != nil {
			return err
		}
		<-errc
	}
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, tars.ErrServerClosed) {
		return err
	}
	<-errc
	return nil
}
