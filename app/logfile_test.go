package app

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLogFileRolls: TarsGo's names and order — the write that reaches
// Size rolls; name.log → name1.log → name2.log; Num files in all.
func TestLogFileRolls(t *testing.T) {
	dir := t.TempDir()
	l := LogFileFor(dir, "App", "Server", 10, 3)
	if want := filepath.Join(dir, "App", "Server", "App.Server.log"); l.Path() != want {
		t.Fatalf("Path %s, want %s", l.Path(), want)
	}
	if _, err := os.Stat(filepath.Join(dir, "App")); !os.IsNotExist(err) {
		t.Fatal("the directory exists before the first write")
	}
	for _, line := range []string{"first-line\n", "second-line\n", "third-line\n", "fourth-line\n", "fifth\n"} {
		if n, err := l.Write([]byte(line)); err != nil || n != len(line) {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	base := filepath.Join(dir, "App", "Server")
	for name, want := range map[string]string{
		"App.Server.log":  "fifth\n",
		"App.Server1.log": "fourth-line\n",
		"App.Server2.log": "third-line\n",
	} {
		if got := readFile(t, filepath.Join(base, name)); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "App.Server3.log")); !os.IsNotExist(err) {
		t.Error("more than Num files kept")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Write([]byte("late\n")); err == nil {
		t.Error("a write after Close succeeded")
	}
}

// TestLogFileAppends: a file that exists is appended to, its size counted.
func TestLogFileAppends(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.log")
	if err := os.WriteFile(path, []byte("123456789\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := &LogFile{Dir: dir, Name: "x", Size: 15, Num: 1}
	defer l.Close()
	l.Write([]byte("abc\n"))
	if got := readFile(t, path); got != "123456789\nabc\n" {
		t.Errorf("after one write %q", got)
	}
	l.Write([]byte("defgh\n")) // reaches 15: rolls; Num 1 truncates
	if got := readFile(t, path); got != "" {
		t.Errorf("after the roll %q", got)
	}
}

// TestLogFileFallback: a directory that cannot be made sends the lines to
// the fallback, after one line saying why; the file is tried again at the
// next reopen, and a file removed meanwhile is made again.
func TestLogFileFallback(t *testing.T) {
	old := reopenEvery
	reopenEvery = 0
	defer func() { reopenEvery = old }()
	dir := t.TempDir()
	blocker := filepath.Join(dir, "blocker")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var fb bytes.Buffer
	l := &LogFile{Dir: filepath.Join(blocker, "sub"), Name: "x", Fallback: &fb}
	defer l.Close()
	l.Write([]byte("one\n"))
	l.Write([]byte("two\n"))
	if s := fb.String(); strings.Count(s, "app: log file:") != 1 || !strings.HasSuffix(s, "one\ntwo\n") {
		t.Errorf("fallback got %q", s)
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond)
	l.Write([]byte("three\n"))
	if got := readFile(t, filepath.Join(blocker, "sub", "x.log")); got != "three\n" {
		t.Errorf("the file once it could be made: %q", got)
	}
	os.Remove(filepath.Join(blocker, "sub", "x.log"))
	time.Sleep(time.Millisecond)
	l.Write([]byte("four\n"))
	if got := readFile(t, filepath.Join(blocker, "sub", "x.log")); got != "four\n" {
		t.Errorf("the file made again: %q", got)
	}
}

// TestLogFileRetriesAtReopen: after a failed open the file is tried again at
// the next reopen, not at every line (each try is a mkdir and an open).
func TestLogFileRetriesAtReopen(t *testing.T) {
	old := reopenEvery
	reopenEvery = time.Hour
	defer func() { reopenEvery = old }()
	dir := t.TempDir()
	blocker := filepath.Join(dir, "blocker")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var fb bytes.Buffer
	l := &LogFile{Dir: filepath.Join(blocker, "sub"), Name: "x", Fallback: &fb}
	defer l.Close()
	l.Write([]byte("one\n"))
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	l.Write([]byte("two\n"))
	if _, err := os.Stat(filepath.Join(blocker, "sub")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the second line tried the file again before the reopen (%v)", err)
	}
	if s := fb.String(); !strings.HasSuffix(s, "one\ntwo\n") {
		t.Errorf("fallback got %q", s)
	}
}
