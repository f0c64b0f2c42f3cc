package tars

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotars/tars/codec"
	"github.com/gotars/tars/codec/reflectcodec"
	"github.com/gotars/tars/protocol"
	"github.com/gotars/tars/transport"
)

// Client calls the endpoints of one servant object over a few multiplexed
// connections per endpoint. Build it with NewClient from an object name in
// TARS syntax; it is safe for concurrent use; Close it when done.
//
// A call never waits for a socket: its deadline bounds it whole, dialling
// and writing included. An endpoint that has answered nothing for a while
// although calls wait on it (a hung backend) is passed over while others
// answer, and no endpoint takes more than WithMaxInflight calls at once.
type Client struct {
	servant string
	cfg     clientConfig
	eps     []*endpoint
	next    atomic.Uint32
	reqID   atomic.Int32
	chain   Invoker
	closed  atomic.Bool
	// ctx bounds the client's own work (dials), cancelled by Close.
	ctx    context.Context
	cancel context.CancelFunc
}

// NewClient returns a client for the object obj, in TARS syntax:
// "UserService.UserServiceObj@tcp -h 127.0.0.1 -p 18015 -t 3000", with
// several endpoints joined by ':' (calls go round robin over them). No
// connection is made until the first call. An object without "@endpoints"
// needs a registry, which this version does not support yet: it is an error.
// An invalid option is an error naming it.
func NewClient(obj string, opts ...ClientOption) (*Client, error) {
	servant, addrs, err := transport.ParseObject(obj)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("tars: object %q has no endpoints; registry lookup is not supported yet", obj)
	}
	cfg, err := newClientConfig(opts)
	if err != nil {
		return nil, err
	}
	c := &Client{servant: servant, cfg: cfg}
	for _, a := range addrs {
		if a.Network == "ssl" && c.cfg.tls == nil && c.cfg.dial == nil {
			return nil, fmt.Errorf("tars.NewClient: %s: an ssl endpoint needs WithTLSConfig", a)
		}
		e := &endpoint{addr: a, slots: make([]*connSlot, c.cfg.conns)}
		for i := range e.slots {
			e.slots[i] = &connSlot{}
		}
		c.eps = append(c.eps, e)
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.chain = chain(c.cfg.middleware, c.roundTrip)
	return c, nil
}

// Servant returns the servant object the client calls.
func (c *Client) Servant() string { return c.servant }

// Close closes every connection and stops dials in progress; calls waiting
// on them fail with CodeSendRequestErr, later calls with
// CodeProxyConnectErr.
func (c *Client) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.cancel()
	for _, e := range c.eps {
		for _, s := range e.slots {
			s.mu.Lock()
			cc := s.cc.Swap(nil)
			s.mu.Unlock()
			if cc != nil {
				cc.close()
			}
		}
	}
	return nil
}

func (c *Client) logger() *slog.Logger { return c.cfg.logger }

// invoke runs the client chain for one call of m.
func (c *Client) invoke(ctx context.Context, m *method, req, rsp any, oneway bool) error {
	if m.svc == nil {
		return errors.New("tars: call of an undeclared endpoint")
	}
	call := &Call{
		Servant: c.servant, Method: m.name, Version: c.cfg.version, Oneway: oneway,
		Context: maps.Clone(outgoing(ctx, false)), Status: maps.Clone(outgoing(ctx, true)),
		Request: req, Response: rsp, m: m,
	}
	return c.chain(ctx, call)
}

// gaveUp is the error of a call whose caller gave up: its deadline passed
// (cause context.DeadlineExceeded) or it cancelled.
func gaveUp(err error, what string) *Error {
	if errors.Is(err, context.Canceled) {
		return &Error{Code: CodeInvokeTimeout, Message: what + ": call canceled", cause: err}
	}
	return &Error{Code: CodeInvokeTimeout, Message: what + ": deadline passed", cause: context.DeadlineExceeded}
}

// roundTrip is the end of the client chain: encode, send, wait, decode.
func (c *Client) roundTrip(ctx context.Context, call *Call) error {
	if c.closed.Load() {
		return NewError(CodeProxyConnectErr, "client closed")
	}
	m := call.m
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(c.cfg.timeout)
	}
	timeout := time.Until(deadline)
	if timeout <= 0 {
		return &Error{Code: CodeInvokeTimeout, Message: "deadline passed before the call was sent", cause: context.DeadlineExceeded}
	}
	call.Timeout = timeout
	call.RequestID = c.nextID()

	w := getWriter()
	defer putWriter(w)
	if err := encodeArgs(m, call.Version, w, call.Request); err != nil {
		return wrapError(CodeSendRequestErr, err)
	}
	// iTimeout rounds up: the server's deadline must not come before ours.
	ms := (timeout + time.Millisecond - 1) / time.Millisecond
	pkt := protocol.RequestPacket{
		Version: call.Version, RequestID: call.RequestID, ServantName: c.servant, FuncName: m.name,
		Buffer: w.Bytes(), Timeout: int32(min(int64(ms), 1<<31-1)),
		Context: call.Context, Status: call.Status,
	}
	if call.Oneway {
		pkt.PacketType = protocol.PacketOneway
	}
	fb := getFrameBuf()
	defer putFrameBuf(fb)
	frame := protocol.AppendRequest((*fb)[:0], &pkt)
	*fb = frame
	if len(frame) > c.cfg.maxPacket {
		return Errorf(CodeSendRequestErr, "request of %d bytes exceeds the maximum packet size %d", len(frame), c.cfg.maxPacket)
	}

	e, cc, err := c.conn(ctx, deadline)
	if err != nil {
		return err
	}
	call.Peer = cc.conn.RemoteAddr()
	if call.Oneway {
		if err := cc.conn.Write(frame); err != nil {
			return wrapError(CodeSendRequestErr, err)
		}
		return nil
	}
	wt, err := cc.register(call.RequestID)
	if err != nil {
		return err
	}
	defer putWaiter(wt)
	e.begin()
	defer e.end()
	if err := cc.conn.Write(frame); err != nil {
		if !cc.unregister(call.RequestID) {
			<-wt.done // the failed connection has signalled the waiter: drain it before it is reused
		}
		return wrapError(CodeSendRequestErr, err)
	}
	// Wait for the answer or the caller giving up. The write never blocks:
	// the deadline bounds the call whole. A pooled timer rather than a
	// context.WithDeadline: no allocation per call.
	t := getTimer(time.Until(deadline))
	defer putTimer(t)
	var cause error
	select {
	case <-wt.done:
	case <-t.C:
		cause = context.DeadlineExceeded
	case <-ctx.Done():
		cause = ctx.Err()
	}
	if cause != nil {
		if cc.unregister(call.RequestID) {
			return gaveUp(cause, fmt.Sprintf("%s.%s: no answer within %v", c.servant, m.name, timeout.Round(time.Millisecond)))
		}
		<-wt.done // the answer is being delivered: take it
	}
	res := wt
	if res.err != nil {
		return res.err
	}
	resp := &res.resp
	call.ResponseContext, call.ResponseStatus = resp.Context, resp.Status
	if resp.Ret != CodeSuccess {
		return &Error{Code: resp.Ret, Message: resp.ResultDesc}
	}
	if err := decodeResults(m, call.Version, resp.Buffer, call.Response); err != nil {
		if errors.Is(err, errTUPEmpty) {
			// iRet 0 and no results: a TarsGo server's answer to a TUP
			// call whose handler failed (it drops the code from TUP
			// answers). Report a server failure, not a decoding one.
			return &Error{Code: CodeServerUnknownErr, Message: "the server answered without results or an error code (TarsGo servers drop the error code of failed TUP calls)", cause: err}
		}
		return wrapError(CodeClientDecodeErr, err)
	}
	return nil
}

func (c *Client) nextID() int32 {
	for {
		if id := c.reqID.Add(1); id != 0 {
			return id
		}
	}
}

// stallAfter is how long an endpoint may answer nothing while calls wait on
// it before new calls prefer other endpoints.
const stallAfter = 500 * time.Millisecond

// conn returns an endpoint and a live connection to it, round robin over
// the endpoints and their slots. It passes over endpoints in their
// reconnect pause, at their in-flight bound, or stalled (answering nothing
// while calls wait), as long as another endpoint can take the call.
func (c *Client) conn(ctx context.Context, deadline time.Time) (*endpoint, *clientConn, error) {
	start := c.next.Add(1)
	now := time.Now()
	var firstErr error
	var stalled *endpoint
	full := 0
	for i := range len(c.eps) {
		e := c.eps[(int(start)+i)%len(c.eps)]
		if int(e.inflight.Load()) >= c.cfg.maxInflight {
			full++
			continue
		}
		if e.stalled(now) {
			if stalled == nil {
				stalled = e
			}
			continue
		}
		cc, err := c.slotConn(ctx, deadline, e, e.slot())
		if err == nil {
			return e, cc, nil
		}
		if isGaveUp(err) {
			return nil, nil, err
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if stalled != nil {
		cc, err := c.slotConn(ctx, deadline, stalled, stalled.slot())
		if err == nil {
			return stalled, cc, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil && full > 0 {
		firstErr = Errorf(CodeServerOverload, "%s: every endpoint has %d calls in flight", c.servant, c.cfg.maxInflight)
	}
	return nil, nil, firstErr
}

func isGaveUp(err error) bool {
	var te *Error
	return errors.As(err, &te) && te.Code == CodeInvokeTimeout
}

// endpoint is one endpoint's connection slots and load.
type endpoint struct {
	addr       transport.Address
	slots      []*connSlot
	next       atomic.Uint32
	inflight   atomic.Int32
	busySince  atomic.Int64 // unix nanoseconds when inflight last rose from 0
	lastAnswer atomic.Int64 // unix nanoseconds of the last answer read
}

func (e *endpoint) slot() *connSlot { return e.slots[int(e.next.Add(1))%len(e.slots)] }

func (e *endpoint) begin() {
	if e.inflight.Add(1) == 1 {
		e.busySince.Store(time.Now().UnixNano())
	}
}

func (e *endpoint) end() { e.inflight.Add(-1) }

// stalled reports calls waiting on e while it has answered nothing for
// stallAfter.
func (e *endpoint) stalled(now time.Time) bool {
	if e.inflight.Load() == 0 {
		return false
	}
	since := max(e.busySince.Load(), e.lastAnswer.Load())
	return now.UnixNano()-since > int64(stallAfter)
}

// connSlot holds one multiplexed connection, re-dialled with backoff when
// it breaks.
type connSlot struct {
	mu       sync.Mutex
	cc       atomic.Pointer[clientConn]
	dialing  chan struct{} // closed when the dial in progress ends; nil when none
	failures int
	retryAt  time.Time
	lastErr  error
}

func (cc *clientConn) usable() bool { return !cc.closed.Load() && !cc.draining.Load() }

// slotConn returns the slot's live connection, dialling one if needed. The
// dial is the endpoint's: it runs on its own, bounded by the dial timeout,
// and the caller waits for it no longer than its own context allows. Only
// a failed dial puts the slot into its reconnect pause.
func (c *Client) slotConn(ctx context.Context, deadline time.Time, e *endpoint, s *connSlot) (*clientConn, error) {
	// The fast path, taken by nearly every call: a live connection, read
	// without locking.
	if cc := s.cc.Load(); cc != nil && cc.usable() {
		return cc, nil
	}
	s.mu.Lock()
	if cc := s.cc.Load(); cc != nil && cc.usable() {
		s.mu.Unlock()
		return cc, nil
	}
	if c.closed.Load() {
		s.mu.Unlock()
		return nil, NewError(CodeProxyConnectErr, "client closed")
	}
	if s.dialing == nil {
		if time.Now().Before(s.retryAt) {
			err := s.lastErr
			s.mu.Unlock()
			return nil, &Error{Code: CodeProxyConnectErr, Message: fmt.Sprintf("%s: reconnecting after %v", e.addr, err), cause: err}
		}
		s.dialing = make(chan struct{})
		go c.dialSlot(e, s, s.dialing)
	}
	dialing := s.dialing
	s.mu.Unlock()
	t := getTimer(time.Until(deadline))
	defer putTimer(t)
	select {
	case <-dialing:
	case <-t.C:
		return nil, gaveUp(context.DeadlineExceeded, fmt.Sprintf("%s: connecting", e.addr))
	case <-ctx.Done():
		return nil, gaveUp(ctx.Err(), fmt.Sprintf("%s: connecting", e.addr))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cc := s.cc.Load()
	if cc != nil && cc.usable() {
		return cc, nil
	}
	err := s.lastErr
	if err == nil && cc != nil {
		cc.mu.Lock()
		err = cc.dead // closed at once: a TLS 1.3 refusal of our certificate comes as an alert after the handshake
		cc.mu.Unlock()
	}
	if err == nil {
		err = errors.New("connection lost")
	}
	return nil, &Error{Code: CodeProxyConnectErr, Message: fmt.Sprintf("%s: %v", e.addr, err), cause: err}
}

// dialSlot dials s's endpoint and installs the connection, or records the
// failure and the pause before the next attempt.
func (c *Client) dialSlot(e *endpoint, s *connSlot, done chan struct{}) {
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.dialTimeout)
	nc, err := c.dial(ctx, e.addr)
	cancel()
	s.mu.Lock()
	defer func() {
		s.dialing = nil
		s.mu.Unlock()
		close(done)
	}()
	if err != nil {
		if c.closed.Load() {
			s.lastErr = errors.New("client closed")
			return
		}
		s.failures++
		backoff := c.cfg.backoffMin << min(s.failures-1, 16)
		s.retryAt = time.Now().Add(min(backoff, c.cfg.backoffMax))
		s.lastErr = err
		return
	}
	s.failures, s.lastErr = 0, nil
	cc := &clientConn{pending: map[int32]*waiter{}, log: c.logger(), ep: e, idle: c.cfg.idleTimeout}
	cc.conn = transport.NewConn(nc, transport.ConnConfig{
		MaxFrame: c.cfg.maxPacket, WriteTimeout: c.cfg.writeTimeout,
		OnFrame: cc.onFrame, OnClose: cc.onClose, OnOversize: cc.onOversize,
	})
	old := s.cc.Swap(cc)
	go cc.conn.Serve()
	cc.watchIdle()
	if old != nil {
		old.retire()
	}
	if c.closed.Load() { // Close ran while we dialled
		cc.close()
	}
}

func (c *Client) dial(ctx context.Context, a transport.Address) (net.Conn, error) {
	var nc net.Conn
	var err error
	if c.cfg.dial != nil {
		nc, err = c.cfg.dial(ctx, a.Network, a.HostPort())
	} else {
		network := a.Network
		if network == "ssl" {
			network = "tcp"
		}
		var d net.Dialer
		nc, err = d.DialContext(ctx, network, a.HostPort())
	}
	if err != nil || a.Network != "ssl" {
		return nc, err
	}
	tc, ok := nc.(*tls.Conn)
	if !ok {
		if c.cfg.tls == nil {
			nc.Close()
			return nil, errors.New("ssl endpoint: no TLS configuration (WithTLSConfig)")
		}
		tc = tls.Client(nc, clientTLS(c.cfg.tls, a.Host))
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	return tc, nil
}

var timerPool sync.Pool

func getTimer(d time.Duration) *time.Timer {
	if t, ok := timerPool.Get().(*time.Timer); ok {
		t.Reset(d)
		return t
	}
	return time.NewTimer(d)
}

// putTimer stops t and pools it. Since Go 1.23 a stopped timer's channel
// holds no stale value, so Reset is safe on reuse.
func putTimer(t *time.Timer) {
	t.Stop()
	timerPool.Put(t)
}

// waiter is a call waiting for its answer: the read loop fills resp or err
// and then signals done. Waiters are pooled; a waiter goes back to the pool
// only once nobody can signal it any more.
type waiter struct {
	done chan struct{}
	resp protocol.ResponsePacket
	err  error
}

var waiterPool = sync.Pool{New: func() any { return &waiter{done: make(chan struct{}, 1)} }}

func putWaiter(w *waiter) {
	w.resp, w.err = protocol.ResponsePacket{}, nil
	waiterPool.Put(w)
}

// clientConn is one multiplexed connection and its calls in flight.
type clientConn struct {
	conn     *transport.Conn
	log      *slog.Logger
	ep       *endpoint
	idle     time.Duration
	timer    *time.Timer
	mu       sync.Mutex
	pending  map[int32]*waiter
	dead     error       // why the connection closed; guarded by mu
	closed   atomic.Bool // dead != nil, readable without the lock
	draining atomic.Bool // the server asked us to move on (_reconnect_), or a new connection replaced it
}

func (cc *clientConn) register(id int32) (*waiter, error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.dead != nil {
		return nil, wrapError(CodeSendRequestErr, cc.dead)
	}
	w := waiterPool.Get().(*waiter)
	cc.pending[id] = w
	return w, nil
}

// unregister forgets call id; it reports false when the answer has already
// been taken for delivery, in which case the waiter is (or is about to be)
// signalled and the caller must receive from its done channel before the
// waiter goes back to the pool.
func (cc *clientConn) unregister(id int32) bool {
	cc.mu.Lock()
	_, ok := cc.pending[id]
	delete(cc.pending, id)
	last := len(cc.pending) == 0
	cc.mu.Unlock()
	if last && cc.draining.Load() {
		cc.close()
	}
	return ok
}

func (cc *clientConn) onFrame(_ transport.Peer, f transport.Frame) {
	data := f.Keep() // the read buffer is reused; sBuffer aliases data
	var resp protocol.ResponsePacket
	if err := protocol.DecodeResponse(data, &resp); err != nil {
		if cc.log != nil {
			cc.log.Warn("tars: undecodable response; closing the connection", "remote", cc.conn.RemoteAddr().String(), "err", err)
		}
		cc.conn.CloseWithError(err)
		return
	}
	cc.ep.lastAnswer.Store(time.Now().UnixNano())
	if resp.RequestID == 0 && resp.ResultDesc == reconnectMsg {
		cc.retire()
		return
	}
	cc.deliver(resp.RequestID, func(w *waiter) { w.resp = resp })
}

// deliver hands call id its result, if it still waits.
func (cc *clientConn) deliver(id int32, fill func(*waiter)) {
	cc.mu.Lock()
	w := cc.pending[id]
	delete(cc.pending, id)
	last := len(cc.pending) == 0
	cc.mu.Unlock()
	if w != nil { // nil: an answer that came after its call gave up
		fill(w)
		w.done <- struct{}{}
	}
	if last && cc.draining.Load() {
		cc.close()
	}
}

// onOversize fails the call whose answer is larger than the largest packet
// accepted; the connection skips the answer's bytes and stays.
func (cc *clientConn) onOversize(head []byte, size int) {
	id, ok := responseID(head)
	if !ok {
		cc.conn.CloseWithError(fmt.Errorf("an answer of %d bytes exceeds the maximum packet size and its request id is unreadable", size))
		return
	}
	cc.ep.lastAnswer.Store(time.Now().UnixNano())
	cc.deliver(id, func(w *waiter) {
		w.err = Errorf(CodeClientDecodeErr, "the answer of %d bytes exceeds the maximum packet size %d (WithMaxPacket)", size, cc.conn.MaxFrame())
	})
}

// responseID reads iRequestId (tag 3) from the first bytes of a response
// frame.
func responseID(head []byte) (int32, bool) {
	if len(head) < transport.HeaderLen {
		return 0, false
	}
	var r codec.Reader
	r.Reset(head[transport.HeaderLen:])
	id, err := r.Int32(3, true)
	return id, err == nil
}

// retire stops new calls on the connection; it closes once the calls on it
// are answered.
func (cc *clientConn) retire() {
	cc.draining.Store(true)
	cc.mu.Lock()
	empty := len(cc.pending) == 0
	cc.mu.Unlock()
	if empty {
		cc.close()
	}
}

func (cc *clientConn) close() {
	if cc.timer != nil {
		cc.timer.Stop()
	}
	cc.conn.Close()
}

// watchIdle closes the connection once it has been idle for cc.idle.
func (cc *clientConn) watchIdle() {
	if cc.idle <= 0 {
		return
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.dead != nil {
		return
	}
	cc.timer = time.AfterFunc(cc.idle, func() {
		if d := cc.conn.Idle(time.Now()); d >= cc.idle {
			cc.mu.Lock()
			idle := len(cc.pending) == 0
			cc.mu.Unlock()
			if idle {
				cc.draining.Store(true)
				cc.conn.CloseWithError(transport.ErrIdle)
				return
			}
		}
		cc.mu.Lock()
		if cc.dead == nil {
			cc.timer.Reset(max(cc.idle/4, time.Millisecond))
		}
		cc.mu.Unlock()
	})
}

func (cc *clientConn) onClose(_ *transport.Conn, err error) {
	if err == nil {
		err = transport.ErrClosed
	}
	cc.mu.Lock()
	cc.dead = err
	cc.closed.Store(true)
	pending := cc.pending
	cc.pending = map[int32]*waiter{}
	if cc.timer != nil {
		cc.timer.Stop()
	}
	cc.mu.Unlock()
	for _, w := range pending {
		w.err = &Error{Code: CodeSendRequestErr, Message: "connection lost: " + err.Error(), cause: err}
		w.done <- struct{}{}
	}
}

// pingMethod is the built-in tars_ping: no parameters, no results.
var pingMethod = func() *method {
	in, _ := reflectcodec.StructParams(voidType)
	return &method{svc: &Service{name: "tars"}, name: "tars_ping", reqType: voidType, rspType: voidType, in: in}
}()

// Ping calls the built-in tars_ping of the servant, which every TARS server
// answers: a health check that needs no declared endpoint.
func (c *Client) Ping(ctx context.Context) error {
	return c.invoke(ctx, pingMethod, &Void{}, &Void{}, false)
}
