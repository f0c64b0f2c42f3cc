package interop

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/TarsCloud/TarsGo/tars/protocol/codec"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/authf"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/configf"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/endpointf"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/logf"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/nodef"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/notifyf"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/propertyf"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/requestf"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/statf"

	"github.com/gotars/tars/codec/reflectcodec"
	"github.com/gotars/tars/interop/corpus"
	gen "github.com/gotars/tars/interop/gen/Corpus"
	genuser "github.com/gotars/tars/interop/gen/UserService"
)

// valuesPerType is how many random values each type gets: n, half of it
// under -race, a tenth with -short.
func valuesPerType(n int) int {
	if raceEnabled {
		n /= 2
	}
	if testing.Short() {
		n /= 10
	}
	return n
}

// diffCase is one mirror type M and its tars2go-generated counterpart G.
type diffCase struct {
	name string
	n    int // random values
	run  func(t *testing.T, n int, seed uint64) diffCounts
}

// diffCounts tallies what one type's run proved.
type diffCounts struct {
	values    int // random values tried
	identical int // our bytes == TarsGo's bytes (every map has at most one entry)
	decoded   int // maps with several entries: same length, decoded both ways
	nested    int // the value as a nested struct field, both ways
}

// knowsNothing is a struct without fields: decoding into it skips every
// field of the input.
type knowsNothing struct{}

// wrapLo and wrapHi carry a struct as a field with a small tag and with a tag
// that needs the extension byte, as tars2go's WriteBlock writes it.
type wrapLo[T any] struct {
	V T `tars:"7,require"`
}

type wrapHi[T any] struct {
	V T `tars:"200,require"`
}

func pair[M any, G any, PG interface {
	*G
	tarsStruct
}](name string, n int) diffCase {
	return diffCase{name: name, n: n, run: func(t *testing.T, n int, seed uint64) diffCounts {
		return runDiff[M, G, PG](t, n, seed)
	}}
}

var diffCases = []diffCase{
	// testdata/corpus.tars and user.tars through tars2go v1.2.4
	pair[corpus.Inner, gen.Inner]("Corpus.Inner", 4000),
	pair[corpus.RequiredScalars, gen.RequiredScalars]("Corpus.RequiredScalars", 4000),
	pair[corpus.OptionalScalars, gen.OptionalScalars]("Corpus.OptionalScalars", 4000),
	pair[corpus.Defaults, gen.Defaults]("Corpus.Defaults", 4000),
	pair[corpus.Containers, gen.Containers]("Corpus.Containers", 3000),
	pair[corpus.Enums, gen.Enums]("Corpus.Enums", 4000),
	pair[corpus.Nested, gen.Nested]("Corpus.Nested", 2000),
	pair[corpus.Nested2, gen.Nested2]("Corpus.Nested2", 4000),
	pair[corpus.HighTags, gen.HighTags]("Corpus.HighTags", 4000),
	pair[corpus.AllScalars, gen.AllScalars]("Corpus.AllScalars", 4000),
	pair[corpus.UserInfo, genuser.UserInfo]("UserService.UserInfo", 4000),
	pair[corpus.UserQuery, genuser.UserQuery]("UserService.UserQuery", 4000),
	pair[corpus.UserPage, genuser.UserPage]("UserService.UserPage", 3000),
	// the generated structs TarsGo v1.4.6 ships (tars2go 1.2.3)
	pair[corpus.RequestPacket, requestf.RequestPacket]("requestf.RequestPacket", 4000),
	pair[corpus.ResponsePacket, requestf.ResponsePacket]("requestf.ResponsePacket", 4000),
	pair[corpus.EndpointF, endpointf.EndpointF]("endpointf.EndpointF", 4000),
	pair[corpus.StatMicMsgHead, statf.StatMicMsgHead]("statf.StatMicMsgHead", 4000),
	pair[corpus.StatMicMsgBody, statf.StatMicMsgBody]("statf.StatMicMsgBody", 4000),
	pair[corpus.StatSampleMsg, statf.StatSampleMsg]("statf.StatSampleMsg", 4000),
	pair[corpus.ProxyInfo, statf.ProxyInfo]("statf.ProxyInfo", 1000),
	pair[corpus.ServerInfo, nodef.ServerInfo]("nodef.ServerInfo", 4000),
	pair[corpus.StatPropMsgHead, propertyf.StatPropMsgHead]("propertyf.StatPropMsgHead", 4000),
	pair[corpus.StatPropInfo, propertyf.StatPropInfo]("propertyf.StatPropInfo", 4000),
	pair[corpus.StatPropMsgBody, propertyf.StatPropMsgBody]("propertyf.StatPropMsgBody", 4000),
	pair[corpus.ConfigInfo, configf.ConfigInfo]("configf.ConfigInfo", 4000),
	pair[corpus.GetConfigListInfo, configf.GetConfigListInfo]("configf.GetConfigListInfo", 4000),
	pair[corpus.LogInfo, logf.LogInfo]("logf.LogInfo", 4000),
	pair[corpus.ReportInfo, notifyf.ReportInfo]("notifyf.ReportInfo", 4000),
	pair[corpus.BasicAuthPackage, authf.BasicAuthPackage]("authf.BasicAuthPackage", 4000),
}

// TestCodecDifferential is the proof against the real peer: for every type,
// thousands of random values, each built both as our mirror and as the
// tars2go-generated struct with the same content.
//
//   - TarsGo's bytes (WriteTo) decode with reflectcodec to a value equal to
//     ours, which stays equal when those bytes are overwritten (nothing
//     decoded aliases the input);
//   - our bytes decode with TarsGo's ReadFrom to a value equal to TarsGo's;
//   - our bytes are identical to TarsGo's when every map has at most one entry
//     (TarsGo writes map entries in Go's random iteration order), and of the
//     same length otherwise;
//   - TarsGo's bytes skip cleanly as unknown fields (decoded into a struct
//     without fields);
//   - the same as a nested struct field (tars2go's WriteBlock/ReadBlock) at tag
//     7 and at tag 200, where the skip runs over the nested struct too.
func TestCodecDifferential(t *testing.T) {
	var values, identical atomic.Int64
	for i, c := range diffCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			n := valuesPerType(c.n)
			got := c.run(t, n, uint64(i)+1)
			t.Logf("%-28s %5d values: %5d byte-identical, %4d with larger maps compared by length and decoding both ways, %5d nested both ways",
				c.name, got.values, got.identical, got.decoded, got.nested)
			values.Add(int64(got.values))
			identical.Add(int64(got.identical))
		})
	}
	t.Cleanup(func() {
		t.Logf("%d types, %d values in all, %d of them byte-identical", len(diffCases), values.Load(), identical.Load())
	})
}

func runDiff[M any, G any, PG interface {
	*G
	tarsStruct
}](t *testing.T, n int, seed uint64) diffCounts {
	ours, err := reflectcodec.For[M]()
	if err != nil {
		t.Fatal(err)
	}
	// The mirror must declare the same IDL fields as the generated struct.
	if _, err := fieldPairs(reflect.TypeFor[M](), reflect.TypeFor[G]()); err != nil {
		t.Fatalf("mirror disagrees with the generated struct: %v", err)
	}
	wlo, err := reflectcodec.For[wrapLo[M]]()
	if err != nil {
		t.Fatal(err)
	}
	whi, err := reflectcodec.For[wrapHi[M]]()
	if err != nil {
		t.Fatal(err)
	}
	vg := newValueGen(seed)
	var cnt diffCounts
	buf := codec.NewBuffer()
	fails := 0
	fail := func(i int, format string, args ...any) {
		t.Helper()
		t.Errorf("value %d: %s", i, fmt.Sprintf(format, args...))
		if fails++; fails >= 5 {
			t.FailNow()
		}
	}
	for i := range n {
		// Every other value keeps its maps to at most one entry, so that most
		// values are compared byte for byte.
		vg.maxMap = 1
		switch {
		case i%10 == 9:
			vg.maxMap = 12 // beyond the map decoder's one-pass scratch
		case i%2 == 1:
			vg.maxMap = 5
		}
		var m M
		vg.fill(reflect.ValueOf(&m).Elem())
		var g G
		convert(reflect.ValueOf(&g).Elem(), reflect.ValueOf(&m).Elem())
		small := maxMapLen(reflect.ValueOf(m)) <= 1
		cnt.values++

		// Top level: WriteTo versus Marshal.
		buf.Reset()
		if err := PG(&g).WriteTo(buf); err != nil {
			t.Fatalf("TarsGo WriteTo: %v", err)
		}
		tb := bytes.Clone(buf.ToBytes())
		ob, err := ours.Marshal(&m)
		if err != nil {
			fail(i, "Marshal: %v", err)
			continue
		}
		if !compareBytes(t, small, ob, tb) {
			fail(i, "encodings differ\n ours   %s\n tarsgo %s\n value %+v", clip(ob), clip(tb), m)
			continue
		}
		if small {
			cnt.identical++
		} else {
			cnt.decoded++
		}
		var m2 M
		if err := ours.Unmarshal(tb, &m2); err != nil {
			fail(i, "decoding TarsGo's bytes: %v\n bytes %s", err, clip(tb))
			continue
		}
		if d := diff(reflect.ValueOf(m2), reflect.ValueOf(m), "M"); d != "" {
			fail(i, "ours(decode(TarsGo bytes)) != value: %s", d)
			continue
		}
		// A peer that knows none of the fields skips them all: the
		// skipper walks every wire shape TarsGo produces.
		if err := reflectcodec.Unmarshal(tb, &knowsNothing{}); err != nil {
			fail(i, "skipping every field of TarsGo's bytes: %v", err)
			continue
		}
		// No decoded string or byte slice may alias the input.
		for j := range tb {
			tb[j] = 0xA5
		}
		if d := diff(reflect.ValueOf(m2), reflect.ValueOf(m), "M"); d != "" {
			fail(i, "decoded value changed when its input was overwritten: %s", d)
			continue
		}
		var g2 G
		if err := PG(&g2).ReadFrom(codec.NewReader(ob)); err != nil {
			fail(i, "TarsGo ReadFrom of our bytes: %v\n bytes %s", err, clip(ob))
			continue
		}
		if d := diff(reflect.ValueOf(g2), reflect.ValueOf(g), "G"); d != "" {
			fail(i, "TarsGo(decode(our bytes)) != value: %s", d)
			continue
		}

		// Nested: WriteBlock/ReadBlock versus a struct field.
		var tag byte = 7
		var nb []byte
		if i%2 == 0 {
			nb, err = wlo.Marshal(&wrapLo[M]{V: m})
		} else {
			tag = 200
			nb, err = whi.Marshal(&wrapHi[M]{V: m})
		}
		if err != nil {
			fail(i, "Marshal nested: %v", err)
			continue
		}
		buf.Reset()
		if err := PG(&g).WriteBlock(buf, tag); err != nil {
			t.Fatalf("TarsGo WriteBlock: %v", err)
		}
		tnb := bytes.Clone(buf.ToBytes())
		if !compareBytes(t, small, nb, tnb) {
			fail(i, "nested encodings differ at tag %d\n ours   %s\n tarsgo %s", tag, clip(nb), clip(tnb))
			continue
		}
		var m3 M
		if tag == 7 {
			var w wrapLo[M]
			err = wlo.Unmarshal(tnb, &w)
			m3 = w.V
		} else {
			var w wrapHi[M]
			err = whi.Unmarshal(tnb, &w)
			m3 = w.V
		}
		if err != nil {
			fail(i, "decoding TarsGo's nested bytes: %v", err)
			continue
		}
		if d := diff(reflect.ValueOf(m3), reflect.ValueOf(m), "M"); d != "" {
			fail(i, "nested: ours(decode(TarsGo bytes)) != value: %s", d)
			continue
		}
		if err := reflectcodec.Unmarshal(tnb, &knowsNothing{}); err != nil {
			fail(i, "skipping TarsGo's nested struct: %v", err)
			continue
		}
		var g3 G
		if err := PG(&g3).ReadBlock(codec.NewReader(nb), tag, true); err != nil {
			fail(i, "TarsGo ReadBlock of our nested bytes: %v", err)
			continue
		}
		if d := diff(reflect.ValueOf(g3), reflect.ValueOf(g), "G"); d != "" {
			fail(i, "nested: TarsGo(decode(our bytes)) != value: %s", d)
			continue
		}
		cnt.nested++
	}
	return cnt
}

// compareBytes: identical when every map has at most one entry, else the
// same length (the entries are the same, their order is Go's map order).
func compareBytes(t *testing.T, small bool, ours, theirs []byte) bool {
	if small {
		return bytes.Equal(ours, theirs)
	}
	return len(ours) == len(theirs)
}

func clip(b []byte) string {
	if len(b) > 200 {
		return hex.EncodeToString(b[:200]) + fmt.Sprintf("…(%d bytes)", len(b))
	}
	return hex.EncodeToString(b)
}
