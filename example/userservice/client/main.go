// Command client runs the UserService demo against any server of the seed's
// user.tars and exits non-zero at the first wrong answer. The server is
// named by an object string with its endpoints, or found through the TARS
// registry (-locator):
//
//	go run ./example/userservice/client -endpoint "UserService.UserServiceObj@tcp -h 127.0.0.1 -p 18015"
//	go run ./example/userservice/client -endpoint UserService.UserServiceObj -locator "tars.tarsregistry.QueryObj@tcp -h 10.0.0.1 -p 17890"
//
// (Consul: example/userservice/consul, a module of its own.)
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/discovery/tarsregistry"
	"github.com/gotars/tars/example/userservice/userdemo"
)

func main() {
	endpoint := flag.String("endpoint", "UserService.UserServiceObj@tcp -h 127.0.0.1 -p 18015", "the servant object, in TARS syntax; a bare servant name with -locator")
	locator := flag.String("locator", "", "the TARS registry's QueryObj, in TARS syntax: resolve -endpoint through it")
	version := flag.Int("version", int(tars.VersionTARS), "packet version: 1 TARS, 3 TUP, 5 JSON")
	flag.Parse()
	if err := run(*endpoint, *locator, int16(*version), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(endpoint, locator string, version int16, out io.Writer) error {
	opts := []tars.ClientOption{tars.WithVersion(version)}
	if locator != "" {
		r, err := tarsregistry.New(locator)
		if err != nil {
			return err
		}
		opts = append(opts, tars.WithResolver(r))
	}
	c, err := tars.NewClient(endpoint, opts...)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return userdemo.Run(ctx, c, out)
}
