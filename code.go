package tars

import "github.com/gotars/tars/protocol"

// Code is a TARS return code: the iRet of a response. The negative values
// are the framework's own; any other non-zero value is a service's own error
// code, chosen by a handler that returns an *Error.
type Code = protocol.Code

// The framework's return codes (BaseF.tars).
const (
	CodeSuccess            = protocol.CodeSuccess            // the call succeeded
	CodeServerDecodeErr    = protocol.CodeServerDecodeErr    // the server could not decode the request
	CodeServerEncodeErr    = protocol.CodeServerEncodeErr    // the server could not encode the response
	CodeServerNoFuncErr    = protocol.CodeServerNoFuncErr    // no such function on the servant
	CodeServerNoServantErr = protocol.CodeServerNoServantErr // no such servant on the server
	CodeServerQueueTimeout = protocol.CodeServerQueueTimeout // the request waited past its timeout and was not run
	CodeInvokeTimeout      = protocol.CodeInvokeTimeout      // the call timed out
	CodeProxyConnectErr    = protocol.CodeProxyConnectErr    // the client could not connect to any endpoint
	CodeServerOverload     = protocol.CodeServerOverload     // the server's queue is full
	CodeAdapterNull        = protocol.CodeAdapterNull        // the client has no endpoint to call
	CodeClientDecodeErr    = protocol.CodeClientDecodeErr    // the client could not decode the response
	CodeSendRequestErr     = protocol.CodeSendRequestErr     // the request could not be sent, or its connection was lost
	CodeServerUnknownErr   = protocol.CodeServerUnknownErr   // any other server failure (a handler's plain error, a panic)
)

// Packet versions: a server answers in the version the request came in; a
// client picks one with WithVersion.
const (
	VersionTARS = protocol.VersionTARS // parameters by tag (the default)
	VersionTUP  = protocol.VersionTUP  // parameters by name in a UniAttribute map
	VersionJSON = protocol.VersionJSON // parameters by name in a JSON object
)
