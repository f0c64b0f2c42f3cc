package transport

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotars/tars/protocol"
)

// errStopped is returned by Serve and ServePacket after Close or
// StopAccepting; the root package maps it onto tars.ErrServerClosed.
var errStopped = errors.New("transport: server closed")

// IsStopped reports whether err is what Serve and ServePacket return after
// StopAccepting or Close.
func IsStopped(err error) bool { return errors.Is(err, errStopped) }

// ErrTooManyConns closes a connection accepted over MaxConns or
// MaxConnsPerIP.
var ErrTooManyConns = errors.New("transport: too many connections")

// Server runs accept loops and the connections they accept, handing every
// frame to Handler. It does not interpret frames. The zero value is not
// usable: set Handler. The fields may not change once serving has begun.
type Server struct {
	Handler      FrameFunc     // called from the connection's read loop
	MaxFrame     int           // protocol.DefaultMaxPacket when 0
	WriteTimeout time.Duration // bound on one blocking socket write; none when 0
	// IdleTimeout closes a connection with nothing in progress, queued or
	// begun for that long (ErrIdle); 0 never.
	IdleTimeout time.Duration
	// FrameTimeout closes a connection whose peer began a frame and did
	// not complete it within that long (ErrFrameTimeout); 0 never.
	FrameTimeout time.Duration
	// MaxConns and MaxConnsPerIP bound the open stream connections, in
	// all and from one remote IP; a connection over a bound is accepted and
	// closed at once. 0 for no bound.
	MaxConns      int
	MaxConnsPerIP int
	MaxQueued     int     // see ConnConfig.MaxQueued; 0 for its default
	MaxRequests   int     // see ConnConfig.MaxRequests
	Budget        *Budget // see ConnConfig.Budget; nil for none
	// OnConnError, when set, is told why a connection was dropped (a
	// malformed frame, a read error, a timeout, a cap); clean closes are not
	// reported. It must not block.
	OnConnError func(remote net.Addr, err error)
	// OnBadDatagram, when set, is told of each malformed UDP datagram.
	OnBadDatagram func(remote net.Addr)

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	packets   map[net.PacketConn]struct{}
	conns     map[*Conn]struct{}
	perIP     map[string]int
	stopped   bool
	reaping   bool
	stop      chan struct{}  // closed by Close: the reaper exits
	wg        sync.WaitGroup // accept loops, read loops, the reaper

	accepted, refused, idleClosed, frameTimeouts, badDatagrams atomic.Uint64
}

// Stats counts what happened to a Server's connections.
type Stats struct {
	Conns         int    // open stream connections
	Accepted      uint64 // stream connections accepted and served
	Refused       uint64 // connections closed at once: over a cap, or out of descriptors
	IdleClosed    uint64 // connections closed as idle
	FrameTimeouts uint64 // connections closed for not completing a frame
	BadDatagrams  uint64 // malformed UDP datagrams dropped
	BudgetUsed    int64  // bytes of the memory budget in use
}

// Stats returns the counts so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	return Stats{Conns: n, Accepted: s.accepted.Load(), Refused: s.refused.Load(),
		IdleClosed: s.idleClosed.Load(), FrameTimeouts: s.frameTimeouts.Load(),
		BadDatagrams: s.badDatagrams.Load(), BudgetUsed: s.Budget.Used()}
}

func (s *Server) track(add bool, f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add && s.stopped {
		return false
	}
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
		s.packets = map[net.PacketConn]struct{}{}
		s.conns = map[*Conn]struct{}{}
		s.perIP = map[string]int{}
		s.stop = make(chan struct{})
	}
	f()
	return true
}

// Serve accepts stream connections (TCP, or TLS through tls.NewListener) on
// ln until StopAccepting or Close; each connection is read in its own
// goroutine. It returns an error for which IsStopped is true after a stop,
// or the accept error. Running out of descriptors does not end it: pending
// connections are refused while the open ones keep being served.
func (s *Server) Serve(ln net.Listener) error {
	if !s.track(true, func() { s.listeners[ln] = struct{}{}; s.wg.Add(1); s.startReaper() }) {
		ln.Close()
		return errStopped
	}
	defer s.wg.Done()
	defer s.track(false, func() { delete(s.listeners, ln) })
	reserve := newFDReserve(ln)
	defer reserve.close()
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isStopped() {
				return errStopped
			}
			var ne net.Error
			if errors.Is(err, errTooManyFiles) && reserve.free() {
				// Out of descriptors: take the spare one to accept the
				// pending connection and refuse it, rather than leave its
				// client hanging until its own timeout; then go on at once
				// with the next one.
				nc, aerr := ln.Accept()
				if aerr == nil {
					nc.Close()
					s.refused.Add(1)
				}
				reserve.restore()
				if aerr == nil && reserve.fd >= 0 {
					continue
				}
			}
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errTooManyFiles) {
				// Out of descriptors or a transient failure: back off.
				delay = min(max(2*delay, time.Millisecond), 100*time.Millisecond)
				select {
				case <-time.After(delay):
				case <-s.stopCh():
				}
				continue
			}
			return err
		}
		delay = 0
		s.serveConn(nc)
	}
}

func (s *Server) stopCh() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stop
}

func remoteIP(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return string(ta.IP.To16())
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// ServeConn serves one stream connection accepted elsewhere (an in-memory
// pipe, a connection handed over by another server) as Serve serves the
// ones it accepts; it returns at once.
func (s *Server) ServeConn(nc net.Conn) {
	if !s.track(true, func() { s.startReaper() }) {
		nc.Close()
		return
	}
	s.serveConn(nc)
}

func (s *Server) serveConn(nc net.Conn) {
	c := NewConn(nc, ConnConfig{MaxFrame: s.MaxFrame, WriteTimeout: s.WriteTimeout, MaxQueued: s.MaxQueued,
		MaxRequests: s.MaxRequests, ServerMode: true, Budget: s.Budget, OnFrame: s.Handler})
	ip := ""
	if s.MaxConnsPerIP > 0 {
		ip = remoteIP(nc.RemoteAddr())
	}
	over := false
	if !s.track(true, func() {
		if s.MaxConns > 0 && len(s.conns) >= s.MaxConns || s.MaxConnsPerIP > 0 && s.perIP[ip] >= s.MaxConnsPerIP {
			over = true
			return
		}
		s.conns[c] = struct{}{}
		if ip != "" {
			s.perIP[ip]++
		}
		s.wg.Add(1)
	}) || over {
		nc.Close()
		if over {
			s.refused.Add(1)
			if s.OnConnError != nil {
				s.OnConnError(nc.RemoteAddr(), ErrTooManyConns)
			}
		}
		return
	}
	s.accepted.Add(1)
	go func() {
		defer s.wg.Done()
		err := c.Serve()
		s.track(false, func() {
			delete(s.conns, c)
			if ip != "" {
				if s.perIP[ip]--; s.perIP[ip] <= 0 {
					delete(s.perIP, ip)
				}
			}
		})
		if err != nil && s.OnConnError != nil && !s.isStopped() {
			s.OnConnError(nc.RemoteAddr(), err)
		}
	}()
}

// startReaper starts, once, the goroutine that closes idle and stalled
// connections; it ends with Close. s.mu is held.
func (s *Server) startReaper() {
	if s.reaping || s.IdleTimeout <= 0 && s.FrameTimeout <= 0 {
		return
	}
	s.reaping = true
	tick := time.Second
	for _, d := range []time.Duration{s.IdleTimeout, s.FrameTimeout} {
		if d > 0 {
			tick = min(tick, d/4)
		}
	}
	tick = max(tick, 10*time.Millisecond)
	stop := s.stop
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(tick)
		defer t.Stop()
		var batch []*Conn
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				batch = s.reap(now, batch[:0])
			}
		}
	}()
}

// reap closes the connections past their idle or frame timeout.
func (s *Server) reap(now time.Time, batch []*Conn) []*Conn {
	s.mu.Lock()
	for c := range s.conns {
		batch = append(batch, c)
	}
	s.mu.Unlock()
	for _, c := range batch {
		switch {
		case s.FrameTimeout > 0 && c.FrameAge(now) > s.FrameTimeout:
			s.frameTimeouts.Add(1)
			c.CloseWithError(ErrFrameTimeout)
		case s.IdleTimeout > 0 && c.Idle(now) > s.IdleTimeout:
			s.idleClosed.Add(1)
			c.CloseWithError(ErrIdle)
		}
	}
	clear(batch)
	return batch
}

// ServePacket reads datagrams from pc (UDP), one frame each, until Close;
// answers go back to the sender as single datagrams. Malformed datagrams are
// dropped. Frames are handled in the reading goroutine, one at a time: the
// Handler should hand work off quickly.
func (s *Server) ServePacket(pc net.PacketConn) error {
	if !s.track(true, func() { s.packets[pc] = struct{}{}; s.wg.Add(1) }) {
		pc.Close()
		return errStopped
	}
	defer s.wg.Done()
	defer s.track(false, func() { delete(s.packets, pc) })
	maxFrame := s.MaxFrame
	if maxFrame <= 0 {
		maxFrame = protocol.DefaultMaxPacket
	}
	buf := make([]byte, 65536)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			if s.isStopped() {
				return errStopped
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		if !dispatchDatagram(buf[:n], maxFrame, s.Handler, &packetPeer{pc: pc, addr: addr, timeout: s.WriteTimeout}) {
			s.badDatagrams.Add(1)
			if s.OnBadDatagram != nil {
				s.OnBadDatagram(addr)
			}
		}
	}
}

type packetPeer struct {
	pc      net.PacketConn
	addr    net.Addr
	timeout time.Duration
}

func (p *packetPeer) Write(frame []byte) error {
	if p.timeout > 0 {
		p.pc.SetWriteDeadline(time.Now().Add(p.timeout))
	}
	_, err := p.pc.WriteTo(frame, p.addr)
	return err
}
func (p *packetPeer) WriteThen(frame []byte, q Queued) error {
	if q != nil {
		q.Queued()
	}
	return p.Write(frame)
}
func (p *packetPeer) RemoteAddr() net.Addr { return p.addr }
func (p *packetPeer) LocalAddr() net.Addr  { return p.pc.LocalAddr() }
func (p *packetPeer) Begin()               {}
func (p *packetPeer) End()                 {}
func (p *packetPeer) Closed() bool         { return false }

func (s *Server) isStopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

// StopAccepting closes every listener (stream servers stop accepting);
// connections already accepted and datagram sockets keep serving, so calls
// in flight can finish and be answered.
func (s *Server) StopAccepting() {
	s.mu.Lock()
	s.stopped = true
	lns := make([]net.Listener, 0, len(s.listeners))
	for ln := range s.listeners {
		lns = append(lns, ln)
	}
	s.mu.Unlock()
	for _, ln := range lns {
		ln.Close()
	}
}

// Conns returns the open stream connections.
func (s *Server) Conns() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

// Drain waits, at most d, until no connection has bytes queued for writing.
func (s *Server) Drain(d time.Duration) {
	deadline := time.Now().Add(d)
	for _, c := range s.Conns() {
		for c.Queued() > 0 && !c.Closed() && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// Close stops accepting, closes every connection and datagram socket, and
// waits until every loop has returned or ctx is done.
func (s *Server) Close(ctx context.Context) error {
	s.StopAccepting()
	s.mu.Lock()
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	pcs := make([]net.PacketConn, 0, len(s.packets))
	for pc := range s.packets {
		pcs = append(pcs, pc)
	}
	if s.stop != nil {
		select {
		case <-s.stop:
		default:
			close(s.stop)
		}
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	for _, pc := range pcs {
		pc.Close()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// NumConns returns the number of open stream connections.
func (s *Server) NumConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}
