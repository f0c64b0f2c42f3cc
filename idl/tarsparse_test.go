package idl_test

// A small parser of TARS IDL, for the tests: it reads the grammar that
// tars2go v1.2.4 and TarsCpp accept (modules, enums, structs, interfaces,
// consts, key[]), resolves every type to Module::Name and every default to
// its value, and so turns two .tars texts into values that compare equal
// exactly when they declare the same things — whatever their comments,
// spacing, order of declarations and spelling of defaults.

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

type tarsEnum struct {
	Members []tarsMember
}

type tarsMember struct {
	Name  string
	Value int64
}

type tarsField struct {
	Tag     int64
	Require bool
	Type    string // resolved: "int", "vector<Corpus::Inner>", ...
	Name    string
	Default string // normalised: a number, true/false or a quoted string; "" for none
}

type tarsParam struct {
	Out  bool
	Type string
	Name string
}

type tarsMethod struct {
	Name   string
	Ret    string // "void" or a resolved type
	Params []tarsParam
}

type tarsModule struct {
	Enums      map[string]tarsEnum
	Structs    map[string][]tarsField // fields in tag order
	Interfaces map[string][]tarsMethod
}

// tarsFile is what a .tars text declares, by module.
type tarsFile struct {
	Includes []string
	Modules  map[string]*tarsModule
}

// parseTars parses IDL text. Named types are resolved within the text; a
// type used before its declaration is an error, as it is for TarsCpp,
// unless lenient is set.
func parseTars(src []byte, lenient ...bool) (*tarsFile, error) {
	p := newTarsParser(len(lenient) > 0 && lenient[0])
	if err := p.parse(src); err != nil {
		return nil, err
	}
	return p.file, nil
}

// parseTarsSet parses files (by name, as #include names them), each after
// the files it includes, into one tarsFile: the declarations of a set of
// generated files.
func parseTarsSet(files map[string][]byte) (*tarsFile, error) {
	p := newTarsParser(false)
	done := map[string]bool{}
	var parse func(name string, chain []string) error
	parse = func(name string, chain []string) error {
		if slices.Contains(chain, name) {
			return fmt.Errorf("circular #include: %v", append(chain, name))
		}
		if done[name] {
			return nil
		}
		src, ok := files[name]
		if !ok {
			return fmt.Errorf("#include %q: no such file", name)
		}
		toks, err := lexTars(string(src))
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		for i, t := range toks {
			if t.kind == '#' && i+1 < len(toks) {
				if err := parse(toks[i+1].text, append(chain, name)); err != nil {
					return err
				}
			}
		}
		done[name] = true
		if err := p.parse(src); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := parse(name, nil); err != nil {
			return nil, err
		}
	}
	return p.file, nil
}

func newTarsParser(lenient bool) *tarsParser {
	return &tarsParser{file: &tarsFile{Modules: map[string]*tarsModule{}}, declared: map[string]string{}, lenient: lenient}
}

type tarsToken struct {
	kind byte // 'i' identifier, 'n' number, 's' string, '#' include, or the punctuation itself
	text string
	line int
}

func lexTars(s string) ([]tarsToken, error) {
	var toks []tarsToken
	line := 1
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case strings.HasPrefix(s[i:], "//"):
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated comment", line)
			}
			line += strings.Count(s[i:i+2+end], "\n")
			i += end + 4
		case strings.ContainsRune("{}<>(),;=[]", rune(c)):
			toks = append(toks, tarsToken{c, string(c), line})
			i++
		case c == '"':
			end := strings.IndexAny(s[i+1:], "\"\n")
			if end < 0 || s[i+1+end] != '"' {
				return nil, fmt.Errorf("line %d: unterminated string", line)
			}
			toks = append(toks, tarsToken{'s', s[i+1 : i+1+end], line})
			i += end + 2
		case strings.HasPrefix(s[i:], "#include"):
			toks = append(toks, tarsToken{'#', "#include", line})
			i += len("#include")
		case c == '-' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(s) && strings.ContainsRune("0123456789.xXabcdefABCDEF", rune(s[j])) {
				j++
			}
			toks = append(toks, tarsToken{'n', s[i:j], line})
			i = j
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] == ':' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			toks = append(toks, tarsToken{'i', s[i:j], line})
			i = j
		default:
			return nil, fmt.Errorf("line %d: unexpected %q", line, c)
		}
	}
	return toks, nil
}

var tarsScalars = []string{"bool", "byte", "short", "int", "long", "float", "double", "string"}

var tarsReserved = []string{"module", "enum", "struct", "interface", "require", "optional", "const",
	"unsigned", "void", "out", "key", "true", "false", "vector", "map", "array",
	"bool", "byte", "short", "int", "long", "float", "double", "string"}

type tarsParser struct {
	toks     []tarsToken
	pos      int
	file     *tarsFile
	module   string
	declared map[string]string // Module::Name -> "enum" or "struct", as declared so far
	lenient  bool
	pending  []func() error // checks that need every declaration (lenient mode)
}

func (p *tarsParser) peek() tarsToken {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return tarsToken{kind: 0, text: "<eof>"}
}

func (p *tarsParser) next() tarsToken {
	t := p.peek()
	p.pos++
	return t
}

func (p *tarsParser) errorf(format string, args ...any) error {
	return fmt.Errorf("line %d: %s", p.peek().line, fmt.Sprintf(format, args...))
}

func (p *tarsParser) expect(text string) error {
	if t := p.next(); t.text != text {
		p.pos--
		return p.errorf("want %q, found %q", text, t.text)
	}
	return nil
}

// name reads an identifier that is not a keyword.
func (p *tarsParser) name() (string, error) {
	t := p.next()
	if t.kind != 'i' || slices.Contains(tarsReserved, t.text) || strings.Contains(t.text, ":") {
		p.pos--
		return "", p.errorf("want a name, found %q", t.text)
	}
	return t.text, nil
}

func (p *tarsParser) parse(src []byte) error {
	toks, err := lexTars(string(src))
	if err != nil {
		return err
	}
	p.toks, p.pos, p.pending = toks, 0, nil
	for p.pos < len(p.toks) {
		switch t := p.next(); {
		case t.kind == '#':
			s := p.next()
			if s.kind != 's' {
				return p.errorf("#include wants a string")
			}
			p.file.Includes = append(p.file.Includes, s.text)
		case t.text == "module":
			if err := p.parseModule(); err != nil {
				return err
			}
		default:
			return p.errorf("want #include or module, found %q", t.text)
		}
	}
	for _, f := range p.pending {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

func (p *tarsParser) parseModule() error {
	name, err := p.name()
	if err != nil {
		return err
	}
	p.module = name
	if p.file.Modules[name] == nil {
		p.file.Modules[name] = &tarsModule{Enums: map[string]tarsEnum{}, Structs: map[string][]tarsField{}, Interfaces: map[string][]tarsMethod{}}
	}
	if err := p.expect("{"); err != nil {
		return err
	}
	for {
		switch t := p.next(); t.text {
		case "}":
			return p.expect(";")
		case "enum":
			err = p.parseEnum()
		case "struct":
			err = p.parseStruct()
		case "interface":
			err = p.parseInterface()
		case "const":
			_, err = p.parseType()
			if err == nil {
				_, err = p.name()
			}
			if err == nil {
				err = p.expect("=")
			}
			if err == nil {
				p.next()
				err = p.expect(";")
			}
		case "key":
			for err == nil && p.peek().text != ";" {
				if p.pos >= len(p.toks) {
					return p.errorf("unterminated key")
				}
				p.next()
			}
			p.next()
		default:
			return p.errorf("want enum, struct, interface, const, key or }, found %q", t.text)
		}
		if err != nil {
			return err
		}
	}
}

func (p *tarsParser) declare(name, kind string) error {
	full := p.module + "::" + name
	if p.declared[full] != "" {
		return p.errorf("%s declared twice", full)
	}
	p.declared[full] = kind
	return nil
}

func (p *tarsParser) parseEnum() error {
	name, err := p.name()
	if err != nil {
		return err
	}
	if err := p.declare(name, "enum"); err != nil {
		return err
	}
	if err := p.expect("{"); err != nil {
		return err
	}
	var e tarsEnum
	next := int64(0)
	for p.peek().text != "}" {
		m, err := p.name()
		if err != nil {
			return err
		}
		v := next
		if p.peek().text == "=" {
			p.next()
			t := p.next()
			switch t.kind {
			case 'n':
				if v, err = strconv.ParseInt(t.text, 0, 64); err != nil {
					return p.errorf("enum value %q: %v", t.text, err)
				}
			case 'i':
				i := slices.IndexFunc(e.Members, func(x tarsMember) bool { return x.Name == t.text })
				if i < 0 {
					return p.errorf("enum value %q is not a member", t.text)
				}
				v = e.Members[i].Value
			default:
				return p.errorf("bad enum value %q", t.text)
			}
		}
		e.Members = append(e.Members, tarsMember{m, v})
		next = v + 1
		if p.peek().text == "," {
			p.next()
		} else if p.peek().text != "}" {
			return p.errorf("want , or } in enum, found %q", p.peek().text)
		}
	}
	p.next()
	p.file.Modules[p.module].Enums[name] = e
	return p.expect(";")
}

// parseType reads a type and returns it resolved.
func (p *tarsParser) parseType() (string, error) {
	t := p.next()
	switch {
	case t.text == "unsigned":
		u := p.next()
		if u.text != "byte" && u.text != "short" && u.text != "int" {
			return "", p.errorf("unsigned %s", u.text)
		}
		return "unsigned " + u.text, nil
	case slices.Contains(tarsScalars, t.text):
		return t.text, nil
	case t.text == "vector":
		if err := p.expect("<"); err != nil {
			return "", err
		}
		e, err := p.parseType()
		if err != nil {
			return "", err
		}
		return "vector<" + e + ">", p.expect(">")
	case t.text == "map":
		if err := p.expect("<"); err != nil {
			return "", err
		}
		k, err := p.parseType()
		if err != nil {
			return "", err
		}
		if err := p.expect(","); err != nil {
			return "", err
		}
		v, err := p.parseType()
		if err != nil {
			return "", err
		}
		return "map<" + k + ", " + v + ">", p.expect(">")
	case t.kind == 'i' && !slices.Contains(tarsReserved, t.text):
		full := t.text
		if !strings.Contains(full, "::") {
			full = p.module + "::" + full
		}
		if p.declared[full] == "" {
			if !p.lenient {
				p.pos--
				return "", p.errorf("type %s used before its declaration", full)
			}
			line := t.line
			p.pending = append(p.pending, func() error {
				if p.declared[full] == "" {
					return fmt.Errorf("line %d: type %s is not declared", line, full)
				}
				return nil
			})
		}
		return full, nil
	}
	p.pos--
	return "", p.errorf("want a type, found %q", t.text)
}

func (p *tarsParser) parseStruct() error {
	name, err := p.name()
	if err != nil {
		return err
	}
	if err := p.declare(name, "struct"); err != nil {
		return err
	}
	if err := p.expect("{"); err != nil {
		return err
	}
	var fields []tarsField
	module := p.file.Modules[p.module]
	for p.peek().text != "}" {
		t := p.next()
		tag, err := strconv.ParseInt(t.text, 10, 64)
		if t.kind != 'n' || err != nil || tag < 0 || tag > 255 {
			return p.errorf("bad tag %q", t.text)
		}
		f := tarsField{Tag: tag}
		switch r := p.next(); r.text {
		case "require":
			f.Require = true
		case "optional":
		default:
			return p.errorf("want require or optional, found %q", r.text)
		}
		if f.Type, err = p.parseType(); err != nil {
			return err
		}
		if f.Name, err = p.name(); err != nil {
			return err
		}
		if p.peek().text == "=" {
			p.next()
			d := p.next()
			f.Default, err = p.defaultValue(f.Type, d)
			if err != nil {
				return err
			}
		}
		if slices.ContainsFunc(fields, func(o tarsField) bool { return o.Tag == f.Tag || o.Name == f.Name }) {
			return p.errorf("field %d %s declared twice", f.Tag, f.Name)
		}
		fields = append(fields, f)
		if err := p.expect(";"); err != nil {
			return err
		}
	}
	p.next()
	slices.SortFunc(fields, func(a, b tarsField) int { return int(a.Tag - b.Tag) })
	module.Structs[name] = fields
	return p.expect(";")
}

// defaultValue normalises a default: numbers by value, enum members by
// their value, strings quoted.
func (p *tarsParser) defaultValue(typ string, d tarsToken) (string, error) {
	switch {
	case d.kind == 's':
		return strconv.Quote(d.text), nil
	case d.text == "true" || d.text == "false":
		return d.text, nil
	case d.kind == 'n' && strings.Contains(d.text, "."):
		f, err := strconv.ParseFloat(d.text, 64)
		if err != nil {
			return "", p.errorf("default %q: %v", d.text, err)
		}
		return strconv.FormatFloat(f, 'g', -1, 64), nil
	case d.kind == 'n':
		i, err := strconv.ParseInt(d.text, 0, 64)
		if err != nil {
			return "", p.errorf("default %q: %v", d.text, err)
		}
		return strconv.FormatInt(i, 10), nil
	case d.kind == 'i':
		mod, member := p.module, d.text
		if m, n, ok := strings.Cut(d.text, "::"); ok {
			mod, member = m, n
		}
		if m := p.file.Modules[mod]; m != nil {
			for _, e := range m.Enums {
				for _, mb := range e.Members {
					if mb.Name == member {
						return strconv.FormatInt(mb.Value, 10), nil
					}
				}
			}
		}
		return "", p.errorf("default %q of %s is no enum member", d.text, typ)
	}
	return "", p.errorf("bad default %q", d.text)
}

func (p *tarsParser) parseInterface() error {
	name, err := p.name()
	if err != nil {
		return err
	}
	if err := p.declare(name, "interface"); err != nil {
		return err
	}
	if err := p.expect("{"); err != nil {
		return err
	}
	var methods []tarsMethod
	for p.peek().text != "}" {
		var m tarsMethod
		if p.peek().text == "void" {
			p.next()
			m.Ret = "void"
		} else if m.Ret, err = p.parseType(); err != nil {
			return err
		}
		if m.Name, err = p.name(); err != nil {
			return err
		}
		if err := p.expect("("); err != nil {
			return err
		}
		for p.peek().text != ")" {
			var a tarsParam
			if p.peek().text == "out" {
				p.next()
				a.Out = true
			}
			if a.Type, err = p.parseType(); err != nil {
				return err
			}
			if a.Name, err = p.name(); err != nil {
				return err
			}
			m.Params = append(m.Params, a)
			if p.peek().text == "," {
				p.next()
			}
		}
		p.next()
		if err := p.expect(";"); err != nil {
			return err
		}
		if slices.ContainsFunc(methods, func(o tarsMethod) bool { return o.Name == m.Name }) {
			return p.errorf("method %s declared twice", m.Name)
		}
		methods = append(methods, m)
	}
	p.next()
	p.file.Modules[p.module].Interfaces[name] = methods
	return p.expect(";")
}
