package reflectcodec

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/gotars/tars/codec"
	"github.com/gotars/tars/internal/wire"
)

// JSON (TARS packet version 5) carries values as the JSON that TarsGo's
// generated code produces with encoding/json for the equivalent IDL, and
// reads what that code reads:
//
//   - a struct is an object keyed by IDL field names (the name= of the tars
//     tag, or the lowerCamel Go name), every field written, in Go declaration
//     order (tars2go declares its fields in IDL order);
//   - bool, integers, enums and floats are JSON booleans and numbers, floats
//     formatted as encoding/json formats them; NaN and infinities cannot be
//     written;
//   - strings are escaped as encoding/json escapes them (HTML characters
//     included), invalid UTF-8 as U+FFFD;
//   - vector<byte> ([]byte, []int8, [N]byte) is an array of signed numbers,
//     as tars2go's []int8 is (not base64); when reading, a base64 string is
//     accepted too, and numbers from -128 to 255;
//   - other vectors are arrays and maps are objects, integer keys written in
//     decimal, keys sorted as encoding/json sorts them; a nil slice, map or
//     pointer is null.
//
// Reading, unknown keys are skipped; a key matches a field exactly or, as in
// encoding/json, case-insensitively; an absent or null field takes its
// default, as the binary codec gives it; an absent require field is an error.
// Numbers must fit their Go type (an integer field rejects 1.5 and 1e3, as
// encoding/json does). Decoding errors are *codec.Error values whose Path
// names the Go field and whose Offset is the byte offset in the JSON input.

// ErrJSONUnsupportedValue reports a value JSON cannot carry: a NaN or
// infinite float.
var ErrJSONUnsupportedValue = errors.New("reflectcodec: JSON cannot carry NaN or infinity")

// MarshalJSONValue returns the JSON encoding of v: any value whose type the
// codec supports (a struct, slice, map, scalar, or a pointer to one; a nil
// pointer is null). Struct types are validated as for the binary codec.
func MarshalJSONValue(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return []byte("null"), nil
	}
	var p unsafe.Pointer
	t := rv.Type()
	if t.Kind() == reflect.Pointer {
		if rv.IsNil() {
			if _, err := infoFor(t.Elem()); err != nil {
				return nil, err
			}
			return []byte("null"), nil
		}
		t, p = t.Elem(), rv.UnsafePointer()
	} else {
		nv := reflect.New(t)
		nv.Elem().Set(rv)
		p = nv.UnsafePointer()
	}
	ti, err := infoFor(t)
	if err != nil {
		return nil, err
	}
	return appendJSON(nil, ti, p)
}

// UnmarshalJSONValue decodes the JSON value data into v, a non-nil pointer
// to any value whose type the codec supports. data must hold exactly one
// JSON value (surrounding white space allowed). A top-level null leaves a
// scalar or struct unchanged and sets a pointer, slice or map to nil, as
// encoding/json does.
func UnmarshalJSONValue(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &TypeError{Type: reflect.TypeOf(v), Reason: "UnmarshalJSONValue needs a non-nil pointer"}
	}
	ti, err := infoFor(rv.Type().Elem())
	if err != nil {
		return err
	}
	return decodeJSON(data, ti, rv.UnsafePointer())
}

// ---------------------------------------------------------------------------
// Encoding

// appendJSON appends the JSON encoding of the value of type ti at p to dst.
func appendJSON(dst []byte, ti *typeInfo, p unsafe.Pointer) ([]byte, error) {
	e := jsonEncoder{}
	return e.value(dst, ti, p)
}

// appendJSONParams appends a JSON object holding the fields of st at base,
// keyed by their IDL names, keys in ascending byte order: how tars2go's
// generated Dispatch writes a JSON answer (a map[string]interface{} holding
// "tars_ret" and the out parameters, which encoding/json sorts).
func appendJSONParams(dst []byte, st *structInfo, base unsafe.Pointer) ([]byte, error) {
	plan := jsonPlanFor(st, nil)
	e := jsonEncoder{}
	dst = append(dst, '{')
	for i, idx := range plan.sorted {
		f := &st.fields[idx]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, plan.keys[idx]...)
		var err error
		if dst, err = e.value(dst, f.ti, unsafe.Add(base, f.offset)); err != nil {
			return nil, fieldErr(err, st, f)
		}
	}
	return append(dst, '}'), nil
}

type jsonEncoder struct {
	depth int
}

func (e *jsonEncoder) value(b []byte, ti *typeInfo, p unsafe.Pointer) ([]byte, error) {
	switch ti.kind {
	case kBool:
		if *(*bool)(p) {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	case kInt8:
		return strconv.AppendInt(b, int64(*(*int8)(p)), 10), nil
	case kInt16:
		return strconv.AppendInt(b, int64(*(*int16)(p)), 10), nil
	case kInt32, kEnum:
		return strconv.AppendInt(b, int64(*(*int32)(p)), 10), nil
	case kInt64:
		return strconv.AppendInt(b, *(*int64)(p), 10), nil
	case kUint8:
		return strconv.AppendUint(b, uint64(*(*uint8)(p)), 10), nil
	case kUint16:
		return strconv.AppendUint(b, uint64(*(*uint16)(p)), 10), nil
	case kUint32:
		return strconv.AppendUint(b, uint64(*(*uint32)(p)), 10), nil
	case kFloat32:
		return appendJSONFloat(b, float64(*(*float32)(p)), 32)
	case kFloat64:
		return appendJSONFloat(b, *(*float64)(p), 64)
	case kString:
		return appendJSONString(b, *(*string)(p)), nil
	case kBytes:
		sh := (*sliceHeader)(p)
		if sh.data == nil {
			return append(b, "null"...), nil
		}
		return appendJSONBytes(b, unsafe.Slice((*byte)(sh.data), sh.len)), nil
	case kArrayB:
		return appendJSONBytes(b, unsafe.Slice((*byte)(p), ti.arrLen)), nil
	case kStrList:
		s := *(*[]string)(p)
		if s == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, v := range s {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, v)
		}
		return append(b, ']'), nil
	case kSlice:
		sh := (*sliceHeader)(p)
		if sh.data == nil {
			return append(b, "null"...), nil
		}
		return e.list(b, ti.elem, sh.data, sh.len)
	case kArray:
		return e.list(b, ti.elem, p, ti.arrLen)
	case kStrMap:
		return e.strMap(b, *(*map[string]string)(p))
	case kMap:
		return e.mapValue(b, ti, p)
	case kStruct:
		return e.structValue(b, ti, p)
	case kPtr:
		pp := *(*unsafe.Pointer)(p)
		if pp == nil {
			return append(b, "null"...), nil
		}
		return e.value(b, ti.elem, pp)
	case kCustom:
		m, ok := reflect.NewAt(ti.rt, p).Interface().(json.Marshaler)
		if !ok {
			return nil, &TypeError{Type: ti.rt, Reason: "implements reflectcodec.Marshaler but not json.Marshaler, so it has no JSON form"}
		}
		out, err := json.Marshal(m) // validated and compacted as encoding/json does
		if err != nil {
			return nil, err
		}
		return append(b, out...), nil
	}
	return nil, &TypeError{Type: ti.rt, Reason: "no JSON form"}
}

func (e *jsonEncoder) enter() error {
	if e.depth++; e.depth > maxEncodeDepth {
		return ErrCycle
	}
	return nil
}

func (e *jsonEncoder) list(b []byte, elem *typeInfo, data unsafe.Pointer, n int) ([]byte, error) {
	if err := e.enter(); err != nil {
		return nil, err
	}
	b = append(b, '[')
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = e.value(b, elem, unsafe.Add(data, uintptr(i)*elem.size)); err != nil {
			return nil, indexErr(err, i)
		}
	}
	e.depth--
	return append(b, ']'), nil
}

func (e *jsonEncoder) structValue(b []byte, ti *typeInfo, p unsafe.Pointer) ([]byte, error) {
	if err := e.enter(); err != nil {
		return nil, err
	}
	st := ti.st
	plan := jsonPlanFor(st, ti.rt)
	b = append(b, '{')
	for i, idx := range plan.order {
		f := &st.fields[idx]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, plan.keys[idx]...)
		var err error
		if b, err = e.value(b, f.ti, unsafe.Add(p, f.offset)); err != nil {
			return nil, fieldErr(err, st, f)
		}
	}
	e.depth--
	return append(b, '}'), nil
}

func (e *jsonEncoder) strMap(b []byte, m map[string]string) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, m[k])
	}
	return append(b, '}'), nil
}

// jsonKeyOK reports whether encoding/json can key a map with the type.
func jsonKeyOK(k kind) bool {
	switch k {
	case kString, kInt8, kInt16, kInt32, kInt64, kEnum, kUint8, kUint16, kUint32:
		return true
	}
	return false
}

func (e *jsonEncoder) mapValue(b []byte, ti *typeInfo, p unsafe.Pointer) ([]byte, error) {
	if !jsonKeyOK(ti.key.kind) {
		return nil, &TypeError{Type: ti.rt, Reason: "JSON object keys must be strings or integers"}
	}
	m := reflect.NewAt(ti.rt, p).Elem()
	if m.IsNil() {
		return append(b, "null"...), nil
	}
	if err := e.enter(); err != nil {
		return nil, err
	}
	type entry struct {
		key string
		k   reflect.Value
	}
	entries := make([]entry, 0, m.Len())
	for it := m.MapRange(); it.Next(); {
		k := it.Key()
		var ks string
		switch {
		case ti.key.kind == kString:
			ks = k.String()
		case k.CanInt():
			ks = strconv.FormatInt(k.Int(), 10)
		default:
			ks = strconv.FormatUint(k.Uint(), 10)
		}
		entries = append(entries, entry{ks, k})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	v := reflect.New(ti.elem.rt).Elem()
	vp := v.Addr().UnsafePointer()
	b = append(b, '{')
	for i, en := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, en.key)
		b = append(b, ':')
		v.Set(m.MapIndex(en.k))
		var err error
		if b, err = e.value(b, ti.elem, vp); err != nil {
			return nil, &EncodeError{Path: "[" + strconv.Quote(en.key) + "]", Err: err}
		}
	}
	e.depth--
	return append(b, '}'), nil
}

// appendJSONBytes writes a vector<byte> as tars2go's []int8 marshals: an
// array of signed numbers.
func appendJSONBytes(b []byte, v []byte) []byte {
	b = append(b, '[')
	for i, c := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(int8(c)), 10)
	}
	return append(b, ']')
}

// appendJSONFloat formats f as encoding/json does: like ES6, 'f' format
// unless the exponent is small or large, then 'e' with a short exponent.
func appendJSONFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, ErrJSONUnsupportedValue
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// jsonSafe reports the ASCII bytes that encoding/json (with its default HTML
// escaping) writes unescaped.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString writes s as a JSON string exactly as encoding/json.Marshal
// does: HTML characters and U+2028/U+2029 escaped, invalid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// ---------------------------------------------------------------------------
// Per-struct JSON plans

// jsonPlan is the JSON view of a structInfo: the order fields are written in
// and the quoted keys, built once per struct.
type jsonPlan struct {
	order  []int          // indices into st.fields in Go declaration order (tag order without a Go type)
	sorted []int          // indices into st.fields by IDL name, byte order
	keys   [][]byte       // `"name":` for each field, by index into st.fields
	byName map[string]int // IDL name -> index into st.fields
}

var jsonPlans sync.Map // *structInfo -> *jsonPlan

func jsonPlanFor(st *structInfo, rt reflect.Type) *jsonPlan {
	if v, ok := jsonPlans.Load(st); ok {
		return v.(*jsonPlan)
	}
	n := len(st.fields)
	plan := &jsonPlan{order: make([]int, n), sorted: make([]int, n), keys: make([][]byte, n), byName: make(map[string]int, n)}
	decl := make([]int, n)
	for i := range st.fields {
		f := &st.fields[i]
		plan.order[i], plan.sorted[i], decl[i] = i, i, i
		if rt != nil && rt.Kind() == reflect.Struct {
			if sf, ok := rt.FieldByName(f.goName); ok && len(sf.Index) == 1 {
				decl[i] = sf.Index[0]
			}
		}
		plan.keys[i] = append(appendJSONString(nil, f.tag.Name), ':')
		if _, dup := plan.byName[f.tag.Name]; !dup {
			plan.byName[f.tag.Name] = i
		}
	}
	slices.SortStableFunc(plan.order, func(a, b int) int { return decl[a] - decl[b] })
	slices.SortStableFunc(plan.sorted, func(a, b int) int { return strings.Compare(st.fields[a].tag.Name, st.fields[b].tag.Name) })
	v, _ := jsonPlans.LoadOrStore(st, plan)
	return v.(*jsonPlan)
}

// lookup finds the field for a JSON key: exactly, else case-insensitively as
// encoding/json matches keys. It returns -1 for an unknown key.
func (plan *jsonPlan) lookup(st *structInfo, key string) int {
	if i, ok := plan.byName[key]; ok {
		return i
	}
	for _, i := range plan.order {
		if strings.EqualFold(st.fields[i].tag.Name, key) {
			return i
		}
	}
	return -1
}

// ---------------------------------------------------------------------------
// Decoding

// decodeJSON decodes the single JSON value in data into the value of type ti
// at p.
func decodeJSON(data []byte, ti *typeInfo, p unsafe.Pointer) error {
	d := newJSONDecoder(data)
	err := d.top(ti, p)
	if err == nil {
		err = d.end()
	}
	return err
}

// decodeJSONParams decodes a JSON object keyed by the IDL names of st's
// fields into base: how a JSON (version 5) request carries its parameters.
// Unknown keys are skipped; keys match exactly or case-insensitively. An
// absent field takes its default; when strict is set, an absent require field
// is an error instead (tars2go's Dispatch is not strict: a missing parameter
// is left at its zero value).
//
// budget bounds the Go memory the decoded values take (as for TARS, see
// codec.Reader.SetBudget): 0 is codec.DefaultBudget(len(data)), negative is
// no bound.
func decodeJSONParams(data []byte, st *structInfo, base unsafe.Pointer, strict bool, budget int) error {
	d := newJSONDecoder(data)
	if budget != 0 {
		d.budget = budget
		if budget < 0 {
			d.budget = math.MaxInt
		}
	}
	tok, err := d.token()
	if err != nil {
		return err
	}
	if tok == nil {
		err = d.absent(st, base, nil, strict)
	} else if tok != json.Delim('{') {
		err = d.mismatch(tok, "object")
	} else {
		err = d.object(st, nil, base, strict)
	}
	if err == nil {
		err = d.end()
	}
	return err
}

// jsonDecoder decodes JSON with encoding/json's tokenizer. The decoded
// values are charged to budget as the TARS decoder charges them (strings,
// slices, maps, pointers at their Go size); encoding/json's own buffer and
// tokens are not: they are garbage once read, bounded by a small multiple of
// the input whatever its shape.
type jsonDecoder struct {
	d      *json.Decoder
	depth  int
	max    int
	budget int
}

func newJSONDecoder(data []byte) *jsonDecoder {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	return &jsonDecoder{d: d, max: codec.DefaultMaxDepth, budget: codec.DefaultBudget(len(data))}
}

// charge takes n bytes from the budget, for memory about to be allocated.
func (d *jsonDecoder) charge(n int) error {
	if n <= d.budget {
		d.budget -= n
		return nil
	}
	return d.errorf(codec.ErrBudget, "at most "+strconv.Itoa(d.budget)+" more bytes of decoded Go memory", strconv.Itoa(n)+" bytes")
}

// errorf builds a *codec.Error at the decoder's current input offset.
func (d *jsonDecoder) errorf(kind error, expected, found string) *codec.Error {
	return &codec.Error{Kind: kind, Offset: int(d.d.InputOffset()), Tag: -1, Expected: expected, Found: found}
}

// token reads the next token, turning the end of input and syntax errors
// into *codec.Error.
func (d *jsonDecoder) token() (json.Token, error) {
	tok, err := d.d.Token()
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, d.errorf(codec.ErrTruncated, "JSON value", "end of input")
		}
		return nil, d.errorf(codec.ErrMalformed, "JSON", err.Error())
	}
	return tok, nil
}

// end checks that nothing but white space follows the value.
func (d *jsonDecoder) end() error {
	tok, err := d.d.Token()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return d.errorf(codec.ErrMalformed, "end of input", err.Error())
	}
	return d.errorf(codec.ErrMalformed, "end of input", describeToken(tok))
}

func (d *jsonDecoder) enter() error {
	if d.depth++; d.depth > d.max {
		return d.errorf(codec.ErrTooDeep, "depth <= "+strconv.Itoa(d.max), "deeper nesting")
	}
	return nil
}

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number " + string(v)
	case string:
		return "string"
	case json.Delim:
		switch v {
		case '{':
			return "object"
		case '[':
			return "array"
		}
		return "'" + v.String() + "'"
	}
	return "?"
}

func (d *jsonDecoder) mismatch(tok json.Token, expected string) error {
	return d.errorf(codec.ErrTypeMismatch, expected, describeToken(tok))
}

// top decodes a whole value: a top-level null sets pointers, slices and maps
// to nil and leaves anything else alone, as encoding/json does.
func (d *jsonDecoder) top(ti *typeInfo, p unsafe.Pointer) error {
	if ti.kind == kCustom {
		return d.custom(ti, p)
	}
	tok, err := d.token()
	if err != nil {
		return err
	}
	err = d.valueTok(ti, p, tok)
	if ce, ok := err.(*codec.Error); ok && ti.kind == kStruct {
		ce.Path = joinPath(ti.st.name, ce.Path)
	}
	return err
}

// value reads one value into p.
func (d *jsonDecoder) value(ti *typeInfo, p unsafe.Pointer) error {
	if ti.kind == kCustom {
		return d.custom(ti, p)
	}
	tok, err := d.token()
	if err != nil {
		return err
	}
	return d.valueTok(ti, p, tok)
}

// custom hands a kCustom value to its json.Unmarshaler.
func (d *jsonDecoder) custom(ti *typeInfo, p unsafe.Pointer) error {
	var raw json.RawMessage
	if err := d.d.Decode(&raw); err != nil {
		return d.errorf(codec.ErrMalformed, "JSON", err.Error())
	}
	if string(raw) == "null" {
		return nil
	}
	u, ok := reflect.NewAt(ti.rt, p).Interface().(json.Unmarshaler)
	if !ok {
		return &TypeError{Type: ti.rt, Reason: "implements reflectcodec.Unmarshaler but not json.Unmarshaler, so it has no JSON form"}
	}
	if err := u.UnmarshalJSON(raw); err != nil {
		return d.errorf(codec.ErrMalformed, ti.rt.String(), err.Error())
	}
	return nil
}

// valueTok decodes the value that starts with tok into p. A null leaves p
// alone, except that pointers, slices and maps become nil.
func (d *jsonDecoder) valueTok(ti *typeInfo, p unsafe.Pointer, tok json.Token) error {
	if tok == nil {
		switch ti.kind {
		case kPtr, kBytes, kSlice, kStrList, kMap, kStrMap:
			reflect.NewAt(ti.rt, p).Elem().SetZero()
		}
		return nil
	}
	switch ti.kind {
	case kBool:
		v, ok := tok.(bool)
		if !ok {
			return d.mismatch(tok, "boolean")
		}
		*(*bool)(p) = v
	case kInt8, kInt16, kInt32, kInt64, kEnum:
		v, err := d.intTok(ti, tok)
		if err != nil {
			return err
		}
		switch ti.kind {
		case kInt8:
			*(*int8)(p) = int8(v)
		case kInt16:
			*(*int16)(p) = int16(v)
		case kInt64:
			*(*int64)(p) = v
		default:
			*(*int32)(p) = int32(v)
		}
	case kUint8, kUint16, kUint32:
		n, ok := tok.(json.Number)
		if !ok {
			return d.mismatch(tok, ti.rt.String()+" number")
		}
		v, err := strconv.ParseUint(string(n), 10, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return d.errorf(codec.ErrOutOfRange, ti.rt.String(), string(n))
			}
			return d.mismatch(tok, ti.rt.String()+" number")
		}
		if v > uint64(ti.hi) {
			return d.errorf(codec.ErrOutOfRange, ti.rt.String(), string(n))
		}
		switch ti.kind {
		case kUint8:
			*(*uint8)(p) = uint8(v)
		case kUint16:
			*(*uint16)(p) = uint16(v)
		default:
			*(*uint32)(p) = uint32(v)
		}
	case kFloat32, kFloat64:
		n, ok := tok.(json.Number)
		if !ok {
			return d.mismatch(tok, "number")
		}
		bits := 64
		if ti.kind == kFloat32 {
			bits = 32
		}
		v, err := strconv.ParseFloat(string(n), bits)
		if err != nil {
			return d.errorf(codec.ErrOutOfRange, ti.rt.String(), string(n))
		}
		if bits == 32 {
			*(*float32)(p) = float32(v)
		} else {
			*(*float64)(p) = v
		}
	case kString:
		s, ok := tok.(string)
		if !ok {
			return d.mismatch(tok, "string")
		}
		if err := d.charge(wire.Alloc(len(s))); err != nil {
			return err
		}
		*(*string)(p) = s
	case kBytes:
		b, err := d.bytesTok(tok, -1)
		if err != nil {
			return err
		}
		if err := d.charge(wire.Alloc(cap(b))); err != nil {
			return err
		}
		if len(b) == 0 {
			b = unsafe.Slice(&zeroBase, 0)
		}
		*(*sliceHeader)(p) = sliceHeader{data: unsafe.Pointer(unsafe.SliceData(b)), len: len(b), cap: cap(b)}
	case kArrayB:
		dst := unsafe.Slice((*byte)(p), ti.arrLen)
		b, err := d.bytesTok(tok, ti.arrLen)
		if err != nil {
			return err
		}
		clear(dst[copy(dst, b):])
	case kStrList, kSlice:
		return d.slice(ti, p, tok)
	case kArray:
		return d.array(ti, p, tok)
	case kStrMap, kMap:
		return d.mapValue(ti, p, tok)
	case kStruct:
		if tok != json.Delim('{') {
			return d.mismatch(tok, "object")
		}
		return d.object(ti.st, ti.rt, p, true)
	case kPtr:
		if err := d.charge(wire.Alloc(int(ti.elem.size))); err != nil {
			return err
		}
		np := reflect.New(ti.elem.rt).UnsafePointer()
		if err := d.valueTok(ti.elem, np, tok); err != nil {
			return err
		}
		*(*unsafe.Pointer)(p) = np
	default:
		return &TypeError{Type: ti.rt, Reason: "no JSON form"}
	}
	return nil
}

func (d *jsonDecoder) intTok(ti *typeInfo, tok json.Token) (int64, error) {
	n, ok := tok.(json.Number)
	if !ok {
		return 0, d.mismatch(tok, ti.rt.String()+" number")
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, d.errorf(codec.ErrOutOfRange, ti.rt.String(), string(n))
		}
		return 0, d.mismatch(tok, ti.rt.String()+" number")
	}
	if v < ti.lo || v > ti.hi {
		return 0, d.errorf(codec.ErrOutOfRange, ti.rt.String(), string(n))
	}
	return v, nil
}

// bytesTok reads a vector<byte>: an array of numbers from -128 to 255 or a
// base64 string. limit ≥ 0 keeps at most limit bytes (arrays), skipping the
// rest, and accepts no base64.
func (d *jsonDecoder) bytesTok(tok json.Token, limit int) ([]byte, error) {
	if s, ok := tok.(string); ok && limit < 0 {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, d.errorf(codec.ErrMalformed, "base64", err.Error())
		}
		return b, nil
	}
	if tok != json.Delim('[') {
		return nil, d.mismatch(tok, "array of bytes")
	}
	var b []byte
	for i := 0; d.d.More(); i++ {
		et, err := d.token()
		if err != nil {
			return nil, err
		}
		n, ok := et.(json.Number)
		if !ok {
			return nil, pathErr(d.mismatch(et, "byte number"), "["+strconv.Itoa(i)+"]")
		}
		v, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || v < math.MinInt8 || v > math.MaxUint8 {
			return nil, pathErr(d.errorf(codec.ErrOutOfRange, "byte", string(n)), "["+strconv.Itoa(i)+"]")
		}
		if limit < 0 || i < limit {
			b = append(b, byte(v))
		}
	}
	_, err := d.token() // ']'
	return b, err
}

func (d *jsonDecoder) slice(ti *typeInfo, p unsafe.Pointer, tok json.Token) error {
	if tok != json.Delim('[') {
		return d.mismatch(tok, "array")
	}
	if err := d.enter(); err != nil {
		return err
	}
	elem := ti.elem
	sv := reflect.MakeSlice(ti.rt, 0, 0)
	n := 0
	for d.d.More() {
		if n == sv.Cap() {
			if err := d.charge(cost(max(4, 2*n), elem.size)); err != nil {
				return err
			}
			nsv := reflect.MakeSlice(ti.rt, n, max(4, 2*n))
			reflect.Copy(nsv, sv)
			sv = nsv
		}
		sv = sv.Slice(0, n+1)
		if err := d.value(elem, unsafe.Add(sv.UnsafePointer(), uintptr(n)*elem.size)); err != nil {
			return pathErr(err, "["+strconv.Itoa(n)+"]")
		}
		n++
	}
	if _, err := d.token(); err != nil { // ']'
		return err
	}
	d.depth--
	data := unsafe.Pointer(&zeroBase)
	if n > 0 {
		data = sv.UnsafePointer()
	}
	*(*sliceHeader)(p) = sliceHeader{data: data, len: n, cap: sv.Cap()}
	if n == 0 {
		(*sliceHeader)(p).cap = 0
	}
	return nil
}

func (d *jsonDecoder) array(ti *typeInfo, p unsafe.Pointer, tok json.Token) error {
	if tok != json.Delim('[') {
		return d.mismatch(tok, "array")
	}
	if err := d.enter(); err != nil {
		return err
	}
	reflect.NewAt(ti.rt, p).Elem().SetZero()
	for i := 0; d.d.More(); i++ {
		if i >= ti.arrLen { // encoding/json drops the extra elements
			if err := d.skip(); err != nil {
				return err
			}
			continue
		}
		if err := d.value(ti.elem, unsafe.Add(p, uintptr(i)*ti.elem.size)); err != nil {
			return pathErr(err, "["+strconv.Itoa(i)+"]")
		}
	}
	if _, err := d.token(); err != nil {
		return err
	}
	d.depth--
	return nil
}

func (d *jsonDecoder) mapValue(ti *typeInfo, p unsafe.Pointer, tok json.Token) error {
	if tok != json.Delim('{') {
		return d.mismatch(tok, "object")
	}
	if !jsonKeyOK(ti.key.kind) {
		return &TypeError{Type: ti.rt, Reason: "JSON object keys must be strings or integers"}
	}
	if err := d.enter(); err != nil {
		return err
	}
	// A map grows as its entries come: each new entry is charged its share
	// of the tables (wire.MapCost per entry), plus the header up front.
	if err := d.charge(wire.MapHeader); err != nil {
		return err
	}
	entry := wire.MapEntryCost(int(ti.key.size), int(ti.elem.size))
	if ti.kind == kStrMap {
		m := map[string]string{}
		for d.d.More() {
			kt, err := d.token()
			if err != nil {
				return err
			}
			k, _ := kt.(string)
			vt, err := d.token()
			if err != nil {
				return err
			}
			var v string
			if vt != nil {
				var ok bool
				if v, ok = vt.(string); !ok {
					return pathErr(d.mismatch(vt, "string"), "["+strconv.Quote(k)+"]")
				}
			}
			if err := d.charge(entry + wire.Alloc(len(k)) + wire.Alloc(len(v))); err != nil {
				return pathErr(err, "["+strconv.Quote(k)+"]")
			}
			m[k] = v
		}
		*(*map[string]string)(p) = m
	} else {
		m := reflect.MakeMap(ti.rt)
		k := reflect.New(ti.key.rt).Elem()
		v := reflect.New(ti.elem.rt).Elem()
		kp, vp := k.Addr().UnsafePointer(), v.Addr().UnsafePointer()
		for d.d.More() {
			kt, err := d.token()
			if err != nil {
				return err
			}
			ks, _ := kt.(string)
			if ti.key.kind == kString {
				if err := d.charge(wire.Alloc(len(ks))); err != nil {
					return err
				}
				*(*string)(kp) = ks
			} else if err := d.valueTok(ti.key, kp, json.Number(ks)); err != nil {
				return pathErr(err, "["+strconv.Quote(ks)+"]")
			}
			v.SetZero() // a null value is the zero value, as in encoding/json
			if err := d.value(ti.elem, vp); err != nil {
				return pathErr(err, "["+strconv.Quote(ks)+"]")
			}
			if err := d.charge(entry); err != nil {
				return pathErr(err, "["+strconv.Quote(ks)+"]")
			}
			m.SetMapIndex(k, v)
		}
		reflect.NewAt(ti.rt, p).Elem().Set(m)
	}
	if _, err := d.token(); err != nil { // '}'
		return err
	}
	d.depth--
	return nil
}

// object decodes the members of a JSON object (its '{' already read) into the
// struct st at base. Absent and null fields take their defaults; an absent
// require field is an error when strict.
func (d *jsonDecoder) object(st *structInfo, rt reflect.Type, base unsafe.Pointer, strict bool) error {
	if err := d.enter(); err != nil {
		return err
	}
	plan := jsonPlanFor(st, rt)
	var seen [4]uint64
	for d.d.More() {
		kt, err := d.token()
		if err != nil {
			return err
		}
		key, _ := kt.(string)
		idx := plan.lookup(st, key)
		if idx < 0 {
			if err := d.skip(); err != nil {
				return err
			}
			continue
		}
		f := &st.fields[idx]
		fp := unsafe.Add(base, f.offset)
		if f.ti.kind == kCustom {
			err = d.custom(f.ti, fp)
		} else {
			var vt json.Token
			if vt, err = d.token(); err == nil {
				if vt == nil {
					f.setAbsent(fp)
				} else {
					err = d.valueTok(f.ti, fp, vt)
				}
			}
		}
		if err != nil {
			return pathErr(err, f.goName)
		}
		seen[idx>>6] |= 1 << (idx & 63)
	}
	if _, err := d.token(); err != nil { // '}'
		return err
	}
	d.depth--
	return d.absent(st, base, &seen, strict)
}

// absent gives the fields not in seen their defaults, or reports a missing
// require field when strict.
func (d *jsonDecoder) absent(st *structInfo, base unsafe.Pointer, seen *[4]uint64, strict bool) error {
	for i := range st.fields {
		if seen != nil && seen[i>>6]&(1<<(i&63)) != 0 {
			continue
		}
		f := &st.fields[i]
		if strict && f.tag.Require {
			e := d.errorf(codec.ErrRequiredMissing, "require field "+st.name+"."+f.goName+" (\""+f.tag.Name+"\")", "none")
			e.Path = f.goName
			return e
		}
		f.setAbsent(unsafe.Add(base, f.offset))
	}
	return nil
}

// skip skips one whole value.
func (d *jsonDecoder) skip() error {
	depth := 0
	for {
		tok, err := d.token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}
