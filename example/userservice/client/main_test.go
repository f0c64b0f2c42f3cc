package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gotars/tars"
	"github.com/gotars/tars/discovery/tarsregistry"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/example/userservice/userserver"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func serve(t *testing.T, srv *tars.Server) *net.TCPAddr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	return ln.Addr().(*net.TCPAddr)
}

// TestLocator runs the demo through a TARS registry (QueryF served by
// gotars, listing three example servers) and checks the calls spread over
// them.
func TestLocator(t *testing.T) {
	var eps []tarsregistry.EndpointF
	var servers []*tars.Server
	for range 3 {
		srv := tars.NewServer()
		// One store for all three: the demo's calls may land on any.
		servers = append(servers, srv)
		eps = append(eps, tarsregistry.EndpointF{Host: "127.0.0.1", Timeout: 3000, IsTCP: tarsregistry.IsTCP})
	}
	store := userserver.NewStore()
	for i, srv := range servers {
		userserver.Register(srv, userapi.Servant, store)
		eps[i].Port = int32(serve(t, srv).Port)
	}
	reg := tars.NewServer()
	var asked []string
	tars.Handle(reg, tarsregistry.QueryObj, tarsregistry.FindObjectByIDInSameGroup, func(ctx context.Context, a tarsregistry.IDArgs) (tarsregistry.Lists, error) {
		asked = append(asked, a.ID)
		return tarsregistry.Lists{Active: eps}, nil
	})
	regAddr := serve(t, reg)
	locator := fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d", tarsregistry.QueryObj, regAddr.Port)
	var out strings.Builder
	if err := run(options{endpoint: userapi.Servant, locator: locator, version: tars.VersionTARS}, &out); err != nil {
		t.Fatalf("demo through the registry: %v\n%s", err, out.String())
	}
	if len(asked) == 0 || asked[0] != userapi.Servant {
		t.Fatalf("registry asked %v", asked)
	}
	served := 0
	for _, srv := range servers {
		if srv.Stats().Accepted > 0 {
			served++
		}
	}
	if served != 3 {
		t.Fatalf("the calls went to %d of 3 servers", served)
	}
	if err := run(options{endpoint: userapi.Servant, version: tars.VersionTARS}, io.Discard); err == nil {
		t.Fatal("a bare servant name without a locator was accepted")
	}
}

// TestRetriesAndBreakers: of two servers sharing a store, one refuses every
// read (−9, as a rate limit would); the demo fails without retries and
// passes with -retries, with and without -breaker and -hedge.
func TestRetriesAndBreakers(t *testing.T) {
	store := userserver.NewStore()
	var eps []string
	for i := range 2 {
		var opts []tars.ServerOption
		if i == 0 {
			opts = append(opts, tars.WithAdmission(func(_, method string) error {
				switch method {
				case "getUser", "queryUsers", "batchGetUsers":
					return tars.NewError(tars.CodeServerOverload, "reads refused")
				}
				return nil
			}))
		}
		srv := tars.NewServer(opts...)
		userserver.Register(srv, userapi.Servant, store)
		eps = append(eps, fmt.Sprintf("tcp -h 127.0.0.1 -p %d", serve(t, srv).Port))
	}
	obj := userapi.Servant + "@" + strings.Join(eps, ":")
	tests := []struct {
		name string
		o    options
		ok   bool
	}{
		{"no retries", options{}, false},
		{"retries", options{retries: 3}, true},
		{"retries and breakers", options{retries: 3, breaker: true}, true},
		{"retries and backups", options{retries: 3, hedge: 50 * time.Millisecond}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.endpoint, tt.o.version = obj, tars.VersionTARS
			var out strings.Builder
			err := run(tt.o, &out)
			if (err == nil) != tt.ok {
				t.Fatalf("demo: %v, want success %v\n%s", err, tt.ok, out.String())
			}
		})
	}
}
