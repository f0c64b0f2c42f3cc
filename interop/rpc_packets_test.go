package interop

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/TarsCloud/TarsGo/tars/protocol"
	"github.com/TarsCloud/TarsGo/tars/protocol/codec"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/requestf"
	"github.com/TarsCloud/TarsGo/tars/protocol/tup"

	gotarscodec "github.com/gotars/tars/codec"
	"github.com/gotars/tars/codec/reflectcodec"
	"github.com/gotars/tars/interop/corpus"
	gen "github.com/gotars/tars/interop/gen/Corpus"
	genuser "github.com/gotars/tars/interop/gen/UserService"
	proto "github.com/gotars/tars/protocol"
)

// Packets, frames and TUP bodies of package protocol against TarsGo v1.4.6:
// requestf's generated WriteTo/ReadFrom, protocol.TarsProtocol's framing and
// tup.UniAttribute. Packet values come from the corpus mirrors' random value
// generator, so they hit the integer widths, long strings and nil/empty maps.

func toProtoRequest(m *corpus.RequestPacket) proto.RequestPacket {
	return proto.RequestPacket{Version: m.Version, PacketType: m.PacketType, MessageType: m.MessageType,
		RequestID: m.RequestID, ServantName: m.ServantName, FuncName: m.FuncName, Buffer: m.Buffer,
		Timeout: m.Timeout, Context: m.Context, Status: m.Status}
}

func toProtoResponse(m *corpus.ResponsePacket) proto.ResponsePacket {
	return proto.ResponsePacket{Version: m.Version, PacketType: m.PacketType, RequestID: m.RequestID,
		MessageType: m.MessageType, Ret: proto.Code(m.Ret), Buffer: m.Buffer, Status: m.Status,
		ResultDesc: m.ResultDesc, Context: m.Context}
}

func TestPacketsAgainstTarsGo(t *testing.T) {
	n := valuesPerType(3000)
	vg := newValueGen(99)
	var tp protocol.TarsProtocol
	buf := codec.NewBuffer()
	identical := 0
	for i := range n {
		vg.maxMap = 1
		if i%2 == 1 {
			vg.maxMap = 4
		}
		var m corpus.RequestPacket
		vg.fill(reflect.ValueOf(&m).Elem())
		if m.Version == proto.VersionTUP {
			m.Version = proto.VersionTARS // a TUP-version response is read in the TUP layout; keep requests plain
		}
		var g requestf.RequestPacket
		convert(reflect.ValueOf(&g).Elem(), reflect.ValueOf(&m).Elem())
		small := maxMapLen(reflect.ValueOf(m)) <= 1
		p := toProtoRequest(&m)

		// Whole frames: TarsProtocol.RequestPack versus AppendRequest.
		theirs, err := tp.RequestPack(&g)
		if err != nil {
			t.Fatal(err)
		}
		ours := proto.AppendRequest(nil, &p)
		if !compareBytes(t, small, ours, theirs) {
			t.Fatalf("request %d: frames differ\n ours   %s\n tarsgo %s", i, clip(ours), clip(theirs))
		}
		if small {
			identical++
		}
		if n, st := protocol.TarsRequest(ours); st != protocol.PackageFull || n != len(ours) {
			t.Fatalf("request %d: TarsGo parses our frame as %d, %d", i, n, st)
		}
		if n, err := proto.SplitFrame(theirs, 0); err != nil || n != len(theirs) {
			t.Fatalf("request %d: SplitFrame of TarsGo's frame: %d, %v", i, n, err)
		}
		// Each side decodes the other's.
		var back proto.RequestPacket
		if err := proto.DecodeRequest(theirs, &back); err != nil {
			t.Fatalf("request %d: decoding TarsGo's frame: %v", i, err)
		}
		mb := corpus.RequestPacket{Version: back.Version, PacketType: back.PacketType, MessageType: back.MessageType,
			RequestID: back.RequestID, ServantName: back.ServantName, FuncName: back.FuncName, Buffer: back.Buffer,
			Timeout: back.Timeout, Context: back.Context, Status: back.Status}
		if d := diff(reflect.ValueOf(mb), reflect.ValueOf(m), "RequestPacket"); d != "" {
			t.Fatalf("request %d: ours(decode(TarsGo)) differs: %s", i, d)
		}
		var g2 requestf.RequestPacket
		if err := g2.ReadFrom(codec.NewReader(ours[4:])); err != nil {
			t.Fatalf("request %d: TarsGo ReadFrom of our packet: %v", i, err)
		}
		if d := diff(reflect.ValueOf(g2), reflect.ValueOf(g), "requestf.RequestPacket"); d != "" {
			t.Fatalf("request %d: TarsGo(decode(ours)) differs: %s", i, d)
		}

		// Responses, whose optional sResultDesc and context TarsGo leaves out
		// when empty.
		var mr corpus.ResponsePacket
		vg.fill(reflect.ValueOf(&mr).Elem())
		if mr.Version == proto.VersionTUP {
			mr.Version = proto.VersionJSON
		}
		var gr requestf.ResponsePacket
		convert(reflect.ValueOf(&gr).Elem(), reflect.ValueOf(&mr).Elem())
		small = maxMapLen(reflect.ValueOf(mr)) <= 1
		pr := toProtoResponse(&mr)
		buf.Reset()
		if err := gr.WriteTo(buf); err != nil {
			t.Fatal(err)
		}
		theirs = bytes.Clone(buf.ToBytes())
		ours = proto.AppendResponse(nil, &pr)
		if !compareBytes(t, small, ours[4:], theirs) {
			t.Fatalf("response %d: packets differ\n ours   %s\n tarsgo %s", i, clip(ours[4:]), clip(theirs))
		}
		var rb proto.ResponsePacket
		frame := binary.BigEndian.AppendUint32(nil, uint32(len(theirs)+4))
		frame = append(frame, theirs...) // framed as TarsGo's rsp2Byte frames it
		if err := proto.DecodeResponse(frame, &rb); err != nil {
			t.Fatalf("response %d: decoding TarsGo's packet: %v", i, err)
		}
		mrb := corpus.ResponsePacket{Version: rb.Version, PacketType: rb.PacketType, RequestID: rb.RequestID,
			MessageType: rb.MessageType, Ret: int32(rb.Ret), Buffer: rb.Buffer, Status: rb.Status,
			ResultDesc: rb.ResultDesc, Context: rb.Context}
		if d := diff(reflect.ValueOf(mrb), reflect.ValueOf(mr), "ResponsePacket"); d != "" {
			t.Fatalf("response %d: ours(decode(TarsGo)) differs: %s", i, d)
		}
		gr2, err := tp.ResponseUnpack(ours)
		if err != nil {
			t.Fatalf("response %d: TarsGo ResponseUnpack of our frame: %v", i, err)
		}
		if d := diff(reflect.ValueOf(*gr2), reflect.ValueOf(gr), "requestf.ResponsePacket"); d != "" {
			t.Fatalf("response %d: TarsGo(decode(ours)) differs: %s", i, d)
		}
	}
	t.Logf("%d requests and responses, %d of them byte-identical frames", n, identical)
}

// TestTUPAgainstTarsGo: UniAttribute bodies both ways, and the answer a
// TarsGo server writes for a TUP request (tarsprotocol.go req2Byte: a
// RequestPacket) read with DecodeResponse.
func TestTUPAgainstTarsGo(t *testing.T) {
	vg := newValueGen(5)
	for i := range valuesPerType(2000) {
		attrs := map[string][]byte{}
		for range i % 5 {
			var b []byte
			vg.fill(reflect.ValueOf(&b).Elem())
			attrs[vg.string()] = b
		}
		ua := tup.NewUniAttribute()
		for k, v := range attrs {
			ua.PutBuffer(k, v)
		}
		buf := codec.NewBuffer()
		if err := ua.Encode(buf); err != nil {
			t.Fatal(err)
		}
		theirs := buf.ToBytes()
		var w gotarscodec.Writer
		proto.EncodeTUP(&w, attrs)
		if !compareBytes(t, len(attrs) <= 1, w.Bytes(), theirs) {
			t.Fatalf("value %d: UniAttribute differs\n ours   %s\n tarsgo %s", i, clip(w.Bytes()), clip(theirs))
		}
		got, err := proto.DecodeTUP(theirs)
		if err != nil {
			t.Fatalf("value %d: DecodeTUP of TarsGo's: %v", i, err)
		}
		if d := diff(reflect.ValueOf(got), reflect.ValueOf(attrs), "attrs"); d != "" {
			t.Fatalf("value %d: %s", i, d)
		}
		ua2 := tup.NewUniAttribute()
		if err := ua2.Decode(codec.NewReader(w.Bytes())); err != nil {
			if len(lastValue(w.Bytes())) == 0 {
				continue // a TarsGo bug: its ReadBytes of 0 bytes at the very end of the input fails, so it cannot read its own encoding of such a map either
			}
			t.Fatalf("value %d: TarsGo Decode of ours: %v\n ours %x\n theirs %x", i, err, w.Bytes(), theirs)
		}
		for k, v := range attrs {
			var b []byte
			if err := ua2.GetBuffer(k, &b); err != nil || !bytes.Equal(b, v) {
				t.Fatalf("value %d: TarsGo reads %q as %x, %v", i, k, b, err)
			}
		}
	}

	// The answer TarsGo's server writes for a TUP call of `int f(out int x)`.
	rsp := tup.NewUniAttribute()
	ret := codec.NewBuffer()
	_ = ret.WriteInt32(7, 0)
	rsp.PutBuffer("", ret.ToBytes())
	rsp.PutBuffer("tars_ret", ret.ToBytes())
	body := codec.NewBuffer()
	_ = rsp.Encode(body)
	answer := requestf.RequestPacket{IVersion: 3, IRequestId: 12, SBuffer: bytesToInt8(body.ToBytes()),
		Status: map[string]string{}, Context: map[string]string{}}
	frame, err := (&protocol.TarsProtocol{}).RequestPack(&answer)
	if err != nil {
		t.Fatal(err)
	}
	var rb proto.ResponsePacket
	if err := proto.DecodeResponse(frame, &rb); err != nil {
		t.Fatal(err)
	}
	attrs, err := proto.DecodeTUP(rb.Buffer)
	if err != nil || rb.RequestID != 12 || rb.Ret != 0 || !bytes.Equal(attrs[proto.TUPRetKey], []byte{0x00, 0x07}) {
		t.Fatalf("TarsGo's TUP answer read as %+v, %v, %v", rb, attrs, err)
	}
}

// lastValue returns the value of the last entry of a well-formed
// UniAttribute, as it lies in the encoding.
func lastValue(b []byte) []byte {
	r := gotarscodec.NewReader(b)
	h, _, _ := r.SkipTo(0)
	n, _ := r.MapLen(h)
	var last []byte
	for range n {
		kh, _ := r.ReadHead()
		_, _ = r.StringBody(kh)
		vh, _ := r.ReadHead()
		last, _ = r.BytesBody(vh)
	}
	return last
}

func bytesToInt8(b []byte) []int8 {
	out := make([]int8, len(b))
	for i, c := range b {
		out[i] = int8(c)
	}
	return out
}

// jsonPair checks reflectcodec's JSON against encoding/json on the
// tars2go-generated struct, as TarsGo's JSON (version 5) dispatch uses it.
func jsonPair[M any, G any](t *testing.T, n int, seed uint64) (identical int) {
	vg := newValueGen(seed)
	vg.maxMap = 4
	for i := range n {
		var m M
		vg.fill(reflect.ValueOf(&m).Elem())
		var g G
		convert(reflect.ValueOf(&g).Elem(), reflect.ValueOf(&m).Elem())
		theirs, terr := json.Marshal(&g)
		ours, oerr := reflectcodec.MarshalJSONValue(&m)
		if terr != nil || oerr != nil {
			if terr == nil || oerr == nil || !errors.Is(oerr, reflectcodec.ErrJSONUnsupportedValue) {
				t.Fatalf("value %d: encoding/json error %v, ours %v", i, terr, oerr)
			}
			continue // NaN or an infinity: neither writes it
		}
		if !bytes.Equal(ours, theirs) {
			t.Fatalf("value %d:\n ours   %s\n tarsgo %s", i, clipJSON(ours), clipJSON(theirs))
		}
		identical++
		// encoding/json reads ours into the generated struct; we read theirs.
		var g2 G
		if err := json.Unmarshal(ours, &g2); err != nil {
			t.Fatalf("value %d: encoding/json cannot read ours: %v", i, err)
		}
		var m2 M
		if err := reflectcodec.UnmarshalJSONValue(theirs, &m2); err != nil {
			t.Fatalf("value %d: reading TarsGo's JSON: %v", i, err)
		}
		var gm G // what encoding/json makes of its own output, for comparison
		_ = json.Unmarshal(theirs, &gm)
		var g3 G
		convert(reflect.ValueOf(&g3).Elem(), reflect.ValueOf(&m2).Elem())
		if d := diff(reflect.ValueOf(g3), reflect.ValueOf(gm), "G"); d != "" {
			t.Fatalf("value %d: ours(decode(TarsGo JSON)) differs from encoding/json's: %s", i, d)
		}
		if d := diff(reflect.ValueOf(g2), reflect.ValueOf(gm), "G"); d != "" {
			t.Fatalf("value %d: encoding/json(decode(ours)) differs: %s", i, d)
		}
	}
	return identical
}

func clipJSON(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + fmt.Sprintf("…(%d bytes)", len(b))
	}
	return string(b)
}

func TestJSONAgainstTarsGo(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, n int, seed uint64) int
	}{
		{"Corpus.Inner", jsonPair[corpus.Inner, gen.Inner]},
		{"Corpus.RequiredScalars", jsonPair[corpus.RequiredScalars, gen.RequiredScalars]},
		{"Corpus.OptionalScalars", jsonPair[corpus.OptionalScalars, gen.OptionalScalars]},
		{"Corpus.Defaults", jsonPair[corpus.Defaults, gen.Defaults]},
		{"Corpus.Containers", jsonPair[corpus.Containers, gen.Containers]},
		{"Corpus.Enums", jsonPair[corpus.Enums, gen.Enums]},
		{"Corpus.Nested", jsonPair[corpus.Nested, gen.Nested]},
		{"Corpus.Nested2", jsonPair[corpus.Nested2, gen.Nested2]},
		{"Corpus.HighTags", jsonPair[corpus.HighTags, gen.HighTags]},
		{"Corpus.AllScalars", jsonPair[corpus.AllScalars, gen.AllScalars]},
		{"UserService.UserInfo", jsonPair[corpus.UserInfo, genuser.UserInfo]},
		{"UserService.UserQuery", jsonPair[corpus.UserQuery, genuser.UserQuery]},
		{"UserService.UserPage", jsonPair[corpus.UserPage, genuser.UserPage]},
		{"requestf.RequestPacket", jsonPair[corpus.RequestPacket, requestf.RequestPacket]},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			n := c.run(t, valuesPerType(1000), uint64(i)+100)
			t.Logf("%d values byte-identical with encoding/json on the tars2go struct", n)
		})
	}
}
