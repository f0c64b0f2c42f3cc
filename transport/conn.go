package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotars/tars/protocol"
)

// HeaderLen is the length of the frame header: a big-endian uint32 that
// counts itself and the packet.
const HeaderLen = 4

// ErrClosed is returned by writes on a closed connection.
var ErrClosed = errors.New("transport: connection closed")

// ErrQueueFull is returned by Write on a client-side connection whose unsent
// bytes have reached ConnConfig.MaxQueued: the peer is not reading as fast
// as we write. The connection stays open.
var ErrQueueFull = errors.New("transport: write queue full; the peer is not reading")

// ErrIdle closes a connection that was idle for longer than the idle timeout.
var ErrIdle = errors.New("transport: connection idle past the idle timeout")

// ErrFrameTimeout closes a connection whose peer did not complete a frame
// within the frame timeout after it began.
var ErrFrameTimeout = errors.New("transport: frame not completed within the frame timeout")

// A malformed frame header closes the connection with a *protocol.FrameError
// wrapping protocol.ErrFrameTooShort or protocol.ErrFrameTooLarge.

// Peer is where a received frame came from and where its answer goes.
type Peer interface {
	// Write queues one whole frame (header included) for the peer and
	// returns without waiting for the socket. A failed write closes the
	// connection and later writes return the error.
	Write(frame []byte) error
	// WriteThen is Write, calling q.Queued() once the frame is queued and
	// before any of it is written (a server gives a handler's place back
	// there: the answer cannot reach its caller before).
	WriteThen(frame []byte, q Queued) error
	// RemoteAddr is the peer's address.
	RemoteAddr() net.Addr
	// LocalAddr is our side's address.
	LocalAddr() net.Addr
	// Begin marks a request from the peer as in progress, End as finished
	// (answered or dropped). A connection with requests in progress is
	// not closed as idle, and stops reading while ConnConfig.MaxRequests
	// are in progress.
	Begin()
	End()
	// Closed reports whether the connection has closed: work for the peer
	// can be dropped.
	Closed() bool
}

// Queued is told that a frame is queued (Peer.WriteThen).
type Queued interface{ Queued() }

// Frame is one frame handed to a FrameFunc.
type Frame struct {
	// Data is the frame, header included. It is only valid during the
	// call; use Keep for bytes that outlive it.
	Data   []byte
	owned  bool // the connection gave Data up
	lease  int  // budget bytes Data holds until Done
	budget *Budget
}

// Keep returns the frame's bytes for use after the FrameFunc returns: Data
// itself when the connection has given it up (a large frame read into a
// buffer of its own), else a copy.
func (f *Frame) Keep() []byte {
	if f.owned {
		return f.Data
	}
	return append([]byte(nil), f.Data...)
}

// Done returns the memory budget the frame holds; call it once, when the
// request the frame carried is finished.
func (f *Frame) Done() {
	if f.lease > 0 {
		f.budget.release(f.lease)
		f.lease = 0
	}
}

// FrameFunc receives each frame read from a connection.
type FrameFunc func(p Peer, f Frame)

// ConnConfig configures a Conn.
type ConnConfig struct {
	MaxFrame     int           // largest frame accepted; protocol.DefaultMaxPacket when 0
	WriteTimeout time.Duration // bound on one blocking socket write; none when 0
	// MaxQueued bounds the bytes queued for writing and not yet written.
	// On a server connection (ServerMode) reading pauses while more are
	// queued, so a slow reader is slowed, not dropped; on a client
	// connection Write refuses new frames with ErrQueueFull. Default 1 MiB
	// for servers, the larger of 32 MiB and 4 × MaxFrame for clients.
	MaxQueued int
	// MaxRequests pauses reading while that many requests are in progress
	// (Peer.Begin/End); 0 for no limit.
	MaxRequests int
	// ServerMode makes the read loop write what writers could not write
	// at once, pausing reads meanwhile: a server connection then costs one
	// goroutine whatever its peer does. Otherwise a short-lived goroutine
	// writes it, so a client keeps reading answers while it writes.
	ServerMode bool
	// Budget, when set, is charged for buffers of partial and received
	// frames beyond the initial read buffer, and for queued writes.
	Budget *Budget
	// OnFrame is called from the read loop for every frame.
	OnFrame FrameFunc
	// OnClose is called once, after the connection has closed, with the
	// error that closed it (nil after Close).
	OnClose func(c *Conn, err error)
	// OnOversize, when set, makes a frame larger than MaxFrame no error:
	// it is called with the frame's first bytes (up to 64, header
	// included) and its size, and the frame's bytes are then read and
	// dropped without being buffered. Without it such a frame closes the
	// connection.
	OnOversize func(head []byte, size int)
}

const (
	largeReadChunk = 64 << 10 // the most read at once
	initialReadBuf = 4 << 10  // idle connections stay small
	keepWriteBuf   = 64 << 10 // larger write buffers are dropped once flushed
)

// Conn is one framed stream (or connected datagram) connection. Reads run in
// the goroutine that calls Serve. Writes from many goroutines are combined:
// the writer that finds the connection idle writes everything queued behind
// it in one system call, without blocking; what the socket does not take at
// once is written by the read loop (ServerMode) or by a short-lived
// goroutine, never by a caller of Write.
type Conn struct {
	nc     net.Conn
	raw    *noWaitWriter // for writes that must not block; nil when nc has none
	cfg    ConnConfig
	packet bool // one frame per datagram (UDP)

	wmu      sync.Mutex
	wbuf     []byte // queued, not yet written
	spare    []byte
	flushing bool // a writer owns the socket; guarded by wmu
	werr     error
	queued   atomic.Int64 // bytes queued or being written

	holds    atomic.Int32  // requests in progress
	wake     chan struct{} // wakes a paused read loop
	flushReq atomic.Bool   // the read loop is to write the queue (ServerMode)
	reading  atomic.Bool   // the read loop is (about to be) in Read

	// active is set by reads and writes and cleared by whoever watches
	// for idleness (the server's reaper, the client's idle timer) at each
	// look, so that the hot paths read no clock and, while it is set, write
	// no shared cache line either.
	active    atomic.Bool
	idleSince int64 // the watcher's: unix nanoseconds since the last look that saw activity
	// The frame timeout counts only the time spent waiting for the peer
	// in Read while a frame is unfinished, not the time we are busy or
	// paused: the peer is not to blame for those.
	framePending atomic.Bool
	frameSpent   atomic.Int64 // nanoseconds spent in Read on the unfinished frame
	readStart    atomic.Int64 // unix nanoseconds when the Read in progress began, 0 when none

	closeOnce sync.Once
	closed    chan struct{}
	isClosed  atomic.Bool
	cerr      error
}

// NewConn wraps nc. Call Serve to read from it. A *net.UDPConn (connected,
// from net.DialUDP) carries one frame per datagram.
func NewConn(nc net.Conn, cfg ConnConfig) *Conn {
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = protocol.DefaultMaxPacket
	}
	if cfg.MaxQueued <= 0 {
		if cfg.ServerMode {
			cfg.MaxQueued = 1 << 20
		} else {
			cfg.MaxQueued = max(32<<20, 4*cfg.MaxFrame)
		}
	}
	_, packet := nc.(*net.UDPConn)
	c := &Conn{nc: nc, cfg: cfg, packet: packet, closed: make(chan struct{}), wake: make(chan struct{}, 1)}
	c.raw = newNoWaitWriter(rawConn(nc))
	c.idleSince = time.Now().UnixNano()
	return c
}

// MaxFrame returns the largest frame the connection accepts.
func (c *Conn) MaxFrame() int { return c.cfg.MaxFrame }

// RemoteAddr returns the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// LocalAddr returns our address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// NetConn returns the underlying connection (a *tls.Conn for TLS).
func (c *Conn) NetConn() net.Conn { return c.nc }

// Done is closed when the connection has closed.
func (c *Conn) Done() <-chan struct{} { return c.closed }

// Closed reports whether the connection has closed.
func (c *Conn) Closed() bool { return c.isClosed.Load() }

// Begin marks a request as in progress (see Peer).
func (c *Conn) Begin() { c.holds.Add(1) }

// End marks a request as finished (see Peer).
func (c *Conn) End() {
	n := c.holds.Add(-1)
	if c.cfg.MaxRequests > 0 && int(n) == c.cfg.MaxRequests-1 {
		c.signal()
	}
	if n == 0 {
		c.touch()
	}
}

// Requests returns the number of requests in progress.
func (c *Conn) Requests() int { return int(c.holds.Load()) }

// Queued returns the bytes queued for writing and not yet written.
func (c *Conn) Queued() int { return int(c.queued.Load()) }

// Idle returns how long the connection has been idle: nothing in progress,
// nothing queued, no frame begun, nothing read or written; 0 when it is
// busy. It is for one watcher at a time (the server's reaper, a client's
// idle timer), which should call it at least as often as the precision it
// wants.
func (c *Conn) Idle(now time.Time) time.Duration {
	active := c.active.Swap(false)
	busy := c.holds.Load() > 0 || c.queued.Load() > 0 || c.framePending.Load()
	if busy || active {
		c.idleSince = now.UnixNano()
		return 0
	}
	return time.Duration(now.UnixNano() - c.idleSince)
}

// FrameAge returns how long the connection has waited for its peer to
// complete the unfinished frame (time spent reading it; not the time spent
// handling frames or paused), 0 when none.
func (c *Conn) FrameAge(now time.Time) time.Duration {
	if !c.framePending.Load() {
		return 0
	}
	d := c.frameSpent.Load()
	if rs := c.readStart.Load(); rs != 0 {
		d += now.UnixNano() - rs
	}
	return time.Duration(d)
}

// touch notes activity: a load, and a store only when the watcher has
// cleared the flag since.
func (c *Conn) touch() {
	if !c.active.Load() {
		c.active.Store(true)
	}
}

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

// CloseWithError closes the connection with err as its cause (Err, OnClose).
func (c *Conn) CloseWithError(err error) { c.fail(err) }

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
		// Drop what is queued; bytes a writer has taken are accounted for
		// when its write returns.
		c.dequeued(len(c.wbuf))
		c.wbuf = nil
		c.wmu.Unlock()
		c.isClosed.Store(true)
		c.nc.Close()
		close(c.closed)
		if c.cfg.OnClose != nil {
			c.cfg.OnClose(c, err)
		}
	})
}

// failWrite closes the connection after a failed write and returns why it
// closed: the first cause wins (the read loop may have closed it first, on
// a TLS alert, leaving the write a bare "use of closed network
// connection").
func (c *Conn) failWrite(err error) error {
	c.fail(err)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.werr
}

// queueFree is how much of a connection's write queue the memory budget
// does not see: small queues come and go with every answer, and charging
// them would make every write touch the budget's shared counter.
const queueFree = 64 << 10

// overFree is what of a queue of q bytes the budget is charged for.
func overFree(q int64) int64 { return max(0, q-queueFree) }

func (c *Conn) enqueued(n int) {
	q := c.queued.Add(int64(n))
	if d := overFree(q) - overFree(q-int64(n)); d > 0 {
		c.cfg.Budget.force(int(d))
	}
}

func (c *Conn) dequeued(n int) {
	q := c.queued.Add(-int64(n))
	if d := overFree(q+int64(n)) - overFree(q); d > 0 {
		c.cfg.Budget.release(int(d))
	}
	if c.cfg.ServerMode && q <= int64(c.cfg.MaxQueued) && q+int64(n) > int64(c.cfg.MaxQueued) {
		c.signal() // the read loop may be paused on the queue
	}
}

// signal wakes the read loop if it is paused.
func (c *Conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Write queues one whole frame (header included) and, unless another writer
// is already writing, writes everything queued without blocking. It never
// waits for the peer. See Peer.Write.
func (c *Conn) Write(frame []byte) error { return c.WriteThen(frame, nil) }

// WriteThen is Write, calling q.Queued() (when q is not nil) once the frame
// is queued, before any of it is written. See Peer.WriteThen.
func (c *Conn) WriteThen(frame []byte, q Queued) error {
	if c.packet {
		if q != nil {
			q.Queued()
		}
		return c.writeDatagram(frame)
	}
	c.wmu.Lock()
	if c.werr != nil {
		err := c.werr
		c.wmu.Unlock()
		if q != nil {
			q.Queued()
		}
		return err
	}
	if !c.cfg.ServerMode && len(c.wbuf) > 0 && c.queued.Load() >= int64(c.cfg.MaxQueued) {
		c.wmu.Unlock()
		if q != nil {
			q.Queued()
		}
		return ErrQueueFull
	}
	c.wbuf = append(c.wbuf, frame...)
	c.enqueued(len(frame))
	if c.flushing {
		c.wmu.Unlock()
		if q != nil {
			q.Queued()
		}
		return nil
	}
	c.flushing = true
	// Give the goroutines that are about to write a moment to queue their
	// frames behind ours: one write for many frames saves a system call
	// (and a wake-up of the reader) per frame under load, and costs next
	// to nothing when nothing else is runnable.
	c.wmu.Unlock()
	if q != nil {
		q.Queued() // we own the flush: nothing is written before this
	}
	runtime.Gosched()
	return c.flushNow()
}

// flushNow writes the queue as far as the socket takes it without blocking;
// the rest goes to the blocking writer. The caller owns c.flushing.
func (c *Conn) flushNow() error {
	c.wmu.Lock()
	for len(c.wbuf) > 0 {
		if c.raw == nil {
			break
		}
		out := c.wbuf
		c.wbuf = c.spare[:0]
		c.spare = nil
		c.wmu.Unlock()
		n, err := c.raw.writeNoWait(out)
		c.wmu.Lock()
		if n > 0 {
			c.dequeued(n)
		}
		if err != nil {
			c.flushing = false
			c.dropQueueLocked(len(out) - n)
			c.wmu.Unlock()
			return c.failWrite(err)
		}
		if n < len(out) { // the socket is full: put the rest back in front
			rest := append(out[:0], out[n:]...)
			c.wbuf = append(rest, c.wbuf...)
			break
		}
		if cap(out) <= keepWriteBuf {
			c.spare = out[:0]
		}
	}
	if len(c.wbuf) == 0 {
		c.flushing = false
		if cap(c.wbuf) > keepWriteBuf {
			c.wbuf = nil
		}
		c.wmu.Unlock()
		c.touch()
		return nil
	}
	c.wmu.Unlock()
	// The rest needs a writer that may block.
	if c.cfg.ServerMode {
		c.flushReq.Store(true)
		c.signal()
		if c.reading.Load() {
			c.nc.SetReadDeadline(aLongTimeAgo) // interrupt the read loop's Read
		}
	} else {
		go c.flushBlocking()
	}
	return nil
}

var aLongTimeAgo = time.Unix(1, 0)

// dropQueueLocked forgets the queue after a failed write: out holds n bytes
// that were taken from the queue and not written.
func (c *Conn) dropQueueLocked(n int) {
	c.dequeued(n + len(c.wbuf))
	c.wbuf = nil
}

// flushBlocking writes the whole queue, each write bounded by the write
// timeout; a failed write closes the connection. The caller owns
// c.flushing.
func (c *Conn) flushBlocking() error {
	c.wmu.Lock()
	for len(c.wbuf) > 0 {
		out := c.wbuf
		c.wbuf = c.spare[:0]
		c.spare = nil
		c.wmu.Unlock()
		if c.cfg.WriteTimeout > 0 {
			c.nc.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
		}
		n, err := c.nc.Write(out)
		c.wmu.Lock()
		if n > 0 {
			c.dequeued(n)
		}
		if err != nil {
			c.flushing = false
			c.dropQueueLocked(len(out) - n)
			c.wmu.Unlock()
			return c.failWrite(err)
		}
		if cap(out) <= keepWriteBuf {
			c.spare = out[:0]
		}
	}
	c.flushing = false
	if cap(c.wbuf) > keepWriteBuf {
		c.wbuf = nil
	}
	c.wmu.Unlock()
	if c.cfg.WriteTimeout > 0 {
		// A deadline left set would fail the next write that must not
		// wait, at once, once it passes.
		c.nc.SetWriteDeadline(time.Time{})
	}
	c.touch()
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
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || c.isClosed.Load() {
		err = nil
	}
	c.fail(err)
	return c.Err()
}

// paused reports whether the read loop must wait before it reads more.
func (c *Conn) paused() bool {
	if c.cfg.MaxRequests > 0 && int(c.holds.Load()) >= c.cfg.MaxRequests {
		return true
	}
	return c.cfg.ServerMode && c.queued.Load() > int64(c.cfg.MaxQueued)
}

// await writes the queue when asked to and waits while reading is paused.
// It returns an error when the connection failed or closed.
func (c *Conn) await() error {
	for {
		if c.flushReq.Swap(false) {
			if err := c.flushBlocking(); err != nil {
				return err
			}
		}
		if !c.paused() {
			return nil
		}
		select {
		case <-c.wake:
		case <-c.closed:
			return net.ErrClosed
		}
	}
}

// grow returns a buffer of size holding buf[:end], charging the budget for
// what exceeds the initial read buffer; it waits (reading paused) while the
// budget has no room.
func (c *Conn) grow(buf []byte, end, size int, reserved *int) ([]byte, error) {
	want := size - initialReadBuf - *reserved
	if b := c.cfg.Budget; b != nil && want > 0 {
		if int64(size) > b.limit {
			return nil, fmt.Errorf("transport: a frame of %d bytes exceeds the memory budget of %d", size, b.limit)
		}
		var t *time.Timer
		for !b.reserve(want) {
			if t == nil {
				t = time.NewTimer(5 * time.Millisecond)
				defer t.Stop()
			} else {
				t.Reset(5 * time.Millisecond)
			}
			start := time.Now()
			select {
			case <-t.C:
			case <-c.closed:
				return nil, net.ErrClosed
			}
			// The wait counts toward the frame timeout: the partial frame
			// holds its buffer meanwhile.
			c.frameSpent.Add(time.Since(start).Nanoseconds())
		}
		*reserved += want
	}
	nb := make([]byte, size)
	copy(nb, buf[:end])
	return nb, nil
}

func (c *Conn) serveStream() error {
	buf := make([]byte, initialReadBuf)
	start, end := 0, 0
	reserved := 0 // budget charged for buf beyond initialReadBuf
	defer func() { c.cfg.Budget.release(reserved) }()
	skip := 0 // bytes of an oversize frame still to drop
	for {
		if skip > 0 {
			n := min(skip, end-start)
			start += n
			skip -= n
		}
		// Hand over every whole frame in buf[start:end].
		need := HeaderLen
		handed := false
		for skip == 0 && end-start >= HeaderLen {
			n, err := protocol.FrameLen(buf[start:end], c.cfg.MaxFrame)
			if err != nil {
				if c.cfg.OnOversize == nil || !errors.Is(err, protocol.ErrFrameTooLarge) {
					return err
				}
				size := int(binary.BigEndian.Uint32(buf[start:]))
				head := min(size, 64)
				if end-start < head {
					need = head
					break
				}
				c.cfg.OnOversize(buf[start:start+head], size)
				handed = true
				skip = size
				n := min(skip, end-start)
				start += n
				skip -= n
				continue
			}
			if end-start < n {
				need = n
				break
			}
			handed = true
			if start == 0 && n == len(buf) && reserved > 0 {
				// A frame that needed a buffer of its own: give the
				// buffer up with its budget rather than copy it.
				f := Frame{Data: buf[:n], owned: true, lease: reserved, budget: c.cfg.Budget}
				reserved = 0
				buf = make([]byte, initialReadBuf)
				start, end = 0, 0
				c.cfg.OnFrame(c, f)
				break
			}
			c.cfg.OnFrame(c, Frame{Data: buf[start : start+n]})
			start += n
		}
		if start == end {
			start, end = 0, 0
			if len(buf) > initialReadBuf { // a large frame has passed
				buf = make([]byte, initialReadBuf)
				c.cfg.Budget.release(reserved)
				reserved = 0
			}
		}
		switch {
		case end == start:
			c.framePending.Store(false)
		case handed || !c.framePending.Load():
			c.frameSpent.Store(0)
			c.framePending.Store(true)
		}
		if need > len(buf)-start { // make room: move to the front, then grow
			if start > 0 {
				end = copy(buf, buf[start:end])
				start = 0
			}
			if end == len(buf) {
				// Grow by four, so that a header claiming a huge frame
				// costs memory only as its bytes actually arrive, and a
				// large frame is copied little more than once.
				nb, err := c.grow(buf, end, min(need, 4*len(buf)), &reserved)
				if err != nil {
					return err
				}
				buf = nb
			}
		}
		if err := c.await(); err != nil {
			return err
		}
		c.reading.Store(true)
		if c.flushReq.Load() {
			c.reading.Store(false)
			continue
		}
		// Time spent waiting for the peer counts toward the frame timeout
		// only while a frame is unfinished (no clock read otherwise).
		var rs int64
		if c.framePending.Load() {
			rs = time.Now().UnixNano()
			c.readStart.Store(rs)
		}
		// A large frame is read in chunks, yielding between them (below),
		// so that its copying does not hold a thread for long.
		n, err := c.nc.Read(buf[end:min(len(buf), end+largeReadChunk)])
		if rs != 0 {
			c.readStart.Store(0)
			c.frameSpent.Add(time.Now().UnixNano() - rs)
		}
		c.reading.Store(false)
		if n > 0 {
			end += n
			c.touch()
			if n > initialReadBuf {
				// A large frame is arriving as fast as we read: let the
				// other connections' readers and the handlers run between
				// its reads, so that many large frames at once do not
				// delay every small call by whole scheduler slices.
				runtime.Gosched()
			}
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && !c.isClosed.Load() {
				// A writer interrupted the read to have the queue written.
				c.nc.SetReadDeadline(time.Time{})
				continue
			}
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
		c.touch()
		dispatchDatagram(buf[:n], c.cfg.MaxFrame, c.cfg.OnFrame, c)
	}
}

// dispatchDatagram hands over the frame in one datagram; malformed datagrams
// are dropped (UDP has no connection to close) and reported false.
func dispatchDatagram(d []byte, max int, fn FrameFunc, p Peer) bool {
	n, err := protocol.FrameLen(d, max)
	if err != nil || n == 0 || n != len(d) {
		return false
	}
	fn(p, Frame{Data: d})
	return true
}

// Budget bounds the memory that connections hold in frame buffers and write
// queues, across connections (a server's, typically). Reading pauses on a
// connection that needs more than the budget has left, until other
// connections give memory back or the frame timeout closes it.
type Budget struct {
	limit int64
	used  atomic.Int64
}

// NewBudget returns a budget of limit bytes.
func NewBudget(limit int64) *Budget { return &Budget{limit: limit} }

// Limit returns the budget's size in bytes.
func (b *Budget) Limit() int64 { return b.limit }

// Used returns the bytes charged now.
func (b *Budget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// TryReserve charges n bytes if the budget has room for them, and reports
// whether it did; Release gives them back.
func (b *Budget) TryReserve(n int) bool { return b.reserve(n) }

// Release gives back n bytes charged by TryReserve.
func (b *Budget) Release(n int) { b.release(n) }

func (b *Budget) reserve(n int) bool {
	if b == nil {
		return true
	}
	for {
		u := b.used.Load()
		if u+int64(n) > b.limit {
			return false
		}
		if b.used.CompareAndSwap(u, u+int64(n)) {
			return true
		}
	}
}

// force charges n bytes that cannot be refused (queued answers).
func (b *Budget) force(n int) {
	if b != nil {
		b.used.Add(int64(n))
	}
}

func (b *Budget) release(n int) {
	if b != nil && n != 0 {
		b.used.Add(-int64(n))
	}
}
