package interop

import (
	"bytes"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// tars2goArgs are the arguments of the //go:generate line in doc.go, without
// -outdir.
var tars2goArgs = []string{"-module=github.com/gotars/tars/interop", "testdata/corpus.tars", "testdata/user.tars"}

// TestGeneratedFresh re-runs tars2go (`go tool tars2go`, the version pinned in
// go.mod) into a temporary directory and checks that the committed gen/ is
// exactly its output: the differential tests run against what tars2go really
// generates from testdata/*.tars, not against stale or hand-edited code.
func TestGeneratedFresh(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to run tars2go: %v", err)
	}
	out := t.TempDir()
	cmd := exec.Command(goBin, append([]string{"tool", "tars2go", "-outdir=" + out}, tars2goArgs...)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go tool tars2go: %v\n%s", err, msg)
	}
	compareTrees(t, out, "gen", "testdata/*.tars")
}

// compareTrees reports every difference between the files tars2go just
// wrote under fresh and those committed under dir (generated from source).
func compareTrees(t *testing.T, freshDir, dir, source string) {
	t.Helper()
	fresh := readTree(t, freshDir)
	committed := readTree(t, dir)
	if len(fresh) == 0 {
		t.Fatal("tars2go wrote nothing")
	}
	for name, want := range fresh {
		got, ok := committed[name]
		switch {
		case !ok:
			t.Errorf("%s/%s is missing; run go generate", dir, name)
		case !bytes.Equal(got, want):
			t.Errorf("%s/%s differs from tars2go's output; run go generate", dir, name)
		}
	}
	for name := range committed {
		if _, ok := fresh[name]; !ok {
			t.Errorf("%s/%s is not generated from %s; delete it", dir, name, source)
		}
	}
	t.Logf("%s/ matches tars2go's output: %v", dir, slices.Sorted(maps.Keys(fresh)))
}

// readTree returns the files under dir by slash-separated relative path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
