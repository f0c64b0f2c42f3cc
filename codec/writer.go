package codec

import (
	"encoding/binary"
	"math"
)

// Writer appends TARS-encoded values to a byte slice. The zero value is ready
// to use; Reset keeps the allocated buffer for the next message. Writing never
// fails: a Writer only grows memory.
//
// Integers are written in the smallest width that holds the value, zero as
// ZERO_TAG, exactly as TarsGo writes them; strings choose STRING1 up to 255
// bytes and STRING4 above.
type Writer struct {
	buf []byte
}

// NewWriter returns a Writer that appends to buf[:0], reusing its capacity.
func NewWriter(buf []byte) *Writer { return &Writer{buf: buf[:0]} }

// Bytes returns the encoded bytes. They alias the Writer's buffer until the
// next Reset or write.
func (w *Writer) Bytes() []byte { return w.buf }

// Len returns the number of bytes written.
func (w *Writer) Len() int { return len(w.buf) }

// Reset empties the Writer and keeps its buffer.
func (w *Writer) Reset() { w.buf = w.buf[:0] }

// SetBytes makes the Writer append to b, keeping b's contents; it lets a
// caller encode into a buffer it owns (b may be nil).
func (w *Writer) SetBytes(b []byte) { w.buf = b }

// Grow makes room for n more bytes without another allocation.
func (w *Writer) Grow(n int) {
	if cap(w.buf)-len(w.buf) < n {
		nb := make([]byte, len(w.buf), 2*cap(w.buf)+n)
		copy(nb, w.buf)
		w.buf = nb
	}
}

// WriteRaw appends b unchanged, for bytes that are already TARS-encoded.
func (w *Writer) WriteRaw(b []byte) { w.buf = append(w.buf, b...) }

// WriteHead appends a head: tag and wire type, one byte for tags below 15 and
// two bytes above.
func (w *Writer) WriteHead(tag uint8, t Type) {
	if tag < 15 {
		w.buf = append(w.buf, tag<<4|byte(t))
	} else {
		w.buf = append(w.buf, 0xF0|byte(t), tag)
	}
}

// WriteInt64 appends v in the smallest width that holds it (ZERO_TAG for 0).
// Every signed integer type goes through here: TARS compacts them all alike.
func (w *Writer) WriteInt64(tag uint8, v int64) {
	switch {
	case v == 0:
		w.WriteHead(tag, ZeroTag)
	case v >= math.MinInt8 && v <= math.MaxInt8:
		w.WriteHead(tag, Int1)
		w.buf = append(w.buf, byte(v))
	case v >= math.MinInt16 && v <= math.MaxInt16:
		w.WriteHead(tag, Int2)
		w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(v))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		w.WriteHead(tag, Int4)
		w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(v))
	default:
		w.WriteHead(tag, Int8)
		w.buf = binary.BigEndian.AppendUint64(w.buf, uint64(v))
	}
}

// WriteInt32 appends a TARS int (compacted).
func (w *Writer) WriteInt32(tag uint8, v int32) { w.WriteInt64(tag, int64(v)) }

// WriteInt16 appends a TARS short (compacted).
func (w *Writer) WriteInt16(tag uint8, v int16) { w.WriteInt64(tag, int64(v)) }

// WriteInt8 appends a TARS byte (ZERO_TAG or INT1).
func (w *Writer) WriteInt8(tag uint8, v int8) { w.WriteInt64(tag, int64(v)) }

// WriteBool appends a bool as the byte 0 or 1 (so false is ZERO_TAG).
func (w *Writer) WriteBool(tag uint8, v bool) {
	if v {
		w.WriteHead(tag, Int1)
		w.buf = append(w.buf, 1)
	} else {
		w.WriteHead(tag, ZeroTag)
	}
}

// WriteUint8 appends an unsigned byte; it travels as a short.
func (w *Writer) WriteUint8(tag uint8, v uint8) { w.WriteInt64(tag, int64(v)) }

// WriteUint16 appends an unsigned short; it travels as an int.
func (w *Writer) WriteUint16(tag uint8, v uint16) { w.WriteInt64(tag, int64(v)) }

// WriteUint32 appends an unsigned int; it travels as a long.
func (w *Writer) WriteUint32(tag uint8, v uint32) { w.WriteInt64(tag, int64(v)) }

// WriteFloat32 appends a FLOAT (never compacted, even for 0).
func (w *Writer) WriteFloat32(tag uint8, v float32) {
	w.WriteHead(tag, Float)
	w.buf = binary.BigEndian.AppendUint32(w.buf, math.Float32bits(v))
}

// WriteFloat64 appends a DOUBLE (never compacted, even for 0).
func (w *Writer) WriteFloat64(tag uint8, v float64) {
	w.WriteHead(tag, Double)
	w.buf = binary.BigEndian.AppendUint64(w.buf, math.Float64bits(v))
}

// WriteString appends s as STRING1 (up to 255 bytes) or STRING4.
func (w *Writer) WriteString(tag uint8, s string) {
	if len(s) <= 255 {
		if tag < 15 {
			w.buf = append(w.buf, tag<<4|byte(String1), byte(len(s)))
		} else {
			w.buf = append(w.buf, 0xF0|byte(String1), tag, byte(len(s)))
		}
	} else {
		w.WriteHead(tag, String4)
		w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(len(s)))
	}
	w.buf = append(w.buf, s...)
}

// WriteBytes appends b as a SIMPLE_LIST, the encoding of vector<byte>.
func (w *Writer) WriteBytes(tag uint8, b []byte) {
	w.WriteHead(tag, SimpleList)
	w.buf = append(w.buf, byte(Int1)) // head: tag 0, INT1
	w.WriteInt64(0, int64(len(b)))
	w.buf = append(w.buf, b...)
}

// WriteListHeader starts a LIST of n elements; the caller then writes each
// element with tag 0.
func (w *Writer) WriteListHeader(tag uint8, n int) {
	w.WriteHead(tag, List)
	w.WriteInt64(0, int64(n))
}

// WriteMapHeader starts a MAP of n entries; the caller then writes each key
// with tag 0 followed by its value with tag 1.
func (w *Writer) WriteMapHeader(tag uint8, n int) {
	w.WriteHead(tag, Map)
	w.WriteInt64(0, int64(n))
}

// WriteStructBegin starts a nested struct at tag.
func (w *Writer) WriteStructBegin(tag uint8) { w.WriteHead(tag, StructBegin) }

// WriteStructEnd ends the innermost nested struct.
func (w *Writer) WriteStructEnd() { w.buf = append(w.buf, byte(StructEnd)) }
