package userconsul_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gotars/tars/discovery/consul"
	"github.com/gotars/tars/discovery/consul/consultest"
	userconsul "github.com/gotars/tars/example/userservice/consul"
	"github.com/gotars/tars/example/userservice/userapi"
)

// TestDemoThroughConsul runs a real agent, a server registered with it and
// the client demo resolving through it; when the server shuts down its
// registration is withdrawn and a new demo finds nobody to call.
func TestDemoThroughConsul(t *testing.T) {
	bin, err := consultest.Binary("../../../scripts/consul.sh")
	if err != nil {
		t.Fatal(err)
	}
	agent, err := consultest.Start(bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Stop()
	api := consultest.NewAPIClient(agent.Addr)
	defer api.Close()
	name, err := consul.ServiceName(userapi.Servant)
	if err != nil {
		t.Fatal(err)
	}
	instances := func() int {
		entries, _, err := api.Health().Service(name, "", true, nil)
		if err != nil {
			t.Fatal(err)
		}
		return len(entries)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- userconsul.Serve(ctx, ln, agent.Addr, slog.New(slog.DiscardHandler)) }()
	for deadline := time.Now().Add(10 * time.Second); instances() != 1; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the server never registered")
		}
	}
	var out strings.Builder
	if err := userconsul.Demo(agent.Addr, &out); err != nil {
		t.Fatalf("demo through Consul: %v\n%s", err, out.String())
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if n := instances(); n != 0 {
		t.Fatalf("%d instances registered after the shutdown", n)
	}
	if err := userconsul.Demo(agent.Addr, io.Discard); err == nil {
		t.Fatal("the demo passed with no server registered")
	}
}
