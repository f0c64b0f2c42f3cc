// Package types covers every Go type idl-export maps onto TARS, every
// method shape of the parameter rule, defaults, names and comments.
//
//tars:module Kinds
package types

import "github.com/gotars/tars"

// Color is an enum: a named int32 type with constants.
type Color int32

// The members, printed in value order whatever their order here.
const (
	Blue  Color = 6
	Red   Color = 0 // the first
	Green Color = 5
	// Black is far away.
	Black Color = 100
	Minus Color = -1
)

// Level's values come from iota; the blank one is left out.
type Level int32

const (
	_ Level = iota
	LevelLow
	LevelHigh
)

// Name is a named string: a plain string in IDL.
type Name string

// IDs is a named slice: a plain vector in IDL.
type IDs []int32

// Flag is a named int8: a plain byte, not an enum.
type Flag int8

// Scalars has one field of every scalar type.
type Scalars struct {
	B   bool    `tars:"0,require"`
	I8  int8    `tars:"1"` // an optional byte gets "= 0" for tars2go
	U8  uint8   `tars:"2"`
	I16 int16   `tars:"3"`
	U16 uint16  `tars:"4"`
	I32 int32   `tars:"5"`
	U32 uint32  `tars:"6"`
	I64 int64   `tars:"7"`
	F32 float32 `tars:"8"`
	F64 float64 `tars:"9"`
	S   string  `tars:"10"`
	R   rune    `tars:"11"`
	By  byte    `tars:"12,require"`
	N   Name    `tars:"13"`
	Fl  Flag    `tars:"14"`
}

// Containers has vectors and maps of every shape.
type Containers struct {
	Bytes     []byte                   `tars:"0"`
	Int8s     []int8                   `tars:"1"`
	Fixed     [4]byte                  `tars:"2"`
	Strs      []string                 `tars:"3"`
	Arr       [3]int64                 `tars:"4"`
	Matrix    [][]int32                `tars:"5"`
	Scalars   []Scalars                `tars:"6"`
	SS        map[string]string        `tars:"7,name=ss"`
	ByColor   map[Color]string         `tars:"8"`
	Nested    map[int32]map[string]IDs `tars:"9"`
	PtrElems  []*Scalars               `tars:"10"`
	Flags     []Flag                   `tars:"11"`
	BoolKeys  map[bool]float64         `tars:"12"`
	Required  []uint16                 `tars:"13,require"`
	PtrValues map[string]*Color        `tars:"14"`
}

// Defaults has a default of every kind.
type Defaults struct {
	I       int32   `tars:"0,default=42"`
	Hex     int64   `tars:"1,default=0x10"`
	Neg     int16   `tars:"2,default=-300"`
	U       uint32  `tars:"3,default=4000000000"`
	By      int8    `tars:"4,default=-3"`
	UBy     uint8   `tars:"5,default=200"`
	B       bool    `tars:"6,default=1"`
	Off     bool    `tars:"7,default=false"`
	F       float32 `tars:"8,default=2.5"`
	D       float64 `tars:"9,default=1e-3"`
	Whole   float64 `tars:"10,default=3"`
	S       string  `tars:"11,default=hello world"`
	Comma   string  `tars:"12,default=\"a,b\""`
	Empty   string  `tars:"13,default=\"\""`
	C       Color   `tars:"14,default=5"`
	Odd     Color   `tars:"15,default=7"`
	L       Level   `tars:"16,default=2"`
	Req     int32   `tars:"17,require,default=9"`
	Chinese string  `tars:"18,default=你好"`
}

// Names shows how IDL names are chosen.
type Names struct {
	ID       int32  `tars:"0"`               // id
	HTTPPort int32  `tars:"1"`               // httpPort
	UserID   int32  `tars:"2"`               // userID
	Renamed  string `tars:"3,name=sRenamed"` // name= wins
	Skipped  string `tars:"-"`
	hidden   string
	Marker
	High int32 `tars:"200"`
}

// Marker is an empty struct: embedded without a tag, it carries nothing.
type Marker struct{}

// Tree nests itself through a vector and a map, which TARS can declare.
type Tree struct {
	Value    int32           `tars:"0"`
	Children []Tree          `tars:"1"`
	ByName   map[string]Tree `tars:"2"`
	// Leaf is a pointer: optional in IDL.
	Leaf *Scalars `tars:"3"`
	Tag  *Color   `tars:"4,require"`
}

// Everything is the interface with every method shape.
var Everything = tars.NewService("Everything")

// Parameter lists.
type (
	// NoArgs is an empty parameter list, like tars.Void.
	NoArgs struct{}

	// OneArg is (int id).
	OneArg struct {
		ID int32 `tars:"1"`
	}

	// ManyArgs lists parameters of several types.
	ManyArgs struct {
		Name   Name              `tars:"1,name=name"`
		Colors []Color           `tars:"2"`
		Meta   map[string]string `tars:"3"`
		Tree   *Tree             `tars:"4"`
		Blob   []byte            `tars:"5"`
		Small  uint8             `tars:"6"`
	}

	// VoidResults has out parameters and no return value.
	VoidResults struct {
		tars.Results
		Count int32  `tars:"7,name=count"`
		Note  string `tars:"8,name=note"`
	}

	// RetResults has a return value and an out parameter.
	RetResults struct {
		tars.Results
		Ret  Color `tars:"0"`
		Tree Tree  `tars:"7,name=subtree"`
	}

	// OnlyRet is a result list with only the return value.
	OnlyRet struct {
		tars.Results
		Code int64 `tars:"0"`
	}
)

// The methods, in declaration order.
var (
	// Ping takes and returns nothing.
	Ping = tars.NewEndpoint[tars.Void, tars.Void](Everything, "ping")
	// Empty takes an empty list and returns one.
	Empty = tars.NewEndpoint[NoArgs, NoArgs](Everything, "empty") // NoArgs is a struct return value here
	Get   = tars.NewEndpoint[OneArg, Scalars](Everything, "get", tars.Idempotent)
	// Put is void with out parameters.
	Put = tars.NewEndpoint[ManyArgs, VoidResults](Everything, "put")
	// Walk returns an enum and an out parameter tagged after six in parameters.
	Walk   = tars.NewEndpoint[ManyArgs, RetResults](Everything, "walk")
	Code   = tars.NewEndpoint[tars.Void, OnlyRet](Everything, "code")
	List   = tars.NewEndpoint[OneArg, []Containers](Everything, "list")
	Index  = tars.NewEndpoint[OneArg, map[string][]Defaults](Everything, "index")
	Count  = tars.NewEndpoint[OneArg, uint32](Everything, "count")
	Maybe  = tars.NewEndpoint[OneArg, *Tree](Everything, "maybe")
	Bytes  = tars.NewEndpoint[tars.Void, []byte](Everything, "bytes")
	Named  = tars.NewEndpoint[OneArg, Names](Everything, "named")
	Level0 = tars.NewEndpoint[OneArg, Level](Everything, "level")
	Fire   = tars.NewEndpoint[OneArg, tars.Void](Everything, "fire")
)

// Second is another interface of the same module, declared after the
// first.
var Second = tars.NewService("Second")

// Echo is the only method of Second.
var Echo = tars.NewEndpoint[OneArg, OneArg](Second, "echo")
