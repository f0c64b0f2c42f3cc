// Package corpus mirrors interop/testdata/corpus.tars (module Corpus) in
// Go, the way a gotars user writes it: every TARS type, require and
// optional, defaults, enums (with the IDL's member names), nesting, gaps in
// the tags and tags >= 15. Exported with -all, it must give an IDL
// equivalent to corpus.tars; interop/ compiles that IDL with tars2go and
// compares the generated code's bytes with these types'.
//
//tars:module Corpus
package corpus

// Color mirrors the IDL enum Corpus::Color (explicit values and
// auto-increment).
type Color int32

// The values of Color.
const (
	RED   Color = 0
	GREEN Color = 5
	BLUE  Color = 6
	BLACK Color = 100
	WHITE Color = 101
)

// Inner mirrors Corpus::Inner, the small struct nested everywhere.
type Inner struct {
	ID   int32   `tars:"0,require"`
	Name string  `tars:"1"`
	Nums []int32 `tars:"2"`
}

// RequiredScalars mirrors Corpus::RequiredScalars: every scalar, require.
type RequiredScalars struct {
	B   bool    `tars:"0,require"`
	I8  int8    `tars:"1,require"`
	U8  uint8   `tars:"2,require"`
	I16 int16   `tars:"3,require"`
	U16 uint16  `tars:"4,require"`
	I32 int32   `tars:"5,require"`
	U32 uint32  `tars:"6,require"`
	I64 int64   `tars:"7,require"`
	F32 float32 `tars:"8,require"`
	F64 float64 `tars:"9,require"`
	S   string  `tars:"10,require"`
}

// OptionalScalars mirrors Corpus::OptionalScalars: every scalar, optional.
type OptionalScalars struct {
	B   bool    `tars:"0"`
	I8  int8    `tars:"1,default=0"`
	U8  uint8   `tars:"2,default=0"`
	I16 int16   `tars:"3"`
	U16 uint16  `tars:"4"`
	I32 int32   `tars:"5"`
	U32 uint32  `tars:"6"`
	I64 int64   `tars:"7"`
	F32 float32 `tars:"8"`
	F64 float64 `tars:"9"`
	S   string  `tars:"10"`
}

// Defaults mirrors Corpus::Defaults: optional fields with IDL defaults, which
// tars2go's WriteTo leaves out when the value equals the default.
type Defaults struct {
	I     int32   `tars:"0,default=42"`
	S     string  `tars:"1,default=hello"`
	B     bool    `tars:"2,default=true"`
	D     float64 `tars:"3,default=1.5"`
	L     int64   `tars:"4,default=-7"`
	Sh    int16   `tars:"5,default=300"`
	F     float32 `tars:"6,default=2.5"`
	U     uint32  `tars:"7,default=7"`
	By    int8    `tars:"8,default=-3"`
	Off   bool    `tars:"9,default=false"`
	C     Color   `tars:"10,default=5"`
	Empty string  `tars:"11,default=\"\""`
	Ri    int32   `tars:"12,require,default=9"`
}

// Containers mirrors Corpus::Containers: every container shape, optional and
// require, with tags on both sides of 15.
type Containers struct {
	Bytes   []byte                     `tars:"0"`
	Strs    []string                   `tars:"1"`
	Ints    []int32                    `tars:"2"`
	Longs   []int64                    `tars:"3"`
	Doubles []float64                  `tars:"4"`
	Matrix  [][]int32                  `tars:"5"`
	Inners  []Inner                    `tars:"6"`
	SS      map[string]string          `tars:"7,name=ss"`
	IS      map[int32]string           `tars:"8,name=is"`
	SInner  map[string]Inner           `tars:"9"`
	Nested  map[int32]map[string]Inner `tars:"10"`
	SV      map[string][]string        `tars:"11,name=sv"`
	Bools   []bool                     `tars:"12"`
	Floats  []float32                  `tars:"13"`
	Shorts  []int16                    `tars:"14"`
	U32s    []uint32                   `tars:"15"`
	LD      map[int64]float64          `tars:"16,name=ld"`
	RBytes  []byte                     `tars:"17,require"`
	RInts   []int32                    `tars:"18,require"`
	RMap    map[string]string          `tars:"19,require"`
	RInners []Inner                    `tars:"20,require"`
}

// Enums mirrors Corpus::Enums: an enum as a field, a vector element, a map
// value and a map key.
type Enums struct {
	C       Color            `tars:"0,require"`
	OC      Color            `tars:"1,name=oc"`
	Cs      []Color          `tars:"2"`
	Named   map[string]Color `tars:"3"`
	ByColor map[Color]string `tars:"4"`
}

// Nested mirrors Corpus::Nested: structs inside structs, vectors and maps.
type Nested struct {
	A    Inner      `tars:"0,require"`
	B    Inner      `tars:"1"`
	C    Containers `tars:"2"`
	E    Enums      `tars:"3"`
	More []Nested2  `tars:"4"`
}

// Nested2 mirrors Corpus::Nested2.
type Nested2 struct {
	X Inner            `tars:"0"`
	M map[string]Inner `tars:"1"`
}

// HighTags mirrors Corpus::HighTags: gaps in the tags and tags up to 255.
type HighTags struct {
	A    int32             `tars:"0"`
	Gap3 string            `tars:"3,require"`
	T14  int32             `tars:"14"`
	T15  int32             `tars:"15"`
	T16  string            `tars:"16"`
	T100 Inner             `tars:"100"`
	T200 []int32           `tars:"200"`
	T254 map[string]string `tars:"254"`
	T255 int64             `tars:"255,require"`
}

// AllScalars mirrors Corpus::AllScalars: one optional field of every scalar
// type, for the benchmarks.
type AllScalars struct {
	B   bool    `tars:"0"`
	I8  int8    `tars:"1,default=0"`
	U8  uint8   `tars:"2,default=0"`
	I16 int16   `tars:"3"`
	U16 uint16  `tars:"4"`
	I32 int32   `tars:"5"`
	U32 uint32  `tars:"6"`
	I64 int64   `tars:"7"`
	F32 float32 `tars:"8"`
	F64 float64 `tars:"9"`
	S   string  `tars:"10"`
}
