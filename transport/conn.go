package transport

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/gotars/tars/protocol"
)

// DefaultMaxFrame is the largest frame accepted unless configured otherwise:
// TarsGo's default, 10,485,760 bytes.
const DefaultMaxFrame = protocol.DefaultMaxPacket

// HeaderLen is the length of the frame header: a big-endian uint32 that
// counts itself and the packet.
const HeaderLen = 4

// ErrClosed is returned by writes on a closed connection.
var ErrClosed = errors.New("transport: connection closed")

// ErrSlowPeer closes a connection whose peer does not read what we write.
var ErrSlowPeer = errors.New("transport: peer does not read; write queue full")

// A malformed frame header closes the connection with a *protocol.FrameError
// wrapping protocol.ErrFrameTooShort or protocol.ErrFrameTooLarge.

// Peer is where a received frame came from and where its answer goes.
type Peer interface {
	// Write sends one whole frame (header included) to the peer. It may
	// return before the bytes reach the socket; a failed write closes the
	// connection and later writes return the error.
	Write(frame []byte) error
	// RemoteAddr is the peer's address.
	RemoteAddr() net.Addr
	// LocalAddr is our side's address.
	LocalAddr() net.Addr
}

// FrameFunc receives each frame read from a connection, header included. The
// slice is only valid during the call: copy what must outlive it.
type FrameFunc func(p Peer, frame []byte)

// ConnConfig configures a Conn.
type ConnConfig struct {
	MaxFrame     int           // largest frame accepted; DefaultMaxFrame when 0
	WriteTimeout time.Duration // bound on one socket write; none when 0
	// MaxQueued bounds the bytes queued for writing and not yet written: a
	// peer that stops reading while we keep producing is disconnected with
	// ErrSlowPeer instead of growing the queue without end. Default: the
	// larger of 32 MiB and 4 × MaxFrame.
	MaxQueued int
	// OnFrame is called from the read loop for every frame.
	OnFrame FrameFunc
	// OnClose is called once, after the connection has closed, with the
	// error that closed it (nil after Close).
	OnClose func(c *Conn, err error)
}

const (
	initialReadBuf = 4 << 10  // idle connections stay small
	keepWriteBuf   = 64 << 10 // larger write buffers are dropped once flushed
)

// Conn is one framed stream (or connected datagram) connection. Reads run in
// the goroutine that calls Serve. Writes from many goroutines are combined:
// the writer that finds the connection idle writes everything queued behind
// it in one system call, so a busy connection makes few, large writes and no
// dedicated writer goroutine exists.
type Conn struct {
	nc     net.Conn
	cfg    ConnConfig
	packet bool // one frame per datagram (UDP)

	wmu      sync.Mutex
	wbuf     []byte // queued, not yet written
	spare    []byte
	flushing bool
	werr     error

	closeOnce sync.Once
	closed    chan struct{}
	cerr      error
}

// NewConn wraps nc. Call Serve to read from it. A *net.UDPConn (connected,
// from net.DialUDP) carries one frame per datagram.
func NewConn(nc net.Conn, cfg ConnConfig) *Conn {
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = DefaultMaxFrame
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = max(32<<20, 4*cfg.MaxFrame)
	}
	_, packet := nc.(*net.UDPConn)
	return &Conn{nc: nc, cfg: cfg, packet: packet, closed: make(chan struct{})}
}

// RemoteAddr returns the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// LocalAddr returns our address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// Done is closed when the connection has closed.
func (c *Conn) Done() <-chan struct{} { return c.closed }

// Err returns the error that closed the connection, nil while it is open or
// after a plain Close.
func (c *Conn) Err() error {
	select {
	case <-c.closed:
		return c.cerr
	default:
		return nil
	}
}

// Close closes the connection. Frames queued but not yet written are dropped.
func (c *Conn) Close() error {
	c.fail(nil)
	return nil
}

func (c *Conn) fail(err error) {
	c.closeOnce.Do(func() {
		c.cerr = err
		c.wmu.Lock()
		if c.werr == nil {
			c.werr = ErrClosed
			if err != nil {
				c.werr = fmt.Errorf("%w: %w", ErrClosed, err)
			}
		}
		c.wmu.Unlock()
		c.nc.Close()
		close(c.closed)
		if c.cfg.OnClose != nil {
			c.cfg.OnClose(c, err)
		}
	})
}

// Write queues one whole frame (header included) and, unless another writer
// is already flushing, writes everything queued. See Peer.Write.
func (c *Conn) Write(frame []byte) error {
	if c.packet {
		return c.writeDatagram(frame)
	}
	c.wmu.Lock()
	if c.werr != nil {
		err := c.werr
		c.wmu.Unlock()
		return err
	}
	if len(c.wbuf)+len(frame) > c.cfg.MaxQueued {
		c.wmu.Unlock()
		c.fail(ErrSlowPeer)
		return ErrSlowPeer
	}
	c.wbuf = append(c.wbuf, frame...)
	if c.flushing {
		c.wmu.Unlock()
		return nil
	}
	c.flushing = true
	// Give the goroutines that are about to write a moment to queue their
	// frames behind ours: one write for many frames saves a system call
	// (and a wake-up of the reader) per frame under load, and costs next
	// to nothing when nothing else is runnable.
	c.wmu.Unlock()
	runtime.Gosched()
	c.wmu.Lock()
	for len(c.wbuf) > 0 {
		out := c.wbuf
		c.wbuf = c.spare[:0]
		c.spare = nil
		c.wmu.Unlock()
		if c.cfg.WriteTimeout > 0 {
			c.nc.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
		}
		_, err := c.nc.Write(out)
		c.wmu.Lock()
		if cap(out) <= keepWriteBuf {
			c.spare = out[:0]
		}
		if err != nil {
			c.flushing = false
			c.wbuf = nil
			c.wmu.Unlock()
			c.fail(err)
			return err
		}
	}
	c.flushing = false
	if cap(c.wbuf) > keepWriteBuf {
		c.wbuf = nil
	}
	c.wmu.Unlock()
	return nil
}

func (c *Conn) writeDatagram(frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil {
		return c.werr
	}
	if c.cfg.WriteTimeout > 0 {
		c.nc.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
	}
	_, err := c.nc.Write(frame)
	return err
}

// Serve reads frames and hands each to OnFrame until the connection fails or
// is closed; then it closes the connection and returns the error (nil after
// Close or a clean EOF). A malformed frame header is a *protocol.FrameError.
func (c *Conn) Serve() error {
	var err error
	if c.packet {
		err = c.serveDatagrams()
	} else {
		err = c.serveStream()
	}
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		err = nil
	}
	c.fail(err)
	return c.Err()
}

func (c *Conn) serveStream() error {
	buf := make([]byte, initialReadBuf)
	start, end := 0, 0
	for {
		// Hand over every whole frame in buf[start:end].
		need := HeaderLen
		for end-start >= HeaderLen {
			n, err := protocol.FrameLen(buf[start:end], c.cfg.MaxFrame)
			if err != nil {
				return err
			}
			if end-start < n {
				need = n
				break
			}
			c.cfg.OnFrame(c, buf[start:start+n])
			start += n
		}
		if start == end {
			start, end = 0, 0
			if len(buf) > initialReadBuf { // a large frame has passed
				buf = make([]byte, initialReadBuf)
			}
		}
		if need > len(buf)-start { // make room: move to the front, then grow
			if start > 0 {
				end = copy(buf, buf[start:end])
				start = 0
			}
			if end == len(buf) {
				// Grow by doubling, so that a header claiming a huge frame
				// costs memory only as its bytes actually arrive.
				nb := make([]byte, min(need, 2*len(buf)))
				copy(nb, buf[:end])
				buf = nb
			}
		}
		n, err := c.nc.Read(buf[end:])
		end += n
		if err != nil {
			if errors.Is(err, io.EOF) && end > start {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
}

func (c *Conn) serveDatagrams() error {
	buf := make([]byte, 65536)
	for {
		n, err := c.nc.Read(buf)
		if err != nil {
			return err
		}
		dispatchDatagram(buf[:n], c.cfg.MaxFrame, c.cfg.OnFrame, c)
	}
}

// dispatchDatagram hands over the frame in one datagram; malformed datagrams
// are dropped (UDP has no connection to close).
func dispatchDatagram(d []byte, max int, fn FrameFunc, p Peer) {
	n, err := protocol.FrameLen(d, max)
	if err != nil || n == 0 || n != len(d) {
		return
	}
	fn(p, d)
}
