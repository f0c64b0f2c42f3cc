package tarsdig_test

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/dig"

	"github.com/gotars/tars"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/tarsdig"
	"github.com/gotars/tars/transport"
)

// GreetArgs is greet's parameter list (string name).
type GreetArgs struct {
	Name string `tars:"1,name=name"`
}

// Greet is the example's endpoint: string greet(string name).
var Greet = tars.NewEndpoint[GreetArgs, string](tars.NewService("Greeter"), "greet")

// An application wired with dig: its config, the package's providers, one
// servant, a server middleware; Run serves until the context ends. The
// client here finds the server through a decorated static resolver,
// because the config's port 0 is known only once Run listens.
func Example() {
	const obj = "Demo.GreetServer.GreetObj"
	cfg := config.Default()
	cfg.Servants = map[string]config.Servant{obj: {Endpoint: "tcp -h 127.0.0.1 -p 0 -t 60000"}}
	static := discovery.NewStatic()

	c := dig.New()
	c.Provide(func() *config.Config { return &cfg })
	tarsdig.Provide(c)
	c.Decorate(func(discovery.Resolver) discovery.Resolver { return static })
	c.Provide(func() tarsdig.Servant {
		return tarsdig.Servant{Name: obj, Register: func(srv *tars.Server, servant string) {
			tars.Handle(srv, servant, Greet, func(_ context.Context, a GreetArgs) (string, error) {
				return "hello, " + a.Name, nil
			})
		}}
	}, dig.Group(tarsdig.ServantGroup))
	c.Provide(func() tarsdig.Middleware {
		return tarsdig.Middleware{Name: "deadline", Order: 0, Middleware: func(next tars.Invoker) tars.Invoker {
			return func(ctx context.Context, call *tars.Call) error {
				ctx, cancel := context.WithTimeout(ctx, time.Second)
				defer cancel()
				return next(ctx, call)
			}
		}}
	}, dig.Group(tarsdig.ServerMiddlewareGroup))

	ctx, stop := context.WithCancel(context.Background())
	ready := make(chan *tarsdig.Listeners, 1)
	done := make(chan error, 1)
	go func() { done <- tarsdig.Run(ctx, c, tarsdig.WithReady(func(ls *tarsdig.Listeners) { ready <- ls })) }()
	ls := <-ready
	a, _ := transport.ParseAddress(ls.Endpoint(obj, ""))
	static.Update(discovery.FromAddress(a))

	c.Invoke(func(cs *tarsdig.Clients) {
		cl, _ := cs.Get(obj)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s, err := Greet.Call(ctx, cl, GreetArgs{Name: "ada"})
		fmt.Println(s, err)
	})
	stop()
	fmt.Println("run:", <-done)
	// Output:
	// hello, ada <nil>
	// run: <nil>
}
