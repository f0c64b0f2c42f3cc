package codec

import "encoding/binary"

// The Try methods are fast paths for hot decoding loops (reflectcodec's):
// each handles only the common case, small enough to be inlined, and
// otherwise reports false and consumes nothing, so that the caller falls
// back to the general method from the same position — which then returns
// the error, if there is one, with the Reader's usual detail.

// TryHead reads a head that fits in one byte (tag < 15) of a valid type, as
// ReadHead would; it reports false for anything else.
func (r *Reader) TryHead() (Head, bool) {
	if off := r.off; uint(off) < uint(len(r.buf)) {
		if b := r.buf[off]; b < 0xF0 && b&0x0F <= byte(SimpleList) {
			r.off = off + 1
			return Head{Tag: b >> 4, Type: Type(b & 0x0F)}, true
		}
	}
	return Head{}, false
}

// TryIntBody reads the body of an integer of wire type t, at most max wide,
// as IntBody would; it reports false where IntBody would fail.
func (r *Reader) TryIntBody(t, max Type) (int64, bool) {
	if t == ZeroTag {
		return 0, true
	}
	off, buf := r.off, r.buf
	if t > max || off < 0 || off > len(buf) {
		return 0, false
	}
	switch b := buf[off:]; t {
	case Int1:
		if len(b) >= 1 {
			r.off = off + 1
			return int64(int8(b[0])), true
		}
	case Int2:
		if len(b) >= 2 {
			r.off = off + 2
			return int64(int16(binary.BigEndian.Uint16(b))), true
		}
	case Int4:
		if len(b) >= 4 {
			r.off = off + 4
			return int64(int32(binary.BigEndian.Uint32(b))), true
		}
	case Int8:
		if len(b) >= 8 {
			r.off = off + 8
			return int64(binary.BigEndian.Uint64(b)), true
		}
	}
	return 0, false
}

// TryFixedBody reads the n-byte big-endian body of a FLOAT (n = 4) or a
// DOUBLE (n = 8) as raw bits; it reports false when fewer bytes remain.
func (r *Reader) TryFixedBody(n int) (uint64, bool) {
	off, buf := r.off, r.buf
	if off < 0 || off > len(buf) || len(buf)-off < n {
		return 0, false
	}
	r.off = off + n
	if n == 4 {
		return uint64(binary.BigEndian.Uint32(buf[off:])), true
	}
	return binary.BigEndian.Uint64(buf[off:]), true
}

// TryString1Body returns the bytes of a STRING1 body (wire type t), a view
// of the input, as StringBytesBody would; it reports false for any other
// type or a truncated body.
func (r *Reader) TryString1Body(t Type) ([]byte, bool) {
	off, buf := r.off, r.buf
	if t != String1 || off < 0 || off >= len(buf) {
		return nil, false
	}
	n := int(buf[off])
	if end := off + 1 + n; end <= len(buf) && (r.lim.MaxBytes <= 0 || n <= r.lim.MaxBytes) {
		r.off = end
		return buf[off+1 : end : end], true
	}
	return nil, false
}
