// Package codec implements the TARS stream encoding (also known as JCE): the
// head byte, the compact integer widths, strings, containers and structs,
// exactly as TarsGo, TarsCpp, TarsJava and @tars/rpc put them on the wire.
//
// A Writer appends values to a reusable []byte; a Reader reads them back from a
// []byte with every length and offset checked against the input, so no input
// can make it panic, loop or allocate more than the input justifies: decoders
// charge the Go memory they allocate to the Reader's budget, by default a
// small multiple of the input (DefaultBudget). Decoding
// errors are *Error values that name the expected and found wire types, the
// field tag and the byte offset.
//
// This package knows nothing of Go structs or RPC; package reflectcodec maps Go
// values onto it.
package codec

import (
	"math"
	"strconv"
)

// Type is the 4-bit wire type carried in the low nibble of a head byte.
type Type uint8

// The TARS wire types. The names follow TARS-PROTOCOL §1.
const (
	Int1        Type = 0  // 1-byte signed integer (also bool and byte)
	Int2        Type = 1  // 2-byte big-endian signed integer
	Int4        Type = 2  // 4-byte big-endian signed integer
	Int8        Type = 3  // 8-byte big-endian signed integer
	Float       Type = 4  // IEEE-754 single, 4 bytes
	Double      Type = 5  // IEEE-754 double, 8 bytes
	String1     Type = 6  // string with a 1-byte length
	String4     Type = 7  // string with a 4-byte length
	Map         Type = 8  // map: length field, then key (tag 0), value (tag 1) pairs
	List        Type = 9  // list: length field, then elements with tag 0
	StructBegin Type = 10 // start of a nested struct
	StructEnd   Type = 11 // end of a nested struct
	ZeroTag     Type = 12 // the number zero, no body
	SimpleList  Type = 13 // vector<byte>: an Int1 head, a length field, raw bytes
)

var typeNames = [...]string{
	Int1: "INT1", Int2: "INT2", Int4: "INT4", Int8: "INT8",
	Float: "FLOAT", Double: "DOUBLE", String1: "STRING1", String4: "STRING4",
	Map: "MAP", List: "LIST", StructBegin: "STRUCT_BEGIN", StructEnd: "STRUCT_END",
	ZeroTag: "ZERO_TAG", SimpleList: "SIMPLE_LIST",
}

// String returns the protocol's name for t, such as "INT4" or "SIMPLE_LIST".
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Valid reports whether t is one of the fourteen defined wire types.
func (t Type) Valid() bool { return t <= SimpleList }

// Head is a decoded head: the field tag and the wire type that follows.
type Head struct {
	Tag  uint8
	Type Type
}

// MaxTag is the largest field tag TARS can carry (tags ≥ 15 use a second byte).
const MaxTag = 255

// Limits bound what a Reader accepts, so that hostile input fails fast and
// cheaply. Lengths are always bounded by the bytes that remain in the input as
// well; these limits add caps below that. A zero field means "use the default".
type Limits struct {
	// MaxDepth bounds the nesting of structs, lists and maps. Default 100.
	MaxDepth int
	// MaxElements bounds the length of one list or map. Default 1<<20.
	MaxElements int
	// MaxBytes bounds the length of one string or byte vector. Default 1<<26 (64 MiB).
	MaxBytes int
}

// Default limits (see Limits).
const (
	DefaultMaxDepth    = 100
	DefaultMaxElements = 1 << 20
	DefaultMaxBytes    = 1 << 26
)

// The default decode budget (see Reader.SetBudget) for n bytes of input is
// DefaultBudgetFactor*n + DefaultBudgetSlack bytes of Go memory: decoded
// values a little larger than their encoding pass, while a hostile input
// whose decoding would cost many times its size (a list of empty strings
// costs 16 bytes of Go per 2 bytes of wire) fails after allocating at most
// that much.
const (
	DefaultBudgetFactor = 2
	DefaultBudgetSlack  = 1 << 20
)

// DefaultBudget returns the default decode budget for n bytes of input:
// DefaultBudgetFactor*n + DefaultBudgetSlack.
func DefaultBudget(n int) int {
	if n < 0 {
		n = 0
	}
	if n > (math.MaxInt-DefaultBudgetSlack)/DefaultBudgetFactor {
		return math.MaxInt
	}
	return DefaultBudgetFactor*n + DefaultBudgetSlack
}

// DefaultLimits are the limits a Reader uses unless told otherwise.
var DefaultLimits = Limits{MaxDepth: DefaultMaxDepth, MaxElements: DefaultMaxElements, MaxBytes: DefaultMaxBytes}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultMaxElements
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	return l
}
