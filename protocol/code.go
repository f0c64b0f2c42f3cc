package protocol

import "strconv"

// Code is a TARS return code: the iRet of a ResponsePacket. The negative
// values below are the framework's own (BaseF.tars); any other value is a
// service's own error code, chosen by the handler.
type Code int32

// The framework return codes of BaseF.tars.
const (
	CodeSuccess             Code = 0   // TARSSERVERSUCCESS: the call succeeded
	CodeServerDecodeErr     Code = -1  // TARSSERVERDECODEERR: the server could not decode the request
	CodeServerEncodeErr     Code = -2  // TARSSERVERENCODEERR: the server could not encode the response
	CodeServerNoFuncErr     Code = -3  // TARSSERVERNOFUNCERR: no such function
	CodeServerNoServantErr  Code = -4  // TARSSERVERNOSERVANTERR: no such servant
	CodeServerResetGrid     Code = -5  // TARSSERVERRESETGRID: grey-release state mismatch
	CodeServerQueueTimeout  Code = -6  // TARSSERVERQUEUETIMEOUT: the request waited past its timeout
	CodeAsyncCallTimeout    Code = -7  // TARSASYNCCALLTIMEOUT: an asynchronous call timed out
	CodeInvokeTimeout       Code = -7  // TARSINVOKETIMEOUT: the call timed out (same value)
	CodeProxyConnectErr     Code = -8  // TARSPROXYCONNECTERR: the client could not connect
	CodeServerOverload      Code = -9  // TARSSERVEROVERLOAD: the server's queue is full
	CodeAdapterNull         Code = -10 // TARSADAPTERNULL: no endpoint to call
	CodeInvokeByInvalidEset Code = -11 // TARSINVOKEBYINVALIDESET: a set-rule violation
	CodeClientDecodeErr     Code = -12 // TARSCLIENTDECODEERR: the client could not decode the response
	CodeSendRequestErr      Code = -13 // TARSSENDREQUESTERR: the request could not be sent
	CodeServerUnknownErr    Code = -99 // TARSSERVERUNKNOWNERR: any other server failure
)

// String returns the BaseF.tars name of a framework code, such as
// "TARSSERVERDECODEERR" (−7 is "TARSINVOKETIMEOUT"), or "code(N)" for a
// service's own code.
func (c Code) String() string {
	switch c {
	case CodeSuccess:
		return "TARSSERVERSUCCESS"
	case CodeServerDecodeErr:
		return "TARSSERVERDECODEERR"
	case CodeServerEncodeErr:
		return "TARSSERVERENCODEERR"
	case CodeServerNoFuncErr:
		return "TARSSERVERNOFUNCERR"
	case CodeServerNoServantErr:
		return "TARSSERVERNOSERVANTERR"
	case CodeServerResetGrid:
		return "TARSSERVERRESETGRID"
	case CodeServerQueueTimeout:
		return "TARSSERVERQUEUETIMEOUT"
	case CodeInvokeTimeout:
		return "TARSINVOKETIMEOUT"
	case CodeProxyConnectErr:
		return "TARSPROXYCONNECTERR"
	case CodeServerOverload:
		return "TARSSERVEROVERLOAD"
	case CodeAdapterNull:
		return "TARSADAPTERNULL"
	case CodeInvokeByInvalidEset:
		return "TARSINVOKEBYINVALIDESET"
	case CodeClientDecodeErr:
		return "TARSCLIENTDECODEERR"
	case CodeSendRequestErr:
		return "TARSSENDREQUESTERR"
	case CodeServerUnknownErr:
		return "TARSSERVERUNKNOWNERR"
	}
	return "code(" + strconv.FormatInt(int64(c), 10) + ")"
}

// Packet versions (iVersion). A server answers in the version the request
// came in.
const (
	VersionTARS int16 = 1 // TARSVERSION: parameters by tag in sBuffer
	VersionTUP  int16 = 3 // TUPVERSION: parameters by name in a UniAttribute map
	VersionJSON int16 = 5 // JSONVERSION: parameters by name in a JSON object
)

// Packet types (cPacketType).
const (
	PacketNormal int8 = 0 // TARSNORMAL: a call that expects a response
	PacketOneway int8 = 1 // TARSONEWAY: a call that gets no response
)

// Message type flags (iMessageType), combined with |.
const (
	MessageNull    int32 = 0x00  // TARSMESSAGETYPENULL: no flags
	MessageHash    int32 = 0x01  // TARSMESSAGETYPEHASH: a hash-routed call
	MessageGrid    int32 = 0x02  // TARSMESSAGETYPEGRID: a grey-release call
	MessageDyed    int32 = 0x04  // TARSMESSAGETYPEDYED: a dyed (traced for debugging) call
	MessageSample  int32 = 0x08  // TARSMESSAGETYPESAMPLE: sampled for statistics
	MessageAsync   int32 = 0x10  // TARSMESSAGETYPEASYNC: an asynchronous call
	MessageSetName int32 = 0x80  // TARSMESSAGETYPESETNAME: routed by set name
	MessageTrace   int32 = 0x100 // TARSMESSAGETYPETRACE: carries a call-chain trace key
)
