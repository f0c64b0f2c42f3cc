package reflectcodec

import (
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

type encoder struct {
	w     *codec.Writer
	depth int
}

// fields writes the fields of a struct in tag order (no STRUCT_BEGIN/END).
func (e *encoder) fields(st *structInfo, base unsafe.Pointer) error {
	w := e.w
	for i := range st.fields {
		f := &st.fields[i]
		p := unsafe.Add(base, f.offset)
		// The common scalars inline; everything else through value.
		switch f.ti.kind {
		case kInt32:
			v := int64(*(*int32)(p))
			if !f.omitDef || v != f.defInt {
				w.WriteInt64(f.tag.ID, v)
			}
			continue
		case kInt64:
			v := *(*int64)(p)
			if !f.omitDef || v != f.defInt {
				w.WriteInt64(f.tag.ID, v)
			}
			continue
		case kString:
			v := *(*string)(p)
			if !f.omitDef || v != f.defStr {
				if len(v) > math.MaxInt32 {
					return tooLarge(st, f)
				}
				w.WriteString(f.tag.ID, v)
			}
			continue
		}
		if f.omitDef && f.isDefault(p) {
			continue
		}
		if err := e.value(f.ti, f.tag.ID, p); err != nil {
			return fieldErr(err, st, f)
		}
	}
	return nil
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
	case kMap, kStrMap:
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

// value writes the value at p with the given tag.
func (e *encoder) value(ti *typeInfo, tag uint8, p unsafe.Pointer) error {
	w := e.w
	switch ti.kind {
	case kBool:
		w.WriteBool(tag, *(*bool)(p))
	case kInt8:
		w.WriteInt64(tag, int64(*(*int8)(p)))
	case kInt16:
		w.WriteInt64(tag, int64(*(*int16)(p)))
	case kInt32, kEnum:
		w.WriteInt64(tag, int64(*(*int32)(p)))
	case kInt64:
		w.WriteInt64(tag, *(*int64)(p))
	case kUint8:
		w.WriteInt64(tag, int64(*(*uint8)(p)))
	case kUint16:
		w.WriteInt64(tag, int64(*(*uint16)(p)))
	case kUint32:
		w.WriteInt64(tag, int64(*(*uint32)(p)))
	case kFloat32:
		w.WriteFloat32(tag, *(*float32)(p))
	case kFloat64:
		w.WriteFloat64(tag, *(*float64)(p))
	case kString:
		s := *(*string)(p)
		if len(s) > math.MaxInt32 {
			return ErrTooLarge
		}
		w.WriteString(tag, s)
	case kBytes:
		sh := (*sliceHeader)(p)
		if sh.len > math.MaxInt32 {
			return ErrTooLarge
		}
		w.WriteBytes(tag, unsafe.Slice((*byte)(sh.data), sh.len))
	case kArrayB:
		w.WriteBytes(tag, unsafe.Slice((*byte)(p), ti.arrLen))
	case kStrList:
		s := *(*[]string)(p)
		if len(s) > math.MaxInt32 {
			return ErrTooLarge
		}
		w.WriteListHeader(tag, len(s))
		for _, v := range s {
			if len(v) > math.MaxInt32 {
				return ErrTooLarge
			}
			w.WriteString(0, v)
		}
	case kSlice:
		sh := (*sliceHeader)(p)
		return e.list(ti.elem, tag, sh.data, sh.len)
	case kArray:
		return e.list(ti.elem, tag, p, ti.arrLen)
	case kStrMap:
		m := *(*map[string]string)(p)
		w.WriteMapHeader(tag, len(m))
		for k, v := range m {
			if len(k) > math.MaxInt32 || len(v) > math.MaxInt32 {
				return ErrTooLarge
			}
			w.WriteString(0, k)
			w.WriteString(1, v)
		}
	case kMap:
		return e.mapValue(ti, tag, p)
	case kStruct:
		if e.depth++; e.depth > maxEncodeDepth {
			return ErrCycle
		}
		w.WriteStructBegin(tag)
		if err := e.fields(ti.st, p); err != nil {
			return err
		}
		w.WriteStructEnd()
		e.depth--
	case kPtr:
		pp := *(*unsafe.Pointer)(p)
		if pp == nil { // a nil require pointer is written as the zero value
			pp = reflect.New(ti.elem.rt).UnsafePointer()
		}
		return e.value(ti.elem, tag, pp)
	case kCustom:
		if e.depth++; e.depth > maxEncodeDepth {
			return ErrCycle
		}
		w.WriteStructBegin(tag)
		if err := reflect.NewAt(ti.rt, p).Interface().(Marshaler).MarshalTARS(w); err != nil {
			return err
		}
		w.WriteStructEnd()
		e.depth--
	}
	return nil
}

func (e *encoder) list(elem *typeInfo, tag uint8, data unsafe.Pointer, n int) error {
	if n > math.MaxInt32 {
		return ErrTooLarge
	}
	e.w.WriteListHeader(tag, n)
	for i := range n {
		if err := e.value(elem, 0, unsafe.Add(data, uintptr(i)*elem.size)); err != nil {
			return indexErr(err, i)
		}
	}
	return nil
}

func (e *encoder) mapValue(ti *typeInfo, tag uint8, p unsafe.Pointer) error {
	m := reflect.NewAt(ti.rt, p).Elem()
	n := m.Len()
	if n > math.MaxInt32 {
		return ErrTooLarge
	}
	e.w.WriteMapHeader(tag, n)
	if n == 0 {
		return nil
	}
	k := reflect.New(ti.key.rt).Elem()
	v := reflect.New(ti.elem.rt).Elem()
	kp, vp := k.Addr().UnsafePointer(), v.Addr().UnsafePointer()
	for it := m.MapRange(); it.Next(); {
		k.SetIterKey(it)
		v.SetIterValue(it)
		if err := e.value(ti.key, 0, kp); err != nil {
			return err
		}
		if err := e.value(ti.elem, 1, vp); err != nil {
			return err
		}
	}
	return nil
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
