package tars

import (
	"context"
	"errors"
	"fmt"
)

// Error is an RPC failure with its TARS return code: what a handler returns
// to choose the iRet and sResultDesc the caller sees, and what a caller gets
// back for any non-zero iRet, for timeouts and for connection failures. Use
// errors.As to get at it, or CodeOf.
type Error struct {
	Code    Code   // the TARS return code (iRet)
	Message string // the description (sResultDesc)
	cause   error
}

// NewError returns an *Error with the given code and message.
func NewError(code Code, message string) *Error {
	return &Error{Code: code, Message: message}
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// wrapError returns an *Error for code whose cause is err.
func wrapError(code Code, err error) *Error {
	return &Error{Code: code, Message: err.Error(), cause: err}
}

// Error formats the code and the message.
func (e *Error) Error() string {
	if e.Message == "" {
		return "tars: " + e.Code.String()
	}
	return "tars: " + e.Code.String() + ": " + e.Message
}

// Unwrap returns the local cause of the error, if any: context.DeadlineExceeded
// for a timeout, the network error for a lost connection.
func (e *Error) Unwrap() error { return e.cause }

// CodeOf returns the TARS return code of err: CodeSuccess for nil, the Code
// of an *Error, CodeInvokeTimeout for a context deadline and
// CodeServerUnknownErr for anything else. It is also the code a server sends
// for a handler's error.
func CodeOf(err error) Code {
	if err == nil {
		return CodeSuccess
	}
	var te *Error
	if errors.As(err, &te) {
		return te.Code
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return CodeInvokeTimeout
	}
	return CodeServerUnknownErr
}

// toError turns any handler error into the *Error the server sends.
func toError(err error) *Error {
	var te *Error
	if errors.As(err, &te) {
		return te
	}
	return wrapError(CodeOf(err), err)
}
