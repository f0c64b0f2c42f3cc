// Package wire holds the state of a codec.Reader and the fast paths that the
// decoders of this module (reflectcodec, protocol) run on it without a call
// per value. They are not part of the public API: each handles only the
// common case and leaves the error reporting to the codec.Reader method the
// caller falls back to.
//
// codec.Reader is a struct whose only field is a Reader, so a *codec.Reader
// may be converted to a *Reader with unsafe.Pointer (the layouts are the same
// by construction; package codec checks it at compile time).
package wire

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// Reader is the state of a codec.Reader.
type Reader struct {
	Buf   []byte
	Off   int
	Depth int

	// The limits (codec.Limits); MaxDepth == 0 means "not yet defaulted".
	MaxDepth    int
	MaxElements int
	MaxBytes    int

	// Budget is what the decoders may still allocate, in bytes of Go
	// memory, for the value being read from Buf.
	Budget int
}

// Charge takes n bytes from the budget and reports whether they were there.
// On failure the budget is left as it was.
func (r *Reader) Charge(n int) bool {
	if n <= r.Budget {
		r.Budget -= n
		return true
	}
	return false
}

// TryHead reads a head that fits in one byte (tag < 15) of a valid type
// (0..13) and returns that byte; it reports false for anything else and
// then consumes nothing.
func (r *Reader) TryHead() (byte, bool) {
	if off := r.Off; uint(off) < uint(len(r.Buf)) {
		if b := r.Buf[off]; b < 0xF0 && b&0x0F <= 13 {
			r.Off = off + 1
			return b, true
		}
	}
	return 0, false
}

// The wire types TryIntBody knows (codec.Type values).
const (
	tInt1    = 0
	tInt2    = 1
	tInt4    = 2
	tInt8    = 3
	tString1 = 6
	tZeroTag = 12
)

// TryIntBody reads the body of an integer of wire type t (a codec.Type), at
// most max wide, as codec.Reader.IntBody would; it reports false where
// IntBody would fail, and then consumes nothing.
func (r *Reader) TryIntBody(t, max uint8) (int64, bool) {
	if t == tZeroTag {
		return 0, true
	}
	off, buf := r.Off, r.Buf
	if t > max || off < 0 || off > len(buf) {
		return 0, false
	}
	switch b := buf[off:]; t {
	case tInt1:
		if len(b) >= 1 {
			r.Off = off + 1
			return int64(int8(b[0])), true
		}
	case tInt2:
		if len(b) >= 2 {
			r.Off = off + 2
			return int64(int16(binary.BigEndian.Uint16(b))), true
		}
	case tInt4:
		if len(b) >= 4 {
			r.Off = off + 4
			return int64(int32(binary.BigEndian.Uint32(b))), true
		}
	case tInt8:
		if len(b) >= 8 {
			r.Off = off + 8
			return int64(binary.BigEndian.Uint64(b)), true
		}
	}
	return 0, false
}

// TryFixedBody reads the n-byte big-endian body of a FLOAT (n = 4) or a
// DOUBLE (n = 8) as raw bits; it reports false when fewer bytes remain.
func (r *Reader) TryFixedBody(n int) (uint64, bool) {
	off, buf := r.Off, r.Buf
	if off < 0 || off > len(buf) || len(buf)-off < n {
		return 0, false
	}
	r.Off = off + n
	if n == 4 {
		return uint64(binary.BigEndian.Uint32(buf[off:])), true
	}
	return binary.BigEndian.Uint64(buf[off:]), true
}

// TryString1Body returns the bytes of a STRING1 body (wire type t), a view
// of the input, as codec.Reader.StringBytesBody would; it reports false for
// any other type or a truncated body, and then consumes nothing.
func (r *Reader) TryString1Body(t uint8) ([]byte, bool) {
	off, buf := r.Off, r.Buf
	if t != tString1 || off < 0 || off >= len(buf) {
		return nil, false
	}
	n := int(buf[off])
	if end := off + 1 + n; end <= len(buf) && (r.MaxBytes <= 0 || n <= r.MaxBytes) {
		r.Off = end
		return buf[off+1 : end : end], true
	}
	return nil, false
}

// UnsafeString returns a string that shares b's memory: for a view of the
// input that is copied (or dropped) before the input can change.
func UnsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// MapCost is what a Go map made with room for n entries of keySize+valSize
// bytes costs once filled, an upper bound measured on Go 1.26's maps: a
// 48-byte header; up to 8 entries, one group of 8 slots; beyond, tables
// sized to powers of two at a load of 7/8 (three times the slots' bytes
// covers the worst rounding).
func MapCost(n, keySize, valSize int) int {
	switch {
	case n <= 0:
		return MapHeader
	case n <= 8: // one group: 8 slots and their control word
		return MapHeader + (8*(keySize+valSize)+8)*9/8 + 16 // and size-class rounding
	}
	return MapHeader + n*MapEntryCost(keySize, valSize)
}

// MapHeader is the size of a Go map's header.
const MapHeader = 48

// MapEntryCost is the share of one entry in MapCost: what a map that grows
// entry by entry is charged per entry.
func MapEntryCost(keySize, valSize int) int { return (keySize + valSize + 1) * 3 }

// Go sizes of the values the decoders make.
const (
	StringSize = int(unsafe.Sizeof(""))
	SliceSize  = int(unsafe.Sizeof([]byte(nil)))
)

// Alloc is what an allocation of b bytes costs, an upper bound on Go's
// rounding up to its size classes: 16 bytes at least, multiples of 16 up to
// 128, at most a quarter more up to 32 KiB, whole 8 KiB pages beyond.
func Alloc(b int) int {
	switch {
	case b <= 0:
		return 0
	case b <= 16:
		return 16
	case b <= 128:
		return (b + 15) &^ 15
	case b <= 32<<10:
		return b + b/4
	case b > math.MaxInt-8191:
		return math.MaxInt
	}
	return (b + 8191) &^ 8191
}
