package reflectcodec_test

import (
	"runtime"
	"testing"

	"github.com/gotars/tars/codec"
	"github.com/gotars/tars/codec/reflectcodec"
)

// FuzzUnmarshal decodes arbitrary input into a type that uses every kind. It
// must never panic, must fail only with typed errors, must allocate no more
// than its decode budget (plus a small constant for the Reader and an
// error), and whatever decodes must re-encode and decode to the same value.
//
// The bound is checked twice: with a budget of twice the input and no slack,
// and with Unmarshal's default budget (codec.DefaultBudget).
func FuzzUnmarshal(f *testing.F) {
	s := sample()
	seed, err := reflectcodec.Marshal(&s)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte{0x1c})
	f.Add([]byte{0x09, 0x02, 0x7f, 0xff, 0xff, 0xff, 0x0a, 0x0b})
	f.Add([]byte{0xc9, 0x00, 0xff, 0x06, 0x00, 0x06, 0x00})
	c, err := reflectcodec.For[Everything]()
	if err != nil {
		f.Fatal(err)
	}
	const overhead = 16 << 10 // the Reader, an error and its path, reflect's scratch values
	f.Fuzz(func(t *testing.T, in []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r := codec.NewReader(in)
		r.SetBudget(2 * len(in))
		var tight Everything
		errTight := c.Decode(r, &tight)
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(2*len(in)+overhead) {
			t.Fatalf("%d bytes allocated for %d bytes of input with a budget of %d (%v)", alloc, len(in), 2*len(in), errTight)
		}
		if errTight != nil {
			if _, ok := errTight.(*codec.Error); !ok {
				t.Fatalf("untyped error %T: %v", errTight, errTight)
			}
		}

		runtime.ReadMemStats(&before)
		var v Everything
		err := reflectcodec.Unmarshal(in, &v)
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(codec.DefaultBudget(len(in))+overhead) {
			t.Fatalf("%d bytes allocated for %d bytes of input, budget %d", alloc, len(in), codec.DefaultBudget(len(in)))
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
