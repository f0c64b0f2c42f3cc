package reflectcodec

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"sync"
	"unsafe"

	"github.com/gotars/tars/codec"
)

// kind is the codec's classification of a Go type.
type kind uint8

const (
	kBool kind = iota
	kInt8
	kInt16
	kInt32
	kInt64
	kUint8
	kUint16
	kUint32
	kFloat32
	kFloat64
	kString
	kEnum    // named int32 type: always written, like tars2go's enums
	kBytes   // []byte, []int8 and friends: SIMPLE_LIST
	kArrayB  // [N]byte: SIMPLE_LIST
	kSlice   // []T: LIST
	kArray   // [N]T: LIST
	kMap     // map[K]V: MAP
	kStruct  // nested struct: STRUCT_BEGIN ... STRUCT_END
	kPtr     // *T: nil is absent
	kCustom  // implements Marshaler and Unmarshaler
	kStrList // []string, specialised
	kStrMap  // map[string]string, specialised
)

// typeInfo is the compiled plan for one Go type.
type typeInfo struct {
	rt      reflect.Type
	kind    kind
	size    uintptr
	minWire int // the fewest input bytes one value of this type takes, head included
	elem    *typeInfo
	key     *typeInfo // maps
	arrLen  int       // arrays
	st      *structInfo
	maxInt  codec.Type // widest wire integer accepted (integers)
	lo, hi  int64      // range of integers
	fmap    *fastMap   // maps of plain scalars: the typed codec (fastmap.go)
}

// fieldInfo is one encoded field of a struct.
type fieldInfo struct {
	goName  string
	tag     Tag
	offset  uintptr
	ti      *typeInfo
	omitDef bool // optional: leave out when equal to the default
	defInt  int64
	defF    float64
	defStr  string
}

// structInfo is the plan for a struct: fields in ascending tag order.
type structInfo struct {
	name     string
	fields   []fieldInfo
	byTag    [256]int16 // tag -> index in fields, -1 when unknown
	all      [4]uint64  // bit i set for field i
	required [4]uint64  // bit i set for require fields
}

// TypeError reports a Go type that cannot be mapped onto TARS. It is returned
// when the type is first registered or used, never halfway through a call.
type TypeError struct {
	Type   reflect.Type // the struct (or other type) at fault
	Field  string       // the Go field name, "" when the type itself is at fault
	Reason string
}

// Error names the type, the field and the reason.
func (e *TypeError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("reflectcodec: type %v: %s", e.Type, e.Reason)
	}
	return fmt.Sprintf("reflectcodec: %v.%s: %s", e.Type, e.Field, e.Reason)
}

var (
	cache     sync.Map // reflect.Type -> *typeInfo or *TypeError
	compileMu sync.Mutex
)

var (
	marshalerType   = reflect.TypeFor[Marshaler]()
	unmarshalerType = reflect.TypeFor[Unmarshaler]()
)

// infoFor returns the cached plan for t, compiling it on first use.
func infoFor(t reflect.Type) (*typeInfo, error) {
	if v, ok := cache.Load(t); ok {
		if ti, ok := v.(*typeInfo); ok {
			return ti, nil
		}
		return nil, v.(*TypeError)
	}
	compileMu.Lock()
	defer compileMu.Unlock()
	if v, ok := cache.Load(t); ok { // compiled while we waited
		if ti, ok := v.(*typeInfo); ok {
			return ti, nil
		}
		return nil, v.(*TypeError)
	}
	c := compiler{pending: map[reflect.Type]*typeInfo{}}
	ti, err := c.compile(t)
	if err != nil {
		te, ok := err.(*TypeError)
		if !ok {
			te = &TypeError{Type: t, Reason: err.Error()}
		}
		cache.Store(t, te)
		return nil, te
	}
	for rt, info := range c.pending {
		cache.Store(rt, info)
	}
	return ti, nil
}

type compiler struct {
	pending map[reflect.Type]*typeInfo
}

func (c *compiler) compile(t reflect.Type) (*typeInfo, error) {
	if v, ok := cache.Load(t); ok {
		if ti, ok := v.(*typeInfo); ok {
			return ti, nil
		}
		return nil, v.(*TypeError)
	}
	if ti, ok := c.pending[t]; ok {
		return ti, nil // recursive type: the plan is being built
	}
	ti := &typeInfo{rt: t, size: t.Size(), minWire: 1}
	c.pending[t] = ti
	if err := c.fill(ti); err != nil {
		delete(c.pending, t)
		return nil, err
	}
	return ti, nil
}

func intInfo(ti *typeInfo, k kind, max codec.Type, lo, hi int64) error {
	ti.kind, ti.maxInt, ti.lo, ti.hi = k, max, lo, hi
	return nil
}

func (c *compiler) fill(ti *typeInfo) error {
	t := ti.rt
	pt := reflect.PointerTo(t)
	if pt.Implements(marshalerType) || pt.Implements(unmarshalerType) {
		if !pt.Implements(marshalerType) || !pt.Implements(unmarshalerType) {
			return &TypeError{Type: t, Reason: "implements only one of Marshaler and Unmarshaler; implement both or neither"}
		}
		if t.Kind() != reflect.Struct {
			return &TypeError{Type: t, Reason: "a Marshaler must be a struct type (it is encoded as a TARS struct)"}
		}
		ti.kind, ti.minWire = kCustom, 2
		return nil
	}
	switch t.Kind() {
	case reflect.Bool:
		return intInfo(ti, kBool, codec.Int1, 0, 1)
	case reflect.Int8:
		return intInfo(ti, kInt8, codec.Int1, math.MinInt8, math.MaxInt8)
	case reflect.Int16:
		return intInfo(ti, kInt16, codec.Int2, math.MinInt16, math.MaxInt16)
	case reflect.Int32:
		if t.Name() != "" && t.PkgPath() != "" {
			return intInfo(ti, kEnum, codec.Int4, math.MinInt32, math.MaxInt32)
		}
		return intInfo(ti, kInt32, codec.Int4, math.MinInt32, math.MaxInt32)
	case reflect.Int64:
		return intInfo(ti, kInt64, codec.Int8, math.MinInt64, math.MaxInt64)
	case reflect.Uint8:
		return intInfo(ti, kUint8, codec.Int2, 0, math.MaxUint8)
	case reflect.Uint16:
		return intInfo(ti, kUint16, codec.Int4, 0, math.MaxUint16)
	case reflect.Uint32:
		return intInfo(ti, kUint32, codec.Int8, 0, math.MaxUint32)
	case reflect.Float32:
		ti.kind = kFloat32
	case reflect.Float64:
		ti.kind = kFloat64
	case reflect.String:
		ti.kind, ti.minWire = kString, 2
	case reflect.Int, reflect.Uint, reflect.Uintptr:
		return &TypeError{Type: t, Reason: "Go " + t.Kind().String() + " has no fixed TARS width; use int32 or int64 (uint32 for unsigned int)"}
	case reflect.Uint64:
		return &TypeError{Type: t, Reason: "TARS has no unsigned long; use int64"}
	case reflect.Slice, reflect.Array:
		et := t.Elem()
		if et.Kind() == reflect.Uint8 || et.Kind() == reflect.Int8 {
			if _, err := c.compile(et); err != nil {
				return err
			}
			ti.minWire = 2
			if t.Kind() == reflect.Slice {
				ti.kind = kBytes
			} else {
				ti.kind, ti.arrLen = kArrayB, t.Len()
			}
			return nil
		}
		elem, err := c.compile(et)
		if err != nil {
			return err
		}
		ti.elem, ti.minWire = elem, 2
		switch {
		case t.Kind() == reflect.Array:
			ti.kind, ti.arrLen = kArray, t.Len()
		case et == reflect.TypeFor[string]():
			ti.kind = kStrList
		default:
			ti.kind = kSlice
		}
	case reflect.Map:
		key, err := c.compile(t.Key())
		if err != nil {
			return err
		}
		switch key.kind {
		case kSlice, kMap, kBytes, kStrList, kStrMap, kPtr:
			return &TypeError{Type: t, Reason: "map key type " + t.Key().String() + " is not comparable in Go or cannot key a TARS map"}
		}
		val, err := c.compile(t.Elem())
		if err != nil {
			return err
		}
		ti.key, ti.elem, ti.minWire = key, val, 2
		if t.Key() == reflect.TypeFor[string]() && t.Elem() == reflect.TypeFor[string]() {
			ti.kind = kStrMap
		} else {
			ti.kind, ti.fmap = kMap, fastMaps[t]
		}
	case reflect.Pointer:
		if t.Elem().Kind() == reflect.Pointer {
			return &TypeError{Type: t, Reason: "pointer to pointer is not supported"}
		}
		elem, err := c.compile(t.Elem())
		if err != nil {
			return err
		}
		ti.kind, ti.elem, ti.minWire = kPtr, elem, elem.minWire
	case reflect.Struct:
		ti.kind, ti.minWire = kStruct, 2
		st, err := c.compileStruct(t)
		if err != nil {
			return err
		}
		ti.st = st
	default:
		return &TypeError{Type: t, Reason: "Go " + t.Kind().String() + " cannot be encoded in TARS"}
	}
	return nil
}

func (c *compiler) compileStruct(t reflect.Type) (*structInfo, error) {
	st := &structInfo{name: t.Name()}
	if st.name == "" {
		st.name = t.String()
	}
	for i := range st.byTag {
		st.byTag[i] = -1
	}
	for i := range t.NumField() {
		sf := t.Field(i)
		raw, hasTag := sf.Tag.Lookup("tars")
		if !sf.IsExported() {
			if hasTag && raw != "-" {
				return nil, &TypeError{Type: t, Field: sf.Name, Reason: "unexported field has a tars tag; export it or drop the tag"}
			}
			continue
		}
		if sf.Anonymous && !hasTag && sf.Type.Kind() == reflect.Struct && sf.Type.NumField() == 0 {
			continue // an empty marker struct (such as tars.Results) carries nothing
		}
		if sf.Anonymous && !hasTag {
			return nil, &TypeError{Type: t, Field: sf.Name, Reason: `embedded fields are not flattened; give the field a tars tag or tars:"-"`}
		}
		tag, err := ParseTag(sf.Name, raw)
		if err != nil {
			return nil, &TypeError{Type: t, Field: sf.Name, Reason: err.Error()}
		}
		if tag.Skip {
			continue
		}
		if j := st.byTag[tag.ID]; j >= 0 {
			return nil, &TypeError{Type: t, Field: sf.Name, Reason: fmt.Sprintf("field id %d is also used by %s", tag.ID, st.fields[j].goName)}
		}
		fti, err := c.compile(sf.Type)
		if err != nil {
			if te, ok := err.(*TypeError); ok && te.Field == "" {
				return nil, &TypeError{Type: t, Field: sf.Name, Reason: te.Reason}
			}
			return nil, err
		}
		f := fieldInfo{goName: sf.Name, tag: tag, offset: sf.Offset, ti: fti}
		if err := f.setDefault(); err != nil {
			return nil, &TypeError{Type: t, Field: sf.Name, Reason: err.Error()}
		}
		st.byTag[tag.ID] = int16(len(st.fields))
		st.fields = append(st.fields, f)
	}
	// Fields in ascending tag order, as the wire wants them.
	sortFields(st.fields)
	for i := range st.byTag {
		st.byTag[i] = -1
	}
	for i := range st.fields {
		f := &st.fields[i]
		st.byTag[f.tag.ID] = int16(i)
		st.all[i>>6] |= 1 << (i & 63)
		if f.tag.Require {
			st.required[i>>6] |= 1 << (i & 63)
		}
	}
	return st, nil
}

func sortFields(fs []fieldInfo) {
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].tag.ID < fs[j-1].tag.ID; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}

// setDefault parses the field's default and decides whether an optional value
// equal to it is left out, as tars2go's generated code does: optional scalars
// equal to their default and empty optional vectors and maps are not written;
// structs, enums and require fields always are.
func (f *fieldInfo) setDefault() error {
	k := f.ti.kind
	opt := !f.tag.Require
	switch k {
	case kBool, kInt8, kInt16, kInt32, kInt64, kUint8, kUint16, kUint32, kEnum:
		f.omitDef = opt && k != kEnum
		if f.tag.HasDefault {
			v, err := strconv.ParseInt(f.tag.Default, 0, 64)
			if k == kBool {
				var b bool
				b, err = strconv.ParseBool(f.tag.Default)
				if b {
					v = 1
				}
			}
			if err != nil || v < f.ti.lo || v > f.ti.hi {
				return fmt.Errorf("default %q is not a valid %v", f.tag.Default, f.ti.rt)
			}
			f.defInt = v
		}
	case kFloat32, kFloat64:
		f.omitDef = opt
		if f.tag.HasDefault {
			bits := 64
			if k == kFloat32 {
				bits = 32
			}
			v, err := strconv.ParseFloat(f.tag.Default, bits)
			if err != nil {
				return fmt.Errorf("default %q is not a valid %v", f.tag.Default, f.ti.rt)
			}
			f.defF = v
		}
	case kString:
		f.omitDef = opt
		f.defStr = f.tag.Default
	case kBytes, kSlice, kStrList, kMap, kStrMap, kPtr:
		f.omitDef = opt
		if f.tag.HasDefault {
			return fmt.Errorf("default= is only allowed on scalar and string fields")
		}
	default:
		if f.tag.HasDefault {
			return fmt.Errorf("default= is only allowed on scalar and string fields")
		}
	}
	return nil
}

// sliceHeader is the runtime layout of a Go slice.
type sliceHeader struct {
	data unsafe.Pointer
	len  int
	cap  int
}
