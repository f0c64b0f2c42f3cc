package codec_test

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gotars/tars/codec"
)

func TestReadBackEveryType(t *testing.T) {
	var w codec.Writer
	w.WriteBool(0, true)
	w.WriteInt8(1, -5)
	w.WriteInt16(2, -300)
	w.WriteInt32(3, 70000)
	w.WriteInt64(4, math.MinInt64)
	w.WriteFloat32(5, 2.5)
	w.WriteFloat64(6, math.Pi)
	w.WriteString(7, strings.Repeat("z", 300))
	w.WriteBytes(8, []byte("raw"))
	w.WriteMapHeader(9, 2)
	w.WriteString(0, "a")
	w.WriteString(1, "1")
	w.WriteString(0, "b")
	w.WriteString(1, "2")
	w.WriteInt32(200, 9)

	r := codec.NewReader(w.Bytes())
	mustInt := func(v int64, err error) int64 {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := mustInt(r.Int64(0, true)); v != 1 {
		t.Errorf("bool: %d", v)
	}
	if v, err := r.Int8(1, true); err != nil || v != -5 {
		t.Errorf("int8: %d %v", v, err)
	}
	if v, err := r.Int16(2, true); err != nil || v != -300 {
		t.Errorf("int16: %d %v", v, err)
	}
	if v, err := r.Int32(3, true); err != nil || v != 70000 {
		t.Errorf("int32: %d %v", v, err)
	}
	if v := mustInt(r.Int64(4, true)); v != math.MinInt64 {
		t.Errorf("int64: %d", v)
	}
	h, found, err := r.SkipTo(5)
	if err != nil || !found {
		t.Fatal(found, err)
	}
	if f, err := r.FloatBody(h); err != nil || f != 2.5 {
		t.Errorf("float: %v %v", f, err)
	}
	h, _, _ = r.SkipTo(6)
	if d, err := r.DoubleBody(h); err != nil || d != math.Pi {
		t.Errorf("double: %v %v", d, err)
	}
	if s, err := r.String(7, true); err != nil || len(s) != 300 {
		t.Errorf("string4: %d %v", len(s), err)
	}
	if b, err := r.Bytes(8, true); err != nil || string(b) != "raw" {
		t.Errorf("bytes: %q %v", b, err)
	}
	if m, err := r.StringMap(9, true); err != nil || m["a"] != "1" || m["b"] != "2" {
		t.Errorf("map: %v %v", m, err)
	}
	// An optional field that is absent reads as zero; a required one fails.
	if v, err := r.Int32(150, false); err != nil || v != 0 {
		t.Errorf("absent optional: %d %v", v, err)
	}
	if _, err := r.Int32(199, true); !errors.Is(err, codec.ErrRequiredMissing) {
		t.Errorf("absent require: %v", err)
	}
	if v, err := r.Int32(200, true); err != nil || v != 9 {
		t.Errorf("tag 200: %d %v", v, err)
	}
}

func TestNarrowerWidthsReadIntoWiderFields(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 127, -128, 128, -129, 32767, -32768, 32768, math.MaxInt32, math.MinInt32} {
		var w codec.Writer
		w.WriteInt64(0, v)
		got, err := codec.NewReader(w.Bytes()).Int64(0, true)
		if err != nil || got != v {
			t.Errorf("%d: got %d, %v", v, got, err)
		}
	}
}

func TestWiderWireIntegerIsTypeMismatch(t *testing.T) {
	var w codec.Writer
	w.WriteInt32(0, 70000) // INT4
	_, err := codec.NewReader(w.Bytes()).Int16(0, true)
	var ce *codec.Error
	if !errors.As(err, &ce) || !errors.Is(err, codec.ErrTypeMismatch) {
		t.Fatalf("want type mismatch, got %v", err)
	}
	if ce.Tag != 0 || ce.Found != "INT4" || ce.Expected != "ZERO_TAG|INT1|INT2" {
		t.Fatalf("error fields: %+v", ce)
	}
}

// TestHostileInput feeds inputs that claim far more than they hold: each must
// fail fast with a typed error and allocate almost nothing.
func TestHostileInput(t *testing.T) {
	deep := bytes.Repeat([]byte{0x0A}, 100000) // 100,000 nested STRUCT_BEGINs
	deepLists := bytes.Repeat([]byte{0x09, 0x00, 0x01}, 50000)
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"list claims 2^31-1 elements", []byte{0x09, 0x02, 0x7f, 0xff, 0xff, 0xff, 0x0c, 0x0c, 0x0c, 0x0c}, codec.ErrTooLong},
		{"map claims 2^31-1 entries", []byte{0x08, 0x02, 0x7f, 0xff, 0xff, 0xff, 0x0c, 0x1c, 0x0c, 0x1c}, codec.ErrTooLong},
		{"string claims 4 GiB", []byte{0x07, 0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c', 'd', 'e'}, codec.ErrTooLong},
		{"simple list claims 2 GiB", []byte{0x0d, 0x00, 0x02, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3}, codec.ErrTooLong},
		{"negative list length", []byte{0x09, 0x00, 0xff}, codec.ErrTooLong},
		{"100,000 nested structs", deep, codec.ErrTooDeep},
		{"50,000 nested lists", deepLists, codec.ErrTooDeep},
		{"truncated int4", []byte{0x02, 0x00, 0x01}, codec.ErrTruncated},
		{"truncated extended tag", []byte{0xf2}, codec.ErrTruncated},
		{"invalid type 14", []byte{0x0e}, codec.ErrInvalidType},
		{"simple list without byte head", []byte{0x0d, 0x02, 0x00}, codec.ErrMalformed},
		{"length with nonzero tag", []byte{0x09, 0x10, 0x01, 0x0c}, codec.ErrMalformed},
		{"unterminated struct", []byte{0x0a, 0x0c, 0x1c}, codec.ErrTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			allocs := testing.AllocsPerRun(10, func() {
				err = codec.NewReader(c.in).SkipField()
			})
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			var ce *codec.Error
			if !errors.As(err, &ce) || ce.Offset < 0 || ce.Offset > len(c.in) {
				t.Fatalf("not a *codec.Error with a sane offset: %#v", err)
			}
			if allocs > 4 {
				t.Fatalf("%v allocations", allocs)
			}
		})
	}
}

func TestLimitsAreConfigurable(t *testing.T) {
	var w codec.Writer
	w.WriteString(0, "hello")
	r := codec.NewReader(w.Bytes())
	r.SetLimits(codec.Limits{MaxBytes: 4})
	if _, err := r.String(0, true); !errors.Is(err, codec.ErrTooLong) {
		t.Fatalf("MaxBytes not enforced: %v", err)
	}

	w.Reset()
	w.WriteListHeader(0, 3)
	for range 3 {
		w.WriteInt32(0, 1)
	}
	r = codec.NewReader(w.Bytes())
	r.SetLimits(codec.Limits{MaxElements: 2})
	if err := r.SkipField(); !errors.Is(err, codec.ErrTooLong) {
		t.Fatalf("MaxElements not enforced: %v", err)
	}

	nested := []byte{0x0a, 0x0a, 0x0a, 0x0b, 0x0b, 0x0b}
	r = codec.NewReader(nested)
	r.SetLimits(codec.Limits{MaxDepth: 2})
	if err := r.SkipField(); !errors.Is(err, codec.ErrTooDeep) {
		t.Fatalf("MaxDepth not enforced: %v", err)
	}
	r = codec.NewReader(nested)
	r.SetLimits(codec.Limits{MaxDepth: 3})
	if err := r.SkipField(); err != nil {
		t.Fatalf("depth 3 within limit 3: %v", err)
	}
}

func TestSkipToStopsAtLargerTagAndStructEnd(t *testing.T) {
	var w codec.Writer
	w.WriteInt32(1, 5)
	w.WriteListHeader(2, 1) // skipped on the way to tag 3
	w.WriteStructBegin(0)
	w.WriteString(0, "x")
	w.WriteStructEnd()
	w.WriteInt32(4, 6)
	r := codec.NewReader(w.Bytes())
	if _, found, err := r.SkipTo(3); found || err != nil {
		t.Fatalf("tag 3 should be absent: %v %v", found, err)
	}
	if v, err := r.Int32(4, true); err != nil || v != 6 {
		t.Fatalf("tag 4 after a failed SkipTo: %d %v", v, err)
	}
}

func TestListOfBytesReadsAsBytes(t *testing.T) {
	var w codec.Writer
	w.WriteListHeader(0, 3)
	w.WriteInt8(0, 1)
	w.WriteInt8(0, 0)
	w.WriteInt8(0, -1)
	b, err := codec.NewReader(w.Bytes()).Bytes(0, true)
	if err != nil || !bytes.Equal(b, []byte{1, 0, 0xff}) {
		t.Fatalf("%v %v", b, err)
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := codec.NewReader([]byte{0x16, 0x05, 'a'}).String(1, true)
	want := "tars: length out of bounds: tag 1 expected string within 1 bytes, found length 5 at offset 2"
	if err == nil || err.Error() != want {
		t.Fatalf("got %q\nwant %q", err, want)
	}
}
