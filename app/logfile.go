package app

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// reopenEvery is how often a LogFile reopens its file, so that one moved
// or deleted (by hand, by logrotate) is created again: TarsGo's 10 s.
var reopenEvery = 10 * time.Second

// LogFile is the log file a TARS server keeps, as TarsGo's rogger
// RollFileWriter keeps it: <dir>/<name>.log, rolled once it reaches Size
// bytes — <name>.log becomes <name>1.log, <name>1.log <name>2.log, and so
// on up to <name><Num-1>.log, so that Num files are kept in all. A TARS
// server's is <logpath>/<app>/<server>/<app>.<server>.log (LogFileFor),
// where tarsnode's log viewer looks.
//
// It opens nothing until the first Write, which creates the directory and
// the file; when that fails, the lines go to Fallback (stderr by default)
// after one line saying why, and the file is tried again at the next
// reopen. It is safe for concurrent use.
type LogFile struct {
	Dir, Name string
	Size      int64     // bytes before the file rolls; 0: never
	Num       int       // files kept, the current one included; 1 or less: one, truncated when it rolls
	Fallback  io.Writer // where lines go while the file cannot be opened; nil: os.Stderr

	mu     sync.Mutex
	f      *os.File
	cur    int64
	opened time.Time
	failed bool // the last open failed (said once)
	closed bool
}

// LogFileFor returns the LogFile of a TARS server: log.path/app/server/
// app.server.log, rolled at log.size, log.num files kept.
func LogFileFor(path, app, server string, size int64, num int) *LogFile {
	name := app + "." + server
	if app == "" || server == "" {
		name = "app" // gotars' name for a server without a TARS identity
	}
	return &LogFile{Dir: filepath.Join(path, app, server), Name: name, Size: size, Num: num}
}

// Path returns the current file's path.
func (l *LogFile) Path() string { return filepath.Join(l.Dir, l.Name+".log") }

// Write appends p to the file; the write that makes the file reach Size
// rolls it, as TarsGo's does.
func (l *LogFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, os.ErrClosed
	}
	if l.opened.IsZero() || time.Since(l.opened) > reopenEvery {
		l.open() // the first write, or time to reopen (or to retry a failed open)
	}
	if l.f == nil {
		return l.fallback().Write(p)
	}
	n, err := l.f.Write(p)
	l.cur += int64(n)
	if l.Size > 0 && l.cur >= l.Size {
		l.roll()
	}
	return n, err
}

func (l *LogFile) fallback() io.Writer {
	if l.Fallback != nil {
		return l.Fallback
	}
	return os.Stderr
}

// open (re)opens the file, appending; l.mu is held.
func (l *LogFile) open() {
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
	l.opened = time.Now()
	err := os.MkdirAll(l.Dir, 0o755)
	var f *os.File
	if err == nil {
		f, err = os.OpenFile(l.Path(), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	}
	if err != nil {
		if !l.failed {
			fmt.Fprintf(l.fallback(), "app: log file: %v; logging here instead\n", err)
		}
		l.failed = true
		return
	}
	l.failed = false
	l.f, l.cur = f, 0
	if st, err := f.Stat(); err == nil {
		l.cur = st.Size()
	}
}

// roll moves the files one place up and opens a new one; l.mu is held.
func (l *LogFile) roll() {
	l.f.Close()
	l.f = nil
	if l.Num <= 1 {
		os.Truncate(l.Path(), 0)
	}
	for i := l.Num - 1; i >= 1; i-- {
		from := l.Name
		if i > 1 {
			from += strconv.Itoa(i - 1)
		}
		from = filepath.Join(l.Dir, from+".log")
		to := filepath.Join(l.Dir, l.Name+strconv.Itoa(i)+".log")
		if err := os.Rename(from, to); err != nil && !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(l.fallback(), "app: log file: %v\n", err)
		}
	}
	l.open()
}

// Close closes the file; later writes fail with os.ErrClosed.
func (l *LogFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
