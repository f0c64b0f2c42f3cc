package platform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gotars/tars"
)

// LogObj is tarslog's Log object (the server<log> key).
const LogObj = "tars.tarslog.LogObj"

// LogF is tarslog's interface (LogF.tars; the IDL names it Log):
//
//	void logger(string app, string server, string file, string format, vector<string> buffer);
//	void loggerbyInfo(LogInfo info, vector<string> buffer);
var LogF = tars.NewService("Log")

// LogInfo says where tarslog writes the lines of a loggerbyInfo call: the
// file <app>.<server>_<file>_<date> (with the defaults), rotated by
// Format.
type LogInfo struct {
	AppName          string `tars:"0,require,name=appname"`
	ServerName       string `tars:"1,require,name=servername"`
	FileName         string `tars:"2,require,name=sFilename"`
	Format           string `tars:"3,require,name=sFormat"` // "%Y%m%d": a file a day, "%Y%m%d%H": an hour
	SetDivision      string `tars:"4,name=setdivision"`
	HasSuffix        bool   `tars:"5,name=bHasSufix,default=true"`
	HasAppPrefix     bool   `tars:"6,name=bHasAppNamePrefix,default=true"`
	HasSquareBracket bool   `tars:"7,name=bHasSquareBracket"`
	ConcatStr        string `tars:"8,name=sConcatStr,default=_"`
	Separator        string `tars:"9,name=sSepar,default=|"`
	LogType          string `tars:"10,name=sLogType"`
}

// LoggerArgs lists the in parameters of logger.
type LoggerArgs struct {
	App    string   `tars:"1,name=app"`
	Server string   `tars:"2,name=server"`
	File   string   `tars:"3,name=file"`
	Format string   `tars:"4,name=format"`
	Buffer []string `tars:"5,name=buffer"`
}

// LoggerByInfoArgs lists the in parameters of loggerbyInfo.
type LoggerByInfoArgs struct {
	Info   LogInfo  `tars:"1,name=info"`
	Buffer []string `tars:"2,name=buffer"`
}

// LogF's methods.
var (
	// LogLogger: void logger(string app, string server, string file,
	// string format, vector<string> buffer).
	LogLogger = tars.NewEndpoint[LoggerArgs, tars.Void](LogF, "logger")
	// LogLoggerByInfo: void loggerbyInfo(LogInfo info, vector<string>
	// buffer), what TarsGo's remote logger sends.
	LogLoggerByInfo = tars.NewEndpoint[LoggerByInfoArgs, tars.Void](LogF, "loggerbyInfo")
)

// Defaults of RemoteLogOptions: TarsGo's batch and interval; a shorter
// queue than TarsGo's 500000 lines.
const (
	DefaultRemoteLogQueue    = 10000
	DefaultRemoteLogBatch    = 2000
	DefaultRemoteLogInterval = time.Second
	DefaultRemoteLogMaxLine  = 64 << 10
)

// RemoteLogOptions configures a RemoteLog.
type RemoteLogOptions struct {
	// App, Server and File name the remote file (TarsGo's
	// GetRemoteLogger(name) passes name as File).
	App, Server, File string
	// SetDivision is the server's set, given only when the set is enabled.
	SetDivision string
	// Format is the file's rotation pattern; "%Y%m%d" when empty.
	Format string
	// Queue bounds the lines waiting to be sent; a line written when it
	// is full is dropped (and counted). DefaultRemoteLogQueue when 0.
	Queue int
	// Batch is the most lines one call carries; DefaultRemoteLogBatch
	// when 0.
	Batch int
	// Interval is the longest a line waits for its batch to fill;
	// DefaultRemoteLogInterval when 0.
	Interval time.Duration
	// MaxLine bounds a line (longer ones are cut); DefaultRemoteLogMaxLine
	// when 0.
	MaxLine int
	// NodeName goes in the request context as "node_name".
	NodeName string
	// Logger receives failed sends, at most one record a minute; never
	// give it a handler writing to this RemoteLog. nil logs nothing.
	Logger *slog.Logger
}

// RemoteLog sends log lines to tarslog (LogF loggerbyInfo), as TarsGo's
// remote logger does: an io.Writer — each Write is one line, as a
// slog.Handler writes a record — queuing lines in a bounded queue, and Run
// sending them in batches. Lines written while tarslog is slow or down
// wait in the queue and are dropped, counted, when it is full; a batch
// that fails is dropped and counted. Build it with NewRemoteLog, which
// starts nothing.
//
// TarsGo defaults are kept: a file a day ("%Y%m%d"), the app prefix and
// date suffix, "_" and "|". TarsGo also reports the counts as properties
// <app>.<server>.<file>_log_send_succ and _fail; here Stats returns them.
type RemoteLog struct {
	client *tars.Client
	opts   RemoteLogOptions
	info   LogInfo
	lines  chan string

	sent, dropped, failed atomic.Uint64
	logMu                 sync.Mutex
	lastLog               time.Time
}

// NewRemoteLog returns a RemoteLog sending through c, a client of LogObj.
func NewRemoteLog(c *tars.Client, opts RemoteLogOptions) (*RemoteLog, error) {
	if c == nil {
		return nil, errors.New("platform: NewRemoteLog: nil client")
	}
	if opts.Queue < 0 || opts.Batch < 0 || opts.Interval < 0 || opts.MaxLine < 0 {
		return nil, fmt.Errorf("platform: NewRemoteLog: negative Queue, Batch, Interval or MaxLine")
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&opts.Queue, DefaultRemoteLogQueue)
	def(&opts.Batch, DefaultRemoteLogBatch)
	def(&opts.MaxLine, DefaultRemoteLogMaxLine)
	if opts.Interval == 0 {
		opts.Interval = DefaultRemoteLogInterval
	}
	if opts.Format == "" {
		opts.Format = "%Y%m%d"
	}
	info := LogInfo{AppName: opts.App, ServerName: opts.Server, FileName: opts.File, Format: opts.Format,
		SetDivision: opts.SetDivision, HasSuffix: true, HasAppPrefix: true, ConcatStr: "_", Separator: "|"}
	return &RemoteLog{client: c, opts: opts, info: info, lines: make(chan string, opts.Queue)}, nil
}

// Write queues p as one line, without its trailing newline, and never
// blocks: when the queue is full the line is dropped. It always returns
// len(p), nil.
func (l *RemoteLog) Write(p []byte) (int, error) {
	n := len(p)
	p = bytes.TrimSuffix(p, []byte("\n"))
	if len(p) > l.opts.MaxLine {
		cut := l.opts.MaxLine
		for cut > 0 && !utf8.RuneStart(p[cut]) {
			cut--
		}
		p = p[:cut]
	}
	select {
	case l.lines <- string(p):
	default:
		l.dropped.Add(1)
	}
	return n, nil
}

// RemoteLogStats counts a RemoteLog's lines.
type RemoteLogStats struct {
	Sent    uint64 // lines tarslog took
	Dropped uint64 // lines dropped with the queue full
	Failed  uint64 // lines of batches that failed
}

// Stats returns the counts so far.
func (l *RemoteLog) Stats() RemoteLogStats {
	return RemoteLogStats{Sent: l.sent.Load(), Dropped: l.dropped.Load(), Failed: l.failed.Load()}
}

// Run sends the queued lines until ctx ends: a batch when Batch lines are
// waiting or Interval after the first of them. When ctx ends it sends what
// is queued, within Interval, and returns ctx's error.
func (l *RemoteLog) Run(ctx context.Context) error {
	batch := make([]string, 0, l.opts.Batch)
	timer := time.NewTimer(l.opts.Interval)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			l.drain(batch)
			return ctx.Err()
		case s := <-l.lines:
			if len(batch) == 0 {
				timer.Reset(l.opts.Interval)
			}
			batch = append(batch, s)
			if len(batch) < l.opts.Batch {
				continue
			}
			timer.Stop()
		case <-timer.C:
		}
		l.send(ctx, batch)
		batch = batch[:0]
	}
}

// drain sends batch and the queued lines, within one Interval.
func (l *RemoteLog) drain(batch []string) {
	ctx, cancel := context.WithTimeout(context.Background(), l.opts.Interval)
	defer cancel()
	for {
		for len(batch) < l.opts.Batch {
			select {
			case s := <-l.lines:
				batch = append(batch, s)
				continue
			default:
			}
			break
		}
		if len(batch) == 0 {
			return
		}
		l.send(ctx, batch)
		if ctx.Err() != nil {
			return
		}
		batch = batch[:0]
	}
}

func (l *RemoteLog) send(ctx context.Context, batch []string) {
	if len(batch) == 0 {
		return
	}
	if l.opts.NodeName != "" {
		ctx = tars.WithOutgoingContext(ctx, map[string]string{"node_name": l.opts.NodeName})
	}
	ctx, cancel := context.WithTimeout(ctx, max(l.opts.Interval, DefaultKeepAliveTimeout))
	defer cancel()
	_, err := LogLoggerByInfo.Call(ctx, l.client, LoggerByInfoArgs{Info: l.info, Buffer: batch})
	if err == nil {
		l.sent.Add(uint64(len(batch)))
		return
	}
	l.failed.Add(uint64(len(batch)))
	if l.opts.Logger == nil {
		return
	}
	l.logMu.Lock()
	defer l.logMu.Unlock()
	if now := time.Now(); now.Sub(l.lastLog) >= time.Minute {
		l.lastLog = now
		l.opts.Logger.Warn("platform: remote log send failed", "file", l.opts.File, "lines", len(batch), "err", err)
	}
}
