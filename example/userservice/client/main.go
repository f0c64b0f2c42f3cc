// Command client runs the UserService demo against any server of the seed's
// user.tars and exits non-zero at the first wrong answer. The server is
// named by an object string with its endpoints, or found through the TARS
// registry (-locator):
//
//	go run ./example/userservice/client -endpoint "UserService.UserServiceObj@tcp -h 127.0.0.1 -p 18015"
//	go run ./example/userservice/client -endpoint UserService.UserServiceObj -locator "tars.tarsregistry.QueryObj@tcp -h 10.0.0.1 -p 17890"
//
// -retries N retries the idempotent reads on another endpoint, -hedge D
// sends backup requests after D, -breaker adds circuit breakers
// (middleware/retry, middleware/breaker; docs/resilience.md).
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
	"github.com/gotars/tars/middleware/breaker"
	"github.com/gotars/tars/middleware/retry"
)

func main() {
	var o options
	flag.StringVar(&o.endpoint, "endpoint", "UserService.UserServiceObj@tcp -h 127.0.0.1 -p 18015", "the servant object, in TARS syntax; a bare servant name with -locator")
	flag.StringVar(&o.locator, "locator", "", "the TARS registry's QueryObj, in TARS syntax: resolve -endpoint through it")
	version := flag.Int("version", int(tars.VersionTARS), "packet version: 1 TARS, 3 TUP, 5 JSON")
	flag.IntVar(&o.retries, "retries", 0, "attempts of an idempotent call (getUser, queryUsers, batchGetUsers), the first included; 0 or 1: no retry")
	flag.DurationVar(&o.hedge, "hedge", 0, "send a backup request for an idempotent call unanswered after this long (0: none)")
	flag.BoolVar(&o.breaker, "breaker", false, "circuit breakers per method and per endpoint (gobreaker's defaults as middleware/breaker sets them)")
	flag.Parse()
	o.version = int16(*version)
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	endpoint, locator string
	version           int16
	retries           int           // retry.Policy.MaxAttempts
	hedge             time.Duration // retry.HedgePolicy.Delay
	breaker           bool
}

// clientOptions builds the client's options from o: the resolver, and the
// middleware in their order — the method breaker (one verdict per call),
// retries, backup requests — with the endpoint breaker after the pick.
func clientOptions(o options) ([]tars.ClientOption, error) {
	opts := []tars.ClientOption{tars.WithVersion(o.version)}
	if o.locator != "" {
		r, err := tarsregistry.New(o.locator)
		if err != nil {
			return nil, err
		}
		opts = append(opts, tars.WithResolver(r))
	}
	var mws []tars.Middleware
	if o.breaker {
		m, err := breaker.NewMethod(breaker.Settings{})
		if err != nil {
			return nil, err
		}
		e, err := breaker.NewEndpoint(breaker.Settings{})
		if err != nil {
			return nil, err
		}
		mws = append(mws, m.Middleware())
		opts = append(opts, tars.WithEndpointMiddleware(e.Middleware()))
	}
	// Retries and backups share one budget; a server's −9 and −6 mean it
	// ran nothing, so an idempotent call may go elsewhere.
	budget := retry.DefaultBudget()
	refused := []tars.Code{tars.CodeServerOverload, tars.CodeServerQueueTimeout}
	if o.retries > 1 {
		rt, err := retry.New(retry.Policy{MaxAttempts: o.retries, Backoff: 5 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Codes: refused, Budget: budget})
		if err != nil {
			return nil, err
		}
		mws = append(mws, rt)
	}
	if o.hedge > 0 {
		h, err := retry.Hedge(retry.HedgePolicy{Delay: o.hedge, Codes: refused, Budget: budget})
		if err != nil {
			return nil, err
		}
		mws = append(mws, h)
	}
	if len(mws) > 0 {
		opts = append(opts, tars.WithMiddleware(mws...))
	}
	return opts, nil
}

func run(o options, out io.Writer) error {
	opts, err := clientOptions(o)
	if err != nil {
		return err
	}
	c, err := tars.NewClient(o.endpoint, opts...)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return userdemo.Run(ctx, c, out)
}
