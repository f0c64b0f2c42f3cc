package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/middleware/ratelimit"
	"golang.org/x/time/rate"
)

var (
	quoteService = tars.NewService("Quote")
	getQuote     = tars.NewEndpoint[tars.Void, tars.Void](quoteService, "getQuote")
)

// A server limits a method to 100 calls a second with bursts of 2 (and
// its servant to 1,000 a second): the third call of a burst is answered
// −9 without running.
func ExampleServer() {
	limit, err := ratelimit.Server(
		ratelimit.Rule{Servant: "Demo.QuoteServer.QuoteObj", Method: "getQuote", Rate: 100, Burst: 2},
		ratelimit.Rule{Servant: "Demo.QuoteServer.QuoteObj", Rate: 1000, Burst: 50},
	)
	if err != nil {
		panic(err)
	}
	srv := tars.NewServer(tars.WithMiddleware(limit))
	tars.Handle(srv, "Demo.QuoteServer.QuoteObj", getQuote, func(context.Context, tars.Void) (tars.Void, error) {
		return tars.Void{}, nil
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	defer func() { srv.Shutdown(context.Background()); <-done }()

	c, _ := tars.NewClient(fmt.Sprintf("Demo.QuoteServer.QuoteObj@tcp -h 127.0.0.1 -p %d", ln.Addr().(*net.TCPAddr).Port))
	defer c.Close()
	for range 3 {
		_, err := getQuote.Call(context.Background(), c, tars.Void{})
		fmt.Println(tars.CodeOf(err))
	}
	// Output:
	// TARSSERVERSUCCESS
	// TARSSERVERSUCCESS
	// TARSSERVEROVERLOAD
}

// A client holds its own calls to a servant to one every 10 ms, waiting
// for a token rather than failing (within the call's deadline, and at most
// 100 ms).
func ExampleClient() {
	srv := tars.NewServer()
	tars.Handle(srv, "Demo.QuoteServer.QuoteObj", getQuote, func(context.Context, tars.Void) (tars.Void, error) {
		return tars.Void{}, nil
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	defer func() { srv.Shutdown(context.Background()); <-done }()

	limit, err := ratelimit.Client([]ratelimit.Rule{{Servant: "Demo.QuoteServer.QuoteObj", Rate: rate.Every(10 * time.Millisecond), Burst: 1}},
		ratelimit.WithWait(100*time.Millisecond))
	if err != nil {
		panic(err)
	}
	c, _ := tars.NewClient(fmt.Sprintf("Demo.QuoteServer.QuoteObj@tcp -h 127.0.0.1 -p %d", ln.Addr().(*net.TCPAddr).Port),
		tars.WithMiddleware(limit))
	defer c.Close()
	for range 3 {
		_, err := getQuote.Call(context.Background(), c, tars.Void{})
		fmt.Println(err == nil, errors.Is(err, ratelimit.ErrLimited))
	}
	// Output:
	// true false
	// true false
	// true false
}
