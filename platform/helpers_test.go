package platform_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gotars/tars"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve runs a gotars server on 127.0.0.1:0 with what register registers,
// until the test ends, and returns it and its address as " -h H -p P".
func serve(t testing.TB, register func(*tars.Server)) (*tars.Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := tars.NewServer()
	register(srv)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, tars.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	a := ln.Addr().(*net.TCPAddr)
	return srv, fmt.Sprintf("tcp -h 127.0.0.1 -p %d -t 3000", a.Port)
}

// client returns a gotars client of servant at ep, closed when the test
// ends.
func client(t testing.TB, servant, ep string, opts ...tars.ClientOption) *tars.Client {
	t.Helper()
	c, err := tars.NewClient(servant+"@"+ep, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// records is a slog.Handler keeping the records it is given.
type records struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec.Clone())
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

// count returns how many records at level have message msg.
func (r *records) count(level slog.Level, msg string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rec := range r.recs {
		if rec.Level == level && rec.Message == msg {
			n++
		}
	}
	return n
}

// attr returns the value of the attribute key of the first record with
// message msg.
func (r *records) attr(msg, key string) (slog.Value, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.recs {
		if rec.Message != msg {
			continue
		}
		var v slog.Value
		found := false
		rec.Attrs(func(a slog.Attr) bool {
			if a.Key == key {
				v, found = a.Value, true
				return false
			}
			return true
		})
		return v, found
	}
	return slog.Value{}, false
}

// listen opens a TCP listener on 127.0.0.1:0.
func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// endpointOf is ln's address as a TARS endpoint.
func endpointOf(ln net.Listener) string {
	return fmt.Sprintf("tcp -h 127.0.0.1 -p %d -t 3000", ln.Addr().(*net.TCPAddr).Port)
}
