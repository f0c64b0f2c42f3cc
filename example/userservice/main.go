// Command userservice starts the example UserService on a free loopback
// port, runs the client demo against it, printing each step, and exits 0
// when every answer was right.
//
//	go run ./example/userservice
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/example/userservice/userdemo"
	"github.com/gotars/tars/example/userservice/userserver"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	srv := tars.NewServer()
	userserver.Register(srv, userapi.Servant, userserver.NewStore())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go srv.Serve(ln)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	obj := fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d -t 3000", userapi.Servant, port)
	fmt.Println("server:", obj)

	c, err := tars.NewClient(obj)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return userdemo.Run(ctx, c, os.Stdout)
}
