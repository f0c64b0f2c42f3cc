package reflectcodec

import (
	"math"
	"reflect"
	"strconv"
	"unsafe"

	"github.com/gotars/tars/codec"
	"github.com/gotars/tars/internal/wire"
)

// Decoding charges the Go memory it allocates to the Reader's budget
// (codec.Reader.SetBudget) before it allocates: strings at their length,
// slices at their element size times their length, maps at wire.MapCost,
// pointers at the size of their target. A length on the wire is taken at
// its word only when the budget can pay for it.

// view returns the Reader's state, for the fast paths of package wire.
func view(r *codec.Reader) *wire.Reader { return (*wire.Reader)(unsafe.Pointer(r)) }

// tryHead is wire.Reader.TryHead with the head decoded.
func tryHead(rw *wire.Reader) (codec.Head, bool) {
	b, ok := rw.TryHead()
	return codec.Head{Tag: b >> 4, Type: codec.Type(b & 0x0F)}, ok
}

// cost is what an array of n values of size bytes costs, saturating.
func cost(n int, size uintptr) int {
	if size != 0 && uintptr(n) > uintptr(math.MaxInt)/size {
		return math.MaxInt
	}
	return wire.Alloc(n * int(size))
}

// zeroBase is where empty, non-nil slices point: present-but-empty vectors
// decode as empty slices without allocating.
var zeroBase byte

// decodeFields reads the fields of a struct into base. Nested structs end at
// STRUCT_END; the top level ends with the input. Fields may come in any order;
// unknown tags are skipped; absent fields take their default (or zero), and an
// absent require field is an error naming the Go type and field.
func decodeFields(r *codec.Reader, st *structInfo, base unsafe.Pointer, nested bool) error {
	var seen [4]uint64 // the fields read, by index
	rw := view(r)
	for nested || r.Remaining() > 0 {
		h, ok := tryHead(rw)
		var err error
		if !ok {
			if h, err = r.ReadHead(); err != nil {
				return err
			}
		}
		if h.Type == codec.StructEnd {
			if nested {
				break
			}
			return r.Errorf(codec.ErrMalformed, int(h.Tag), "field", "STRUCT_END outside a struct")
		}
		idx := uint(st.byTag[h.Tag])
		if idx >= uint(len(st.fields)) { // -1: a tag we do not know
			if err := r.Skip(h); err != nil {
				return err
			}
			continue
		}
		f := &st.fields[idx]
		p := unsafe.Add(base, f.offset)
		ti := f.ti
		switch ti.kind { // the scalars and the common containers inline
		case kInt32, kEnum:
			v, ok := rw.TryIntBody(uint8(h.Type), uint8(codec.Int4))
			if !ok {
				v, err = r.IntBody(h, codec.Int4)
			}
			*(*int32)(p) = int32(v)
		case kInt64:
			v, ok := rw.TryIntBody(uint8(h.Type), uint8(codec.Int8))
			if !ok {
				v, err = r.IntBody(h, codec.Int8)
			}
			*(*int64)(p) = v
		case kBool:
			v, ok := rw.TryIntBody(uint8(h.Type), uint8(codec.Int1))
			if !ok {
				v, err = r.IntBody(h, codec.Int1)
			}
			*(*bool)(p) = v != 0
		case kInt8:
			v, ok := rw.TryIntBody(uint8(h.Type), uint8(codec.Int1))
			if !ok {
				v, err = r.IntBody(h, codec.Int1)
			}
			*(*int8)(p) = int8(v)
		case kInt16:
			v, ok := rw.TryIntBody(uint8(h.Type), uint8(codec.Int2))
			if !ok {
				v, err = r.IntBody(h, codec.Int2)
			}
			*(*int16)(p) = int16(v)
		case kUint8, kUint16, kUint32: // carried one size wider: check the range
			v, ok := rw.TryIntBody(uint8(h.Type), uint8(ti.maxInt))
			if !ok || v < ti.lo || v > ti.hi {
				if !ok {
					v, err = r.IntBody(h, ti.maxInt)
				}
				if err == nil && (v < ti.lo || v > ti.hi) {
					err = ti.rangeError(r, h, v)
				}
			}
			switch ti.kind {
			case kUint8:
				*(*uint8)(p) = uint8(v)
			case kUint16:
				*(*uint16)(p) = uint16(v)
			default:
				*(*uint32)(p) = uint32(v)
			}
		case kFloat32:
			if h.Type == codec.Float {
				if x, ok := rw.TryFixedBody(4); ok {
					*(*float32)(p) = math.Float32frombits(uint32(x))
					break
				}
			}
			*(*float32)(p), err = r.FloatBody(h)
		case kFloat64:
			if h.Type == codec.Double {
				if x, ok := rw.TryFixedBody(8); ok {
					*(*float64)(p) = math.Float64frombits(x)
					break
				}
			}
			*(*float64)(p), err = r.DoubleBody(h)
		case kString:
			if b, ok := rw.TryString1Body(uint8(h.Type)); ok {
				if len(b) > 0 && !rw.Charge(wire.Alloc(len(b))) {
					err = r.Charge(wire.Alloc(len(b)))
					break
				}
				*(*string)(p) = string(b)
			} else {
				*(*string)(p), err = r.StringBody(h)
			}
		case kStrList:
			err = decodeStrList(r, h, (*[]string)(p))
		case kStrMap:
			err = decodeStrMap(r, h, (*map[string]string)(p))
		default:
			err = decodeValue(r, f.ti, h, p)
		}
		if err != nil {
			return pathErr(err, f.goName)
		}
		seen[idx>>6&3] |= 1 << (idx & 63)
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
		err = elemTagError(r, h, tag)
	}
	return h, err
}

func elemTagError(r *codec.Reader, h codec.Head, tag uint8) error {
	return r.Errorf(codec.ErrMalformed, int(h.Tag), "element with tag "+strconv.Itoa(int(tag)), "tag "+strconv.Itoa(int(h.Tag)))
}

func (ti *typeInfo) intBody(r *codec.Reader, h codec.Head) (int64, error) {
	v, err := r.IntBody(h, ti.maxInt)
	if err == nil && (v < ti.lo || v > ti.hi) {
		err = ti.rangeError(r, h, v)
	}
	return v, err
}

// rangeError reports an integer that does not fit the (unsigned) Go type.
func (ti *typeInfo) rangeError(r *codec.Reader, h codec.Head, v int64) error {
	return r.Errorf(codec.ErrOutOfRange, int(h.Tag), ti.rt.String(), strconv.FormatInt(v, 10))
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
			if err := r.Charge(wire.Alloc(len(b))); err != nil {
				return err
			}
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
		return decodeStrMap(r, h, (*map[string]string)(p))
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
		if err := r.Charge(wire.Alloc(int(ti.elem.size))); err != nil {
			return err
		}
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

// Strings decoded into a []string or a map[string]string share one
// allocation per container instead of one each: the elements are first read
// as views of the input, measured, and then copied together into a block that
// only these strings reference. No decoded string aliases the caller's input;
// a string kept from such a container keeps the container's block alive.

func decodeStrList(r *codec.Reader, h codec.Head, dst *[]string) error {
	n, err := r.ListLen(h)
	if err != nil {
		return err
	}
	if n*2 > r.Remaining() {
		return r.Errorf(codec.ErrTooLong, int(h.Tag), "list within "+strconv.Itoa(r.Remaining())+" bytes", "length "+strconv.Itoa(n))
	}
	if err := r.Charge(cost(n, uintptr(wire.StringSize))); err != nil {
		return err
	}
	s := make([]string, n)
	total := 0
	for i := range s {
		b, err := elemString(r, 0)
		if err != nil {
			return pathErr(err, "["+strconv.Itoa(i)+"]")
		}
		s[i] = wire.UnsafeString(b) // a view of the input until copied below
		total += len(b)
	}
	if err := r.Charge(wire.Alloc(total)); err != nil {
		return err
	}
	block := make([]byte, 0, total)
	for i, v := range s {
		s[i], block = blockCopy(block, v) // "" for an empty string: no pointer into the input
	}
	*dst = s
	return nil
}

// decodeStrMap reads a map<string,string>. Up to 8 entries are read in one
// pass into a scratch array on the stack; larger maps take two passes over
// their bytes, the first to check every entry and measure the strings, the
// second to copy them. Either way the strings land in one block.
func decodeStrMap(r *codec.Reader, h codec.Head, dst *map[string]string) error {
	n, err := r.MapLen(h)
	if err != nil {
		return err
	}
	if err := r.Charge(wire.MapCost(n, wire.StringSize, wire.StringSize)); err != nil {
		return err
	}
	var scratch [16]string
	region := r.Rest()
	total := 0
	for i := range n {
		for tag := uint8(0); tag < 2; tag++ {
			b, err := elemString(r, tag)
			if err != nil {
				return pathErr(err, "["+strconv.Itoa(i)+"]")
			}
			if j := 2*i + int(tag); j < len(scratch) {
				scratch[j] = wire.UnsafeString(b) // a view of the input until copied below
			}
			total += len(b)
		}
	}
	if err := r.Charge(wire.Alloc(total)); err != nil {
		return err
	}
	m := make(map[string]string, n)
	block := make([]byte, 0, total)
	if 2*n <= len(scratch) {
		for i := 0; i < 2*n; i += 2 {
			var k, v string
			k, block = blockCopy(block, scratch[i])
			v, block = blockCopy(block, scratch[i+1])
			m[k] = v
		}
		*dst = m
		return nil
	}
	var sub codec.Reader
	sub.SetLimits(r.Limits())
	sub.Reset(region[:len(region)-r.Remaining()])
	for range n {
		var k, v string
		if k, block, err = blockString(&sub, block); err != nil {
			return err
		}
		if v, block, err = blockString(&sub, block); err != nil {
			return err
		}
		m[k] = v
	}
	*dst = m
	return nil
}

// elemString reads a string element of a container, with the given tag, as a
// view of the input.
func elemString(r *codec.Reader, tag uint8) ([]byte, error) {
	rw := view(r)
	h, ok := tryHead(rw)
	if ok && h.Tag == tag {
		if b, ok := rw.TryString1Body(uint8(h.Type)); ok {
			return b, nil
		}
	} else {
		if !ok {
			var err error
			if h, err = r.ReadHead(); err != nil {
				return nil, err
			}
		}
		if h.Tag != tag {
			return nil, elemTagError(r, h, tag)
		}
	}
	return r.StringBytesBody(h)
}

// blockCopy copies s to the end of block, which has the capacity for it, and
// returns the copy.
func blockCopy(block []byte, s string) (string, []byte) {
	if len(s) == 0 {
		return "", block
	}
	off := len(block)
	block = append(block, s...)
	return unsafe.String(&block[off], len(s)), block
}

// blockString reads a string that decodeStrMap has checked already and copies
// it to the end of block, which has the capacity for it.
func blockString(r *codec.Reader, block []byte) (string, []byte, error) {
	h, err := r.ReadHead()
	if err != nil {
		return "", block, err
	}
	b, err := r.StringBytesBody(h)
	if err != nil {
		return "", block, err
	}
	s, block := blockCopy(block, wire.UnsafeString(b))
	return s, block, nil
}

func decodeSlice(r *codec.Reader, ti *typeInfo, h codec.Head, p unsafe.Pointer) error {
	if h.Type == codec.SimpleList {
		return r.Errorf(codec.ErrTypeMismatch, int(h.Tag), "LIST", "SIMPLE_LIST")
	}
	n, err := listLen(r, ti.elem, h)
	if err != nil {
		return err
	}
	if n == 0 {
		*(*sliceHeader)(p) = sliceHeader{data: unsafe.Pointer(&zeroBase)}
		return nil
	}
	if err := r.Charge(cost(n, ti.elem.size)); err != nil {
		return err
	}
	if err := r.Enter(); err != nil {
		return err
	}
	defer r.Leave()
	// A new backing array straight into the destination: reflect.MakeSlice
	// would allocate a slice header on top of it.
	*(*sliceHeader)(p) = sliceHeader{}
	sv := reflect.NewAt(ti.rt, p).Elem()
	sv.Grow(n)
	sv.SetLen(n)
	data := (*sliceHeader)(p).data
	elem := ti.elem
	if elem.kind == kStruct { // vector<struct>, the common case, without the per-element switch
		if err := r.Enter(); err != nil {
			return err
		}
		defer r.Leave()
		rw := view(r)
		for i := range n {
			eh, ok := tryHead(rw)
			var err error
			if !ok {
				eh, err = r.ReadHead()
			}
			if err == nil && eh.Tag != 0 {
				err = elemTagError(r, eh, 0)
			}
			if err == nil && eh.Type != codec.StructBegin {
				err = r.Errorf(codec.ErrTypeMismatch, int(eh.Tag), "STRUCT_BEGIN", eh.Type.String())
			}
			if err == nil {
				err = decodeFields(r, elem.st, unsafe.Add(data, uintptr(i)*elem.size), true)
			}
			if err != nil {
				return pathErr(err, "["+strconv.Itoa(i)+"]")
			}
		}
		return nil
	}
	for i := range n {
		eh, err := elemHead(r, 0)
		if err == nil {
			err = decodeValue(r, elem, eh, unsafe.Add(data, uintptr(i)*elem.size))
		}
		if err != nil {
			return pathErr(err, "["+strconv.Itoa(i)+"]")
		}
	}
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
	if err := r.Charge(wire.MapCost(n, int(ti.key.size), int(ti.elem.size))); err != nil {
		return err
	}
	if err := r.Enter(); err != nil {
		return err
	}
	defer r.Leave()
	if ti.fmap != nil {
		return ti.fmap.dec(r, n, p)
	}
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
