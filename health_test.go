package tars

import (
	"testing"
	"time"
)

// TestHealthRule walks an endpoint's record through TarsGo's rule: the
// consecutive-failure rule, the ratio rule, probes.
func TestHealthRule(t *testing.T) {
	p := DefaultHealth
	t0 := int64(1000 * time.Second) // nanotime
	at := func(d time.Duration) int64 { return t0 + int64(d) }
	tests := []struct {
		name string
		run  func(h *health) bool // reports whether the endpoint is out
		out  bool
	}{
		{"4 failures in a row", func(h *health) bool {
			for i := range 4 {
				h.failure(&p, at(6*time.Second+time.Duration(i)), false)
			}
			return h.out.Load()
		}, false},
		{"5 in a row, no success for 5s", func(h *health) bool {
			for i := range 5 {
				h.failure(&p, at(6*time.Second+time.Duration(i)), false)
			}
			return h.out.Load()
		}, true},
		{"5 in a row, but a success 1s ago", func(h *health) bool {
			h.success(&p, at(5*time.Second), false)
			for i := range 5 {
				h.failure(&p, at(6*time.Second+time.Duration(i)), false)
			}
			return h.out.Load()
		}, false},
		{"a success breaks the streak", func(h *health) bool {
			for i := range 4 {
				h.failure(&p, at(6*time.Second+time.Duration(i)), false)
			}
			h.success(&p, at(6*time.Second+10*time.Millisecond), false)
			h.failure(&p, at(7*time.Second), false)
			return h.out.Load()
		}, false},
		{"half of a window's calls failed", func(h *health) bool {
			for i := range 10 {
				now := at(time.Duration(i) * 5 * time.Second)
				if i%2 == 0 {
					h.failure(&p, now, false)
				} else {
					h.success(&p, now, false)
				}
			}
			h.failure(&p, at(61*time.Second), false) // the window ends: 6 of 11 failed
			return h.out.Load()
		}, true},
		{"less than half failed", func(h *health) bool {
			for i := range 10 {
				now := at(time.Duration(i) * 5 * time.Second)
				if i%2 == 0 {
					h.failure(&p, now, false)
				} else {
					h.success(&p, now, false)
				}
			}
			h.success(&p, at(61*time.Second), false) // the window ends: 5 of 11 failed
			return h.out.Load()
		}, false},
		{"a tenth of a window's calls failed", func(h *health) bool {
			h.failure(&p, at(0), false)
			for i := range 9 {
				h.success(&p, at(time.Duration(i+1)*time.Second), false)
			}
			h.failure(&p, at(61*time.Second), false)
			return h.out.Load()
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h health
			h.init(t0)
			if got := tt.run(&h); got != tt.out {
				t.Fatalf("out of rotation: %v, want %v", got, tt.out)
			}
		})
	}
	t.Run("probe", func(t *testing.T) {
		var h health
		h.init(t0)
		for i := range 5 {
			h.failure(&p, at(6*time.Second+time.Duration(i)), false)
		}
		now := at(7 * time.Second)
		if ok, _ := h.usable(&p, now); ok {
			t.Fatal("usable right after it went out")
		}
		now += int64(p.Retry)
		ok, probe := h.usable(&p, now)
		if !ok || !probe {
			t.Fatalf("after Retry: usable %v probe %v", ok, probe)
		}
		if ok, _ := h.usable(&p, now); ok {
			t.Fatal("two probes at once")
		}
		h.failure(&p, now, true) // the probe failed: out for another Retry
		if ok, _ := h.usable(&p, now+int64(p.Retry/2)); ok {
			t.Fatal("usable before the next Retry")
		}
		ok, probe = h.usable(&p, now+int64(p.Retry))
		if !ok || !probe {
			t.Fatal("no second probe")
		}
		h.success(&p, now+int64(p.Retry), true)
		if h.out.Load() {
			t.Fatal("still out after an answered probe")
		}
	})
	t.Run("disabled", func(t *testing.T) {
		var h health
		h.init(t0)
		d := HealthPolicy{Disabled: true}
		for i := range 50 {
			h.failure(&d, at(time.Duration(i)*time.Second), false)
		}
		if ok, _ := h.usable(&d, at(time.Minute)); !ok {
			t.Fatal("a disabled policy took the endpoint out")
		}
	})
}
