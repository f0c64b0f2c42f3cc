package monitor

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Defaults.
const (
	DefaultInterval      = 10 * time.Second // TarsGo's statreportinterval and propertyreportinterval
	DefaultReportTimeout = 3 * time.Second  // bounds one report call (TarsGo's default call timeout)
	DefaultMaxHeads      = 10000            // distinct stat heads kept per side and interval
	DefaultTarsVersion   = "gotars"         // the tarsVersion field of stat heads
	DefaultModuleName    = "tup_client"     // TarsGo's modulename when none is configured
	MaxPropsPerCall      = 20               // properties in one reportPropMsg call (TarsGo's batch)
)

// ErrRunning is returned by Run when the reporter is already running.
var ErrRunning = errors.New("monitor: reporter already running")

// Identity names the program in its reports, as a TARS server's
// configuration names it (TarsGo's server config app, server, localip,
// setdivision and its client config modulename).
type Identity struct {
	// App and Server name the program ("App", "Server"): the slaveName of
	// the calls it serves is "App.Server". Give both or neither.
	App, Server string
	// ModuleName is the caller's name in the stats of calls it makes and
	// the moduleName of its properties. Default "App.Server" when App and
	// Server are given, else DefaultModuleName (TarsGo's).
	ModuleName string
	// LocalIP is the program's IP: the masterIp of the calls it makes, the
	// slaveIp of the calls it serves and the ip of its properties. The stat
	// server overwrites the first with the address the report came from.
	LocalIP string
	// SetDivision is the program's TARS set, "name.area.group" ("" outside
	// sets). In a set, as in TarsGo, the calls it makes are reported as
	// "App.Server.<name><area><group>@<TarsVersion>", the calls it serves
	// as "App.Server.<name><area><group>" with the set's three parts, and
	// properties as "App.Server.<name><area><group>".
	SetDivision string
	// TarsVersion is the tarsVersion of stat heads (default
	// DefaultTarsVersion).
	TarsVersion string
}

// identity is an Identity resolved into the names the reports carry.
type identity struct {
	clientMaster string // masterName of client reports
	serverSlave  string // slaveName of server reports
	propModule   string // moduleName of property reports
	localIP      string
	setName      string
	setArea      string
	setID        string
	version      string
}

func (id Identity) resolve() (identity, error) {
	if (id.App == "") != (id.Server == "") {
		return identity{}, errors.New("monitor: Identity needs both App and Server, or neither")
	}
	for _, f := range []struct{ name, v string }{{"App", id.App}, {"Server", id.Server}} {
		if strings.ContainsAny(f.v, ". \t\r\n@") {
			return identity{}, fmt.Errorf("monitor: Identity.%s %q holds a dot, '@' or whitespace", f.name, f.v)
		}
	}
	r := identity{localIP: id.LocalIP, version: id.TarsVersion}
	if r.version == "" {
		r.version = DefaultTarsVersion
	}
	appServer := ""
	if id.App != "" {
		appServer = id.App + "." + id.Server
	}
	r.clientMaster = id.ModuleName
	if r.clientMaster == "" {
		r.clientMaster = appServer
		if r.clientMaster == "" {
			r.clientMaster = DefaultModuleName
		}
	}
	r.serverSlave, r.propModule = appServer, r.clientMaster
	if r.serverSlave == "" {
		r.serverSlave = r.clientMaster
	}
	if id.SetDivision != "" {
		parts := strings.Split(id.SetDivision, ".")
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			return identity{}, fmt.Errorf("monitor: SetDivision %q is not \"name.area.group\"", id.SetDivision)
		}
		if appServer == "" {
			return identity{}, errors.New("monitor: a SetDivision needs App and Server")
		}
		r.setName, r.setArea, r.setID = parts[0], parts[1], parts[2]
		set3 := parts[0] + parts[1] + parts[2]
		r.clientMaster = appServer + "." + set3 + "@" + r.version
		r.serverSlave = appServer + "." + set3
		r.propModule = appServer + "." + set3
	}
	return r, nil
}

// reportLog logs failed reports when a logger is set.
type reportLog struct {
	log *slog.Logger
}

func (l reportLog) failed(what string, n int, err error) {
	if l.log != nil {
		l.log.Warn("monitor: report failed, its data is dropped", "call", what, "entries", n, "err", err)
	}
}
