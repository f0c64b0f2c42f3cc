// Package tars is gotars: a code-first framework for the TARS RPC protocol.
//
// A TARS struct is a plain Go struct whose fields carry `tars:"N"` tags (see
// package codec/reflectcodec and docs/type-mapping.md); a TARS method is an
// Endpoint, declared once at package level:
//
//	var UserService = tars.NewService("UserService")
//
//	type GetUserArgs struct {
//		UserID int32 `tars:"1,name=userId"` // in parameters: tags 1..n
//	}
//
//	// UserInfo getUser(int userId)
//	var GetUser = tars.NewEndpoint[GetUserArgs, UserInfo](UserService, "getUser")
//
// A Server serves endpoints with typed handlers (Handle); a Client calls
// them (Endpoint.Call, Endpoint.Send). The bytes on the wire are those that
// TarsGo, TarsCpp, TarsJava and @tars/rpc peers exchange: packet versions
// TARS (1), TUP (3) and JSON (5), the TARS return codes (Code) and the
// request's context and status maps. Middleware wraps both sides with one
// signature (Middleware, Call).
//
// Nothing here starts goroutines, reads files or parses flags behind the
// user's back: every Server and Client is a value that the program builds,
// may have several of, and stops.
package tars
