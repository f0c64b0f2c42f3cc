package monitor

import "github.com/gotars/tars"

// This file declares the TARS property server's interface, PropertyF
// (TarsGo tars/protocol/res/PropertyF.tars, TarsProtocol
// servant/PropertyF.tars), code-first. A PropertyReporter calls it.

// PropertyObj is the property server's servant (the client config key
// "property").
const PropertyObj = "tars.tarsproperty.PropertyObj"

// PropertyVersion is the iPropertyVer that TarsGo and TarsCpp send.
const PropertyVersion = 2

// StatPropMsgHead is the key of one property report: which program, where,
// which property. It is a Go map key.
type StatPropMsgHead struct {
	ModuleName   string `tars:"0,require,name=moduleName"`     // the program, "App.Server" (plus ".<set>" in a set)
	IP           string `tars:"1,require,name=ip"`             // the program's IP
	PropertyName string `tars:"2,require,name=propertyName"`   // the property
	SetName      string `tars:"3,name=setName"`                // the set name, "" outside sets
	SetArea      string `tars:"4,name=setArea"`                // the set area
	SetID        string `tars:"5,name=setID"`                  // the set group
	SContainer   string `tars:"6,name=sContainer"`             // the container name (nobody sets it)
	IPropertyVer int32  `tars:"7,name=iPropertyVer,default=1"` // the protocol version: PropertyVersion
}

// StatPropInfo is one policy's value: the policy's name ("Sum", "Avg",
// "Distr", "Max", "Min", "Count") and its value as text.
type StatPropInfo struct {
	Policy string `tars:"0,require,name=policy"`
	Value  string `tars:"1,require,name=value"`
}

// StatPropMsgBody is the values of one property over an interval.
type StatPropMsgBody struct {
	VInfo []StatPropInfo `tars:"0,require,name=vInfo"`
}

// PropertyF is the property server's interface.
var PropertyF = tars.NewService("PropertyF")

// ReportPropMsgArgs lists the in parameter of reportPropMsg.
type ReportPropMsgArgs struct {
	Msg map[StatPropMsgHead]StatPropMsgBody `tars:"1,name=statmsg"`
}

// ReportPropMsg: int reportPropMsg(map<StatPropMsgHead, StatPropMsgBody>
// statmsg); 0 on success.
var ReportPropMsg = tars.NewEndpoint[ReportPropMsgArgs, int32](PropertyF, "reportPropMsg")
