package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const root = "../.." // the module root, where the example and testdata live

// cmd runs the command with args and returns its exit code and output.
func cmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestStdout(t *testing.T) {
	code, out, errOut := cmd(t, "-C", root, "./example/userservice/...")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "module UserService\n") || !strings.Contains(out, "int createUser(UserInfo userInfo, out UserInfo result);") {
		t.Errorf("unexpected output:\n%s", out)
	}
}

func TestOutDirAndCheck(t *testing.T) {
	dir := t.TempDir()
	pkgs := "./idl/testdata/golden/multi/api"
	if code, _, errOut := cmd(t, "-C", root, pkgs); code != exitError || !strings.Contains(errOut, "2 modules (Api, common); write them with -o DIR") {
		t.Errorf("two modules to stdout: exit %d, %q", code, errOut)
	}
	if code, _, errOut := cmd(t, "-C", root, "-o", dir, pkgs); code != 0 {
		t.Fatalf("-o: exit %d: %s", code, errOut)
	}
	for _, name := range []string{"Api.tars", "common.tars"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(root, "idl/testdata/golden/multi/want", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the golden file", name)
		}
	}

	// Up to date: exit 0, for the directory and for each file.
	if code, _, errOut := cmd(t, "-C", root, "-check", dir, pkgs); code != 0 {
		t.Errorf("-check DIR: exit %d: %s", code, errOut)
	}
	if code, _, errOut := cmd(t, "-C", root, "--check", filepath.Join(dir, "common.tars"), pkgs); code != 0 {
		t.Errorf("--check FILE: exit %d: %s", code, errOut)
	}

	// Out of date: exit 1, naming the file and the line.
	api := filepath.Join(dir, "Api.tars")
	data, _ := os.ReadFile(api)
	edited := strings.Replace(string(data), "0 require string name;", "0 require string title;", 1)
	if err := os.WriteFile(api, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := cmd(t, "-C", root, "-check", dir, pkgs)
	if code != exitOutdated || !strings.Contains(errOut, "Api.tars is out of date") || !strings.Contains(errOut, "title") {
		t.Errorf("-check of an edited file: exit %d, %q", code, errOut)
	}
	if code, _, _ := cmd(t, "-C", root, "-check", api, pkgs); code != exitOutdated {
		t.Errorf("-check FILE of an edited file: exit %d", code)
	}

	// Missing: exit 1.
	if err := os.Remove(filepath.Join(dir, "common.tars")); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := cmd(t, "-C", root, "-check", dir, pkgs); code != exitOutdated || !strings.Contains(errOut, "common.tars is missing") {
		t.Errorf("-check with a file missing: exit %d, %q", code, errOut)
	}
	if code, _, _ := cmd(t, "-C", root, "-check", filepath.Join(dir, "none.tars"), pkgs); code != exitOutdated {
		t.Errorf("-check of a missing file: exit %d", code)
	}
	// A file named after no module, of several: a usage error.
	other := filepath.Join(dir, "Other.tars")
	if err := os.WriteFile(other, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := cmd(t, "-C", root, "-check", other, pkgs); code != exitError {
		t.Errorf("-check of a file of no module: exit %d", code)
	}
}

func TestErrors(t *testing.T) {
	code, out, errOut := cmd(t, "-C", root, "-all", "./idl/testdata/golden/badtypes")
	if code != exitError || out != "" {
		t.Errorf("exit %d, stdout %q", code, out)
	}
	if !strings.Contains(errOut, "idl-export: idl/testdata/golden/badtypes/badtypes.go:13: badtypes.Widths.Int: Go int has no fixed TARS width") {
		t.Errorf("stderr does not name the file, line and field:\n%s", errOut)
	}
	// Nothing is written with -o when there are errors.
	dir := t.TempDir()
	if code, _, _ := cmd(t, "-C", root, "-all", "-o", dir, "./idl/testdata/golden/badtypes"); code != exitError {
		t.Errorf("-o with errors: exit %d", code)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("-o wrote %d files despite errors", len(entries))
	}
}

func TestUsage(t *testing.T) {
	if code, _, _ := cmd(t); code != exitError {
		t.Errorf("no packages: exit %d", code)
	}
	if code, _, _ := cmd(t, "-o", "x", "-check", "y", "."); code != exitError {
		t.Errorf("-o with -check: exit %d", code)
	}
	if code, _, _ := cmd(t, "-nosuchflag", "."); code != exitError {
		t.Errorf("bad flag: exit %d", code)
	}
	if code, _, errOut := cmd(t, "-h"); code != 0 || !strings.Contains(errOut, "usage: idl-export") {
		t.Errorf("-h: exit %d, %q", code, errOut)
	}
	// Each flag is listed with the argument name the usage line gives it.
	if _, _, errOut := cmd(t, "-h"); !strings.Contains(errOut, "  -o DIR\n") || !strings.Contains(errOut, "  -check PATH\n") ||
		!strings.Contains(errOut, "  -module NAME\n") || !strings.Contains(errOut, "  -C DIR\n") {
		t.Errorf("-h does not show -o DIR, -check PATH, -module NAME and -C DIR:\n%s", errOut)
	}
	if code, _, errOut := cmd(t, "-C", root, "-module", "Greeter", "./idl/testdata/golden/mainpkg"); code != 0 {
		t.Errorf("-module: exit %d: %s", code, errOut)
	}
}
