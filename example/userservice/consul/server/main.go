// Command server serves the example UserService and registers it with a
// Consul agent until SIGINT or SIGTERM; at shutdown it deregisters before it
// drains the calls in flight.
//
//	go run ./server -listen 127.0.0.1:18015 -consul 127.0.0.1:8500
package main

import (
	"context"
	"flag"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	userconsul "github.com/gotars/tars/example/userservice/consul"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18015", "TCP address to serve on")
	agent := flag.String("consul", "127.0.0.1:8500", "the Consul agent's HTTP address")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *listen)
	if err == nil {
		err = userconsul.Serve(ctx, ln, *agent, log)
	}
	if err != nil {
		log.Error("server failed", "err", err)
		os.Exit(1)
	}
}
