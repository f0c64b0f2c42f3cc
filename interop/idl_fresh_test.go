package interop

import (
	"bytes"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// idlGenerateLines returns the //go:generate commands of idl_generate.go,
// split into words: the tests run exactly what `go generate` runs.
func idlGenerateLines(t *testing.T) [][]string {
	t.Helper()
	src, err := os.ReadFile("idl_generate.go")
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]string
	for l := range strings.Lines(string(src)) {
		if rest, ok := strings.CutPrefix(l, "//go:generate "); ok {
			lines = append(lines, strings.Fields(rest))
		}
	}
	if len(lines) != 3 {
		t.Fatalf("idl_generate.go has %d //go:generate lines, want 3", len(lines))
	}
	return lines
}

func goCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed: %v", err)
	}
	return exec.Command(goBin, args...)
}

// TestIDLFresh proves the chain Go definitions → idl-export → .tars →
// tars2go → idlgen/ is what is committed:
//
//   - idl-export -check finds every file in testdata/idl/ up to date with
//     the Go definitions (the example UserService, idl/testdata/golden);
//   - testdata/idl/ holds no other .tars file;
//   - tars2go (the pinned `go tool`) run on those files into a temporary
//     directory writes exactly the committed idlgen/.
//
// So the tests that compile against idlgen/ test the code generated from
// the IDL that idl-export writes now.
func TestIDLFresh(t *testing.T) {
	lines := idlGenerateLines(t)
	exported := map[string][]byte{}
	for n, l := range lines[:2] {
		args := slices.Clone(l[1:]) // after "go"
		i := slices.Index(args, "-o")
		if i < 0 || args[i+1] != "interop/testdata/idl" {
			t.Fatalf("unexpected idl-export line %v", l)
		}
		if n == 0 {
			// The CI mode: -check exits 0 when the files are up to date.
			args[i] = "-check"
			if out, err := goCommand(t, args...).CombinedOutput(); err != nil {
				t.Errorf("go %s: %v\n%s(run go generate in interop/)", strings.Join(args, " "), err, out)
			}
		}
		tmp := t.TempDir()
		args[i], args[i+1] = "-o", tmp
		if out, err := goCommand(t, args...).CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		for name, data := range readTree(t, tmp) {
			exported[name] = data
		}
	}
	committed, err := filepath.Glob("testdata/idl/*.tars")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range committed {
		if _, ok := exported[filepath.Base(f)]; !ok {
			t.Errorf("%s is not written by idl-export; delete it", f)
		}
	}
	for name, want := range exported {
		got, err := os.ReadFile(filepath.Join("testdata/idl", name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("testdata/idl/%s is not what idl-export writes now; run go generate", name)
		}
	}
	t.Logf("testdata/idl/ is up to date: %v", slices.Sorted(maps.Keys(exported)))

	// tars2go writes the import paths of included modules as -module plus
	// -outdir, so it runs in a scratch copy of this directory's layout with
	// the same relative -outdir.
	tars2go := slices.Clone(lines[2][1:])
	if !slices.Contains(tars2go, "-outdir=idlgen") {
		t.Fatalf("unexpected tars2go line %v", lines[2])
	}
	scratch := t.TempDir()
	if err := os.MkdirAll(filepath.Join(scratch, "testdata/idl"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range exported {
		if err := os.WriteFile(filepath.Join(scratch, "testdata/idl", name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The tars2go that go.mod pins (`go tool tars2go`), built into the
	// scratch directory.
	bin := filepath.Join(scratch, "tars2go")
	if msg, err := goCommand(t, "build", "-o", bin, "github.com/TarsCloud/TarsGo/tars/tools/tars2go").CombinedOutput(); err != nil {
		t.Fatalf("building tars2go: %v\n%s", err, msg)
	}
	cmd := exec.Command(bin, tars2go[2:]...) // after "tool tars2go"
	cmd.Dir = scratch
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tars2go %s: %v\n%s", strings.Join(tars2go[2:], " "), err, msg)
	}
	compareTrees(t, filepath.Join(scratch, "idlgen"), "idlgen", "testdata/idl/*.tars")
}
