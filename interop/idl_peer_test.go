package interop

// Machinery of the idl-export RPC tests: gotars servers and TarsGo servers
// and clients of the code tars2go generated from the exported IDL
// (idlgen/), all on loopback ports and all stopped when the test ends.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	tarsgo "github.com/TarsCloud/TarsGo/tars"
	"github.com/TarsCloud/TarsGo/tars/protocol"
	"github.com/TarsCloud/TarsGo/tars/protocol/codec"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/basef"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/requestf"
	"github.com/TarsCloud/TarsGo/tars/transport"
	"github.com/TarsCloud/TarsGo/tars/util/current"
	"github.com/TarsCloud/TarsGo/tars/util/rogger"

	"github.com/gotars/tars"
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

// idlDispatcher is what tars2go generates on every interface type.
type idlDispatcher interface {
	Dispatch(context.Context, any, *requestf.RequestPacket, *requestf.ResponsePacket, bool) error
}

// idlProtocol serves a generated Dispatch over TarsGo's transport, as
// TarsGo's own tars.Protocol.Invoke does for TARS (version 1) requests,
// without the stats, filters and tracing that need the TARS platform
// (TarsGo's tars.NewTarsProtocol alone panics outside tars.Run).
type idlProtocol struct {
	dispatcher idlDispatcher
	impl       any // the servant, called with a context
}

func (p *idlProtocol) Invoke(ctx context.Context, pkg []byte) []byte {
	var req requestf.RequestPacket
	var rsp requestf.ResponsePacket
	if err := req.ReadFrom(codec.NewReader(pkg[4:])); err != nil {
		rsp.IRet = basef.TARSSERVERDECODEERR
		rsp.SResultDesc = err.Error()
		return idlFrame(&rsp)
	}
	rsp.IVersion, rsp.IRequestId, rsp.CPacketType = req.IVersion, req.IRequestId, req.CPacketType
	if req.SFuncName != "tars_ping" {
		current.SetRequestStatus(ctx, req.Status)
		current.SetRequestContext(ctx, req.Context)
		if err := p.dispatcher.Dispatch(ctx, p.impl, &req, &rsp, true); err != nil {
			rsp.IRet, rsp.SResultDesc = 1, err.Error()
			var te *tarsgo.Error
			if errors.As(err, &te) {
				rsp.IRet = te.Code
			}
		}
	}
	return idlFrame(&rsp)
}

func idlFrame(rsp *requestf.ResponsePacket) []byte {
	buf := codec.NewBuffer()
	_ = rsp.WriteTo(buf)
	var out bytes.Buffer
	out.Write(make([]byte, 4))
	out.Write(buf.ToBytes())
	b := out.Bytes()
	binary.BigEndian.PutUint32(b, uint32(len(b)))
	return b
}

func (p *idlProtocol) ParsePackage(buff []byte) (int, int) { return protocol.TarsRequest(buff) }

func (p *idlProtocol) InvokeTimeout(pkg []byte) []byte {
	var req requestf.RequestPacket
	_ = req.ReadFrom(codec.NewReader(pkg[4:]))
	return idlFrame(&requestf.ResponsePacket{IVersion: req.IVersion, IRequestId: req.IRequestId, IRet: 1, SResultDesc: "server invoke timeout"})
}

func (p *idlProtocol) GetCloseMsg() []byte {
	return idlFrame(&requestf.ResponsePacket{IVersion: basef.TARSVERSION, SResultDesc: "_reconnect_"})
}

func (p *idlProtocol) DoClose(context.Context) {}

// idlServeTarsGo serves a generated Dispatch with impl on a free loopback
// port with TarsGo's transport until the test ends, and returns the
// address. TarsGo's transport opens its listener from an address itself, so
// a free port is picked first (and picked again if taken meanwhile).
func idlServeTarsGo(t *testing.T, d idlDispatcher, impl any) string {
	t.Helper()
	proto := &idlProtocol{dispatcher: d, impl: impl}
	for range 10 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		ts := transport.NewTarsServer(proto, &transport.TarsServerConf{
			Proto: "tcp", Address: addr, MaxInvoke: 100, QueueCap: 1000,
			AcceptTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: 5 * time.Second,
			IdleTimeout: time.Minute, TCPNoDelay: true,
		})
		if err := ts.Listen(); err != nil {
			continue
		}
		done := make(chan error, 1)
		go func() { done <- ts.Serve() }()
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := ts.Shutdown(ctx); err != nil {
				t.Logf("TarsGo server shutdown: %v", err)
			}
			select {
			case <-done:
			case <-ctx.Done():
			}
		})
		return addr
	}
	t.Fatal("no free loopback port for the TarsGo server")
	return ""
}
