package idl

import (
	"fmt"
	"go/types"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/gotars/tars/codec/reflectcodec"
)

// parseTag parses a tars struct tag with the codec's own parser, so that
// ids, names and defaults are read exactly as on the wire.
func parseTag(goName, raw string) (reflectcodec.Tag, error) {
	return reflectcodec.ParseTag(goName, raw)
}

// enumDefault marks a field default that is an enum value: printed by
// member name when one has the value.
const enumDefault = "\x00enum"

// defaultOf checks a field's default= as reflectcodec does and returns it
// as an IDL literal ("" when there is none). An enum default is returned
// as enumDefault followed by the decimal value; the printer names it.
func (a *analyzer) defaultOf(goType types.Type, t *idlType, def string, has bool) (string, string) {
	if !has {
		return "", ""
	}
	notAllowed := "default= is only allowed on scalar and string fields"
	invalid := fmt.Sprintf("default %q is not a valid %s", def, typeString(goType))
	gt := types.Unalias(goType)
	if _, ok := gt.Underlying().(*types.Pointer); ok {
		return "", notAllowed
	}
	if t.kind == tEnum {
		v, err := strconv.ParseInt(def, 0, 64)
		if err != nil || v < math.MinInt32 || v > math.MaxInt32 {
			return "", invalid
		}
		return enumDefault + strconv.FormatInt(v, 10), ""
	}
	b, ok := gt.Underlying().(*types.Basic)
	if !ok || t.kind != tScalar {
		return "", notAllowed
	}
	intRange := func(lo, hi int64) (string, string) {
		v, err := strconv.ParseInt(def, 0, 64)
		if err != nil || v < lo || v > hi {
			return "", invalid
		}
		return strconv.FormatInt(v, 10), ""
	}
	switch b.Kind() {
	case types.Bool:
		v, err := strconv.ParseBool(def)
		if err != nil {
			return "", invalid
		}
		return strconv.FormatBool(v), ""
	case types.Int8:
		return intRange(math.MinInt8, math.MaxInt8)
	case types.Int16:
		return intRange(math.MinInt16, math.MaxInt16)
	case types.Int32:
		return intRange(math.MinInt32, math.MaxInt32)
	case types.Int64:
		return intRange(math.MinInt64, math.MaxInt64)
	case types.Uint8:
		return intRange(0, math.MaxUint8)
	case types.Uint16:
		return intRange(0, math.MaxUint16)
	case types.Uint32:
		return intRange(0, math.MaxUint32)
	case types.Float32, types.Float64:
		bits := 64
		if b.Kind() == types.Float32 {
			bits = 32
		}
		v, err := strconv.ParseFloat(def, bits)
		if err != nil {
			return "", invalid
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", fmt.Sprintf("default %q cannot be written in TARS IDL", def)
		}
		// No exponent: tars2go's lexer reads digits, '-' and '.' only.
		return strconv.FormatFloat(v, 'f', -1, bits), ""
	case types.String:
		if !utf8.ValidString(def) {
			return "", fmt.Sprintf("default %q is not valid UTF-8", def)
		}
		for _, r := range def {
			if r == '"' || r == '\\' || r < 0x20 || r == 0x7f {
				return "", fmt.Sprintf("default %q cannot be written as a TARS IDL string literal, which has no escapes: leave out \", \\ and control characters", def)
			}
		}
		return `"` + def + `"`, ""
	}
	return "", notAllowed
}
