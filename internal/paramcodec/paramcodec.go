// Package paramcodec gives package tars the encoders and decoders of
// reflectcodec's parameter lists (*reflectcodec.Params), which reflectcodec
// does not export: they are the machinery of the RPC layer, not an API.
package paramcodec

import "github.com/gotars/tars/codec"

// Codec encodes and decodes the values of one parameter list: v is always a
// pointer to the list's Go type (reflectcodec.Params.Type).
type Codec interface {
	// Encode writes every parameter of *v with its wire tag: a TARS
	// (version 1) request or response body.
	Encode(w *codec.Writer, v any) error
	// Decode reads every parameter of *v from r, up to the end of r's
	// input, charging r's budget. A missing parameter is a *codec.Error
	// wrapping codec.ErrRequiredMissing; unknown tags are skipped.
	Decode(r *codec.Reader, v any) error
	// EncodeParam writes parameter i of *v alone, at tag tag: how TUP
	// (version 3) carries each parameter in its UniAttribute map.
	EncodeParam(w *codec.Writer, i int, v any, tag uint8) error
	// DecodeParam reads parameter i of *v from r, where it is carried
	// alone at tag tag (TUP), charging r's budget.
	DecodeParam(r *codec.Reader, i int, v any, tag uint8) error
	// AppendJSON appends the parameters of *v as a JSON object keyed by
	// parameter name, keys sorted (JSON, version 5); the return value
	// (tag 0) is under "tars_ret".
	AppendJSON(dst []byte, v any) ([]byte, error)
	// DecodeJSON reads the parameters of *v from a JSON object keyed by
	// parameter name; an absent parameter takes its zero value. budget
	// bounds the Go memory of the decoded values: 0 is
	// codec.DefaultBudget(len(data)), negative is no bound.
	DecodeJSON(data []byte, v any, budget int) error
}

// Of returns the Codec of params, a *reflectcodec.Params. Package
// reflectcodec sets it when it is initialised (before any package that
// imports it); nothing changes it afterwards.
var Of func(params any) Codec
