package idl_test

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gotars/tars/idl"
)

// TestUserServiceMatchesSeed exports the example UserService and parses
// it and the seed's user.tars (interop/testdata/user.tars): the same
// module, enums, structs (field ids, require/optional, types, names,
// defaults) and interfaces (method names, return types, parameters in
// order, in and out, with their names). Only comments and layout may
// differ.
func TestUserServiceMatchesSeed(t *testing.T) {
	files, err := idl.Export(idl.Config{Dir: "../example/userservice"}, "./...")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Name != "UserService.tars" {
		t.Fatalf("exported %v, want UserService.tars alone", names(files))
	}
	compareWithSeed(t, files[0].Data, "../interop/testdata/user.tars")
}

// TestCorpusMatchesSeed exports the Go mirror of the differential-test
// corpus (testdata/golden/corpus, with -all) and compares it with
// interop/testdata/corpus.tars the same way: every TARS type, defaults
// (enum defaults by value), tags up to 255.
func TestCorpusMatchesSeed(t *testing.T) {
	files, err := idl.Export(idl.Config{Dir: "testdata/golden/corpus", All: true}, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Name != "Corpus.tars" {
		t.Fatalf("exported %v, want Corpus.tars alone", names(files))
	}
	compareWithSeed(t, files[0].Data, "../interop/testdata/corpus.tars")
}

func names(files []idl.File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Name)
	}
	return out
}

func compareWithSeed(t *testing.T, exported []byte, seedPath string) {
	t.Helper()
	seedSrc, err := os.ReadFile(seedPath)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := parseTars(seedSrc, true) // the seeds use some types before declaring them
	if err != nil {
		t.Fatalf("%s: %v", seedPath, err)
	}
	got, err := parseTars(exported) // ours declares every type before its use
	if err != nil {
		t.Fatalf("exported IDL: %v\n%s", err, exported)
	}
	if d := diffTars(seed, got); d != "" {
		t.Errorf("the exported IDL differs from %s:\n%s", seedPath, d)
	}
	var counts []string
	for name, m := range got.Modules {
		n := 0
		for _, ms := range m.Interfaces {
			n += len(ms)
		}
		counts = append(counts, fmt.Sprintf("module %s: %d enums, %d structs, %d interfaces with %d methods",
			name, len(m.Enums), len(m.Structs), len(m.Interfaces), n))
	}
	t.Logf("equivalent to %s: %s", seedPath, strings.Join(counts, "; "))
}

// diffTars lists the declarations in which two parsed files differ.
func diffTars(want, got *tarsFile) string {
	var b strings.Builder
	for _, mod := range union(want.Modules, got.Modules) {
		w, g := want.Modules[mod], got.Modules[mod]
		if w == nil || g == nil {
			fmt.Fprintf(&b, "module %s: only in one of them\n", mod)
			continue
		}
		diffDecls(&b, "enum", mod, w.Enums, g.Enums)
		diffDecls(&b, "struct", mod, w.Structs, g.Structs)
		diffDecls(&b, "interface", mod, w.Interfaces, g.Interfaces)
	}
	return b.String()
}

func diffDecls[V any](b *strings.Builder, kind, mod string, want, got map[string]V) {
	for _, name := range union(want, got) {
		w, wok := want[name]
		g, gok := got[name]
		switch {
		case !wok:
			fmt.Fprintf(b, "%s %s::%s: not in the seed\n", kind, mod, name)
		case !gok:
			fmt.Fprintf(b, "%s %s::%s: missing\n", kind, mod, name)
		case !reflect.DeepEqual(w, g):
			fmt.Fprintf(b, "%s %s::%s:\n  seed     %+v\n  exported %+v\n", kind, mod, name, w, g)
		}
	}
}

func union[V any](a, b map[string]V) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// TestParserCatchesDifferences checks that the comparison above is not
// blind: small edits of the seed, each a real wire difference, are found.
func TestParserCatchesDifferences(t *testing.T) {
	seedSrc, err := os.ReadFile("../interop/testdata/user.tars")
	if err != nil {
		t.Fatal(err)
	}
	seed, err := parseTars(seedSrc, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, edit := range [][2]string{
		{"3 optional int age;", "3 optional long age;"},
		{"3 optional int age;", "3 require int age;"},
		{"3 optional int age;", "7 optional int age;"},
		{"3 optional int age;", "3 optional int years;"},
		{"3 optional int age;", "3 optional int age = 1;"},
		{"3 optional int age;", "3 optional unsigned int age;"},
		{"int createUser(UserInfo userInfo, out UserInfo result);", "int createUser(UserInfo userInfo, UserInfo result);"},
		{"int createUser(UserInfo userInfo, out UserInfo result);", "void createUser(UserInfo userInfo, out UserInfo result);"},
		{"int createUser(UserInfo userInfo, out UserInfo result);", "int createUser(out UserInfo result, UserInfo userInfo);"},
		{"UserInfo getUser(int userId);", "UserInfo getUser(int id);"},
		{"vector<UserInfo> batchGetUsers(vector<int> userIds);", "vector<UserInfo> batchGetUsers(vector<long> userIds);"},
		{"6 optional map<string, string> metadata;", "6 optional map<string, vector<string>> metadata;"},
	} {
		edited := strings.Replace(string(seedSrc), edit[0], edit[1], 1)
		if edited == string(seedSrc) {
			t.Fatalf("edit %q does not apply", edit[0])
		}
		got, err := parseTars([]byte(edited), true)
		if err != nil {
			t.Fatalf("edit %q: %v", edit[1], err)
		}
		if diffTars(seed, got) == "" {
			t.Errorf("edit %q -> %q not detected", edit[0], edit[1])
		}
	}
}
