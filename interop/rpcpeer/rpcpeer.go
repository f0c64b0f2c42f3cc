// Package rpcpeer is the TarsGo side of gotars' RPC interop tests and
// benchmarks: the seed's UserService implemented on TarsGo v1.4.6 with the
// tars2go v1.2.4 code generated from interop/testdata/user.tars, following
// exactly the rules of gotars' example server (issue 3 §4), and served by
// TarsGo's own TCP transport (transport.NewTarsServer) in-process.
//
// Serving in-process needs a small ServerProtocol around the generated
// Dispatch: TarsGo's tars.NewTarsProtocol used alone panics on every call
// but tars_ping (it needs the application that tars.Run builds). Protocol is
// that wrapper; it answers as tarsprotocol.go's Invoke does, without the
// stat reports, filters, dyeing and tracing, which need the TARS platform.
package rpcpeer

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/TarsCloud/TarsGo/tars"
	"github.com/TarsCloud/TarsGo/tars/protocol"
	"github.com/TarsCloud/TarsGo/tars/protocol/codec"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/basef"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/requestf"
	"github.com/TarsCloud/TarsGo/tars/transport"
	"github.com/TarsCloud/TarsGo/tars/util/current"

	UserService "github.com/gotars/tars/interop/gen/UserService"
)

// Servant is the object name the TarsGo server serves the service as (the
// same as gotars' example server).
const Servant = "UserService.UserServiceObj"

// Return codes of the service.
const (
	RetOK       = 0 // success
	RetInvalid  = 1 // a required field is missing
	RetNotFound = 2 // no user with that id
)

// Store is the in-memory UserService on TarsGo's generated types. It
// implements UserService.UserServiceServantWithContext and is safe for
// concurrent use.
type Store struct {
	mu     sync.RWMutex
	users  map[int32]UserService.UserInfo
	nextID int32
	// Now gives createTime; time.Now unless a test sets it before use.
	Now func() time.Time
}

var _ UserService.UserServiceServantWithContext = (*Store)(nil)

// NewStore returns an empty store; ids are assigned from 1.
func NewStore() *Store {
	return &Store{users: map[int32]UserService.UserInfo{}, Now: time.Now}
}

func clone(u UserService.UserInfo) UserService.UserInfo {
	u.Tags = slices.Clone(u.Tags)
	u.Metadata = maps.Clone(u.Metadata)
	return u
}

// CreateUser stores a new user with the next id and the creation time
// (YYYY-MM-DD HH:MM:SS); without userName or email it returns 1 and leaves
// result empty.
func (s *Store) CreateUser(_ context.Context, in *UserService.UserInfo, result *UserService.UserInfo) (int32, error) {
	if in.UserName == "" || in.Email == "" {
		return RetInvalid, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	u := clone(*in)
	u.UserId = s.nextID
	u.CreateTime = s.Now().Format(time.DateTime)
	s.users[u.UserId] = u
	*result = clone(u)
	return RetOK, nil
}

// GetUser returns the user, or fails with code 2 and a message naming the id.
func (s *Store) GetUser(_ context.Context, id int32) (UserService.UserInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.users[id]
	if !ok {
		return UserService.UserInfo{}, tars.Errorf(RetNotFound, "user %d not found", id)
	}
	return clone(u), nil
}

// UpdateUser replaces a non-empty userName, email and tags and a non-zero
// age, merges metadata, and returns 0 and the stored user; 1 without
// userId, 2 for an unknown id.
func (s *Store) UpdateUser(_ context.Context, in *UserService.UserInfo, result *UserService.UserInfo) (int32, error) {
	if in.UserId == 0 {
		return RetInvalid, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[in.UserId]
	if !ok {
		return RetNotFound, nil
	}
	if in.UserName != "" {
		u.UserName = in.UserName
	}
	if in.Email != "" {
		u.Email = in.Email
	}
	if in.Age != 0 {
		u.Age = in.Age
	}
	if len(in.Tags) > 0 {
		u.Tags = slices.Clone(in.Tags)
	}
	if len(in.Metadata) > 0 {
		u.Metadata = maps.Clone(u.Metadata)
		if u.Metadata == nil {
			u.Metadata = make(map[string]string, len(in.Metadata))
		}
		maps.Copy(u.Metadata, in.Metadata)
	}
	s.users[u.UserId] = u
	*result = clone(u)
	return RetOK, nil
}

// DeleteUser removes the user: 0, or 2 for an unknown id.
func (s *Store) DeleteUser(_ context.Context, id int32) (int32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[id]; !ok {
		return RetNotFound, nil
	}
	delete(s.users, id)
	return RetOK, nil
}

// QueryUsers filters (userName and email as substrings, a non-zero userId
// exactly), sorts by id and returns the page asked for: page defaults to 1
// (at least 1), pageSize to 10 (clamped to 1..100); total counts the
// matches.
func (s *Store) QueryUsers(_ context.Context, q *UserService.UserQuery) (UserService.UserPage, error) {
	page := max(q.Page, 1)
	size := q.PageSize
	if size == 0 {
		size = 10
	}
	size = min(max(size, 1), 100)
	s.mu.RLock()
	var hits []UserService.UserInfo
	for _, u := range s.users {
		if q.UserId != 0 && u.UserId != q.UserId ||
			!strings.Contains(u.UserName, q.UserName) || !strings.Contains(u.Email, q.Email) {
			continue
		}
		hits = append(hits, u)
	}
	s.mu.RUnlock()
	sort.Slice(hits, func(i, j int) bool { return hits[i].UserId < hits[j].UserId })
	out := UserService.UserPage{Total: int32(len(hits)), Page: page, PageSize: size, Users: []UserService.UserInfo{}}
	if from := int64(page-1) * int64(size); from < int64(len(hits)) {
		to := min(from+int64(size), int64(len(hits)))
		for _, u := range hits[from:to] {
			out.Users = append(out.Users, clone(u))
		}
	}
	return out, nil
}

// BatchGetUsers returns the users that exist, in the order asked; unknown
// ids are skipped.
func (s *Store) BatchGetUsers(_ context.Context, ids []int32) ([]UserService.UserInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]UserService.UserInfo, 0, len(ids))
	for _, id := range ids {
		if u, ok := s.users[id]; ok {
			out = append(out, clone(u))
		}
	}
	return out, nil
}

// Dispatcher is what tars2go generates on every interface type (the value
// New<Interface>() returns).
type Dispatcher interface {
	Dispatch(context.Context, any, *requestf.RequestPacket, *requestf.ResponsePacket, bool) error
}

// Protocol is a transport.ServerProtocol that hands every request to a
// generated Dispatch, as TarsGo's tars.Protocol.Invoke does: tars_ping is
// answered without dispatching; a Dispatch error becomes iRet 1 (or the
// code of a *tars.Error) with the error's text; the answer to a TUP
// request is written in the RequestPacket layout (servant and function
// empty, iRet dropped); oneway requests are not answered.
type Protocol struct {
	Dispatcher Dispatcher
	Impl       any // the servant implementation, called with a context
}

var _ transport.ServerProtocol = (*Protocol)(nil)

// Invoke decodes the request frame pkg, dispatches it and returns the answer
// frame.
func (p *Protocol) Invoke(ctx context.Context, pkg []byte) []byte {
	var req requestf.RequestPacket
	var rsp requestf.ResponsePacket
	if err := req.ReadFrom(codec.NewReader(pkg[4:])); err != nil {
		rsp.IRet = basef.TARSSERVERDECODEERR
		rsp.SResultDesc = err.Error()
		return rsp2Byte(&rsp)
	}
	if req.ITimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(req.ITimeout)*time.Millisecond)
		defer cancel()
	}
	rsp.IVersion = req.IVersion
	rsp.IRequestId = req.IRequestId
	if req.SFuncName != "tars_ping" {
		current.SetRequestStatus(ctx, req.Status)
		current.SetRequestContext(ctx, req.Context)
		if err := p.Dispatcher.Dispatch(ctx, p.Impl, &req, &rsp, true); err != nil {
			rsp.IRet = 1
			rsp.SResultDesc = err.Error()
			var te *tars.Error
			if errors.As(err, &te) {
				rsp.IRet = te.Code
			}
		}
	}
	rsp.CPacketType = req.CPacketType
	current.SetPacketTypeFromContext(ctx, rsp.CPacketType)
	return rsp2Byte(&rsp)
}

// rsp2Byte frames rsp as TarsGo's tarsprotocol.go does: a TUP answer in the
// RequestPacket layout with only version, packet type, message type,
// request id, context, status and buffer; anything else as a
// ResponsePacket.
func rsp2Byte(rsp *requestf.ResponsePacket) []byte {
	buf := codec.NewBuffer()
	if rsp.IVersion == basef.TUPVERSION {
		req := requestf.RequestPacket{
			IVersion: rsp.IVersion, IRequestId: rsp.IRequestId, IMessageType: rsp.IMessageType,
			CPacketType: rsp.CPacketType, Context: rsp.Context, Status: rsp.Status, SBuffer: rsp.SBuffer,
		}
		_ = req.WriteTo(buf)
	} else {
		_ = rsp.WriteTo(buf)
	}
	var out bytes.Buffer
	out.Write(make([]byte, 4))
	out.Write(buf.ToBytes())
	b := out.Bytes()
	binary.BigEndian.PutUint32(b, uint32(len(b)))
	return b
}

// ParsePackage splits frames as TarsGo's server does.
func (p *Protocol) ParsePackage(buff []byte) (int, int) { return protocol.TarsRequest(buff) }

// InvokeTimeout answers a request whose handler overran the server's
// HandleTimeout (unused here: HandleTimeout is 0, TarsGo's default).
func (p *Protocol) InvokeTimeout(pkg []byte) []byte {
	var req requestf.RequestPacket
	_ = req.ReadFrom(codec.NewReader(pkg[4:]))
	return rsp2Byte(&requestf.ResponsePacket{IRequestId: req.IRequestId, IRet: 1, SResultDesc: "server invoke timeout"})
}

// GetCloseMsg is the packet that tells TarsGo clients to reconnect when the
// server shuts down.
func (p *Protocol) GetCloseMsg() []byte {
	return rsp2Byte(&requestf.ResponsePacket{IVersion: basef.TARSVERSION, SResultDesc: "_reconnect_"})
}

// DoClose is called when a connection closes.
func (p *Protocol) DoClose(context.Context) {}

// Server is a TarsGo server of one servant on a loopback port.
type Server struct {
	ts   *transport.TarsServer
	addr string
	done chan error
}

// Config returns the transport configuration TarsGo's application gives an
// adapter by default (tars.newTarsServerConf with newServerConfig's values):
// a goroutine per request, Nagle on, 128 MiB socket buffers asked for.
func Config(addr string) *transport.TarsServerConf {
	return &transport.TarsServerConf{
		Proto:          "tcp",
		Address:        addr,
		MaxInvoke:      tars.MaxInvoke,
		AcceptTimeout:  tars.AcceptTimeout * time.Millisecond,
		ReadTimeout:    tars.ReadTimeout * time.Millisecond,
		WriteTimeout:   tars.WriteTimeout * time.Millisecond,
		HandleTimeout:  tars.HandleTimeout * time.Millisecond,
		IdleTimeout:    tars.IdleTimeout * time.Millisecond,
		QueueCap:       tars.QueueCap,
		TCPReadBuffer:  tars.TCPReadBuffer,
		TCPWriteBuffer: tars.TCPWriteBuffer,
		TCPNoDelay:     tars.TCPNoDelay,
	}
}

// Start serves impl's generated Dispatch (UserService.NewUserService) on
// addr with TarsGo's transport and default configuration; see Serve.
func Start(impl UserService.UserServiceServantWithContext, addr string, opts ...func(*transport.TarsServerConf)) (*Server, error) {
	return Serve(UserService.NewUserService(), impl, addr, opts...)
}

// Serve serves impl through the generated dispatcher d (any interface's
// New<Interface>()) on addr ("127.0.0.1:0" picks a free loopback port) with
// TarsGo's transport and default configuration.
//
// TarsGo's transport opens its listener itself from an address and never
// closes it (its process is expected to exit), so with port 0 Serve picks a
// free port first and retries if it is taken meanwhile; after Shutdown the
// port stays bound, unused, until the process exits.
//
// Each option edits the configuration before the server starts.
func Serve(d Dispatcher, impl any, addr string, opts ...func(*transport.TarsServerConf)) (*Server, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	proto := &Protocol{Dispatcher: d, Impl: impl}
	var lastErr error
	for range 10 {
		a := addr
		if port == "0" {
			p, err := freePort(host)
			if err != nil {
				return nil, err
			}
			a = net.JoinHostPort(host, strconv.Itoa(p))
		}
		cfg := Config(a)
		for _, o := range opts {
			o(cfg)
		}
		ts := transport.NewTarsServer(proto, cfg)
		if lastErr = ts.Listen(); lastErr != nil {
			if port == "0" {
				continue
			}
			return nil, lastErr
		}
		s := &Server{ts: ts, addr: a, done: make(chan error, 1)}
		go func() { s.done <- ts.Serve() }()
		return s, nil
	}
	return nil, fmt.Errorf("rpcpeer: no free port on %s: %w", host, lastErr)
}

func freePort(host string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Addr returns the host:port the server listens on.
func (s *Server) Addr() string { return s.addr }

// Endpoint returns the server's object in TARS syntax with a timeout of
// 60 s: "UserService.UserServiceObj@tcp -h 127.0.0.1 -p N -t 60000".
func (s *Server) Endpoint() string {
	host, port, _ := net.SplitHostPort(s.addr)
	return fmt.Sprintf("%s@tcp -h %s -p %s -t 60000", Servant, host, port)
}

// Shutdown stops TarsGo's server: it stops accepting, tells connected
// TarsGo clients to reconnect, closes the connections once idle and waits
// for the accept loop to end (about a second), or until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.ts.Shutdown(ctx); err != nil {
		return err
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
