package reflectcodec

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/gotars/tars/internal/ident"
)

// Tag is a parsed `tars:"..."` struct tag.
//
// Syntax: `tars:"<id>[,require][,name=<idlName>][,default=<value>]"`, where id
// is the TARS field tag 0..255, require marks a require field (optional is the
// default), name overrides the IDL field name (the Go name in lowerCamel
// otherwise) and default is the IDL default value. A default that contains a
// comma is written as a Go quoted string: default="a,b". The tag `tars:"-"`
// leaves the field out.
type Tag struct {
	ID         uint8  // the TARS field tag
	Require    bool   // require (true) or optional (false)
	Name       string // the IDL field name
	Default    string // the default value as written, "" when none
	HasDefault bool   // whether default= was given
	Skip       bool   // the field is tagged "-" and not encoded
}

// ParseTag parses the tars struct tag of the Go field goName. An empty tag is
// an error: every encoded field needs an explicit, stable TARS field id.
func ParseTag(goName, tag string) (Tag, error) {
	if tag == "-" {
		return Tag{Skip: true}, nil
	}
	if tag == "" {
		return Tag{}, errors.New(`no tars tag: give it a field id, e.g. tars:"0", or tars:"-" to leave it out`)
	}
	idStr, rest, _ := strings.Cut(tag, ",")
	id, err := strconv.ParseUint(strings.TrimSpace(idStr), 10, 16)
	if err != nil || id > 255 {
		return Tag{}, fmt.Errorf("field id %q is not a number from 0 to 255", idStr)
	}
	t := Tag{ID: uint8(id), Name: LowerCamel(goName)}
	seen := map[string]bool{}
	for rest != "" {
		var opt string
		if strings.HasPrefix(rest, `default="`) {
			q, err := strconv.QuotedPrefix(rest[len("default="):])
			if err != nil {
				return Tag{}, fmt.Errorf("bad quoted default in %q", rest)
			}
			opt = "default=" + q
			rest = strings.TrimPrefix(rest[len(opt):], ",")
		} else {
			opt, rest, _ = strings.Cut(rest, ",")
		}
		key, val, hasVal := strings.Cut(opt, "=")
		key = strings.TrimSpace(key)
		if seen[key] {
			return Tag{}, fmt.Errorf("option %q given twice", key)
		}
		seen[key] = true
		switch key {
		case "require":
			if hasVal {
				return Tag{}, errors.New(`"require" takes no value`)
			}
			t.Require = true
		case "optional":
			if hasVal {
				return Tag{}, errors.New(`"optional" takes no value`)
			}
		case "name":
			if !ident.Valid(val) {
				return Tag{}, fmt.Errorf("name %q is not an identifier", val)
			}
			t.Name = val
		case "default":
			if !hasVal {
				return Tag{}, errors.New(`"default" needs a value: default=<v>`)
			}
			if strings.HasPrefix(val, `"`) {
				if val, err = strconv.Unquote(val); err != nil {
					return Tag{}, fmt.Errorf("bad quoted default %q", val)
				}
			}
			t.Default, t.HasDefault = val, true
		default:
			return Tag{}, fmt.Errorf("unknown option %q (known: require, optional, name=, default=)", key)
		}
	}
	if t.Require && seen["optional"] {
		return Tag{}, errors.New("a field cannot be both require and optional")
	}
	return t, nil
}

// LowerCamel returns the IDL name gotars derives from a Go name: the leading
// run of upper-case letters is lowered, keeping the last one when a lower-case
// letter follows it ("UserName" → "userName", "ID" → "id", "HTTPPort" →
// "httpPort", "UserID" → "userID").
func LowerCamel(s string) string {
	r := []rune(s)
	n := 0
	for n < len(r) && unicode.IsUpper(r[n]) {
		n++
	}
	switch {
	case n == 0:
		return s
	case n > 1 && n < len(r) && unicode.IsLower(r[n]):
		n-- // keep the start of the next word: "HTTPPort" -> "httpPort"
	}
	for i := 0; i < n; i++ {
		r[i] = unicode.ToLower(r[i])
	}
	return string(r)
}
