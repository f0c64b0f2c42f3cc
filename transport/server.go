package transport

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// ErrServerClosed is returned by Serve and ServePacket after Close or
// StopAccepting.
var ErrServerClosed = errors.New("transport: server closed")

// Server runs accept loops and the connections they accept, handing every
// frame to Handler. It does not interpret frames. The zero value is not
// usable: set Handler.
type Server struct {
	Handler      FrameFunc     // called from the connection's read loop
	MaxFrame     int           // DefaultMaxFrame when 0
	WriteTimeout time.Duration // bound on one socket write; none when 0
	// OnConnError, when set, is told why a connection was dropped (a
	// malformed frame, a read error); nil errors (clean closes) are not
	// reported.
	OnConnError func(remote net.Addr, err error)

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	packets   map[net.PacketConn]struct{}
	conns     map[*Conn]struct{}
	stopped   bool
	wg        sync.WaitGroup // accept loops and read loops
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
	}
	f()
	return true
}

// Serve accepts stream connections (TCP, or TLS through tls.NewListener) on
// ln until StopAccepting or Close; each connection is read in its own
// goroutine. It returns ErrServerClosed after a stop, or the accept error.
func (s *Server) Serve(ln net.Listener) error {
	if !s.track(true, func() { s.listeners[ln] = struct{}{}; s.wg.Add(1) }) {
		ln.Close()
		return ErrServerClosed
	}
	defer s.wg.Done()
	defer s.track(false, func() { delete(s.listeners, ln) })
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isStopped() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errTooManyFiles) {
				// Out of descriptors or a transient failure: back off.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		s.serveConn(nc)
	}
}

func (s *Server) serveConn(nc net.Conn) {
	c := NewConn(nc, ConnConfig{MaxFrame: s.MaxFrame, WriteTimeout: s.WriteTimeout, OnFrame: s.Handler})
	if !s.track(true, func() { s.conns[c] = struct{}{}; s.wg.Add(1) }) {
		nc.Close()
		return
	}
	go func() {
		defer s.wg.Done()
		err := c.Serve()
		s.track(false, func() { delete(s.conns, c) })
		if err != nil && s.OnConnError != nil && !s.isStopped() {
			s.OnConnError(nc.RemoteAddr(), err)
		}
	}()
}

// ServePacket reads datagrams from pc (UDP), one frame each, until Close;
// answers go back to the sender as single datagrams. Malformed datagrams are
// dropped. Frames are handled in the reading goroutine, one at a time: the
// Handler should hand work off quickly.
func (s *Server) ServePacket(pc net.PacketConn) error {
	if !s.track(true, func() { s.packets[pc] = struct{}{}; s.wg.Add(1) }) {
		pc.Close()
		return ErrServerClosed
	}
	defer s.wg.Done()
	defer s.track(false, func() { delete(s.packets, pc) })
	buf := make([]byte, 65536)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			if s.isStopped() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		maxFrame := s.MaxFrame
		if maxFrame <= 0 {
			maxFrame = DefaultMaxFrame
		}
		dispatchDatagram(buf[:n], maxFrame, s.Handler, &packetPeer{pc: pc, addr: addr, timeout: s.WriteTimeout})
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
func (p *packetPeer) RemoteAddr() net.Addr { return p.addr }
func (p *packetPeer) LocalAddr() net.Addr  { return p.pc.LocalAddr() }

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
