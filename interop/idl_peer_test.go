package interop

// Machinery of the idl-export RPC tests: gotars servers and TarsGo servers
// and clients of the code tars2go generated from the exported IDL
// (idlgen/), all on loopback ports and all stopped when the test ends.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	tarsgo "github.com/TarsCloud/TarsGo/tars"
	"github.com/TarsCloud/TarsGo/tars/util/rogger"

	"github.com/gotars/tars"
	"github.com/gotars/tars/interop/rpcpeer"
)

func init() {
	// TarsGo reads its configuration on first use, from os.Args unless
	// ServerConfigPath is set: a path that does not exist makes it a plain
	// client, logging nothing (PEERS.md). Set before any other tarsgo call.
	if tarsgo.ServerConfigPath == "" {
		tarsgo.ServerConfigPath = filepath.Join(os.TempDir(), "gotars-interop-no-tarsgo-config.conf")
	}
	rogger.SetLevel(rogger.OFF)
}

// idlComm is the TarsGo communicator of the idl-export tests.
var idlComm = sync.OnceValue(func() *tarsgo.Communicator { return tarsgo.NewCommunicator() })

// idlObj is servant's object at addr (host:port) in TARS syntax.
func idlObj(servant, addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	return fmt.Sprintf("%s@tcp -h %s -p %s -t 60000", servant, host, port)
}

// idlServeGotars runs a gotars server with the handlers reg registers on
// 127.0.0.1:0 until the test ends, and returns its address.
func idlServeGotars(t *testing.T, reg func(*tars.Server)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := tars.NewServer()
	reg(srv)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("gotars server shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, tars.ErrServerClosed) {
			t.Errorf("gotars Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// idlServeTarsGo serves a generated Dispatch with impl on a free loopback
// port with TarsGo's transport (rpcpeer.Serve) until the test ends, and
// returns the address.
func idlServeTarsGo(t testing.TB, d rpcpeer.Dispatcher, impl any) string {
	t.Helper()
	srv, err := rpcpeer.Serve(d, impl, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Logf("TarsGo server shutdown: %v", err)
		}
	})
	return srv.Addr()
}
