package corpus

// The mirrors below follow the .tars files TarsGo v1.4.6 ships under
// tars/protocol/res/ (RequestF, EndpointF, StatF, NodeF, PropertyF, ConfigF,
// LogF, NotifyF, AuthF); the Go names are gotars style, the IDL names are kept
// with name= where lowerCamel would not give them.

// RequestPacket mirrors requestf::RequestPacket, the TARS request frame body.
type RequestPacket struct {
	Version     int16             `tars:"1,require,name=iVersion"`
	PacketType  int8              `tars:"2,require,name=cPacketType,default=0"`
	MessageType int32             `tars:"3,require,name=iMessageType,default=0"`
	RequestID   int32             `tars:"4,require,name=iRequestId"`
	ServantName string            `tars:"5,require,name=sServantName,default=\"\""`
	FuncName    string            `tars:"6,require,name=sFuncName,default=\"\""`
	Buffer      []byte            `tars:"7,require,name=sBuffer"`
	Timeout     int32             `tars:"8,require,name=iTimeout,default=0"`
	Context     map[string]string `tars:"9,require"`
	Status      map[string]string `tars:"10,require"`
}

// ResponsePacket mirrors requestf::ResponsePacket, the TARS response frame
// body.
type ResponsePacket struct {
	Version     int16             `tars:"1,require,name=iVersion"`
	PacketType  int8              `tars:"2,require,name=cPacketType,default=0"`
	RequestID   int32             `tars:"3,require,name=iRequestId"`
	MessageType int32             `tars:"4,require,name=iMessageType,default=0"`
	Ret         int32             `tars:"5,require,name=iRet,default=0"`
	Buffer      []byte            `tars:"6,require,name=sBuffer"`
	Status      map[string]string `tars:"7,require"`
	ResultDesc  string            `tars:"8,name=sResultDesc"`
	Context     map[string]string `tars:"9"`
}

// EndpointF mirrors endpointf::EndpointF, one endpoint as the registry
// returns it (note the gap at tag 10).
type EndpointF struct {
	Host        string `tars:"0,require"`
	Port        int32  `tars:"1,require"`
	Timeout     int32  `tars:"2,require"`
	IsTCP       int32  `tars:"3,require,name=istcp"`
	Grid        int32  `tars:"4,require"`
	GroupWorkID int32  `tars:"5,name=groupworkid"`
	GroupRealID int32  `tars:"6,name=grouprealid"`
	SetID       string `tars:"7,name=setId"`
	QoS         int32  `tars:"8,name=qos"`
	BakFlag     int32  `tars:"9"`
	Weight      int32  `tars:"11"`
	WeightType  int32  `tars:"12"`
	AuthType    int32  `tars:"13"`
}

// StatMicMsgHead mirrors statf::StatMicMsgHead, the key of a call-statistics
// report.
type StatMicMsgHead struct {
	MasterName    string `tars:"0,require"`
	SlaveName     string `tars:"1,require"`
	InterfaceName string `tars:"2,require"`
	MasterIP      string `tars:"3,require,name=masterIp"`
	SlaveIP       string `tars:"4,require,name=slaveIp"`
	SlavePort     int32  `tars:"5,require"`
	ReturnValue   int32  `tars:"6,require"`
	SlaveSetName  string `tars:"7"`
	SlaveSetArea  string `tars:"8"`
	SlaveSetID    string `tars:"9"`
	TarsVersion   string `tars:"10"`
}

// StatMicMsgBody mirrors statf::StatMicMsgBody, the counters of a
// call-statistics report.
type StatMicMsgBody struct {
	Count         int32           `tars:"0,require"`
	TimeoutCount  int32           `tars:"1,require"`
	ExecCount     int32           `tars:"2,require"`
	IntervalCount map[int32]int32 `tars:"3,require"`
	TotalRspTime  int64           `tars:"4,require"`
	MaxRspTime    int32           `tars:"5,require"`
	MinRspTime    int32           `tars:"6,require"`
}

// StatSampleMsg mirrors statf::StatSampleMsg.
type StatSampleMsg struct {
	UnID          string `tars:"0,require,name=unid"`
	MasterName    string `tars:"1,require"`
	SlaveName     string `tars:"2,require"`
	InterfaceName string `tars:"3,require"`
	MasterIP      string `tars:"4,require,name=masterIp"`
	SlaveIP       string `tars:"5,require,name=slaveIp"`
	Depth         int32  `tars:"6,require"`
	Width         int32  `tars:"7,require"`
	ParentWidth   int32  `tars:"8,require"`
}

// ProxyInfo mirrors statf::ProxyInfo.
type ProxyInfo struct {
	FromClient bool `tars:"0,require,name=bFromClient"`
}

// ServerInfo mirrors nodef::ServerInfo, what a server reports to tarsnode in
// keepAlive.
type ServerInfo struct {
	Application string `tars:"0,require"`
	ServerName  string `tars:"1,require"`
	PID         int32  `tars:"2,require,name=pid"`
	Adapter     string `tars:"3"`
}

// StatPropMsgHead mirrors propertyf::StatPropMsgHead.
type StatPropMsgHead struct {
	ModuleName   string `tars:"0,require"`
	IP           string `tars:"1,require"`
	PropertyName string `tars:"2,require"`
	SetName      string `tars:"3"`
	SetArea      string `tars:"4"`
	SetID        string `tars:"5"`
	Container    string `tars:"6,name=sContainer"`
	PropertyVer  int32  `tars:"7,name=iPropertyVer,default=1"`
}

// StatPropInfo mirrors propertyf::StatPropInfo.
type StatPropInfo struct {
	Policy string `tars:"0,require"`
	Value  string `tars:"1,require"`
}

// StatPropMsgBody mirrors propertyf::StatPropMsgBody: a require vector of
// structs.
type StatPropMsgBody struct {
	Info []StatPropInfo `tars:"0,require,name=vInfo"`
}

// ConfigInfo mirrors configf::ConfigInfo.
type ConfigInfo struct {
	AppName     string `tars:"0,require,name=appname"`
	ServerName  string `tars:"1,require,name=servername"`
	FileName    string `tars:"2,require,name=filename"`
	AppOnly     bool   `tars:"3,require,name=bAppOnly,default=false"`
	Host        string `tars:"4"`
	SetDivision string `tars:"5,name=setdivision"`
}

// GetConfigListInfo mirrors configf::GetConfigListInfo.
type GetConfigListInfo struct {
	AppName       string `tars:"0,require,name=appname"`
	ServerName    string `tars:"1,name=servername"`
	AppOnly       bool   `tars:"2,name=bAppOnly,default=false"`
	Host          string `tars:"3,default=\"\""`
	SetDivision   string `tars:"4,name=setdivision,default=\"\""`
	ContainerName string `tars:"5,name=containername,default=\"\""`
}

// LogInfo mirrors logf::LogInfo: optional bools and strings with non-zero
// defaults.
type LogInfo struct {
	AppName          string `tars:"0,require,name=appname"`
	ServerName       string `tars:"1,require,name=servername"`
	FileName         string `tars:"2,require,name=sFilename"`
	Format           string `tars:"3,require,name=sFormat"`
	SetDivision      string `tars:"4,name=setdivision"`
	HasSuffix        bool   `tars:"5,name=bHasSufix,default=true"`
	HasAppNamePrefix bool   `tars:"6,name=bHasAppNamePrefix,default=true"`
	HasSquareBracket bool   `tars:"7,name=bHasSquareBracket,default=false"`
	ConcatStr        string `tars:"8,name=sConcatStr,default=_"`
	Separator        string `tars:"9,name=sSepar,default=|"`
	LogType          string `tars:"10,name=sLogType,default=\"\""`
}

// NotifyLevel mirrors the IDL enum notifyf::NOTIFYLEVEL.
type NotifyLevel int32

// ReportType mirrors the IDL enum notifyf::ReportType.
type ReportType int32

// ReportInfo mirrors notifyf::ReportInfo: enums as require and optional
// fields.
type ReportInfo struct {
	Type      ReportType  `tars:"1,require,name=eType"`
	App       string      `tars:"2,require,name=sApp"`
	Set       string      `tars:"3,require,name=sSet"`
	Container string      `tars:"4,require,name=sContainer"`
	Server    string      `tars:"5,require,name=sServer"`
	Message   string      `tars:"6,require,name=sMessage"`
	ThreadID  string      `tars:"7,name=sThreadId"`
	Level     NotifyLevel `tars:"8,name=eLevel"`
	NodeName  string      `tars:"9,name=sNodeName"`
}

// BasicAuthPackage mirrors authf::BasicAuthPackage.
type BasicAuthPackage struct {
	ObjName    string `tars:"1,require,name=sObjName"`
	AccessKey  string `tars:"2,require,name=sAccessKey"`
	Time       int64  `tars:"3,require,name=iTime"`
	HashMethod string `tars:"4,name=sHashMethod,default=sha1"`
	Signature  string `tars:"5,name=sSignature"`
}
