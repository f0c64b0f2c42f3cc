package protocol

import (
	"slices"
	"strconv"

	"github.com/gotars/tars/codec"
	"github.com/gotars/tars/internal/wire"
)

// RequestPacket is the request of RequestF.tars: what a client sends, and,
// for TUP (version 3), also what the server answers with (see TUPResponse).
type RequestPacket struct {
	Version     int16             // tag 1 iVersion: VersionTARS, VersionTUP or VersionJSON
	PacketType  int8              // tag 2 cPacketType: PacketNormal or PacketOneway
	MessageType int32             // tag 3 iMessageType: Message* flags
	RequestID   int32             // tag 4 iRequestId
	ServantName string            // tag 5 sServantName, e.g. "App.Server.HelloObj"
	FuncName    string            // tag 6 sFuncName
	Buffer      []byte            // tag 7 sBuffer: the encoded parameters
	Timeout     int32             // tag 8 iTimeout, in milliseconds
	Context     map[string]string // tag 9 context
	Status      map[string]string // tag 10 status
}

// ResponsePacket is the response of RequestF.tars.
type ResponsePacket struct {
	Version     int16             // tag 1 iVersion: that of the request
	PacketType  int8              // tag 2 cPacketType
	RequestID   int32             // tag 3 iRequestId: that of the request
	MessageType int32             // tag 4 iMessageType
	Ret         Code              // tag 5 iRet: CodeSuccess, a framework code or a service's code
	Buffer      []byte            // tag 6 sBuffer: the encoded results
	Status      map[string]string // tag 7 status
	ResultDesc  string            // tag 8 sResultDesc (optional): the error text
	Context     map[string]string // tag 9 context (optional)
}

// Every field of RequestPacket is require; ResponsePacket's 8 and 9 are
// optional.
const (
	requestRequired  = 1<<1 | 1<<2 | 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<9 | 1<<10
	responseRequired = 1<<1 | 1<<2 | 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7
)

var requestFieldNames = [...]string{1: "iVersion", 2: "cPacketType", 3: "iMessageType", 4: "iRequestId",
	5: "sServantName", 6: "sFuncName", 7: "sBuffer", 8: "iTimeout", 9: "context", 10: "status"}

var responseFieldNames = [...]string{1: "iVersion", 2: "cPacketType", 3: "iRequestId", 4: "iMessageType",
	5: "iRet", 6: "sBuffer", 7: "status", 8: "sResultDesc", 9: "context"}

// Encode writes the packet's fields to w exactly as TarsGo's generated
// RequestPacket.WriteTo does: all ten, in tag order, zeros included. Map
// entries go in ascending key order.
func (p *RequestPacket) Encode(w *codec.Writer) {
	w.WriteInt64(1, int64(p.Version))
	w.WriteInt64(2, int64(p.PacketType))
	w.WriteInt64(3, int64(p.MessageType))
	w.WriteInt64(4, int64(p.RequestID))
	w.WriteString(5, p.ServantName)
	w.WriteString(6, p.FuncName)
	w.WriteBytes(7, p.Buffer)
	w.WriteInt64(8, int64(p.Timeout))
	writeStringMap(w, 9, p.Context)
	writeStringMap(w, 10, p.Status)
}

// Encode writes the packet's fields to w exactly as TarsGo's generated
// ResponsePacket.WriteTo does: the seven require fields always, sResultDesc
// only when non-empty, context only when non-empty. Map entries go in
// ascending key order.
func (p *ResponsePacket) Encode(w *codec.Writer) {
	w.WriteInt64(1, int64(p.Version))
	w.WriteInt64(2, int64(p.PacketType))
	w.WriteInt64(3, int64(p.RequestID))
	w.WriteInt64(4, int64(p.MessageType))
	w.WriteInt64(5, int64(p.Ret))
	w.WriteBytes(6, p.Buffer)
	writeStringMap(w, 7, p.Status)
	if p.ResultDesc != "" {
		w.WriteString(8, p.ResultDesc)
	}
	if len(p.Context) > 0 {
		writeStringMap(w, 9, p.Context)
	}
}

// sortedKeysOnStack is how many map keys writeStringMap sorts without
// allocating.
const sortedKeysOnStack = 16

// writeStringMap writes a map<string,string> with its entries in ascending key
// order (TarsCpp's std::map order; TarsGo's is random, and any order reads
// back the same).
func writeStringMap(w *codec.Writer, tag uint8, m map[string]string) {
	w.WriteMapHeader(tag, len(m))
	if len(m) == 1 {
		for k, v := range m {
			w.WriteString(0, k)
			w.WriteString(1, v)
		}
		return
	}
	if len(m) == 0 {
		return
	}
	var arr [sortedKeysOnStack]string
	keys := arr[:0]
	if len(m) > len(arr) {
		keys = make([]string, 0, len(m))
	}
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		w.WriteString(0, k)
		w.WriteString(1, m[k])
	}
}

// Decode reads a RequestPacket from r, up to the end of r's input (a frame's
// packet, without the length prefix). Fields may come in any order and
// unknown tags are skipped; a missing field is an error wrapping
// codec.ErrRequiredMissing.
//
// Buffer aliases r's input when it arrives as a SIMPLE_LIST (as every known
// peer sends it): it is valid as long as that input is, and must be copied to
// outlive it. Empty maps decode as nil.
func (p *RequestPacket) Decode(r *codec.Reader) error {
	*p = RequestPacket{}
	var seen uint32
	for r.Remaining() > 0 {
		h, err := r.ReadHead()
		if err != nil {
			return fieldErr(err, "RequestPacket", nil, 0)
		}
		var v int64
		switch h.Tag {
		case 1:
			v, err = r.IntBody(h, codec.Int2)
			p.Version = int16(v)
		case 2:
			v, err = r.IntBody(h, codec.Int1)
			p.PacketType = int8(v)
		case 3:
			v, err = r.IntBody(h, codec.Int4)
			p.MessageType = int32(v)
		case 4:
			v, err = r.IntBody(h, codec.Int4)
			p.RequestID = int32(v)
		case 5:
			p.ServantName, err = internString(r, h)
		case 6:
			p.FuncName, err = internString(r, h)
		case 7:
			p.Buffer, err = r.BytesBody(h)
		case 8:
			v, err = r.IntBody(h, codec.Int4)
			p.Timeout = int32(v)
		case 9:
			p.Context, err = readStringMap(r, h)
		case 10:
			p.Status, err = readStringMap(r, h)
		default:
			err = skip(r, h)
		}
		if err != nil {
			return fieldErr(err, "RequestPacket", requestFieldNames[:], h.Tag)
		}
		if h.Tag < 32 {
			seen |= 1 << h.Tag
		}
	}
	return missing(r, seen, requestRequired, "RequestPacket", requestFieldNames[:])
}

// Decode reads a ResponsePacket from r, up to the end of r's input (a
// frame's packet, without the length prefix), with the same rules as
// RequestPacket.Decode: fields in any order, unknown tags skipped, Buffer
// aliasing the input, empty maps nil.
//
// A packet whose iVersion is VersionTUP is read in the RequestPacket layout
// that TUP servers answer with (see TUPResponse) and mapped onto the
// response: Ret and ResultDesc come from the STATUS_RESULT_CODE and
// STATUS_RESULT_DESC status entries when present (TarsCpp writes them; TarsGo
// writes neither, so its TUP errors read as success with an empty Buffer).
func (p *ResponsePacket) Decode(r *codec.Reader) error {
	if version(r.Rest()) == VersionTUP {
		var req RequestPacket
		if err := req.Decode(r); err != nil {
			return err
		}
		*p = responseFromTUP(&req)
		return nil
	}
	*p = ResponsePacket{}
	var seen uint32
	for r.Remaining() > 0 {
		h, err := r.ReadHead()
		if err != nil {
			return fieldErr(err, "ResponsePacket", nil, 0)
		}
		var v int64
		switch h.Tag {
		case 1:
			v, err = r.IntBody(h, codec.Int2)
			p.Version = int16(v)
		case 2:
			v, err = r.IntBody(h, codec.Int1)
			p.PacketType = int8(v)
		case 3:
			v, err = r.IntBody(h, codec.Int4)
			p.RequestID = int32(v)
		case 4:
			v, err = r.IntBody(h, codec.Int4)
			p.MessageType = int32(v)
		case 5:
			v, err = r.IntBody(h, codec.Int4)
			p.Ret = Code(v)
		case 6:
			p.Buffer, err = r.BytesBody(h)
		case 7:
			p.Status, err = readStringMap(r, h)
		case 8:
			p.ResultDesc, err = r.StringBody(h)
		case 9:
			p.Context, err = readStringMap(r, h)
		default:
			err = skip(r, h)
		}
		if err != nil {
			return fieldErr(err, "ResponsePacket", responseFieldNames[:], h.Tag)
		}
		if h.Tag < 32 {
			seen |= 1 << h.Tag
		}
	}
	return missing(r, seen, responseRequired, "ResponsePacket", responseFieldNames[:])
}

// version peeks at the iVersion of an encoded packet: tag 1, the first field
// every peer writes. It returns 0 when the packet does not start with it.
func version(b []byte) int16 {
	if len(b) < 1 || b[0]>>4 != 1 {
		return 0
	}
	switch codec.Type(b[0] & 0x0F) {
	case codec.Int1:
		if len(b) >= 2 {
			return int16(int8(b[1]))
		}
	case codec.Int2:
		if len(b) >= 3 {
			return int16(b[1])<<8 | int16(b[2])
		}
	}
	return 0
}

// skip skips an unknown field; a STRUCT_END cannot appear at the top level.
func skip(r *codec.Reader, h codec.Head) error {
	if h.Type == codec.StructEnd {
		return r.Errorf(codec.ErrMalformed, int(h.Tag), "field", "STRUCT_END outside a struct")
	}
	return r.Skip(h)
}

func fieldErr(err error, pkt string, names []string, tag uint8) error {
	if ce, ok := err.(*codec.Error); ok && ce.Path == "" {
		if int(tag) < len(names) && names[tag] != "" {
			ce.Path = pkt + "." + names[tag]
		} else {
			ce.Path = pkt
		}
	}
	return err
}

func missing(r *codec.Reader, seen, required uint32, pkt string, names []string) error {
	if seen&required == required {
		return nil
	}
	for tag := 1; tag < len(names); tag++ {
		if required&(1<<tag) != 0 && seen&(1<<tag) == 0 {
			return &codec.Error{Kind: codec.ErrRequiredMissing, Offset: r.Offset(), Tag: tag,
				Expected: "require field " + names[tag] + " (tag " + strconv.Itoa(tag) + ")",
				Found:    "none", Path: pkt + "." + names[tag]}
		}
	}
	return nil
}

// internString reads a string body through the intern table.
func internString(r *codec.Reader, h codec.Head) (string, error) {
	b, err := r.StringBytesBody(h)
	if err != nil {
		return "", err
	}
	return intern(b), nil
}

// mapSizeHint caps the capacity given to make for a decoded map, so that a
// hostile length costs nothing before its entries are actually read.
const mapSizeHint = 16

// What the decoded maps are charged to the Reader's budget: the header when
// made, and per new entry its share of the tables plus the key's bytes
// (wire.MapCost's estimate).
var (
	mapHeader    = wire.MapHeader
	strEntryCost = wire.MapEntryCost(wire.StringSize, wire.StringSize)
	tupEntryCost = wire.MapEntryCost(wire.StringSize, wire.SliceSize)
)

// readStringMap reads a map<string,string> whose head is h; keys are
// interned, and an empty map reads as nil.
func readStringMap(r *codec.Reader, h codec.Head) (map[string]string, error) {
	n, err := r.MapLen(h)
	if err != nil || n == 0 {
		return nil, err
	}
	if err := r.Charge(mapHeader); err != nil {
		return nil, err
	}
	m := make(map[string]string, min(n, mapSizeHint))
	for range n {
		kh, err := r.ReadHead()
		if err != nil {
			return nil, err
		}
		if kh.Tag != 0 {
			return nil, r.Errorf(codec.ErrMalformed, int(kh.Tag), "map key with tag 0", "tag "+strconv.Itoa(int(kh.Tag)))
		}
		k, err := internString(r, kh)
		if err != nil {
			return nil, err
		}
		vh, err := r.ReadHead()
		if err != nil {
			return nil, err
		}
		if vh.Tag != 1 {
			return nil, r.Errorf(codec.ErrMalformed, int(vh.Tag), "map value with tag 1", "tag "+strconv.Itoa(int(vh.Tag)))
		}
		v, err := r.StringBody(vh)
		if err != nil {
			return nil, err
		}
		l := len(m)
		if m[k] = v; len(m) > l { // a new entry
			if err := r.Charge(strEntryCost + wire.Alloc(len(k))); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
