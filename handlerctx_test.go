package tars

import (
	"context"
	"errors"
	"testing"
	"time"
)

type hctxKey struct{}

// newHandlerCtx is a handler context under a base the test cancels.
func newHandlerCtx(t *testing.T, deadline time.Time) (*handlerCtx, context.CancelFunc) {
	t.Helper()
	base, cancel := context.WithCancel(context.WithValue(context.Background(), hctxKey{}, "base value"))
	t.Cleanup(cancel)
	return &handlerCtx{base: base, call: &Call{Server: true}, deadline: deadline}, cancel
}

// waitDone waits for ch to close, failing after a generous bound.
func waitDone(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: not done after 5s", what)
	}
}

func TestHandlerCtx(t *testing.T) {
	tests := []struct {
		name     string
		deadline time.Duration // from now; 0 none
		watch    bool          // call Done before the event
		event    func(c *handlerCtx, cancelBase context.CancelFunc)
		want     error
	}{
		{"deadline, watched", 20 * time.Millisecond, true, nil, context.DeadlineExceeded},
		{"deadline, not watched", 20 * time.Millisecond, false, func(*handlerCtx, context.CancelFunc) { time.Sleep(30 * time.Millisecond) }, context.DeadlineExceeded},
		{"deadline already past", -time.Millisecond, false, nil, context.DeadlineExceeded},
		{"server cancels, watched", time.Hour, true, func(_ *handlerCtx, cancel context.CancelFunc) { cancel() }, context.Canceled},
		{"server cancels, not watched", 0, false, func(_ *handlerCtx, cancel context.CancelFunc) { cancel() }, context.Canceled},
		{"call ends, watched", time.Hour, true, func(c *handlerCtx, _ context.CancelFunc) { c.end() }, context.Canceled},
		{"call ends, not watched", 0, false, func(c *handlerCtx, _ context.CancelFunc) { c.end() }, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dl time.Time
			if tt.deadline != 0 {
				dl = time.Now().Add(tt.deadline)
			}
			c, cancelBase := newHandlerCtx(t, dl)
			defer c.end()
			if d, ok := c.Deadline(); ok != (tt.deadline != 0) || !d.Equal(dl) {
				t.Errorf("Deadline() = %v, %v; want %v", d, ok, dl)
			}
			var derived context.Context
			if tt.watch {
				if tt.deadline > 0 && c.Err() != nil {
					t.Fatalf("Err() before the event = %v", c.Err())
				}
				var stop context.CancelFunc
				derived, stop = context.WithCancel(c)
				defer stop()
			}
			if tt.event != nil {
				tt.event(c, cancelBase)
			}
			if !tt.watch {
				// Err notices the event by itself, and Done is closed
				// when Err reports it.
				if err := c.Err(); !errors.Is(err, tt.want) {
					t.Fatalf("Err() = %v, want %v", err, tt.want)
				}
				select {
				case <-c.Done():
				default:
					t.Fatal("Err reported an error while Done was open")
				}
			}
			waitDone(t, "Done", c.Done())
			if err := c.Err(); err != tt.want {
				t.Errorf("Err() = %v, want %v", err, tt.want)
			}
			if err := context.Cause(c); err != tt.want {
				t.Errorf("Cause = %v, want %v", err, tt.want)
			}
			if derived != nil {
				waitDone(t, "a context derived from it", derived.Done())
				if err := derived.Err(); err != tt.want {
					t.Errorf("derived Err() = %v, want %v", err, tt.want)
				}
				if err := context.Cause(derived); err != tt.want {
					t.Errorf("derived Cause = %v, want %v", err, tt.want)
				}
			}
			// The first error stays.
			cancelBase()
			c.end()
			if err := c.Err(); err != tt.want {
				t.Errorf("Err() after everything = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestHandlerCtxValues(t *testing.T) {
	c, _ := newHandlerCtx(t, time.Time{})
	defer c.end()
	if call, ok := CallFromContext(c); !ok || call != c.call {
		t.Errorf("CallFromContext = %v, %v", call, ok)
	}
	if v := c.Value(hctxKey{}); v != "base value" {
		t.Errorf("a base value = %v", v)
	}
	inner := context.WithValue(c, hctxKey{}, "inner")
	if call, ok := CallFromContext(inner); !ok || call != c.call || inner.Value(hctxKey{}) != "inner" {
		t.Errorf("through WithValue: %v, %v, %v", call, ok, inner.Value(hctxKey{}))
	}
}

func TestHandlerCtxAfterFunc(t *testing.T) {
	c, _ := newHandlerCtx(t, time.Time{})
	ran := make(chan struct{})
	stopped := context.AfterFunc(c, func() { t.Error("a stopped AfterFunc ran") })
	if !stopped() {
		t.Error("stop of a pending AfterFunc = false")
	}
	context.AfterFunc(c, func() { close(ran) })
	c.end()
	waitDone(t, "AfterFunc", ran)
	late := make(chan struct{})
	stop := context.AfterFunc(c, func() { close(late) })
	waitDone(t, "AfterFunc registered after the end", late)
	if stop() {
		t.Error("stop after the end = true")
	}
}

func BenchmarkHandlerCtx(b *testing.B) {
	base, cancel := context.WithCancel(context.Background())
	defer cancel()
	call := &Call{}
	b.Run("handlerCtx", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c := &handlerCtx{base: base, call: call, deadline: time.Now().Add(time.Second)}
			_ = c.Value(callKey{})
			c.end()
		}
	})
	b.Run("WithDeadline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := context.WithDeadline(context.WithValue(base, callKey{}, call), time.Now().Add(time.Second))
			_ = ctx.Value(callKey{})
			cancel()
		}
	})
}
