package idl_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gotars/tars/idl"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenCase is one export of a package under testdata/golden and what it
// must give: the files in want (one <Module>.tars per module), or the
// errors in err, one a line.
type goldenCase struct {
	name     string
	dir      string // under testdata/golden; patterns are relative to it
	patterns []string
	cfg      idl.Config
	want     string // directory of .tars files, relative to dir
	err      string // file of expected errors, relative to dir
}

var goldenCases = []goldenCase{
	// Every Go type, every method shape, defaults, names, comments.
	{name: "types", dir: "types", patterns: []string{"."}, want: "want"},
	// Three packages, two modules: #include, Module::Type, an enum default
	// across modules; the package of shared types is loaded although no
	// pattern names it, and its own service is not exported.
	{name: "multi", dir: "multi", patterns: []string{"./api"}, want: "want"},
	// The same packages all named: the shared package's service is
	// exported too.
	{name: "multi-roots", dir: "multi", patterns: []string{"./..."}, want: "want-roots"},
	// -all: structs no endpoint reaches, without the parameter lists.
	{name: "all", dir: "all", patterns: []string{"."}, cfg: idl.Config{All: true}, want: "want"},
	// -module renames; package main has no usable module name without it.
	{name: "module", dir: "mainpkg", patterns: []string{"."}, cfg: idl.Config{Module: "Greeter"}, want: "want"},
	{name: "main", dir: "mainpkg", patterns: []string{"."}, err: "want.err"},
	// -module over packages of two modules.
	{name: "module-two", dir: "multi", patterns: []string{"./..."}, cfg: idl.Config{Module: "One"}, err: "want-module.err"},
	// The mirror of interop/testdata/corpus.tars.
	{name: "corpus", dir: "corpus", patterns: []string{"."}, cfg: idl.Config{All: true}, want: "want"},
	// Everything TARS IDL cannot express, reported at once.
	{name: "badtypes", dir: "badtypes", patterns: []string{"."}, cfg: idl.Config{All: true}, err: "want.err"},
	{name: "badservices", dir: "badservices", patterns: []string{"./..."}, err: "want.err"},
}

// TestGolden exports each case and compares the result with the golden
// files; -update rewrites them.
func TestGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "golden", c.dir)
			cfg := c.cfg
			cfg.Dir = dir
			files, err := idl.Export(cfg, c.patterns...)
			if c.err != "" {
				if err == nil {
					t.Fatalf("Export succeeded; want the errors in %s", c.err)
				}
				if _, ok := err.(idl.Errors); !ok {
					t.Fatalf("Export: %v (%T), want idl.Errors", err, err)
				}
				if files != nil {
					t.Errorf("Export returned %d files with its errors", len(files))
				}
				golden(t, filepath.Join(dir, c.err), []byte(err.Error()+"\n"))
				return
			}
			if err != nil {
				t.Fatalf("Export: %v", err)
			}
			wantDir := filepath.Join(dir, c.want)
			got := map[string][]byte{}
			for _, f := range files {
				if f.Name != f.Module+".tars" {
					t.Errorf("file %q of module %q", f.Name, f.Module)
				}
				got[f.Name] = f.Data
				golden(t, filepath.Join(wantDir, f.Name), f.Data)
			}
			// The files parse, every type declared before its use.
			if _, err := parseTarsSet(got); err != nil {
				t.Errorf("the output does not parse as TARS IDL: %v", err)
			}
			entries, err := os.ReadDir(wantDir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if _, ok := got[e.Name()]; !ok {
					if *update {
						os.Remove(filepath.Join(wantDir, e.Name()))
						continue
					}
					t.Errorf("%s is not generated any more", filepath.Join(wantDir, e.Name()))
				}
			}
		})
	}
}

// golden compares got with the file path, or writes it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\n%s", path, lineDiff(string(want), string(got)))
	}
}

// lineDiff shows the lines of want missing from got (-) and those of got
// not in want (+), enough to see what changed.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	if b.Len() == 0 {
		return "(the same lines in another order)"
	}
	return b.String()
}

// TestDeterministic exports the same packages several times: the bytes must
// not change (map iteration, parallel loading and the order of files must
// not show).
func TestDeterministic(t *testing.T) {
	var first []idl.File
	for i := range 3 {
		files, err := idl.Export(idl.Config{Dir: "testdata/golden/multi"}, "./...")
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = files
			continue
		}
		if len(files) != len(first) {
			t.Fatalf("run %d: %d files, first run %d", i, len(files), len(first))
		}
		for j := range files {
			if files[j].Name != first[j].Name || !bytes.Equal(files[j].Data, first[j].Data) {
				t.Errorf("run %d: %s differs from the first run", i, files[j].Name)
			}
		}
	}
	// The errors too.
	var firstErr string
	for i := range 3 {
		_, err := idl.Export(idl.Config{Dir: "testdata/golden/badtypes", All: true}, ".")
		if err == nil {
			t.Fatal("badtypes exported")
		}
		if i == 0 {
			firstErr = err.Error()
		} else if err.Error() != firstErr {
			t.Errorf("run %d: the errors differ from the first run", i)
		}
	}
}

func TestExportNoPackages(t *testing.T) {
	if _, err := idl.Export(idl.Config{}); err == nil {
		t.Error("Export without patterns succeeded")
	}
	if _, err := idl.Export(idl.Config{Dir: "testdata/golden/types", Module: "module"}, "."); err == nil || !strings.Contains(err.Error(), "keyword") {
		t.Errorf("-module module: %v, want a keyword error", err)
	}
	// A package without services and without -all exports nothing: an
	// error that says how.
	_, err := idl.Export(idl.Config{Dir: "testdata/golden/corpus"}, ".")
	if err == nil || !strings.Contains(err.Error(), "-all") {
		t.Errorf("corpus without -all: %v, want an error suggesting -all", err)
	}
	// A package that does not compile.
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "go.mod"), "module example.com/broken\n\ngo 1.26\n")
	writeFile(t, filepath.Join(dir, "b.go"), "package broken\n\nvar x int = \"s\"\n")
	_, err = idl.Export(idl.Config{Dir: dir}, ".")
	if err == nil || !strings.Contains(err.Error(), "b.go:3") {
		t.Errorf("broken package: %v, want its compile error at b.go:3", err)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
