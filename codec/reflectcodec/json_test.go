package reflectcodec

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"

	"github.com/gotars/tars/codec"
)

type jColor int32

type jRec struct {
	Next *jRec `tars:"0"`
}

type jTree struct {
	Kids []jTree `tars:"0"`
}

type jInner struct {
	A int32  `tars:"0,name=a"`
	B string `tars:"1,default=dflt"`
}

// jAll has every kind the codec supports. Its fields are declared out of tag
// order: JSON follows the declaration order, as tars2go's structs (declared
// in IDL order) do.
type jAll struct {
	Last   int32                         `tars:"50,name=last"`
	Bool   bool                          `tars:"0"`
	I8     int8                          `tars:"1"`
	I16    int16                         `tars:"2"`
	I32    int32                         `tars:"3"`
	I64    int64                         `tars:"4"`
	U8     uint8                         `tars:"5"`
	U16    uint16                        `tars:"6"`
	U32    uint32                        `tars:"7"`
	F32    float32                       `tars:"8"`
	F64    float64                       `tars:"9"`
	Str    string                        `tars:"10,name=str"`
	Bytes  []byte                        `tars:"11"`
	Int8s  []int8                        `tars:"12"`
	Strs   []string                      `tars:"13"`
	Ints   []int64                       `tars:"14"`
	Nested [][]int32                     `tars:"15"`
	SS     map[string]string             `tars:"16"`
	IS     map[int32]jInner              `tars:"17"`
	MM     map[int32]map[string][]string `tars:"18"`
	UM     map[uint16]string             `tars:"19"`
	EM     map[jColor]bool               `tars:"20"`
	Color  jColor                        `tars:"21"`
	In     jInner                        `tars:"22"`
	Ins    []jInner                      `tars:"23"`
	Ptr    *jInner                       `tars:"24"`
	Arr    [3]int16                      `tars:"25"`
	ArrB   [4]byte                       `tars:"26"`
	Req    int32                         `tars:"40,require"`
	Dflt   int32                         `tars:"41,default=7"`
	Skip   string                        `tars:"-"`
}

// mirrorType returns the type tars2go would generate for t: the same shape,
// []int8 for byte vectors, int32 for enums, json tags holding IDL names.
func mirrorType(t reflect.Type) reflect.Type {
	switch t.Kind() {
	case reflect.Struct:
		var fs []reflect.StructField
		for i := range t.NumField() {
			sf := t.Field(i)
			raw, ok := sf.Tag.Lookup("tars")
			if !sf.IsExported() || !ok || raw == "-" {
				continue
			}
			tag, err := ParseTag(sf.Name, raw)
			if err != nil {
				panic(err)
			}
			fs = append(fs, reflect.StructField{Name: sf.Name, Type: mirrorType(sf.Type),
				Tag: reflect.StructTag(`json:"` + tag.Name + `"`)})
		}
		return reflect.StructOf(fs)
	case reflect.Slice:
		if k := t.Elem().Kind(); k == reflect.Uint8 || k == reflect.Int8 {
			return reflect.TypeFor[[]int8]()
		}
		return reflect.SliceOf(mirrorType(t.Elem()))
	case reflect.Array:
		if k := t.Elem().Kind(); k == reflect.Uint8 || k == reflect.Int8 {
			return reflect.ArrayOf(t.Len(), reflect.TypeFor[int8]())
		}
		return reflect.ArrayOf(t.Len(), mirrorType(t.Elem()))
	case reflect.Map:
		return reflect.MapOf(mirrorType(t.Key()), mirrorType(t.Elem()))
	case reflect.Pointer:
		return reflect.PointerTo(mirrorType(t.Elem()))
	case reflect.Int32:
		return reflect.TypeFor[int32]()
	}
	return t
}

// mirror copies v into a value of mirrorType(v.Type()).
func mirror(v reflect.Value) reflect.Value {
	mt := mirrorType(v.Type())
	out := reflect.New(mt).Elem()
	switch v.Kind() {
	case reflect.Struct:
		j := 0
		for i := range v.NumField() {
			sf := v.Type().Field(i)
			if raw, ok := sf.Tag.Lookup("tars"); !sf.IsExported() || !ok || raw == "-" {
				continue
			}
			out.Field(j).Set(mirror(v.Field(i)))
			j++
		}
	case reflect.Slice:
		if v.IsNil() {
			return out
		}
		out.Set(reflect.MakeSlice(mt, v.Len(), v.Len()))
		for i := range v.Len() {
			setElem(out.Index(i), mirror(v.Index(i)))
		}
	case reflect.Array:
		for i := range v.Len() {
			setElem(out.Index(i), mirror(v.Index(i)))
		}
	case reflect.Map:
		if v.IsNil() {
			return out
		}
		out.Set(reflect.MakeMap(mt))
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(mirror(it.Key()), mirror(it.Value()))
		}
	case reflect.Pointer:
		if !v.IsNil() {
			out.Set(reflect.New(mt.Elem()))
			out.Elem().Set(mirror(v.Elem()))
		}
	case reflect.Uint8:
		if mt.Kind() == reflect.Int8 {
			out.SetInt(int64(int8(v.Uint())))
		} else {
			out.Set(v)
		}
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		out.SetInt(v.Int())
	default:
		out.Set(v)
	}
	return out
}

// setElem sets a mirror element; a byte becomes tars2go's int8.
func setElem(dst, src reflect.Value) {
	if dst.Kind() == reflect.Int8 && src.Kind() == reflect.Uint8 {
		dst.SetInt(int64(int8(src.Uint())))
		return
	}
	dst.Set(src)
}

var nastyStrings = []string{"", "plain", "<a href='x'>&amp;</a>", "tab\tnl\ncr\rbs\\q\"", "\x00\x01\x1f\x7f",
	"bad utf8 \xff\xfe", "\u2028\u2029", "日本語", "emoji 😀", "\b\f", "trailing \xe2\x82"}

// randValue fills v with random content: nil and empty containers, extreme
// numbers and the nasty strings included.
func randValue(rng *rand.Rand, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 1)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := v.Type().Bits()
		switch rng.IntN(4) {
		case 0:
			v.SetInt(0)
		case 1:
			v.SetInt(-1 << (bits - 1))
		case 2:
			v.SetInt(1<<(bits-1) - 1)
		default:
			v.SetInt(int64(rng.Uint64()) >> (64 - bits))
		}
	case reflect.Uint8, reflect.Uint16, reflect.Uint32:
		v.SetUint(rng.Uint64() >> (64 - v.Type().Bits()))
	case reflect.Float32, reflect.Float64:
		fs := []float64{0, math.Copysign(0, -1), 1, -1.5, 1e21, 1e20, 1e-6, 1e-7, 123456789.125, math.MaxFloat32, math.SmallestNonzeroFloat32, 0.1}
		if v.Kind() == reflect.Float64 {
			fs = append(fs, math.MaxFloat64, math.SmallestNonzeroFloat64, 1e300, -2.5e-300)
		}
		if rng.IntN(3) == 0 {
			v.SetFloat(fs[rng.IntN(len(fs))])
		} else {
			v.SetFloat(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(40)-20)))
		}
	case reflect.String:
		if rng.IntN(2) == 0 {
			v.SetString(nastyStrings[rng.IntN(len(nastyStrings))])
		} else {
			b := make([]byte, rng.IntN(12))
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
			v.SetString(string(b))
		}
	case reflect.Slice:
		switch n := rng.IntN(5); {
		case n == 0 || depth > 3:
			v.SetZero() // nil
		default:
			v.Set(reflect.MakeSlice(v.Type(), n-1, n-1))
			for i := range n - 1 {
				randValue(rng, v.Index(i), depth+1)
			}
		}
	case reflect.Array:
		for i := range v.Len() {
			randValue(rng, v.Index(i), depth+1)
		}
	case reflect.Map:
		switch n := rng.IntN(5); {
		case n == 0 || depth > 3:
			v.SetZero()
		default:
			v.Set(reflect.MakeMap(v.Type()))
			for range n - 1 {
				k := reflect.New(v.Type().Key()).Elem()
				e := reflect.New(v.Type().Elem()).Elem()
				randValue(rng, k, depth+1)
				randValue(rng, e, depth+1)
				v.SetMapIndex(k, e)
			}
		}
	case reflect.Pointer:
		if rng.IntN(2) == 0 || depth > 3 {
			v.SetZero()
		} else {
			v.Set(reflect.New(v.Type().Elem()))
			randValue(rng, v.Elem(), depth+1)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				randValue(rng, v.Field(i), depth+1)
			}
		}
	}
}

// TestJSONMatchesEncodingJSON: for random values, MarshalJSONValue writes
// exactly what encoding/json writes for the tars2go-shaped mirror, and each
// side reads the other's output back to the same value.
func TestJSONMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 2000 {
		var v jAll
		randValue(rng, reflect.ValueOf(&v).Elem(), 0)
		v.Skip = ""
		m := mirror(reflect.ValueOf(v))
		want, err := json.Marshal(m.Interface())
		if err != nil {
			t.Fatal(err)
		}
		got, err := MarshalJSONValue(v)
		if err != nil {
			t.Fatalf("value %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("value %d:\n got %s\nwant %s", i, got, want)
		}
		// Read encoding/json's output back.
		var back jAll
		if err := UnmarshalJSONValue(want, &back); err != nil {
			t.Fatalf("value %d: %v\n%s", i, err, want)
		}
		if !reflect.DeepEqual(mirror(reflect.ValueOf(back)).Interface(), jsonRoundTrip(t, m)) {
			t.Fatalf("value %d read back differently:\n%s", i, want)
		}
	}
}

// jsonRoundTrip is what encoding/json itself reads back from its own output
// (strings with invalid UTF-8 come back with U+FFFD).
func jsonRoundTrip(t *testing.T, m reflect.Value) any {
	b, err := json.Marshal(m.Interface())
	if err != nil {
		t.Fatal(err)
	}
	p := reflect.New(m.Type())
	if err := json.Unmarshal(b, p.Interface()); err != nil {
		t.Fatal(err)
	}
	return p.Elem().Interface()
}

func TestJSONGolden(t *testing.T) {
	v := jAll{
		Last: 50, Bool: true, I8: -8, I16: -1600, I32: 1 << 20, I64: -1 << 40, U8: 250, U16: 65000, U32: math.MaxUint32,
		F32: 1.5, F64: 1e21, Str: "<é>", Bytes: []byte{1, 0xff}, Int8s: []int8{}, Strs: []string{"a"},
		SS: map[string]string{"b": "2", "a": "1"}, IS: map[int32]jInner{10: {A: 1}, 9: {B: "x"}},
		UM: map[uint16]string{7: "s"}, EM: map[jColor]bool{2: true}, Color: 2, In: jInner{A: 3, B: "b"},
		Ins: []jInner{{}}, Ptr: &jInner{A: -1}, Arr: [3]int16{1, 2, 3}, ArrB: [4]byte{0, 1, 128, 255}, Req: 1, Dflt: 7,
	}
	want := `{"last":50,"bool":true,"i8":-8,"i16":-1600,"i32":1048576,"i64":-1099511627776,"u8":250,"u16":65000,` +
		`"u32":4294967295,"f32":1.5,"f64":1e+21,"str":"\u003cé\u003e","bytes":[1,-1],"int8s":[],"strs":["a"],` +
		`"ints":null,"nested":null,"ss":{"a":"1","b":"2"},"is":{"10":{"a":1,"b":""},"9":{"a":0,"b":"x"}},"mm":null,` +
		`"um":{"7":"s"},"em":{"2":true},"color":2,"in":{"a":3,"b":"b"},"ins":[{"a":0,"b":""}],"ptr":{"a":-1,"b":""},` +
		`"arr":[1,2,3],"arrB":[0,1,-128,-1],"req":1,"dflt":7}`
	got, err := MarshalJSONValue(&v)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
	var back jAll
	if err := UnmarshalJSONValue(got, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, v) {
		t.Fatalf("read back %+v", back)
	}
}

func TestJSONTopLevelValues(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{int32(5), `5`},
		{jColor(3), `3`},
		{"a<b", `"a\u003cb"`},
		{[]string(nil), `null`},
		{[]string{}, `[]`},
		{[]byte{1, 2}, `[1,2]`},
		{map[int32]string{10: "a", 9: "b", -1: "c"}, `{"-1":"c","10":"a","9":"b"}`},
		{(*jInner)(nil), `null`},
		{&jInner{A: 1}, `{"a":1,"b":""}`},
		{jInner{B: "x"}, `{"a":0,"b":"x"}`},
		{float32(0.1), `0.1`},
		{1e-7, `1e-7`},
		{nil, `null`},
	}
	for _, c := range cases {
		got, err := MarshalJSONValue(c.v)
		if err != nil || string(got) != c.want {
			t.Errorf("MarshalJSONValue(%#v) = %s, %v; want %s", c.v, got, err, c.want)
		}
		if c.v == nil {
			continue
		}
		if std, _ := json.Marshal(mirror(reflect.ValueOf(c.v)).Interface()); string(std) != c.want {
			t.Errorf("encoding/json writes %s for %#v", std, c.v)
		}
		p := reflect.New(reflect.TypeOf(c.v))
		if err := UnmarshalJSONValue(got, p.Interface()); err != nil {
			t.Errorf("UnmarshalJSONValue(%s): %v", got, err)
		} else if !reflect.DeepEqual(p.Elem().Interface(), c.v) {
			t.Errorf("UnmarshalJSONValue(%s) = %#v", got, p.Elem().Interface())
		}
	}
}

func TestJSONFloatsMatchEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for range 20000 {
		bits := rng.Uint64()
		f64 := math.Float64frombits(bits)
		f32 := math.Float32frombits(uint32(bits))
		if !math.IsNaN(f64) && !math.IsInf(f64, 0) {
			want, _ := json.Marshal(f64)
			got, _ := MarshalJSONValue(f64)
			if !bytes.Equal(got, want) {
				t.Fatalf("float64 %v: got %s, want %s", f64, got, want)
			}
		}
		if !math.IsNaN(float64(f32)) && !math.IsInf(float64(f32), 0) {
			want, _ := json.Marshal(f32)
			got, _ := MarshalJSONValue(f32)
			if !bytes.Equal(got, want) {
				t.Fatalf("float32 %v: got %s, want %s", f32, got, want)
			}
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := MarshalJSONValue(jAll{F64: f}); !errors.Is(err, ErrJSONUnsupportedValue) {
			t.Fatalf("%v: %v", f, err)
		}
	}
}

func TestJSONDecodeRules(t *testing.T) {
	var v jAll
	// Unknown keys (of every shape) are skipped; keys match case-insensitively;
	// absent fields take their defaults; null is the default too.
	in := `{"unknown":{"x":[1,{"y":null}],"z":"w"},"REQ":5,"in":{"a":2,"zz":[]},"str":null,"ptr":{"b":"q"},` +
		`"ins":[{"a":1}],"is":{"3":{}},"bytes":"AQL/","i64":-9223372036854775808,"u32":4294967295,"arrB":[1,2,3,4,5,6],"arr":[7]}`
	if err := UnmarshalJSONValue([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	want := jAll{Req: 5, Dflt: 7, In: jInner{A: 2, B: "dflt"}, Ptr: &jInner{B: "q"}, Ins: []jInner{{A: 1, B: "dflt"}},
		IS: map[int32]jInner{3: {B: "dflt"}}, Bytes: []byte{1, 2, 0xff}, I64: math.MinInt64, U32: math.MaxUint32,
		ArrB: [4]byte{1, 2, 3, 4}, Arr: [3]int16{7}}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("got  %+v\nwant %+v", v, want)
	}
	// Decoding sets every field: nothing of the previous value survives.
	v = jAll{Str: "old", SS: map[string]string{"x": "y"}, Dflt: 100, Ptr: &jInner{}}
	if err := UnmarshalJSONValue([]byte(`{"req":0}`), &v); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v, jAll{Dflt: 7, In: jInner{B: "dflt"}}) {
		t.Fatalf("stale fields: %+v", v)
	}

	bad := []struct {
		name, in string
		kind     error
		path     string
	}{
		{"require_missing", `{"i32":1}`, codec.ErrRequiredMissing, "jAll.Req"},
		{"int_out_of_range", `{"req":1,"i8":128}`, codec.ErrOutOfRange, "jAll.I8"},
		{"int_too_big", `{"req":1,"i64":9223372036854775808}`, codec.ErrOutOfRange, "jAll.I64"},
		{"uint_negative", `{"req":1,"u16":-1}`, codec.ErrTypeMismatch, "jAll.U16"},
		{"uint_out_of_range", `{"req":1,"u8":256}`, codec.ErrOutOfRange, "jAll.U8"},
		{"fraction_in_int", `{"req":1.5}`, codec.ErrTypeMismatch, "jAll.Req"},
		{"exponent_in_int", `{"req":1e3}`, codec.ErrTypeMismatch, "jAll.Req"},
		{"string_in_int", `{"req":"1"}`, codec.ErrTypeMismatch, "jAll.Req"},
		{"float_overflow", `{"req":1,"f32":1e39}`, codec.ErrOutOfRange, "jAll.F32"},
		{"number_in_string", `{"req":1,"str":1}`, codec.ErrTypeMismatch, "jAll.Str"},
		{"byte_out_of_range", `{"req":1,"bytes":[1,256]}`, codec.ErrOutOfRange, "jAll.Bytes[1]"},
		{"bad_base64", `{"req":1,"bytes":"!!"}`, codec.ErrMalformed, "jAll.Bytes"},
		{"nested_type", `{"req":1,"ins":[{"a":1},{"a":"x"}]}`, codec.ErrTypeMismatch, "jAll.Ins[1].A"},
		{"map_key", `{"req":1,"is":{"x":{}}}`, codec.ErrTypeMismatch, `jAll.IS["x"]`},
		{"map_key_range", `{"req":1,"um":{"70000":""}}`, codec.ErrOutOfRange, `jAll.UM["70000"]`},
		{"map_value", `{"req":1,"ss":{"a":1}}`, codec.ErrTypeMismatch, `jAll.SS["a"]`},
		{"array_not_object", `[]`, codec.ErrTypeMismatch, "jAll"},
		{"syntax", `{"req":1,}`, codec.ErrMalformed, "jAll"},
		{"truncated", `{"req":1`, codec.ErrTruncated, "jAll"},
		{"empty", ``, codec.ErrTruncated, ""},
		{"trailing", `{"req":1} {}`, codec.ErrMalformed, ""},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			var v jAll
			err := UnmarshalJSONValue([]byte(c.in), &v)
			if !errors.Is(err, c.kind) {
				t.Fatalf("got %v, want %v", err, c.kind)
			}
			var ce *codec.Error
			if !errors.As(err, &ce) {
				t.Fatalf("%T is not a *codec.Error", err)
			}
			if c.path != "" && ce.Path != c.path {
				t.Fatalf("path %q, want %q (%v)", ce.Path, c.path, err)
			}
		})
	}
	var rec jRec
	deep := strings.Repeat(`{"next":`, 150) + "{}" + strings.Repeat("}", 150)
	if err := UnmarshalJSONValue([]byte(deep), &rec); !errors.Is(err, codec.ErrTooDeep) {
		t.Fatalf("deep objects: %v", err)
	}
	var tree jTree
	deep = strings.Repeat(`{"kids":[`, 60) + strings.Repeat("]}", 60)
	if err := UnmarshalJSONValue([]byte(deep), &tree); !errors.Is(err, codec.ErrTooDeep) {
		t.Fatalf("deep arrays: %v", err)
	}
	// Deep unknown values are skipped without recursion.
	deep = `{"req":1,"x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "}"
	if err := UnmarshalJSONValue([]byte(deep), &v); err != nil {
		t.Fatalf("deep unknown value: %v", err)
	}
}

func TestJSONErrors(t *testing.T) {
	if _, err := MarshalJSONValue(map[bool]int32{true: 1}); err == nil {
		t.Error("map with bool keys marshalled")
	}
	var mb map[bool]int32
	if err := UnmarshalJSONValue([]byte(`{"true":1}`), &mb); err == nil {
		t.Error("map with bool keys unmarshalled")
	}
	if _, err := MarshalJSONValue(7); err == nil {
		t.Error("Go int marshalled")
	}
	if err := UnmarshalJSONValue([]byte(`1`), nil); err == nil {
		t.Error("nil target")
	}
	var i int32
	if err := UnmarshalJSONValue([]byte(`1`), i); err == nil {
		t.Error("non-pointer target")
	}
	type cyc struct {
		Next *cyc `tars:"0"`
	}
	c := &cyc{}
	c.Next = c
	if _, err := MarshalJSONValue(c); !errors.Is(err, ErrCycle) {
		t.Errorf("cycle: %v", err)
	}
	if _, err := MarshalJSONValue(tarsOnly{}); err == nil {
		t.Error("a Marshaler without MarshalJSON marshalled")
	}
}

// withJSON is a custom TARS type that also has a JSON form.
type withJSON struct{ N int32 }

func (w *withJSON) MarshalTARS(wr *codec.Writer) error { wr.WriteInt32(0, w.N); return nil }
func (w *withJSON) UnmarshalTARS(r *codec.Reader) error {
	v, err := r.Int32(0, false)
	w.N = v
	return err
}
func (w withJSON) MarshalJSON() ([]byte, error) { return json.Marshal(map[string]int32{"n": w.N}) }
func (w *withJSON) UnmarshalJSON(b []byte) error {
	var m map[string]int32
	err := json.Unmarshal(b, &m)
	w.N = m["n"]
	return err
}

type tarsOnly struct{}

func (tarsOnly) MarshalTARS(*codec.Writer) error    { return nil }
func (*tarsOnly) UnmarshalTARS(*codec.Reader) error { return nil }

func TestJSONCustom(t *testing.T) {
	type holder struct {
		W  withJSON   `tars:"0"`
		Ws []withJSON `tars:"1"`
	}
	h := holder{W: withJSON{N: 3}, Ws: []withJSON{{N: 4}}}
	got, err := MarshalJSONValue(h)
	if err != nil || string(got) != `{"w":{"n":3},"ws":[{"n":4}]}` {
		t.Fatalf("got %s, %v", got, err)
	}
	var back holder
	if err := UnmarshalJSONValue(got, &back); err != nil || !reflect.DeepEqual(back, h) {
		t.Fatalf("back %+v, %v", back, err)
	}
}

// TestJSONParams: the object a JSON request or answer carries, keyed by
// parameter names, keys sorted as encoding/json sorts a map.
func TestJSONParams(t *testing.T) {
	type results struct {
		Ret    int32  `tars:"0,require,name=tars_ret"`
		Result jInner `tars:"2,require,name=result"`
		Alpha  string `tars:"3,require,name=alpha"`
	}
	ti, err := infoFor(reflect.TypeFor[results]())
	if err != nil {
		t.Fatal(err)
	}
	r := results{Ret: -1, Result: jInner{A: 1, B: "<"}, Alpha: "a"}
	got, err := appendJSONParams([]byte("x"), ti.st, unsafe.Pointer(&r))
	if err != nil {
		t.Fatal(err)
	}
	std, _ := json.Marshal(map[string]any{"tars_ret": r.Ret, "result": mirror(reflect.ValueOf(r.Result)).Interface(), "alpha": r.Alpha})
	if string(got) != "x"+string(std) {
		t.Fatalf("got %s, want x%s", got, std)
	}
	var back results
	if err := decodeJSONParams(got[1:], ti.st, unsafe.Pointer(&back), true, 0); err != nil || back != r {
		t.Fatalf("back %+v, %v", back, err)
	}
	// Missing parameters: an error when strict, defaults otherwise.
	back = results{Ret: 9}
	if err := decodeJSONParams([]byte(`{"alpha":"z"}`), ti.st, unsafe.Pointer(&back), true, 0); !errors.Is(err, codec.ErrRequiredMissing) {
		t.Fatalf("strict: %v", err)
	}
	back = results{Ret: 9}
	if err := decodeJSONParams([]byte(`{"alpha":"z"}`), ti.st, unsafe.Pointer(&back), false, 0); err != nil ||
		back != (results{Alpha: "z", Result: jInner{B: "dflt"}}) {
		t.Fatalf("lenient: %+v, %v", back, err)
	}
	if err := decodeJSONParams([]byte(`null`), ti.st, unsafe.Pointer(&back), false, 0); err != nil {
		t.Fatalf("null body: %v", err)
	}
	if err := decodeJSONParams([]byte(`[1]`), ti.st, unsafe.Pointer(&back), false, 0); !errors.Is(err, codec.ErrTypeMismatch) {
		t.Fatalf("array body: %v", err)
	}
}

// FuzzJSONString: strings are escaped exactly as encoding/json escapes them.
func FuzzJSONString(f *testing.F) {
	for _, s := range nastyStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		got := appendJSONString(nil, s)
		if !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
		var back string
		if err := UnmarshalJSONValue(got, &back); err != nil {
			t.Fatal(err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("%q read back as %q", s, back)
		}
	})
}

// FuzzUnmarshalJSONValue: no input panics, every error is typed, and what
// decodes re-encodes to JSON that decodes to the same value.
func FuzzUnmarshalJSONValue(f *testing.F) {
	f.Add([]byte(`{"req":1,"ins":[{"a":1}],"is":{"3":{}},"bytes":"AQL/","ss":{"a":"b"},"ptr":null,"mm":{"1":{"a":["x"]}}}`))
	f.Add([]byte(`{"unknown":{"x":[1,{"y":null}]},"REQ":5}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var v jAll
		err := UnmarshalJSONValue(in, &v)
		if err != nil {
			var ce *codec.Error
			if !errors.As(err, &ce) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		out, err := MarshalJSONValue(&v)
		if err != nil {
			if errors.Is(err, ErrJSONUnsupportedValue) {
				return
			}
			t.Fatal(err)
		}
		var w jAll
		if err := UnmarshalJSONValue(out, &w); err != nil {
			t.Fatalf("re-encoded %s: %v", out, err)
		}
		again, _ := MarshalJSONValue(&w)
		if !bytes.Equal(out, again) {
			t.Fatalf("not stable:\n%s\n%s", out, again)
		}
	})
}

func BenchmarkMarshalJSONValue(b *testing.B) {
	v := jAll{Str: "hello", Strs: []string{"a", "b"}, SS: map[string]string{"k": "v"}, Ins: []jInner{{A: 1}}, Req: 1}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := MarshalJSONValue(&v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalJSONValue(b *testing.B) {
	in, _ := MarshalJSONValue(&jAll{Str: "hello", Strs: []string{"a", "b"}, SS: map[string]string{"k": "v"}, Ins: []jInner{{A: 1}}, Req: 1})
	b.ReportAllocs()
	for b.Loop() {
		var v jAll
		if err := UnmarshalJSONValue(in, &v); err != nil {
			b.Fatal(err)
		}
	}
}
