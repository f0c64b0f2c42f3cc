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
//
// A call that timed out, locally or on the server (CodeInvokeTimeout), is
// errors.Is(err, context.DeadlineExceeded); a call its caller cancelled is
// errors.Is(err, context.Canceled) and has CodeInvokeTimeout too (the
// caller gave up; nothing is known of the server), never a server failure.
type Error struct {
	Code    Code   // the TARS return code (iRet)
	Message string // the description (sResultDesc)
	cause   error
}

// NewError returns an *Error with the given code and message.
func NewError(code Code, message string) *Error {
	return &Error{Code: code, Message: message}
}

// Errorf returns an *Error with the given code and a message formatted as
// fmt.Errorf formats it; an error given for %w stays its cause, for
// errors.Is and errors.As.
func Errorf(code Code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	e := &Error{Code: code, Message: err.Error()}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		e.cause = u.Unwrap()
	case interface{ Unwrap() []error }:
		e.cause = err
	}
	return e
}

// wrapError returns an *Error for code whose cause is err.
func wrapError(code Code, err error) *Error {
	return &Error{Code: code, Message: err.Error(), cause: err}
}

// Error formats the code and the message.
func (e *Error) Error() string {
	if e == nil {
		return "tars: <nil>"
	}
	if e.Message == "" {
		return "tars: " + e.Code.String()
	}
	return "tars: " + e.Code.String() + ": " + e.Message
}

// Unwrap returns the local cause of the error, if any: context.DeadlineExceeded
// or context.Canceled when the caller gave up, the network error for a lost
// connection, the error a handler wrapped with Errorf's %w.
func (e *Error) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.cause
}

// Is reports a timeout answered by the server (CodeInvokeTimeout without a
// local cause) as context.DeadlineExceeded.
func (e *Error) Is(target error) bool {
	return e != nil && target == context.DeadlineExceeded && e.Code == CodeInvokeTimeout && e.cause == nil
}

// CodeOf returns the TARS return code of err: CodeSuccess for nil (and for a
// nil *Error), the Code of an *Error, CodeInvokeTimeout for a context
// deadline or cancellation and CodeServerUnknownErr for anything else. It
// is also the code a server sends for a handler's error.
func CodeOf(err error) Code {
	if err == nil {
		return CodeSuccess
	}
	var te *Error
	if errors.As(err, &te) {
		if te == nil {
			return CodeSuccess
		}
		return te.Code
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return CodeInvokeTimeout
	}
	return CodeServerUnknownErr
}

// toError turns any handler error into the *Error the server sends.
func toError(err error) *Error {
	var te *Error
	if errors.As(err, &te) && te != nil {
		return te
	}
	return wrapError(CodeOf(err), err)
}
