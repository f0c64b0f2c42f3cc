package config

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gotars/tars"
)

func containsOption[O any](opts []O, want string) bool {
	for _, o := range opts {
		if fmt.Sprint(o) == want {
			return true
		}
	}
	return false
}

func TestDecode(t *testing.T) {
	c := Default()
	err := Decode(map[string]any{
		"server": map[string]any{"app": "A", "max_packet": "1M", "grace_timeout": "2s", "max_conns": 5},
		"servants": map[string]any{
			"A.B.Obj": map[string]any{"endpoint": "tcp -h 127.0.0.1 -p 1", "max_invoke": "7", "tls": map[string]any{"verify_client": "Y"}},
		},
		"client": map[string]any{"timeout": "1500ms", "objects": map[string]any{
			"A.B.Obj": map[string]any{"methods": map[string]any{"*": map[string]any{"retry": map[string]any{"codes": []any{-6, "-7"}}}}},
		}},
		"observability": map[string]any{"trace_sample_ratio": "0.25"},
		"log":           map[string]any{"level": nil},
	}, &c)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		got, want any
	}{
		{c.Server.App, "A"},
		{c.Server.MaxPacket, 1 << 20},
		{c.Server.GraceTimeout, 2 * time.Second},
		{c.Server.MaxConns, 5},
		{c.Servants["A.B.Obj"].MaxInvoke, 7},
		{c.Servants["A.B.Obj"].TLS.VerifyClient, true},
		{c.Client.Timeout, 1500 * time.Millisecond},
		{c.Client.Objects["A.B.Obj"].Methods["*"].Retry.Codes, []int{-6, -7}},
		{c.Observability.TraceSampleRatio, 0.25},
		{c.Log.Level, "info"}, // nil leaves the default
	}
	for i, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("check %d: got %v, want %v", i, ch.got, ch.want)
		}
	}
}

func TestDecodeErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		in   map[string]any
		key  string
		text string
	}{
		{map[string]any{"client": map[string]any{"timout": "1s"}}, "client.timout", "unknown key"},
		{map[string]any{"servants": map[string]any{"A.B.Obj": map[string]any{"max_invok": 1}}}, "servants.A.B.Obj.max_invok", "unknown key"},
		{map[string]any{"client": map[string]any{"timeout": 3000}}, "client.timeout", "has no unit"},
		{map[string]any{"client": map[string]any{"timeout": "3000"}}, "client.timeout", "has no unit"},
		{map[string]any{"client": map[string]any{"timeout": "soon"}}, "client.timeout", "bad duration"},
		{map[string]any{"server": map[string]any{"max_conns": "many"}}, "server.max_conns", "bad integer"},
		{map[string]any{"server": map[string]any{"max_conns": 1.5}}, "server.max_conns", "want an integer"},
		{map[string]any{"server": map[string]any{"tls": map[string]any{"verify_client": "maybe"}}}, "server.tls.verify_client", "bad boolean"},
		{map[string]any{"server": "x"}, "server", "want a table"},
		{map[string]any{"servants": map[string]any{"A": "x"}}, "servants.A", "want a table"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			c := Default()
			err := Decode(tt.in, &c)
			var ke *KeyError
			if !errors.As(err, &ke) || ke.Key != tt.key || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v; want key %s with %q", err, tt.key, tt.text)
			}
		})
	}
	// Every error is reported, not only the first.
	c := Default()
	err := Decode(map[string]any{"a": 1, "b": 2}, &c)
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 2 {
		t.Errorf("%d errors; want 2: %v", n, err)
	}
	if got := InFile(err, "app.yaml").Error(); !strings.Contains(got, "config: app.yaml: a: unknown key") {
		t.Errorf("InFile: %s", got)
	}
}

func valid() Config {
	c := Default()
	c.Servants = map[string]Servant{"A.B.Obj": {Endpoint: "tcp -h 127.0.0.1 -p 18015"}}
	return c
}

func TestValidateNamesTheKey(t *testing.T) {
	tests := []struct {
		key    string
		mutate func(*Config)
	}{
		{"server.max_packet", func(c *Config) { c.Server.MaxPacket = 10 }},
		{"server.memory_budget", func(c *Config) { c.Server.MemoryBudget = 100 }},
		{"server.grace_timeout", func(c *Config) { c.Server.GraceTimeout = 0 }},
		{"server.idle_timeout", func(c *Config) { c.Server.IdleTimeout = -1 }},
		{"server.local", func(c *Config) { c.Server.Local = "tcp -h" }},
		{"server.node", func(c *Config) { c.Server.Node = "x@tcp -p" }},
		{"servants.A.B.Obj.endpoint", func(c *Config) { c.Servants["A.B.Obj"] = Servant{} }},
		{"servants.A.B.Obj.endpoint", func(c *Config) { c.Servants["A.B.Obj"] = Servant{Endpoint: "tcp -h x -p nope"} }},
		{"servants.A.B.Obj.tls", func(c *Config) { c.Servants["A.B.Obj"] = Servant{Endpoint: "ssl -h 127.0.0.1 -p 1"} }},
		{"servants.A.B.Obj.protocol", func(c *Config) {
			c.Servants["A.B.Obj"] = Servant{Endpoint: "tcp -h 127.0.0.1 -p 1", Protocol: "http"}
		}},
		{"servants.A.B.Obj.max_invoke", func(c *Config) {
			c.Servants["A.B.Obj"] = Servant{Endpoint: "tcp -h 127.0.0.1 -p 1", MaxInvoke: -1}
		}},
		{"servants.bad name", func(c *Config) { c.Servants["bad name"] = Servant{} }},
		{"client.consul", func(c *Config) { c.Client.Locator, c.Client.Consul = "tars.tarsregistry.QueryObj", "127.0.0.1:8500" }},
		{"client.timeout", func(c *Config) { c.Client.Timeout = 0 }},
		{"client.conns_per_endpoint", func(c *Config) { c.Client.ConnsPerEndpoint = 0 }},
		{"client.balancer", func(c *Config) { c.Client.Balancer = "fastest" }},
		{"client.objects.X.endpoints", func(c *Config) { c.Client.Objects = map[string]Object{"X": {Endpoints: "tcp -h"}} }},
		{"client.objects.*.endpoints", func(c *Config) {
			c.Client.Objects = map[string]Object{"*": {Endpoints: "tcp -h 127.0.0.1 -p 1"}}
		}},
		{"client.objects.X.methods.get.breaker.failure_ratio", func(c *Config) {
			c.Client.Objects = map[string]Object{"X": {Methods: map[string]Method{"get": {Breaker: Breaker{FailureRatio: 2}}}}}
		}},
		{"client.objects.X.methods.*.retry.max_backoff", func(c *Config) {
			c.Client.Objects = map[string]Object{"X": {Methods: map[string]Method{"*": {Retry: Retry{Backoff: time.Second, MaxBackoff: time.Millisecond}}}}}
		}},
		{"client.tls", func(c *Config) { c.Client.TLS.Cert = "c.pem" }},
		{"server.tls.verify_client", func(c *Config) { c.Server.TLS.VerifyClient = true }},
		{"observability.trace_exporter", func(c *Config) { c.Observability.TraceExporter = "zipkin" }},
		{"observability.trace_endpoint", func(c *Config) { c.Observability.TraceExporter = "otlp" }},
		{"observability.trace_sample_ratio", func(c *Config) { c.Observability.TraceSampleRatio = 1.5 }},
		{"observability.trace_sample_ratio", func(c *Config) { c.Observability.TraceSampleRatio = math.NaN() }},
		{"observability.metrics_address", func(c *Config) { c.Observability.MetricsAddress = "9090" }},
		{"log.level", func(c *Config) { c.Log.Level = "loud" }},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			c := valid()
			tt.mutate(&c)
			err := c.Validate()
			var ke *KeyError
			if !errors.As(err, &ke) || ke.Key != tt.key {
				t.Fatalf("err = %v; want key %s", err, tt.key)
			}
		})
	}
	c := valid()
	if err := c.Validate(); err != nil {
		t.Fatalf("a valid config: %v", err)
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]string{"DEBUG": "DEBUG", "info": "INFO", "Warning": "WARN", "ERROR": "ERROR"} {
		l, err := ParseLevel(in)
		if err != nil || l.String() != want {
			t.Errorf("ParseLevel(%q) = %v, %v", in, l, err)
		}
	}
	if l, _ := ParseLevel("NONE"); l != LevelNone {
		t.Errorf("none = %v", l)
	}
}

// TestOptionsBuildAServerAndClient builds a real server and client from a
// config and calls through them: the options are accepted and the
// servant's limits apply (a second concurrent call to a servant with
// max_invoke 1 and queue_cap 0 is answered overload).
func TestOptionsBuildAServerAndClient(t *testing.T) {
	c := valid()
	c.Servants["A.B.Obj"] = Servant{Endpoint: "tcp -h 127.0.0.1 -p 0", MaxInvoke: 1, QueueCap: 0}
	c.Server.QueueCap = 0
	c.Client.Timeout = 2 * time.Second
	sopts, err := c.ServerOptions()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"WithMaxPacket(10485760)", "WithIdleTimeout(1m0s)", "WithMaxQueue(0)",
		`WithServantLimits("A.B.Obj", {MaxInvoke:1 MaxQueue:0 QueueTimeout:0s})`} {
		if !containsOption(sopts, want) {
			t.Errorf("ServerOptions lacks %s: %v", want, sopts)
		}
	}
	svc := tars.NewService("Obj")
	type args struct {
		N int32 `tars:"1"`
	}
	slow := tars.NewEndpoint[args, args](svc, "slow")
	srv := tars.NewServer(sopts...)
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	tars.Handle(srv, "A.B.Obj", slow, func(ctx context.Context, a args) (args, error) {
		entered <- struct{}{}
		<-release
		return a, nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	}()

	port := ln.Addr().(*net.TCPAddr).Port
	c.Client.Objects = map[string]Object{"A.B.Obj": {Endpoints: fmt.Sprintf("tcp -h 127.0.0.1 -p %d", port)}}
	copts, err := c.ClientOptions("A.B.Obj")
	if err != nil {
		t.Fatal(err)
	}
	if !containsOption(copts, "WithTimeout(2s)") {
		t.Errorf("ClientOptions = %v", copts)
	}
	cl, err := tars.NewClient(c.Client.Target("A.B.Obj"), copts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	first := make(chan error, 1)
	go func() {
		_, err := slow.Call(context.Background(), cl, args{1})
		first <- err
	}()
	<-entered
	_, err = slow.Call(context.Background(), cl, args{2})
	if tars.CodeOf(err) != tars.CodeServerOverload {
		t.Errorf("second call: %v; want overload", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Errorf("first call: %v", err)
	}
}

func TestClientPolicyAndTarget(t *testing.T) {
	c := Default().Client
	c.Objects = map[string]Object{
		"*":     {Methods: map[string]Method{"*": {Retry: Retry{MaxAttempts: 2}}}},
		"A.B.C": {Timeout: time.Second, Endpoints: "tcp -h 127.0.0.1 -p 1", Methods: map[string]Method{"get": {Timeout: 100 * time.Millisecond}}},
	}
	tests := []struct {
		obj, method string
		want        Method
	}{
		{"A.B.C", "get", Method{Timeout: 100 * time.Millisecond, Retry: Retry{MaxAttempts: 2}}},
		{"A.B.C", "put", Method{Timeout: time.Second, Retry: Retry{MaxAttempts: 2}}},
		{"X.Y.Z", "get", Method{Timeout: c.Timeout, Retry: Retry{MaxAttempts: 2}}},
	}
	for _, tt := range tests {
		if got := c.Policy(tt.obj, tt.method); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Policy(%s, %s) = %+v; want %+v", tt.obj, tt.method, got, tt.want)
		}
	}
	if got := c.Target("A.B.C"); got != "A.B.C@tcp -h 127.0.0.1 -p 1" {
		t.Errorf("Target = %q", got)
	}
	if got := c.Target("X.Y.Z"); got != "X.Y.Z" {
		t.Errorf("Target = %q", got)
	}
}

func TestToMapDecodesBack(t *testing.T) {
	c := valid()
	c.Client.Objects = map[string]Object{"A.B.C": {Methods: map[string]Method{"*": {Retry: Retry{Codes: []int{-7}}}}}}
	got := Config{}
	if err := Decode(ToMap(c), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("got  %+v\nwant %+v", got, c)
	}
	keys := Keys(Default())
	if len(keys) < 60 || keys[0].Name != "server.app" {
		t.Fatalf("Keys = %v", keys)
	}
	for _, k := range keys {
		if k.Name == "client.timeout" && (k.Kind != "duration" || k.Value != "3s") {
			t.Errorf("client.timeout = %+v", k)
		}
	}
}

func ExampleReadTars() {
	c, err := ReadTars([]byte(`<tars>
  <application>
    <client>
      async-invoke-timeout=5000
    </client>
    <server>
      app=UserService
      server=UserServer
      <UserService.UserServer.UserServiceObjAdapter>
        endpoint=tcp -h 127.0.0.1 -p 18015 -t 60000
        servant=UserService.UserServer.UserServiceObj
        queuecap=10000
      </UserService.UserServer.UserServiceObjAdapter>
    </server>
  </application>
</tars>`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Server.App, c.Server.Server, c.Client.Timeout, c.Server.IdleTimeout)
	sv := c.Servants["UserService.UserServer.UserServiceObj"]
	fmt.Println(sv.Endpoint, sv.QueueCap)
	// Output:
	// UserService UserServer 5s 10m0s
	// tcp -h 127.0.0.1 -p 18015 -t 60000 10000
}

func ExampleConfig_ServerOptions() {
	c := Default()
	c.Servants = map[string]Servant{"UserService.UserServiceObj": {Endpoint: "tcp -h 127.0.0.1 -p 18015", MaxInvoke: 100}}
	opts, err := c.ServerOptions()
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := tars.NewServer(opts...)
	_ = srv
	fmt.Println(opts[len(opts)-1])
	// Output: WithServantLimits("UserService.UserServiceObj", {MaxInvoke:100 MaxQueue:0 QueueTimeout:0s})
}

func TestCloneOwnsItsMaps(t *testing.T) {
	c := valid()
	c.Client.Objects = map[string]Object{"X": {Methods: map[string]Method{"*": {Retry: Retry{Codes: []int{-7}}}}}}
	d := c.Clone()
	d.Servants["A.B.Obj"] = Servant{}
	d.Client.Objects["X"].Methods["*"].Retry.Codes[0] = 1
	d.Client.Objects["Y"] = Object{}
	if c.Servants["A.B.Obj"].Endpoint == "" || c.Client.Objects["X"].Methods["*"].Retry.Codes[0] != -7 || len(c.Client.Objects) != 1 {
		t.Errorf("the clone shares: %+v", c)
	}
}
