package protocol

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/gotars/tars/codec"
)

// unhex decodes a hex string that may contain spaces, newlines and "|"
// separators (used to mark fields).
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.NewReplacer(" ", "", "\n", "", "\t", "", "|", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// The golden packets below were derived by hand from TarsGo v1.4.6's
// generated requestf.RequestPacket.WriteTo / ResponsePacket.WriteTo and its
// codec.Buffer (compact integers, STRING1 up to 255 bytes, SIMPLE_LIST for
// sBuffer, maps as MAP + length + key@0 value@1). The interop module checks
// the same packets against TarsGo itself. Each body is shown field by field.
var requestGolden = []struct {
	name string
	pkt  RequestPacket
	body string // hex, without the length prefix
}{
	{
		name: "zero",
		pkt:  RequestPacket{},
		body: "1c | 2c | 3c | 4c | 5600 | 6600 | 7d000c | 8c | 980c | a80c",
	},
	{
		name: "typical",
		pkt: RequestPacket{
			Version: VersionTARS, RequestID: 1, ServantName: "App.S.Obj", FuncName: "ping",
			Buffer: []byte{0x10, 0x07}, Timeout: 3000, Context: map[string]string{"a": "b"},
		},
		body: "1001 | 2c | 3c | 4001 | 5609" + hex.EncodeToString([]byte("App.S.Obj")) +
			" | 6604" + hex.EncodeToString([]byte("ping")) +
			" | 7d00 0002 1007 | 810bb8 | 98 0001 060161 160162 | a80c",
	},
	{
		name: "wide_values",
		pkt: RequestPacket{
			Version: VersionJSON, PacketType: PacketOneway, MessageType: MessageTrace | MessageDyed,
			RequestID: -2147483648, Timeout: 70000,
			Status: map[string]string{"z": "1", "a": "2", "m": ""}, // written sorted: a, m, z
		},
		body: "1005 | 2001 | 310104 | 4280000000 | 5600 | 6600 | 7d000c | 8200011170 | 980c |" +
			" a8 0003 060161 160132 06016d 1600 06017a 160131",
	},
}

var responseGolden = []struct {
	name string
	pkt  ResponsePacket
	body string
}{
	{
		name: "zero",
		pkt:  ResponsePacket{},
		body: "1c | 2c | 3c | 4c | 5c | 6d000c | 780c",
	},
	{
		name: "success",
		pkt:  ResponsePacket{Version: VersionTARS, RequestID: 1, Buffer: []byte{0x0c}},
		body: "1001 | 2c | 3001 | 4c | 5c | 6d00 0001 0c | 780c",
	},
	{
		name: "error_with_desc_and_context", // the optional fields appear only when non-empty
		pkt: ResponsePacket{Version: VersionTARS, RequestID: 300, Ret: CodeServerNoFuncErr,
			ResultDesc: "no", Context: map[string]string{"k": "v"}, Status: map[string]string{}},
		body: "1001 | 2c | 31012c | 4c | 50fd | 6d000c | 780c | 8602 6e6f | 98 0001 06016b 160176",
	},
	{
		name: "service_code",
		pkt:  ResponsePacket{Version: VersionTUP, Ret: 100000},
		body: "1003 | 2c | 3c | 4c | 52000186a0 | 6d000c | 780c",
	},
}

func frameOf(body []byte) []byte {
	n := len(body) + 4
	return append([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}

func TestRequestGolden(t *testing.T) {
	for _, c := range requestGolden {
		t.Run(c.name, func(t *testing.T) {
			want := frameOf(unhex(t, c.body))
			got := AppendRequest(nil, &c.pkt)
			if !bytes.Equal(got, want) {
				t.Fatalf("AppendRequest:\n got %x\nwant %x", got, want)
			}
			// Appending keeps what dst held.
			got = AppendRequest([]byte("xy"), &c.pkt)
			if string(got[:2]) != "xy" || !bytes.Equal(got[2:], want) {
				t.Fatalf("AppendRequest after a prefix: %x", got)
			}
			var p RequestPacket
			if err := DecodeRequest(want, &p); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(normReq(p), normReq(c.pkt)) {
				t.Fatalf("decoded %+v, want %+v", p, c.pkt)
			}
		})
	}
}

func TestResponseGolden(t *testing.T) {
	for _, c := range responseGolden {
		t.Run(c.name, func(t *testing.T) {
			want := frameOf(unhex(t, c.body))
			got := AppendResponse(nil, &c.pkt)
			if !bytes.Equal(got, want) {
				t.Fatalf("AppendResponse:\n got %x\nwant %x", got, want)
			}
			if c.pkt.Version == VersionTUP {
				return // read back in the TUP layout; see TestTUPResponse
			}
			var p ResponsePacket
			if err := DecodeResponse(want, &p); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(normResp(p), normResp(c.pkt)) {
				t.Fatalf("decoded %+v, want %+v", p, c.pkt)
			}
		})
	}
}

// normReq makes empty slices and maps nil, as the decoder leaves them.
func normReq(p RequestPacket) RequestPacket {
	if len(p.Buffer) == 0 {
		p.Buffer = nil
	}
	if len(p.Context) == 0 {
		p.Context = nil
	}
	if len(p.Status) == 0 {
		p.Status = nil
	}
	return p
}

func normResp(p ResponsePacket) ResponsePacket {
	if len(p.Buffer) == 0 {
		p.Buffer = nil
	}
	if len(p.Context) == 0 {
		p.Context = nil
	}
	if len(p.Status) == 0 {
		p.Status = nil
	}
	return p
}

// TestDecodeRequestVariants: what other peers may send.
func TestDecodeRequestVariants(t *testing.T) {
	base := RequestPacket{Version: 1, RequestID: 9, ServantName: "S", FuncName: "f",
		Buffer: []byte{1, 2, 3}, Timeout: 5, Context: map[string]string{"c": "d"}, Status: map[string]string{"s": "t"}}
	cases := []struct {
		name string
		body string
	}{
		{"in_order", "1001 2c 3c 4009 560153 660166 7d00000301 0203 8005 98000106016316016 4 a8000106017316017 4"},
		{"buffer_as_list", "1001 2c 3c 4009 560153 660166 79000300 0100020003 8005 98000106016316016 4 a8000106017316017 4"},
		{"reversed", "a8000106017316017 4 98000106016316016 4 8005 7d00000301 0203 660166 560153 4009 3c 2c 1001"},
		{"wide_ints", "110001 2000 3200000000 4200000009 560153 660166 7d00000301 0203 8200000005 98000106016316016 4 a8000106017316017 4"},
		{"unknown_tags", "0600 1001 2c 3c 4009 560153 660166 7d00000301 0203 8005 98000106016316016 4 a8000106017316017 4" +
			" b6 03787878 f01e01 fa14 1001 0b"},
		{"string4_name", "1001 2c 3c 4009 570000000153 660166 7d00000301 0203 8005 98000106016316016 4 a8000106017316017 4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := unhex(t, c.body)
			var p RequestPacket
			if err := DecodeRequest(frameOf(body), &p); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p, base) {
				t.Fatalf("decoded %+v\nwant    %+v", p, base)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	full := "1001 2c 3c 4009 560153 660166 7d00000301 0203 8005 980c a80c"
	cases := []struct {
		name string
		body string
		kind error
	}{
		{"missing_status", "1001 2c 3c 4009 560153 660166 7d00000301 0203 8005 980c", codec.ErrRequiredMissing},
		{"missing_version", "2c 3c 4009 560153 660166 7d00000301 0203 8005 980c a80c", codec.ErrRequiredMissing},
		{"empty", "", codec.ErrRequiredMissing},
		{"truncated", full[:len(full)-2], codec.ErrTruncated},
		{"version_too_wide", "120000000 1 2c 3c 4009 560153 660166 7d00000301 0203 8005 980c a80c", codec.ErrTypeMismatch},
		{"buffer_as_string", "1001 2c 3c 4009 560153 660166 760101 8005 980c a80c", codec.ErrTypeMismatch},
		{"stray_struct_end", "0b " + full, codec.ErrMalformed},
		{"bad_map_key_tag", "1001 2c 3c 4009 560153 660166 7d00000301 0203 8005 98000116016316016 4 a80c", codec.ErrMalformed},
		{"map_too_long", "1001 2c 3c 4009 560153 660166 7d00000301 0203 8005 98027fffffff a80c", codec.ErrTooLong},
		{"invalid_type", "1001 2e", codec.ErrInvalidType},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p RequestPacket
			err := DecodeRequest(frameOf(unhex(t, c.body)), &p)
			if !errors.Is(err, c.kind) {
				t.Fatalf("got %v, want %v", err, c.kind)
			}
			var ce *codec.Error
			if !errors.As(err, &ce) || !strings.HasPrefix(ce.Path, "RequestPacket") {
				t.Fatalf("error %v does not name the packet field", err)
			}
		})
	}
	var r ResponsePacket
	err := DecodeResponse(frameOf(unhex(t, "1001 2c 3c 4c 5c 6d000c")), &r)
	if !errors.Is(err, codec.ErrRequiredMissing) || !strings.Contains(err.Error(), "ResponsePacket.status") {
		t.Fatalf("missing status: %v", err)
	}
	// The optional fields may be absent.
	if err := DecodeResponse(frameOf(unhex(t, "1001 2c 3c 4c 5c 6d000c 780c")), &r); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeAliasesFrame(t *testing.T) {
	frame := AppendRequest(nil, &RequestPacket{Buffer: []byte{1, 2, 3}})
	var p RequestPacket
	if err := DecodeRequest(frame, &p); err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(frame, []byte{1, 2, 3})
	frame[i] = 9
	if p.Buffer[0] != 9 {
		t.Fatal("Buffer does not alias the frame")
	}
	if cap(p.Buffer) != 3 {
		t.Fatalf("Buffer cap %d: appending to it would overwrite the frame", cap(p.Buffer))
	}
}

func TestDecodeResets(t *testing.T) {
	p := RequestPacket{Version: 7, Context: map[string]string{"x": "y"}, ServantName: "old"}
	if err := DecodeRequest(AppendRequest(nil, &RequestPacket{Version: 1}), &p); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, RequestPacket{Version: 1, Buffer: p.Buffer}) || len(p.Buffer) != 0 {
		t.Fatalf("stale fields: %+v", p)
	}
}

func TestManyMapEntries(t *testing.T) {
	m := map[string]string{}
	for i := range 100 {
		m[strings.Repeat("k", i%7)+string(rune('A'+i%26))+string(rune('a'+i/26))] = "v"
	}
	frame := AppendRequest(nil, &RequestPacket{Context: m, Status: m})
	again := AppendRequest(nil, &RequestPacket{Context: m, Status: m})
	if !bytes.Equal(frame, again) {
		t.Fatal("encoding of a large map is not deterministic")
	}
	var p RequestPacket
	if err := DecodeRequest(frame, &p); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Context, m) || !reflect.DeepEqual(p.Status, m) {
		t.Fatal("maps differ after a round trip")
	}
}

func TestCodeString(t *testing.T) {
	cases := map[Code]string{
		CodeSuccess: "TARSSERVERSUCCESS", CodeServerDecodeErr: "TARSSERVERDECODEERR",
		CodeServerEncodeErr: "TARSSERVERENCODEERR", CodeServerNoFuncErr: "TARSSERVERNOFUNCERR",
		CodeServerNoServantErr: "TARSSERVERNOSERVANTERR", CodeServerResetGrid: "TARSSERVERRESETGRID",
		CodeServerQueueTimeout: "TARSSERVERQUEUETIMEOUT", CodeInvokeTimeout: "TARSINVOKETIMEOUT",
		CodeProxyConnectErr: "TARSPROXYCONNECTERR", CodeServerOverload: "TARSSERVEROVERLOAD",
		CodeAdapterNull: "TARSADAPTERNULL", CodeInvokeByInvalidEset: "TARSINVOKEBYINVALIDESET",
		CodeClientDecodeErr: "TARSCLIENTDECODEERR", CodeSendRequestErr: "TARSSENDREQUESTERR",
		CodeServerUnknownErr: "TARSSERVERUNKNOWNERR", 1: "code(1)", -100: "code(-100)", 2: "code(2)",
	}
	for c, want := range cases {
		if got := c.String(); got != want {
			t.Errorf("Code(%d).String() = %q, want %q", int32(c), got, want)
		}
	}
	if CodeAsyncCallTimeout != CodeInvokeTimeout || CodeInvokeTimeout != -7 || CodeServerUnknownErr != -99 {
		t.Fatal("code values")
	}
	if MessageSetName != 0x80 || MessageTrace != 0x100 || VersionJSON != 5 || VersionTUP != 3 {
		t.Fatal("constants")
	}
}

func TestEncodeAllocs(t *testing.T) {
	req := RequestPacket{Version: 1, RequestID: 42, ServantName: "App.Server.HelloObj", FuncName: "sayHello",
		Buffer: make([]byte, 100), Timeout: 3000,
		Context: map[string]string{"a": "1", "b": "2", "c": "3"}, Status: map[string]string{"x": "y"}}
	resp := ResponsePacket{Version: 1, RequestID: 42, Buffer: make([]byte, 100), ResultDesc: "e",
		Status: map[string]string{"a": "1", "b": "2"}, Context: map[string]string{"c": "3"}}
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { buf = AppendRequest(buf[:0], &req) }); n != 0 {
		t.Errorf("AppendRequest: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { buf = AppendResponse(buf[:0], &resp) }); n != 0 {
		t.Errorf("AppendResponse: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { buf = AppendReply(buf[:0], &req, &resp) }); n != 0 {
		t.Errorf("AppendReply: %v allocations", n)
	}
}

func TestDecodeAllocs(t *testing.T) {
	req := RequestPacket{Version: 1, RequestID: 42, ServantName: "App.Server.HelloObj", FuncName: "sayHello",
		Buffer: make([]byte, 100), Timeout: 3000}
	frame := AppendRequest(nil, &req)
	var p RequestPacket
	_ = DecodeRequest(frame, &p) // warm the intern table
	if n := testing.AllocsPerRun(100, func() {
		if err := DecodeRequest(frame, &p); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("DecodeRequest without maps: %v allocations", n)
	}
	resp := AppendResponse(nil, &ResponsePacket{Version: 1, RequestID: 42, Buffer: make([]byte, 100)})
	var rp ResponsePacket
	if n := testing.AllocsPerRun(100, func() {
		if err := DecodeResponse(resp, &rp); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("DecodeResponse without maps: %v allocations", n)
	}
}

func BenchmarkAppendRequest(b *testing.B) {
	req := RequestPacket{Version: 1, RequestID: 42, ServantName: "App.Server.HelloObj", FuncName: "sayHello",
		Buffer: make([]byte, 64), Timeout: 3000, Context: map[string]string{"a": "1", "b": "2"}}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendRequest(buf[:0], &req)
	}
}

func BenchmarkDecodeRequest(b *testing.B) {
	frame := AppendRequest(nil, &RequestPacket{Version: 1, RequestID: 42, ServantName: "App.Server.HelloObj",
		FuncName: "sayHello", Buffer: make([]byte, 64), Timeout: 3000})
	var p RequestPacket
	b.ReportAllocs()
	for b.Loop() {
		if err := DecodeRequest(frame, &p); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPacketMapsWithinBudget: a request whose context map has 200,000
// distinct keys (6 bytes of wire each, about 13 times that in Go) fails
// with ErrBudget instead of being built.
func TestPacketMapsWithinBudget(t *testing.T) {
	ctx := make(map[string]string, 200000)
	for i := range 200000 {
		ctx[strconv.Itoa(i)] = ""
	}
	frame := AppendRequest(nil, &RequestPacket{Version: 1, ServantName: "A.B.C", FuncName: "f", Context: ctx})
	var p RequestPacket
	err := DecodeRequest(frame, &p)
	var ce *codec.Error
	if !errors.Is(err, codec.ErrBudget) || !errors.As(err, &ce) {
		t.Fatalf("%d-byte frame: %v, want ErrBudget", len(frame), err)
	}
	small := AppendRequest(nil, &RequestPacket{Version: 1, ServantName: "A.B.C", FuncName: "f", Context: map[string]string{"k": "v", "trace": "abc"}})
	if err := DecodeRequest(small, &p); err != nil || p.Context["trace"] != "abc" {
		t.Fatalf("an ordinary context: %v %v", p.Context, err)
	}
}
