package reflectcodec_test

import (
	"runtime"
	"testing"

	"github.com/gotars/tars/codec"
	"github.com/gotars/tars/codec/reflectcodec"
)

// FuzzUnmarshal decodes arbitrary input into a type that uses every kind. It
// must never panic, must fail only with typed errors, must allocate no more
// than a small multiple of the input, and whatever decodes must re-encode and
// decode to the same value.
func FuzzUnmarshal(f *testing.F) {
	s := sample()
	seed, err := reflectcodec.Marshal(&s)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte{0x1c})
	f.Add([]byte{0x09, 0x02, 0x7f, 0xff, 0xff, 0xff, 0x0a, 0x0b})
	f.Fuzz(func(t *testing.T, in []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var v Everything
		err := reflectcodec.Unmarshal(in, &v)
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(64*len(in)+64<<10) {
			t.Fatalf("%d bytes allocated for %d bytes of input", alloc, len(in))
		}
		if err != nil {
			if _, ok := err.(*codec.Error); !ok {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		b, err := reflectcodec.Marshal(&v)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var w Everything
		if err := reflectcodec.Unmarshal(b, &w); err != nil {
			t.Fatalf("decode of re-encoded value: %v", err)
		}
		b2, _ := reflectcodec.Marshal(&w)
		if len(b) != len(b2) {
			t.Fatalf("re-encoding is not stable: %d vs %d bytes", len(b), len(b2))
		}
	})
}
