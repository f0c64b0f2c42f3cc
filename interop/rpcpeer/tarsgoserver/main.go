// Command tarsgoserver serves the seed's UserService on TarsGo v1.4.6 (package
// rpcpeer: TarsGo's transport and the tars2go-generated Dispatch, with the
// same rules as gotars' example server) until SIGINT or SIGTERM, so that any
// client can be tried against a real TarsGo server by hand:
//
//	cd interop && go run ./rpcpeer/tarsgoserver -listen 127.0.0.1:18016
//	cd .. && go run ./example/userservice/client -endpoint "UserService.UserServiceObj@tcp -h 127.0.0.1 -p 18016"
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	tarsgo "github.com/TarsCloud/TarsGo/tars"

	"github.com/gotars/tars/interop/rpcpeer"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18016", "host:port to serve on (port 0 picks a free one)")
	flag.Parse()
	// TarsGo reads -config from os.Args on first use unless this is set.
	tarsgo.ServerConfigPath = os.DevNull + ".no-tarsgo-config"
	srv, err := rpcpeer.Start(rpcpeer.NewStore(), *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tarsgoserver:", err)
		os.Exit(1)
	}
	fmt.Println("TarsGo UserService serving", srv.Endpoint())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "tarsgoserver: shutdown:", err)
		os.Exit(1)
	}
}
