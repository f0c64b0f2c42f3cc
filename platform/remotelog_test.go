package platform_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/platform"
)

// logServer is a tarslog served by gotars: it records every loggerbyInfo.
type logServer struct {
	ep      string
	mu      sync.Mutex
	infos   []platform.LogInfo
	batches [][]string
}

func newLogServer(t testing.TB) *logServer {
	ls := &logServer{}
	_, ls.ep = serve(t, func(s *tars.Server) {
		tars.Handle(s, platform.LogObj, platform.LogLoggerByInfo, func(_ context.Context, a platform.LoggerByInfoArgs) (tars.Void, error) {
			ls.mu.Lock()
			defer ls.mu.Unlock()
			ls.infos = append(ls.infos, a.Info)
			ls.batches = append(ls.batches, a.Buffer)
			return tars.Void{}, nil
		})
	})
	return ls
}

func (ls *logServer) lines() []string {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	var out []string
	for _, b := range ls.batches {
		out = append(out, b...)
	}
	return out
}

func (ls *logServer) waitLines(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if l := ls.lines(); len(l) >= n {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d lines after 10 s, want %d", len(ls.lines()), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRemoteLog(t *testing.T) {
	ls := newLogServer(t)
	rl, err := platform.NewRemoteLog(client(t, platform.LogObj, ls.ep), platform.RemoteLogOptions{
		App: "Demo", Server: "HelloServer", File: "access", SetDivision: "demo.sz.1",
		Batch: 3, Interval: 50 * time.Millisecond, MaxLine: 24,
	})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(rl, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rl.Run(ctx) }()

	for i := range 7 {
		logger.Info("m", "i", i)
	}
	rl.Write([]byte(strings.Repeat("a", 23) + "été\n")) // cut at 24 bytes, back to a rune boundary
	got := ls.waitLines(t, 8)
	want := []string{}
	for i := range 7 {
		want = append(want, "level=INFO msg=m i="+string(rune('0'+i)))
	}
	want = append(want, strings.Repeat("a", 23))
	if !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
	ls.mu.Lock()
	for i, b := range ls.batches {
		if len(b) > 3 {
			t.Errorf("batch %d holds %d lines, more than Batch 3", i, len(b))
		}
	}
	info := ls.infos[0]
	ls.mu.Unlock()
	if want := (platform.LogInfo{AppName: "Demo", ServerName: "HelloServer", FileName: "access", Format: "%Y%m%d", SetDivision: "demo.sz.1",
		HasSuffix: true, HasAppPrefix: true, ConcatStr: "_", Separator: "|"}); info != want {
		t.Errorf("LogInfo %+v, want %+v", info, want)
	}

	// Lines written just before the end are sent by Run on its way out.
	logger.Info("last")
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v", err)
	}
	if l := ls.lines(); l[len(l)-1] != "level=INFO msg=last" {
		t.Errorf("the last line was not sent: %q", l)
	}
	if st := rl.Stats(); st.Sent != 9 || st.Dropped != 0 || st.Failed != 0 {
		t.Errorf("Stats %+v, want 9 sent", st)
	}
}

func TestRemoteLogDropsAndFailures(t *testing.T) {
	down, err := tars.NewClient(platform.LogObj + "@tcp -h 127.0.0.1 -p 1 -t 500")
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	logs := new(records)
	rl, err := platform.NewRemoteLog(down, platform.RemoteLogOptions{App: "A", Server: "S", File: "f", Queue: 2, Interval: 20 * time.Millisecond, Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if n, err := rl.Write([]byte("x\n")); n != 2 || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if st := rl.Stats(); st.Dropped != 3 {
		t.Errorf("Stats %+v, want 3 dropped with a queue of 2", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- rl.Run(ctx) }()
	for rl.Stats().Failed < 2 && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if st := rl.Stats(); st.Failed != 2 || st.Sent != 0 {
		t.Errorf("Stats %+v, want the 2 queued lines failed", st)
	}
	if n := logs.count(slog.LevelWarn, "platform: remote log send failed"); n != 1 {
		t.Errorf("%d failure records, want 1", n)
	}

	for _, opts := range []platform.RemoteLogOptions{{Queue: -1}, {Batch: -1}, {Interval: -1}, {MaxLine: -1}} {
		if _, err := platform.NewRemoteLog(down, opts); err == nil {
			t.Errorf("NewRemoteLog(%+v): no error", opts)
		}
	}
	if _, err := platform.NewRemoteLog(nil, platform.RemoteLogOptions{}); err == nil || !strings.Contains(err.Error(), "nil client") {
		t.Errorf("NewRemoteLog(nil) = %v", err)
	}
}
