package idl

import (
	"errors"
	"fmt"
	"go/token"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/tools/go/packages"
)

// TarsPath is the import path of the gotars root package, whose NewService
// and NewEndpoint declarations Export looks for.
const TarsPath = "github.com/gotars/tars"

// Config tells Export where and what to load.
type Config struct {
	// Dir is the directory in which package patterns are resolved and the
	// go command runs; empty means the current directory.
	Dir string

	// Module, when set, is the TARS module of every definition of the
	// packages matched by the patterns, overriding their package names and
	// //tars:module directives. The matched packages must then make up a
	// single module.
	Module string

	// All also exports every exported struct type with tars-tagged fields
	// (and every exported named int32 type with constants) declared in the
	// matched packages, not only those reachable from endpoints: for
	// packages of shared types without services. Request types and result
	// lists (structs embedding tars.Results) of the endpoints it sees are
	// parameter lists, never exported as structs.
	All bool

	// Env is the environment of the go command; nil means os.Environ().
	Env []string
}

// File is one generated .tars file.
type File struct {
	Module string // the TARS module it declares
	Name   string // the file name: Module + ".tars"
	Data   []byte // the IDL text
}

// Error is one definition that TARS IDL cannot express, or a package that
// does not load.
type Error struct {
	Pos  token.Position // where: file (relative to Config.Dir when inside it) and line
	What string         // the Go declaration or field at fault, e.g. "userapi.UserInfo.Age"
	Msg  string         // why
}

// Error formats the error as "file:line: What: Msg".
func (e *Error) Error() string {
	var b strings.Builder
	if e.Pos.Filename != "" {
		fmt.Fprintf(&b, "%s:%d: ", e.Pos.Filename, e.Pos.Line)
	}
	if e.What != "" {
		b.WriteString(e.What)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is the list of everything wrong with the definitions, sorted by
// position. Export returns it (as its error) instead of a partial output.
type Errors []*Error

// Error lists the errors, one a line.
func (l Errors) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// loadMode is what Export needs of every package it reads.
const loadMode = packages.NeedName | packages.NeedFiles | packages.NeedSyntax |
	packages.NeedTypes | packages.NeedTypesInfo | packages.NeedImports

// maxLoads bounds the rounds of loading: each round adds the packages
// whose declarations the previous one found to be needed.
const maxLoads = 8

// Export loads the packages matched by patterns (as the go command takes
// them: "./example/userservice/...", an import path, a directory) and
// returns one .tars file per TARS module, sorted by module name: the
// services declared in those packages, the services their endpoints belong
// to, and every struct and enum reachable from them (from other packages
// too, each in its own module). On any problem it returns no file and an
// error, an Errors value when the definitions are at fault.
func Export(cfg Config, patterns ...string) ([]File, error) {
	if len(patterns) == 0 {
		return nil, errors.New("idl: no package patterns")
	}
	if cfg.Module != "" {
		if msg := checkModuleName(cfg.Module); msg != "" {
			return nil, fmt.Errorf("idl: module name %q: %s", cfg.Module, msg)
		}
	}
	dir := cfg.Dir
	if dir == "" {
		dir = "."
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	var roots map[string]bool // import paths of the packages the patterns match
	var extra []string        // packages loaded for their declarations
	for range maxLoads {
		pcfg := &packages.Config{Mode: loadMode, Dir: dir, Env: cfg.Env}
		pkgs, err := packages.Load(pcfg, append(slices.Clone(patterns), extra...)...)
		if err != nil {
			return nil, fmt.Errorf("idl: %w", err)
		}
		if roots == nil {
			roots = map[string]bool{}
			for _, p := range pkgs {
				roots[p.PkgPath] = true
			}
			if len(roots) == 0 {
				return nil, fmt.Errorf("idl: %s matched no packages", strings.Join(patterns, " "))
			}
		}
		if errs := loadErrors(pkgs, absDir); len(errs) > 0 {
			return nil, errs
		}
		a := newAnalyzer(cfg, absDir, pkgs, roots)
		a.run()
		if len(a.need) > 0 {
			before := len(extra)
			for p := range a.need {
				if !slices.Contains(extra, p) {
					extra = append(extra, p)
				}
			}
			if len(extra) == before {
				return nil, fmt.Errorf("idl: could not load the declarations of %v", slices.Sorted(maps.Keys(a.need)))
			}
			slices.Sort(extra)
			continue
		}
		return a.files()
	}
	return nil, fmt.Errorf("idl: declarations still missing after loading %d rounds of packages: %v", maxLoads, extra)
}

// loadErrors collects the errors of packages that did not load or
// type-check: Export reads only code that compiles.
func loadErrors(pkgs []*packages.Package, dir string) Errors {
	var errs Errors
	seen := map[string]bool{}
	// The type checker's errors, when there are any, say it best; the go
	// command's list errors repeat them.
	typeErrs := false
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			typeErrs = typeErrs || e.Kind != packages.ListError
		}
	})
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			if typeErrs && e.Kind == packages.ListError {
				continue
			}
			if seen[e.Error()] {
				continue
			}
			seen[e.Error()] = true
			pe := &Error{Msg: e.Msg}
			if file, line, ok := splitPos(e.Pos); ok {
				pe.Pos = token.Position{Filename: relPath(dir, file), Line: line}
			} else if e.Pos != "" && e.Pos != "-" {
				pe.Msg = e.Pos + ": " + e.Msg
			}
			if pe.Pos.Filename == "" {
				pe.What = p.PkgPath
			}
			errs = append(errs, pe)
		}
	})
	sortErrors(errs)
	return errs
}

// splitPos splits a go/packages position, "file:line:col" or "file:line".
func splitPos(pos string) (string, int, bool) {
	i := strings.LastIndexByte(pos, ':')
	if i < 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(pos[i+1:])
	if err != nil {
		return "", 0, false
	}
	rest := pos[:i]
	if j := strings.LastIndexByte(rest, ':'); j >= 0 {
		if m, err := strconv.Atoi(rest[j+1:]); err == nil {
			return rest[:j], m, true
		}
	}
	return rest, n, true
}

// relPath returns file relative to dir when it lies inside dir, with
// slashes, so that messages and generated headers do not depend on where
// the tree is checked out.
func relPath(dir, file string) string {
	if rel, err := filepath.Rel(dir, file); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(file)
}

func sortErrors(errs Errors) {
	slices.SortStableFunc(errs, func(a, b *Error) int {
		if c := strings.Compare(a.Pos.Filename, b.Pos.Filename); c != 0 {
			return c
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line - b.Pos.Line
		}
		if c := strings.Compare(a.What, b.What); c != 0 {
			return c
		}
		return strings.Compare(a.Msg, b.Msg)
	})
}
