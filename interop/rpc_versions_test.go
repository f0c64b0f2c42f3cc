package interop

// Raw TARS (version 1), TUP (3) and JSON (5) requests, built with TarsGo's
// types (requestf.RequestPacket, tup.UniAttribute, the generated structs and
// their JSON layout), sent over plain TCP connections to gotars' example
// server and to the TarsGo server (package rpcpeer, whose answers are those of
// the tars2go-generated Dispatch) in the same order: every answer of gotars
// must be the one TarsGo gives, up to the known differences listed in
// docs/interop.md, and its bytes must be what TarsGo's generated code writes
// for the same values.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/TarsCloud/TarsGo/tars/protocol/codec"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/requestf"
	"github.com/TarsCloud/TarsGo/tars/protocol/tup"
	"github.com/TarsCloud/TarsGo/tars/util/tools"

	"github.com/gotars/tars/example/userservice/userapi"
	UserService "github.com/gotars/tars/interop/gen/UserService"
)

// rpcValue is one parameter or result: its IDL name, its tag in a version 1
// body and its Go value, of a tars2go-generated type (rpcWrite and rpcRead
// write and read it as the generated code does).
type rpcValue struct {
	name  string
	tag   byte
	value any
}

// rpcWrite writes v at tag as tars2go's generated code does.
func rpcWrite(buf *codec.Buffer, v any, tag byte) error {
	switch v := v.(type) {
	case int32:
		return buf.WriteInt32(v, tag)
	case UserService.UserInfo:
		return v.WriteBlock(buf, tag)
	case UserService.UserQuery:
		return v.WriteBlock(buf, tag)
	case UserService.UserPage:
		return v.WriteBlock(buf, tag)
	case []int32:
		if err := buf.WriteHead(codec.LIST, tag); err != nil {
			return err
		}
		if err := buf.WriteInt32(int32(len(v)), 0); err != nil {
			return err
		}
		for _, x := range v {
			if err := buf.WriteInt32(x, 0); err != nil {
				return err
			}
		}
		return nil
	case []UserService.UserInfo:
		if err := buf.WriteHead(codec.LIST, tag); err != nil {
			return err
		}
		if err := buf.WriteInt32(int32(len(v)), 0); err != nil {
			return err
		}
		for _, x := range v {
			if err := x.WriteBlock(buf, 0); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("rpcWrite: %T", v)
}

// rpcRead reads a value of proto's type at tag (required) as tars2go's
// generated code does.
func rpcRead(r *codec.Reader, proto any, tag byte) (any, error) {
	switch proto.(type) {
	case int32:
		var v int32
		err := r.ReadInt32(&v, tag, true)
		return v, err
	case UserService.UserInfo:
		var v UserService.UserInfo
		err := v.ReadBlock(r, tag, true)
		return v, err
	case UserService.UserPage:
		var v UserService.UserPage
		err := v.ReadBlock(r, tag, true)
		return v, err
	case []UserService.UserInfo:
		_, ty, err := r.SkipToNoCheck(tag, true)
		if err != nil {
			return nil, err
		}
		if ty != codec.LIST {
			return nil, fmt.Errorf("tag %d: type %d, want a LIST", tag, ty)
		}
		var n int32
		if err := r.ReadInt32(&n, 0, true); err != nil {
			return nil, err
		}
		v := make([]UserService.UserInfo, n)
		for i := range v {
			if err := v[i].ReadBlock(r, 0, true); err != nil {
				return nil, err
			}
		}
		return v, nil
	}
	return nil, fmt.Errorf("rpcRead: %T", proto)
}

// rpcJSONRead decodes a JSON value into proto's type.
func rpcJSONRead(raw json.RawMessage, proto any) (any, error) {
	p := reflect.New(reflect.TypeOf(proto))
	if err := json.Unmarshal(raw, p.Interface()); err != nil {
		return nil, err
	}
	return p.Elem().Interface(), nil
}

// rpcRequest builds the request frame of fn(params) in version v the way a
// TarsGo client of that version writes it.
func rpcRequest(t *testing.T, v int16, reqID int32, fn string, params []rpcValue) []byte {
	t.Helper()
	body := codec.NewBuffer()
	switch v {
	case 1:
		for _, p := range params {
			if err := rpcWrite(body, p.value, p.tag); err != nil {
				t.Fatal(err)
			}
		}
	case 3:
		ua := tup.NewUniAttribute()
		for _, p := range params {
			b := codec.NewBuffer()
			if err := rpcWrite(b, p.value, 0); err != nil {
				t.Fatal(err)
			}
			ua.PutBuffer(p.name, b.ToBytes())
		}
		if err := ua.Encode(body); err != nil {
			t.Fatal(err)
		}
	case 5:
		m := map[string]any{}
		for _, p := range params {
			m[p.name] = p.value
		}
		js, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := body.WriteBytes(js); err != nil {
			t.Fatal(err)
		}
	}
	return rpcFrame(&requestf.RequestPacket{
		IVersion: v, IRequestId: reqID, SServantName: userapi.Servant, SFuncName: fn,
		SBuffer: tools.ByteToInt8(body.ToBytes()), ITimeout: 5000,
		Context: map[string]string{"k": "v"}, Status: map[string]string{},
	})
}

// rpcAnswer is an answer in a form both servers' answers can be compared in.
type rpcAnswer struct {
	// The header. A TUP answer comes in the RequestPacket layout: its
	// servant and function names are kept; iRet and sResultDesc do not
	// exist there.
	version          int16
	packetType       int8
	requestID        int32
	ret              int32
	desc             string
	servant, fn      string
	status, context  map[string]string
	results          map[string]any    // by name: "tars_ret" (and "" in TUP) and the out parameters
	raw              map[string][]byte // TUP: the UniAttribute as sent
	body             []byte            // the sBuffer as sent
	canonical        []byte            // TARS and JSON: what TarsGo's generated Dispatch writes for results
	canonicalEntries map[string][]byte // TUP: the same per UniAttribute entry
}

// rpcDecode decodes the answer frame to a request of version v whose results
// are like outs (tags for version 1, names, types).
func rpcDecode(t *testing.T, v int16, frame []byte, outs []rpcValue) rpcAnswer {
	t.Helper()
	var a rpcAnswer
	r := codec.NewReader(frame[4:])
	if v == 3 {
		var p requestf.RequestPacket
		if err := p.ReadFrom(r); err != nil {
			t.Fatalf("TUP answer: %v", err)
		}
		a = rpcAnswer{version: p.IVersion, packetType: p.CPacketType, requestID: p.IRequestId,
			servant: p.SServantName, fn: p.SFuncName, status: p.Status, context: p.Context, body: tools.Int8ToByte(p.SBuffer)}
	} else {
		var p requestf.ResponsePacket
		if err := p.ReadFrom(r); err != nil {
			t.Fatalf("answer: %v", err)
		}
		a = rpcAnswer{version: p.IVersion, packetType: p.CPacketType, requestID: p.IRequestId,
			ret: p.IRet, desc: p.SResultDesc, status: p.Status, context: p.Context, body: tools.Int8ToByte(p.SBuffer)}
	}
	if a.ret != 0 || len(a.body) == 0 && v == 3 || len(outs) == 0 {
		return a // no results
	}
	a.results = map[string]any{}
	switch v {
	case 1:
		r := codec.NewReader(a.body)
		canon := codec.NewBuffer()
		for _, o := range outs {
			x, err := rpcRead(r, o.value, o.tag)
			if err != nil {
				t.Fatalf("result %q: %v", o.name, err)
			}
			a.results[o.name] = x
			if err := rpcWrite(canon, x, o.tag); err != nil {
				t.Fatal(err)
			}
		}
		a.canonical = canon.ToBytes()
	case 3:
		ua := tup.NewUniAttribute()
		if err := ua.Decode(codec.NewReader(a.body)); err != nil {
			t.Fatalf("UniAttribute: %v", err)
		}
		a.raw, a.canonicalEntries = map[string][]byte{}, map[string][]byte{}
		names := []rpcValue{}
		for _, o := range outs {
			names = append(names, o)
			if o.name == "tars_ret" {
				names = append(names, rpcValue{name: "", value: o.value})
			}
		}
		for _, o := range names {
			var b []byte
			if err := ua.GetBuffer(o.name, &b); err != nil {
				t.Fatalf("UniAttribute: %v", err)
			}
			x, err := rpcRead(codec.NewReader(b), o.value, 0)
			if err != nil {
				t.Fatalf("UniAttribute %q: %v", o.name, err)
			}
			a.results[o.name], a.raw[o.name] = x, b
			canon := codec.NewBuffer()
			if err := rpcWrite(canon, x, 0); err != nil {
				t.Fatal(err)
			}
			a.canonicalEntries[o.name] = canon.ToBytes()
		}
	case 5:
		var m map[string]json.RawMessage
		if err := json.Unmarshal(a.body, &m); err != nil {
			t.Fatalf("JSON results %q: %v", a.body, err)
		}
		canon := map[string]any{}
		for _, o := range outs {
			raw, ok := m[o.name]
			if !ok {
				t.Fatalf("JSON results %s: no %q", a.body, o.name)
			}
			x, err := rpcJSONRead(raw, o.value)
			if err != nil {
				t.Fatalf("JSON result %q: %v", o.name, err)
			}
			a.results[o.name], canon[o.name] = x, x
		}
		if len(m) != len(outs) {
			t.Errorf("JSON results %s: want exactly %d entries", a.body, len(outs))
		}
		js, err := json.Marshal(canon)
		if err != nil {
			t.Fatal(err)
		}
		a.canonical = js
	}
	return a
}

// rpcMaskTime checks and blanks every createTime in x (the two servers' clocks
// may be a second apart).
func rpcMaskTime(t *testing.T, x any) any {
	t.Helper()
	user := func(u UserService.UserInfo) UserService.UserInfo {
		if u.UserId != 0 {
			rpcCheckTime(t, u.CreateTime)
		}
		u.CreateTime = ""
		return u
	}
	switch v := x.(type) {
	case UserService.UserInfo:
		return user(v)
	case UserService.UserPage:
		v.Users = slices.Clone(v.Users)
		for i := range v.Users {
			v.Users[i] = user(v.Users[i])
		}
		return v
	case []UserService.UserInfo:
		v = slices.Clone(v)
		for i := range v {
			v[i] = user(v[i])
		}
		return v
	}
	return x
}

// rpcStep is one call of the sequence.
type rpcStep struct {
	name   string
	fn     string
	params func() []rpcValue
	outs   []rpcValue // the results, with a value of each one's type
	// known: how gotars' answer may differ from TarsGo's in this step
	// (see docs/interop.md); nil when it may not.
	known func(t *testing.T, v int16, ours, theirs *rpcAnswer)
}

func TestRPCVersionsDifferential(t *testing.T) {
	gs := rpcStartGotars(t)
	ts, _ := rpcStartTarsGo(t)
	ours, theirs := rpcDial(t, gs.addr), rpcDial(t, ts.Addr())
	for _, v := range []int16{1, 3, 5} {
		t.Run(fmt.Sprintf("version=%d", v), func(t *testing.T) {
			rpcDifferential(t, v, ours, theirs)
		})
	}
}

func rpcDifferential(t *testing.T, v int16, ours, theirs *rpcConn) {
	var alice, bob UserService.UserInfo // as TarsGo's server stored them
	user := UserService.UserInfo{}
	page := UserService.UserPage{}
	users := []UserService.UserInfo{}
	ret := []rpcValue{{name: "tars_ret", tag: 0, value: int32(0)}}
	withResult := []rpcValue{{name: "tars_ret", tag: 0, value: int32(0)}, {name: "result", tag: 2, value: user}}
	one := func(name string, tag byte, x any) func() []rpcValue {
		return func() []rpcValue { return []rpcValue{{name: name, tag: tag, value: x}} }
	}
	// TarsGo's TUP answers have no iRet and no sResultDesc, and TarsGo
	// does not put them in the status map: a failed call's answer is an
	// empty UniAttribute. gotars' TUP answers carry them in the status map
	// as TarsCpp does.
	tupError := func(code int32, desc string) func(t *testing.T, v int16, ours, theirs *rpcAnswer) {
		return func(t *testing.T, v int16, ours, theirs *rpcAnswer) {
			if v != 3 {
				return
			}
			if len(theirs.body) != 0 || len(theirs.status) != 0 {
				t.Errorf("TarsGo's TUP error answer has %q, status %v: TarsGo changed", theirs.body, theirs.status)
			}
			if ours.status["STATUS_RESULT_CODE"] != strconv.Itoa(int(code)) || !strings.Contains(ours.status["STATUS_RESULT_DESC"], desc) {
				t.Errorf("gotars' TUP error answer: status %v; want STATUS_RESULT_CODE %d and a description with %q", ours.status, code, desc)
			}
			ours.status, theirs.status = nil, nil
			ours.body, theirs.body = nil, nil
		}
	}
	steps := []rpcStep{
		{name: "createUser alice", fn: "createUser", outs: withResult, params: one("userInfo", 1, UserService.UserInfo{
			UserName: "alice", Email: "alice@example.com", Age: 30, Tags: []string{"admin", "dev"},
			Metadata: map[string]string{"team": "infra"}})},
		{name: "createUser bob", fn: "createUser", outs: withResult, params: one("userInfo", 1, UserService.UserInfo{
			UserName: "bob", Email: "bob@corp.example", Age: -1})},
		{name: "createUser without email", fn: "createUser", outs: withResult, params: one("userInfo", 1, UserService.UserInfo{UserName: "x"})},
		{name: "getUser", fn: "getUser", outs: []rpcValue{{name: "tars_ret", value: user}},
			params: func() []rpcValue { return []rpcValue{{name: "userId", tag: 1, value: alice.UserId}} }},
		{name: "getUser unknown", fn: "getUser", outs: []rpcValue{{name: "tars_ret", value: user}},
			params: one("userId", 1, int32(9999)), known: tupError(2, "user 9999 not found")},
		{name: "updateUser merge", fn: "updateUser", outs: withResult, params: func() []rpcValue {
			return []rpcValue{{name: "userInfo", tag: 1, value: UserService.UserInfo{UserId: alice.UserId, Age: 31,
				Metadata: map[string]string{"level": "senior"}}}}
		}},
		{name: "updateUser without id", fn: "updateUser", outs: withResult, params: one("userInfo", 1, UserService.UserInfo{UserName: "y"})},
		{name: "updateUser unknown", fn: "updateUser", outs: withResult, params: one("userInfo", 1, UserService.UserInfo{UserId: 9999, UserName: "y"})},
		{name: "queryUsers defaults", fn: "queryUsers", outs: []rpcValue{{name: "tars_ret", value: page}},
			params: one("query", 1, UserService.UserQuery{})},
		{name: "queryUsers page 2", fn: "queryUsers", outs: []rpcValue{{name: "tars_ret", value: page}},
			params: one("query", 1, UserService.UserQuery{Page: 2, PageSize: 1})},
		{name: "queryUsers filtered", fn: "queryUsers", outs: []rpcValue{{name: "tars_ret", value: page}},
			params: one("query", 1, UserService.UserQuery{Email: "corp", PageSize: 500})},
		{name: "batchGetUsers", fn: "batchGetUsers", outs: []rpcValue{{name: "tars_ret", value: users}},
			params: func() []rpcValue {
				return []rpcValue{{name: "userIds", tag: 1, value: []int32{bob.UserId, 9999, alice.UserId}}}
			}},
		{name: "batchGetUsers none", fn: "batchGetUsers", outs: []rpcValue{{name: "tars_ret", value: users}},
			params: one("userIds", 1, []int32{})},
		{name: "deleteUser", fn: "deleteUser", outs: ret,
			params: func() []rpcValue { return []rpcValue{{name: "userId", tag: 1, value: bob.UserId}} }},
		{name: "deleteUser again", fn: "deleteUser", outs: ret,
			params: func() []rpcValue { return []rpcValue{{name: "userId", tag: 1, value: bob.UserId}} }},
		{name: "tars_ping", fn: "tars_ping", params: func() []rpcValue { return nil },
			known: func(t *testing.T, v int16, ours, theirs *rpcAnswer) {
				// TarsGo answers tars_ping with an empty sBuffer in
				// every version; gotars with the empty result of the
				// version (an empty map in TUP, "{}" in JSON) — or
				// nothing, as TarsGo does.
				if v != 1 {
					ours.body, theirs.body = nil, nil
				}
			}},
		{name: "unknown function", fn: "noSuchFunc", params: one("userId", 1, int32(1)),
			known: func(t *testing.T, v int16, ours, theirs *rpcAnswer) {
				// TarsGo: iRet 1 "func mismatch" (dropped in TUP);
				// gotars: TARSSERVERNOFUNCERR (-3).
				if v == 3 {
					tupError(-3, "noSuchFunc")(t, v, ours, theirs)
				} else {
					if theirs.ret != 1 || theirs.desc != "func mismatch" || ours.ret != -3 {
						t.Errorf("unknown function: TarsGo %d %q, gotars %d %q; want 1 \"func mismatch\" and -3", theirs.ret, theirs.desc, ours.ret, ours.desc)
					}
					ours.ret, ours.desc, theirs.ret, theirs.desc = 0, "", 0, ""
				}
			}},
	}
	for i, s := range steps {
		id := int32(100*int(v) + i + 1)
		frame := rpcRequest(t, v, id, s.fn, s.params())
		of, err := ours.roundTrip(frame)
		if err != nil {
			t.Fatalf("%s: gotars: %v", s.name, err)
		}
		tf, err := theirs.roundTrip(frame)
		if err != nil {
			t.Fatalf("%s: TarsGo: %v", s.name, err)
		}
		o, th := rpcDecode(t, v, of, s.outs), rpcDecode(t, v, tf, s.outs)
		if s.fn == "createUser" && th.results != nil && th.results["tars_ret"] == int32(0) {
			switch {
			case alice.UserId == 0:
				alice = th.results["result"].(UserService.UserInfo)
			case bob.UserId == 0:
				bob = th.results["result"].(UserService.UserInfo)
			}
		}
		if th.requestID != id || o.requestID != id {
			t.Errorf("%s: request ids: TarsGo %d, gotars %d; want %d", s.name, th.requestID, o.requestID, id)
		}
		// Bytes: gotars writes what TarsGo's generated code writes for the
		// values it sent (maps in any order: TarsGo's own order is random,
		// so where a map holds two entries or more only the length is
		// compared; the values were compared above).
		exact := true
		for _, x := range o.results {
			exact = exact && !rpcHasBigMap(x)
		}
		same := func(a, b []byte) bool { return bytes.Equal(a, b) || !exact && len(a) == len(b) }
		if o.canonical != nil && !same(o.body, o.canonical) {
			t.Errorf("%s: gotars' results are not as TarsGo's generated Dispatch writes them:\n got %q\nwant %q", s.name, o.body, o.canonical)
		}
		for k, b := range o.raw {
			if !same(b, o.canonicalEntries[k]) {
				t.Errorf("%s: gotars' UniAttribute entry %q is % x; TarsGo writes % x", s.name, k, b, o.canonicalEntries[k])
			}
		}
		if v == 3 {
			// TarsGo leaves the TUP answer's servant and function empty;
			// gotars names them, as TarsCpp does.
			if th.servant != "" || th.fn != "" {
				t.Errorf("%s: TarsGo's TUP answer names %q.%q: TarsGo changed", s.name, th.servant, th.fn)
			}
			if o.servant != userapi.Servant || o.fn != s.fn {
				t.Errorf("%s: gotars' TUP answer names %q.%q; want %q.%q", s.name, o.servant, o.fn, userapi.Servant, s.fn)
			}
			o.servant, o.fn = "", ""
		}
		if s.known != nil {
			s.known(t, v, &o, &th)
		}
		for _, a := range []*rpcAnswer{&o, &th} {
			for k, x := range a.results {
				a.results[k] = rpcMaskTime(t, x)
			}
			a.raw, a.canonical, a.canonicalEntries = nil, nil, nil
			if len(a.status) == 0 {
				a.status = nil
			}
			if len(a.context) == 0 {
				a.context = nil
			}
			if len(a.results) == 0 {
				a.results = nil
			}
			if v != 1 {
				// Compared above as values (JSON) or per entry (TUP): the
				// layout of the whole may differ (map order).
				a.body = nil
			}
		}
		o.body, th.body = rpcMaskBody(o.body), rpcMaskBody(th.body)
		if !exact && len(o.body) == len(th.body) {
			o.body, th.body = nil, nil // map order; the values are compared
		}
		if !reflect.DeepEqual(rpcNormalize(o), rpcNormalize(th)) {
			t.Errorf("%s (version %d): answers differ\ngotars: %+v\nTarsGo: %+v", s.name, v, o, th)
		}
	}
}

// rpcHasBigMap reports whether x holds a map of two entries or more, whose
// order on the wire is not defined.
func rpcHasBigMap(x any) bool {
	big := func(u UserService.UserInfo) bool { return len(u.Metadata) > 1 }
	switch v := x.(type) {
	case UserService.UserInfo:
		return big(v)
	case UserService.UserPage:
		return slices.ContainsFunc(v.Users, big)
	case []UserService.UserInfo:
		return slices.ContainsFunc(v, big)
	}
	return false
}

// rpcMaskBody blanks the createTime strings ("YYYY-MM-DD HH:MM:SS") in a
// version 1 body, which is compared byte for byte.
func rpcMaskBody(b []byte) []byte {
	out := slices.Clone(b)
	for i := 0; i+19 <= len(out); i++ {
		if _, err := time.Parse(time.DateTime, string(out[i:i+19])); err == nil {
			copy(out[i:], "0000-00-00 00:00:00")
		}
	}
	return out
}

// rpcNormalize makes nil and empty containers of results compare equal.
func rpcNormalize(a rpcAnswer) rpcAnswer {
	if a.results != nil {
		m := maps.Clone(a.results)
		for k, x := range m {
			m[k] = rpcNormalizeValue(x)
		}
		a.results = m
	}
	return a
}

func rpcNormalizeValue(x any) any {
	user := func(u UserService.UserInfo) UserService.UserInfo {
		if len(u.Tags) == 0 {
			u.Tags = nil
		}
		if len(u.Metadata) == 0 {
			u.Metadata = nil
		}
		return u
	}
	switch v := x.(type) {
	case UserService.UserInfo:
		return user(v)
	case UserService.UserPage:
		if len(v.Users) == 0 {
			v.Users = nil
		}
		for i := range v.Users {
			v.Users[i] = user(v.Users[i])
		}
		return v
	case []UserService.UserInfo:
		if len(v) == 0 {
			return []UserService.UserInfo(nil)
		}
		for i := range v {
			v[i] = user(v[i])
		}
		return v
	}
	return x
}

// TestRPCOnewayRaw checks on the wire that a oneway request gets no answer
// in any version: the next frame on the connection answers the call after
// it.
func TestRPCOnewayRaw(t *testing.T) {
	gs := rpcStartGotars(t)
	c := rpcDial(t, gs.addr)
	for _, v := range []int16{1, 3, 5} {
		for _, fn := range []string{"createUser", "getUser", "tars_ping", "noSuchFunc"} {
			var params []rpcValue
			switch fn {
			case "createUser":
				params = []rpcValue{{name: "userInfo", tag: 1, value: UserService.UserInfo{UserName: "ow", Email: "ow@example.com"}}}
			case "getUser", "noSuchFunc":
				params = []rpcValue{{name: "userId", tag: 1, value: int32(4242)}}
			}
			frame := rpcRequest(t, v, 1, fn, params)
			var p requestf.RequestPacket
			if err := p.ReadFrom(codec.NewReader(frame[4:])); err != nil {
				t.Fatal(err)
			}
			p.CPacketType = 1 // oneway
			if err := c.send(rpcFrame(&p)); err != nil {
				t.Fatal(err)
			}
		}
		ping := rpcRequest(t, v, 2, "tars_ping", nil)
		got, err := c.roundTrip(ping)
		if err != nil {
			t.Fatal(err)
		}
		a := rpcDecode(t, v, got, nil)
		if a.requestID != 2 {
			t.Fatalf("version %d: the first answer after oneway calls is for request %d; want the ping's (2)", v, a.requestID)
		}
	}
	// The oneway createUser calls ran (perhaps after the ping was answered).
	tc := rpcTarsGoClient(gs.Obj())
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		p, err := tc.QueryUsers(&UserService.UserQuery{UserName: "ow"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total == 3 {
			break
		}
		if p.Total > 3 || time.Now().After(deadline) {
			t.Fatalf("queryUsers after 3 oneway createUser calls: total %d", p.Total)
		}
	}
}
