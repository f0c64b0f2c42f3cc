package platform

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gotars/tars"
)

// LevelNone is the slog level tars.setloglevel NONE sets: above every level
// a program logs at, so nothing is logged.
const LevelNone = slog.Level(1 << 30)

// MaxStackDump bounds the goroutine dump tars.dumpstack logs.
const MaxStackDump = 4 << 20

// The built-in commands of AdminF.notify.
const (
	CmdViewVersion = "tars.viewversion"
	CmdSetLogLevel = "tars.setloglevel"
	CmdViewStatus  = "tars.viewstatus"
	CmdConnection  = "tars.connection"
	CmdLoadConfig  = "tars.loadconfig"
	CmdDumpStack   = "tars.dumpstack"
	CmdHelp        = "tars.help"
)

// AdminCommand runs a command registered with Admin.Register. args is the
// command line after the command's name, trimmed. The string is the reply;
// an error reaches the caller as a failed call (iRet 1, or the code of a
// *tars.Error), as in TarsGo.
type AdminCommand func(ctx context.Context, args string) (string, error)

// AdminOptions configures an Admin. Every field is optional.
type AdminOptions struct {
	// App and Server name the server in tars.viewstatus.
	App, Server string
	// Version is what tars.viewversion answers; FrameworkVersion() when
	// empty.
	Version string
	// LogLevel is the level tars.setloglevel changes (the program's
	// handler must read it). Without it the command answers that there is
	// no level to set.
	LogLevel *slog.LevelVar
	// Shutdown is called, once, in a goroutine of its own, when AdminF
	// shutdown is first called (tarsnode stops a server that way). The
	// call is answered without waiting for it, so Shutdown may stop the
	// servers gracefully (this AdminObj's server included) and then exit.
	// Without it, Done is the only sign.
	Shutdown func()
	// Servers are the program's servers, by adapter or any name, whose
	// Stats tars.viewstatus and tars.connection report.
	Servers map[string]*tars.Server
	// Config pulls the file tars.loadconfig names. Without it the command
	// fails.
	Config *RemoteConfig
	// Logger receives the admin's own records, and the tars.dumpstack
	// dump when StackWriter is nil; slog.Default() when nil.
	Logger *slog.Logger
	// StackWriter, when set, receives the tars.dumpstack dump (TarsGo
	// writes it to a "stackinfo" log file), whatever the log level.
	StackWriter io.Writer
}

type adminCmd struct {
	help string
	fn   AdminCommand
}

// Admin is the AdminF servant a server runs on its `local` endpoint under
// tarsnode: shutdown, and notify with TarsGo's built-in commands and the
// program's own (Register). Build it with NewAdmin, register it on a server
// with Handle. It starts nothing until shutdown is called; it is safe for
// concurrent use.
//
// Replies are TarsGo's (tars/admin.go, v1.4.6), the bare result string.
// TarsCpp wraps every reply as "[notify prefix object num:1]\n[1]:<result>\n"
// and words its own (for instance "set log level [DEBUG] ok"). Commands
// TarsGo lacks — tars.viewstatus, tars.help and a real tars.connection —
// answer in the layout of TarsCpp's (key, value lines; one
// "[adapter:NAME] [connections:N]" block per server), with the counts
// tars.Server keeps. Where it departs from TarsGo:
//
//   - tars.setloglevel takes the level in any case (TarsGo: upper case
//     only) and does not cache it in datapath's .tarsdat;
//   - tars.loadconfig without a file answers "tars.loadconfig failed:
//     missing file name!" (TarsGo indexes past its arguments);
//   - a registered command is given the arguments after its name
//     (TarsGo's RegisterAdmin functions get the whole command line);
//   - tars.gracerestart, tars.pprof and dyeUserManage are not built in:
//     they answer "<command> not support now!" unless registered;
//   - nothing is reported to tarsnotify (TarsGo reports every command).
//
// TarsCpp answers an unknown command with an empty string.
type Admin struct {
	opts    AdminOptions
	logger  *slog.Logger
	started time.Time

	mu   sync.RWMutex
	cmds map[string]adminCmd

	once sync.Once
	done chan struct{}
}

// NewAdmin returns an Admin with the given options and no user command.
func NewAdmin(opts AdminOptions) *Admin {
	a := &Admin{opts: opts, logger: opts.Logger, started: time.Now(), cmds: map[string]adminCmd{}, done: make(chan struct{})}
	a.opts.Servers = maps.Clone(opts.Servers)
	if a.logger == nil {
		a.logger = slog.Default()
	}
	if a.opts.Version == "" {
		a.opts.Version = FrameworkVersion()
	}
	return a
}

// FrameworkVersion returns "gotars " and the version of the
// github.com/gotars/tars module the program was built with ("(devel)" in
// its own tree or replaced by a directory, "unknown" without build
// information): what a gotars
// server reports to tarsnode and answers to tars.viewversion, as TarsGo
// reports its own version.
func FrameworkVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "gotars unknown"
	}
	const mod = "github.com/gotars/tars"
	if bi.Main.Path == mod {
		return "gotars " + bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == mod {
			if d.Replace != nil { // a directory replacement has no version
				return "gotars " + cmp.Or(d.Replace.Version, "(devel)")
			}
			return "gotars " + d.Version
		}
	}
	return "gotars unknown"
}

// builtins are the commands Register refuses, with their help.
var builtins = map[string]string{
	CmdViewVersion: "the framework version",
	CmdSetLogLevel: "tars.setloglevel INFO|WARN|ERROR|DEBUG|NONE: set the log level",
	CmdViewStatus:  "the server's status: identity, runtime, servers",
	CmdConnection:  "the connections of every server",
	CmdLoadConfig:  "tars.loadconfig FILE: pull FILE from tarsconfig into basepath",
	CmdDumpStack:   "log the stacks of every goroutine",
	CmdHelp:        "this list",
}

// ErrBadCommand is wrapped by the error Register returns for a name it
// refuses.
var ErrBadCommand = errors.New("platform: bad admin command")

// Register adds the notify command name, shown by tars.help with help. It
// fails, wrapping ErrBadCommand, when name is empty or holds whitespace,
// is a built-in or is registered already.
func (a *Admin) Register(name, help string, fn AdminCommand) error {
	switch {
	case name == "" || strings.ContainsFunc(name, isSpace):
		return fmt.Errorf("%w: %q is not a command name", ErrBadCommand, name)
	case fn == nil:
		return fmt.Errorf("%w: %q has a nil function", ErrBadCommand, name)
	}
	if _, ok := builtins[name]; ok {
		return fmt.Errorf("%w: %q is built in", ErrBadCommand, name)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, dup := a.cmds[name]; dup {
		return fmt.Errorf("%w: %q is registered already", ErrBadCommand, name)
	}
	a.cmds[name] = adminCmd{help: help, fn: fn}
	return nil
}

func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f'
}

// Handle registers AdminF (shutdown and notify) on srv as the servant
// AdminObj. Like tars.Handle it panics when AdminObj is already served on
// srv.
func (a *Admin) Handle(srv *tars.Server) {
	tars.Handle(srv, AdminObj, AdminShutdown, func(ctx context.Context, _ tars.Void) (tars.Void, error) {
		a.RequestShutdown()
		return tars.Void{}, nil
	})
	tars.Handle(srv, AdminObj, AdminNotify, func(ctx context.Context, args NotifyArgs) (string, error) {
		return a.Notify(ctx, args.Command)
	})
}

// RequestShutdown does what AdminF shutdown does: the first time, it
// closes Done and starts the Shutdown function in a goroutine; later calls
// do nothing.
func (a *Admin) RequestShutdown() {
	a.once.Do(func() {
		a.logger.Info("platform: shutdown requested through AdminObj")
		close(a.done)
		if a.opts.Shutdown != nil {
			go a.opts.Shutdown()
		}
	})
}

// Done is closed when shutdown has been requested.
func (a *Admin) Done() <-chan struct{} { return a.done }

// Notify runs command as AdminF notify does and returns the reply. The
// first word names the command; an unknown one answers "<command> not
// support now!", as TarsGo.
func (a *Admin) Notify(ctx context.Context, command string) (string, error) {
	name, args := strings.TrimLeftFunc(command, isSpace), ""
	if i := strings.IndexFunc(name, isSpace); i >= 0 {
		name, args = name[:i], strings.TrimSpace(name[i:])
	}
	switch name {
	case CmdViewVersion:
		return a.opts.Version, nil
	case CmdSetLogLevel:
		return a.setLogLevel(command, args), nil
	case CmdViewStatus:
		return a.viewStatus(), nil
	case CmdConnection:
		return a.connections(), nil
	case CmdLoadConfig:
		return a.loadConfig(ctx, args)
	case CmdDumpStack:
		a.dumpStack()
		return command + " succ", nil
	case CmdHelp:
		return a.help(), nil
	}
	a.mu.RLock()
	c, ok := a.cmds[name]
	a.mu.RUnlock()
	if !ok {
		return command + " not support now!", nil
	}
	reply, err := c.fn(ctx, args)
	if err != nil {
		var te *tars.Error
		if errors.As(err, &te) {
			return "", te
		}
		return "", tars.NewError(1, err.Error()) // TarsGo's iRet for a failed dispatch
	}
	return reply, nil
}

func (a *Admin) setLogLevel(command, args string) string {
	level := args
	if i := strings.IndexFunc(level, isSpace); i >= 0 {
		level = level[:i]
	}
	if level == "" {
		return command + " failed: missing loglevel!"
	}
	var l slog.Level
	switch strings.ToUpper(level) {
	case "DEBUG":
		l = slog.LevelDebug
	case "INFO":
		l = slog.LevelInfo
	case "WARN":
		l = slog.LevelWarn
	case "ERROR":
		l = slog.LevelError
	case "NONE":
		l = LevelNone
	default:
		return fmt.Sprintf("%s failed: unknown log level [%s]!", CmdSetLogLevel, level)
	}
	if a.opts.LogLevel == nil {
		return command + " failed: no log level to set!"
	}
	a.opts.LogLevel.Set(l)
	return command + " succ"
}

func (a *Admin) loadConfig(ctx context.Context, file string) (string, error) {
	if file == "" {
		return CmdLoadConfig + " failed: missing file name!", nil
	}
	if a.opts.Config == nil {
		return "", tars.NewError(1, "platform: tars.loadconfig: no remote config (server<config> is not set)")
	}
	if _, err := a.opts.Config.Load(ctx, file); err != nil {
		return "", tars.NewError(1, err.Error())
	}
	return "Getconfig Success!: " + file, nil
}

func (a *Admin) dumpStack() {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) || len(buf) >= MaxStackDump {
			buf = buf[:n]
			break
		}
		buf = make([]byte, min(2*len(buf), MaxStackDump))
	}
	if w := a.opts.StackWriter; w != nil {
		fmt.Fprintf(w, "%s tars.dumpstack: %d goroutines\n%s\n", time.Now().Format(time.DateTime), runtime.NumGoroutine(), buf)
		return
	}
	a.logger.Info("platform: tars.dumpstack", "goroutines", runtime.NumGoroutine(), "stacks", string(buf))
}

// line writes one "key value" line of a status reply, the key padded as
// TarsCpp's outfill pads it.
func line(b *strings.Builder, key string, value any) {
	fmt.Fprintf(b, "%-30s%v\n", key, value)
}

func (a *Admin) viewStatus() string {
	var b strings.Builder
	b.WriteString("[server config]:\n")
	line(&b, "Application(app)", a.opts.App)
	line(&b, "ServerName(server)", a.opts.Server)
	line(&b, "Version", a.opts.Version)
	line(&b, "Pid", os.Getpid())
	line(&b, "GoVersion", runtime.Version())
	line(&b, "Goroutines", runtime.NumGoroutine())
	line(&b, "Uptime", time.Since(a.started).Truncate(time.Second))
	if a.opts.LogLevel != nil {
		line(&b, "LogLevel(loglevel)", levelName(a.opts.LogLevel.Level()))
	}
	for _, name := range slices.Sorted(maps.Keys(a.opts.Servers)) {
		st := a.opts.Servers[name].Stats()
		fmt.Fprintf(&b, "[server:%s]:\n", name)
		line(&b, "connections", st.Conns)
		line(&b, "inflight", st.InFlight)
		line(&b, "overloaded", st.Overloaded)
		line(&b, "queuetimeouts", st.QueueTimeouts)
		line(&b, "dropped", st.Dropped)
		line(&b, "decodeerrors", st.DecodeErrors)
		line(&b, "panics", st.Panics)
		for _, sv := range slices.Sorted(maps.Keys(st.ServantQueueDepth)) {
			line(&b, "queue "+sv, st.ServantQueueDepth[sv])
		}
	}
	return b.String()
}

func levelName(l slog.Level) string {
	if l >= LevelNone {
		return "NONE"
	}
	return l.String()
}

func (a *Admin) connections() string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(a.opts.Servers)) {
		st := a.opts.Servers[name].Stats()
		fmt.Fprintf(&b, "[adapter:%s] [connections:%d]\n", name, st.Conns)
		line(&b, "accepted", st.Accepted)
		line(&b, "refused", st.Refused)
		line(&b, "idleclosed", st.IdleClosed)
		line(&b, "frametimeouts", st.FrameTimeouts)
		line(&b, "baddatagrams", st.BadDatagrams)
	}
	if b.Len() == 0 {
		return "no server to report\n"
	}
	return b.String()
}

func (a *Admin) help() string {
	all := maps.Clone(builtins)
	a.mu.RLock()
	for name, c := range a.cmds {
		all[name] = c.help
	}
	a.mu.RUnlock()
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(all)) {
		if h := all[name]; h != "" {
			fmt.Fprintf(&b, "%s: %s\r\n", name, h)
		} else {
			fmt.Fprintf(&b, "%s\r\n", name)
		}
	}
	return b.String()
}
