package interop

// Test machinery shared by the differential tests and the benchmarks: copying
// a value between a gotars mirror and the tars2go-generated struct (matching
// fields by TARS tag and checking that both sides declare the same IDL field),
// comparing values up to nil-versus-empty containers, and generating random
// values.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/TarsCloud/TarsGo/tars/protocol/codec"
	"github.com/gotars/tars/codec/reflectcodec"
)

// tarsStruct is what tars2go generates for every IDL struct.
type tarsStruct interface {
	ResetDefault()
	ReadFrom(r *codec.Reader) error
	ReadBlock(r *codec.Reader, tag byte, require bool) error
	WriteTo(buf *codec.Buffer) error
	WriteBlock(buf *codec.Buffer, tag byte) error
}

// idlField is one struct field as a tars struct tag declares it.
type idlField struct {
	index   int
	id      int
	name    string
	require bool
}

// idlFields reads the fields of a struct type from its tars tags, in either
// syntax: tars2go's `tars:"name,tag:N,require:B"` or gotars'
// `tars:"N[,require][,name=x][,default=v]"`.
func idlFields(t reflect.Type) ([]idlField, error) {
	var out []idlField
	for i := range t.NumField() {
		sf := t.Field(i)
		raw, ok := sf.Tag.Lookup("tars")
		if !ok || raw == "-" || !sf.IsExported() {
			continue
		}
		if strings.Contains(raw, ",tag:") { // tars2go
			parts := strings.Split(raw, ",")
			if len(parts) != 3 {
				return nil, fmt.Errorf("%v.%s: odd tars2go tag %q", t, sf.Name, raw)
			}
			id, err := strconv.Atoi(strings.TrimPrefix(parts[1], "tag:"))
			if err != nil {
				return nil, fmt.Errorf("%v.%s: %v", t, sf.Name, err)
			}
			out = append(out, idlField{i, id, parts[0], parts[2] == "require:true"})
			continue
		}
		tag, err := reflectcodec.ParseTag(sf.Name, raw)
		if err != nil {
			return nil, fmt.Errorf("%v.%s: %v", t, sf.Name, err)
		}
		out = append(out, idlField{i, int(tag.ID), tag.Name, tag.Require})
	}
	return out, nil
}

// fieldPair maps a field of the destination struct to one of the source.
type fieldPair struct{ dst, src int }

var pairCache sync.Map // [2]reflect.Type -> []fieldPair or error

// fieldPairs matches the fields of two struct types by TARS tag and checks that
// they are the same IDL field: same tag, IDL name, require flag and a
// compatible Go type. A mirror that disagrees with the generated struct fails
// here, before any bytes are compared.
func fieldPairs(dst, src reflect.Type) ([]fieldPair, error) {
	key := [2]reflect.Type{dst, src}
	if v, ok := pairCache.Load(key); ok {
		if err, ok := v.(error); ok {
			return nil, err
		}
		return v.([]fieldPair), nil
	}
	pairs, err := matchFields(dst, src)
	if err != nil {
		pairCache.Store(key, err)
		return nil, err
	}
	pairCache.Store(key, pairs)
	return pairs, nil
}

func matchFields(dst, src reflect.Type) ([]fieldPair, error) {
	df, err := idlFields(dst)
	if err != nil {
		return nil, err
	}
	sf, err := idlFields(src)
	if err != nil {
		return nil, err
	}
	if len(df) != len(sf) {
		return nil, fmt.Errorf("%v has %d fields, %v has %d", dst, len(df), src, len(sf))
	}
	byID := map[int]idlField{}
	for _, f := range sf {
		byID[f.id] = f
	}
	var pairs []fieldPair
	for _, d := range df {
		s, ok := byID[d.id]
		if !ok {
			return nil, fmt.Errorf("%v: tag %d (%s) has no counterpart in %v", dst, d.id, d.name, src)
		}
		if d.name != s.name || d.require != s.require {
			return nil, fmt.Errorf("%v tag %d: %s require=%v, but %v: %s require=%v",
				dst, d.id, d.name, d.require, src, s.name, s.require)
		}
		dt, st := dst.Field(d.index).Type, src.Field(s.index).Type
		if !compatible(dt, st, false) {
			return nil, fmt.Errorf("%v.%s is %v, but %v.%s is %v",
				dst, dst.Field(d.index).Name, dt, src, src.Field(s.index).Name, st)
		}
		pairs = append(pairs, fieldPair{d.index, s.index})
	}
	return pairs, nil
}

// compatible reports whether values of a and b carry the same IDL type. The
// only allowed difference is the element of vector<byte>: tars2go says []int8,
// gotars []byte. Enums must be named types on both sides.
func compatible(a, b reflect.Type, byteElem bool) bool {
	if a.Kind() != b.Kind() {
		return byteElem && (a.Kind() == reflect.Uint8 || a.Kind() == reflect.Int8) &&
			(b.Kind() == reflect.Uint8 || b.Kind() == reflect.Int8)
	}
	switch a.Kind() {
	case reflect.Int32:
		return (a.PkgPath() == "") == (b.PkgPath() == "")
	case reflect.Slice:
		return compatible(a.Elem(), b.Elem(), true)
	case reflect.Map:
		return compatible(a.Key(), b.Key(), false) && compatible(a.Elem(), b.Elem(), false)
	case reflect.Struct:
		_, err := fieldPairs(a, b)
		return err == nil
	}
	return true
}

// convert copies src into dst (settable), between a mirror and a generated
// type in either direction. nil containers stay nil, empty ones empty.
func convert(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Struct:
		pairs, err := fieldPairs(dst.Type(), src.Type())
		if err != nil {
			panic(err)
		}
		for _, p := range pairs {
			convert(dst.Field(p.dst), src.Field(p.src))
		}
	case reflect.Slice:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		n := src.Len()
		s := reflect.MakeSlice(dst.Type(), n, n)
		for i := range n {
			convert(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	case reflect.Map:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		m := reflect.MakeMapWithSize(dst.Type(), src.Len())
		for it := src.MapRange(); it.Next(); {
			k := reflect.New(dst.Type().Key()).Elem()
			v := reflect.New(dst.Type().Elem()).Elem()
			convert(k, it.Key())
			convert(v, it.Value())
			m.SetMapIndex(k, v)
		}
		dst.Set(m)
	default:
		dst.Set(src.Convert(dst.Type()))
	}
}

// diff compares a and b (of the same type) and describes the first
// difference, or returns "". nil and empty slices and maps are equal: TARS
// cannot tell them apart (an empty optional container is not written), and the
// decoders document what they return for each. Floats compare with ==.
func diff(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Struct:
		for i := range a.NumField() {
			if d := diff(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); d != "" {
				return d
			}
		}
	case reflect.Slice:
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: len %d vs %d", path, a.Len(), b.Len())
		}
		for i := range a.Len() {
			if d := diff(a.Index(i), b.Index(i), path+"["+strconv.Itoa(i)+"]"); d != "" {
				return d
			}
		}
	case reflect.Map:
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: len %d vs %d", path, a.Len(), b.Len())
		}
		for it := a.MapRange(); it.Next(); {
			bv := b.MapIndex(it.Key())
			if !bv.IsValid() {
				return fmt.Sprintf("%s: key %v missing", path, it.Key())
			}
			if d := diff(it.Value(), bv, fmt.Sprintf("%s[%v]", path, it.Key())); d != "" {
				return d
			}
		}
	case reflect.Float32, reflect.Float64:
		if a.Float() != b.Float() {
			return fmt.Sprintf("%s: %v vs %v", path, a.Float(), b.Float())
		}
	default:
		if !a.Equal(b) {
			return fmt.Sprintf("%s: %#v vs %#v", path, short(a), short(b))
		}
	}
	return ""
}

func short(v reflect.Value) any {
	if v.Kind() == reflect.String && v.Len() > 40 {
		return v.String()[:40] + "…(" + strconv.Itoa(v.Len()) + " bytes)"
	}
	return v.Interface()
}

// maxMapLen returns the largest number of entries of any map inside v.
func maxMapLen(v reflect.Value) int {
	n := 0
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			n = max(n, maxMapLen(v.Field(i)))
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return 0
		}
		for i := range v.Len() {
			n = max(n, maxMapLen(v.Index(i)))
		}
	case reflect.Map:
		n = v.Len()
		for it := v.MapRange(); it.Next(); {
			n = max(n, maxMapLen(it.Key()), maxMapLen(it.Value()))
		}
	}
	return n
}

// valueGen generates random values for the mirror types, biased towards the
// edges: zero values, IDL defaults, integer width boundaries and extremes,
// float extremes (never NaN), empty versus nil containers, strings of exactly
// 255 and 256 bytes and longer, invalid UTF-8.
type valueGen struct {
	r      *rand.Rand
	maxMap int // the most entries a generated map gets
	depth  int
}

func newValueGen(seed uint64) *valueGen {
	return &valueGen{r: rand.New(rand.NewPCG(seed, 0x7a25)), maxMap: 1}
}

// fill sets v (settable) to a random value of its type.
func (g *valueGen) fill(v reflect.Value) {
	g.value(v, nil)
}

func (g *valueGen) value(v reflect.Value, tag *reflectcodec.Tag) {
	r := g.r
	if tag != nil && tag.HasDefault && r.IntN(6) == 0 {
		setDefault(v, tag.Default)
		return
	}
	if r.IntN(8) == 0 { // the zero value, for every kind
		v.SetZero()
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 1)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := v.Type().Bits()
		if v.Type().PkgPath() != "" && r.IntN(4) != 0 { // an enum: mostly declared values
			v.SetInt([]int64{0, 1, 2, 5, 6, 100, 101}[r.IntN(7)])
			return
		}
		x := g.int64()
		v.SetInt(x << (64 - bits) >> (64 - bits)) // into range, sign-extended
	case reflect.Uint8, reflect.Uint16, reflect.Uint32:
		bits := v.Type().Bits()
		v.SetUint(uint64(g.int64()) << (64 - bits) >> (64 - bits))
	case reflect.Float32:
		v.SetFloat(float64(g.float32()))
	case reflect.Float64:
		v.SetFloat(g.float64())
	case reflect.String:
		v.SetString(g.string())
	case reflect.Slice:
		g.slice(v)
	case reflect.Map:
		g.mapValue(v)
	case reflect.Struct:
		g.depth++
		t := v.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			ft, err := reflectcodec.ParseTag(sf.Name, sf.Tag.Get("tars"))
			if err != nil {
				panic(err)
			}
			g.value(v.Field(i), &ft)
		}
		g.depth--
	default:
		panic("valueGen: unsupported " + v.Type().String())
	}
}

var edgeInts = []int64{
	1, -1, 2, 42, math.MaxInt8, math.MaxInt8 + 1, math.MinInt8, math.MinInt8 - 1,
	math.MaxUint8, math.MaxUint8 + 1, math.MaxInt16, math.MaxInt16 + 1, math.MinInt16,
	math.MinInt16 - 1, math.MaxUint16, math.MaxUint16 + 1, math.MaxInt32, math.MaxInt32 + 1,
	math.MinInt32, math.MinInt32 - 1, math.MaxUint32, math.MaxUint32 + 1, math.MaxInt64,
	math.MinInt64,
}

func (g *valueGen) int64() int64 {
	r := g.r
	switch r.IntN(4) {
	case 0:
		return edgeInts[r.IntN(len(edgeInts))]
	case 1:
		return r.Int64N(601) - 300
	}
	w := 8 << r.IntN(4) // a random value of a random width
	return int64(r.Uint64()) >> (64 - w)
}

func (g *valueGen) float32() float32 {
	r := g.r
	switch r.IntN(10) {
	case 0:
		return float32(math.Copysign(0, -1))
	case 1:
		return []float32{1.5, 2.5, -1, math.MaxFloat32, -math.MaxFloat32,
			math.SmallestNonzeroFloat32, float32(math.Inf(1)), float32(math.Inf(-1))}[r.IntN(8)]
	case 2:
		return math.Float32frombits(r.Uint32() &^ (0xff << 23)) // a denormal
	}
	f := math.Float32frombits(r.Uint32())
	if f != f {
		return 3.25
	}
	return f
}

func (g *valueGen) float64() float64 {
	r := g.r
	switch r.IntN(10) {
	case 0:
		return math.Copysign(0, -1)
	case 1:
		return []float64{1.5, 2.5, -1, math.MaxFloat64, -math.MaxFloat64,
			math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1)}[r.IntN(8)]
	case 2:
		return r.NormFloat64() * 1e6
	}
	f := math.Float64frombits(r.Uint64())
	if f != f {
		return -7.125
	}
	return f
}

func (g *valueGen) string() string {
	r := g.r
	switch r.IntN(20) {
	case 0:
		return strings.Repeat("a", 255) // the longest STRING1
	case 1:
		return strings.Repeat("b", 256) // the shortest STRING4
	case 2:
		return g.ascii(257 + r.IntN(3000))
	case 3:
		if r.IntN(20) == 0 {
			return g.ascii(65536 + r.IntN(10000)) // a STRING4 length above 16 bits
		}
		return "用户名-" + g.ascii(r.IntN(10)) + "-テスト-😀"
	case 4:
		b := make([]byte, r.IntN(40)) // arbitrary bytes: NUL, invalid UTF-8
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if utf8.Valid(b) && len(b) > 0 {
			b[0] = 0xff
		}
		return string(b)
	case 5:
		return "hello" // the default of Defaults.s
	}
	return g.ascii(r.IntN(24))
}

func (g *valueGen) ascii(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/ "
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

// length picks a container length: 0 often, larger ones near the top.
func (g *valueGen) length() int {
	r := g.r
	switch {
	case r.IntN(4) == 0:
		return 1
	case g.depth <= 1:
		return r.IntN(9)
	case g.depth <= 3:
		return r.IntN(4)
	}
	return r.IntN(2)
}

func (g *valueGen) slice(v reflect.Value) {
	r := g.r
	if r.IntN(6) == 0 {
		v.Set(reflect.MakeSlice(v.Type(), 0, 0)) // empty, not nil
		return
	}
	n := g.length()
	if v.Type().Elem().Kind() == reflect.Uint8 || v.Type().Elem().Kind() == reflect.Int8 {
		switch r.IntN(6) {
		case 0:
			n = 255 + r.IntN(3)
		case 1:
			n = r.IntN(3000)
		}
	} else if v.Type().Elem().Kind() <= reflect.Float64 && r.IntN(10) == 0 {
		n = 100 + r.IntN(300) // a long scalar vector
	}
	s := reflect.MakeSlice(v.Type(), n, n)
	for i := range n {
		g.elem(s.Index(i))
	}
	v.Set(s)
}

// elem fills a container element: the zero value is as likely as for fields.
func (g *valueGen) elem(v reflect.Value) {
	g.depth++
	g.value(v, nil)
	g.depth--
}

func (g *valueGen) mapValue(v reflect.Value) {
	r := g.r
	if r.IntN(6) == 0 {
		v.Set(reflect.MakeMap(v.Type())) // empty, not nil
		return
	}
	n := min(g.length(), g.maxMap)
	if g.maxMap > 1 && n < 2 && r.IntN(2) == 0 {
		n = 2 + r.IntN(g.maxMap-1)
	}
	m := reflect.MakeMapWithSize(v.Type(), n)
	for range n {
		k := reflect.New(v.Type().Key()).Elem()
		e := reflect.New(v.Type().Elem()).Elem()
		g.elem(k)
		g.elem(e)
		m.SetMapIndex(k, e)
	}
	v.Set(m)
}

// setDefault sets a scalar or string field to its IDL default as written in
// the tag.
func setDefault(v reflect.Value, def string) {
	var err error
	switch v.Kind() {
	case reflect.Bool:
		var b bool
		b, err = strconv.ParseBool(def)
		v.SetBool(b)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var x int64
		x, err = strconv.ParseInt(def, 0, 64)
		v.SetInt(x)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32:
		var x uint64
		x, err = strconv.ParseUint(def, 0, 64)
		v.SetUint(x)
	case reflect.Float32, reflect.Float64:
		var f float64
		f, err = strconv.ParseFloat(def, 64)
		v.SetFloat(f)
	case reflect.String:
		v.SetString(def)
	default:
		err = fmt.Errorf("default on %v", v.Type())
	}
	if err != nil {
		panic(err)
	}
}
