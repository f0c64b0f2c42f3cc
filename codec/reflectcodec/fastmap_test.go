package reflectcodec

import (
	"errors"
	"reflect"
	"testing"
	"unsafe"

	"github.com/gotars/tars/codec"
)

type scalarMaps struct {
	II map[int32]int32    `tars:"0"`
	IL map[int32]int64    `tars:"1"`
	IS map[int32]string   `tars:"2"`
	ID map[int32]float64  `tars:"3"`
	IB map[int32]bool     `tars:"4"`
	LI map[int64]int32    `tars:"5"`
	LS map[int64]string   `tars:"6"`
	SI map[string]int32   `tars:"7"`
	SL map[string]int64   `tars:"8"`
	SD map[string]float64 `tars:"9"`
	SB map[string]bool    `tars:"10"`
	LL map[int64]int64    `tars:"11"`
	LD map[int64]float64  `tars:"12"`
	LB map[int64]bool     `tars:"13"`
}

// The typed map paths write what the reflection path writes (checked here on
// one-entry maps, whose bytes are unique) and read it back.
func TestFastMaps(t *testing.T) {
	v := scalarMaps{
		II: map[int32]int32{-1: 1 << 20}, IL: map[int32]int64{7: -1 << 40}, IS: map[int32]string{300: "x"},
		ID: map[int32]float64{0: 2.5}, IB: map[int32]bool{1: true}, LI: map[int64]int32{1 << 33: -5},
		LS: map[int64]string{-9: ""}, SI: map[string]int32{"a": 0}, SL: map[string]int64{"b": 1 << 50},
		SD: map[string]float64{"": -0.5}, SB: map[string]bool{"t": false}, LL: map[int64]int64{0: 0},
		LD: map[int64]float64{3: 1e300}, LB: map[int64]bool{4: true},
	}
	ti, err := infoFor(reflect.TypeFor[scalarMaps]())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ti.st.fields {
		if f.ti.fmap == nil {
			t.Errorf("%s: no typed path", f.goName)
		}
	}
	fast, err := Marshal(&v)
	if err != nil {
		t.Fatal(err)
	}
	// The same values through the reflection path.
	slow := codec.NewWriter(nil)
	e := encoder{w: slow}
	for _, f := range ti.st.fields {
		fi := *f.ti
		fi.fmap = nil
		b, err := e.appendMap(slow.Bytes(), &fi, f.tag.ID, fieldPtr(&v, f.offset))
		if err != nil {
			t.Fatal(err)
		}
		slow.SetBytes(b)
	}
	if string(fast) != string(slow.Bytes()) {
		t.Fatalf("typed % x\nreflect % x", fast, slow.Bytes())
	}
	var out scalarMaps
	if err := Unmarshal(fast, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, v) {
		t.Fatalf("got %+v\nwant %+v", out, v)
	}
	// A map claiming more entries than its bytes can hold fails before
	// allocating; a value of the wrong type names the entry.
	for _, bad := range [][]byte{
		{0x08, 0x02, 0x7f, 0xff, 0xff, 0xff, 0x0c, 0x1c},
		{0x08, 0x00, 0x01, 0x0c, 0x16, 0x01, 'x'},
	} {
		var m scalarMaps
		err := Unmarshal(bad, &m)
		var ce *codec.Error
		if !errors.As(err, &ce) {
			t.Errorf("% x: %v", bad, err)
		}
	}
}

func fieldPtr(v *scalarMaps, off uintptr) unsafe.Pointer {
	return unsafe.Add(unsafe.Pointer(v), off)
}
