package interop

// lb's string hashes against TarsGo v1.4.6's tars/hash_func.go.

import (
	"math/rand/v2"
	"strings"
	"testing"

	tarsgo "github.com/TarsCloud/TarsGo/tars"

	"github.com/gotars/tars/lb"
)

var lbHashes = []struct {
	name   string
	ours   func(string) uint32
	tarsgo func(string) uint32
}{
	{"HashNew", lb.HashNew, tarsgo.HashNew},
	{"MagicStringHash", lb.HashNew, tarsgo.MagicStringHash},
	{"HashString", lb.HashString, tarsgo.HashString},
	{"Hash", lb.Hash, tarsgo.Hash},
}

func lbHashKeys(r *rand.Rand, n int) []string {
	keys := []string{"", "a", "0", "user:42", "App.Server.Obj", strings.Repeat("x", 1000), "\x00", "\x7f\x01",
		"héllo", "日本語", "\xff\xfe", "a\x80b", "🙂"}
	for range n {
		var b strings.Builder
		for range r.IntN(40) {
			if r.IntN(8) == 0 {
				b.WriteRune(rune(r.IntN(0x11000))) // now and then not ASCII (may be invalid: U+FFFD)
			} else {
				b.WriteByte(byte(r.IntN(128)))
			}
		}
		keys = append(keys, b.String())
	}
	return keys
}

// TestLBHashesAgreeWithTarsGo: HashNew, HashString and Hash equal TarsGo's
// functions of the same names on ASCII keys, non-ASCII keys and invalid
// UTF-8 (both iterate runes).
func TestLBHashesAgreeWithTarsGo(t *testing.T) {
	keys := lbHashKeys(rand.New(rand.NewPCG(3, 0x4a5)), lbCodes()/5)
	for _, h := range lbHashes {
		t.Run(h.name, func(t *testing.T) {
			for _, k := range keys {
				if got, want := h.ours(k), h.tarsgo(k); got != want {
					t.Fatalf("%s(%q) = %d, TarsGo %d", h.name, k, got, want)
				}
			}
		})
	}
}

// FuzzLBHashes: the hashes equal TarsGo's on any string.
func FuzzLBHashes(f *testing.F) {
	for _, k := range lbHashKeys(rand.New(rand.NewPCG(4, 0x4a5)), 20) {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, k string) {
		for _, h := range lbHashes {
			if got, want := h.ours(k), h.tarsgo(k); got != want {
				t.Fatalf("%s(%q) = %d, TarsGo %d", h.name, k, got, want)
			}
		}
	})
}
