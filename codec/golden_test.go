package codec_test

import (
	"bufio"
	"encoding/hex"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/gotars/tars/codec"
)

// goldenCases writes one value per wire type and width boundary. The expected
// bytes live in ../testdata/wire-golden.txt; the interop module checks that
// TarsGo's codec writes exactly the same bytes for every case.
var goldenCases = []struct {
	name  string
	write func(w *codec.Writer)
}{
	{"zero_tag", func(w *codec.Writer) { w.WriteInt32(0, 0) }},
	{"int1_pos", func(w *codec.Writer) { w.WriteInt32(1, 127) }},
	{"int1_neg", func(w *codec.Writer) { w.WriteInt32(2, -128) }},
	{"int2_pos", func(w *codec.Writer) { w.WriteInt32(3, 128) }},
	{"int2_neg", func(w *codec.Writer) { w.WriteInt32(4, -129) }},
	{"int2_max", func(w *codec.Writer) { w.WriteInt16(5, math.MaxInt16) }},
	{"int4_pos", func(w *codec.Writer) { w.WriteInt32(6, 32768) }},
	{"int4_min", func(w *codec.Writer) { w.WriteInt32(7, math.MinInt32) }},
	{"int8_pos", func(w *codec.Writer) { w.WriteInt64(8, math.MaxInt32+1) }},
	{"int8_min", func(w *codec.Writer) { w.WriteInt64(9, math.MinInt64) }},
	{"byte_neg", func(w *codec.Writer) { w.WriteInt8(10, -1) }},
	{"bool_true", func(w *codec.Writer) { w.WriteBool(11, true) }},
	{"bool_false", func(w *codec.Writer) { w.WriteBool(12, false) }},
	{"uint8_max", func(w *codec.Writer) { w.WriteUint8(13, 255) }},
	{"uint16_max", func(w *codec.Writer) { w.WriteUint16(14, 65535) }},
	{"uint32_max", func(w *codec.Writer) { w.WriteUint32(15, math.MaxUint32) }},
	{"float", func(w *codec.Writer) { w.WriteFloat32(0, 1.5) }},
	{"float_zero", func(w *codec.Writer) { w.WriteFloat32(1, 0) }},
	{"double", func(w *codec.Writer) { w.WriteFloat64(2, -2.25) }},
	{"double_zero", func(w *codec.Writer) { w.WriteFloat64(3, 0) }},
	{"string1_empty", func(w *codec.Writer) { w.WriteString(4, "") }},
	{"string1", func(w *codec.Writer) { w.WriteString(5, "tars") }},
	{"string1_255", func(w *codec.Writer) { w.WriteString(6, strings.Repeat("a", 255)) }},
	{"string4_256", func(w *codec.Writer) { w.WriteString(7, strings.Repeat("b", 256)) }},
	{"tag_15", func(w *codec.Writer) { w.WriteInt32(15, 1) }},
	{"tag_16_string", func(w *codec.Writer) { w.WriteString(16, "x") }},
	{"tag_255", func(w *codec.Writer) { w.WriteInt64(255, 1<<40) }},
	{"simple_list", func(w *codec.Writer) { w.WriteBytes(1, []byte{1, 2, 0xff}) }},
	{"simple_list_empty", func(w *codec.Writer) { w.WriteBytes(2, nil) }},
	{"list_int", func(w *codec.Writer) {
		w.WriteListHeader(3, 3)
		w.WriteInt32(0, 0)
		w.WriteInt32(0, 300)
		w.WriteInt32(0, -70000)
	}},
	{"list_empty", func(w *codec.Writer) { w.WriteListHeader(4, 0) }},
	{"map_string_string", func(w *codec.Writer) {
		w.WriteMapHeader(5, 1)
		w.WriteString(0, "k")
		w.WriteString(1, "v")
	}},
	{"struct_nested", func(w *codec.Writer) {
		w.WriteStructBegin(6)
		w.WriteInt32(0, 7)
		w.WriteString(1, "n")
		w.WriteStructEnd()
	}},
	{"list_of_struct", func(w *codec.Writer) {
		w.WriteListHeader(7, 2)
		for i := int32(1); i <= 2; i++ {
			w.WriteStructBegin(0)
			w.WriteInt32(0, i)
			w.WriteStructEnd()
		}
	}},
	{"struct_tag_20", func(w *codec.Writer) {
		w.WriteStructBegin(20)
		w.WriteStructEnd()
	}},
}

func readGolden(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("../testdata/wire-golden.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, hexBytes, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("bad golden line %q", line)
		}
		out[name] = hexBytes
	}
	return out
}

func TestGoldenWire(t *testing.T) {
	if os.Getenv("GOTARS_WRITE_GOLDEN") != "" {
		var b strings.Builder
		b.WriteString("# name hex: the bytes TarsGo v1.4.6's codec.Buffer writes for each case\n")
		b.WriteString("# (verified by interop/golden_test.go; regenerate with GOTARS_WRITE_GOLDEN=1)\n")
		for _, c := range goldenCases {
			var w codec.Writer
			c.write(&w)
			b.WriteString(c.name + " " + hex.EncodeToString(w.Bytes()) + "\n")
		}
		if err := os.WriteFile("../testdata/wire-golden.txt", []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	golden := readGolden(t)
	if len(golden) != len(goldenCases) {
		t.Fatalf("golden file has %d cases, test table %d", len(golden), len(goldenCases))
	}
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			var w codec.Writer
			c.write(&w)
			if got := hex.EncodeToString(w.Bytes()); got != golden[c.name] {
				t.Fatalf("wrote %s, golden %s", got, golden[c.name])
			}
			// Every golden value must also skip cleanly and read back.
			r := codec.NewReader(w.Bytes())
			for r.Remaining() > 0 {
				if err := r.SkipField(); err != nil {
					t.Fatalf("skip: %v", err)
				}
			}
		})
	}
}
