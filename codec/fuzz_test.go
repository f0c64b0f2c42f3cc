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
