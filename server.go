package tars

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotars/tars/codec"
	"github.com/gotars/tars/protocol"
	"github.com/gotars/tars/transport"
)

// Server serves TARS servants over TCP and UDP. Build one with NewServer,
// register handlers with Handle, then Serve a listener; stop it with
// Shutdown. A process may run any number of servers.
type Server struct {
	cfg   serverConfig
	tr    transport.Server
	mu    sync.RWMutex
	table map[string]map[string]*serverMethod // servant -> method -> handler

	sem      chan struct{} // one token per running handler
	queued   atomic.Int64  // requests waiting for a token
	inflight gate          // calls admitted and not yet answered
	// Handlers' parents, cancelled when Shutdown gives up. Several, so
	// that concurrent handlers do not all take one context's lock to
	// attach their deadlines.
	bases    [baseShards]context.Context
	cancels  [baseShards]context.CancelFunc
	idle     chan task     // idle workers wait here for their next request
	quit     chan struct{} // closed by Shutdown: idle workers exit
	quitOnce sync.Once
}

// task is one admitted request, holding a handler token.
type task struct {
	peer transport.Peer
	req  *protocol.RequestPacket
	sm   *serverMethod
	recv time.Time
}

const baseShards = 16

// workerIdle is how long a worker goroutine waits for another request
// before it exits. Reusing workers spares each request a new goroutine and
// the growth of its stack.
const workerIdle = time.Second

// start hands t to an idle worker, or starts one.
func (s *Server) start(t task) {
	select {
	case s.idle <- t:
	default:
		go s.worker(t)
	}
}

func (s *Server) worker(t task) {
	var timer *time.Timer
	for {
		s.run(t.peer, t.req, t.sm, t.recv)
		if timer == nil {
			timer = time.NewTimer(workerIdle)
		} else {
			timer.Reset(workerIdle)
		}
		select {
		case t = <-s.idle:
		case <-timer.C:
			return
		case <-s.quit:
			timer.Stop()
			return
		}
	}
}

// serverMethod is a registered handler, type-erased.
type serverMethod struct {
	m      *method
	newReq func() any // *Req
	newRsp func() any // *Resp
	invoke Invoker    // the middleware chain ending in the typed handler
}

// NewServer returns a server with the given options and no servants.
func NewServer(opts ...ServerOption) *Server {
	s := &Server{cfg: newServerConfig(opts), table: map[string]map[string]*serverMethod{}}
	s.sem = make(chan struct{}, s.cfg.maxInvoke)
	s.idle, s.quit = make(chan task), make(chan struct{})
	s.inflight.zero = make(chan struct{})
	for i := range s.bases {
		s.bases[i], s.cancels[i] = context.WithCancel(context.Background())
	}
	s.tr = transport.Server{Handler: s.onFrame, MaxFrame: s.cfg.maxPacket, WriteTimeout: s.cfg.writeTimeout,
		OnConnError: func(remote net.Addr, err error) {
			s.log("tars: connection dropped", "remote", remote.String(), "err", err)
		}}
	return s
}

// Handle registers h as the handler of endpoint e on the servant object
// servant (e.g. "UserService.UserServiceObj"). A handler's *Error reaches
// the caller with its code; any other error becomes CodeServerUnknownErr
// with the error's text; a panic becomes CodeServerUnknownErr and the server
// keeps serving. Handle panics if the method is already registered on the
// servant or servant is empty: registration runs at start-up.
func Handle[Req, Resp any](s *Server, servant string, e *Endpoint[Req, Resp], h func(context.Context, Req) (Resp, error)) {
	if servant == "" || e == nil || h == nil {
		panic("tars.Handle: empty servant, nil endpoint or nil handler")
	}
	final := func(ctx context.Context, c *Call) error {
		resp, err := h(ctx, *c.Request.(*Req))
		if err != nil {
			return err
		}
		*c.Response.(*Resp) = resp
		return nil
	}
	sm := &serverMethod{
		m:      e.m,
		newReq: func() any { return new(Req) },
		newRsp: func() any { return new(Resp) },
		invoke: chain(s.cfg.middleware, final),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	methods := s.table[servant]
	if methods == nil {
		methods = map[string]*serverMethod{}
		s.table[servant] = methods
	}
	if _, dup := methods[e.m.name]; dup {
		panic(fmt.Sprintf("tars.Handle: %s.%s registered twice", servant, e.m.name))
	}
	methods[e.m.name] = sm
}

// Serve accepts TCP (or TLS, through tls.NewListener) connections on ln and
// serves them until Shutdown. It returns ErrServerClosed after Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	return mapClosed(s.tr.Serve(ln))
}

// ServePacket serves UDP requests read from pc until Shutdown: one frame per
// datagram, each answered with one datagram. It returns ErrServerClosed
// after Shutdown.
func (s *Server) ServePacket(pc net.PacketConn) error {
	return mapClosed(s.tr.ServePacket(pc))
}

// ErrServerClosed is returned by Serve and ServePacket after Shutdown.
var ErrServerClosed = errors.New("tars: server closed")

func mapClosed(err error) error {
	if errors.Is(err, transport.ErrServerClosed) {
		return ErrServerClosed
	}
	return err
}

// Shutdown stops the server gracefully: it stops accepting connections,
// lets the calls in flight finish and their answers go out, then closes
// every connection. New requests that arrive meanwhile are answered
// CodeServerOverload. When ctx ends first, handlers' contexts are
// cancelled, connections are closed and ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	done := s.inflight.close()
	s.tr.StopAccepting()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		s.cancelHandlers()
	}
	if cerr := s.tr.Close(ctx); err == nil {
		err = cerr
	}
	s.cancelHandlers()
	s.quitOnce.Do(func() { close(s.quit) })
	return err
}

func (s *Server) cancelHandlers() {
	for _, cancel := range s.cancels {
		cancel()
	}
}

func (s *Server) log(msg string, args ...any) {
	if s.cfg.logger != nil {
		s.cfg.logger.Warn(msg, args...)
	}
}

// onFrame runs in a connection's read loop for every request frame.
func (s *Server) onFrame(peer transport.Peer, frame []byte) {
	recv := time.Now()
	data := make([]byte, len(frame)) // the read buffer is reused; the request outlives this call
	copy(data, frame)
	req := new(protocol.RequestPacket)
	if err := protocol.DecodeRequest(data, req); err != nil {
		// Without a decodable header there is nobody to answer: the
		// stream is out of step, so drop the connection.
		s.log("tars: undecodable request packet", "remote", peer.RemoteAddr().String(), "err", err)
		if c, ok := peer.(*transport.Conn); ok {
			c.Close()
		}
		return
	}
	oneway := req.PacketType == protocol.PacketOneway
	if req.FuncName == "tars_ping" {
		if !oneway {
			s.reply(peer, req, &protocol.ResponsePacket{})
		}
		return
	}
	s.mu.RLock()
	methods, ok := s.table[req.ServantName]
	sm := methods[req.FuncName]
	s.mu.RUnlock()
	switch {
	case !ok:
		s.fail(peer, req, Errorf(CodeServerNoServantErr, "no servant %q", req.ServantName))
		return
	case sm == nil:
		s.fail(peer, req, Errorf(CodeServerNoFuncErr, "servant %q has no function %q", req.ServantName, req.FuncName))
		return
	}
	if !s.inflight.enter() {
		s.fail(peer, req, NewError(CodeServerOverload, "server shutting down"))
		return
	}
	select {
	case s.sem <- struct{}{}:
		s.start(task{peer, req, sm, recv})
		return
	default:
	}
	if s.queued.Add(1) > int64(s.cfg.maxQueue) {
		s.queued.Add(-1)
		s.inflight.leave()
		s.fail(peer, req, NewError(CodeServerOverload, "server overloaded"))
		return
	}
	go func() {
		wait := s.waitBound(req) - time.Since(recv)
		t := time.NewTimer(max(wait, 0))
		defer t.Stop()
		select {
		case s.sem <- struct{}{}:
			s.queued.Add(-1)
			s.run(peer, req, sm, recv)
		case <-t.C:
			s.queued.Add(-1)
			s.fail(peer, req, NewError(CodeServerQueueTimeout, "request waited past its timeout"))
			s.inflight.leave()
		}
	}()
}

// waitBound is how long a request may wait before its handler starts.
func (s *Server) waitBound(req *protocol.RequestPacket) time.Duration {
	if req.Timeout > 0 {
		return time.Duration(req.Timeout) * time.Millisecond
	}
	return s.cfg.queueTimeout
}

// run decodes, invokes and answers one request; it holds a handler token.
func (s *Server) run(peer transport.Peer, req *protocol.RequestPacket, sm *serverMethod, recv time.Time) {
	defer s.inflight.leave()
	released := false
	release := func() { // the token goes back as soon as the handler is done
		if !released {
			released = true
			<-s.sem
		}
	}
	defer release()
	if time.Since(recv) > s.waitBound(req) {
		release()
		s.fail(peer, req, NewError(CodeServerQueueTimeout, "request waited past its timeout"))
		return
	}
	call := &Call{
		Servant: req.ServantName, Method: req.FuncName, Version: req.Version, RequestID: req.RequestID,
		Oneway: req.PacketType == protocol.PacketOneway, Server: true, Peer: peer.RemoteAddr(),
		Context: req.Context, Status: req.Status,
		Timeout: time.Duration(req.Timeout) * time.Millisecond,
	}
	rq := sm.newReq()
	if err := decodeArgs(sm.m, req.Version, req.Buffer, rq); err != nil {
		release()
		s.fail(peer, req, wrapError(CodeServerDecodeErr, err))
		return
	}
	call.Request, call.Response = rq, sm.newRsp()
	ctx := context.WithValue(s.bases[uint32(req.RequestID)%baseShards], callKey{}, call)
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, recv.Add(call.Timeout))
		defer cancel()
	}
	err := s.invoke(ctx, sm, call)
	release()
	if call.Oneway {
		return
	}
	resp := &protocol.ResponsePacket{Context: call.ResponseContext, Status: call.ResponseStatus}
	if err != nil {
		te := toError(err)
		resp.Ret, resp.ResultDesc = te.Code, te.Message
		s.reply(peer, req, resp)
		return
	}
	w := getWriter()
	defer putWriter(w)
	if err := encodeResults(sm.m, req.Version, w, call.Response); err != nil {
		s.fail(peer, req, wrapError(CodeServerEncodeErr, err))
		return
	}
	resp.Buffer = w.Bytes()
	s.reply(peer, req, resp)
}

// invoke runs the chain, turning a panic into CodeServerUnknownErr.
func (s *Server) invoke(ctx context.Context, sm *serverMethod, call *Call) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log("tars: handler panicked", "servant", call.Servant, "method", call.Method,
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = Errorf(CodeServerUnknownErr, "handler panicked: %v", r)
		}
	}()
	return sm.invoke(ctx, call)
}

func (s *Server) fail(peer transport.Peer, req *protocol.RequestPacket, e *Error) {
	if req.PacketType == protocol.PacketOneway {
		return
	}
	s.reply(peer, req, &protocol.ResponsePacket{Ret: e.Code, ResultDesc: e.Message})
}

// reply answers req with resp, in req's version and with its request id.
func (s *Server) reply(peer transport.Peer, req *protocol.RequestPacket, resp *protocol.ResponsePacket) {
	resp.Version, resp.RequestID, resp.PacketType = req.Version, req.RequestID, protocol.PacketNormal
	fb := getFrameBuf()
	frame := protocol.AppendReply((*fb)[:0], req, resp)
	if len(frame) > s.cfg.maxPacket {
		frame = protocol.AppendReply((*fb)[:0], req, &protocol.ResponsePacket{
			Version: req.Version, RequestID: req.RequestID, Ret: CodeServerEncodeErr,
			ResultDesc: fmt.Sprintf("response of %d bytes exceeds the maximum packet size %d", len(frame), s.cfg.maxPacket)})
	}
	if err := peer.Write(frame); err != nil {
		s.log("tars: writing response failed", "remote", peer.RemoteAddr().String(), "err", err)
	}
	*fb = frame
	putFrameBuf(fb)
}

var writerPool = sync.Pool{New: func() any { return codec.NewWriter(make([]byte, 0, 512)) }}

func getWriter() *codec.Writer { w := writerPool.Get().(*codec.Writer); w.Reset(); return w }
func putWriter(w *codec.Writer) {
	if cap(w.Bytes()) <= 64<<10 {
		writerPool.Put(w)
	}
}

var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func getFrameBuf() *[]byte { return framePool.Get().(*[]byte) }
func putFrameBuf(b *[]byte) {
	if cap(*b) <= 64<<10 {
		framePool.Put(b)
	}
}

// gate counts the calls in flight and, once closed, admits no more: Shutdown
// closes it and waits for the count to reach zero. (A sync.WaitGroup cannot
// do this: an Add racing with Wait at zero is a misuse that panics.)
type gate struct {
	n    atomic.Int64 // calls in flight, plus gateClosed once closed
	once sync.Once
	zero chan struct{} // closed when the gate is closed and empty
}

const gateClosed = 1 << 62

// enter admits a call, unless the gate is closed.
func (g *gate) enter() bool {
	for {
		n := g.n.Load()
		if n&gateClosed != 0 {
			return false
		}
		if g.n.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// leave ends an admitted call.
func (g *gate) leave() {
	if g.n.Add(-1) == gateClosed {
		g.once.Do(func() { close(g.zero) })
	}
}

// close admits no more calls and returns a channel closed once the calls in
// flight have all left.
func (g *gate) close() <-chan struct{} {
	if g.n.Or(gateClosed)&^gateClosed == 0 {
		g.once.Do(func() { close(g.zero) })
	}
	return g.zero
}
