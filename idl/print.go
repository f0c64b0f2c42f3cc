package idl

import (
	"bytes"
	"fmt"
	"go/token"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// files checks the modules as wholes and prints them, or returns the
// errors.
func (a *analyzer) files() ([]File, error) {
	if a.cfg.Module != "" && len(a.origMods) > 1 {
		names := slices.Sorted(maps.Keys(a.origMods))
		a.errorf(token.NoPos, "", "-module %s: the packages declare modules %s; export one module at a time, or drop -module",
			a.cfg.Module, strings.Join(names, ", "))
	}
	// The module-wide checks run even after errors in the declarations,
	// so that one run reports everything.
	names := slices.Sorted(maps.Keys(a.modules))
	order := map[string][]*structDecl{}
	includes := map[string][]string{}
	for _, name := range names {
		m := a.modules[name]
		a.checkNames(m)
		order[name] = a.structOrder(m)
		includes[name] = moduleDeps(m)
	}
	a.checkIncludeCycles(includes)
	if len(a.errs) > 0 {
		return nil, a.sortedErrors()
	}
	var out []File
	for _, name := range names {
		data := a.render(a.modules[name], order[name], includes[name])
		out = append(out, File{Module: name, Name: name + ".tars", Data: data})
	}
	return out, nil
}

// checkNames checks that the names a module declares are distinct: TARS
// (and C++, where enum members share the namespace) has one scope per
// module.
func (a *analyzer) checkNames(m *module) {
	type decl struct {
		pos  token.Pos
		what string
	}
	slices.SortFunc(m.enums, func(x, y *enumDecl) int { return a.before(x.pos, y.pos) })
	slices.SortFunc(m.structs, func(x, y *structDecl) int { return a.before(x.pos, y.pos) })
	slices.SortFunc(m.services, func(x, y *service) int { return a.before(x.pos, y.pos) })
	var all []struct {
		name string
		decl
	}
	add := func(name string, pos token.Pos, what string) {
		all = append(all, struct {
			name string
			decl
		}{name, decl{pos, what}})
	}
	for _, e := range m.enums {
		add(e.name, e.pos, "enum "+e.what)
		for _, mb := range e.members {
			add(mb.name, mb.pos, "enum member "+mb.name+" of "+e.what)
		}
	}
	for _, s := range m.structs {
		add(s.name, s.pos, "struct "+s.what)
	}
	for _, s := range m.services {
		add(s.name, s.pos, "interface "+s.name)
	}
	slices.SortStableFunc(all, func(x, y struct {
		name string
		decl
	}) int {
		return a.before(x.pos, y.pos)
	})
	seen := map[string]decl{}
	for _, d := range all {
		if o, ok := seen[d.name]; ok {
			f, _ := a.position(o.pos)
			a.errorf(d.pos, "", "%s: the name %s is also declared in module %s by %s (%s:%d)",
				d.what, d.name, m.name, o.what, f, a.fset.Position(o.pos).Line)
			continue
		}
		seen[d.name] = d.decl
	}
	for _, s := range m.services {
		byName := map[string]*method{}
		for _, mt := range s.methods {
			up := upperFirst(mt.name)
			if o := byName[up]; o != nil {
				if o.name == mt.name {
					a.errorf(mt.pos, mt.what, "method %s is also declared by %s", mt.name, o.what)
				} else {
					a.errorf(mt.pos, mt.what, "method names %s and %s differ only in the case of the first letter, which tars2go's Go code cannot tell apart", mt.name, o.name)
				}
				continue
			}
			byName[up] = mt
		}
		for _, mt := range s.methods {
			up := upperFirst(mt.name)
			for _, suffix := range []string{"WithContext", "OneWayWithContext"} {
				if base, ok := strings.CutSuffix(up, suffix); ok && byName[base] != nil {
					a.errorf(mt.pos, mt.what, "method %s clashes with the Go method %s%s that tars2go generates for %s", mt.name, base, suffix, byName[base].name)
				}
			}
		}
	}
}

// structOrder returns the module's structs in dependency order (a struct
// after those it contains), otherwise in source order, and reports what
// TARS cannot declare: a struct that contains itself other than through a
// vector or map, and structs that contain each other.
func (a *analyzer) structOrder(m *module) []*structDecl {
	const (
		visiting = 1
		done     = 2
	)
	state := map[*structDecl]int{}
	var order []*structDecl
	var visit func(d *structDecl)
	visit = func(d *structDecl) {
		state[d] = visiting
		for _, f := range d.fields {
			if f.typ.kind == tStruct && f.typ.st == d {
				a.errorf(f.pos, d.what+"."+f.goName, "struct %s contains itself: TARS has no pointers, so it needs a vector or map in between", d.name)
				continue
			}
			f.typ.visit(func(t *idlType) {
				if t.kind != tStruct || t.st.module != m.name || t.st == d {
					return
				}
				switch state[t.st] {
				case visiting:
					a.errorf(f.pos, d.what+"."+f.goName, "structs %s and %s contain each other, which TARS IDL cannot declare (a struct is declared before its use)", d.name, t.st.name)
				case 0:
					visit(t.st)
				}
			})
		}
		state[d] = done
		order = append(order, d)
	}
	for _, d := range m.structs {
		if state[d] == 0 {
			visit(d)
		}
	}
	return order
}

// moduleDeps returns the other modules whose types m uses, sorted.
func moduleDeps(m *module) []string {
	deps := map[string]bool{}
	use := func(t *idlType) {
		if t == nil {
			return
		}
		t.visit(func(t *idlType) {
			switch {
			case t.kind == tStruct && t.st.module != m.name:
				deps[t.st.module] = true
			case t.kind == tEnum && t.en.module != m.name:
				deps[t.en.module] = true
			}
		})
	}
	for _, s := range m.structs {
		for _, f := range s.fields {
			use(f.typ)
		}
	}
	for _, s := range m.services {
		for _, mt := range s.methods {
			use(mt.ret)
			for _, p := range slices.Concat(mt.in, mt.out) {
				use(p.typ)
			}
		}
	}
	return slices.Sorted(maps.Keys(deps))
}

// checkIncludeCycles reports modules that would #include each other.
func (a *analyzer) checkIncludeCycles(includes map[string][]string) {
	state := map[string]int{}
	var path []string
	var visit func(string)
	visit = func(m string) {
		state[m] = 1
		path = append(path, m)
		for _, d := range includes[m] {
			switch state[d] {
			case 1:
				i := slices.Index(path, d)
				cycle := append(slices.Clone(path[i:]), d)
				a.errorf(token.NoPos, "", "modules %s use each other's types, and TARS #include cannot be circular; move the shared types into one module", strings.Join(cycle, " -> "))
			case 0:
				visit(d)
			}
		}
		path = path[:len(path)-1]
		state[m] = 2
	}
	for _, m := range slices.Sorted(maps.Keys(includes)) {
		if state[m] == 0 {
			visit(m)
		}
	}
}

// printer writes IDL text.
type printer struct {
	bytes.Buffer
	module *module
	a      *analyzer
}

func (p *printer) comment(indent string, d doc) {
	for _, l := range d.lines {
		if l = strings.TrimRight(l, " \t"); l == "" {
			p.WriteString(indent + "//\n")
		} else {
			p.WriteString(indent + "// " + l + "\n")
		}
	}
}

func (p *printer) endLine(d doc) {
	if d.comment != "" {
		p.WriteString(" // " + d.comment)
	}
	p.WriteString("\n")
}

func (a *analyzer) render(m *module, structs []*structDecl, includes []string) []byte {
	p := &printer{module: m, a: a}
	p.WriteString("// Code generated by idl-export from Go definitions. DO NOT EDIT.\n")
	for _, pkg := range slices.Sorted(maps.Keys(m.pkgs)) {
		p.WriteString("// Source: " + pkg + "\n")
	}
	p.WriteString("\n")
	for _, inc := range includes {
		fmt.Fprintf(p, "#include %q\n", inc+".tars")
	}
	if len(includes) > 0 {
		p.WriteString("\n")
	}
	fmt.Fprintf(p, "module %s\n{\n", m.name)
	first := true
	sep := func() {
		if !first {
			p.WriteString("\n")
		}
		first = false
	}
	for _, e := range m.enums {
		sep()
		p.enum(e)
	}
	for _, s := range structs {
		sep()
		p.structDecl(s)
	}
	for _, s := range m.services {
		sep()
		p.service(s)
	}
	p.WriteString("};\n")
	return p.Bytes()
}

func (p *printer) enum(e *enumDecl) {
	p.comment("    ", e.doc)
	fmt.Fprintf(p, "    enum %s\n    {\n", e.name)
	for i, mb := range e.members {
		p.comment("        ", mb.doc)
		fmt.Fprintf(p, "        %s = %d", mb.name, mb.value)
		if i < len(e.members)-1 {
			p.WriteString(",")
		}
		p.endLine(mb.doc)
	}
	p.WriteString("    };\n")
}

func (p *printer) structDecl(s *structDecl) {
	p.comment("    ", s.doc)
	fmt.Fprintf(p, "    struct %s\n    {\n", s.name)
	for _, f := range s.fields {
		p.comment("        ", f.doc)
		req := "optional"
		if f.require {
			req = "require"
		}
		fmt.Fprintf(p, "        %d %s %s %s", f.id, req, f.typ.render(p.module.name), f.name)
		if def := p.defaultLiteral(f); def != "" {
			p.WriteString(" = " + def)
		}
		p.WriteString(";")
		p.endLine(f.doc)
	}
	p.WriteString("    };\n")
}

// defaultLiteral spells a field's default; an enum value by its member's
// name when one has it.
func (p *printer) defaultLiteral(f *field) string {
	v, ok := strings.CutPrefix(f.def, enumDefault)
	if !ok {
		return f.def
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	e := f.typ.en
	name, ok := e.memberName(n)
	if !ok {
		return v
	}
	if e.module == p.module.name {
		return name
	}
	// tars2go looks a member up by its bare name, in this module first.
	for _, local := range p.module.enums {
		if slices.ContainsFunc(local.members, func(m enumMember) bool { return m.name == name }) {
			return v
		}
	}
	return e.module + "::" + name
}

func (p *printer) service(s *service) {
	p.comment("    ", s.doc)
	fmt.Fprintf(p, "    interface %s\n    {\n", s.name)
	for _, m := range s.methods {
		p.comment("        ", m.doc)
		if m.idempotent {
			p.WriteString("        // idempotent: callers may retry and hedge calls\n")
		}
		ret := "void"
		if m.ret != nil {
			ret = m.ret.render(p.module.name)
		}
		var params []string
		for _, f := range m.in {
			params = append(params, f.typ.render(p.module.name)+" "+f.name)
		}
		for _, f := range m.out {
			params = append(params, "out "+f.typ.render(p.module.name)+" "+f.name)
		}
		fmt.Fprintf(p, "        %s %s(%s);", ret, m.name, strings.Join(params, ", "))
		p.endLine(m.doc)
	}
	p.WriteString("    };\n")
}
