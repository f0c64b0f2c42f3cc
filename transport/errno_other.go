//go:build !unix

package transport

import (
	"errors"
	"net"
	"syscall"
)

var errTooManyFiles = errors.New("transport: too many open files")

// rawConn: without non-blocking writes here, every write that may block
// goes to the blocking writer.
func rawConn(net.Conn) syscall.RawConn { return nil }

type noWaitWriter struct{}

func newNoWaitWriter(syscall.RawConn) *noWaitWriter { return nil }

func (*noWaitWriter) writeNoWait([]byte) (int, error) { return 0, nil }

type fdReserve struct{ fd int }

func newFDReserve(net.Listener) *fdReserve { return &fdReserve{fd: -1} }
func (*fdReserve) restore()                {}
func (*fdReserve) free() bool              { return false }
func (*fdReserve) close()                  {}
