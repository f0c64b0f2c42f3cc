package idl

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"reflect"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"
)

// analyzer finds the definitions in one load of the packages.
type analyzer struct {
	cfg   Config
	dir   string // absolute; file names in messages are relative to it
	fset  *token.FileSet
	pkgs  map[string]*packages.Package // the packages loaded with syntax, by path
	roots map[string]bool              // the packages the patterns match
	need  map[string]bool              // packages whose declarations are needed but not loaded with syntax
	errs  Errors
	seen  map[string]bool // error texts already reported

	mods      map[string]*pkgModule // TARS module of each syntax package
	docs      map[token.Pos]doc     // doc comments by the position of the declared name
	services  map[declKey]*service
	calls     []*endpointCall
	structs   map[declKey]*structDecl
	enums     map[declKey]*enumDecl
	paramList map[declKey]bool // named types used as a Req or a result list
	modules   map[string]*module
	origMods  map[string]token.Pos // with Config.Module: the modules the root packages declare, before the override
}

// pkgModule is the TARS module of a Go package and where it is named.
type pkgModule struct {
	name     string
	pos      token.Pos // the //tars:module directive, or the package clause
	problem  string    // why the name is unusable, reported when the package declares something
	reported bool
}

// endpointCall is one package-level `var V = tars.NewEndpoint[Req, Resp](svc, "name")`.
type endpointCall struct {
	pkg        string
	varName    string
	pos        token.Pos
	doc        doc
	req, resp  types.Type
	svc        declKey
	name       string
	idempotent bool // tars.Idempotent among the options
}

func newAnalyzer(cfg Config, dir string, pkgs []*packages.Package, roots map[string]bool) *analyzer {
	a := &analyzer{
		cfg: cfg, dir: dir, roots: roots,
		pkgs: map[string]*packages.Package{}, need: map[string]bool{}, seen: map[string]bool{},
		mods: map[string]*pkgModule{}, docs: map[token.Pos]doc{},
		services: map[declKey]*service{}, structs: map[declKey]*structDecl{}, enums: map[declKey]*enumDecl{},
		paramList: map[declKey]bool{}, modules: map[string]*module{}, origMods: map[string]token.Pos{},
	}
	for _, p := range pkgs {
		a.pkgs[p.PkgPath] = p
		if a.fset == nil {
			a.fset = p.Fset
		}
	}
	return a
}

// errorf records an error at pos about the Go declaration what.
func (a *analyzer) errorf(pos token.Pos, what, format string, args ...any) {
	e := &Error{What: what, Msg: fmt.Sprintf(format, args...)}
	if pos.IsValid() {
		p := a.fset.Position(pos)
		e.Pos = token.Position{Filename: relPath(a.dir, p.Filename), Line: p.Line}
	}
	if key := e.Error(); !a.seen[key] {
		a.seen[key] = true
		a.errs = append(a.errs, e)
	}
}

func (a *analyzer) sortedErrors() Errors {
	sortErrors(a.errs)
	return a.errs
}

// position returns the file (relative to the directory) and offset of pos,
// the deterministic order of declarations.
func (a *analyzer) position(pos token.Pos) (string, int) {
	p := a.fset.Position(pos)
	return relPath(a.dir, p.Filename), p.Offset
}

func (a *analyzer) before(x, y token.Pos) int {
	fx, ox := a.position(x)
	fy, oy := a.position(y)
	if c := strings.Compare(fx, fy); c != 0 {
		return c
	}
	return ox - oy
}

// sortedPkgs returns the syntax packages in import-path order.
func (a *analyzer) sortedPkgs() []*packages.Package {
	var out []*packages.Package
	for _, p := range a.pkgs {
		out = append(out, p)
	}
	slices.SortFunc(out, func(x, y *packages.Package) int { return strings.Compare(x.PkgPath, y.PkgPath) })
	return out
}

// run analyses the loaded packages. Afterwards a.need lists packages to load
// with syntax (and run again), or a.errs the problems, or neither.
func (a *analyzer) run() {
	for _, p := range a.sortedPkgs() {
		a.scanPackage(p)
	}
	// Every call's Req and result-list types are parameter lists.
	for _, c := range a.calls {
		for _, t := range []types.Type{c.req, c.resp} {
			if n, ok := types.Unalias(t).(*types.Named); ok && n.Obj().Pkg() != nil {
				if t == c.req || embedsResults(n) {
					a.paramList[declKey{n.Obj().Pkg().Path(), n.Obj().Name()}] = true
				}
			}
		}
	}
	// The services to export: those the root packages declare, and those
	// their endpoints belong to.
	exported := map[declKey]*service{}
	for key, s := range a.services {
		if a.roots[key.pkg] {
			exported[key] = s
		}
	}
	for _, c := range a.calls {
		if !a.roots[c.pkg] {
			continue
		}
		if s, ok := a.services[c.svc]; ok {
			exported[c.svc] = s
		} else if _, loaded := a.pkgs[c.svc.pkg]; !loaded {
			a.need[c.svc.pkg] = true
		} else {
			a.errorf(c.pos, c.pkgName()+"."+c.varName,
				"the service %s is not a package-level var declared with tars.NewService(\"Name\")", c.svc.name)
		}
	}
	var svcs []*service
	for _, s := range exported {
		svcs = append(svcs, s)
	}
	slices.SortFunc(svcs, func(x, y *service) int { return a.before(x.pos, y.pos) })
	for _, s := range svcs {
		s.module = a.moduleOf(s.key.pkg)
		if msg := checkGoName(s.name); msg != "" {
			a.errorf(s.pos, s.key.pkgName()+"."+s.key.name, "interface name %q %s", s.name, msg)
		}
		var calls []*endpointCall
		for _, c := range a.calls {
			if c.svc == s.key {
				calls = append(calls, c)
			}
		}
		slices.SortFunc(calls, func(x, y *endpointCall) int { return a.before(x.pos, y.pos) })
		for _, c := range calls {
			if m := a.method(s, c); m != nil {
				s.methods = append(s.methods, m)
			}
		}
		a.module(s.module, s.key.pkg).services = append(a.module(s.module, s.key.pkg).services, s)
	}
	if a.cfg.All {
		a.exportAll()
	}
	if len(a.need) == 0 && len(a.errs) == 0 && len(a.modules) == 0 {
		msg := "found no tars.NewService declaration"
		if !a.cfg.All {
			msg += " (use -all to export the structs of packages without services)"
		} else {
			msg += " and no struct with tars tags"
		}
		a.errorf(token.NoPos, "", "%s", msg)
	}
}

func (c *endpointCall) pkgName() string { return lastElem(c.pkg) }

func (k declKey) pkgName() string { return lastElem(k.pkg) }

// lastElem is the last element of an import path: the package name in
// messages, as Go programmers write it.
func lastElem(path string) string { return path[strings.LastIndexByte(path, '/')+1:] }

// scanPackage reads a package's module name, doc comments, services and
// endpoint declarations.
func (a *analyzer) scanPackage(p *packages.Package) {
	pm := &pkgModule{name: p.Name}
	if len(p.Syntax) > 0 {
		pm.pos = p.Syntax[0].Name.Pos()
	}
	var directive token.Pos
	files := slices.Clone(p.Syntax)
	slices.SortFunc(files, func(x, y *ast.File) int { return a.before(x.Pos(), y.Pos()) })
	for _, f := range files {
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				rest, ok := strings.CutPrefix(c.Text, "//tars:module")
				if !ok || rest != "" && rest[0] != ' ' && rest[0] != '\t' {
					continue
				}
				args := strings.Fields(rest)
				if len(args) != 1 {
					a.errorf(c.Pos(), "", "//tars:module takes one module name, e.g. //tars:module UserService")
					continue
				}
				if directive.IsValid() && args[0] != pm.name {
					a.errorf(c.Pos(), "", "//tars:module %s: the package already names its module %s", args[0], pm.name)
					continue
				}
				pm.name, pm.pos, directive = args[0], c.Pos(), c.Pos()
			}
		}
	}
	if msg := checkModuleName(pm.name); msg != "" {
		if directive.IsValid() {
			pm.problem = fmt.Sprintf("module name %q %s", pm.name, msg)
		} else {
			pm.problem = fmt.Sprintf("the package name %q, its default TARS module, %s", pm.name, msg)
		}
	}
	a.mods[p.PkgPath] = pm

	accepted := map[*ast.CallExpr]bool{}
	for _, f := range files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			single := !gd.Lparen.IsValid()
			for _, spec := range gd.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					a.docs[s.Name.Pos()] = docOf(s.Doc, gd.Doc, single, s.Comment)
					if st, ok := s.Type.(*ast.StructType); ok {
						for _, fl := range st.Fields.List {
							for _, n := range fl.Names {
								a.docs[n.Pos()] = docOf(fl.Doc, nil, false, fl.Comment)
							}
						}
					}
				case *ast.ValueSpec:
					d := docOf(s.Doc, gd.Doc, single, s.Comment)
					for _, n := range s.Names {
						a.docs[n.Pos()] = d
					}
					if gd.Tok != token.VAR {
						continue
					}
					for i, v := range s.Values {
						if i >= len(s.Names) {
							break
						}
						call, ok := ast.Unparen(v).(*ast.CallExpr)
						if !ok {
							continue
						}
						switch fn, targs := callee(p.TypesInfo, call); fn {
						case "NewService":
							accepted[call] = true
							a.serviceDecl(p, s.Names[i], call, d)
						case "NewEndpoint":
							accepted[call] = true
							a.endpointDecl(p, s.Names[i], call, targs, d)
						}
					}
				}
			}
		}
	}
	if !a.roots[p.PkgPath] {
		return
	}
	// Declarations elsewhere (in functions, inside other expressions) cannot
	// be read statically: an error rather than a method silently missing.
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || accepted[call] {
				return true
			}
			if fn, _ := callee(p.TypesInfo, call); fn != "" {
				a.errorf(call.Pos(), "", "tars.%s must be called in a package-level var declaration (var X = tars.%s...): idl-export reads declarations statically and cannot see this one", fn, fn)
			}
			return true
		})
	}
}

// docOf returns the doc comment of a spec (its own, or its declaration's
// when the declaration has a single unparenthesised spec) and its line
// comment.
func docOf(own, outer *ast.CommentGroup, single bool, line *ast.CommentGroup) doc {
	cg := own
	if cg == nil && single {
		cg = outer
	}
	var d doc
	if cg != nil {
		text := strings.TrimRight(cg.Text(), "\n")
		if text != "" {
			d.lines = strings.Split(text, "\n")
		}
	}
	if line != nil {
		d.comment = strings.Join(strings.Fields(line.Text()), " ")
	}
	return d
}

// callee reports whether call calls tars.NewService or tars.NewEndpoint
// (returning "NewService", "NewEndpoint" or ""), and the explicit or
// inferred type arguments.
func callee(info *types.Info, call *ast.CallExpr) (string, *types.TypeList) {
	fun := ast.Unparen(call.Fun)
	switch f := fun.(type) {
	case *ast.IndexExpr:
		fun = f.X
	case *ast.IndexListExpr:
		fun = f.X
	}
	var id *ast.Ident
	switch f := ast.Unparen(fun).(type) {
	case *ast.Ident:
		id = f
	case *ast.SelectorExpr:
		id = f.Sel
	default:
		return "", nil
	}
	fn, ok := info.Uses[id].(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Pkg().Path() != TarsPath {
		return "", nil
	}
	switch fn.Name() {
	case "NewService", "NewEndpoint":
		return fn.Name(), info.Instances[id].TypeArgs
	}
	return "", nil
}

// stringArg returns the value of a constant string argument.
func stringArg(info *types.Info, e ast.Expr) (string, bool) {
	tv, ok := info.Types[e]
	if !ok || tv.Value == nil || tv.Value.Kind() != constant.String {
		return "", false
	}
	return constant.StringVal(tv.Value), true
}

func (a *analyzer) serviceDecl(p *packages.Package, name *ast.Ident, call *ast.CallExpr, d doc) {
	what := p.Name + "." + name.Name
	if len(call.Args) != 1 {
		return // does not compile
	}
	sname, ok := stringArg(p.TypesInfo, call.Args[0])
	if !ok {
		a.errorf(call.Pos(), what, "the interface name given to tars.NewService must be a constant string")
		return
	}
	key := declKey{p.PkgPath, name.Name}
	if name.Name == "_" {
		a.errorf(call.Pos(), what, "a service assigned to _ has no endpoints; name its variable")
		return
	}
	a.services[key] = &service{key: key, name: sname, pos: name.Pos(), doc: d}
}

func (a *analyzer) endpointDecl(p *packages.Package, name *ast.Ident, call *ast.CallExpr, targs *types.TypeList, d doc) {
	what := p.Name + "." + name.Name
	if len(call.Args) < 2 || targs == nil || targs.Len() != 2 {
		return // does not compile
	}
	c := &endpointCall{pkg: p.PkgPath, varName: name.Name, pos: call.Pos(), doc: d, req: targs.At(0), resp: targs.At(1)}
	for _, arg := range call.Args[2:] {
		if !isTarsVar(p.TypesInfo, arg, "Idempotent") {
			if a.roots[p.PkgPath] {
				a.errorf(arg.Pos(), what, "idl-export reads the options of tars.NewEndpoint only when written out: tars.Idempotent")
			}
			return
		}
		c.idempotent = true
	}
	mname, ok := stringArg(p.TypesInfo, call.Args[1])
	if !ok {
		a.errorf(call.Pos(), what, "the method name given to tars.NewEndpoint must be a constant string")
		return
	}
	c.name = mname
	var id *ast.Ident
	switch e := ast.Unparen(call.Args[0]).(type) {
	case *ast.Ident:
		id = e
	case *ast.SelectorExpr:
		id = e.Sel
	}
	v, ok := p.TypesInfo.Uses[id].(*types.Var)
	if id == nil || !ok || v.Pkg() == nil || v.Parent() != v.Pkg().Scope() {
		if a.roots[p.PkgPath] {
			a.errorf(call.Pos(), what, "the service argument of tars.NewEndpoint must name a package-level var declared with tars.NewService")
		}
		return
	}
	c.svc = declKey{v.Pkg().Path(), v.Name()}
	a.calls = append(a.calls, c)
}

// isTarsVar reports whether e names the package-level var name of the tars
// package.
func isTarsVar(info *types.Info, e ast.Expr, name string) bool {
	var id *ast.Ident
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		id = e
	case *ast.SelectorExpr:
		id = e.Sel
	}
	if id == nil {
		return false
	}
	v, ok := info.Uses[id].(*types.Var)
	return ok && v.Name() == name && v.Pkg() != nil && v.Pkg().Path() == TarsPath
}

// moduleOf returns the TARS module of the declarations of package pkg.
func (a *analyzer) moduleOf(pkg string) string {
	pm := a.mods[pkg]
	if pm == nil {
		return "" // not loaded: a stub
	}
	if a.cfg.Module != "" && a.roots[pkg] {
		if _, ok := a.origMods[pm.name]; !ok {
			a.origMods[pm.name] = pm.pos
		}
		return a.cfg.Module
	}
	if pm.problem != "" && !pm.reported {
		pm.reported = true
		a.errorf(pm.pos, "", "%s", pm.problem)
	}
	return pm.name
}

// module returns the module named name, creating it.
func (a *analyzer) module(name, pkg string) *module {
	m := a.modules[name]
	if m == nil {
		m = &module{name: name, pkgs: map[string]bool{}}
		a.modules[name] = m
	}
	m.pkgs[pkg] = true
	return m
}

// qualifier names packages by their name in messages.
func qualifier(p *types.Package) string { return p.Name() }

func typeString(t types.Type) string { return types.TypeString(t, qualifier) }

func isTarsType(t types.Type, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == TarsPath && n.Obj().Name() == name
}

// embedsResults reports whether t is a struct embedding tars.Results: a
// result list.
func embedsResults(t types.Type) bool {
	st, ok := t.Underlying().(*types.Struct)
	if !ok {
		return false
	}
	for i := range st.NumFields() {
		if f := st.Field(i); f.Embedded() && isTarsType(f.Type(), "Results") {
			return true
		}
	}
	return false
}

// method analyses one endpoint by the parameter rule of tars.Endpoint.
func (a *analyzer) method(s *service, c *endpointCall) *method {
	what := fmt.Sprintf("%s.%s (%s.%s)", c.pkgName(), c.varName, s.name, c.name)
	m := &method{name: c.name, pos: c.pos, what: what, doc: c.doc, idempotent: c.idempotent}
	nerr := len(a.errs)
	switch {
	case c.name == "tars_ping":
		a.errorf(c.pos, what, "tars_ping is built in")
	case checkName(c.name) != "":
		a.errorf(c.pos, what, "method name %q %s", c.name, checkName(c.name))
	case goReservedMethods[upperFirst(c.name)]:
		a.errorf(c.pos, what, "method name %q clashes with the method %s that tars2go generates on every interface", c.name, upperFirst(c.name))
	}
	req := types.Unalias(c.req)
	reqSt, ok := req.Underlying().(*types.Struct)
	if !ok {
		a.errorf(c.pos, what, "request type %s must be a struct listing the in parameters (tars.Void for none)", typeString(req))
		return nil
	}
	m.in = a.fields(reqSt, typeString(req), c.pos, true)
	for i, p := range m.in {
		if int(p.id) != i+1 {
			a.errorf(p.pos, typeString(req)+"."+p.goName, "in parameters are tagged 1..n in order; tag %d found where %d belongs", p.id, i+1)
		}
	}
	resp := types.Unalias(c.resp)
	switch {
	case isTarsType(resp, "Void"):
	case embedsResults(resp):
		rs := resp.Underlying().(*types.Struct)
		next := len(m.in) + 1
		for _, p := range a.fields(rs, typeString(resp), c.pos, true) {
			if p.id == 0 {
				m.ret = p.typ
				continue
			}
			if int(p.id) != next {
				a.errorf(p.pos, typeString(resp)+"."+p.goName, "out parameters are tagged %d.. after the %d in parameters; tag %d found where %d belongs", len(m.in)+1, len(m.in), p.id, next)
			}
			next++
			m.out = append(m.out, p)
		}
	default:
		t, msg := a.typeOf(resp)
		if msg != "" {
			a.errorf(c.pos, what, "return type %s: %s", typeString(resp), msg)
		}
		m.ret = t
	}
	names := map[string]bool{}
	for _, p := range slices.Concat(m.in, m.out) {
		pwhat := what + " parameter " + p.goName
		if msg := checkParamName(p.name); msg != "" {
			a.errorf(p.pos, pwhat, "parameter name %q %s; set another with name= in the tag", p.name, msg)
		} else if names[p.name] || p.name == "tars_ret" {
			a.errorf(p.pos, pwhat, "parameter name %q used twice", p.name)
		}
		names[p.name] = true
	}
	if len(a.errs) > nerr {
		return nil
	}
	return m
}

// fields analyses the fields of a struct as reflectcodec compiles them:
// a struct's fields (params false) or a parameter list (params true),
// sorted by tag. owner names the struct in messages; pos stands for
// fields without a position of their own.
func (a *analyzer) fields(st *types.Struct, owner string, pos token.Pos, params bool) []*field {
	var out []*field
	byID := map[uint8]*field{}
	byName := map[string]*field{}
	byGoName := map[string]*field{}
	for i := range st.NumFields() {
		v := st.Field(i)
		raw, hasTag := reflect.StructTag(st.Tag(i)).Lookup("tars")
		what := owner + "." + v.Name()
		fpos := v.Pos()
		if !fpos.IsValid() {
			fpos = pos
		}
		if !v.Exported() {
			if hasTag && raw != "-" {
				a.errorf(fpos, what, "unexported field has a tars tag; export it or drop the tag")
			}
			continue
		}
		if v.Embedded() && !hasTag {
			if es, ok := v.Type().Underlying().(*types.Struct); ok && es.NumFields() == 0 {
				continue // an empty marker struct such as tars.Results
			}
			a.errorf(fpos, what, `embedded fields are not flattened; give the field a tars tag or tars:"-"`)
			continue
		}
		tag, err := parseTag(v.Name(), raw)
		if err != nil {
			a.errorf(fpos, what, "%v", err)
			continue
		}
		if tag.Skip {
			continue
		}
		if params && tag.Require { // as reflectcodec.StructParams refuses them
			a.errorf(fpos, what, "require has no meaning on a parameter (every parameter is always written and must be present); drop it")
		}
		if params && tag.HasDefault {
			a.errorf(fpos, what, "default= has no meaning on a parameter (TARS IDL has no parameter defaults; every parameter is always written); drop it")
		}
		if o := byID[tag.ID]; o != nil {
			a.errorf(fpos, what, "field id %d is also used by %s", tag.ID, o.goName)
			continue
		}
		f := &field{id: tag.ID, require: tag.Require || params, name: tag.Name, goName: v.Name(), pos: fpos, doc: a.docs[v.Pos()]}
		byID[tag.ID] = f
		t, msg := a.typeOf(v.Type())
		if msg != "" {
			a.errorf(fpos, what, "%s", msg)
			continue
		}
		f.typ = t
		if def, msg := a.defaultOf(v.Type(), t, tag.Default, tag.HasDefault); msg != "" {
			a.errorf(fpos, what, "%s", msg)
		} else if !params {
			f.def = def
			if def == "" && !f.require && t.isByte() {
				// tars2go v1.2.4 cannot generate an optional byte without a
				// default; 0 is the default the wire already has.
				f.def = "0"
			}
		}
		out = append(out, f)
		if params {
			continue // method checks the names of parameters
		}
		if msg := checkName(f.name); msg != "" {
			a.errorf(fpos, what, "field name %q %s; set another with name= in the tag", f.name, msg)
		} else if goReservedFields[upperFirst(f.name)] {
			a.errorf(fpos, what, "field name %q clashes with the method %s that tars2go generates on every struct; set another with name= in the tag", f.name, upperFirst(f.name))
		} else if o := byName[f.name]; o != nil {
			a.errorf(fpos, what, "field name %q is also used by %s", f.name, o.goName)
		} else if o := byGoName[upperFirst(f.name)]; o != nil {
			a.errorf(fpos, what, "field names %q and %q differ only in the case of the first letter, which tars2go's Go code cannot tell apart", f.name, o.name)
		}
		byName[f.name] = f
		byGoName[upperFirst(f.name)] = f
	}
	slices.SortFunc(out, func(x, y *field) int { return int(x.id) - int(y.id) })
	return out
}

// typeOf maps a Go type onto TARS, as reflectcodec does, or says why it
// cannot.
func (a *analyzer) typeOf(t types.Type) (*idlType, string) {
	t = types.Unalias(t)
	if n, ok := t.(*types.Named); ok {
		for _, name := range []string{"MarshalTARS", "UnmarshalTARS"} {
			if obj, _, _ := types.LookupFieldOrMethod(types.NewPointer(n), true, nil, name); obj != nil {
				if _, ok := obj.(*types.Func); ok {
					return nil, fmt.Sprintf("%s encodes itself (%s): idl-export cannot see what it writes; use a struct with tars tags", typeString(n), name)
				}
			}
		}
		if isTarsType(n, "Void") || isTarsType(n, "Results") {
			return nil, fmt.Sprintf("%s only marks an endpoint's request or response", typeString(n))
		}
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch u.Kind() {
		case types.Bool:
			return scalar("bool"), ""
		case types.Int8:
			return scalar("byte"), ""
		case types.Int16:
			return scalar("short"), ""
		case types.Int32:
			if n, ok := t.(*types.Named); ok && n.Obj().Pkg() != nil {
				return a.enumRef(n)
			}
			return scalar("int"), ""
		case types.Int64:
			return scalar("long"), ""
		case types.Uint8:
			return scalar("unsigned byte"), ""
		case types.Uint16:
			return scalar("unsigned short"), ""
		case types.Uint32:
			return scalar("unsigned int"), ""
		case types.Float32:
			return scalar("float"), ""
		case types.Float64:
			return scalar("double"), ""
		case types.String:
			return scalar("string"), ""
		case types.Int, types.Uint, types.Uintptr:
			return nil, fmt.Sprintf("Go %s has no fixed TARS width; use int32 or int64 (uint32 for unsigned int)", u.Name())
		case types.Uint64:
			return nil, "TARS has no unsigned long; use int64"
		}
		return nil, fmt.Sprintf("Go %s cannot be carried by TARS", u.Name())
	case *types.Slice:
		return a.vectorOf(u.Elem())
	case *types.Array:
		return a.vectorOf(u.Elem())
	case *types.Map:
		key, msg := a.typeOf(u.Key())
		if msg != "" {
			return nil, msg
		}
		if _, ptr := types.Unalias(u.Key()).Underlying().(*types.Pointer); ptr {
			return nil, fmt.Sprintf("map key type %s cannot key a TARS map; use a scalar, string or enum", typeString(u.Key()))
		}
		switch key.kind {
		case tVector, tMap:
			return nil, fmt.Sprintf("map key type %s cannot key a TARS map; use a scalar, string or enum", typeString(u.Key()))
		case tStruct:
			return nil, fmt.Sprintf("map key type %s is a struct, which the code tars2cpp and tars2go generate cannot key a map on; use a scalar, string or enum", typeString(u.Key()))
		}
		elem, msg := a.typeOf(u.Elem())
		if msg != "" {
			return nil, msg
		}
		return &idlType{kind: tMap, key: key, elem: elem}, ""
	case *types.Pointer:
		if _, ok := types.Unalias(u.Elem()).Underlying().(*types.Pointer); ok {
			return nil, "pointer to pointer is not supported"
		}
		elem, msg := a.typeOf(u.Elem())
		if msg != "" {
			return nil, msg
		}
		cp := *elem
		cp.ptr = true
		return &cp, ""
	case *types.Struct:
		n, ok := t.(*types.Named)
		if !ok {
			return nil, "an anonymous struct has no IDL name; declare a named struct type"
		}
		return a.structRef(n)
	case *types.Interface:
		if _, ok := t.(*types.TypeParam); ok {
			return nil, "a type parameter has no TARS type"
		}
		return nil, fmt.Sprintf("Go interface %s cannot be carried by TARS; use a concrete type", typeString(t))
	case *types.Chan:
		return nil, "Go chan cannot be carried by TARS"
	case *types.Signature:
		return nil, "Go func cannot be carried by TARS"
	}
	return nil, fmt.Sprintf("Go type %s cannot be carried by TARS", typeString(t))
}

func scalar(s string) *idlType { return &idlType{kind: tScalar, scalar: s} }

func (a *analyzer) vectorOf(elem types.Type) (*idlType, string) {
	if b, ok := types.Unalias(elem).Underlying().(*types.Basic); ok && (b.Kind() == types.Int8 || b.Kind() == types.Uint8) {
		if _, msg := a.typeOf(elem); msg != "" {
			return nil, msg
		}
		return &idlType{kind: tVector, elem: scalar("byte")}, "" // SIMPLE_LIST
	}
	e, msg := a.typeOf(elem)
	if msg != "" {
		return nil, msg
	}
	return &idlType{kind: tVector, elem: e}, ""
}

// declared checks that a named type can be named in IDL: declared at
// package level, not generic. It returns the key, or a reason.
func declared(n *types.Named) (declKey, string) {
	obj := n.Obj()
	if obj.Pkg() == nil {
		return declKey{}, fmt.Sprintf("%s has no package", obj.Name())
	}
	if obj.Parent() != obj.Pkg().Scope() {
		return declKey{}, fmt.Sprintf("%s is declared inside a function; declare it at package level", obj.Name())
	}
	if n.TypeParams().Len() > 0 || n.TypeArgs().Len() > 0 {
		return declKey{}, fmt.Sprintf("%s is generic, and a TARS type has one name; declare a non-generic type", typeString(n))
	}
	return declKey{obj.Pkg().Path(), obj.Name()}, ""
}

// structRef returns the IDL type of a named struct, analysing its
// declaration on first use.
func (a *analyzer) structRef(n *types.Named) (*idlType, string) {
	key, msg := declared(n)
	if msg != "" {
		return nil, msg
	}
	if d := a.structs[key]; d != nil {
		return &idlType{kind: tStruct, st: d}, ""
	}
	d := &structDecl{key: key, name: key.name, pos: n.Obj().Pos(), what: typeString(n)}
	a.structs[key] = d
	if _, ok := a.pkgs[key.pkg]; !ok {
		a.need[key.pkg] = true
		d.stub = true
		return &idlType{kind: tStruct, st: d}, ""
	}
	d.module = a.moduleOf(key.pkg)
	d.doc = a.docs[n.Obj().Pos()]
	if msg := checkGoName(d.name); msg != "" {
		a.errorf(d.pos, d.what, "struct name %q %s", d.name, msg)
	}
	d.fields = a.fields(n.Underlying().(*types.Struct), d.what, d.pos, false)
	m := a.module(d.module, key.pkg)
	m.structs = append(m.structs, d)
	return &idlType{kind: tStruct, st: d}, ""
}

// enumRef returns the IDL type of a named int32 type, an enum whose members
// are the package-level constants of the type.
func (a *analyzer) enumRef(n *types.Named) (*idlType, string) {
	key, msg := declared(n)
	if msg != "" {
		return nil, msg
	}
	if d := a.enums[key]; d != nil {
		return &idlType{kind: tEnum, en: d}, ""
	}
	d := &enumDecl{key: key, name: key.name, pos: n.Obj().Pos(), what: typeString(n)}
	a.enums[key] = d
	if _, ok := a.pkgs[key.pkg]; !ok {
		a.need[key.pkg] = true
		d.stub = true
		return &idlType{kind: tEnum, en: d}, ""
	}
	d.module = a.moduleOf(key.pkg)
	d.doc = a.docs[n.Obj().Pos()]
	if msg := checkGoName(d.name); msg != "" {
		a.errorf(d.pos, d.what, "enum name %q %s", d.name, msg)
	}
	scope := n.Obj().Pkg().Scope()
	for _, name := range scope.Names() {
		c, ok := scope.Lookup(name).(*types.Const)
		if !ok || name == "_" || !types.Identical(c.Type(), n) {
			continue
		}
		v, exact := constant.Int64Val(constant.ToInt(c.Val()))
		if !exact {
			continue // does not compile
		}
		if msg := checkName(name); msg != "" {
			a.errorf(c.Pos(), typeString(n)+" constant "+name, "enum member name %q %s", name, msg)
		}
		d.members = append(d.members, enumMember{name: name, value: v, pos: c.Pos(), doc: a.docs[c.Pos()]})
	}
	if len(d.members) == 0 {
		a.errorf(d.pos, d.what, "a named int32 type is a TARS enum, and %s has no constants: declare its members as package-level constants of the type, or use int32", d.name)
	}
	slices.SortStableFunc(d.members, func(x, y enumMember) int {
		if x.value != y.value {
			if x.value < y.value {
				return -1
			}
			return 1
		}
		return a.before(x.pos, y.pos)
	})
	m := a.module(d.module, key.pkg)
	m.enums = append(m.enums, d)
	return &idlType{kind: tEnum, en: d}, ""
}

// exportAll adds the tagged structs and the enums declared in the root
// packages (Config.All).
func (a *analyzer) exportAll() {
	for _, p := range a.sortedPkgs() {
		if !a.roots[p.PkgPath] || p.Types == nil {
			continue
		}
		scope := p.Types.Scope()
		for _, name := range scope.Names() {
			tn, ok := scope.Lookup(name).(*types.TypeName)
			if !ok || tn.IsAlias() || !tn.Exported() {
				continue
			}
			n, ok := tn.Type().(*types.Named)
			if !ok || n.TypeParams().Len() > 0 || a.paramList[declKey{p.PkgPath, name}] || embedsResults(n) {
				continue
			}
			switch u := n.Underlying().(type) {
			case *types.Struct:
				if isTarsType(n, "Void") || isTarsType(n, "Results") || !hasTarsTag(u) {
					continue
				}
				if _, msg := a.typeOf(n); msg != "" {
					a.errorf(tn.Pos(), typeString(n), "%s", msg)
				}
			case *types.Basic:
				if u.Kind() == types.Int32 && hasConstants(scope, n) {
					a.enumRef(n)
				}
			}
		}
	}
}

func hasTarsTag(st *types.Struct) bool {
	for i := range st.NumFields() {
		if _, ok := reflect.StructTag(st.Tag(i)).Lookup("tars"); ok {
			return true
		}
	}
	return false
}

func hasConstants(scope *types.Scope, n *types.Named) bool {
	for _, name := range scope.Names() {
		if c, ok := scope.Lookup(name).(*types.Const); ok && name != "_" && types.Identical(c.Type(), n) {
			return true
		}
	}
	return false
}
