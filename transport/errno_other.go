//go:build !unix

package transport

import "errors"

var errTooManyFiles = errors.New("transport: too many open files")
