//go:build unix

package transport

import (
	"net"
	"syscall"
)

var errTooManyFiles error = syscall.EMFILE

// rawConn returns the descriptor access of a plain socket, for writes that
// must not block; nil for anything else (TLS, pipes).
func rawConn(nc net.Conn) syscall.RawConn {
	var sc syscall.Conn
	switch c := nc.(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	default:
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// fdReserve holds a spare descriptor (a duplicate of the listener's) so that
// a server out of descriptors can still accept a pending connection and
// close it at once, refusing it, instead of leaving it to hang in the
// backlog.
type fdReserve struct {
	ln net.Listener
	fd int
}

func newFDReserve(ln net.Listener) *fdReserve {
	r := &fdReserve{ln: ln, fd: -1}
	r.restore()
	return r
}

func (r *fdReserve) restore() {
	if r.fd >= 0 {
		return
	}
	sc, ok := r.ln.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		if nfd, err := syscall.Dup(int(fd)); err == nil {
			syscall.CloseOnExec(nfd)
			r.fd = nfd
		}
	})
}

// free gives the spare descriptor up; it reports false when there is none.
func (r *fdReserve) free() bool {
	if r.fd < 0 {
		return false
	}
	syscall.Close(r.fd)
	r.fd = -1
	return true
}

func (r *fdReserve) close() { r.free() }

// noWaitWriter writes without waiting, through a function value made once
// per connection (a closure per write would allocate).
type noWaitWriter struct {
	rc      syscall.RawConn
	b       []byte
	written int
	err     error
	fn      func(fd uintptr) bool
}

func newNoWaitWriter(rc syscall.RawConn) *noWaitWriter {
	if rc == nil {
		return nil
	}
	w := &noWaitWriter{rc: rc}
	w.fn = w.write
	return w
}

func (w *noWaitWriter) write(fd uintptr) bool {
	for w.written < len(w.b) {
		n, err := syscall.Write(int(fd), w.b[w.written:])
		if n > 0 {
			w.written += n
		}
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return true
		case err != nil:
			w.err = err
			return true
		case n == 0:
			return true
		}
	}
	return true
}

// writeNoWait writes as much of b as the socket takes now, without
// waiting. One writer at a time.
func (w *noWaitWriter) writeNoWait(b []byte) (int, error) {
	w.b, w.written, w.err = b, 0, nil
	err := w.rc.Write(w.fn)
	n, werr := w.written, w.err
	w.b = nil
	if err != nil {
		return n, err
	}
	return n, werr
}
