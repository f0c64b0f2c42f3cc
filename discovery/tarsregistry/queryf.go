package tarsregistry

import "github.com/gotars/tars"

// This file declares the TARS registry's query interface, QueryF
// (TarsGo tars/protocol/res/QueryF.tars, TarsProtocol servant/QueryF.tars),
// code-first. The Resolver calls it; a program can also serve it with
// tars.Handle (the package's tests run a registry that way).

// QueryObj is the registry's query servant, the object a TARS locator names.
const QueryObj = "tars.tarsregistry.QueryObj"

// EndpointF is one endpoint as the registry lists it (EndpointF.tars). Tags
// 0 to 13 are TarsGo v1.4.6's; tag 14, nodeName, is TarsProtocol's newer
// field, which TarsGo neither writes nor reads. Tags a newer registry adds
// after these are skipped when read.
//
// The json names are those of TarsGo's generated struct, so a .tarsdat cache
// file reads and writes the same in both (nodeName is left out when empty:
// TarsGo has no such field).
type EndpointF struct {
	Host        string `tars:"0,require,name=host" json:"host"`
	Port        int32  `tars:"1,require,name=port" json:"port"`
	Timeout     int32  `tars:"2,require,name=timeout" json:"timeout"` // ms
	IsTCP       int32  `tars:"3,require,name=istcp" json:"istcp"`     // 0 udp, 1 tcp, 2 ssl
	Grid        int32  `tars:"4,require,name=grid" json:"grid"`       // gray/grid id
	GroupWorkID int32  `tars:"5,name=groupworkid" json:"groupworkid"` // IDC group (InSameGroup)
	GroupRealID int32  `tars:"6,name=grouprealid" json:"grouprealid"` // station group (InSameStation)
	SetID       string `tars:"7,name=setId" json:"setId"`             // "name.area.group", "" when none
	QoS         int32  `tars:"8,name=qos" json:"qos"`
	BakFlag     int32  `tars:"9,name=bakFlag" json:"bakFlag"`
	Weight      int32  `tars:"11,name=weight" json:"weight"`
	WeightType  int32  `tars:"12,name=weightType" json:"weightType"`       // 0 round robin, 1 static weight
	AuthType    int32  `tars:"13,name=authType" json:"authType"`           // 0 none, 1 local
	NodeName    string `tars:"14,name=nodeName" json:"nodeName,omitempty"` // the node it runs on (TarsProtocol only)
}

// The values of EndpointF.IsTCP.
const (
	IsUDP int32 = 0
	IsTCP int32 = 1
	IsSSL int32 = 2
)

// QueryF is the registry's query interface.
var QueryF = tars.NewService("QueryF")

// IDArgs lists the in parameter of findObjectById and of the 4Any, 4All
// and InSameGroup lookups: the servant id ("App.Server.Obj").
type IDArgs struct {
	ID string `tars:"1,name=id"`
}

// SetArgs lists the in parameters of findObjectByIdInSameSet.
type SetArgs struct {
	ID    string `tars:"1,name=id"`
	SetID string `tars:"2,name=setId"` // "name.area.group"; group may be "*"
}

// StationArgs lists the in parameters of findObjectByIdInSameStation.
type StationArgs struct {
	ID      string `tars:"1,name=id"`
	Station string `tars:"2,name=sStation"`
}

// Lists is the answer of the one-argument lookups: the return code (0 on
// success) and the out vectors activeEp (tag 2) and inactiveEp (tag 3).
//
// TarsGo's generated client also writes the out vectors, empty, into the
// request; the parameter rule of tars.NewEndpoint puts nothing but the in
// parameters in a request, so this client sends only the id. Registries
// read only the in parameters (TarsGo's generated Dispatch reads id alone).
type Lists struct {
	tars.Results
	Ret      int32       `tars:"0"`
	Active   []EndpointF `tars:"2,name=activeEp"`
	Inactive []EndpointF `tars:"3,name=inactiveEp"`
}

// SetLists is the answer of the two-argument lookups (InSameSet,
// InSameStation): the out vectors follow the two in parameters.
type SetLists struct {
	tars.Results
	Ret      int32       `tars:"0"`
	Active   []EndpointF `tars:"3,name=activeEp"`
	Inactive []EndpointF `tars:"4,name=inactiveEp"`
}

// QueryF's methods.
var (
	// FindObjectByID: vector<EndpointF> findObjectById(string id), the
	// active endpoints of every group.
	FindObjectByID = tars.NewEndpoint[IDArgs, []EndpointF](QueryF, "findObjectById")
	// FindObjectByID4Any: int findObjectById4Any(string id, out
	// vector<EndpointF> activeEp, out vector<EndpointF> inactiveEp), every
	// endpoint, no IDC-group filter.
	FindObjectByID4Any = tars.NewEndpoint[IDArgs, Lists](QueryF, "findObjectById4Any")
	// FindObjectByID4All: int findObjectById4All(string id, out …, out …);
	// the registry answers it as InSameGroup.
	FindObjectByID4All = tars.NewEndpoint[IDArgs, Lists](QueryF, "findObjectById4All")
	// FindObjectByIDInSameGroup: int findObjectByIdInSameGroup(string id,
	// out …, out …), the endpoints of the caller's IDC group: what TarsGo
	// and TarsCpp clients ask by default.
	FindObjectByIDInSameGroup = tars.NewEndpoint[IDArgs, Lists](QueryF, "findObjectByIdInSameGroup")
	// FindObjectByIDInSameStation: int findObjectByIdInSameStation(string
	// id, string sStation, out …, out …).
	FindObjectByIDInSameStation = tars.NewEndpoint[StationArgs, SetLists](QueryF, "findObjectByIdInSameStation")
	// FindObjectByIDInSameSet: int findObjectByIdInSameSet(string id,
	// string setId, out …, out …), the endpoints of a TARS set; -1 for a
	// malformed set id or an enabled set with nothing in it.
	FindObjectByIDInSameSet = tars.NewEndpoint[SetArgs, SetLists](QueryF, "findObjectByIdInSameSet")
)
