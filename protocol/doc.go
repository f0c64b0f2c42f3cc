// Package protocol implements the TARS RPC packets and their framing: the
// RequestPacket and ResponsePacket structs of RequestF.tars, the 4-byte
// big-endian length prefix that frames them on a stream, the return codes and
// flags of BaseF.tars, and the TUP (version 3) UniAttribute body.
//
// The bytes written are exactly those that TarsGo's generated requestf code
// writes (every field of RequestPacket; every require field of ResponsePacket
// and its optional sResultDesc and context only when non-empty), with one
// refinement: map entries are written in ascending key order, as TarsCpp's
// std::map writes them, rather than in Go's random map order, so the output is
// deterministic. Decoding accepts what TarsGo, TarsCpp, TarsJava and @tars/rpc
// send: fields in any order, unknown tags skipped, sBuffer as a SIMPLE_LIST or
// as a LIST of bytes. No input makes a decoder panic, and allocations are
// bounded by the input.
//
// The package knows nothing of sockets: it turns packets into frames and
// frames into packets. Package codec provides the stream primitives it uses.
//
// # Frames
//
// A frame is a 4-byte big-endian length that counts itself, followed by one
// packet encoded as a TARS struct without STRUCT_BEGIN/END. Everything in
// this package that takes or returns a frame means the whole frame, length
// prefix included: AppendRequest appends one, SplitFrame and FrameReader find
// one in a stream, DecodeRequest and DecodeResponse read one.
//
// # Performance
//
// Encoding appends to a caller-owned slice and allocates nothing else.
// Decoding allocates only the context and status maps when they are non-empty:
// Buffer aliases the frame, and servant and function names (and map keys) are
// interned in a bounded process-wide table, so a server that sees the same
// names over and over does not allocate strings for them.
package protocol
