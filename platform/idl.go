package platform

import "github.com/gotars/tars"

// This file declares, code-first, the three TARS framework interfaces a
// managed server deals with: AdminF (served on AdminObj), ServerF (tarsnode's
// tars.tarsnode.ServerObj, file NodeF.tars) and Config (tarsconfig's
// tars.tarsconfig.ConfigObj, file ConfigF.tars), as TarsGo v1.4.6 has them in
// tars/protocol/res. A program may also serve ServerF or Config itself with
// tars.Handle, as this package's tests do.

// Well-known object and adapter names.
const (
	// AdminObj is the servant name of the admin interface, served on the
	// server's `local` endpoint. It has no App.Server prefix.
	AdminObj = "AdminObj"
	// AdminAdapter is the adapter name tarsnode tracks for AdminObj: it
	// expects a keepAlive for it as for every adapter of the server.
	AdminAdapter = "AdminAdapter"
	// NodeObj is tarsnode's ServerF object (the `node` key names it with
	// its endpoint).
	NodeObj = "tars.tarsnode.ServerObj"
	// ConfigObj is tarsconfig's Config object (the `config` key).
	ConfigObj = "tars.tarsconfig.ConfigObj"
)

// AdminF is the admin interface tarsnode and tarsweb call on AdminObj:
//
//	void shutdown();
//	string notify(string command);
//
// (TarsProtocol's newer AdminF adds long getPid(), which tarsnode never
// calls.)
var AdminF = tars.NewService("AdminF")

// NotifyArgs lists the in parameter of AdminF.notify.
type NotifyArgs struct {
	Command string `tars:"1,name=command"`
}

// AdminF's methods.
var (
	// AdminShutdown: void shutdown().
	AdminShutdown = tars.NewEndpoint[tars.Void, tars.Void](AdminF, "shutdown")
	// AdminNotify: string notify(string command).
	AdminNotify = tars.NewEndpoint[NotifyArgs, string](AdminF, "notify")
)

// ServerF is tarsnode's interface for the servers it runs (NodeF.tars):
//
//	int keepAlive(ServerInfo serverInfo);
//	int keepActiving(ServerInfo serverInfo);
//	int reportVersion(string app, string serverName, string version);
//	unsigned int getLatestKeepAliveTime();
//
// tarsnode answers 0 for a server it knows and -1 for one it does not.
var ServerF = tars.NewService("ServerF")

// ServerInfo is what a server tells tarsnode in keepAlive and keepActiving.
// Adapter "" refreshes every adapter of the server.
type ServerInfo struct {
	Application string `tars:"0,require,name=application"`
	ServerName  string `tars:"1,require,name=serverName"`
	Pid         int32  `tars:"2,require,name=pid"`
	Adapter     string `tars:"3,name=adapter"`
}

// ServerInfoArgs lists the in parameter of keepAlive and keepActiving.
type ServerInfoArgs struct {
	ServerInfo ServerInfo `tars:"1,name=serverInfo"`
}

// ReportVersionArgs lists the in parameters of reportVersion.
type ReportVersionArgs struct {
	App        string `tars:"1,name=app"`
	ServerName string `tars:"2,name=serverName"`
	Version    string `tars:"3,name=version"`
}

// ServerF's methods.
var (
	// NodeKeepAlive: int keepAlive(ServerInfo serverInfo).
	NodeKeepAlive = tars.NewEndpoint[ServerInfoArgs, int32](ServerF, "keepAlive")
	// NodeKeepActiving: int keepActiving(ServerInfo serverInfo), sent by
	// TarsCpp while its initialize() runs; TarsGo never sends it.
	NodeKeepActiving = tars.NewEndpoint[ServerInfoArgs, int32](ServerF, "keepActiving")
	// NodeReportVersion: int reportVersion(string app, string serverName,
	// string version).
	NodeReportVersion = tars.NewEndpoint[ReportVersionArgs, int32](ServerF, "reportVersion")
	// NodeGetLatestKeepAliveTime: unsigned int getLatestKeepAliveTime().
	NodeGetLatestKeepAliveTime = tars.NewEndpoint[tars.Void, uint32](ServerF, "getLatestKeepAliveTime")
)

// ConfigF is tarsconfig's interface (ConfigF.tars; the IDL names it Config,
// which is the service name here too: it never goes on the wire).
var ConfigF = tars.NewService("Config")

// ConfigInfo names one config file to tarsconfig. ServerName "" with
// AppOnly asks the application-level file; SetDivision ("name.area.group")
// asks the set-level one; Host, when empty, is taken by tarsconfig to be
// the caller's address.
type ConfigInfo struct {
	AppName     string `tars:"0,require,name=appname"`
	ServerName  string `tars:"1,require,name=servername"`
	FileName    string `tars:"2,require,name=filename"`
	AppOnly     bool   `tars:"3,require,name=bAppOnly"`
	Host        string `tars:"4,name=host"`
	SetDivision string `tars:"5,name=setdivision"`
}

// GetConfigListInfo asks tarsconfig for the files of an application,
// server, host, set or container.
type GetConfigListInfo struct {
	AppName       string `tars:"0,require,name=appname"`
	ServerName    string `tars:"1,name=servername"`
	AppOnly       bool   `tars:"2,name=bAppOnly"`
	Host          string `tars:"3,name=host"`
	SetDivision   string `tars:"4,name=setdivision"`
	ContainerName string `tars:"5,name=containername"`
}

// AppServerArgs lists the in parameters of ListConfig.
type AppServerArgs struct {
	App    string `tars:"1,name=app"`
	Server string `tars:"2,name=server"`
}

// LoadConfigArgs lists the in parameters of loadConfig.
type LoadConfigArgs struct {
	App      string `tars:"1,name=app"`
	Server   string `tars:"2,name=server"`
	FileName string `tars:"3,name=filename"`
}

// HostFileArgs lists the in parameters of loadConfigByHost and checkConfig.
type HostFileArgs struct {
	AppServerName string `tars:"1,name=appServerName"` // "App.Server"
	FileName      string `tars:"2,name=filename"`
	Host          string `tars:"3,name=host"`
}

// ConfigInfoArgs lists the in parameter of the …ByInfo methods.
type ConfigInfoArgs struct {
	ConfigInfo ConfigInfo `tars:"1,name=configInfo"`
}

// ConfigListArgs lists the in parameter of ListAllConfigByInfo.
type ConfigListArgs struct {
	ConfigInfo GetConfigListInfo `tars:"1,name=configInfo"`
}

// FileList is the answer of ListConfig: the return code and the out
// vector vf after the two in parameters.
type FileList struct {
	tars.Results
	Ret   int32    `tars:"0"`
	Files []string `tars:"3,name=vf"`
}

// InfoFileList is the answer of ListConfigByInfo and ListAllConfigByInfo:
// the return code and the out vector vf after the one in parameter.
type InfoFileList struct {
	tars.Results
	Ret   int32    `tars:"0"`
	Files []string `tars:"2,name=vf"`
}

// FileContent is the answer of loadConfig, loadConfigByHost (out config)
// and checkConfig (out result): the out string after three in parameters.
type FileContent struct {
	tars.Results
	Ret     int32  `tars:"0"`
	Content string `tars:"4,name=config"`
}

// CheckResult is the answer of checkConfig: the out result after three
// in parameters.
type CheckResult struct {
	tars.Results
	Ret    int32  `tars:"0"`
	Result string `tars:"4,name=result"`
}

// InfoContent is the answer of loadConfigByInfo: the return code (0 on
// success; tarsconfig answers 429 when the caller loads a file too often)
// and the out string config.
type InfoContent struct {
	tars.Results
	Ret     int32  `tars:"0"`
	Content string `tars:"2,name=config"`
}

// InfoCheckResult is the answer of checkConfigByInfo.
type InfoCheckResult struct {
	tars.Results
	Ret    int32  `tars:"0"`
	Result string `tars:"2,name=result"`
}

// Config's methods.
var (
	// ConfigListConfig: int ListConfig(string app, string server, out
	// vector<string> vf).
	ConfigListConfig = tars.NewEndpoint[AppServerArgs, FileList](ConfigF, "ListConfig")
	// ConfigLoadConfig: int loadConfig(string app, string server, string
	// filename, out string config), what TarsCpp asks outside a set.
	ConfigLoadConfig = tars.NewEndpoint[LoadConfigArgs, FileContent](ConfigF, "loadConfig")
	// ConfigLoadConfigByHost: int loadConfigByHost(string appServerName,
	// string filename, string host, out string config).
	ConfigLoadConfigByHost = tars.NewEndpoint[HostFileArgs, FileContent](ConfigF, "loadConfigByHost")
	// ConfigCheckConfig: int checkConfig(string appServerName, string
	// filename, string host, out string result).
	ConfigCheckConfig = tars.NewEndpoint[HostFileArgs, CheckResult](ConfigF, "checkConfig")
	// ConfigListConfigByInfo: int ListConfigByInfo(ConfigInfo configInfo,
	// out vector<string> vf).
	ConfigListConfigByInfo = tars.NewEndpoint[ConfigInfoArgs, InfoFileList](ConfigF, "ListConfigByInfo")
	// ConfigLoadConfigByInfo: int loadConfigByInfo(ConfigInfo configInfo,
	// out string config), what TarsGo asks.
	ConfigLoadConfigByInfo = tars.NewEndpoint[ConfigInfoArgs, InfoContent](ConfigF, "loadConfigByInfo")
	// ConfigCheckConfigByInfo: int checkConfigByInfo(ConfigInfo configInfo,
	// out string result).
	ConfigCheckConfigByInfo = tars.NewEndpoint[ConfigInfoArgs, InfoCheckResult](ConfigF, "checkConfigByInfo")
	// ConfigListAllConfigByInfo: int ListAllConfigByInfo(GetConfigListInfo
	// configInfo, out vector<string> vf).
	ConfigListAllConfigByInfo = tars.NewEndpoint[ConfigListArgs, InfoFileList](ConfigF, "ListAllConfigByInfo")
)
