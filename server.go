package tars

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotars/tars/codec"
	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/protocol"
	"github.com/gotars/tars/transport"
)

// Server serves TARS servants over TCP, TLS and UDP. Build one with
// NewServer, register handlers with Handle, then Serve a listener; stop it
// with Shutdown. A process may run any number of servers.
//
// Work is bounded whatever peers do: each servant admits at most its
// MaxInvoke running handlers and MaxQueue waiting requests (ServantLimits);
// a request holds its place until its answer is queued; a connection whose
// answers pile up unsent is not read until they drain; a connection idle,
// or trickling a frame, past its timeout is closed; the bytes held in
// frames and write queues stay within the memory budget. The goroutines a
// server owns are its handlers (at most the servants' MaxInvoke), one per
// connection, and a few more.
type Server struct {
	cfg    serverConfig
	tr     transport.Server
	budget *transport.Budget
	mu     sync.RWMutex
	table  map[string]*adapter

	inflight gate // calls admitted and not yet answered
	// Handlers' parents, cancelled when Shutdown gives up. Several, so
	// that concurrent handlers do not all take one context's lock to
	// attach their deadlines.
	bases    [baseShards]context.Context
	cancels  [baseShards]context.CancelFunc
	quit     chan struct{} // closed by Shutdown: idle workers exit
	quitOnce sync.Once
	stopping atomic.Bool // the grace has expired: no handler starts

	regMu  sync.Mutex
	regs   []announced // withdrawn by Shutdown before it drains
	logs   rateLog
	counts serverCounts
	reconn []byte // the _reconnect_ push
}

type serverCounts struct {
	overload, queueTimeout, dropped, decodeErr, badPacket, panics, shutdownAnswers atomic.Uint64
}

// ServerStats counts what a server did with the requests and connections
// it was given, for metrics and for tests.
type ServerStats struct {
	transport.Stats          // connections: open, accepted, refused, idle-closed, frame timeouts, bad datagrams, budget
	InFlight          int64  // calls admitted and not yet answered
	Overloaded        uint64 // answered CodeServerOverload (queue full, shutting down)
	QueueTimeouts     uint64 // answered CodeServerQueueTimeout without running
	Dropped           uint64 // not run: their connection closed first
	DecodeErrors      uint64 // answered CodeServerDecodeErr
	BadPackets        uint64 // undecodable packets (their connection closed)
	Panics            uint64 // handlers that panicked
	AnsweredAtExpiry  uint64 // answered with an error when Shutdown's grace expired
	LogsSuppressed    uint64 // connection-level log records dropped by the rate limit
	ServantQueueDepth map[string]int
}

// Stats returns the server's counts so far.
func (s *Server) Stats() ServerStats {
	st := ServerStats{
		Stats: s.tr.Stats(), InFlight: s.inflight.count(),
		Overloaded: s.counts.overload.Load(), QueueTimeouts: s.counts.queueTimeout.Load(),
		Dropped: s.counts.dropped.Load(), DecodeErrors: s.counts.decodeErr.Load(),
		BadPackets: s.counts.badPacket.Load(), Panics: s.counts.panics.Load(),
		AnsweredAtExpiry: s.counts.shutdownAnswers.Load(), LogsSuppressed: s.logs.suppressed.Load(),
		ServantQueueDepth: map[string]int{},
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for name, sv := range s.table {
		sv.mu.Lock()
		st.ServantQueueDepth[name] = len(sv.queue)
		sv.mu.Unlock()
	}
	return st
}

const baseShards = 16

// workerIdle is how long a worker goroutine waits for another request
// before it exits. Reusing workers spares each request a new goroutine and
// the growth of its stack.
const workerIdle = time.Second

// serverMethod is a registered handler, type-erased.
type serverMethod struct {
	m      *method
	newReq func() any // *Req
	newRsp func() any // *Resp
	invoke Invoker    // the middleware chain ending in the typed handler
}

// NewServer returns a server with the given options and no servants. It
// panics, naming the option, when an option is invalid: options are set at
// start-up, where a mistake must stop the program.
func NewServer(opts ...ServerOption) *Server {
	s := &Server{cfg: newServerConfig(opts), table: map[string]*adapter{}}
	s.quit = make(chan struct{})
	s.inflight.zero = make(chan struct{})
	for i := range s.bases {
		s.bases[i], s.cancels[i] = context.WithCancel(context.Background())
	}
	s.budget = transport.NewBudget(s.cfg.memoryBudget)
	s.logs.logger = s.cfg.logger
	s.reconn = protocol.AppendResponse(nil, &protocol.ResponsePacket{Version: VersionTARS, ResultDesc: reconnectMsg})
	s.tr = transport.Server{Handler: s.onFrame, MaxFrame: s.cfg.maxPacket, WriteTimeout: s.cfg.writeTimeout,
		IdleTimeout: s.cfg.idleTimeout, FrameTimeout: s.cfg.frameTimeout,
		MaxConns: s.cfg.maxConns, MaxConnsPerIP: s.cfg.maxConnsPerIP,
		MaxRequests: s.cfg.connRequests, Budget: s.budget,
		OnConnError: func(remote net.Addr, err error) {
			if !errors.Is(err, transport.ErrIdle) {
				s.logs.warn("tars: connection dropped", "remote", remote.String(), "err", err)
			}
		},
		OnBadDatagram: func(remote net.Addr) {
			s.logs.warn("tars: malformed datagram dropped", "remote", remote.String())
		}}
	return s
}

// reconnectMsg is the sResultDesc of the push (iRequestId 0) a TARS server
// sends its connections when it shuts down gracefully: clients move new
// calls to a fresh connection (TarsGo's GetCloseMsg / onPush).
const reconnectMsg = "_reconnect_"

// Handle registers h as the handler of endpoint e on the servant object
// servant (e.g. "UserService.UserServiceObj"). A handler's *Error reaches
// the caller with its code (a nil *Error is success); any other error
// becomes CodeServerUnknownErr with the error's text, or CodeInvokeTimeout
// when it is (or wraps) context.DeadlineExceeded; a panic becomes
// CodeServerUnknownErr and the server keeps serving.
//
// The handler's context carries the caller's deadline (iTimeout from when
// the request arrived) and the call (CallFromContext). It is done when the
// deadline passes (context.DeadlineExceeded), when the grace of Shutdown
// expires, or when the call has been answered (context.Canceled), which
// releases goroutines the handler left watching it. It arms no timer
// unless something waits on Done.
//
// Handle panics, naming what is wrong, when s, e or h is nil, when servant
// is not a name a TARS peer can call (empty, or holding whitespace, '@' or
// ':'), or when the method is already registered on the servant:
// registration runs at start-up.
func Handle[Req, Resp any](s *Server, servant string, e *Endpoint[Req, Resp], h func(context.Context, Req) (Resp, error)) {
	switch {
	case s == nil:
		panic("tars.Handle: nil server")
	case e == nil:
		panic(fmt.Sprintf("tars.Handle(%q): nil endpoint", servant))
	case h == nil:
		panic(fmt.Sprintf("tars.Handle(%q, %s): nil handler", servant, e.m.name))
	}
	if err := checkServantName(servant); err != nil {
		panic("tars.Handle: " + err.Error())
	}
	final := func(ctx context.Context, c *Call) error {
		resp, err := h(ctx, *c.Request.(*Req))
		if err != nil {
			if te, ok := err.(*Error); ok && te == nil { // a nil *Error is success
				err = nil
			} else {
				return err
			}
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
	sv := s.table[servant]
	if sv == nil {
		sv = &adapter{name: servant, methods: map[string]*serverMethod{},
			limits: s.cfg.servantLimits[servant].over(s.cfg.limits),
			idle:   make(chan *task), readySig: make(chan struct{}, 1)}
		s.table[servant] = sv
	}
	if _, dup := sv.methods[e.m.name]; dup {
		panic(fmt.Sprintf("tars.Handle: %s.%s registered twice", servant, e.m.name))
	}
	sv.methods[e.m.name] = sm
}

// ServantLoad returns how many handlers of servant are running and how
// many may run at once (its MaxInvoke); ok is false for a servant without
// handlers. It is for health checks: a TARS server whose servant runs all
// it may and starts nothing is stuck (tarsnode's zombie rule).
func (s *Server) ServantLoad(servant string) (running, maxInvoke int, ok bool) {
	s.mu.RLock()
	sv := s.table[servant]
	s.mu.RUnlock()
	if sv == nil {
		return 0, 0, false
	}
	return int(sv.running.Load()), sv.limits.MaxInvoke, true
}

// Servants returns, sorted, the servants that have handlers (Handle).
func (s *Server) Servants() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Sorted(maps.Keys(s.table))
}

// Serve accepts TCP connections on ln and serves them until Shutdown. It
// returns ErrServerClosed after Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	return mapClosed(s.tr.Serve(ln))
}

// ServeConn serves one connection made elsewhere — an in-memory pipe
// (package tarstest), a socket handed over — as Serve serves those it
// accepts, until Shutdown; it returns at once.
func (s *Server) ServeConn(nc net.Conn) { s.tr.ServeConn(nc) }

// ServePacket serves UDP requests read from pc until Shutdown: one frame per
// datagram, each answered with one datagram. It returns ErrServerClosed
// after Shutdown.
func (s *Server) ServePacket(pc net.PacketConn) error {
	return mapClosed(s.tr.ServePacket(pc))
}

// ErrServerClosed is returned by Serve and ServePacket after Shutdown.
var ErrServerClosed = errors.New("tars: server closed")

func mapClosed(err error) error {
	if transport.IsStopped(err) {
		return ErrServerClosed
	}
	return err
}

type announced struct {
	r   discovery.Registrar
	reg discovery.Registration
}

// Announce registers regs with r now (a servant's endpoint in Consul, say;
// call it once the server is listening, so that health checks pass) and
// withdraws them when Shutdown begins, before the calls in flight drain, so
// that clients stop picking this server while it finishes. It returns the
// first registration error; what was registered stays announced.
func (s *Server) Announce(ctx context.Context, r discovery.Registrar, regs ...discovery.Registration) error {
	for _, reg := range regs {
		if err := r.Register(ctx, reg); err != nil {
			return fmt.Errorf("tars: announcing %s at %s: %w", reg.Servant, reg.Endpoint.Address, err)
		}
		s.regMu.Lock()
		s.regs = append(s.regs, announced{r, reg})
		s.regMu.Unlock()
	}
	return nil
}

// withdraw deregisters what Announce registered, within ctx.
func (s *Server) withdraw(ctx context.Context) {
	s.regMu.Lock()
	regs := s.regs
	s.regs = nil
	s.regMu.Unlock()
	for _, a := range regs {
		if err := a.r.Deregister(ctx, a.reg); err != nil && s.cfg.logger != nil {
			s.cfg.logger.Warn("tars: withdrawing an announcement failed", "servant", a.reg.Servant,
				"endpoint", a.reg.Endpoint.Address.String(), "err", err)
		}
	}
}

// peerCloseLinger is how long Shutdown waits for clients to close the
// connections it asked them to leave (the _reconnect_ push).
const peerCloseLinger = 500 * time.Millisecond

// shutdownLinger is how long Shutdown lets queued answers reach their
// peers before it closes the connections.
const shutdownLinger = time.Second

// Shutdown stops the server gracefully: it withdraws what Announce
// registered, stops accepting connections,
// tells every connection's client to move to a new connection (the TARS
// "_reconnect_" push), lets the calls admitted so far run and their answers
// go out, then closes every connection. Requests that arrive meanwhile are
// answered CodeServerOverload without running.
//
// When ctx ends first, handlers' contexts are cancelled, requests still
// waiting for a handler are answered CodeServerOverload (they did not
// run), running calls are answered CodeServerUnknownErr, the answers get a
// moment to reach their peers, the connections are closed and ctx's error
// is returned. Once Shutdown has returned, no handler starts.
func (s *Server) Shutdown(ctx context.Context) error {
	s.withdraw(ctx)
	done := s.inflight.close()
	s.tr.StopAccepting()
	for _, c := range s.tr.Conns() {
		c.Write(s.reconn)
	}
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		s.expire()
	}
	s.tr.Drain(shutdownLinger)
	// Clients told to reconnect close their connections once nothing is
	// in flight on them; closing first could fail a call they sent just
	// before they read the push.
	for deadline := time.Now().Add(peerCloseLinger); s.tr.NumConns() > 0 && time.Now().Before(deadline) && ctx.Err() == nil; {
		time.Sleep(2 * time.Millisecond)
	}
	cctx, cancel := context.WithTimeout(context.Background(), shutdownLinger)
	defer cancel()
	if cerr := s.tr.Close(cctx); err == nil {
		err = cerr
	}
	s.cancelHandlers()
	s.quitOnce.Do(func() { close(s.quit) })
	return err
}

// expire ends the grace: no handler starts any more, waiting requests are
// answered CodeServerOverload, running ones CodeServerUnknownErr.
func (s *Server) expire() {
	s.stopping.Store(true)
	s.cancelHandlers()
	s.mu.RLock()
	svs := make([]*adapter, 0, len(s.table))
	for _, sv := range s.table {
		svs = append(svs, sv)
	}
	s.mu.RUnlock()
	for _, sv := range svs {
		for _, t := range sv.drain() {
			s.finish(t, NewError(CodeServerOverload, "server shut down before the call ran"))
		}
	}
	for _, sv := range svs {
		for t := sv.takeReady(); t != nil; t = sv.takeReady() {
			if t.state.CompareAndSwap(taskQueued, taskCancelled) {
				s.finish(t, NewError(CodeServerOverload, "server shut down before the call ran"))
			}
		}
		for _, t := range sv.current() {
			for t.state.Load() == taskStarting { // about to enter its handler
				time.Sleep(10 * time.Microsecond)
			}
			if t.state.CompareAndSwap(taskQueued, taskCancelled) {
				s.finish(t, NewError(CodeServerOverload, "server shut down before the call ran"))
				continue
			}
			if t.answer() {
				s.counts.shutdownAnswers.Add(1)
				s.sendErr(t, NewError(CodeServerUnknownErr, "server shut down before the call completed"))
			}
		}
	}
}

func (s *Server) cancelHandlers() {
	for _, cancel := range s.cancels {
		cancel()
	}
}

// onFrame runs in a connection's read loop for every request frame.
func (s *Server) onFrame(peer transport.Peer, f transport.Frame) {
	recv := monoNow()
	data := f.Keep() // the read buffer is reused; the request outlives this call
	t := &task{srv: s, peer: peer, frame: f, recv: recv}
	req := &t.pkt
	if err := protocol.DecodeRequest(data, req); err != nil {
		// Without a decodable header there is nobody to answer: the
		// stream is out of step, so drop the connection.
		f.Done()
		s.counts.badPacket.Add(1)
		s.logs.warn("tars: undecodable request packet", "remote", peer.RemoteAddr().String(), "err", err)
		if c, ok := peer.(*transport.Conn); ok {
			c.CloseWithError(err)
		}
		return
	}
	oneway := req.PacketType == protocol.PacketOneway
	if req.FuncName == "tars_ping" {
		f.Done()
		if !oneway {
			s.reply(peer, req, &protocol.ResponsePacket{})
		}
		return
	}
	s.mu.RLock()
	sv := s.table[req.ServantName]
	var sm *serverMethod
	if sv != nil {
		sm = sv.methods[req.FuncName]
	}
	s.mu.RUnlock()
	switch {
	case sv == nil:
		f.Done()
		s.fail(peer, req, Errorf(CodeServerNoServantErr, "no servant %q", req.ServantName))
		return
	case sm == nil:
		f.Done()
		s.fail(peer, req, Errorf(CodeServerNoFuncErr, "servant %q has no function %q", req.ServantName, req.FuncName))
		return
	}
	for _, admit := range s.cfg.admission {
		if err := admit(req.ServantName, req.FuncName); err != nil {
			f.Done()
			e := toError(err)
			if e.Code == CodeServerOverload {
				s.counts.overload.Add(1)
			}
			s.fail(peer, req, e)
			return
		}
	}
	if !s.inflight.enter() {
		f.Done()
		s.counts.overload.Add(1)
		s.fail(peer, req, NewError(CodeServerOverload, "server shutting down"))
		return
	}
	t.req, t.sm, t.sv = req, sm, sv
	t.expiry = recv.Add(sv.limits.QueueTimeout)
	if req.Timeout > 0 {
		t.deadline = recv.Add(time.Duration(req.Timeout) * time.Millisecond)
		if e := t.deadline.Add(-answerMargin(time.Duration(req.Timeout) * time.Millisecond)); e.Before(t.expiry) {
			t.expiry = e
		}
	}
	peer.Begin()
	s.admit(sv, t)
}

// smallRequest is the largest request body whose decoding is not charged
// to the memory budget.
const smallRequest = 4 << 10

// answerMargin is how much of a caller's timeout a queued request leaves
// unused, so that a CodeServerQueueTimeout answer reaches the caller before
// it gives up on its own; a handler is not started with less than that
// left either.
func answerMargin(timeout time.Duration) time.Duration {
	return min(max(timeout/10, time.Millisecond), 100*time.Millisecond)
}

// admit runs t now, queues it, or refuses it, by its servant's limits.
// Places are taken and given back without the lock when nothing waits;
// the queue needs it.
func (s *Server) admit(sv *adapter, t *task) {
	if sv.waiting.Load() == 0 && sv.take() {
		t.holds.Store(true)
		s.start(t)
		return
	}
	sv.mu.Lock()
	if len(sv.queue) == 0 && sv.take() {
		sv.mu.Unlock()
		t.holds.Store(true)
		s.start(t)
		return
	}
	if len(sv.queue) >= sv.limits.MaxQueue {
		sv.mu.Unlock()
		s.counts.overload.Add(1)
		s.finish(t, Errorf(CodeServerOverload, "servant %s overloaded: %d running, %d waiting", sv.name, sv.limits.MaxInvoke, sv.limits.MaxQueue))
		return
	}
	sv.push(t)
	sv.armLocked(s)
	// A place given back since we looked (release takes no lock) would
	// leave the queue waiting for a worker that has already gone by: take
	// it for the queue's head.
	var head *task
	if sv.take() {
		head = sv.pop()
		head.holds.Store(true)
	}
	sv.mu.Unlock()
	if head != nil {
		s.start(head)
	}
}

// take takes a running place if one is free.
func (sv *adapter) take() bool {
	for {
		r := sv.running.Load()
		if int(r) >= sv.limits.MaxInvoke {
			return false
		}
		if sv.running.CompareAndSwap(r, r+1) {
			return true
		}
	}
}

// start hands t to an idle worker of its servant, or starts one while the
// servant has fewer workers than places; else one of its workers about to
// finish takes it (ready). So a servant's worker goroutines never outnumber
// its places. The worker holds one of the servant's running places.
func (s *Server) start(t *task) {
	sv := t.sv
	select {
	case sv.idle <- t:
		return
	default:
	}
	if sv.workers.Add(1) <= int64(sv.limits.MaxInvoke) {
		go s.worker(sv, t)
		return
	}
	sv.workers.Add(-1)
	sv.readyMu.Lock()
	sv.ready = append(sv.ready, t)
	sv.readyN.Add(1)
	sv.readyMu.Unlock()
	select {
	case sv.readySig <- struct{}{}:
	default:
	}
}

// workerSlot is where a worker shows Shutdown the call it runs.
type workerSlot struct{ cur atomic.Pointer[task] }

func (sv *adapter) enlist(w *workerSlot) {
	sv.wlMu.Lock()
	if sv.wl == nil {
		sv.wl = map[*workerSlot]struct{}{}
	}
	sv.wl[w] = struct{}{}
	sv.wlMu.Unlock()
}

func (sv *adapter) delist(w *workerSlot) {
	sv.wlMu.Lock()
	delete(sv.wl, w)
	sv.wlMu.Unlock()
}

// current returns the calls the servant's workers are running.
func (sv *adapter) current() []*task {
	sv.wlMu.Lock()
	defer sv.wlMu.Unlock()
	var out []*task
	for w := range sv.wl {
		if t := w.cur.Load(); t != nil {
			out = append(out, t)
		}
	}
	return out
}

// takeReady returns a task waiting for a worker, if any.
func (sv *adapter) takeReady() *task {
	if sv.readyN.Load() == 0 {
		return nil
	}
	sv.readyMu.Lock()
	defer sv.readyMu.Unlock()
	if len(sv.ready) == 0 {
		return nil
	}
	t := sv.ready[0]
	sv.ready[0] = nil
	sv.ready = sv.ready[1:]
	sv.readyN.Add(-1)
	if len(sv.ready) == 0 {
		sv.ready = nil
	}
	return t
}

func (s *Server) worker(sv *adapter, t *task) {
	defer sv.workers.Add(-1)
	w := &workerSlot{}
	sv.enlist(w)
	defer sv.delist(w)
	// The idle timer is armed once and left running while the worker
	// works (resetting it at every park would cost a timer-heap update per
	// request): when it fires, a worker that ran calls since it was armed
	// arms it again, one that did not exits — after workerIdle to twice
	// that of idleness.
	var timer *time.Timer
	var done, armedAt uint64 // calls run, and when the timer was armed
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		for t != nil {
			w.cur.Store(t) // Shutdown finds the calls running here
			s.run(t)
			w.cur.Store(nil)
			s.release(t)
			done++
			if t = s.next(sv); t == nil {
				t = sv.takeReady()
			}
		}
		if timer == nil {
			timer, armedAt = time.NewTimer(workerIdle), done
		}
		select {
		case t = <-sv.idle:
		case <-sv.readySig:
			t = sv.takeReady()
		case <-timer.C:
			t = sv.takeReady()
			if t == nil && done == armedAt {
				return
			}
			timer.Reset(workerIdle)
			armedAt = done
		case <-s.quit:
			return
		}
	}
}

// next takes the servant's next waiting request for a worker that has
// finished one, if a place is free, or returns nil. Requests that waited
// too long are answered CodeServerQueueTimeout on the way.
func (s *Server) next(sv *adapter) *task {
	if sv.waiting.Load() == 0 { // the usual case: nothing waits, no lock
		return nil
	}
	now := time.Now()
	for {
		sv.mu.Lock()
		if len(sv.queue) == 0 || s.stopping.Load() || !sv.take() {
			sv.mu.Unlock()
			return nil
		}
		t := sv.pop()
		sv.mu.Unlock()
		if t.expiry.After(now) {
			t.holds.Store(true)
			return t
		}
		sv.running.Add(-1)
		s.queueTimeout(t)
	}
}

// release gives t's running place back, if it holds one.
func (s *Server) release(t *task) {
	if !t.holds.Swap(false) {
		return
	}
	t.sv.running.Add(-1)
}

// Queued gives the task's running place back, and releases what the call
// holds, once its answer is queued, before it is written
// (transport.Queued): the work is done, writing does not block, and the
// answer cannot reach the caller before the place is free and the call is
// no longer counted in flight.
func (t *task) Queued() {
	t.srv.release(t)
	t.srv.done(t) // nor the call's count, connection hold and frame budget
}

func (s *Server) queueTimeout(t *task) {
	s.counts.queueTimeout.Add(1)
	s.finish(t, Errorf(CodeServerQueueTimeout, "waited %v for a handler of %s", time.Since(t.recv).Round(time.Millisecond), t.sv.name))
}

// run decodes, invokes and answers one request.
func (s *Server) run(t *task) {
	req, sm := t.req, t.sm
	if t.peer.Closed() { // nobody to answer: do not run it
		s.counts.dropped.Add(1)
		s.finish(t, nil)
		return
	}
	now := monoNow()
	if now.After(t.expiry) || !t.deadline.IsZero() && t.deadline.Sub(now) < answerMargin(t.deadline.Sub(t.recv)) {
		s.queueTimeout(t)
		return
	}
	if !t.state.CompareAndSwap(taskQueued, taskStarting) {
		return // Shutdown has answered it
	}
	if s.stopping.Load() {
		t.state.Store(taskCancelled)
		s.counts.overload.Add(1)
		s.finish(t, NewError(CodeServerOverload, "server shut down before the call ran"))
		return
	}
	call := &t.call
	*call = Call{
		Servant: req.ServantName, Method: req.FuncName, Version: req.Version, RequestID: req.RequestID,
		Oneway: req.PacketType == protocol.PacketOneway, Server: true, Peer: t.peer.RemoteAddr(),
		Context: req.Context, Status: req.Status,
		Timeout: time.Duration(req.Timeout) * time.Millisecond,
	}
	// Decoding may allocate up to its budget; the budget comes out of the
	// server's memory budget until the call is done, so that many large
	// requests at once cannot take more than the server has to give.
	budget := s.cfg.decodeBudget
	if budget == 0 {
		budget = rpcDecodeBudget(len(req.Buffer))
	}
	if len(req.Buffer) > smallRequest {
		// Small requests are bounded by the servants' places; large ones
		// share the memory budget.
		if !s.budget.TryReserve(budget) {
			t.state.Store(taskRunning)
			s.counts.overload.Add(1)
			s.finish(t, Errorf(CodeServerOverload, "server memory budget exhausted (decoding needs up to %d bytes)", budget))
			return
		}
		defer s.budget.Release(budget)
	}
	rq := sm.newReq()
	if err := decodeArgsBudget(sm.m, req.Version, req.Buffer, rq, budget); err != nil {
		t.state.Store(taskRunning)
		s.counts.decodeErr.Add(1)
		s.finish(t, wrapError(CodeServerDecodeErr, err))
		return
	}
	call.Request, call.Response = rq, sm.newRsp()
	ctx := &t.ctx
	ctx.base, ctx.call, ctx.deadline = s.bases[uint32(req.RequestID)%baseShards], call, t.deadline
	defer ctx.end()
	t.state.Store(taskRunning)
	err := s.invoke(ctx, sm, call)
	// The frame (and the budget it holds) is no longer needed once the
	// handler is done: decoded strings do not alias it.
	t.frame.Done()
	if call.Oneway {
		s.finish(t, nil)
		return
	}
	call.mu.Lock()
	resp := &protocol.ResponsePacket{Context: call.ResponseContext, Status: call.ResponseStatus}
	call.mu.Unlock()
	if err != nil {
		s.finishWith(t, resp, toError(err))
		return
	}
	w := getWriter()
	defer putWriter(w)
	if err := encodeResults(sm.m, req.Version, w, call.Response); err != nil {
		s.finish(t, wrapError(CodeServerEncodeErr, err))
		return
	}
	resp.Buffer = w.Bytes()
	if t.answer() {
		s.replyThen(t.peer, req, resp, t)
	}
	s.done(t)
}

// invoke runs the chain, turning a panic into CodeServerUnknownErr.
func (s *Server) invoke(ctx context.Context, sm *serverMethod, call *Call) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.counts.panics.Add(1)
			if s.cfg.logger != nil {
				s.cfg.logger.Error("tars: handler panicked", "servant", call.Servant, "method", call.Method,
					"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			}
			err = Errorf(CodeServerUnknownErr, "handler panicked: %v", r)
		}
	}()
	return sm.invoke(ctx, call)
}

// finish answers t with e (nil: no answer) and releases everything it
// holds.
func (s *Server) finish(t *task, e *Error) {
	s.finishWith(t, &protocol.ResponsePacket{}, e)
}

func (s *Server) finishWith(t *task, resp *protocol.ResponsePacket, e *Error) {
	if e != nil && t.answer() {
		if t.req.PacketType != protocol.PacketOneway {
			resp.Ret, resp.ResultDesc = e.Code, e.Message
			s.replyThen(t.peer, t.req, resp, t)
		}
	}
	s.done(t)
}

// done releases what t holds: its frame, its connection's request count,
// its place among the server's calls in flight.
func (s *Server) done(t *task) {
	if t.finished.CompareAndSwap(false, true) {
		t.frame.Done()
		t.peer.End()
		s.inflight.leave()
	}
}

// sendErr answers t with e without releasing it (Shutdown, for a handler
// still running).
func (s *Server) sendErr(t *task, e *Error) {
	if t.req.PacketType != protocol.PacketOneway {
		s.reply(t.peer, t.req, &protocol.ResponsePacket{Ret: e.Code, ResultDesc: e.Message})
	}
}

func (s *Server) fail(peer transport.Peer, req *protocol.RequestPacket, e *Error) {
	if req.PacketType == protocol.PacketOneway {
		return
	}
	s.reply(peer, req, &protocol.ResponsePacket{Ret: e.Code, ResultDesc: e.Message})
}

// reply answers req with resp, in req's version and with its request id.
func (s *Server) reply(peer transport.Peer, req *protocol.RequestPacket, resp *protocol.ResponsePacket) {
	s.replyThen(peer, req, resp, nil)
}

// replyThen is reply, telling q once the answer is queued.
func (s *Server) replyThen(peer transport.Peer, req *protocol.RequestPacket, resp *protocol.ResponsePacket, q transport.Queued) {
	resp.Version, resp.RequestID, resp.PacketType = req.Version, req.RequestID, protocol.PacketNormal
	fb := getFrameBuf()
	frame := protocol.AppendReply((*fb)[:0], req, resp)
	if len(frame) > s.cfg.maxPacket {
		frame = protocol.AppendReply((*fb)[:0], req, &protocol.ResponsePacket{
			Version: req.Version, RequestID: req.RequestID, Ret: CodeServerEncodeErr,
			ResultDesc: fmt.Sprintf("response of %d bytes exceeds the maximum packet size %d", len(frame), s.cfg.maxPacket)})
	}
	if err := peer.WriteThen(frame, q); err != nil && !errors.Is(err, transport.ErrClosed) {
		s.logs.warn("tars: writing response failed", "remote", peer.RemoteAddr().String(), "err", err)
	}
	*fb = frame
	putFrameBuf(fb)
}

// task is one admitted request.
type task struct {
	pkt      protocol.RequestPacket
	peer     transport.Peer
	frame    transport.Frame
	req      *protocol.RequestPacket
	sm       *serverMethod
	sv       *adapter
	recv     time.Time
	expiry   time.Time // it must start by then, or be answered CodeServerQueueTimeout
	deadline time.Time // the caller's deadline (recv + iTimeout); zero when none
	seq      uint64    // admission order, among equal expiries
	srv      *Server
	holds    atomic.Bool // it holds a running place of its servant
	state    atomic.Int32
	answered atomic.Bool
	finished atomic.Bool // done has released what it holds

	// The call and its context, made when it runs: one allocation with
	// the task rather than three.
	call Call
	ctx  handlerCtx
}

// Task states: queued → starting → running, or → cancelled by Shutdown.
const (
	taskQueued int32 = iota
	taskStarting
	taskRunning
	taskCancelled
)

// answer reports whether the caller may answer t: true once.
func (t *task) answer() bool { return t.answered.CompareAndSwap(false, true) }

// adapter is a servant's methods and its admission (TARS's adapter): the running count and
// a queue ordered by expiry (earliest first; admission order among
// equals), so that the request closest to its caller's deadline runs
// first and a single timer answers those that waited too long.
type adapter struct {
	name    string
	methods map[string]*serverMethod
	limits  ServantLimits

	// Worker goroutines: at most MaxInvoke, so that a burst cannot start
	// more while workers are finishing.
	idle     chan *task // idle workers wait here for their next request
	workers  atomic.Int64
	readyMu  sync.Mutex
	ready    []*task      // admitted, holding a place, waiting for a worker
	readyN   atomic.Int32 // len(ready)
	wlMu     sync.Mutex
	wl       map[*workerSlot]struct{} // the workers alive, for Shutdown
	readySig chan struct{}            // wakes an idle worker for ready

	running atomic.Int32 // handlers holding a place
	mu      sync.Mutex
	queue   []*task      // a binary heap by (expiry, seq)
	waiting atomic.Int32 // len(queue), readable without the lock
	seq     uint64
	timer   *time.Timer
	timerAt time.Time
}

func (sv *adapter) less(i, j int) bool {
	a, b := sv.queue[i], sv.queue[j]
	if !a.expiry.Equal(b.expiry) {
		return a.expiry.Before(b.expiry)
	}
	return a.seq < b.seq
}

func (sv *adapter) push(t *task) {
	sv.seq++
	t.seq = sv.seq
	sv.queue = append(sv.queue, t)
	sv.waiting.Add(1)
	for i := len(sv.queue) - 1; i > 0; {
		p := (i - 1) / 2
		if !sv.less(i, p) {
			break
		}
		sv.queue[i], sv.queue[p] = sv.queue[p], sv.queue[i]
		i = p
	}
}

func (sv *adapter) pop() *task {
	sv.waiting.Add(-1)
	q := sv.queue
	t := q[0]
	n := len(q) - 1
	q[0] = q[n]
	q[n] = nil
	sv.queue = q[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && sv.less(l, m) {
			m = l
		}
		if r < n && sv.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		sv.queue[i], sv.queue[m] = sv.queue[m], sv.queue[i]
		i = m
	}
	if cap(sv.queue) > 1024 && len(sv.queue) < cap(sv.queue)/4 {
		sv.queue = append([]*task(nil), sv.queue...)
	}
	return t
}

// armLocked sets the timer to the earliest expiry in the queue.
func (sv *adapter) armLocked(s *Server) {
	if len(sv.queue) == 0 {
		return
	}
	at := sv.queue[0].expiry
	if sv.timer != nil && !sv.timerAt.IsZero() && !at.Before(sv.timerAt) {
		return
	}
	sv.timerAt = at
	d := time.Until(at)
	if sv.timer == nil {
		sv.timer = time.AfterFunc(d, func() { s.expireQueued(sv) })
	} else {
		sv.timer.Reset(d)
	}
}

// expireQueued answers the waiting requests whose time is up.
func (s *Server) expireQueued(sv *adapter) {
	now := time.Now()
	var late []*task
	sv.mu.Lock()
	sv.timerAt = time.Time{}
	for len(sv.queue) > 0 && !sv.queue[0].expiry.After(now) {
		late = append(late, sv.pop())
	}
	sv.armLocked(s)
	sv.mu.Unlock()
	for _, t := range late {
		s.queueTimeout(t)
	}
}

// drain empties the queue (Shutdown).
func (sv *adapter) drain() []*task {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	q := sv.queue
	sv.queue = nil
	sv.waiting.Store(0)
	if sv.timer != nil {
		sv.timer.Stop()
	}
	return q
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

func (g *gate) count() int64 { return g.n.Load() &^ gateClosed }

// close admits no more calls and returns a channel closed once the calls in
// flight have all left.
func (g *gate) close() <-chan struct{} {
	if g.n.Or(gateClosed)&^gateClosed == 0 {
		g.once.Do(func() { close(g.zero) })
	}
	return g.zero
}

// rateLog writes connection-level records at most logBurst at once and
// logRate a second; the rest are counted, and the count is written with the
// next record allowed.
type rateLog struct {
	logger     *slog.Logger
	mu         sync.Mutex
	tokens     float64
	last       time.Time
	skipped    uint64 // since the last record written
	suppressed atomic.Uint64
}

const (
	logRate  = 10
	logBurst = 20
)

func (l *rateLog) warn(msg string, args ...any) {
	if l.logger == nil {
		return
	}
	l.mu.Lock()
	now := time.Now()
	if l.last.IsZero() {
		l.tokens = logBurst
	} else {
		l.tokens = min(logBurst, l.tokens+now.Sub(l.last).Seconds()*logRate)
	}
	l.last = now
	if l.tokens < 1 {
		l.skipped++
		l.mu.Unlock()
		l.suppressed.Add(1)
		return
	}
	l.tokens--
	skipped := l.skipped
	l.skipped = 0
	l.mu.Unlock()
	if skipped > 0 {
		args = append(args, "suppressed_before", skipped)
	}
	l.logger.Warn(msg, args...)
}
