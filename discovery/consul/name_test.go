package consul

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

var dnsLabel = regexp.MustCompile(`^[a-z0-9-]{1,63}$`)

func TestServiceName(t *testing.T) {
	long := strings.Repeat("Abcdefghij", 7) + ".Obj" // 74 bytes
	for _, tc := range []struct {
		servant, want string
	}{
		{"App.Server.Obj", "app-server-obj"},
		{"tars.tarsregistry.QueryObj", "tars-tarsregistry-queryobj"},
		{"UserService.UserServiceObj", "userservice-userserviceobj"},
		{"Test.Hello_Go.SayHelloObj", "test-hello-go-sayhelloobj"},
		{"a-b.c", "a-b-c"},
		{"X", "x"},
		{"0.1.2", "0-1-2"},
		{long, strings.ToLower(long[:54]) + "-"}, // and 8 hex digits of a hash
	} {
		got, err := ServiceName(tc.servant)
		if err != nil {
			t.Errorf("ServiceName(%q): %v", tc.servant, err)
			continue
		}
		if tc.servant == long {
			// The hash part is checked for shape and stability, not value.
			if len(got) != 63 || got[:55] != tc.want {
				t.Errorf("ServiceName(long) = %q", got)
			}
			again, _ := ServiceName(long)
			if again != got {
				t.Errorf("ServiceName(long) is not stable: %q, %q", got, again)
			}
		} else if got != tc.want {
			t.Errorf("ServiceName(%q) = %q, want %q", tc.servant, got, tc.want)
		}
		if !dnsLabel.MatchString(got) {
			t.Errorf("ServiceName(%q) = %q, not a DNS label", tc.servant, got)
		}
	}

	// Collisions the rule makes, which Resolver sorts out by tars_servant.
	for _, pair := range [][2]string{
		{"App.Server.Obj", "app.server.obj"},
		{"a.b_c", "a.b-c"},
		{"a.b.c", "a-b-c"},
	} {
		x, _ := ServiceName(pair[0])
		y, _ := ServiceName(pair[1])
		if x != y {
			t.Errorf("ServiceName(%q) = %q, ServiceName(%q) = %q: the documented collision is gone", pair[0], x, pair[1], y)
		}
	}
	// Long names that share their first 54 bytes do not collide.
	x, _ := ServiceName(long + "A")
	y, _ := ServiceName(long + "B")
	if x == y {
		t.Errorf("long names collide: %q", x)
	}

	for _, bad := range []string{"", "App.Server.Obj@tcp -h 127.0.0.1 -p 1", "a b", "a/b", "a%2f", "é", strings.Repeat("a", MaxServantLength+1)} {
		if _, err := ServiceName(bad); !errors.Is(err, ErrServantName) {
			t.Errorf("ServiceName(%q) = %v, want ErrServantName", bad, err)
		}
	}
}

func FuzzServiceName(f *testing.F) {
	for _, s := range []string{"App.Server.Obj", "", "a..b", strings.Repeat("Z_", 100), "x\x00y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, err := ServiceName(s)
		if err != nil {
			if !errors.Is(err, ErrServantName) {
				t.Fatalf("ServiceName(%q): untyped error %v", s, err)
			}
			return
		}
		if !dnsLabel.MatchString(name) {
			t.Fatalf("ServiceName(%q) = %q, not a DNS label", s, name)
		}
		// Case never matters, as Consul compares names without it.
		if lower, _ := ServiceName(strings.ToLower(s)); lower != name {
			t.Fatalf("ServiceName(%q) = %q but ServiceName(lower) = %q", s, name, lower)
		}
	})
}

func TestServiceID(t *testing.T) {
	for _, tc := range []struct {
		servant, host string
		port          int
		want          string
	}{
		{"App.Server.Obj", "10.0.0.7", 18015, "App.Server.Obj-10.0.0.7-18015"},
		{"App.Server.Obj", "::1", 1, "App.Server.Obj-::1-1"},
	} {
		if got := ServiceID(tc.servant, tc.host, tc.port); got != tc.want {
			t.Errorf("ServiceID(%q, %q, %d) = %q, want %q", tc.servant, tc.host, tc.port, got, tc.want)
		}
	}
}

func TestNextIndex(t *testing.T) {
	for _, tc := range []struct{ prev, got, want uint64 }{
		{0, 0, 1},    // a first answer with index 0 (a Consul bug): block on 1, never on 0
		{0, 17, 17},  // first answer
		{17, 17, 17}, // the wait ran out, nothing changed
		{17, 30, 30}, // a change
		{30, 12, 0},  // backwards (restored snapshot, restarted agent): full read
		{30, 0, 0},   // backwards to 0
	} {
		if got := nextIndex(tc.prev, tc.got); got != tc.want {
			t.Errorf("nextIndex(%d, %d) = %d, want %d", tc.prev, tc.got, got, tc.want)
		}
	}
}

func TestPacer(t *testing.T) {
	p := pacer{interval: time.Second}
	now := time.Unix(1000, 0)
	// A burst of two, then one per interval.
	for i, want := range []time.Duration{0, 0, time.Second, 2 * time.Second} {
		if got := p.next(now); got != want {
			t.Errorf("query %d at once: wait %v, want %v", i, got, want)
		}
	}
	// After a long quiet spell the burst is back, no more.
	now = now.Add(time.Hour)
	for i, want := range []time.Duration{0, 0, time.Second} {
		if got := p.next(now); got != want {
			t.Errorf("query %d after a pause: wait %v, want %v", i, got, want)
		}
	}
	// Queries a blocking wait apart never wait.
	p = pacer{interval: time.Second}
	for i := range 5 {
		now = now.Add(5 * time.Second)
		if got := p.next(now); got != 0 {
			t.Errorf("spaced query %d: wait %v", i, got)
		}
	}
	if got := (&pacer{}).next(now); got != 0 {
		t.Errorf("no interval: wait %v", got)
	}
}

func TestBackoff(t *testing.T) {
	lo, hi := 100*time.Millisecond, 2*time.Second
	for _, tc := range []struct {
		n      int
		lo, hi time.Duration
	}{
		{1, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 100 * time.Millisecond, 200 * time.Millisecond},
		{4, 400 * time.Millisecond, 800 * time.Millisecond},
		{5, 800 * time.Millisecond, 1600 * time.Millisecond},
		{50, time.Second, 2 * time.Second},
	} {
		for range 100 {
			d := backoff(tc.n, lo, hi)
			if d < tc.lo || d > tc.hi {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", tc.n, d, tc.lo, tc.hi)
			}
		}
	}
}
