package tars_test

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/codec"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/example/userservice/userserver"
	"github.com/gotars/tars/protocol"
)

// hostileCreateUser returns a createUser request body whose UserInfo's
// metadata has n entries of an empty key and value: 4 bytes each on the
// wire, charged ~20 times that in Go (past the default 8× budget).
func hostileCreateUser(n int) []byte {
	var w codec.Writer
	w.WriteStructBegin(1) // userInfo
	w.WriteMapHeader(6, n)
	w.WriteRaw(bytes.Repeat([]byte{0x06, 0x00, 0x16, 0x00}, n))
	w.WriteStructEnd()
	return w.Bytes()
}

// TestServerRefusesHostileBodies: a createUser request whose decoding would
// take ~20 times its size in Go memory is answered CodeServerDecodeErr, its
// decoding stopped by the decode budget; a normal createUser on the same
// connection is served.
func TestServerRefusesHostileBodies(t *testing.T) {
	srv := tars.NewServer()
	userserver.Register(srv, userapi.Servant, userserver.NewStore())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	fr := protocol.NewFrameReader(nc, 0)
	call := func(id int32, body []byte) protocol.ResponsePacket {
		t.Helper()
		req := protocol.RequestPacket{Version: 1, RequestID: id, ServantName: userapi.Servant, FuncName: "createUser", Buffer: body, Timeout: 5000}
		if _, err := nc.Write(protocol.AppendRequest(nil, &req)); err != nil {
			t.Fatal(err)
		}
		frame, err := fr.Next()
		if err != nil {
			t.Fatal(err)
		}
		var resp protocol.ResponsePacket
		if err := protocol.DecodeResponse(frame, &resp); err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := call(1, hostileCreateUser(codec.DefaultMaxElements-1))
	if resp.Ret != tars.CodeServerDecodeErr || !strings.Contains(resp.ResultDesc, "budget") {
		t.Fatalf("hostile createUser: %d %q, want %d and the budget named", resp.Ret, resp.ResultDesc, tars.CodeServerDecodeErr)
	}
	var w codec.Writer
	w.WriteStructBegin(1)
	w.WriteString(1, "ada")
	w.WriteStructEnd()
	if resp := call(2, w.Bytes()); resp.Ret != tars.CodeSuccess {
		t.Fatalf("normal createUser after it: %d %q", resp.Ret, resp.ResultDesc)
	}
}
