package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/middleware/breaker"
	"github.com/gotars/tars/transport"
)

var (
	stockService = tars.NewService("Stock")
	getStock     = tars.NewEndpoint[tars.Void, tars.Void](stockService, "getStock")
)

// serve starts a server of Demo.StockServer.StockObj on a free loopback
// port whose getStock fails when fail is true.
func serve(fail bool) (addr *net.TCPAddr, stop func()) {
	srv := tars.NewServer()
	tars.Handle(srv, "Demo.StockServer.StockObj", getStock, func(context.Context, tars.Void) (tars.Void, error) {
		if fail {
			return tars.Void{}, errors.New("database down")
		}
		return tars.Void{}, nil
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	return ln.Addr().(*net.TCPAddr), func() { srv.Shutdown(context.Background()); <-done }
}

// A method breaker fails calls fast once a method keeps failing.
func ExampleNewMethod() {
	addr, stop := serve(true)
	defer stop()

	mb, err := breaker.NewMethod(breaker.Settings{
		MinRequests: 3, FailureRatio: 0.5, Timeout: 10 * time.Second,
		OnStateChange: func(name string, from, to breaker.State) {
			// Runs under the breaker's lock: log or count, never call mb.State.
			fmt.Printf("%s: %v → %v\n", name, from, to)
		},
	})
	if err != nil {
		panic(err)
	}
	c, _ := tars.NewClient(fmt.Sprintf("Demo.StockServer.StockObj@tcp -h 127.0.0.1 -p %d", addr.Port),
		tars.WithMiddleware(mb.Middleware()))
	defer c.Close()
	for range 4 {
		_, err := getStock.Call(context.Background(), c, tars.Void{})
		fmt.Println(tars.CodeOf(err), errors.Is(err, breaker.ErrOpen))
	}
	fmt.Println(mb.State("Demo.StockServer.StockObj", "getStock"))
	// Output:
	// TARSSERVERUNKNOWNERR false
	// TARSSERVERUNKNOWNERR false
	// Demo.StockServer.StockObj.getStock: closed → open
	// TARSSERVERUNKNOWNERR false
	// TARSADAPTERNULL true
	// open
}

// An endpoint breaker takes a failing endpoint out of rotation: the calls
// go to the healthy one.
func ExampleNewEndpoint() {
	good, stopGood := serve(false)
	defer stopGood()
	bad, stopBad := serve(true)
	defer stopBad()
	ep := func(a *net.TCPAddr) discovery.Endpoint {
		return discovery.FromAddress(transport.Address{Network: "tcp", Host: "127.0.0.1", Port: a.Port, Weight: -1})
	}

	eb, err := breaker.NewEndpoint(breaker.Settings{MinRequests: 2, Timeout: 10 * time.Second})
	if err != nil {
		panic(err)
	}
	c, _ := tars.NewClient("Demo.StockServer.StockObj",
		tars.WithResolver(discovery.NewStatic(ep(good), ep(bad))),
		tars.WithEndpointMiddleware(eb.Middleware()))
	defer c.Close()
	failed := 0
	for range 20 {
		if _, err := getStock.Call(context.Background(), c, tars.Void{}); err != nil {
			failed++
		}
	}
	fmt.Println("failed calls:", failed)
	fmt.Println("bad endpoint:", eb.State("Demo.StockServer.StockObj", ep(bad)))
	// Output:
	// failed calls: 2
	// bad endpoint: open
}

// FromConfig maps a method's breaker configuration onto Settings.
func ExampleFromConfig() {
	c := config.Breaker{Enabled: true, Interval: 30 * time.Second, Timeout: 10 * time.Second, FailureRatio: 0.25, MinRequests: 100}
	if !c.Enabled {
		return
	}
	s := breaker.FromConfig(c)
	fmt.Println(s.Interval, s.BucketPeriod, s.Timeout, s.FailureRatio, s.MinRequests)
	// Output: 30s 3s 10s 0.25 100
}
