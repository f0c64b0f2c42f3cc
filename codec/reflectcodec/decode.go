package reflectcodec

import (
	"reflect"
	"strconv"
	"unsafe"

	"github.com/gotars/tars/codec"
)

// zeroBase is where empty, non-nil slices point: present-but-empty vectors
// decode as empty slices without allocating.
var zeroBase byte

// decodeFields reads the fields of a struct into base. Nested structs end at
// STRUCT_END; the top level ends with the input. Fields may come in any order;
// unknown tags are skipped; absent fields take their default (or zero), and an
// absent require field is an error naming the Go type and field.
func decodeFields(r *codec.Reader, st *structInfo, base unsafe.Pointer, nested bool) error {
	var seen [4]uint64
	for nested || r.Remaining() > 0 {
		h, err := r.ReadHead()
		if err != nil {
			return err
		}
		if h.Type == codec.StructEnd {
			if nested {
				break
			}
			return r.Errorf(codec.ErrMalformed, int(h.Tag), "field", "STRUCT_END outside a struct")
		}
		idx := st.byTag[h.Tag]
		if idx < 0 {
			if err := r.Skip(h); err != nil {
				return err
			}
			continue
		}
		f := &st.fields[idx]
		p := unsafe.Add(base, f.offset)
		switch f.ti.kind { // the common cases inline
		case kInt32:
			v, e := r.IntBody(h, codec.Int4)
			*(*int32)(p), err = int32(v), e
		case kString:
			*(*string)(p), err = r.StringBody(h)
		default:
			err = decodeValue(r, f.ti, h, p)
		}
		if err != nil {
			return pathErr(err, f.goName)
		}
		seen[idx>>6] |= 1 << (idx & 63)
	}
	if seen != st.all {
		for i := range st.fields {
			if seen[i>>6]&(1<<(i&63)) != 0 {
				continue
			}
			f := &st.fields[i]
			if f.tag.Require {
				return &codec.Error{Kind: codec.ErrRequiredMissing, Offset: r.Offset(), Tag: int(f.tag.ID),
					Expected: "require field " + st.name + "." + f.goName + " (tag " + strconv.Itoa(int(f.tag.ID)) + ")",
					Found:    "none", Path: f.goName}
			}
			f.setAbsent(unsafe.Add(base, f.offset))
		}
	}
	return nil
}

// setAbsent gives an absent optional field its default value, or zero.
func (f *fieldInfo) setAbsent(p unsafe.Pointer) {
	switch f.ti.kind {
	case kBool:
		*(*bool)(p) = f.defInt != 0
	case kInt8:
		*(*int8)(p) = int8(f.defInt)
	case kInt16:
		*(*int16)(p) = int16(f.defInt)
	case kInt32, kEnum:
		*(*int32)(p) = int32(f.defInt)
	case kInt64:
		*(*int64)(p) = f.defInt
	case kUint8:
		*(*uint8)(p) = uint8(f.defInt)
	case kUint16:
		*(*uint16)(p) = uint16(f.defInt)
	case kUint32:
		*(*uint32)(p) = uint32(f.defInt)
	case kFloat32:
		*(*float32)(p) = float32(f.defF)
	case kFloat64:
		*(*float64)(p) = f.defF
	case kString:
		*(*string)(p) = f.defStr
	case kStruct:
		setStructAbsent(f.ti, p)
	default:
		reflect.NewAt(f.ti.rt, p).Elem().SetZero()
	}
}

// setStructAbsent sets an absent struct to its zero value with every field's
// declared default applied.
func setStructAbsent(ti *typeInfo, p unsafe.Pointer) {
	reflect.NewAt(ti.rt, p).Elem().SetZero()
	for i := range ti.st.fields {
		f := &ti.st.fields[i]
		if f.tag.HasDefault || f.ti.kind == kStruct {
			f.setAbsent(unsafe.Add(p, f.offset))
		}
	}
}

func pathErr(err error, seg string) error {
	if ce, ok := err.(*codec.Error); ok {
		ce.Path = joinPath(seg, ce.Path)
	}
	return err
}

// elemHead reads the head of a container element and checks its tag.
func elemHead(r *codec.Reader, tag uint8) (codec.Head, error) {
	h, err := r.ReadHead()
	if err == nil && h.Tag != tag {
		err = r.Errorf(codec.ErrMalformed, int(h.Tag), "element with tag "+strconv.Itoa(int(tag)), "tag "+strconv.Itoa(int(h.Tag)))
	}
	return h, err
}

func (ti *typeInfo) intBody(r *codec.Reader, h codec.Head) (int64, error) {
	v, err := r.IntBody(h, ti.maxInt)
	if err == nil && (v < ti.lo || v > ti.hi) {
		err = r.Errorf(codec.ErrOutOfRange, int(h.Tag), ti.rt.String(), strconv.FormatInt(v, 10))
	}
	return v, err
}

// decodeValue reads the value whose head is h into p.
func decodeValue(r *codec.Reader, ti *typeInfo, h codec.Head, p unsafe.Pointer) error {
	switch ti.kind {
	case kBool:
		v, err := r.IntBody(h, codec.Int1)
		*(*bool)(p) = v != 0
		return err
	case kInt8:
		v, err := r.IntBody(h, codec.Int1)
		*(*int8)(p) = int8(v)
		return err
	case kInt16:
		v, err := r.IntBody(h, codec.Int2)
		*(*int16)(p) = int16(v)
		return err
	case kInt32, kEnum:
		v, err := r.IntBody(h, codec.Int4)
		*(*int32)(p) = int32(v)
		return err
	case kInt64:
		v, err := r.IntBody(h, codec.Int8)
		*(*int64)(p) = v
		return err
	case kUint8:
		v, err := ti.intBody(r, h)
		*(*uint8)(p) = uint8(v)
		return err
	case kUint16:
		v, err := ti.intBody(r, h)
		*(*uint16)(p) = uint16(v)
		return err
	case kUint32:
		v, err := ti.intBody(r, h)
		*(*uint32)(p) = uint32(v)
		return err
	case kFloat32:
		v, err := r.FloatBody(h)
		*(*float32)(p) = v
		return err
	case kFloat64:
		v, err := r.DoubleBody(h)
		*(*float64)(p) = v
		return err
	case kString:
		s, err := r.StringBody(h)
		*(*string)(p) = s
		return err
	case kBytes:
		b, err := r.BytesBody(h)
		if err != nil {
			return err
		}
		if h.Type == codec.SimpleList { // BytesBody aliases the input: copy
			b = append(make([]byte, 0, len(b)), b...)
		}
		if len(b) == 0 {
			b = unsafe.Slice(&zeroBase, 0)
		}
		*(*sliceHeader)(p) = sliceHeader{data: unsafe.Pointer(unsafe.SliceData(b)), len: len(b), cap: cap(b)}
		return nil
	case kArrayB:
		b, err := r.BytesBody(h)
		if err != nil {
			return err
		}
		if len(b) > ti.arrLen {
			return r.Errorf(codec.ErrTooLong, int(h.Tag), "at most "+strconv.Itoa(ti.arrLen)+" bytes", strconv.Itoa(len(b)))
		}
		dst := unsafe.Slice((*byte)(p), ti.arrLen)
		clear(dst[copy(dst, b):])
		return nil
	case kStrList:
		return decodeStrList(r, h, (*[]string)(p))
	case kSlice:
		return decodeSlice(r, ti, h, p)
	case kArray:
		return decodeArray(r, ti, h, p)
	case kStrMap:
		m, err := r.StringMapBody(h)
		*(*map[string]string)(p) = m
		return err
	case kMap:
		return decodeMap(r, ti, h, p)
	case kStruct:
		if h.Type != codec.StructBegin {
			return r.Errorf(codec.ErrTypeMismatch, int(h.Tag), "STRUCT_BEGIN", h.Type.String())
		}
		if err := r.Enter(); err != nil {
			return err
		}
		err := decodeFields(r, ti.st, p, true)
		r.Leave()
		return err
	case kPtr:
		np := reflect.New(ti.elem.rt).UnsafePointer()
		if err := decodeValue(r, ti.elem, h, np); err != nil {
			return err
		}
		*(*unsafe.Pointer)(p) = np
		return nil
	case kCustom:
		if h.Type != codec.StructBegin {
			return r.Errorf(codec.ErrTypeMismatch, int(h.Tag), "STRUCT_BEGIN", h.Type.String())
		}
		if err := r.Enter(); err != nil {
			return err
		}
		err := reflect.NewAt(ti.rt, p).Interface().(Unmarshaler).UnmarshalTARS(r)
		if err == nil {
			err = r.SkipToStructEnd()
		}
		r.Leave()
		return err
	}
	return r.Errorf(codec.ErrTypeMismatch, int(h.Tag), ti.rt.String(), h.Type.String())
}

func listLen(r *codec.Reader, elem *typeInfo, h codec.Head) (int, error) {
	n, err := r.ListLen(h)
	if err == nil && n*elem.minWire > r.Remaining() {
		err = r.Errorf(codec.ErrTooLong, int(h.Tag), "list within "+strconv.Itoa(r.Remaining())+" bytes", "length "+strconv.Itoa(n))
	}
	return n, err
}

func decodeStrList(r *codec.Reader, h codec.Head, dst *[]string) error {
	n, err := r.ListLen(h)
	if err != nil {
		return err
	}
	if n*2 > r.Remaining() {
		return r.Errorf(codec.ErrTooLong, int(h.Tag), "list within "+strconv.Itoa(r.Remaining())+" bytes", "length "+strconv.Itoa(n))
	}
	s := make([]string, n)
	for i := range s {
		eh, err := elemHead(r, 0)
		if err != nil {
			return pathErr(err, "["+strconv.Itoa(i)+"]")
		}
		if s[i], err = r.StringBody(eh); err != nil {
			return pathErr(err, "["+strconv.Itoa(i)+"]")
		}
	}
	*dst = s
	return nil
}

func decodeSlice(r *codec.Reader, ti *typeInfo, h codec.Head, p unsafe.Pointer) error {
	if h.Type == codec.SimpleList {
		return r.Errorf(codec.ErrTypeMismatch, int(h.Tag), "LIST", "SIMPLE_LIST")
	}
	n, err := listLen(r, ti.elem, h)
	if err != nil {
		return err
	}
	if err := r.Enter(); err != nil {
		return err
	}
	defer r.Leave()
	var data unsafe.Pointer
	if n == 0 {
		data = unsafe.Pointer(&zeroBase)
	} else {
		data = reflect.MakeSlice(ti.rt, n, n).UnsafePointer()
	}
	elem := ti.elem
	for i := range n {
		eh, err := elemHead(r, 0)
		if err == nil {
			err = decodeValue(r, elem, eh, unsafe.Add(data, uintptr(i)*elem.size))
		}
		if err != nil {
			return pathErr(err, "["+strconv.Itoa(i)+"]")
		}
	}
	*(*sliceHeader)(p) = sliceHeader{data: data, len: n, cap: n}
	return nil
}

func decodeArray(r *codec.Reader, ti *typeInfo, h codec.Head, p unsafe.Pointer) error {
	n, err := listLen(r, ti.elem, h)
	if err != nil {
		return err
	}
	if n > ti.arrLen {
		return r.Errorf(codec.ErrTooLong, int(h.Tag), "at most "+strconv.Itoa(ti.arrLen)+" elements", strconv.Itoa(n))
	}
	if err := r.Enter(); err != nil {
		return err
	}
	defer r.Leave()
	reflect.NewAt(ti.rt, p).Elem().SetZero()
	for i := range n {
		eh, err := elemHead(r, 0)
		if err == nil {
			err = decodeValue(r, ti.elem, eh, unsafe.Add(p, uintptr(i)*ti.elem.size))
		}
		if err != nil {
			return pathErr(err, "["+strconv.Itoa(i)+"]")
		}
	}
	return nil
}

func decodeMap(r *codec.Reader, ti *typeInfo, h codec.Head, p unsafe.Pointer) error {
	n, err := r.MapLen(h)
	if err != nil {
		return err
	}
	if n*(ti.key.minWire+ti.elem.minWire) > r.Remaining() {
		return r.Errorf(codec.ErrTooLong, int(h.Tag), "map within "+strconv.Itoa(r.Remaining())+" bytes", "length "+strconv.Itoa(n))
	}
	if err := r.Enter(); err != nil {
		return err
	}
	defer r.Leave()
	m := reflect.MakeMapWithSize(ti.rt, n)
	k := reflect.New(ti.key.rt).Elem()
	v := reflect.New(ti.elem.rt).Elem()
	kp, vp := k.Addr().UnsafePointer(), v.Addr().UnsafePointer()
	for i := range n {
		kh, err := elemHead(r, 0)
		if err == nil {
			err = decodeValue(r, ti.key, kh, kp)
		}
		var vh codec.Head
		if err == nil {
			vh, err = elemHead(r, 1)
		}
		if err == nil {
			err = decodeValue(r, ti.elem, vh, vp)
		}
		if err != nil {
			return pathErr(err, "["+strconv.Itoa(i)+"]")
		}
		m.SetMapIndex(k, v)
	}
	reflect.NewAt(ti.rt, p).Elem().Set(m)
	return nil
}
