// Command tarsping calls the built-in tars_ping of a TARS servant, which
// every TARS server answers, and exits 0 when every endpoint answered in
// time, 1 when one did not, 2 on a usage error: a health check for what
// cannot speak TARS itself, such as a Kubernetes exec probe.
//
// Usage:
//
//	tarsping [-timeout 2s] [-q] OBJECT@ENDPOINTS
//
//	tarsping "UserService.UserServiceObj@tcp -h 127.0.0.1 -p 18015"
//
// OBJECT@ENDPOINTS is a TARS object string; with several endpoints
// (":"-separated) each one is pinged on its own connection and all must
// answer. -timeout bounds each ping, dial included. -q prints nothing on
// success.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/transport"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run is the command: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tarsping", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", 2*time.Second, "bound of each ping, dial included")
	quiet := fs.Bool("q", false, "print nothing on success")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tarsping [-timeout 2s] [-q] OBJECT@ENDPOINTS")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || *timeout <= 0 {
		fs.Usage()
		return 2
	}
	servant, addrs, err := transport.ParseObject(fs.Arg(0))
	if err == nil && len(addrs) == 0 {
		err = errors.New("no endpoint after '@'")
	}
	if err != nil {
		fmt.Fprintf(stderr, "tarsping: %q: %v\n", fs.Arg(0), err)
		return 2
	}
	code := 0
	for _, a := range addrs {
		start := time.Now()
		if err := ping(servant, a, *timeout); err != nil {
			fmt.Fprintf(stderr, "tarsping: %s@%s: %v\n", servant, a, err)
			code = 1
			continue
		}
		if !*quiet {
			fmt.Fprintf(stdout, "%s@%s: ok in %v\n", servant, a, time.Since(start).Round(time.Microsecond))
		}
	}
	return code
}

// ping calls tars_ping of servant at a on a client of its own.
func ping(servant string, a transport.Address, timeout time.Duration) error {
	c, err := tars.NewClient(servant+"@"+a.String(), tars.WithTimeout(timeout), tars.WithDialTimeout(timeout))
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c.Ping(ctx)
}
