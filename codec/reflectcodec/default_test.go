package reflectcodec_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/gotars/tars/codec/reflectcodec"
)

type defaultsInner struct {
	N int32  `tars:"0,default=-4"`
	S string `tars:"1,default=\"a,b\""`
}

type withDefaults struct {
	B     bool              `tars:"0,default=true"`
	I8    int8              `tars:"1,default=-3"`
	I16   int16             `tars:"2,default=300"`
	I32   int32             `tars:"3,require,default=42"`
	I64   int64             `tars:"4,default=-7"`
	U8    uint8             `tars:"5,default=200"`
	U16   uint16            `tars:"6,default=65000"`
	U32   uint32            `tars:"7,default=4000000000"`
	F32   float32           `tars:"8,default=2.5"`
	F64   float64           `tars:"9,default=1.5"`
	S     string            `tars:"10,default=hello"`
	C     Color             `tars:"11,default=2"`
	Plain int32             `tars:"12"`
	L     []string          `tars:"13"`
	M     map[string]string `tars:"14"`
	In    defaultsInner     `tars:"15"`
	Ptr   *defaultsInner    `tars:"16"`
	Ins   []defaultsInner   `tars:"17"`
}

var wantDefaults = withDefaults{
	B: true, I8: -3, I16: 300, I32: 42, I64: -7, U8: 200, U16: 65000, U32: 4000000000,
	F32: 2.5, F64: 1.5, S: "hello", C: Green, In: defaultsInner{N: -4, S: "a,b"},
}

// TestDefault: Default and ResetDefault give every field its default= and
// every other field its zero value, nested structs included; the same
// value as decoding a struct none of whose optional fields is present.
func TestDefault(t *testing.T) {
	got, err := reflectcodec.Default[withDefaults]()
	if err != nil || !reflect.DeepEqual(got, wantDefaults) {
		t.Fatalf("Default: %+v, %v\nwant %+v", got, err, wantDefaults)
	}
	dirty := withDefaults{Plain: 5, L: []string{"x"}, M: map[string]string{"k": "v"}, In: defaultsInner{N: 1},
		Ptr: &defaultsInner{}, Ins: []defaultsInner{{}}, S: "changed", C: Red}
	if err := reflectcodec.ResetDefault(&dirty); err != nil || !reflect.DeepEqual(dirty, wantDefaults) {
		t.Fatalf("ResetDefault: %+v, %v", dirty, err)
	}
	c, err := reflectcodec.For[withDefaults]()
	if err != nil {
		t.Fatal(err)
	}
	dirty.Plain = 9
	c.ResetDefault(&dirty)
	if !reflect.DeepEqual(dirty, wantDefaults) {
		t.Fatalf("Codec.ResetDefault: %+v", dirty)
	}
	// Decoding: only the require field on the wire, everything else absent.
	var decoded withDefaults
	if err := reflectcodec.Unmarshal([]byte{0x32, 0, 0, 0, 42}, &decoded); err != nil || !reflect.DeepEqual(decoded, wantDefaults) {
		t.Fatalf("decoded %+v, %v", decoded, err)
	}
}

func TestDefaultErrors(t *testing.T) {
	var te *reflectcodec.TypeError
	if _, err := reflectcodec.Default[int32](); !errors.As(err, &te) {
		t.Errorf("Default[int32]: %v", err)
	}
	if err := reflectcodec.ResetDefault(withDefaults{}); !errors.As(err, &te) {
		t.Errorf("ResetDefault of a non-pointer: %v", err)
	}
	if err := reflectcodec.ResetDefault((*withDefaults)(nil)); !errors.As(err, &te) {
		t.Errorf("ResetDefault of nil: %v", err)
	}
	type bad struct {
		N int `tars:"0"`
	}
	if err := reflectcodec.ResetDefault(&bad{}); !errors.As(err, &te) {
		t.Errorf("ResetDefault of a type TARS cannot carry: %v", err)
	}
}
