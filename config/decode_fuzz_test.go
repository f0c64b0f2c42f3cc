package config

import (
	"encoding/json"
	"errors"
	"os"
	"testing"
)

// FuzzDecode decodes arbitrary JSON documents onto the tree: every error
// is a *KeyError, nothing panics, and what decodes survives ToMap.
func FuzzDecode(f *testing.F) {
	b, err := os.ReadFile("testdata/userservice.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"client":{"objects":{"*":{"methods":{"*":{"retry":{"codes":"1,2"}}}}}}}`))
	f.Add([]byte(`{"servants":{"A":{"tls":[1]}},"log":{"size":"1G"},"server":{"max_conns":1e300}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m map[string]any
		if json.Unmarshal(b, &m) != nil {
			return
		}
		c := Default()
		if err := Decode(m, &c); err != nil {
			for _, e := range flatten(err) {
				var ke *KeyError
				if !errors.As(e, &ke) || ke.Key == "" && len(m) > 0 {
					t.Fatalf("error %v is not a *KeyError naming a key", e)
				}
			}
			return
		}
		_ = c.Validate()
		c2 := Config{}
		if err := Decode(ToMap(c), &c2); err != nil {
			t.Fatalf("ToMap does not decode back: %v", err)
		}
	})
}
