package config

import (
	"os"
	"sort"
	"strings"
	"testing"
)

// TestReadmeListsEveryKey keeps README.md complete: every key of the tree
// (map entries as <s>, <o>, <m>) and every TARS key MapTars reads.
func TestReadmeListsEveryKey(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	c := Default()
	c.Servants = map[string]Servant{"<s>": {Methods: map[string]ServantMethod{"<m>": {}}}}
	c.Client.Objects = map[string]Object{"<o>": {Methods: map[string]Method{"<m>": {}}}}
	flat := map[string]leaf{}
	flattenTo(nil, ToMap(c), flat)
	var keys []string
	for k := range flat {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !strings.Contains(doc, "| `"+k+"` |") {
			t.Errorf("README.md has no row for %s", k)
		}
	}
	for _, k := range tarsKeys {
		if !strings.Contains(doc, "`"+k.dom+"<"+k.key+">") {
			t.Errorf("README.md does not name %s<%s>", k.dom, k.key)
		}
	}
	for _, k := range append(adapterKeys, objectKeys...) {
		if !strings.Contains(doc, "`"+k.key+"`") {
			t.Errorf("README.md does not name the adapter/object key %s", k.key)
		}
	}
}
