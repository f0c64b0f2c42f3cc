// Package userconsul is the UserService example over Consul, a module of
// its own so that the root module never depends on consul/api: Serve
// registers the servant with a Consul agent and withdraws it when it shuts
// down; Demo finds the servers through the agent and runs the client demo.
// The commands ./server and ./client wrap them:
//
//	go run ./server -listen 127.0.0.1:18015 -consul 127.0.0.1:8500
//	go run ./client -consul 127.0.0.1:8500
package userconsul

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/gotars/tars"
	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/discovery/consul"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/example/userservice/userdemo"
	"github.com/gotars/tars/example/userservice/userserver"
	"github.com/gotars/tars/transport"
)

// Serve serves the UserService on ln, registered with the Consul agent at
// agent (its HTTP address), until ctx ends; then it deregisters, drains the
// calls in flight (10 s at most) and returns.
func Serve(ctx context.Context, ln net.Listener, agent string, log *slog.Logger) error {
	client, err := api.NewClient(&api.Config{Address: agent})
	if err != nil {
		return err
	}
	srv := tars.NewServer(tars.WithLogger(log))
	userserver.Register(srv, userapi.Servant, userserver.NewStore())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	addr := ln.Addr().(*net.TCPAddr)
	reg := discovery.Registration{Servant: userapi.Servant, Endpoint: discovery.Endpoint{Address: transport.Address{
		Network: "tcp", Host: addr.IP.String(), Port: addr.Port, Timeout: 3 * time.Second, Weight: -1}}}
	if err := srv.Announce(ctx, consul.NewRegistrar(client), reg); err != nil {
		srv.Shutdown(context.Background())
		<-errc
		return err
	}
	log.Info("serving", "servant", userapi.Servant, "addr", addr.String(), "consul", agent)
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	<-errc
	if err != nil && !errors.Is(err, tars.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// Demo runs the client demo against the servers the Consul agent at agent
// lists for the UserService.
func Demo(agent string, out io.Writer) error {
	client, err := api.NewClient(&api.Config{Address: agent})
	if err != nil {
		return err
	}
	c, err := tars.NewClient(userapi.Servant, tars.WithResolver(consul.NewResolver(client)))
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return userdemo.Run(ctx, c, out)
}
