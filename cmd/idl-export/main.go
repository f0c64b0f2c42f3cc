// Command idl-export writes the TARS IDL of gotars definitions: one .tars
// file per TARS module, for TARS' official compilers (tars2go, tars2cpp,
// tars2java).
//
// In your own module, add it as a tool once and run it with go tool:
//
//	go get -tool github.com/gotars/tars/cmd/idl-export@latest
//	go tool idl-export -o idl ./api/...
//
// Usage:
//
//	idl-export [-o DIR | -check PATH] [-module NAME] [-all] [-C DIR] PACKAGES...
//
// PACKAGES are package patterns as the go command takes them, such as
// ./example/userservice/... . The command reads their tars.NewService and
// tars.NewEndpoint declarations and struct tags (package idl has the rules)
// and writes every interface, struct and enum they define, with #include
// lines between modules.
//
// Without -o or -check the IDL of a single module goes to standard output.
// -o DIR writes DIR/<Module>.tars for every module. -check PATH generates
// and compares instead of writing: PATH is a .tars file or a directory as
// -o writes it; the command exits 1 when it is out of date, which makes it
// a CI step:
//
//	go tool idl-export -check api/UserService.tars ./api
//
// Errors (definitions TARS cannot express, packages that do not compile)
// name the file, line and Go field; the command then writes nothing and
// exits 2. docs/idl-export.md is the guide.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gotars/tars/idl"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK       = 0
	exitOutdated = 1 // -check found a difference
	exitError    = 2 // bad usage, or definitions that cannot be exported
)

// run is the command: it parses args, exports and writes or checks, and
// returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("idl-export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	outDir := fs.String("o", "", "write one <Module>.tars file per TARS module into `DIR`")
	check := fs.String("check", "", "compare `PATH` (a .tars file, or a directory as -o writes it) with what would be generated; exit 1 when it differs")
	module := fs.String("module", "", "the TARS module `NAME` of the packages' definitions, overriding package names and //tars:module directives")
	all := fs.Bool("all", false, "also export every struct with tars tags and every enum of the packages, not only those their endpoints reach")
	dir := fs.String("C", "", "resolve packages and paths in `DIR` instead of the current directory")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: idl-export [-o DIR | -check PATH] [-module NAME] [-all] [-C DIR] PACKAGES...\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitError
	}
	if *outDir != "" && *check != "" {
		fmt.Fprintln(stderr, "idl-export: -o and -check exclude each other")
		return exitError
	}
	at := func(p string) string {
		if *dir == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(*dir, p)
	}
	files, err := idl.Export(idl.Config{Dir: *dir, Module: *module, All: *all}, fs.Args()...)
	if err != nil {
		fmt.Fprintf(stderr, "idl-export: %s\n", strings.ReplaceAll(err.Error(), "\n", "\nidl-export: "))
		return exitError
	}
	switch {
	case *check != "":
		return checkFiles(at(*check), *check, files, stderr)
	case *outDir != "":
		if err := os.MkdirAll(at(*outDir), 0o755); err != nil {
			fmt.Fprintf(stderr, "idl-export: %v\n", err)
			return exitError
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(at(*outDir), f.Name), f.Data, 0o644); err != nil {
				fmt.Fprintf(stderr, "idl-export: %v\n", err)
				return exitError
			}
		}
		return exitOK
	case len(files) > 1:
		fmt.Fprintf(stderr, "idl-export: the definitions make up %d modules (%s); write them with -o DIR\n", len(files), moduleList(files))
		return exitError
	}
	if _, err := stdout.Write(files[0].Data); err != nil {
		fmt.Fprintf(stderr, "idl-export: %v\n", err)
		return exitError
	}
	return exitOK
}

func moduleList(files []idl.File) string {
	var names []string
	for _, f := range files {
		names = append(names, f.Module)
	}
	return strings.Join(names, ", ")
}

// checkFiles compares the generated files with path (shown to the user as
// name): a directory holding <Module>.tars files, or one .tars file.
func checkFiles(path, name string, files []idl.File, stderr io.Writer) int {
	info, err := os.Stat(path)
	if err != nil {
		fmt.Fprintf(stderr, "idl-export: -check: %v\n", err)
		return exitOutdated
	}
	type pair struct {
		path, name string
		want       []byte
	}
	var pairs []pair
	switch {
	case info.IsDir():
		for _, f := range files {
			pairs = append(pairs, pair{filepath.Join(path, f.Name), filepath.Join(name, f.Name), f.Data})
		}
	case len(files) == 1:
		pairs = append(pairs, pair{path, name, files[0].Data})
	default:
		for _, f := range files {
			if f.Name == filepath.Base(path) {
				pairs = append(pairs, pair{path, name, f.Data})
			}
		}
		if len(pairs) == 0 {
			fmt.Fprintf(stderr, "idl-export: -check %s: the definitions make up modules %s and none is named %s\n", name, moduleList(files), filepath.Base(path))
			return exitError
		}
	}
	code := exitOK
	for _, p := range pairs {
		got, err := os.ReadFile(p.path)
		if err != nil {
			fmt.Fprintf(stderr, "idl-export: %s is missing: %v\n", p.name, err)
			code = exitOutdated
			continue
		}
		if !bytes.Equal(got, p.want) {
			fmt.Fprintf(stderr, "idl-export: %s is out of date: %s\n", p.name, firstDiff(got, p.want))
			code = exitOutdated
		}
	}
	return code
}

// firstDiff describes the first line where have and want differ.
func firstDiff(have, want []byte) string {
	h := strings.Split(string(have), "\n")
	w := strings.Split(string(want), "\n")
	for i := 0; i < len(h) || i < len(w); i++ {
		var hl, wl string
		if i < len(h) {
			hl = h[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if hl != wl || i >= len(h) || i >= len(w) {
			switch {
			case i >= len(h):
				return fmt.Sprintf("line %d: missing %q", i+1, wl)
			case i >= len(w):
				return fmt.Sprintf("line %d: unexpected %q", i+1, hl)
			}
			return fmt.Sprintf("line %d: have %q, want %q", i+1, hl, wl)
		}
	}
	return "the files differ"
}
