package tars

import (
	"errors"
	"fmt"

	"github.com/gotars/tars/codec"
	"github.com/gotars/tars/codec/reflectcodec"
	"github.com/gotars/tars/internal/paramcodec"
	"github.com/gotars/tars/protocol"
)

// This file puts parameters into sBuffer and takes them out, in the three
// packet versions:
//   - TARS (1): the in parameters at tags 1..n; the return value at tag 0 and
//     the out parameters at n+1.. in the response;
//   - TUP (3): a UniAttribute map from parameter name to the value encoded
//     alone at tag 0; the return value under "tars_ret" and "" (as TarsGo's
//     generated Dispatch writes it);
//   - JSON (5): a JSON object keyed by parameter name, the return value under
//     "tars_ret".
//
// Decoding is bounded by a budget: the bytes of Go memory the decoded
// parameters may take, for the whole body (in TUP, the UniAttribute map and
// every parameter together). 0 means codec.DefaultBudget(len(buf)) (twice
// the body plus 1 MiB); a negative budget is no bound. Past it, decoding
// fails with a *codec.Error wrapping codec.ErrBudget.

// errTUPEmpty: a TUP body without a single attribute where parameters were
// due. In an answer it means the server failed without saying why: TarsGo's
// server drops iRet and sResultDesc from its TUP answers.
var errTUPEmpty = errors.New("TUP body holds no attributes")

func badVersion(v int16) error {
	return fmt.Errorf("unsupported packet version %d (want 1 TARS, 3 TUP or 5 JSON)", v)
}

// tupName is the TUP/JSON key of a parameter: tag 0 is the return value.
func tupName(p reflectcodec.Param) string {
	if p.Tag == 0 {
		return protocol.TUPRetKey
	}
	return p.Name
}

func encodeParams(ps *reflectcodec.Params, version int16, w *codec.Writer, v any) error {
	pc := paramcodec.Of(ps)
	switch version {
	case VersionTARS:
		return pc.Encode(w, v)
	case VersionTUP:
		type span struct {
			name       string
			start, end int
		}
		params := ps.Params()
		spans := make([]span, 0, len(params)+1)
		sub := getWriter()
		defer putWriter(sub)
		for i, p := range params {
			start := len(sub.Bytes())
			if err := pc.EncodeParam(sub, i, v, 0); err != nil {
				return err
			}
			spans = append(spans, span{tupName(p), start, len(sub.Bytes())})
			if p.Tag == 0 { // TarsGo also writes the return value under ""
				spans = append(spans, span{"", start, len(sub.Bytes())})
			}
		}
		buf := sub.Bytes()
		attrs := make([]protocol.TUPAttr, len(spans))
		for i, s := range spans {
			attrs[i] = protocol.TUPAttr{Name: s.name, Value: buf[s.start:s.end]}
		}
		sortAttrs(attrs)
		protocol.EncodeTUPAttrs(w, attrs)
		return nil
	case VersionJSON:
		b, err := pc.AppendJSON(w.Bytes(), v)
		if err != nil {
			return err
		}
		w.SetBytes(b)
		return nil
	}
	return badVersion(version)
}

func sortAttrs(a []protocol.TUPAttr) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j].Name < a[j-1].Name; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// decodeParams decodes the body buf of the given version into v within
// budget bytes of Go memory (0: the default for len(buf); < 0: no bound).
func decodeParams(ps *reflectcodec.Params, version int16, buf []byte, v any, budget int) error {
	if budget == 0 {
		budget = codec.DefaultBudget(len(buf))
	}
	pc := paramcodec.Of(ps)
	switch version {
	case VersionTARS:
		var r codec.Reader
		r.Reset(buf)
		r.SetBudget(budget)
		return pc.Decode(&r, v)
	case VersionTUP:
		var r codec.Reader
		r.Reset(buf)
		r.SetBudget(budget)
		attrs, err := protocol.DecodeTUPFrom(&r)
		if err != nil {
			return err
		}
		if len(attrs) == 0 && len(ps.Params()) > 0 {
			return errTUPEmpty
		}
		for i, p := range ps.Params() {
			val, ok := attrs[tupName(p)]
			if !ok && p.Tag == 0 {
				val, ok = attrs[""]
			}
			if !ok {
				return fmt.Errorf("TUP parameter %q missing", tupName(p))
			}
			left := r.Budget() // one budget for the map and every parameter
			r.Reset(val)
			r.SetBudget(left)
			if err := pc.DecodeParam(&r, i, v, 0); err != nil {
				return err
			}
		}
		return nil
	case VersionJSON:
		return pc.DecodeJSON(buf, v, budget)
	}
	return badVersion(version)
}

// rpcDecodeBudget is the Go memory a server or a client lets the decoding
// of one body take by default: 7× the body plus 64 KiB — above what
// ordinary values take (up to ~6.3× for many small maps), below the
// cheapest hostile shape (a list of empty strings, 8×), which therefore
// fails before anything is allocated.
func rpcDecodeBudget(n int) int { return 7*n + 64<<10 }

// decodeArgsBudget decodes a request body into req, the decoded parameters
// taking at most budget bytes of Go memory: 0 is codec.DefaultBudget(len(buf)),
// negative is no bound. Past the budget it fails with a *codec.Error wrapping
// codec.ErrBudget (the server answers CodeServerDecodeErr).
func decodeArgsBudget(m *method, version int16, buf []byte, req any, budget int) error {
	return decodeParams(m.in, version, buf, req, budget)
}

func encodeArgs(m *method, version int16, w *codec.Writer, req any) error {
	return encodeParams(m.in, version, w, req)
}

func encodeResults(m *method, version int16, w *codec.Writer, rsp any) error {
	if m.out == nil { // void
		if version == VersionJSON {
			w.WriteRaw([]byte("{}"))
		} else if version == VersionTUP {
			protocol.EncodeTUPAttrs(w, nil)
		}
		return nil
	}
	return encodeParams(m.out, version, w, rsp)
}

// decodeResultsBudget decodes a response body into rsp within budget bytes
// of Go memory, as decodeArgsBudget.
func decodeResultsBudget(m *method, version int16, buf []byte, rsp any, budget int) error {
	if m.out == nil {
		return nil
	}
	return decodeParams(m.out, version, buf, rsp, budget)
}
