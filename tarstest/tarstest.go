// Package tarstest runs gotars clients against servers in memory, for unit
// tests of code that calls endpoints: no sockets, no ports, the same
// encoding, middleware and errors as over TCP (connect-go's memhttp is the
// model).
//
//	srv := tars.NewServer()
//	tars.Handle(srv, "App.Server.Obj", GetUser, handler)
//	c, _ := tarstest.NewClient(srv, "App.Server.Obj")
//	defer c.Close()
//	user, err := GetUser.Call(ctx, c, GetUserArgs{UserID: 7})
//
// Stop the server with Shutdown as usual.
package tarstest

import (
	"context"
	"net"

	"github.com/gotars/tars"
)

// Dialer returns a client option whose connections lead to srv through
// in-memory pipes (net.Pipe); the client's endpoint addresses are ignored.
func Dialer(srv *tars.Server) tars.ClientOption {
	return tars.WithDialer(func(ctx context.Context, _, _ string) (net.Conn, error) {
		client, server := net.Pipe()
		srv.ServeConn(server)
		return client, nil
	})
}

// NewClient returns a client of servant whose calls srv serves in memory.
// opts are applied after the in-memory dialer.
func NewClient(srv *tars.Server, servant string, opts ...tars.ClientOption) (*tars.Client, error) {
	return tars.NewClient(servant+"@tcp -h memory -p 1", append([]tars.ClientOption{Dialer(srv)}, opts...)...)
}
