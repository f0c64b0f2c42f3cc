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

	"github.com/gotars/tars/codec/reflectcodec"
	"github.com/gotars/tars/protocol"
	"github.com/gotars/tars/transport"
)

// Client calls the endpoints of one servant object over a few multiplexed
// connections per endpoint. Build it with NewClient from an object name in
// TARS syntax; it is safe for concurrent use; Close it when done.
type Client struct {
	servant string
	cfg     clientConfig
	eps     []*endpointConns
	next    atomic.Uint32
	reqID   atomic.Int32
	chain   Invoker
	closed  atomic.Bool
}

// NewClient returns a client for the object obj, in TARS syntax:
// "UserService.UserServiceObj@tcp -h 127.0.0.1 -p 18015 -t 3000", with
// several endpoints joined by ':' (calls go round robin over them). No
// connection is made until the first call. An object without "@endpoints"
// needs a registry, which this version does not support yet: it is an error.
func NewClient(obj string, opts ...ClientOption) (*Client, error) {
	servant, addrs, err := transport.ParseObject(obj)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("tars: object %q has no endpoints; registry lookup is not supported yet", obj)
	}
	c := &Client{servant: servant, cfg: newClientConfig(opts)}
	switch c.cfg.version {
	case VersionTARS, VersionTUP, VersionJSON:
	default:
		return nil, fmt.Errorf("tars: WithVersion(%d): %w", c.cfg.version, badVersion(c.cfg.version))
	}
	for _, a := range addrs {
		e := &endpointConns{addr: a, slots: make([]*connSlot, c.cfg.conns)}
		for i := range e.slots {
			e.slots[i] = &connSlot{}
		}
		c.eps = append(c.eps, e)
	}
	c.chain = chain(c.cfg.middleware, c.roundTrip)
	return c, nil
}

// Servant returns the servant object the client calls.
func (c *Client) Servant() string { return c.servant }

// Close closes every connection; calls waiting on them fail with
// CodeSendRequestErr, later calls with CodeProxyConnectErr.
func (c *Client) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	for _, e := range c.eps {
		for _, s := range e.slots {
			s.mu.Lock()
			cc := s.cc.Swap(nil)
			s.mu.Unlock()
			if cc != nil {
				cc.conn.Close()
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

// roundTrip is the end of the client chain: encode, send, wait, decode.
func (c *Client) roundTrip(ctx context.Context, call *Call) error {
	if c.closed.Load() {
		return NewError(CodeProxyConnectErr, "client closed")
	}
	m := call.m
	timeout := c.cfg.timeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
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
	pkt := protocol.RequestPacket{
		Version: call.Version, RequestID: call.RequestID, ServantName: c.servant, FuncName: m.name,
		Buffer: w.Bytes(), Timeout: int32(min(timeout.Milliseconds(), 1<<31-1)),
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

	cc, err := c.conn(ctx)
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
	if err := cc.conn.Write(frame); err != nil {
		if !cc.unregister(call.RequestID) {
			<-wt.done // the failed connection has signalled the waiter: drain it before it is reused
		}
		return wrapError(CodeSendRequestErr, err)
	}
	// Wait for the answer, the timeout or the caller giving up. A pooled
	// timer rather than a context.WithTimeout: no allocation per call.
	t := getTimer(timeout)
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
			if errors.Is(cause, context.DeadlineExceeded) {
				return &Error{Code: CodeInvokeTimeout, Message: fmt.Sprintf("%s.%s: no answer within %v", c.servant, m.name, timeout), cause: cause}
			}
			return cause
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

// conn returns a live connection, round robin over the endpoints and their
// slots; an endpoint in its reconnect pause is passed over.
func (c *Client) conn(ctx context.Context) (*clientConn, error) {
	start := c.next.Add(1)
	var firstErr error
	for i := range len(c.eps) {
		e := c.eps[(int(start)+i)%len(c.eps)]
		s := e.slots[int(e.next.Add(1))%len(e.slots)]
		cc, err := c.slotConn(ctx, e.addr, s)
		if err == nil {
			return cc, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

// endpointConns is one endpoint's connection slots.
type endpointConns struct {
	addr  transport.Address
	slots []*connSlot
	next  atomic.Uint32
}

// connSlot holds one multiplexed connection, re-dialled with backoff when
// it breaks.
type connSlot struct {
	mu       sync.Mutex // serialises dialling
	cc       atomic.Pointer[clientConn]
	failures int
	retryAt  time.Time
	lastErr  error
}

func (c *Client) slotConn(ctx context.Context, a transport.Address, s *connSlot) (*clientConn, error) {
	// The fast path, taken by nearly every call: a live connection, read
	// without locking.
	if cc := s.cc.Load(); cc != nil && !cc.closed.Load() {
		return cc, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cc := s.cc.Load(); cc != nil && !cc.closed.Load() {
		return cc, nil
	}
	if c.closed.Load() {
		return nil, NewError(CodeProxyConnectErr, "client closed")
	}
	if time.Now().Before(s.retryAt) {
		return nil, &Error{Code: CodeProxyConnectErr, Message: fmt.Sprintf("%s: reconnecting after %v", a, s.lastErr), cause: s.lastErr}
	}
	nc, err := c.dial(ctx, a)
	if err != nil {
		s.failures++
		backoff := c.cfg.backoffMin << min(s.failures-1, 16)
		s.retryAt = time.Now().Add(min(backoff, c.cfg.backoffMax))
		s.lastErr = err
		return nil, &Error{Code: CodeProxyConnectErr, Message: fmt.Sprintf("%s: %v", a, err), cause: err}
	}
	s.failures, s.lastErr = 0, nil
	cc := &clientConn{pending: map[int32]*waiter{}, log: c.logger()}
	cc.conn = transport.NewConn(nc, transport.ConnConfig{
		MaxFrame: c.cfg.maxPacket, WriteTimeout: c.cfg.writeTimeout,
		OnFrame: cc.onFrame, OnClose: cc.onClose,
	})
	go cc.conn.Serve()
	s.cc.Store(cc)
	if c.closed.Load() { // Close ran while we dialled
		cc.conn.Close()
	}
	return cc, nil
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
		dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		var d net.Dialer
		nc, err = d.DialContext(dctx, network, a.HostPort())
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

// clientConn is one multiplexed connection and its calls in flight.
type clientConn struct {
	conn    *transport.Conn
	log     *slog.Logger
	mu      sync.Mutex
	pending map[int32]*waiter
	dead    error       // why the connection closed; guarded by mu
	closed  atomic.Bool // dead != nil, readable without the lock
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
	defer cc.mu.Unlock()
	_, ok := cc.pending[id]
	delete(cc.pending, id)
	return ok
}

func (cc *clientConn) onFrame(_ transport.Peer, frame []byte) {
	data := make([]byte, len(frame)) // the read buffer is reused; sBuffer aliases data
	copy(data, frame)
	var resp protocol.ResponsePacket
	if err := protocol.DecodeResponse(data, &resp); err != nil {
		if cc.log != nil {
			cc.log.Warn("tars: undecodable response; closing the connection", "remote", cc.conn.RemoteAddr().String(), "err", err)
		}
		cc.conn.Close()
		return
	}
	cc.mu.Lock()
	w := cc.pending[resp.RequestID]
	delete(cc.pending, resp.RequestID)
	cc.mu.Unlock()
	if w != nil { // nil: an answer that came after its call gave up
		w.resp = resp
		w.done <- struct{}{}
	}
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
