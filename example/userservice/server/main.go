// Command server serves the example UserService as UserService.UserServiceObj
// until SIGINT or SIGTERM, then shuts down gracefully.
//
//	go run ./example/userservice/server -listen 127.0.0.1:18015
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/example/userservice/userserver"
	"github.com/gotars/tars/middleware"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18015", "TCP (and UDP) address to serve on")
	udp := flag.Bool("udp", true, "also serve UDP on the same address")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*listen, *udp, log); err != nil {
		log.Error("server failed", "err", err)
		os.Exit(1)
	}
}

func run(addr string, udp bool, log *slog.Logger) error {
	srv := tars.NewServer(tars.WithLogger(log), tars.WithMiddleware(middleware.Recovery(log)))
	userserver.Register(srv, userapi.Servant, userserver.NewStore())
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	if udp {
		pc, err := net.ListenPacket("udp", ln.Addr().String())
		if err != nil {
			ln.Close()
			return err
		}
		go func() { errc <- srv.ServePacket(pc) }()
	}
	log.Info("serving", "servant", userapi.Servant, "addr", ln.Addr().String())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case s := <-sig:
		log.Info("shutting down", "signal", s.String())
	case err := <-errc:
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, tars.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}
