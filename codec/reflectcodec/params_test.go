package reflectcodec

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/gotars/tars/codec"
	"github.com/gotars/tars/internal/paramcodec"
)

type getUserArgs struct {
	UserID int32  `tars:"1,name=userId"`
	Note   string `tars:"2"`
}

type createUserResults struct {
	Ret    int32    `tars:"0,name=tars_ret"`
	Result userInfo `tars:"2,name=result"`
}

type userInfo struct {
	UserID int32    `tars:"0,name=userId"`
	Tags   []string `tars:"5,name=tags"`
}

func TestStructParamsWritesEveryParameter(t *testing.T) {
	p, err := StructParams(reflect.TypeFor[getUserArgs]())
	if err != nil {
		t.Fatal(err)
	}
	w := codec.NewWriter(nil)
	if err := paramcodec.Of(p).Encode(w, &getUserArgs{}); err != nil {
		t.Fatal(err)
	}
	// Zero values are written (ZERO_TAG at 1, empty STRING1 at 2), unlike
	// optional struct fields.
	if want := []byte{0x1c, 0x26, 0x00}; !bytes.Equal(w.Bytes(), want) {
		t.Fatalf("got % x, want % x", w.Bytes(), want)
	}
	got := getUserArgs{UserID: 9}
	err = paramcodec.Of(p).Decode(codec.NewReader([]byte{0x26, 0x00}), &got)
	if !errors.Is(err, codec.ErrRequiredMissing) {
		t.Fatalf("missing parameter: got %v", err)
	}
	want := []Param{{Name: "userId", Tag: 1, GoName: "UserID", Type: reflect.TypeFor[int32]()}, {Name: "note", Tag: 2, GoName: "Note", Type: reflect.TypeFor[string]()}}
	if !reflect.DeepEqual(p.Params(), want) {
		t.Fatalf("Params() = %+v", p.Params())
	}
	// The plan of the struct itself keeps its optional semantics.
	b, _ := Marshal(&getUserArgs{})
	if len(b) != 0 {
		t.Fatalf("struct encoding of zero value: % x", b)
	}
}

func TestParamsRoundTrip(t *testing.T) {
	p, err := StructParams(reflect.TypeFor[createUserResults]())
	if err != nil {
		t.Fatal(err)
	}
	in := createUserResults{Ret: 3, Result: userInfo{UserID: 4, Tags: []string{"a"}}}
	w := codec.NewWriter(nil)
	if err := paramcodec.Of(p).Encode(w, &in); err != nil {
		t.Fatal(err)
	}
	var out createUserResults
	if err := paramcodec.Of(p).Decode(codec.NewReader(w.Bytes()), &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("got %+v want %+v", out, in)
	}
	// Each parameter alone at tag 0, as TUP carries it.
	for i := range p.Params() {
		w.Reset()
		if err := paramcodec.Of(p).EncodeParam(w, i, &in, 0); err != nil {
			t.Fatal(err)
		}
		var one createUserResults
		if err := paramcodec.Of(p).DecodeParam(codec.NewReader(w.Bytes()), i, &one, 0); err != nil {
			t.Fatal(err)
		}
	}
}

func TestValueParams(t *testing.T) {
	p, err := ValueParams(reflect.TypeFor[[]userInfo](), 0, "tars_ret")
	if err != nil {
		t.Fatal(err)
	}
	in := []userInfo{{UserID: 1}, {UserID: 2, Tags: []string{"x", "y"}}}
	w := codec.NewWriter(nil)
	if err := paramcodec.Of(p).Encode(w, &in); err != nil {
		t.Fatal(err)
	}
	var out []userInfo
	if err := paramcodec.Of(p).Decode(codec.NewReader(w.Bytes()), &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("got %+v want %+v", out, in)
	}
	var empty []userInfo
	w.Reset()
	if err := paramcodec.Of(p).Encode(w, &empty); err != nil {
		t.Fatal(err)
	}
	if want := []byte{0x09, 0x0c}; !bytes.Equal(w.Bytes(), want) { // an empty LIST, written
		t.Fatalf("empty return value: % x", w.Bytes())
	}
	if err := paramcodec.Of(p).Encode(w, in); err == nil {
		t.Fatal("a non-pointer was accepted")
	}
	if _, err := ValueParams(reflect.TypeFor[int](), 0, "x"); err == nil {
		t.Fatal("int accepted")
	}
}

// TestStructParamsRejectsRequireAndDefault: require and default= cannot be
// expressed on a TARS parameter; a parameter list that carries them is
// refused, naming the field, instead of silently ignoring them.
func TestStructParamsRejectsRequireAndDefault(t *testing.T) {
	type withRequire struct {
		A int32 `tars:"1,require"`
	}
	type withDefault struct {
		A int32  `tars:"1"`
		B string `tars:"2,default=x"`
	}
	type retDefault struct {
		Ret int32 `tars:"0,default=7"`
	}
	for _, c := range []struct {
		t     reflect.Type
		field string
		want  string
	}{
		{reflect.TypeFor[withRequire](), "A", "require"},
		{reflect.TypeFor[withDefault](), "B", "default="},
		{reflect.TypeFor[retDefault](), "Ret", "default="},
	} {
		_, err := StructParams(c.t)
		var te *TypeError
		if !errors.As(err, &te) || te.Field != c.field || !bytes.Contains([]byte(te.Reason), []byte(c.want)) {
			t.Errorf("%v: %v, want a TypeError on %s about %s", c.t, err, c.field, c.want)
		}
	}
	// Nested structs keep their options: only the parameters are refused.
	type inner struct {
		A int32 `tars:"0,require"`
		B int32 `tars:"1,default=3"`
	}
	type nested struct {
		In inner `tars:"1"`
	}
	if _, err := StructParams(reflect.TypeFor[nested]()); err != nil {
		t.Errorf("a parameter whose struct has require/default fields: %v", err)
	}
}
