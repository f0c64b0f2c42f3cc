package config

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// MaxTarsSize is the largest TARS-native file ParseTars reads.
const MaxTarsSize = 16 << 20

// maxTarsDepth bounds the nesting of domains.
const maxTarsDepth = 64

// SyntaxError is an error in a TARS-native file, at a line.
type SyntaxError struct {
	Line int // 1-based
	Msg  string
}

// Error names the line and what is wrong there.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("config: TARS file line %d: %s", e.Line, e.Msg)
}

// Domain is one element of a TARS-native file (TC_Config's domain):
// key=value pairs, its text lines, and sub-domains by name.
type Domain struct {
	Name  string   // the element's name; "" for the document
	Line  int      // the line of its first start tag
	Lines []string // its text lines, comments left out, in order ("key=value" and bare lines)

	keys     map[string]tarsValue
	keyOrder []string
	subs     map[string]*Domain
	subOrder []string
}

type tarsValue struct {
	value string
	line  int
}

func newDomain(name string, line int) *Domain {
	return &Domain{Name: name, Line: line, keys: map[string]tarsValue{}, subs: map[string]*Domain{}}
}

// Value returns the value of key in d and the line that set it.
func (d *Domain) Value(key string) (value string, line int, ok bool) {
	v, ok := d.keys[key]
	return v.value, v.line, ok
}

// Keys returns d's keys in the order they first appeared.
func (d *Domain) Keys() []string { return append([]string(nil), d.keyOrder...) }

// Sub returns d's sub-domain name, or nil.
func (d *Domain) Sub(name string) *Domain { return d.subs[name] }

// Subs returns the names of d's sub-domains in the order they first appeared.
func (d *Domain) Subs() []string { return append([]string(nil), d.subOrder...) }

// Get reads a value by TarsGo's path syntax: "/tars/application/server<app>".
func (d *Domain) Get(path string) (string, bool) {
	dom, key, ok := strings.Cut(path, "<")
	if !ok || !strings.HasSuffix(key, ">") {
		return "", false
	}
	t := d.Lookup(dom)
	if t == nil {
		return "", false
	}
	v, _, ok := t.Value(strings.TrimSuffix(key, ">"))
	return v, ok
}

// Lookup returns the domain at a slash-separated path ("/tars/application"), or nil.
func (d *Domain) Lookup(path string) *Domain {
	t := d
	for _, p := range strings.Split(path, "/") {
		if p == "" {
			continue
		}
		if t = t.subs[p]; t == nil {
			return nil
		}
	}
	return t
}

func (d *Domain) sub(name string, line int) *Domain {
	s, ok := d.subs[name]
	if !ok {
		s = newDomain(name, line)
		d.subs[name] = s
		d.subOrder = append(d.subOrder, name)
	}
	return s
}

func (d *Domain) set(key, value string, line int) {
	if _, ok := d.keys[key]; !ok {
		d.keyOrder = append(d.keyOrder, key)
	}
	d.keys[key] = tarsValue{value, line}
}

// ParseTars reads a TARS-native file (TC_Config's format) as TarsGo v1.4.6
// reads it:
//   - <name> … </name> elements nest; names may hold dots
//     (<App.Server.ObjAdapter>); elements of the same name at the same
//     place, the document's roots included, are merged, later keys winning;
//   - a text line "key = value" sets key, split at the first '=', both
//     sides trimmed; a '#' inside a value is part of it; a line whose first
//     character is '#' is a comment, as is <!-- … -->;
//   - a line without '=' sets no key and is kept in Domain.Lines (a
//     list such as the hosts of <nodes>);
//   - tags may share a line with each other and with text
//     ("<a>k=v</a>"); a text segment ends at the next "</".
//
// Unlike TarsGo, which stops reading silently at the first thing
// encoding/xml refuses, ParseTars reads the bytes literally (no XML
// entities: "a&b" is "a&b", as TarsCpp reads it) and returns a
// *SyntaxError naming the line of a tag that is unterminated, unbalanced,
// misnamed, or nested deeper than 64.
func ParseTars(b []byte) (*Domain, error) {
	if len(b) > MaxTarsSize {
		return nil, &SyntaxError{Line: 1, Msg: fmt.Sprintf("file is %d bytes, more than %d", len(b), MaxTarsSize)}
	}
	root := newDomain("", 0)
	stack := []*Domain{root}
	commentLine := 0 // the line a <!-- comment opened on, while in it
	ln := 0
	for len(b) > 0 || ln == 0 {
		ln++
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		s := strings.TrimRight(string(line), "\r")
		first := true
		for {
			if commentLine > 0 {
				i := strings.Index(s, "-->")
				if i < 0 {
					break
				}
				s, commentLine = s[i+3:], 0
			}
			s = strings.TrimLeftFunc(s, unicode.IsSpace)
			if s == "" {
				break
			}
			top := stack[len(stack)-1]
			switch {
			case first && s[0] == '#':
				s = ""
			case strings.HasPrefix(s, "<!--"):
				s, commentLine = s[4:], ln
			case s[0] == '<':
				j := strings.IndexByte(s, '>')
				if j < 0 {
					return nil, &SyntaxError{Line: ln, Msg: fmt.Sprintf("unterminated tag %q", s)}
				}
				tag := s[1:j]
				s = s[j+1:]
				switch {
				case strings.HasPrefix(tag, "?") || strings.HasPrefix(tag, "!"):
					// <?xml …?>, <!DOCTYPE …>: nothing for TarsGo either.
				case strings.HasPrefix(tag, "/"):
					name := strings.TrimSpace(tag[1:])
					if len(stack) == 1 {
						return nil, &SyntaxError{Line: ln, Msg: fmt.Sprintf("</%s> closes nothing", name)}
					}
					if name != top.Name {
						return nil, &SyntaxError{Line: ln, Msg: fmt.Sprintf("</%s> closes <%s> (line %d)", name, top.Name, top.Line)}
					}
					stack = stack[:len(stack)-1]
				default:
					self := strings.HasSuffix(tag, "/")
					name := strings.TrimSpace(strings.TrimSuffix(tag, "/"))
					if name == "" || strings.ContainsAny(name, " \t<=\"'&/") {
						return nil, &SyntaxError{Line: ln, Msg: fmt.Sprintf("bad element name <%s>", tag)}
					}
					d := top.sub(name, ln)
					if !self {
						if len(stack) > maxTarsDepth {
							return nil, &SyntaxError{Line: ln, Msg: fmt.Sprintf("elements nested deeper than %d", maxTarsDepth)}
						}
						stack = append(stack, d)
					}
				}
			default:
				text := s
				if i := strings.Index(s, "</"); i >= 0 {
					text, s = s[:i], s[i:]
				} else {
					s = ""
				}
				text = strings.TrimSpace(text)
				if text == "" || text[0] == '#' {
					break
				}
				top.Lines = append(top.Lines, text)
				k, v, ok := strings.Cut(text, "=")
				if k = strings.TrimSpace(k); ok && k != "" {
					top.set(k, strings.TrimSpace(v), ln)
				}
			}
			first = false
		}
	}
	if commentLine > 0 {
		return nil, &SyntaxError{Line: commentLine, Msg: "<!-- is not closed"}
	}
	if len(stack) > 1 {
		top := stack[len(stack)-1]
		return nil, &SyntaxError{Line: top.Line, Msg: fmt.Sprintf("<%s> is not closed", top.Name)}
	}
	return root, nil
}

// Map returns d as a nested map: keys to their string values, sub-domains
// to maps (a sub-domain shadows a key of the same name). Bare lines are
// left out; Domain.Lines has them.
func (d *Domain) Map() map[string]any {
	m := make(map[string]any, len(d.keys)+len(d.subs))
	for k, v := range d.keys {
		m[k] = v.value
	}
	for n, s := range d.subs {
		m[n] = s.Map()
	}
	return m
}

// DomainFromMap builds a domain from a nested map of scalars (as Map
// returns): maps become sub-domains, other values key=value lines, in
// sorted order. It refuses what the format cannot hold.
func DomainFromMap(m map[string]any) (*Domain, error) {
	d := newDomain("", 0)
	return d, d.fill(m, 0)
}

func (d *Domain) fill(m map[string]any, depth int) error {
	if depth > maxTarsDepth {
		return errors.New("config: nested deeper than the TARS format allows")
	}
	ks := sortedKeys(m)
	for _, k := range ks {
		if sub, ok := asMap(m[k]); ok {
			if k == "" || strings.ContainsAny(k, " \t\r\n<>=\"'&/") {
				return fmt.Errorf("config: %q cannot be a TARS element name", k)
			}
			if err := d.sub(k, 0).fill(sub, depth+1); err != nil {
				return err
			}
			continue
		}
		v := fmt.Sprint(m[k])
		if k == "" || strings.ContainsAny(k, "=\r\n<") || strings.HasPrefix(k, "#") {
			return fmt.Errorf("config: %q cannot be a TARS key", k)
		}
		if strings.ContainsAny(v, "\r\n") || strings.Contains(v, "</") || strings.Contains(v, "<!--") {
			return fmt.Errorf("config: the value of %q cannot be written in a TARS file", k)
		}
		d.set(k, v, 0)
	}
	return nil
}

// Format writes d in the TARS-native format: keys in their order, then
// its bare lines, then its sub-domains, indented by two spaces a level.
// ParseTars reads it back to the same keys and domains.
func (d *Domain) Format() []byte {
	var b bytes.Buffer
	d.format(&b, 0)
	return b.Bytes()
}

func (d *Domain) format(b *bytes.Buffer, depth int) {
	ind := strings.Repeat("  ", depth)
	for _, k := range d.keyOrder {
		fmt.Fprintf(b, "%s%s=%s\n", ind, k, d.keys[k].value)
	}
	for _, l := range d.Lines {
		if !strings.Contains(l, "=") {
			fmt.Fprintf(b, "%s%s\n", ind, l)
		}
	}
	for _, n := range d.subOrder {
		fmt.Fprintf(b, "%s<%s>\n", ind, n)
		d.subs[n].format(b, depth+1)
		fmt.Fprintf(b, "%s</%s>\n", ind, n)
	}
}
