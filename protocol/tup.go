package protocol

import (
	"slices"
	"strconv"

	"github.com/gotars/tars/codec"
	"github.com/gotars/tars/internal/wire"
)

// TUP (version 3) carries parameters by name. The sBuffer of a TUP request
// (and of its answer) is a UniAttribute: one map<string, vector<byte>> at tag
// 0 whose keys are the IDL parameter names and whose values are each
// parameter encoded on its own at tag 0 (a struct as STRUCT_BEGIN … STRUCT_END
// at tag 0, an int as an int field with tag 0, and so on). Encoding each
// value is the caller's business (package reflectcodec); this file deals with
// the map and with the packet a TUP server answers with.
//
// The answer to a TUP request is not a ResponsePacket but a RequestPacket
// (TarsGo's tarsprotocol.go rsp2Byte/req2Byte, TarsCpp's
// Current::sendResponse): see TUPResponse. Its UniAttribute holds the return
// value under TUPRetKey ("tars_ret") and, as TarsGo's generated Dispatch also
// writes it, under the empty key "", plus each out parameter under its name.
const (
	// TUPRetKey is the UniAttribute key of a function's return value.
	TUPRetKey = "tars_ret"
	// StatusResultCode is the status key under which a TUP answer carries a
	// non-zero iRet, in decimal (TarsCpp's ServantProxy::STATUS_RESULT_CODE).
	StatusResultCode = "STATUS_RESULT_CODE"
	// StatusResultDesc is the status key under which a TUP answer carries a
	// non-empty sResultDesc (TarsCpp's ServantProxy::STATUS_RESULT_DESC).
	StatusResultDesc = "STATUS_RESULT_DESC"
)

// TUPAttr is one entry of a UniAttribute: a parameter's IDL name and its
// encoding (the value alone, at tag 0).
type TUPAttr struct {
	Name  string
	Value []byte
}

// EncodeTUP writes the UniAttribute attrs (version 3) to w: the map at tag 0,
// entries in ascending key order (as TarsCpp's std::map writes them; TarsGo's
// order is random, and any order reads back the same). Values are written as
// SIMPLE_LIST, as TarsGo's tup.UniAttribute.Encode does.
func EncodeTUP(w *codec.Writer, attrs map[string][]byte) {
	w.WriteMapHeader(0, len(attrs))
	if len(attrs) == 0 {
		return
	}
	var arr [sortedKeysOnStack]string
	keys := arr[:0]
	if len(attrs) > len(arr) {
		keys = make([]string, 0, len(attrs))
	}
	for k := range attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		w.WriteString(0, k)
		w.WriteBytes(1, attrs[k])
	}
}

// EncodeTUPAttrs writes the UniAttribute attrs (version 3) to w in the order
// given, without allocating. Names should be distinct; sort them by name for
// the bytes EncodeTUP (and TarsCpp) would write.
func EncodeTUPAttrs(w *codec.Writer, attrs []TUPAttr) {
	w.WriteMapHeader(0, len(attrs))
	for i := range attrs {
		w.WriteString(0, attrs[i].Name)
		w.WriteBytes(1, attrs[i].Value)
	}
}

// DecodeTUP reads a UniAttribute (version 3) from buf: the map at tag 0,
// whose values may come as SIMPLE_LIST or as a LIST of bytes. Unknown fields
// around the map are skipped; an empty buf (or one without the map) reads as
// an empty map. The values alias buf (except those sent as LIST). A key that
// appears twice keeps its last value. The map is charged to the default
// decode budget for len(buf) (codec.DefaultBudget); see DecodeTUPFrom.
func DecodeTUP(buf []byte) (map[string][]byte, error) {
	var r codec.Reader
	r.Reset(buf)
	return DecodeTUPFrom(&r)
}

// DecodeTUPFrom is DecodeTUP reading from r, to the end of r's input: the
// map, its keys and the values sent as LIST are charged to r's budget
// (codec.Reader.SetBudget), and r.Budget() afterwards is what is left for
// decoding the values.
func DecodeTUPFrom(r *codec.Reader) (map[string][]byte, error) {
	h, found, err := r.SkipTo(0)
	if err != nil {
		return nil, err
	}
	if !found {
		return map[string][]byte{}, nil
	}
	n, err := r.MapLen(h)
	if err != nil {
		return nil, tupErr(err)
	}
	// The map grows as entries come (a hostile length costs nothing until
	// its entries are read); each new entry is charged its share.
	if err := r.Charge(mapHeader); err != nil {
		return nil, tupErr(err)
	}
	m := make(map[string][]byte, min(n, mapSizeHint))
	for range n {
		kh, err := r.ReadHead()
		if err != nil {
			return nil, tupErr(err)
		}
		if kh.Tag != 0 {
			return nil, tupErr(r.Errorf(codec.ErrMalformed, int(kh.Tag), "UniAttribute key with tag 0", "tag "+strconv.Itoa(int(kh.Tag))))
		}
		k, err := internString(r, kh)
		if err != nil {
			return nil, tupErr(err)
		}
		vh, err := r.ReadHead()
		if err != nil {
			return nil, tupErr(err)
		}
		if vh.Tag != 1 {
			return nil, tupErr(r.Errorf(codec.ErrMalformed, int(vh.Tag), "UniAttribute value with tag 1", "tag "+strconv.Itoa(int(vh.Tag))))
		}
		v, err := r.BytesBody(vh)
		if err != nil {
			return nil, tupErr(err)
		}
		l := len(m)
		if m[k] = v; len(m) > l { // a new entry
			if err := r.Charge(tupEntryCost + wire.Alloc(len(k))); err != nil {
				return nil, tupErr(err)
			}
		}
	}
	return m, nil
}

func tupErr(err error) error {
	if ce, ok := err.(*codec.Error); ok && ce.Path == "" {
		ce.Path = "UniAttribute"
	}
	return err
}

// TUPResponse returns the packet that answers the TUP request req with resp,
// in the RequestPacket layout TUP clients read. It follows TarsCpp's
// Current::sendResponse, the more complete of the two reference servers:
//
//   - Version, RequestID, MessageType, ServantName and FuncName are the
//     request's; PacketType is PacketNormal; Timeout is 0.
//   - Buffer is resp.Buffer (the encoded UniAttribute) and Context is
//     resp.Context.
//   - Status is resp.Status plus, when resp.Ret is not CodeSuccess,
//     StatusResultCode = the decimal code and, when resp.ResultDesc is not
//     empty, StatusResultDesc = the text. (A new map is made then; resp.Status
//     is not modified.)
//
// TarsGo's server (tarsprotocol.go req2Byte) differs: it leaves ServantName
// and FuncName empty, sends MessageType 0 and drops iRet and sResultDesc
// entirely. Clients read both alike.
func TUPResponse(req *RequestPacket, resp *ResponsePacket) RequestPacket {
	status := resp.Status
	if resp.Ret != CodeSuccess || resp.ResultDesc != "" {
		status = make(map[string]string, len(resp.Status)+2)
		for k, v := range resp.Status {
			status[k] = v
		}
		if resp.Ret != CodeSuccess {
			status[StatusResultCode] = strconv.FormatInt(int64(resp.Ret), 10)
		}
		if resp.ResultDesc != "" {
			status[StatusResultDesc] = resp.ResultDesc
		}
	}
	return RequestPacket{
		Version:     req.Version,
		PacketType:  PacketNormal,
		MessageType: req.MessageType,
		RequestID:   req.RequestID,
		ServantName: req.ServantName,
		FuncName:    req.FuncName,
		Buffer:      resp.Buffer,
		Context:     resp.Context,
		Status:      status,
	}
}

// responseFromTUP maps a TUP answer (RequestPacket layout) onto a
// ResponsePacket: the inverse of TUPResponse. The result entries stay in
// Status as well.
func responseFromTUP(p *RequestPacket) ResponsePacket {
	resp := ResponsePacket{
		Version:     p.Version,
		PacketType:  p.PacketType,
		RequestID:   p.RequestID,
		MessageType: p.MessageType,
		Buffer:      p.Buffer,
		Status:      p.Status,
		Context:     p.Context,
	}
	if s, ok := p.Status[StatusResultCode]; ok {
		if v, err := strconv.ParseInt(s, 10, 32); err == nil {
			resp.Ret = Code(v)
		} else {
			resp.Ret = CodeClientDecodeErr
			resp.ResultDesc = "bad " + StatusResultCode + " " + strconv.Quote(s)
		}
	}
	if s, ok := p.Status[StatusResultDesc]; ok {
		resp.ResultDesc = s
	}
	return resp
}
