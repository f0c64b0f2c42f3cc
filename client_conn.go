package tars

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotars/tars/codec"
	"github.com/gotars/tars/codec/reflectcodec"
	"github.com/gotars/tars/protocol"
	"github.com/gotars/tars/transport"
)

// connSlot holds one multiplexed connection, re-dialled with backoff when
// it breaks.
type connSlot struct {
	mu       sync.Mutex
	cc       atomic.Pointer[clientConn]
	dialing  chan struct{} // closed when the dial in progress ends; nil when none
	failures int
	retryAt  int64 // nanotime
	lastErr  error
}

func (cc *clientConn) usable() bool { return !cc.closed.Load() && !cc.draining.Load() }

// slotConn is the slow path of taking a slot's connection, for a call that
// found none usable without locking (roundTrip's fast path): it looks again
// under the lock and dials one if needed. The dial is the endpoint's: it
// runs on its own, bounded by the dial timeout, and the caller waits for it
// no longer than its own context allows. Only a failed dial puts the slot
// into its reconnect pause.
func (c *Client) slotConn(ctx context.Context, deadline time.Time, e *endpoint, s *connSlot) (*clientConn, error) {
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
		if nanotime() < s.retryAt {
			err := s.lastErr
			s.mu.Unlock()
			return nil, &Error{Code: CodeProxyConnectErr, Message: fmt.Sprintf("%s: reconnecting after %v", e.addr, err), cause: err}
		}
		s.dialing = make(chan struct{})
		c.wg.Add(1)
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
	defer c.wg.Done()
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
		s.retryAt = nanotime() + int64(min(backoff, c.cfg.backoffMax))
		s.lastErr = err
		e.downUntil.Store(s.retryAt)
		return
	}
	s.failures, s.lastErr = 0, nil
	e.downUntil.Store(0)
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
	done     chan struct{}
	resp     protocol.ResponsePacket
	err      error
	id       int32
	deadline int64 // nanotime, when its connection times it out; 0: its context does
	hi       int   // its index in the connection's deadline heap; -1 when not in it
}

var waiterPool = sync.Pool{New: func() any { return &waiter{done: make(chan struct{}, 1), hi: -1} }}

func putWaiter(w *waiter) {
	w.resp, w.err, w.deadline, w.hi = protocol.ResponsePacket{}, nil, 0, -1
	waiterPool.Put(w)
}

// clientConn is one multiplexed connection and its calls in flight.
type clientConn struct {
	conn      *transport.Conn
	log       *slog.Logger
	ep        *endpoint
	idle      time.Duration
	timer     *time.Timer
	mu        sync.Mutex
	pending   map[int32]*waiter
	deadlines []*waiter   // the pending calls it times out, a heap by deadline (client_deadline.go)
	dtimer    *time.Timer // fires at the earliest of them
	dtimerAt  int64       // when dtimer fires (nanotime); 0 when not armed
	dead      error       // why the connection closed; guarded by mu
	closed    atomic.Bool // dead != nil, readable without the lock
	draining  atomic.Bool // the server asked us to move on (_reconnect_), or a new connection replaced it
}

// register adds call id to the calls waiting for an answer; deadline
// (nanotime) is when the connection times it out, 0 when the call's
// context does.
func (cc *clientConn) register(id int32, deadline int64) (*waiter, error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.dead != nil {
		return nil, wrapError(CodeSendRequestErr, cc.dead)
	}
	w := waiterPool.Get().(*waiter)
	w.id = id
	cc.pending[id] = w
	if deadline != 0 {
		w.deadline = deadline
		cc.pushDeadline(w)
	}
	return w, nil
}

// unregister forgets call id; it reports false when the answer has already
// been taken for delivery, in which case the waiter is (or is about to be)
// signalled and the caller must receive from its done channel before the
// waiter goes back to the pool.
func (cc *clientConn) unregister(id int32) bool {
	cc.mu.Lock()
	w, ok := cc.pending[id]
	if ok {
		cc.removeDeadline(w)
		delete(cc.pending, id)
	}
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
	cc.ep.answered()
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
	if w != nil {
		cc.removeDeadline(w)
		delete(cc.pending, id)
	}
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
	cc.ep.answered()
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
	cc.timer = time.AfterFunc(max(cc.idle/4, time.Millisecond), func() {
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
	for _, w := range cc.deadlines {
		w.hi = -1
	}
	cc.deadlines = nil
	if cc.timer != nil {
		cc.timer.Stop()
	}
	if cc.dtimer != nil {
		cc.dtimer.Stop()
		cc.dtimerAt = 0
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
