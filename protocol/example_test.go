package protocol_test

import (
	"bytes"
	"fmt"

	"github.com/gotars/tars/protocol"
)

// A client appends request frames to one buffer; a server reads them back one
// frame at a time and answers each in the version it came in.
func Example_framing() {
	var wire []byte
	for id := int32(1); id <= 2; id++ {
		wire = protocol.AppendRequest(wire, &protocol.RequestPacket{
			Version:     protocol.VersionTARS,
			RequestID:   id,
			ServantName: "App.Server.HelloObj",
			FuncName:    "tars_ping",
			Timeout:     3000,
		})
	}

	fr := protocol.NewFrameReader(bytes.NewReader(wire), protocol.DefaultMaxPacket)
	var answers []byte
	for {
		frame, err := fr.Next()
		if err != nil {
			break // io.EOF at the end of the stream
		}
		var req protocol.RequestPacket
		if err := protocol.DecodeRequest(frame, &req); err != nil {
			fmt.Println("bad request:", err)
			return
		}
		fmt.Printf("request %d: %s.%s, %d-byte frame\n", req.RequestID, req.ServantName, req.FuncName, len(frame))
		answers = protocol.AppendReply(answers, &req, &protocol.ResponsePacket{
			Version:   req.Version,
			RequestID: req.RequestID,
		})
	}

	for len(answers) > 0 {
		n, err := protocol.SplitFrame(answers, 0)
		if err != nil || n == 0 {
			fmt.Println("bad stream:", err)
			return
		}
		var resp protocol.ResponsePacket
		if err := protocol.DecodeResponse(answers[:n], &resp); err != nil {
			fmt.Println("bad response:", err)
			return
		}
		fmt.Printf("response %d: %v\n", resp.RequestID, resp.Ret)
		answers = answers[n:]
	}
	// Output:
	// request 1: App.Server.HelloObj.tars_ping, 52-byte frame
	// request 2: App.Server.HelloObj.tars_ping, 52-byte frame
	// response 1: TARSSERVERSUCCESS
	// response 2: TARSSERVERSUCCESS
}
