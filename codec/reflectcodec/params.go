package reflectcodec

import (
	"fmt"
	"reflect"
	"unsafe"

	"github.com/gotars/tars/codec"
	"github.com/gotars/tars/internal/paramcodec"
)

// Params is the plan for a TARS parameter list: the in parameters of a call
// (tags 1..n in a request body) or its results (the return value at tag 0 and
// the out parameters after the in parameters, in a response body).
//
// A parameter list differs from a struct in one way: every parameter is
// written whatever its value, and every parameter must be present when read,
// as the stubs that tars2go, tars2cpp and tars2java generate do. The values
// inside the parameters (nested structs, vectors, maps) follow the struct
// rules.
//
// Build one with StructParams (each field of a struct is a parameter) or
// ValueParams (a whole Go value is one parameter). A Params is immutable and
// safe for concurrent use. Package tars encodes and decodes with it (through
// internal/paramcodec); its methods only describe the list.
type Params struct {
	rt  reflect.Type // the Go type a value pointer points at
	st  *structInfo  // the parameters, all require, in tag order
	ps  []Param
	std bool // StructParams (the value is a struct of parameters)
}

// RetName is the name of a method's return value (tag 0) in TUP and JSON
// bodies.
const RetName = "tars_ret"

// Param describes one parameter of a Params.
type Param struct {
	Name   string       // the IDL parameter name (TUP and JSON key)
	Tag    uint8        // the wire tag in a TARS (version 1) body
	GoName string       // the Go field name, "" for ValueParams
	Type   reflect.Type // the parameter's Go type
}

// StructParams returns the plan for the parameter list held by the struct
// type t: each tagged field is one parameter, its tag the wire tag, its
// name= (or lowerCamel Go name) the IDL parameter name. A field tagged
// require or default= is a *TypeError: TARS parameters have neither (every
// parameter is always written and must be present).
func StructParams(t reflect.Type) (*Params, error) {
	ti, err := topLevel(t)
	if err != nil {
		return nil, err
	}
	if ti.kind == kCustom {
		return nil, &TypeError{Type: t, Reason: "a parameter list cannot be a Marshaler; list the parameters as fields"}
	}
	st := &structInfo{name: ti.st.name, byTag: ti.st.byTag, all: ti.st.all}
	st.fields = make([]fieldInfo, len(ti.st.fields))
	copy(st.fields, ti.st.fields)
	p := &Params{rt: t, st: st, std: true}
	for i := range st.fields {
		f := &st.fields[i]
		// TARS IDL has neither require nor default on parameters: every
		// parameter is written whatever its value and must be present.
		// Rather than ignore the options, refuse them.
		switch {
		case f.tag.Require:
			return nil, &TypeError{Type: t, Field: f.goName, Reason: "require has no meaning on a parameter (every parameter is always written and must be present); drop it"}
		case f.tag.HasDefault:
			return nil, &TypeError{Type: t, Field: f.goName, Reason: "default= has no meaning on a parameter (TARS IDL has no parameter defaults; every parameter is always written); drop it"}
		}
		f.tag.Require, f.omitDef = true, false
		if f.tag.ID == 0 {
			f.tag.Name = RetName // the return value, whatever the Go field's name
		}
		p.ps = append(p.ps, Param{Name: f.tag.Name, Tag: f.tag.ID, GoName: f.goName, Type: f.ti.rt})
	}
	st.required = st.all
	return p, nil
}

// ValueParams returns the plan for a parameter list of one parameter: a
// whole value of type t, carried at the wire tag tag under the IDL name
// name. It is how a bare return value (tag 0, "tars_ret") is described.
func ValueParams(t reflect.Type, tag uint8, name string) (*Params, error) {
	if t == nil {
		return nil, &TypeError{Type: t, Reason: "nil type"}
	}
	ti, err := infoFor(t)
	if err != nil {
		return nil, err
	}
	f := fieldInfo{goName: name, tag: Tag{ID: tag, Require: true, Name: name}, ti: ti}
	st := &structInfo{name: t.String(), fields: []fieldInfo{f}}
	for i := range st.byTag {
		st.byTag[i] = -1
	}
	st.byTag[tag] = 0
	st.all[0], st.required[0] = 1, 1
	return &Params{rt: t, st: st, ps: []Param{{Name: name, Tag: tag, Type: t}}}, nil
}

// Type returns the Go type whose pointers the Params reads and writes.
func (p *Params) Type() reflect.Type { return p.rt }

// Params returns the parameters in ascending tag order. The slice must not be
// modified.
func (p *Params) Params() []Param { return p.ps }

// ptr checks that v is a non-nil *T for the Params' type T and returns it.
func (p *Params) ptr(v any) (unsafe.Pointer, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Type().Elem() != p.rt || rv.IsNil() {
		return nil, &TypeError{Type: reflect.TypeOf(v), Reason: fmt.Sprintf("parameters need a non-nil *%v", p.rt)}
	}
	return rv.UnsafePointer(), nil
}

// paramCodec is a Params seen as a paramcodec.Codec: the encoders and
// decoders package tars uses, not exported from here.
type paramCodec Params

func init() {
	paramcodec.Of = func(params any) paramcodec.Codec { return (*paramCodec)(params.(*Params)) }
}

// Encode writes every parameter of *v (v is a *T for the Params' type) with
// its wire tag: a TARS (version 1) request or response body.
func (p *paramCodec) Encode(w *codec.Writer, v any) error {
	base, err := (*Params)(p).ptr(v)
	if err != nil {
		return err
	}
	e := encoder{w: w}
	return e.fields(p.st, base)
}

// Decode reads every parameter of *v from r, up to the end of r's input.
// A missing parameter is a *codec.Error wrapping codec.ErrRequiredMissing;
// unknown tags are skipped.
func (p *paramCodec) Decode(r *codec.Reader, v any) error {
	base, err := (*Params)(p).ptr(v)
	if err != nil {
		return err
	}
	err = decodeFields(r, p.st, base, false)
	if ce, ok := err.(*codec.Error); ok && p.std {
		ce.Path = joinPath(p.st.name, ce.Path)
	}
	return err
}

// EncodeParam writes parameter i of *v alone, at tag tag: how TUP (version 3)
// carries each parameter in its UniAttribute map (at tag 0).
func (p *paramCodec) EncodeParam(w *codec.Writer, i int, v any, tag uint8) error {
	base, err := (*Params)(p).ptr(v)
	if err != nil {
		return err
	}
	f := &p.st.fields[i]
	e := encoder{w: w}
	if err := e.value(f.ti, tag, unsafe.Add(base, f.offset)); err != nil {
		return fieldErr(err, p.st, f)
	}
	return nil
}

// DecodeParam reads parameter i of *v from r, where it is carried alone at
// tag tag (TUP). A missing parameter is an error wrapping
// codec.ErrRequiredMissing.
func (p *paramCodec) DecodeParam(r *codec.Reader, i int, v any, tag uint8) error {
	base, err := (*Params)(p).ptr(v)
	if err != nil {
		return err
	}
	f := &p.st.fields[i]
	h, found, err := r.SkipTo(tag)
	if err != nil {
		return err
	}
	if !found {
		return &codec.Error{Kind: codec.ErrRequiredMissing, Offset: r.Offset(), Tag: int(tag),
			Expected: "parameter " + f.tag.Name, Found: "none", Path: f.goName}
	}
	if err := decodeValue(r, f.ti, h, unsafe.Add(base, f.offset)); err != nil {
		return pathErr(err, f.goName)
	}
	return nil
}

// AppendJSON appends the parameters of *v as a JSON object keyed by
// parameter name, keys sorted (JSON, version 5, as tars2go's generated
// Dispatch writes it); the return value (tag 0) is under "tars_ret".
func (p *paramCodec) AppendJSON(dst []byte, v any) ([]byte, error) {
	base, err := (*Params)(p).ptr(v)
	if err != nil {
		return dst, err
	}
	return appendJSONParams(dst, p.st, base)
}

// DecodeJSON reads the parameters of *v from a JSON object keyed by
// parameter name. Unknown keys are ignored; an absent parameter takes its
// zero value, as tars2go's generated Dispatch does (JSON clients often leave
// zero values out). Malformed JSON or a value of the wrong type is a
// *codec.Error.
func (p *paramCodec) DecodeJSON(data []byte, v any, budget int) error {
	base, err := (*Params)(p).ptr(v)
	if err != nil {
		return err
	}
	return decodeJSONParams(data, p.st, base, false, budget)
}
