package codec

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors, one per kind of decoding failure. Every *Error wraps exactly
// one of them, so callers can test the kind with errors.Is.
var (
	// ErrTruncated: the input ended inside a value.
	ErrTruncated = errors.New("tars: truncated input")
	// ErrTypeMismatch: a field arrived with a wire type its Go type cannot hold.
	ErrTypeMismatch = errors.New("tars: wire type mismatch")
	// ErrInvalidType: a head carried a type code outside 0..13.
	ErrInvalidType = errors.New("tars: invalid wire type")
	// ErrRequiredMissing: a require field was absent.
	ErrRequiredMissing = errors.New("tars: required field missing")
	// ErrTooDeep: nesting exceeded Limits.MaxDepth.
	ErrTooDeep = errors.New("tars: nesting too deep")
	// ErrTooLong: a length was negative, exceeded the remaining input, or exceeded a limit.
	ErrTooLong = errors.New("tars: length out of bounds")
	// ErrOutOfRange: an integer on the wire does not fit the Go field.
	ErrOutOfRange = errors.New("tars: value out of range")
	// ErrBudget: decoding would allocate more Go memory than the Reader's
	// budget allows (Reader.SetBudget).
	ErrBudget = errors.New("tars: decode memory budget exceeded")
	// ErrMalformed: the stream is not well-formed (a stray STRUCT_END, a
	// SIMPLE_LIST without its byte head, a map entry with the wrong tag, ...).
	ErrMalformed = errors.New("tars: malformed stream")
)

// Error describes one decoding failure: what was expected, what was found, the
// field tag and the byte offset in the input. Path, when set by a higher layer
// such as reflectcodec, names the Go type and field ("UserPage.Users[3].Email").
type Error struct {
	Kind     error  // one of the Err* sentinels
	Offset   int    // byte offset in the input where the problem was found
	Tag      int    // field tag, or -1 when no tag applies
	Expected string // what the reader wanted, e.g. "INT4" or "STRING1|STRING4"
	Found    string // what it found, e.g. "STRING1" or "length 4294967295"
	Path     string // Go path of the field, filled in by higher layers
}

// Error formats the failure on one line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.Error())
	if e.Path != "" {
		b.WriteString(" in ")
		b.WriteString(e.Path)
	}
	if e.Tag >= 0 {
		b.WriteString(": tag ")
		b.WriteString(strconv.Itoa(e.Tag))
	} else {
		b.WriteString(":")
	}
	if e.Expected != "" {
		b.WriteString(" expected ")
		b.WriteString(e.Expected)
	}
	if e.Found != "" {
		b.WriteString(", found ")
		b.WriteString(e.Found)
	}
	b.WriteString(" at offset ")
	b.WriteString(strconv.Itoa(e.Offset))
	return b.String()
}

// Unwrap returns the sentinel for errors.Is.
func (e *Error) Unwrap() error { return e.Kind }

func newError(kind error, off, tag int, expected, found string) *Error {
	return &Error{Kind: kind, Offset: off, Tag: tag, Expected: expected, Found: found}
}

// Errorf builds an *Error at the Reader's current offset. Higher layers use it
// to report problems in the same shape as the Reader does.
func (r *Reader) Errorf(kind error, tag int, expected, found string) *Error {
	return newError(kind, r.w.Off, tag, expected, found)
}
