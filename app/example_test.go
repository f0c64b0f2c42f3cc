package app_test

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/gotars/tars"
	"github.com/gotars/tars/app"
	"github.com/gotars/tars/config"
)

var (
	greeter = tars.NewService("Greeter")
	greet   = tars.NewEndpoint[greetArgs, string](greeter, "greet") // string greet(string name)
)

type greetArgs struct {
	Name string `tars:"1,name=name"`
}

// An application from its configuration: New builds the server, the
// program registers its handlers, Run serves until its context ends. A
// real main would load the configuration with config/koanf and end with
// app.Main.
func Example() {
	cfg := config.Default()
	cfg.Server.App, cfg.Server.Server = "Demo", "GreetServer"
	cfg.Servants = map[string]config.Servant{
		"Demo.GreetServer.GreetObj": {Endpoint: "tcp -h 127.0.0.1 -p 0 -t 60000"},
	}
	a, err := app.New(cfg, app.WithLogWriter(io.Discard))
	if err != nil {
		fmt.Println(err)
		return
	}
	tars.Handle(a.Server(), "Demo.GreetServer.GreetObj", greet, func(_ context.Context, g greetArgs) (string, error) {
		return "hello " + g.Name, nil
	})

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	select {
	case <-a.Ready():
	case err := <-done: // Run failed before it served
		fmt.Println(err)
		return
	}

	port := a.Addr("Demo.GreetServer.GreetObj").(*net.TCPAddr).Port
	c, err := tars.NewClient(fmt.Sprintf("Demo.GreetServer.GreetObj@tcp -h 127.0.0.1 -p %d", port))
	if err != nil {
		fmt.Println(err)
		stop()
		<-done
		return
	}
	defer c.Close()
	s, err := greet.Call(context.Background(), c, greetArgs{Name: "ada"})
	fmt.Println(s, err)

	stop()                                         // SIGTERM, with app.Main
	fmt.Println("exit code", app.ExitCode(<-done)) // a graceful stop
	// Output:
	// hello ada <nil>
	// exit code 0
}

// ExitCode's mapping: a usage error (bad configuration, bad flag) is 2,
// any other failure 1.
func ExampleExitCode() {
	_, err := app.New(config.Config{}) // an empty tree: no valid defaults
	fmt.Println(app.ExitCode(err), app.ExitCode(nil), app.ExitCode(fmt.Errorf("listen: address in use")))
	// Output: 2 0 1
}
