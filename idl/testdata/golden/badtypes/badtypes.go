// Package badtypes declares structs that TARS IDL cannot express; exported
// with -all, every one is an error.
package badtypes

import (
	"io"

	"github.com/gotars/tars"
	"github.com/gotars/tars/codec"
)

type Widths struct {
	Int     int        `tars:"0"`
	Uint    uint       `tars:"1"`
	Ptr     uintptr    `tars:"2"`
	U64     uint64     `tars:"3"`
	Complex complex128 `tars:"4"`
	OK      int32      `tars:"5"`
}

type Kinds struct {
	Reader io.Reader  `tars:"0"`
	Any    any        `tars:"1"`
	Ch     chan int32 `tars:"2"`
	Fn     func()     `tars:"3"`
	Anon   struct {
		X int32 `tars:"0"`
	} `tars:"4"`
	PP    **int32   `tars:"5"`
	Void  tars.Void `tars:"6"`
	Elems []int     `tars:"7"`
}

type Keys struct {
	SliceKey  map[[2]int32]string `tars:"0"`
	StructKey map[Point]string    `tars:"1"`
	PtrKey    map[*int32]string   `tars:"2"`
	IntKey    map[int]string      `tars:"3"`
}

type Point struct {
	X int32 `tars:"0"`
}

type Tags struct {
	NoTag    int32
	Bad      int32 `tars:"x"`
	Big      int32 `tars:"256"`
	Dup      int32 `tars:"1"`
	Dup2     int32 `tars:"1"`
	Unknown  int32 `tars:"2,sorted"`
	unexp    int32 `tars:"3"`
	Embedded `tars:""`
	Point
}

type Embedded struct{}

type Names struct {
	String   int32 `tars:"0"`
	Class    int32 `tars:"1"`
	Int      int32 `tars:"2,name=int"`
	Unicode  int32 `tars:"3,name=_x"`
	Écrit    int32 `tars:"4"`
	ReadFrom int32 `tars:"5"`
	A        int32 `tars:"6,name=same"`
	B        int32 `tars:"7,name=same"`
	C        int32 `tars:"8,name=value"`
	D        int32 `tars:"9,name=Value"`
}

type Defaults struct {
	Range   int8              `tars:"0,default=300"`
	NotInt  int32             `tars:"1,default=abc"`
	Bool    bool              `tars:"2,default=yes"`
	Quote   string            `tars:"3,default=say \"hi\""`
	Back    string            `tars:"4,default=a\\b"`
	NaN     float64           `tars:"5,default=NaN"`
	Vec     []int32           `tars:"6,default=1"`
	Ptr     *int32            `tars:"7,default=1"`
	Nested  Point             `tars:"8,default=1"`
	EnumBig Empty             `tars:"9,default=4294967296"`
	Map     map[string]string `tars:"10,default=x"`
}

// Empty has no constants.
type Empty int32

type Custom struct {
	X int32 `tars:"0"`
}

func (c *Custom) MarshalTARS(w *codec.Writer) error { return nil }

func (c *Custom) UnmarshalTARS(r *codec.Reader) error { return nil }

type UsesCustom struct {
	C Custom `tars:"0"`
}

type Generic[T any] struct {
	V T `tars:"0"`
}

type UsesGeneric struct {
	G Generic[int32] `tars:"0"`
}

type Self struct {
	Next *Self `tars:"0"`
}

type A struct {
	B []B `tars:"0"`
}

type B struct {
	A A `tars:"0"`
}

type string_ struct{}

type Vector struct {
	X int32 `tars:"0"`
}

type vector struct {
	X int32 `tars:"0"`
}

type Clash int32

const (
	Fine Clash = 1
	new  Clash = 2
)
