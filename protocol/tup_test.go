package protocol

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/gotars/tars/codec"
)

// The UniAttribute of a TarsGo answer to `int f(out int x)` returning 7 with
// x = 0: tars_ret and "" both hold INT1 7 at tag 0; "x" holds ZERO_TAG at
// tag 0. Derived from TarsGo's tup.UniAttribute.Encode (MAP at tag 0, key
// string at 0, value SIMPLE_LIST at 1) and gen_go.go's Dispatch.
const tupGolden = "08 0003 |" +
	" 0600 | 1d00 0002 0007 |" + // "" -> 00 07
	" 0608 74617273 5f726574 | 1d00 0002 0007 |" + // "tars_ret" -> 00 07
	" 060178 | 1d00 0001 0c" // "x" -> 0c

func TestTUPGolden(t *testing.T) {
	want := unhex(t, tupGolden)
	attrs := map[string][]byte{TUPRetKey: {0x00, 0x07}, "": {0x00, 0x07}, "x": {0x0c}}
	var w codec.Writer
	EncodeTUP(&w, attrs)
	if !bytes.Equal(w.Bytes(), want) {
		t.Fatalf("EncodeTUP:\n got %x\nwant %x", w.Bytes(), want)
	}
	w.Reset()
	EncodeTUPAttrs(&w, []TUPAttr{{"", []byte{0, 7}}, {TUPRetKey, []byte{0, 7}}, {"x", []byte{0x0c}}})
	if !bytes.Equal(w.Bytes(), want) {
		t.Fatalf("EncodeTUPAttrs:\n got %x\nwant %x", w.Bytes(), want)
	}
	got, err := DecodeTUP(want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, attrs) {
		t.Fatalf("DecodeTUP = %v", got)
	}
	w.Reset()
	EncodeTUP(&w, nil)
	if !bytes.Equal(w.Bytes(), []byte{0x08, 0x0c}) {
		t.Fatalf("empty UniAttribute: %x", w.Bytes())
	}
}

func TestDecodeTUPVariants(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want map[string][]byte
	}{
		{"empty_input", "", map[string][]byte{}},
		{"empty_map", "080c", map[string][]byte{}},
		{"value_as_list", "08 0001 060161 19 0002 0001 0002", map[string][]byte{"a": {1, 2}}},
		{"fields_after", "08 0001 060161 1d000001 05 | 1c 2601 78", map[string][]byte{"a": {5}}},
		{"map_at_tag_1_only", "18 0001 060161 1d000001 05", map[string][]byte{}},
		{"duplicate_key", "08 0002 060161 1d000001 05 060161 1d000001 06", map[string][]byte{"a": {6}}},
		{"empty_value", "08 0001 060161 1d000c", map[string][]byte{"a": {}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodeTUP(unhex(t, c.in))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range got {
				if len(v) == 0 {
					got[k] = []byte{}
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
	bad := []struct {
		name string
		in   string
		kind error
	}{
		{"not_a_map", "0601 61", codec.ErrTypeMismatch},
		{"truncated", "08 0002 060161 1d000001 05", codec.ErrTruncated},
		{"key_tag", "08 0001 160161 1d000001 05", codec.ErrMalformed},
		{"value_tag", "08 0001 060161 2d000001 05", codec.ErrMalformed},
		{"value_string", "08 0001 060161 160105", codec.ErrTypeMismatch},
		{"tup_v2_nested_map", "08 0001 060161 18 0001 060369 6e74 1d000001 05", codec.ErrTypeMismatch},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeTUP(unhex(t, c.in))
			if !errors.Is(err, c.kind) {
				t.Fatalf("got %v, want %v", err, c.kind)
			}
		})
	}
}

func TestTUPResponse(t *testing.T) {
	req := RequestPacket{Version: VersionTUP, PacketType: PacketNormal, MessageType: MessageHash,
		RequestID: 77, ServantName: "A.B.C", FuncName: "f", Timeout: 3000, Buffer: []byte{1}}
	body := []byte{0x08, 0x0c}
	ok := ResponsePacket{Version: VersionTUP, RequestID: 77, Buffer: body, Context: map[string]string{"c": "1"}}
	got := TUPResponse(&req, &ok)
	want := RequestPacket{Version: VersionTUP, MessageType: MessageHash, RequestID: 77, ServantName: "A.B.C",
		FuncName: "f", Buffer: body, Context: map[string]string{"c": "1"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("success:\n got %+v\nwant %+v", got, want)
	}
	frame := AppendReply(nil, &req, &ok)
	if !bytes.Equal(frame, AppendRequest(nil, &want)) {
		t.Fatal("AppendReply does not write the RequestPacket layout for TUP")
	}
	var back ResponsePacket
	if err := DecodeResponse(frame, &back); err != nil {
		t.Fatal(err)
	}
	if back.Ret != 0 || back.RequestID != 77 || !bytes.Equal(back.Buffer, body) || back.Context["c"] != "1" || back.Version != VersionTUP {
		t.Fatalf("read back: %+v", back)
	}

	st := map[string]string{"s": "1"}
	fail := ResponsePacket{Version: VersionTUP, RequestID: 77, Ret: CodeServerNoFuncErr, ResultDesc: "no such function", Status: st}
	got = TUPResponse(&req, &fail)
	wantStatus := map[string]string{"s": "1", StatusResultCode: "-3", StatusResultDesc: "no such function"}
	if !reflect.DeepEqual(got.Status, wantStatus) || len(st) != 1 {
		t.Fatalf("failure status %v (caller's map now %v)", got.Status, st)
	}
	if err := DecodeResponse(AppendReply(nil, &req, &fail), &back); err != nil {
		t.Fatal(err)
	}
	if back.Ret != CodeServerNoFuncErr || back.ResultDesc != "no such function" {
		t.Fatalf("failure read back: %+v", back)
	}

	// A TarsGo-style answer (no result entries, empty names) reads as success.
	tarsgo := AppendRequest(nil, &RequestPacket{Version: VersionTUP, RequestID: 5, Buffer: body})
	if err := DecodeResponse(tarsgo, &back); err != nil || back.Ret != 0 || back.RequestID != 5 {
		t.Fatalf("TarsGo answer: %+v, %v", back, err)
	}
	// A garbled result code is a client decode error.
	garbled := AppendRequest(nil, &RequestPacket{Version: VersionTUP, Status: map[string]string{StatusResultCode: "x"}})
	if err := DecodeResponse(garbled, &back); err != nil || back.Ret != CodeClientDecodeErr {
		t.Fatalf("garbled code: %+v, %v", back, err)
	}
	// Non-TUP requests are answered with a ResponsePacket.
	req.Version = VersionJSON
	ok.Version = VersionJSON
	if !bytes.Equal(AppendReply(nil, &req, &ok), AppendResponse(nil, &ok)) {
		t.Fatal("AppendReply changed the layout of a JSON answer")
	}
}
