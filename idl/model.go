package idl

import (
	"go/token"
	"strings"
)

// declKey names a Go declaration: its package path and name.
type declKey struct{ pkg, name string }

// doc is the commentary of a Go declaration: its doc comment, one string
// per line, and its trailing line comment.
type doc struct {
	lines   []string
	comment string
}

// typeKind classifies an IDL type.
type typeKind uint8

const (
	tScalar typeKind = iota // bool, byte, ..., string
	tVector                 // vector<elem>
	tMap                    // map<key, elem>
	tStruct                 // a struct declaration
	tEnum                   // an enum declaration
)

// idlType is a TARS type.
type idlType struct {
	kind      typeKind
	scalar    string   // tScalar: the IDL spelling, e.g. "unsigned int"
	elem, key *idlType // tVector, tMap
	st        *structDecl
	en        *enumDecl
	ptr       bool // the Go type was a pointer (*T)
}

// render spells t as written in module cur: types of other modules are
// qualified with theirs.
func (t *idlType) render(cur string) string {
	switch t.kind {
	case tVector:
		return "vector<" + t.elem.render(cur) + ">"
	case tMap:
		return "map<" + t.key.render(cur) + ", " + t.elem.render(cur) + ">"
	case tStruct:
		return qualify(t.st.module, t.st.name, cur)
	case tEnum:
		return qualify(t.en.module, t.en.name, cur)
	}
	return t.scalar
}

func qualify(module, name, cur string) string {
	if module == cur {
		return name
	}
	return module + "::" + name
}

// isByte reports whether t is byte or unsigned byte, whose optional fields
// need an explicit default with tars2go v1.2.4.
func (t *idlType) isByte() bool {
	return t.kind == tScalar && strings.HasSuffix(t.scalar, "byte")
}

// visit calls f on t and on every type inside it.
func (t *idlType) visit(f func(*idlType)) {
	f(t)
	if t.key != nil {
		t.key.visit(f)
	}
	if t.elem != nil {
		t.elem.visit(f)
	}
}

// structDecl is a Go struct type exported as a TARS struct.
type structDecl struct {
	key    declKey
	name   string
	module string
	pos    token.Pos
	what   string // the Go name for messages, e.g. "userapi.UserInfo"
	doc    doc
	fields []*field
	stub   bool // its package is not loaded yet
}

// field is one struct field or one parameter.
type field struct {
	id      uint8
	require bool
	name    string // the IDL name
	goName  string
	typ     *idlType
	def     string // the default as an IDL literal, "" for none
	pos     token.Pos
	doc     doc
}

// enumMember is one constant of an enum.
type enumMember struct {
	name  string
	value int64
	pos   token.Pos
	doc   doc
}

// enumDecl is a named int32 Go type exported as a TARS enum.
type enumDecl struct {
	key     declKey
	name    string
	module  string
	pos     token.Pos
	what    string
	doc     doc
	members []enumMember
	stub    bool
}

// memberName returns the name of the first member with value v.
func (e *enumDecl) memberName(v int64) (string, bool) {
	for _, m := range e.members {
		if m.value == v {
			return m.name, true
		}
	}
	return "", false
}

// service is a tars.NewService declaration: a TARS interface.
type service struct {
	key     declKey
	name    string
	module  string
	pos     token.Pos
	doc     doc
	methods []*method
}

// method is a tars.NewEndpoint declaration: one method of an interface.
type method struct {
	name string
	pos  token.Pos
	what string
	doc  doc
	ret  *idlType // nil for void
	in   []*field // tags 1..n
	out  []*field // tags n+1..
	// idempotent: declared with tars.Idempotent (printed as a comment: TARS
	// IDL has no such keyword)
	idempotent bool
}

// module is what one .tars file declares.
type module struct {
	name     string
	enums    []*enumDecl
	structs  []*structDecl
	services []*service
	pkgs     map[string]bool // the Go packages its declarations come from
}
