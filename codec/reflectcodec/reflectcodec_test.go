package reflectcodec_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/gotars/tars/codec"
	"github.com/gotars/tars/codec/reflectcodec"
)

type Color int32

const (
	Red Color = iota + 1
	Green
)

type Inner struct {
	A int32  `tars:"0"`
	B string `tars:"1,default=dflt"`
}

type Everything struct {
	Bool    bool                          `tars:"0"`
	I8      int8                          `tars:"1"`
	I16     int16                         `tars:"2"`
	I32     int32                         `tars:"3,require"`
	I64     int64                         `tars:"4"`
	U8      uint8                         `tars:"5"`
	U16     uint16                        `tars:"6"`
	U32     uint32                        `tars:"7"`
	F32     float32                       `tars:"8"`
	F64     float64                       `tars:"9"`
	Str     string                        `tars:"10"`
	Bytes   []byte                        `tars:"11"`
	Strs    []string                      `tars:"12"`
	Ints    []int64                       `tars:"13"`
	Nested  [][]int32                     `tars:"14"`
	SS      map[string]string             `tars:"15"`
	IS      map[int32]Inner               `tars:"16"`
	MM      map[int32]map[string][]string `tars:"17"`
	Color   Color                         `tars:"18"`
	In      Inner                         `tars:"19"`
	Ins     []Inner                       `tars:"20"`
	Ptr     *Inner                        `tars:"21"`
	Arr     [3]int16                      `tars:"22"`
	ArrB    [4]byte                       `tars:"23"`
	Big     int32                         `tars:"255"`
	Skipped string                        `tars:"-"`
	private int                           // unexported: ignored by the codec, even though int is not a TARS type
}

func sample() Everything {
	return Everything{
		Bool: true, I8: -8, I16: -1600, I32: 1 << 20, I64: -1 << 40, U8: 250, U16: 65000, U32: math.MaxUint32,
		F32: 1.25, F64: -3.5, Str: strings.Repeat("s", 300), Bytes: []byte{0, 1, 2},
		Strs: []string{"a", "", "c"}, Ints: []int64{0, 1, math.MaxInt64}, Nested: [][]int32{{1, 2}, {}, {3}},
		SS: map[string]string{"k": "v"}, IS: map[int32]Inner{7: {A: 1, B: "x"}},
		MM:    map[int32]map[string][]string{1: {"a": {"b"}}},
		Color: Green, In: Inner{A: 9, B: "in"}, Ins: []Inner{{A: 1, B: "one"}, {A: 2, B: "two"}},
		Ptr: &Inner{A: 3, B: "p"}, Arr: [3]int16{1, -1, 300}, ArrB: [4]byte{9, 8, 7, 6}, Big: 42,
	}
}

func TestRoundTripEverything(t *testing.T) {
	in := sample()
	b, err := reflectcodec.Marshal(&in)
	if err != nil {
		t.Fatal(err)
	}
	var out Everything
	if err := reflectcodec.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip differs:\n in %+v\nout %+v", in, out)
	}
	// Marshal of a value (not a pointer) gives the same bytes.
	b2, err := reflectcodec.Marshal(in)
	if err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("Marshal(value) differs: %v", err)
	}
}

// TestOmitsOptionalDefaults pins the rule tars2go's generated code follows:
// optional scalars equal to their default and empty optional containers are
// not written; require fields, structs and enums always are.
func TestOmitsOptionalDefaults(t *testing.T) {
	type S struct {
		Opt     int32             `tars:"0"`
		Req     int32             `tars:"1,require"`
		Def     int32             `tars:"2,default=5"`
		Str     string            `tars:"3"`
		List    []string          `tars:"4"`
		Map     map[string]string `tars:"5"`
		Enum    Color             `tars:"6"`
		In      Inner             `tars:"7"`
		Bytes   []byte            `tars:"8"`
		ReqList []int32           `tars:"9,require"`
		F       float64           `tars:"10"`
	}
	b, err := reflectcodec.Marshal(&S{})
	if err != nil {
		t.Fatal(err)
	}
	// Req=0 (1c), Def=0 != default 5 (2c), Enum 0 (6c), In{} whose B "" differs
	// from its default "dflt" (7a 1600 0b), ReqList [] (99 0c)
	want := "1c" + "2c" + "6c" + "7a16000b" + "990c"
	if got := hex.EncodeToString(b); got != want {
		t.Fatalf("got %s want %s", got, want)
	}
	var out S
	out.Opt = 99 // decoding overwrites every field
	if err := reflectcodec.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Opt != 0 || out.Def != 0 || out.In.B != "" {
		t.Fatalf("decoded %+v", out)
	}
	// An absent defaulted field takes its default.
	if err := reflectcodec.Unmarshal([]byte{0x1c, 0x99, 0x0c}, &out); err != nil || out.Def != 5 || out.In.B != "dflt" {
		t.Fatalf("defaults: %+v %v", out, err)
	}
}

func TestRequireMissingNamesTypeAndField(t *testing.T) {
	type R struct {
		UserName string `tars:"1,require"`
	}
	err := reflectcodec.Unmarshal([]byte{0x0c}, &R{})
	if !errors.Is(err, codec.ErrRequiredMissing) {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), "R.UserName") {
		t.Fatalf("error does not name the field: %v", err)
	}
}

func TestUnknownTagsAreSkipped(t *testing.T) {
	var w codec.Writer
	w.WriteInt32(0, 1)
	w.WriteStructBegin(1) // unknown: a whole struct
	w.WriteListHeader(0, 1)
	w.WriteString(0, "zzz")
	w.WriteStructEnd()
	w.WriteString(1, "kept") // Inner.B has tag 1: but tag 1 was the struct above
	w.WriteMapHeader(9, 1)   // unknown map after the last known field
	w.WriteInt32(0, 1)
	w.WriteInt32(1, 2)
	type Small struct {
		A int32 `tars:"0"`
	}
	var s Small
	if err := reflectcodec.Unmarshal(w.Bytes(), &s); err != nil || s.A != 1 {
		t.Fatalf("%+v %v", s, err)
	}
}

func TestFieldsInAnyOrder(t *testing.T) {
	var w codec.Writer
	w.WriteString(1, "b")
	w.WriteInt32(0, 7)
	var in Inner
	if err := reflectcodec.Unmarshal(w.Bytes(), &in); err != nil || in.A != 7 || in.B != "b" {
		t.Fatalf("%+v %v", in, err)
	}
}

func TestRegistrationErrors(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{struct {
			A int32 `tars:"1"`
			B int32 `tars:"1"`
		}{}, "field id 1 is also used by A"},
		{struct {
			A int `tars:"1"`
		}{}, "Go int has no fixed TARS width"},
		{struct {
			A uint64 `tars:"1"`
		}{}, "no unsigned long"},
		{struct {
			A chan int `tars:"1"`
		}{}, "cannot be encoded"},
		{struct {
			A func() `tars:"1"`
		}{}, "cannot be encoded"},
		{struct {
			A any `tars:"1"`
		}{}, "cannot be encoded"},
		{struct {
			A string `tars:"x"`
		}{}, "not a number"},
		{struct {
			A string `tars:"256"`
		}{}, "not a number from 0 to 255"},
		{struct {
			A string `tars:"1,requir"`
		}{}, `unknown option "requir"`},
		{struct {
			A string
		}{}, "no tars tag"},
		{struct {
			A int32 `tars:"1,default=x"`
		}{}, `default "x" is not a valid int32`},
		{struct {
			A uint8 `tars:"1,default=300"`
		}{}, `default "300" is not a valid uint8`},
		{struct {
			A map[[2]int32]int32 `tars:"1"`
		}{}, ""}, // arrays are valid keys
		{struct {
			A map[*int32]int32 `tars:"1"`
		}{}, "cannot key"},
		{struct {
			A **Inner `tars:"1"`
		}{}, "pointer to pointer"},
	}
	for _, c := range cases {
		err := reflectcodec.Register(c.v)
		if c.want == "" {
			if err != nil {
				t.Errorf("%T: unexpected %v", c.v, err)
			}
			continue
		}
		var te *reflectcodec.TypeError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%T: got %v, want %q", c.v, err, c.want)
			continue
		}
		if te.Field != "A" && te.Field != "B" {
			t.Errorf("%T: error does not name the field: %v", c.v, err)
		}
	}
	if err := reflectcodec.Register(42); err == nil {
		t.Error("Register(int) should fail")
	}
}

type Node struct {
	Name     string           `tars:"0"`
	Children []Node           `tars:"1"`
	Next     *Node            `tars:"2"`
	ByName   map[string]*Node `tars:"3"`
}

func TestRecursiveTypes(t *testing.T) {
	in := Node{Name: "root", Children: []Node{{Name: "a"}, {Name: "b", Children: []Node{{Name: "c"}}}},
		Next: &Node{Name: "n"}, ByName: map[string]*Node{"x": {Name: "x"}}}
	b, err := reflectcodec.Marshal(&in)
	if err != nil {
		t.Fatal(err)
	}
	var out Node
	if err := reflectcodec.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(normalize(in), normalize(out)) {
		t.Fatalf("got %+v", out)
	}
	// A cycle fails cleanly instead of overflowing the stack.
	cyc := &Node{Name: "loop"}
	cyc.Next = cyc
	if _, err := reflectcodec.Marshal(cyc); !errors.Is(err, reflectcodec.ErrCycle) {
		t.Fatalf("cycle: %v", err)
	}
}

// normalize maps empty slices to nil so that absent and empty compare equal.
func normalize(n Node) Node {
	if len(n.Children) == 0 {
		n.Children = nil
	}
	for i := range n.Children {
		n.Children[i] = normalize(n.Children[i])
	}
	return n
}

type custom struct {
	X int32
}

func (c *custom) MarshalTARS(w *codec.Writer) error {
	w.WriteInt32(0, c.X*2)
	return nil
}

func (c *custom) UnmarshalTARS(r *codec.Reader) error {
	v, err := r.Int32(0, true)
	c.X = v / 2
	return err
}

type holdsCustom struct {
	C  custom   `tars:"0"`
	Cs []custom `tars:"1"`
}

func TestMarshalerBypassesReflection(t *testing.T) {
	in := holdsCustom{C: custom{X: 3}, Cs: []custom{{X: 1}, {X: 2}}}
	b, err := reflectcodec.Marshal(&in)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(b); got != "0a00060b"+"190002"+"0a00020b"+"0a00040b" {
		t.Fatalf("bytes %s", got)
	}
	var out holdsCustom
	if err := reflectcodec.Unmarshal(b, &out); err != nil || !reflect.DeepEqual(in, out) {
		t.Fatalf("%+v %v", out, err)
	}
}

func TestHostileInputAllocatesLittle(t *testing.T) {
	type T struct {
		L  []Inner          `tars:"0"`
		S  string           `tars:"1"`
		M  map[int32]Inner  `tars:"2"`
		B  []byte           `tars:"3"`
		LS []string         `tars:"4"`
		N  *Node            `tars:"5"`
		MM map[string]Inner `tars:"6"`
	}
	deep := append([]byte{0x5a}, bytes.Repeat([]byte{0x2a}, 100000)...) // Node.Next nested 100,000 deep
	cases := map[string][]byte{
		"list 2^31":     {0x09, 0x02, 0x7f, 0xff, 0xff, 0xff, 0x0a, 0x0b, 0x0a, 0x0b},
		"string 4GiB":   {0x17, 0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c', 'd', 'e'},
		"map 2^31":      {0x28, 0x02, 0x7f, 0xff, 0xff, 0xff, 0x0c, 0x1a, 0x0b, 0x00},
		"bytes 2^31":    {0x3d, 0x00, 0x02, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3},
		"strings 2^31":  {0x49, 0x02, 0x7f, 0xff, 0xff, 0xff, 0x06, 0x00, 0x06, 0x00},
		"deep pointers": deep,
		"list 5 of 2":   {0x09, 0x00, 0x05, 0x0a, 0x0b, 0x0a, 0x0b},
	}
	for name, in := range cases {
		var err error
		allocs := testing.AllocsPerRun(5, func() {
			var v T
			err = reflectcodec.Unmarshal(in, &v)
		})
		var ce *codec.Error
		if !errors.As(err, &ce) {
			t.Errorf("%s: want *codec.Error, got %v", name, err)
		}
		if name != "deep pointers" && allocs > 8 {
			t.Errorf("%s: %v allocations", name, allocs)
		}
		if name == "deep pointers" && !errors.Is(err, codec.ErrTooDeep) {
			t.Errorf("deep pointers: %v", err)
		}
	}
}

func TestOutOfRangeUnsigned(t *testing.T) {
	type U struct {
		U8 uint8 `tars:"0"`
	}
	var w codec.Writer
	w.WriteInt16(0, 300)
	err := reflectcodec.Unmarshal(w.Bytes(), &U{})
	if !errors.Is(err, codec.ErrOutOfRange) {
		t.Fatalf("got %v", err)
	}
}

func TestCodecAppendReusesBuffer(t *testing.T) {
	c, err := reflectcodec.For[Inner]()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 64)
	v := Inner{A: 1, B: "x"}
	allocs := testing.AllocsPerRun(100, func() {
		buf, _ = c.Append(buf[:0], &v)
	})
	if allocs != 0 {
		t.Fatalf("Append allocated %v times", allocs)
	}
	var out Inner
	if err := c.Unmarshal(buf, &out); err != nil || out != v {
		t.Fatalf("%+v %v", out, err)
	}
}

func TestLowerCamel(t *testing.T) {
	for in, want := range map[string]string{
		"UserName": "userName", "ID": "id", "UserID": "userID", "HTTPPort": "httpPort",
		"x": "x", "A": "a", "CreateTime": "createTime",
	} {
		if got := reflectcodec.LowerCamel(in); got != want {
			t.Errorf("LowerCamel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseTag(t *testing.T) {
	tag, err := reflectcodec.ParseTag("Greeting", `3,require,name=hello,default="a,b"`)
	if err != nil {
		t.Fatal(err)
	}
	want := reflectcodec.Tag{ID: 3, Require: true, Name: "hello", Default: "a,b", HasDefault: true}
	if tag != want {
		t.Fatalf("got %+v", tag)
	}
}

func TestSkippedAndUnexportedFieldsAreNotEncoded(t *testing.T) {
	a, b := sample(), sample()
	b.Skipped, b.private = "not on the wire", 42
	ea, err := reflectcodec.Marshal(&a)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := reflectcodec.Marshal(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ea, eb) {
		t.Fatal("a skipped or unexported field changed the encoding")
	}
	var out Everything
	if err := reflectcodec.Unmarshal(eb, &out); err != nil || out.Skipped != "" || out.private != 0 {
		t.Fatalf("decoded %q %d, %v", out.Skipped, out.private, err)
	}
}
