package consul_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/discovery/consul"
	"github.com/gotars/tars/transport"
	"github.com/hashicorp/consul/api"
)

// agentAddr is the HTTP address of a Consul agent: "127.0.0.1:8500" for a
// local one; in these Examples, the agent the tests start.
func agentAddr() string { return consul.AgentAddressForExamples() }

// A server registers its servant with its local agent; a client watches
// the servant and gets its endpoints, TARS fields and all.
func Example() {
	client, err := api.NewClient(&api.Config{Address: agentAddr()})
	if err != nil {
		panic(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0") // the server's listener, which the TCP check probes
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	ctx := context.Background()

	// The server side.
	reg := discovery.Registration{
		Servant: "Example.UserServer.UserObj",
		Endpoint: discovery.Endpoint{Address: transport.Address{
			Network: "tcp", Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port,
			Timeout: 3 * time.Second, Weight: 10, WeightType: 1,
		}},
	}
	registrar := consul.NewRegistrar(client)
	if err := registrar.Register(ctx, reg); err != nil {
		panic(err)
	}
	defer registrar.Deregister(ctx, reg) // at shutdown, before draining

	// The client side: Watch runs until its context ends.
	watchCtx, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	resolver := consul.NewResolver(client)
	resolver.Watch(watchCtx, discovery.Target{Servant: "Example.UserServer.UserObj"}, func(s discovery.State) {
		for _, ep := range s.Endpoints {
			fmt.Println(ep.Network, ep.Timeout, "weight", ep.Weight, "type", ep.WeightType)
		}
		stop() // one set is enough here
	})
	// Output: tcp 3s weight 10 type 1
}

func ExampleServiceName() {
	for _, servant := range []string{"App.Server.Obj", "tars.tarsregistry.QueryObj", "Test.Hello_Go.SayHelloObj"} {
		name, _ := consul.ServiceName(servant)
		fmt.Println(name)
	}
	// Output:
	// app-server-obj
	// tars-tarsregistry-queryobj
	// test-hello-go-sayhelloobj
}

// With a TTL check the server itself keeps its registration passing, by
// running Run for as long as it serves.
func ExampleRegistrar_Run() {
	client, err := api.NewClient(&api.Config{Address: agentAddr()})
	if err != nil {
		panic(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	registrar := consul.NewRegistrar(client, consul.WithTTL(10*time.Second))
	reg := discovery.Registration{
		Servant:  "Example.TTLServer.Obj",
		Endpoint: discovery.Endpoint{Address: transport.Address{Network: "tcp", Host: "127.0.0.1", Port: 18015}},
	}
	if err := registrar.Register(ctx, reg); err != nil {
		panic(err)
	}
	done := make(chan error)
	go func() { done <- registrar.Run(ctx) }() // beats every TTL/3

	checks, _ := client.Agent().Checks()
	fmt.Println(checks["service:"+consul.ServiceID(reg.Servant, "127.0.0.1", 18015)].Status)

	// Shutdown: deregister, then stop beating.
	registrar.Deregister(context.Background(), reg)
	stop()
	fmt.Println(<-done)
	// Output:
	// passing
	// context canceled
}
