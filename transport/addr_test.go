package transport

import (
	"errors"
	"testing"
	"time"
)

func TestParseObject(t *testing.T) {
	tests := []struct {
		in      string
		servant string
		addrs   []Address
		err     bool
	}{
		{in: "A.B.CObj@tcp -h 127.0.0.1 -p 18015 -t 3000", servant: "A.B.CObj",
			addrs: []Address{{Network: "tcp", Host: "127.0.0.1", Port: 18015, Timeout: 3 * time.Second, Weight: -1}}},
		{in: "A.B.CObj@tcp -h 10.0.0.1 -p 1:udp -h 10.0.0.2 -p 2 -w 5 -v 1", servant: "A.B.CObj",
			addrs: []Address{{Network: "tcp", Host: "10.0.0.1", Port: 1, Weight: -1}, {Network: "udp", Host: "10.0.0.2", Port: 2, Weight: 5, WeightType: 1}}},
		{in: "  X.Y.ZObj  ", servant: "X.Y.ZObj"},
		{in: "X@ssl -h h -p 443 -e 1", servant: "X", addrs: []Address{{Network: "ssl", Host: "h", Port: 443, Weight: -1, Auth: 1}}},
		{in: "X@TCP -p 1 -h h", servant: "X", addrs: []Address{{Network: "tcp", Host: "h", Port: 1, Weight: -1}}},
		{in: "X@tcp -h ::1 -p 1:udp -h fe80::2 -p 2", servant: "X",
			addrs: []Address{{Network: "tcp", Host: "::1", Port: 1, Weight: -1}, {Network: "udp", Host: "fe80::2", Port: 2, Weight: -1}}},
		{in: "X@tcp -h [::1] -p 1 : tcp -h 10.0.0.1 -p 2", servant: "X",
			addrs: []Address{{Network: "tcp", Host: "::1", Port: 1, Weight: -1}, {Network: "tcp", Host: "10.0.0.1", Port: 2, Weight: -1}}},
		{in: "@tcp -h h -p 1", err: true},
		{in: "X@", err: true},
		{in: "X@http -h h -p 1", err: true},
		{in: "X@tcp -h h", err: true},
		{in: "X@tcp -p 1", err: true},
		{in: "X@tcp -h h -p 70000", err: true},
		{in: "X@tcp -h h -p x", err: true},
		{in: "X@tcp -h h -p 1 -z 3", err: true},
		{in: "X@tcp -h h -p 1 -t", err: true},
		{in: "X@tcp -h h -p 1 -p 2", err: true},
		{in: "X@tcp -h h -p 1 -t -5", err: true},
	}
	for _, tt := range tests {
		servant, addrs, err := ParseObject(tt.in)
		if tt.err {
			if err == nil || !errors.Is(err, ErrAddress) {
				t.Errorf("ParseObject(%q): want an ErrAddress error, got %v", tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseObject(%q): %v", tt.in, err)
			continue
		}
		if servant != tt.servant || len(addrs) != len(tt.addrs) {
			t.Errorf("ParseObject(%q) = %q %+v", tt.in, servant, addrs)
			continue
		}
		for i := range addrs {
			if addrs[i] != tt.addrs[i] {
				t.Errorf("ParseObject(%q)[%d] = %+v, want %+v", tt.in, i, addrs[i], tt.addrs[i])
			}
			back, err := ParseAddress(addrs[i].String())
			if err != nil || back != addrs[i] {
				t.Errorf("String round trip of %+v: %q -> %+v, %v", addrs[i], addrs[i].String(), back, err)
			}
		}
	}
}

func TestListenHostPort(t *testing.T) {
	tests := []struct{ in, want string }{
		{"tcp -h 10.0.0.1 -p 18015", "10.0.0.1:18015"},
		{"tcp -h 10.0.0.1 -p 18015 -b 0.0.0.0", "0.0.0.0:18015"},
		{"udp -h ::1 -p 7 -b ::", "[::]:7"},
	}
	for _, tt := range tests {
		a, err := ParseAddress(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.ListenHostPort(); got != tt.want {
			t.Errorf("%q: ListenHostPort %q, want %q", tt.in, got, tt.want)
		}
	}
}
