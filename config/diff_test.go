package config

import (
	"reflect"
	"testing"
	"time"
)

func TestDiffSplitsLiveFromRestart(t *testing.T) {
	old := valid()
	old.Client.Objects = map[string]Object{"A.B.Obj": {Endpoints: "tcp -h 127.0.0.1 -p 1"}}
	tests := []struct {
		name          string
		mutate        func(*Config)
		live, restart []string
	}{
		{"nothing", func(*Config) {}, nil, nil},
		{"log level", func(c *Config) { c.Log.Level = "debug" }, []string{"log.level"}, nil},
		{"client timeouts", func(c *Config) { c.Client.Timeout, c.Client.DialTimeout = time.Second, time.Second },
			[]string{"client.dial_timeout", "client.timeout"}, nil},
		{"static endpoints", func(c *Config) { c.Client.Objects["A.B.Obj"] = Object{Endpoints: "tcp -h 127.0.0.1 -p 2"} },
			[]string{"client.objects.A.B.Obj.endpoints"}, nil},
		{"a method's policy", func(c *Config) {
			c.Client.Objects["A.B.Obj"] = Object{Endpoints: "tcp -h 127.0.0.1 -p 1",
				Methods: map[string]Method{"*": {Retry: Retry{MaxAttempts: 3}}}}
		}, []string{"client.objects.A.B.Obj.methods.*.retry.max_attempts"}, nil},
		{"a servant's endpoint", func(c *Config) { c.Servants["A.B.Obj"] = Servant{Endpoint: "tcp -h 127.0.0.1 -p 2"} },
			nil, []string{"servants.A.B.Obj.endpoint"}},
		{"a new servant", func(c *Config) { c.Servants["C.D.Obj"] = Servant{Endpoint: "tcp -h 127.0.0.1 -p 3", MaxInvoke: 1} },
			nil, []string{"servants.C.D.Obj.endpoint", "servants.C.D.Obj.max_invoke"}},
		{"a servant removed", func(c *Config) { delete(c.Servants, "A.B.Obj") }, nil, []string{"servants.A.B.Obj.endpoint"}},
		{"both", func(c *Config) { c.Log.Level = "warn"; c.Server.MaxConns = 9; c.Observability.MetricsAddress = ":9100" },
			[]string{"log.level"}, []string{"observability.metrics_address", "server.max_conns"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := valid()
			n.Client.Objects = map[string]Object{"A.B.Obj": {Endpoints: "tcp -h 127.0.0.1 -p 1"}}
			tt.mutate(&n)
			live, restart := Diff(old, n)
			if !reflect.DeepEqual(live, tt.live) || !reflect.DeepEqual(restart, tt.restart) {
				t.Errorf("live %q restart %q; want %q %q", live, restart, tt.live, tt.restart)
			}
		})
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct {
		in, out []string
		entry   []bool
		ok      bool
	}{
		{[]string{"CLIENT", "TIMEOUT"}, []string{"client", "timeout"}, []bool{false, false}, true},
		{[]string{"servants", "A.B.Obj", "MAX_INVOKE"}, []string{"servants", "A.B.Obj", "max_invoke"}, []bool{false, true, false}, true},
		{[]string{"client", "objects", "X", "methods", "getUser", "retry", "Codes"},
			[]string{"client", "objects", "X", "methods", "getUser", "retry", "codes"},
			[]bool{false, false, true, false, true, false, false}, true},
		{[]string{"client", "TIMOUT"}, []string{"client", "timout"}, []bool{false, false}, false},
		{[]string{"log", "level", "deeper"}, []string{"log", "level", "deeper"}, []bool{false, false, false}, false},
	}
	for _, tt := range tests {
		out, entry, ok := Canonical(tt.in)
		if !reflect.DeepEqual(out, tt.out) || !reflect.DeepEqual(entry, tt.entry) || ok != tt.ok {
			t.Errorf("Canonical(%q) = %q %v %v", tt.in, out, entry, ok)
		}
	}
}
