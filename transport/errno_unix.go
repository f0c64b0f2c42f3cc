//go:build unix

package transport

import "syscall"

var errTooManyFiles error = syscall.EMFILE
