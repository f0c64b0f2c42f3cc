package reflectcodec

import (
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"strconv"
	"unsafe"

	"github.com/gotars/tars/codec"
)

// maxEncodeDepth bounds struct nesting while encoding, so that a cyclic value
// (a slice or pointer that leads back to itself) fails instead of overflowing
// the stack. It matches the decoder's default depth limit: deeper values could
// not be read back by a default Reader anyway.
const maxEncodeDepth = codec.DefaultMaxDepth

// ErrTooLarge reports a value that TARS cannot carry: a string, vector or map
// with more than 2^31-1 elements or bytes.
var ErrTooLarge = errors.New("reflectcodec: value too large for TARS")

// ErrCycle reports a value nested deeper than the encoder allows, usually a
// cycle through pointers, slices or maps.
var ErrCycle = errors.New("reflectcodec: value nested too deep (cyclic?)")

// encoder writes Go values as TARS. It works on a plain []byte threaded
// through the append* methods (the fast path: no Writer field loads and stores
// per value); fields and value wrap them for callers that hold a
// *codec.Writer.
type encoder struct {
	w     *codec.Writer
	depth int
}

// fields writes the fields of a struct in tag order (no STRUCT_BEGIN/END) to
// e.w.
func (e *encoder) fields(st *structInfo, base unsafe.Pointer) error {
	b, err := e.appendFields(e.w.Bytes(), st, base)
	e.w.SetBytes(b)
	return err
}

// value writes the value at p with the given tag to e.w.
func (e *encoder) value(ti *typeInfo, tag uint8, p unsafe.Pointer) error {
	b, err := e.appendValue(e.w.Bytes(), ti, tag, p)
	e.w.SetBytes(b)
	return err
}

// appendHead appends a head: one byte for tags below 15, two above.
func appendHead(b []byte, tag uint8, t codec.Type) []byte {
	if tag < 15 {
		return append(b, tag<<4|byte(t))
	}
	return append(b, 0xF0|byte(t), tag)
}

// appendInt appends v in the smallest width that holds it, zero as ZERO_TAG,
// as codec.Writer.WriteInt64 and TarsGo do.
func appendInt(b []byte, tag uint8, v int64) []byte {
	switch {
	case v == 0:
		return appendHead(b, tag, codec.ZeroTag)
	case v == int64(int8(v)):
		return append(appendHead(b, tag, codec.Int1), byte(v))
	case v == int64(int16(v)):
		return binary.BigEndian.AppendUint16(appendHead(b, tag, codec.Int2), uint16(v))
	case v == int64(int32(v)):
		return binary.BigEndian.AppendUint32(appendHead(b, tag, codec.Int4), uint32(v))
	}
	return binary.BigEndian.AppendUint64(appendHead(b, tag, codec.Int8), uint64(v))
}

// appendString appends s as STRING1 (up to 255 bytes) or STRING4. The caller
// checks that len(s) fits in 32 bits.
func appendString(b []byte, tag uint8, s string) []byte {
	switch {
	case len(s) > 255:
		b = binary.BigEndian.AppendUint32(appendHead(b, tag, codec.String4), uint32(len(s)))
	case tag < 15:
		b = append(b, tag<<4|byte(codec.String1), byte(len(s)))
	default:
		b = append(b, 0xF0|byte(codec.String1), tag, byte(len(s)))
	}
	return append(b, s...)
}

// appendBytes appends a SIMPLE_LIST, the encoding of vector<byte>.
func appendBytes(b []byte, tag uint8, v []byte) []byte {
	b = append(appendHead(b, tag, codec.SimpleList), byte(codec.Int1))
	return append(appendInt(b, 0, int64(len(v))), v...)
}

// appendLen appends the head of a LIST or MAP and its length field.
func appendLen(b []byte, tag uint8, t codec.Type, n int) []byte {
	return appendInt(appendHead(b, tag, t), 0, int64(n))
}

func appendFloat32(b []byte, tag uint8, v float32) []byte {
	return binary.BigEndian.AppendUint32(appendHead(b, tag, codec.Float), math.Float32bits(v))
}

func appendFloat64(b []byte, tag uint8, v float64) []byte {
	return binary.BigEndian.AppendUint64(appendHead(b, tag, codec.Double), math.Float64bits(v))
}

// appendFields appends the fields of a struct in tag order (no
// STRUCT_BEGIN/END). Optional fields equal to their default are left out, as
// tars2go's generated WriteTo does; every case is inlined here because this
// loop is the encoder's hot path.
func (e *encoder) appendFields(b []byte, st *structInfo, base unsafe.Pointer) ([]byte, error) {
	for i := range st.fields {
		f := &st.fields[i]
		p := unsafe.Add(base, f.offset)
		var v int64
		switch f.ti.kind {
		case kBool:
			v = b2i(*(*bool)(p))
		case kInt8:
			v = int64(*(*int8)(p))
		case kInt16:
			v = int64(*(*int16)(p))
		case kInt32, kEnum:
			v = int64(*(*int32)(p))
		case kInt64:
			v = *(*int64)(p)
		case kUint8:
			v = int64(*(*uint8)(p))
		case kUint16:
			v = int64(*(*uint16)(p))
		case kUint32:
			v = int64(*(*uint32)(p))
		case kFloat32:
			x := *(*float32)(p)
			if !f.omitDef || float64(x) != f.defF {
				b = appendFloat32(b, f.tag.ID, x)
			}
			continue
		case kFloat64:
			x := *(*float64)(p)
			if !f.omitDef || x != f.defF {
				b = appendFloat64(b, f.tag.ID, x)
			}
			continue
		case kString:
			s := *(*string)(p)
			if !f.omitDef || s != f.defStr {
				if len(s) > math.MaxInt32 {
					return b, tooLarge(st, f)
				}
				b = appendString(b, f.tag.ID, s)
			}
			continue
		default:
			if f.omitDef && f.isDefault(p) {
				continue
			}
			var err error
			if b, err = e.appendValue(b, f.ti, f.tag.ID, p); err != nil {
				return b, fieldErr(err, st, f)
			}
			continue
		}
		// The integer kinds (bool, enums included; enums never omitted).
		if !f.omitDef || v != f.defInt {
			b = appendInt(b, f.tag.ID, v)
		}
	}
	return b, nil
}

// isDefault reports whether the optional field at p holds its default, in
// which case tars2go's generated code leaves it out.
func (f *fieldInfo) isDefault(p unsafe.Pointer) bool {
	switch f.ti.kind {
	case kBool:
		return b2i(*(*bool)(p)) == f.defInt
	case kInt8:
		return int64(*(*int8)(p)) == f.defInt
	case kInt16:
		return int64(*(*int16)(p)) == f.defInt
	case kInt32:
		return int64(*(*int32)(p)) == f.defInt
	case kInt64:
		return *(*int64)(p) == f.defInt
	case kUint8:
		return int64(*(*uint8)(p)) == f.defInt
	case kUint16:
		return int64(*(*uint16)(p)) == f.defInt
	case kUint32:
		return int64(*(*uint32)(p)) == f.defInt
	case kFloat32:
		return float64(*(*float32)(p)) == f.defF
	case kFloat64:
		return *(*float64)(p) == f.defF
	case kString:
		return *(*string)(p) == f.defStr
	case kBytes, kSlice, kStrList:
		return (*sliceHeader)(p).len == 0
	case kStrMap:
		return len(*(*map[string]string)(p)) == 0
	case kMap:
		return reflect.NewAt(f.ti.rt, p).Elem().Len() == 0
	case kPtr:
		return *(*unsafe.Pointer)(p) == nil
	}
	return false
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// appendValue appends the value at p with the given tag.
func (e *encoder) appendValue(b []byte, ti *typeInfo, tag uint8, p unsafe.Pointer) ([]byte, error) {
	switch ti.kind {
	case kBool:
		return appendInt(b, tag, b2i(*(*bool)(p))), nil
	case kInt8:
		return appendInt(b, tag, int64(*(*int8)(p))), nil
	case kInt16:
		return appendInt(b, tag, int64(*(*int16)(p))), nil
	case kInt32, kEnum:
		return appendInt(b, tag, int64(*(*int32)(p))), nil
	case kInt64:
		return appendInt(b, tag, *(*int64)(p)), nil
	case kUint8:
		return appendInt(b, tag, int64(*(*uint8)(p))), nil
	case kUint16:
		return appendInt(b, tag, int64(*(*uint16)(p))), nil
	case kUint32:
		return appendInt(b, tag, int64(*(*uint32)(p))), nil
	case kFloat32:
		return appendFloat32(b, tag, *(*float32)(p)), nil
	case kFloat64:
		return appendFloat64(b, tag, *(*float64)(p)), nil
	case kString:
		s := *(*string)(p)
		if len(s) > math.MaxInt32 {
			return b, ErrTooLarge
		}
		return appendString(b, tag, s), nil
	case kSlice:
		sh := (*sliceHeader)(p)
		return e.appendList(b, ti.elem, tag, sh.data, sh.len)
	case kArray:
		return e.appendList(b, ti.elem, tag, p, ti.arrLen)
	case kStruct:
		if e.depth++; e.depth > maxEncodeDepth {
			return b, ErrCycle
		}
		b, err := e.appendFields(appendHead(b, tag, codec.StructBegin), ti.st, p)
		if err != nil {
			return b, err
		}
		e.depth--
		return append(b, byte(codec.StructEnd)), nil
	}
	return e.appendOther(b, ti, tag, p)
}

// appendOther appends the kinds appendValue leaves out. They live in a
// function of their own so that appendValue's stack frame, which every level
// of nesting pays for, stays small: a map iterator alone takes more than a
// hundred bytes.
func (e *encoder) appendOther(b []byte, ti *typeInfo, tag uint8, p unsafe.Pointer) ([]byte, error) {
	switch ti.kind {
	case kBytes:
		sh := (*sliceHeader)(p)
		if sh.len > math.MaxInt32 {
			return b, ErrTooLarge
		}
		return appendBytes(b, tag, unsafe.Slice((*byte)(sh.data), sh.len)), nil
	case kArrayB:
		return appendBytes(b, tag, unsafe.Slice((*byte)(p), ti.arrLen)), nil
	case kStrList:
		return appendStrList(b, tag, *(*[]string)(p))
	case kStrMap:
		return appendStrMap(b, tag, *(*map[string]string)(p))
	case kMap:
		return e.appendMap(b, ti, tag, p)
	case kPtr:
		pp := *(*unsafe.Pointer)(p)
		if pp == nil { // a nil require pointer is written as the zero value
			pp = reflect.New(ti.elem.rt).UnsafePointer()
		}
		return e.appendValue(b, ti.elem, tag, pp)
	case kCustom:
		if e.depth++; e.depth > maxEncodeDepth {
			return b, ErrCycle
		}
		w := writerPool.Get().(*codec.Writer)
		w.SetBytes(appendHead(b, tag, codec.StructBegin))
		err := reflect.NewAt(ti.rt, p).Interface().(Marshaler).MarshalTARS(w)
		b = w.Bytes()
		w.SetBytes(nil)
		writerPool.Put(w)
		if err != nil {
			return b, err
		}
		e.depth--
		return append(b, byte(codec.StructEnd)), nil
	}
	return b, nil
}

func appendStrList(b []byte, tag uint8, s []string) ([]byte, error) {
	if len(s) > math.MaxInt32 {
		return b, ErrTooLarge
	}
	b = appendLen(b, tag, codec.List, len(s))
	for _, v := range s {
		if len(v) > math.MaxInt32 {
			return b, ErrTooLarge
		}
		b = appendString(b, 0, v)
	}
	return b, nil
}

func appendStrMap(b []byte, tag uint8, m map[string]string) ([]byte, error) {
	b = appendLen(b, tag, codec.Map, len(m))
	for k, v := range m {
		if len(k) > math.MaxInt32 || len(v) > math.MaxInt32 {
			return b, ErrTooLarge
		}
		b = appendString(appendString(b, 0, k), 1, v)
	}
	return b, nil
}

func (e *encoder) appendList(b []byte, elem *typeInfo, tag uint8, data unsafe.Pointer, n int) ([]byte, error) {
	if n > math.MaxInt32 {
		return b, ErrTooLarge
	}
	b = appendLen(b, tag, codec.List, n)
	if elem.kind == kStruct { // vector<struct>, the common case, without the per-element switch
		if e.depth++; e.depth > maxEncodeDepth {
			return b, ErrCycle
		}
		for i := range n {
			var err error
			b = appendHead(b, 0, codec.StructBegin)
			if b, err = e.appendFields(b, elem.st, unsafe.Add(data, uintptr(i)*elem.size)); err != nil {
				return b, indexErr(err, i)
			}
			b = append(b, byte(codec.StructEnd))
		}
		e.depth--
		return b, nil
	}
	for i := range n {
		var err error
		if b, err = e.appendValue(b, elem, 0, unsafe.Add(data, uintptr(i)*elem.size)); err != nil {
			return b, indexErr(err, i)
		}
	}
	return b, nil
}

func (e *encoder) appendMap(b []byte, ti *typeInfo, tag uint8, p unsafe.Pointer) ([]byte, error) {
	m := reflect.NewAt(ti.rt, p).Elem()
	n := m.Len()
	if n > math.MaxInt32 {
		return b, ErrTooLarge
	}
	if ti.fmap != nil {
		return ti.fmap.enc(b, tag, p), nil
	}
	b = appendLen(b, tag, codec.Map, n)
	if n == 0 {
		return b, nil
	}
	k := reflect.New(ti.key.rt).Elem()
	v := reflect.New(ti.elem.rt).Elem()
	kp, vp := k.Addr().UnsafePointer(), v.Addr().UnsafePointer()
	for it := m.MapRange(); it.Next(); {
		k.SetIterKey(it)
		v.SetIterValue(it)
		var err error
		if b, err = e.appendValue(b, ti.key, 0, kp); err != nil {
			return b, err
		}
		if b, err = e.appendValue(b, ti.elem, 1, vp); err != nil {
			return b, err
		}
	}
	return b, nil
}

// EncodeError reports a value that could not be encoded, with the Go path of
// the field at fault.
type EncodeError struct {
	Path string // e.g. "UserPage.Users[3].Tags"
	Err  error
}

// Error names the field and the cause.
func (e *EncodeError) Error() string {
	return "reflectcodec: encoding " + e.Path + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *EncodeError) Unwrap() error { return e.Err }

func tooLarge(st *structInfo, f *fieldInfo) error {
	return &EncodeError{Path: st.name + "." + f.goName, Err: ErrTooLarge}
}

func fieldErr(err error, st *structInfo, f *fieldInfo) error {
	if ee, ok := err.(*EncodeError); ok {
		ee.Path = joinPath(st.name+"."+f.goName, ee.Path)
		return ee
	}
	return &EncodeError{Path: st.name + "." + f.goName, Err: err}
}

func indexErr(err error, i int) error {
	idx := "[" + strconv.Itoa(i) + "]"
	if ee, ok := err.(*EncodeError); ok {
		ee.Path = joinPath(idx, ee.Path)
		return ee
	}
	return &EncodeError{Path: idx, Err: err}
}

func joinPath(outer, inner string) string {
	switch {
	case inner == "":
		return outer
	case inner[0] == '[':
		return outer + inner
	}
	return outer + "." + inner
}
