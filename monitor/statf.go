package monitor

import "github.com/gotars/tars"

// This file declares the TARS stat server's interface, StatF (TarsGo
// tars/protocol/res/StatF.tars, TarsProtocol servant/StatF.tars),
// code-first. A StatReporter calls it; a program or a test can serve it with
// tars.Handle.

// StatObj is the stat server's servant, the object TARS clients report call
// statistics to (the client config key "stat").
const StatObj = "tars.tarsstat.StatObj"

// StatMicMsgHead is the key of one row of call statistics ("Mic": module
// interval call): who called what, where, and with which return value.
// It is a Go map key (every field comparable), as TARS allows a struct to
// key a map.
type StatMicMsgHead struct {
	MasterName    string `tars:"0,require,name=masterName"`    // the caller: its module name, or "stat_from_server" in a server's own report
	SlaveName     string `tars:"1,require,name=slaveName"`     // the callee, "App.Server" (plus ".<set>" in a set)
	InterfaceName string `tars:"2,require,name=interfaceName"` // the method
	MasterIP      string `tars:"3,require,name=masterIp"`      // the caller's IP ("" in a server's report)
	SlaveIP       string `tars:"4,require,name=slaveIp"`       // the callee's IP
	SlavePort     int32  `tars:"5,require,name=slavePort"`     // the callee's port (0 in a server's report)
	ReturnValue   int32  `tars:"6,require,name=returnValue"`   // the response's iRet
	SlaveSetName  string `tars:"7,name=slaveSetName"`          // the callee's set name, "" outside sets
	SlaveSetArea  string `tars:"8,name=slaveSetArea"`          // the callee's set area
	SlaveSetID    string `tars:"9,name=slaveSetID"`            // the callee's set group
	TarsVersion   string `tars:"10,name=tarsVersion"`          // the reporting framework's version
}

// StatMicMsgBody is the value of one row of call statistics over an
// interval. Times are milliseconds.
type StatMicMsgBody struct {
	Count         int32           `tars:"0,require,name=count"`         // successful calls
	TimeoutCount  int32           `tars:"1,require,name=timeoutCount"`  // calls that timed out
	ExecCount     int32           `tars:"2,require,name=execCount"`     // calls that failed otherwise
	IntervalCount map[int32]int32 `tars:"3,require,name=intervalCount"` // calls per time bucket: key is the bucket's upper bound (see TimeBuckets)
	TotalRspTime  int64           `tars:"4,require,name=totalRspTime"`  // the sum of the calls' times
	MaxRspTime    int32           `tars:"5,require,name=maxRspTime"`    // the longest call
	MinRspTime    int32           `tars:"6,require,name=minRspTime"`    // the shortest call
}

// StatSampleMsg is one sampled call of a call chain (reportSampleMsg). No
// TARS framework sends it today (TarsGo never calls reportSampleMsg, and
// TarsCpp's call is commented out); it is declared for completeness.
type StatSampleMsg struct {
	UnID          string `tars:"0,require,name=unid"`
	MasterName    string `tars:"1,require,name=masterName"`
	SlaveName     string `tars:"2,require,name=slaveName"`
	InterfaceName string `tars:"3,require,name=interfaceName"`
	MasterIP      string `tars:"4,require,name=masterIp"`
	SlaveIP       string `tars:"5,require,name=slaveIp"`
	Depth         int32  `tars:"6,require,name=depth"`
	Width         int32  `tars:"7,require,name=width"`
	ParentWidth   int32  `tars:"8,require,name=parentWidth"`
}

// StatF is the stat server's interface.
var StatF = tars.NewService("StatF")

// ReportMicMsgArgs lists the in parameters of reportMicMsg.
type ReportMicMsgArgs struct {
	Msg        map[StatMicMsgHead]StatMicMsgBody `tars:"1,name=msg"`
	FromClient bool                              `tars:"2,name=bFromClient"` // true: callers' reports; false: servers' own
}

// ReportSampleMsgArgs lists the in parameter of reportSampleMsg.
type ReportSampleMsgArgs struct {
	Msg []StatSampleMsg `tars:"1,name=msg"`
}

// StatF's methods.
var (
	// ReportMicMsg: int reportMicMsg(map<StatMicMsgHead, StatMicMsgBody>
	// msg, bool bFromClient); 0 on success.
	ReportMicMsg = tars.NewEndpoint[ReportMicMsgArgs, int32](StatF, "reportMicMsg")
	// ReportSampleMsg: int reportSampleMsg(vector<StatSampleMsg> msg).
	ReportSampleMsg = tars.NewEndpoint[ReportSampleMsgArgs, int32](StatF, "reportSampleMsg")
)
