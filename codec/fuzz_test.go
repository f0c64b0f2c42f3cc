package codec_test

import (
	"testing"

	"github.com/gotars/tars/codec"
)

func addSeeds(f *testing.F) {
	for _, c := range goldenCases {
		var w codec.Writer
		c.write(&w)
		f.Add(w.Bytes())
	}
	f.Add([]byte{0x09, 0x02, 0x7f, 0xff, 0xff, 0xff, 0x0c})
	f.Add([]byte{0x0a, 0x0a, 0x0a, 0x0b})
}

// FuzzSkip: skipping arbitrary input never panics, always makes progress or
// fails with a *codec.Error, and never reads past the input.
func FuzzSkip(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		r := codec.NewReader(in)
		for r.Remaining() > 0 {
			before := r.Offset()
			if err := r.SkipField(); err != nil {
				if _, ok := err.(*codec.Error); !ok {
					t.Fatalf("untyped error %T: %v", err, err)
				}
				return
			}
			if r.Offset() <= before || r.Offset() > len(in) {
				t.Fatalf("offset went from %d to %d of %d", before, r.Offset(), len(in))
			}
		}
	})
}

// FuzzReader drives the tag-addressed and body readers over arbitrary input.
func FuzzReader(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		r := codec.NewReader(in)
		for tag := uint8(0); tag < 20 && r.Remaining() > 0; tag++ {
			h, found, err := r.SkipTo(tag)
			if err != nil || !found {
				continue
			}
			switch h.Type {
			case codec.String1, codec.String4:
				_, err = r.StringBody(h)
			case codec.SimpleList:
				_, err = r.BytesBody(h)
			case codec.Map:
				_, err = r.StringMapBody(h)
			case codec.Float:
				_, err = r.FloatBody(h)
			case codec.Double:
				_, err = r.DoubleBody(h)
			case codec.ZeroTag, codec.Int1, codec.Int2, codec.Int4, codec.Int8:
				_, err = r.IntBody(h, codec.Int8)
			default:
				err = r.Skip(h)
			}
			if err != nil {
				if _, ok := err.(*codec.Error); !ok {
					t.Fatalf("untyped error %T: %v", err, err)
				}
				return
			}
		}
	})
}

// FuzzTryMethods checks the fast paths against the general methods: where a
// Try method succeeds, the general one gives the same value and position;
// where it declines, it has consumed nothing.
func FuzzTryMethods(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		fast, slow := codec.NewReader(in), codec.NewReader(in)
		for range 64 {
			start := fast.Offset()
			h, ok := fast.TryHead()
			hs, err := slow.ReadHead()
			if !ok {
				if fast.Offset() != start {
					t.Fatal("TryHead declined but consumed")
				}
				return
			}
			if err != nil || h != hs || fast.Offset() != slow.Offset() {
				t.Fatalf("TryHead %v at %d, ReadHead %v at %d, %v", h, fast.Offset(), hs, slow.Offset(), err)
			}
			start = fast.Offset()
			switch h.Type {
			case codec.ZeroTag, codec.Int1, codec.Int2, codec.Int4, codec.Int8:
				v, ok := fast.TryIntBody(h.Type, codec.Int4)
				vs, err := slow.IntBody(h, codec.Int4)
				if ok != (err == nil) || ok && v != vs {
					t.Fatalf("TryIntBody %d %v, IntBody %d %v", v, ok, vs, err)
				}
				if !ok {
					if fast.Offset() != start {
						t.Fatal("a Try method declined but consumed")
					}
					return
				}
			case codec.Float, codec.Double:
				n := 4
				if h.Type == codec.Double {
					n = 8
				}
				_, ok := fast.TryFixedBody(n)
				err := slow.Skip(h)
				if ok != (err == nil) {
					t.Fatalf("TryFixedBody %v, Skip %v", ok, err)
				}
				if !ok {
					if fast.Offset() != start {
						t.Fatal("a Try method declined but consumed")
					}
					return
				}
			case codec.String1:
				b, ok := fast.TryString1Body(h.Type)
				bs, err := slow.StringBytesBody(h)
				if ok != (err == nil) || ok && string(b) != string(bs) {
					t.Fatalf("TryString1Body %q %v, StringBytesBody %q %v", b, ok, bs, err)
				}
				if !ok {
					if fast.Offset() != start {
						t.Fatal("a Try method declined but consumed")
					}
					return
				}
			default:
				return
			}
			if fast.Offset() != slow.Offset() {
				t.Fatalf("positions differ: %d vs %d", fast.Offset(), slow.Offset())
			}
		}
	})
}
