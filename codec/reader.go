package codec

import (
	"encoding/binary"
	"math"
	"strconv"
	"unsafe"

	"github.com/gotars/tars/internal/wire"
)

// Reader reads TARS-encoded values from a byte slice. Every read is bounds
// checked; lengths are bounded by the remaining input and by Limits; nesting is
// bounded by Limits.MaxDepth; the Go memory that decoders allocate for one
// input is bounded by the Reader's budget (see SetBudget). No input makes a
// Reader panic.
//
// The low-level methods (ReadHead, IntBody, StringBody, ...) read the body of a
// value whose head the caller already has; the tag-addressed methods (Int32,
// String, StringMap, ...) follow TarsGo's generated code: they skip fields with
// smaller tags and report a missing field as absent or, when required, as
// ErrRequiredMissing.
type Reader struct {
	w wire.Reader // the only field: a *Reader converts to a *wire.Reader
}

// The layouts of Reader and wire.Reader are the same (a compile-time check).
var _ [0]struct{} = [unsafe.Sizeof(Reader{}) - unsafe.Sizeof(wire.Reader{})]struct{}{}

// NewReader returns a Reader over b with DefaultLimits and the default
// budget for len(b) bytes (DefaultBudget).
func NewReader(b []byte) *Reader {
	return &Reader{w: wire.Reader{Buf: b, MaxDepth: DefaultMaxDepth, MaxElements: DefaultMaxElements,
		MaxBytes: DefaultMaxBytes, Budget: DefaultBudget(len(b))}}
}

// Reset points the Reader at b, keeping its limits. The budget becomes the
// default for len(b) bytes (DefaultBudget): a new input is a new value; call
// SetBudget after Reset to choose another.
func (r *Reader) Reset(b []byte) {
	r.w.Buf, r.w.Off, r.w.Depth = b, 0, 0
	r.w.Budget = DefaultBudget(len(b))
}

// SetLimits replaces the Reader's limits; zero fields take the defaults.
func (r *Reader) SetLimits(l Limits) {
	l = l.withDefaults()
	r.w.MaxDepth, r.w.MaxElements, r.w.MaxBytes = l.MaxDepth, l.MaxElements, l.MaxBytes
}

// Limits returns the limits in force.
func (r *Reader) Limits() Limits {
	r.limits()
	return Limits{MaxDepth: r.w.MaxDepth, MaxElements: r.w.MaxElements, MaxBytes: r.w.MaxBytes}
}

// limits fills in the default limits for a zero Reader.
func (r *Reader) limits() *wire.Reader {
	if r.w.MaxDepth == 0 {
		r.SetLimits(Limits{})
	}
	return &r.w
}

// SetBudget sets how many bytes of Go memory the decoders may still allocate
// for the value read from the rest of the input: n ≥ 0 is n bytes, n < 0 is
// no bound. Reset sets the default, DefaultBudget(len(input)). Strings,
// slices, maps and pointers that a decoder makes are charged at their Go
// size (see Charge); past the budget, decoding fails with an *Error wrapping
// ErrBudget.
func (r *Reader) SetBudget(n int) {
	if n < 0 {
		n = math.MaxInt
	}
	r.w.Budget = n
}

// Budget returns the bytes of Go memory the decoders may still allocate.
func (r *Reader) Budget() int { return r.w.Budget }

// Charge takes n bytes from the budget, for memory a decoder is about to
// allocate; it fails with an *Error wrapping ErrBudget, taking nothing, when
// fewer are left. A type's UnmarshalTARS calls it before it allocates in
// proportion to a length read from the input (the Reader's own methods
// charge what they allocate).
func (r *Reader) Charge(n int) error {
	if n <= r.w.Budget {
		r.w.Budget -= n
		return nil
	}
	return r.budgetError(n)
}

func (r *Reader) budgetError(n int) *Error {
	return r.Errorf(ErrBudget, -1, "at most "+strconv.Itoa(r.w.Budget)+" more bytes of decoded Go memory", strconv.Itoa(n)+" bytes")
}

// Offset returns the number of bytes consumed.
func (r *Reader) Offset() int { return r.w.Off }

// Remaining returns the number of unread bytes.
func (r *Reader) Remaining() int { return len(r.w.Buf) - r.w.Off }

// Rest returns the unread bytes without consuming them.
func (r *Reader) Rest() []byte { return r.w.Buf[r.w.Off:] }

// Enter records one more level of nesting and fails with ErrTooDeep past
// Limits.MaxDepth. Every Enter is paired with a Leave.
func (r *Reader) Enter() error {
	r.w.Depth++
	if r.w.Depth > r.limits().MaxDepth {
		return r.Errorf(ErrTooDeep, -1, "depth <= "+strconv.Itoa(r.w.MaxDepth), "deeper nesting")
	}
	return nil
}

// Leave undoes one Enter.
func (r *Reader) Leave() { r.w.Depth-- }

// ReadHead reads the next head.
func (r *Reader) ReadHead() (Head, error) {
	// The common case, a one-byte head of a valid type, without a stack
	// frame for the error paths.
	if off := r.w.Off; uint(off) < uint(len(r.w.Buf)) {
		if b := r.w.Buf[off]; b < 0xF0 && b&0x0F <= byte(SimpleList) {
			r.w.Off = off + 1
			return Head{Tag: b >> 4, Type: Type(b & 0x0F)}, nil
		}
	}
	return r.readHead()
}

// readHead is ReadHead's general case: a two-byte head, an invalid type or
// the end of the input.
func (r *Reader) readHead() (Head, error) {
	off := r.w.Off
	if off < 0 || off >= len(r.w.Buf) {
		return Head{}, r.Errorf(ErrTruncated, -1, "head", "end of input")
	}
	b := r.w.Buf[off]
	h := Head{Tag: b >> 4, Type: Type(b & 0x0F)}
	if b < 0xF0 {
		r.w.Off = off + 1
	} else {
		if off+1 >= len(r.w.Buf) {
			return Head{}, r.Errorf(ErrTruncated, -1, "tag byte", "end of input")
		}
		h.Tag = r.w.Buf[off+1]
		r.w.Off = off + 2
	}
	if h.Type > SimpleList {
		return h, newError(ErrInvalidType, r.w.Off-1, int(h.Tag), "type 0..13", h.Type.String())
	}
	return h, nil
}

// PeekHead returns the next head and its encoded size without consuming it.
func (r *Reader) PeekHead() (Head, int, error) {
	off := r.w.Off
	h, err := r.ReadHead()
	n := r.w.Off - off
	r.w.Off = off
	return h, n, err
}

func (r *Reader) need(n int, tag int, what string) error {
	if n > len(r.w.Buf)-r.w.Off {
		return r.Errorf(ErrTruncated, tag, what, strconv.Itoa(len(r.w.Buf)-r.w.Off)+" bytes left")
	}
	return nil
}

// IntBody reads the body of an integer whose head is h. max is the widest wire
// type the destination accepts (Int1 for byte/bool, Int2 for short, Int4 for
// int, Int8 for long); ZERO_TAG and narrower widths are always accepted and
// sign-extended.
func (r *Reader) IntBody(h Head, max Type) (int64, error) {
	if h.Type == ZeroTag {
		return 0, nil
	}
	if h.Type > max {
		return 0, r.mismatch(h, intExpect[max])
	}
	off, buf := r.w.Off, r.w.Buf
	if off < 0 || off > len(buf) {
		return 0, r.need(1, int(h.Tag), "integer")
	}
	switch h.Type {
	case Int1:
		if len(buf)-off < 1 {
			return 0, r.need(1, int(h.Tag), "1 byte")
		}
		r.w.Off = off + 1
		return int64(int8(buf[off])), nil
	case Int2:
		if len(buf)-off < 2 {
			return 0, r.need(2, int(h.Tag), "2 bytes")
		}
		r.w.Off = off + 2
		return int64(int16(binary.BigEndian.Uint16(buf[off : off+2]))), nil
	case Int4:
		if len(buf)-off < 4 {
			return 0, r.need(4, int(h.Tag), "4 bytes")
		}
		r.w.Off = off + 4
		return int64(int32(binary.BigEndian.Uint32(buf[off : off+4]))), nil
	default: // Int8
		if len(buf)-off < 8 {
			return 0, r.need(8, int(h.Tag), "8 bytes")
		}
		r.w.Off = off + 8
		return int64(binary.BigEndian.Uint64(buf[off : off+8])), nil
	}
}

var intExpect = [...]string{
	Int1: "ZERO_TAG|INT1",
	Int2: "ZERO_TAG|INT1|INT2",
	Int4: "ZERO_TAG|INT1|INT2|INT4",
	Int8: "ZERO_TAG|INT1|INT2|INT4|INT8",
}

func (r *Reader) mismatch(h Head, expected string) *Error {
	return r.Errorf(ErrTypeMismatch, int(h.Tag), expected, h.Type.String())
}

// FloatBody reads a float (FLOAT or ZERO_TAG).
func (r *Reader) FloatBody(h Head) (float32, error) {
	switch h.Type {
	case ZeroTag:
		return 0, nil
	case Float:
		if err := r.need(4, int(h.Tag), "4 bytes"); err != nil {
			return 0, err
		}
		v := math.Float32frombits(binary.BigEndian.Uint32(r.w.Buf[r.w.Off:]))
		r.w.Off += 4
		return v, nil
	}
	return 0, r.mismatch(h, "ZERO_TAG|FLOAT")
}

// DoubleBody reads a double (DOUBLE, FLOAT or ZERO_TAG).
func (r *Reader) DoubleBody(h Head) (float64, error) {
	switch h.Type {
	case ZeroTag:
		return 0, nil
	case Float:
		f, err := r.FloatBody(h)
		return float64(f), err
	case Double:
		if err := r.need(8, int(h.Tag), "8 bytes"); err != nil {
			return 0, err
		}
		v := math.Float64frombits(binary.BigEndian.Uint64(r.w.Buf[r.w.Off:]))
		r.w.Off += 8
		return v, nil
	}
	return 0, r.mismatch(h, "ZERO_TAG|FLOAT|DOUBLE")
}

// StringBytesBody reads a STRING1 or STRING4 body and returns its bytes,
// aliasing the input (no copy).
func (r *Reader) StringBytesBody(h Head) ([]byte, error) {
	var n int
	switch h.Type {
	case String1:
		if r.w.Off >= len(r.w.Buf) {
			return nil, r.need(1, int(h.Tag), "string length")
		}
		n = int(r.w.Buf[r.w.Off])
		r.w.Off++
	case String4:
		if err := r.need(4, int(h.Tag), "string length"); err != nil {
			return nil, err
		}
		n = int(binary.BigEndian.Uint32(r.w.Buf[r.w.Off:]))
		r.w.Off += 4
	default:
		return nil, r.mismatch(h, "STRING1|STRING4")
	}
	if n > len(r.w.Buf)-r.w.Off || n > r.limits().MaxBytes {
		return nil, r.Errorf(ErrTooLong, int(h.Tag), "string within "+strconv.Itoa(len(r.w.Buf)-r.w.Off)+" bytes", "length "+strconv.Itoa(n))
	}
	b := r.w.Buf[r.w.Off : r.w.Off+n : r.w.Off+n]
	r.w.Off += n
	return b, nil
}

// StringBody reads a STRING1 or STRING4 body into a new string, charged to
// the budget.
func (r *Reader) StringBody(h Head) (string, error) {
	b, err := r.StringBytesBody(h)
	if err == nil && len(b) > 0 && !r.w.Charge(wire.Alloc(len(b))) {
		return "", r.budgetError(wire.Alloc(len(b)))
	}
	return string(b), err
}

// lengthField reads the length that opens a LIST, MAP or SIMPLE_LIST: an int
// field with tag 0. minBytes is the least number of input bytes each element
// needs, so that a length larger than the input can justify fails at once.
func (r *Reader) lengthField(tag uint8, minBytes, max int) (int, error) {
	h, err := r.ReadHead()
	if err != nil {
		return 0, err
	}
	if h.Tag != 0 {
		return 0, r.Errorf(ErrMalformed, int(tag), "length with tag 0", "tag "+strconv.Itoa(int(h.Tag)))
	}
	v, err := r.IntBody(h, Int4)
	if err != nil {
		return 0, err
	}
	if v < 0 || v*int64(minBytes) > int64(len(r.w.Buf)-r.w.Off) || v > int64(max) {
		return 0, r.Errorf(ErrTooLong, int(tag), "length within "+strconv.Itoa(len(r.w.Buf)-r.w.Off)+" bytes", "length "+strconv.FormatInt(v, 10))
	}
	return int(v), nil
}

// ListLen reads the length of a LIST whose head is h (each element needs at
// least one byte, so the length is bounded by the remaining input).
func (r *Reader) ListLen(h Head) (int, error) {
	if h.Type != List {
		return 0, r.mismatch(h, "LIST")
	}
	return r.lengthField(h.Tag, 1, r.limits().MaxElements)
}

// MapLen reads the number of entries of a MAP whose head is h.
func (r *Reader) MapLen(h Head) (int, error) {
	if h.Type != Map {
		return 0, r.mismatch(h, "MAP")
	}
	return r.lengthField(h.Tag, 2, r.limits().MaxElements)
}

// BytesBody reads a vector<byte> whose head is h. A SIMPLE_LIST is returned
// aliasing the input; a LIST of byte elements (which some peers send) is
// collected into a new slice, charged to the budget.
func (r *Reader) BytesBody(h Head) ([]byte, error) {
	switch h.Type {
	case SimpleList:
		eh, err := r.ReadHead()
		if err != nil {
			return nil, err
		}
		if eh.Type != Int1 || eh.Tag != 0 {
			return nil, r.Errorf(ErrMalformed, int(h.Tag), "SIMPLE_LIST element head INT1 tag 0", eh.Type.String()+" tag "+strconv.Itoa(int(eh.Tag)))
		}
		n, err := r.lengthField(h.Tag, 1, r.limits().MaxBytes)
		if err != nil {
			return nil, err
		}
		b := r.w.Buf[r.w.Off : r.w.Off+n : r.w.Off+n]
		r.w.Off += n
		return b, nil
	case List:
		n, err := r.ListLen(h)
		if err != nil {
			return nil, err
		}
		if err := r.Charge(wire.Alloc(n)); err != nil {
			return nil, err
		}
		out := make([]byte, n)
		for i := range out {
			eh, err := r.ReadHead()
			if err != nil {
				return nil, err
			}
			v, err := r.IntBody(eh, Int1)
			if err != nil {
				return nil, err
			}
			out[i] = byte(v)
		}
		return out, nil
	}
	return nil, r.mismatch(h, "SIMPLE_LIST|LIST")
}

// Skip skips the body of a value whose head is h, recursively for containers
// and structs, within the nesting limit.
func (r *Reader) Skip(h Head) error {
	switch h.Type {
	case ZeroTag, StructEnd:
		return nil
	case Int1, Int2, Int4, Int8, Float, Double:
		n := fixedSize[h.Type]
		if err := r.need(n, int(h.Tag), strconv.Itoa(n)+" bytes"); err != nil {
			return err
		}
		r.w.Off += n
		return nil
	case String1, String4:
		_, err := r.StringBytesBody(h)
		return err
	case SimpleList:
		_, err := r.BytesBody(h)
		return err
	case List, Map:
		if err := r.Enter(); err != nil {
			return err
		}
		var n int
		var err error
		if h.Type == List {
			n, err = r.ListLen(h)
		} else {
			n, err = r.MapLen(h)
			n *= 2
		}
		for i := 0; err == nil && i < n; i++ {
			var eh Head
			if eh, err = r.ReadHead(); err == nil {
				if eh.Type == StructEnd {
					err = r.Errorf(ErrMalformed, int(h.Tag), "element", "STRUCT_END")
				} else {
					err = r.Skip(eh)
				}
			}
		}
		r.Leave()
		return err
	case StructBegin:
		if err := r.Enter(); err != nil {
			return err
		}
		err := r.SkipToStructEnd()
		r.Leave()
		return err
	}
	return r.Errorf(ErrInvalidType, int(h.Tag), "type 0..13", h.Type.String())
}

var fixedSize = [...]int{Int1: 1, Int2: 2, Int4: 4, Int8: 8, Float: 4, Double: 8}

// SkipToStructEnd skips fields up to and including the STRUCT_END that closes
// the current struct.
func (r *Reader) SkipToStructEnd() error {
	for {
		h, err := r.ReadHead()
		if err != nil {
			return err
		}
		if h.Type == StructEnd {
			return nil
		}
		if err := r.Skip(h); err != nil {
			return err
		}
	}
}

// SkipField skips one whole field (head and body).
func (r *Reader) SkipField() error {
	h, err := r.ReadHead()
	if err != nil {
		return err
	}
	return r.Skip(h)
}

// SkipTo advances to the field with the given tag, skipping fields with smaller
// tags. It returns the field's head with found set, the head already consumed.
// When it meets a larger tag, a STRUCT_END or the end of the input it consumes
// nothing more and returns found == false.
func (r *Reader) SkipTo(tag uint8) (h Head, found bool, err error) {
	for r.w.Off < len(r.w.Buf) {
		start := r.w.Off
		if h, err = r.ReadHead(); err != nil {
			return h, false, err
		}
		if h.Type == StructEnd || h.Tag > tag {
			r.w.Off = start
			return h, false, nil
		}
		if h.Tag == tag {
			return h, true, nil
		}
		if err = r.Skip(h); err != nil {
			return h, false, err
		}
	}
	return Head{}, false, nil
}

func (r *Reader) field(tag uint8, require bool) (Head, bool, error) {
	h, found, err := r.SkipTo(tag)
	if err == nil && !found && require {
		err = r.Errorf(ErrRequiredMissing, int(tag), "field", "none")
	}
	return h, found, err
}

// Int64 reads the integer field tag (any width). An absent optional field
// reads as 0.
func (r *Reader) Int64(tag uint8, require bool) (int64, error) {
	h, found, err := r.field(tag, require)
	if !found || err != nil {
		return 0, err
	}
	return r.IntBody(h, Int8)
}

// Int32 reads the int field tag (ZERO_TAG, INT1, INT2 or INT4).
func (r *Reader) Int32(tag uint8, require bool) (int32, error) {
	h, found, err := r.field(tag, require)
	if !found || err != nil {
		return 0, err
	}
	v, err := r.IntBody(h, Int4)
	return int32(v), err
}

// Int16 reads the short field tag (ZERO_TAG, INT1 or INT2).
func (r *Reader) Int16(tag uint8, require bool) (int16, error) {
	h, found, err := r.field(tag, require)
	if !found || err != nil {
		return 0, err
	}
	v, err := r.IntBody(h, Int2)
	return int16(v), err
}

// Int8 reads the byte field tag (ZERO_TAG or INT1).
func (r *Reader) Int8(tag uint8, require bool) (int8, error) {
	h, found, err := r.field(tag, require)
	if !found || err != nil {
		return 0, err
	}
	v, err := r.IntBody(h, Int1)
	return int8(v), err
}

// String reads the string field tag.
func (r *Reader) String(tag uint8, require bool) (string, error) {
	h, found, err := r.field(tag, require)
	if !found || err != nil {
		return "", err
	}
	return r.StringBody(h)
}

// Bytes reads the vector<byte> field tag, aliasing the input when it arrives
// as a SIMPLE_LIST.
func (r *Reader) Bytes(tag uint8, require bool) ([]byte, error) {
	h, found, err := r.field(tag, require)
	if !found || err != nil {
		return nil, err
	}
	return r.BytesBody(h)
}

// StringMap reads the map<string,string> field tag. An absent optional field
// reads as nil.
func (r *Reader) StringMap(tag uint8, require bool) (map[string]string, error) {
	h, found, err := r.field(tag, require)
	if !found || err != nil {
		return nil, err
	}
	return r.StringMapBody(h)
}

// StringMapBody reads a map<string,string> whose head is h; the map and its
// strings are charged to the budget.
func (r *Reader) StringMapBody(h Head) (map[string]string, error) {
	n, err := r.MapLen(h)
	if err != nil {
		return nil, err
	}
	if err := r.Charge(wire.MapCost(n, wire.StringSize, wire.StringSize)); err != nil {
		return nil, err
	}
	m := make(map[string]string, n)
	for range n {
		k, err := r.mapString(0)
		if err != nil {
			return nil, err
		}
		v, err := r.mapString(1)
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, nil
}

func (r *Reader) mapString(tag uint8) (string, error) {
	h, err := r.ReadHead()
	if err != nil {
		return "", err
	}
	if h.Tag != tag {
		return "", r.Errorf(ErrMalformed, int(h.Tag), "map entry tag "+strconv.Itoa(int(tag)), "tag "+strconv.Itoa(int(h.Tag)))
	}
	return r.StringBody(h)
}
