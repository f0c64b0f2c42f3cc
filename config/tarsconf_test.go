package config

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseTarsReadsAsTarsGo(t *testing.T) {
	tests := []struct {
		name, in string
		get      map[string]string // TarsGo path → value
		absent   []string          // TarsGo paths without a value
		lines    map[string][]string
	}{
		{
			name: "dotted element names",
			in:   "<tars><application><server>\n<A.B.ObjAdapter>\nservant=A.B.Obj\n</A.B.ObjAdapter>\n</server></application></tars>",
			get:  map[string]string{"/tars/application/server/A.B.ObjAdapter<servant>": "A.B.Obj"},
		},
		{
			name: "repeated blocks merge, later keys win",
			in:   "<tars>\n<a>\nx=1\ny=1\n</a>\n<a>\ny=2\n</a>\n</tars>\n<tars>\n<a>\nz=3\n</a>\n</tars>",
			get:  map[string]string{"/tars/a<x>": "1", "/tars/a<y>": "2", "/tars/a<z>": "3"},
		},
		{
			name:   "lines without = set no key",
			in:     "<tars>\n<nodes>\n  10.0.0.1\n  10.0.0.2\nallow\n</nodes>\n</tars>",
			absent: []string{"/tars/nodes<10.0.0.1>", "/tars/nodes<allow>"},
			lines:  map[string][]string{"/tars/nodes": {"10.0.0.1", "10.0.0.2", "allow"}},
		},
		{
			name: "split at the first =, trimmed, inline # kept",
			in:   "<tars>\n  k = a=b  \n recvthread=1 #hello test\nempty=\n=novalue\n</tars>",
			get:  map[string]string{"/tars<k>": "a=b", "/tars<recvthread>": "1 #hello test", "/tars<empty>": ""},
		},
		{
			name:   "comments",
			in:     "# top\n<tars>\n  # k=1\n<!-- k=2\n k=3 -->\n<!-- one line --> j=4\n</tars>",
			get:    map[string]string{"/tars<j>": "4"},
			absent: []string{"/tars<k>"},
		},
		{
			name: "tags and text share a line",
			in:   "<tars><a>k=v</a><b/><c>\n</c></tars>",
			get:  map[string]string{"/tars/a<k>": "v"},
		},
		{
			name: "CRLF and an XML declaration",
			in:   "<?xml version=\"1.0\"?>\r\n<tars>\r\nk=v\r\n</tars>\r\n",
			get:  map[string]string{"/tars<k>": "v"},
		},
		{
			name: "literal bytes, no XML entities",
			in:   "<tars>\ndsn=user:p&ss@tcp(db)/x?a=1&amp;b=2\n</tars>",
			get:  map[string]string{"/tars<dsn>": "user:p&ss@tcp(db)/x?a=1&amp;b=2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseTars([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			for p, want := range tt.get {
				if got, ok := d.Get(p); !ok || got != want {
					t.Errorf("%s = %q, %v; want %q", p, got, ok, want)
				}
			}
			for _, p := range tt.absent {
				if got, ok := d.Get(p); ok {
					t.Errorf("%s = %q; want no value", p, got)
				}
			}
			for p, want := range tt.lines {
				if got := d.Lookup(p).Lines; !reflect.DeepEqual(got, want) {
					t.Errorf("%s lines = %q; want %q", p, got, want)
				}
			}
		})
	}
}

func TestParseTarsErrorsNameTheLine(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		msg      string
	}{
		{"unterminated tag", "<tars>\n<server\n</tars>", 2, "unterminated"},
		{"mismatched end", "<tars>\n<server>\n</client>\n</tars>", 3, "closes <server> (line 2)"},
		{"end without start", "<tars>\n</tars>\n</tars>", 3, "closes nothing"},
		{"not closed", "<tars>\n  <application>\nk=v\n", 2, "<application> is not closed"},
		{"bad name", "<tars>\n\n<a b=\"1\">\n</a>\n</tars>", 3, "bad element name"},
		{"comment not closed", "<tars>\n<!-- open\n</tars>", 2, "<!-- is not closed"},
		{"too deep", strings.Repeat("<a>\n", 70), 65, "deeper than 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTars([]byte(tt.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v; want a *SyntaxError", err)
			}
			if se.Line != tt.line || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("err = %v; want line %d and %q", err, tt.line, tt.msg)
			}
		})
	}
	if _, err := ParseTars(make([]byte, MaxTarsSize+1)); err == nil {
		t.Error("a file over MaxTarsSize was read")
	}
}

// TestReadTarsTemplate reads a file shaped as tarsnode writes it
// (deploy/framework/sql/template/tars.default expanded, the adapters from
// the database and node inserted by NodeServer/CommandLoad.cpp).
func TestReadTarsTemplate(t *testing.T) {
	b, err := os.ReadFile("testdata/UserService.UserServer.config.conf")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ReadTars(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Server = Server{
		App: "UserService", Server: "UserServer",
		Node:     "tars.tarsnode.ServerObj@tcp -h 10.0.0.5 -p 19386 -t 60000",
		NodeName: "10.0.0.5", LocalIP: "10.0.0.5", Local: "tcp -h 127.0.0.1 -p 19001 -t 3000",
		BasePath:  "/usr/local/app/tars/tarsnode/data/UserService.UserServer/bin/",
		DataPath:  "/usr/local/app/tars/tarsnode/data/UserService.UserServer/data/",
		ConfigObj: "tars.tarsconfig.ConfigObj", NotifyObj: "tars.tarsnotify.NotifyObj", LogObj: "tars.tarslog.LogObj",
		// TarsGo's defaults for what the file lacks:
		GraceTimeout: 60 * time.Second, MaxPacket: 10485760, IdleTimeout: 600 * time.Second,
		QueueCap: 10000000,
		// gotars' own, TARS has no key for them:
		FrameTimeout: want.Server.FrameTimeout, WriteTimeout: want.Server.WriteTimeout,
		MemoryBudget: want.Server.MemoryBudget, MaxInvoke: want.Server.MaxInvoke, QueueTimeout: want.Server.QueueTimeout,
		Tars: TarsServer{
			AcceptTimeout: 500 * time.Millisecond, ZombieTimeout: 10 * time.Second,
			TCPReadBuffer: 128 << 20, TCPWriteBuffer: 128 << 20, MainLoopTicker: 10 * time.Second,
			StatChannelLen: 100000, SampleEncoding: "json",
		},
	}
	want.Servants = map[string]Servant{"UserService.UserServer.UserServiceObj": {
		Adapter:  "UserService.UserServer.UserServiceObjAdapter",
		Endpoint: "tcp -h 10.0.0.5 -p 18015 -t 60000", Protocol: "tars",
		QueueCap: 10000, QueueTimeout: time.Minute, MaxConns: 200000, Threads: 5,
	}}
	want.Client.Locator = "tars.tarsregistry.QueryObj@tcp -h 10.0.0.2 -p 17890:tcp -h 10.0.0.3 -p 17890"
	want.Client.ModuleName = "UserService.UserServer"
	want.Client.Timeout = 5 * time.Second // async-invoke-timeout
	want.Client.WriteTimeout = 3 * time.Second
	want.Client.IdleTimeout = 10 * time.Minute
	want.Client.Tars = TarsClient{ReportInterval: time.Minute, CheckStatusInterval: time.Second,
		QueueLen: 10000, ReadTimeout: 100 * time.Millisecond, ReqDefaultTimeout: 3 * time.Second, ObjQueueMax: 100000}
	want.Observability.StatObj = "tars.tarsstat.StatObj"
	want.Observability.PropertyObj = "tars.tarsproperty.PropertyObj"
	want.Log = Log{Level: "DEBUG", Path: "/usr/local/app/tars/app_log/", Size: 10 << 20, Num: 10}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	opts, err := c.ServerOptions()
	if err != nil {
		t.Fatal(err)
	}
	if !containsOption(opts, `WithServantLimits("UserService.UserServer.UserServiceObj", {MaxInvoke:0 MaxQueue:10000 QueueTimeout:1m0s})`) {
		t.Errorf("ServerOptions = %v", opts)
	}
}

func TestReadTarsLegacy(t *testing.T) {
	b, err := os.ReadFile("testdata/legacy.conf")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ReadTars(b)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"node_name wins over nodename", c.Server.NodeName, "node-7"},
		{"enableset=Y takes setdivision", c.Client.SetDivision, "gray.sz.1"},
		{"maxroutine bounds handlers", c.Server.MaxInvoke, 64},
		{"idletimeout in ms", c.Server.IdleTimeout, 30 * time.Second},
		{"adapter queuecap defaults to the server's", c.Servants["Legacy.Clip.ClipObj"].QueueCap, 500},
		{"repeated adapter block merged", c.Servants["Legacy.Clip.ClipObj"].Threads, 1},
		{"protocol", c.Servants["Legacy.Clip.ClipObj"].Protocol, "not_tars"},
		{"second root block merged", c.Client.Timeout, 20 * time.Second},
		{"inline # kept", c.Client.ModuleName, "Legacy.Clip #hello test"},
		{"client object TLS", c.Client.Objects["Legacy.Store.StoreObj"].TLS.CA, "/etc/tars/ca.pem"},
		{"stat absent is empty, as in TarsGo", c.Observability.StatObj, ""},
		{"max packet", c.Server.MaxPacket, 1048576},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s: got %v, want %v", ch.what, ch.got, ch.want)
		}
	}
	d, _ := ParseTars(b)
	if got := d.Lookup("/taf/nodes").Lines; !reflect.DeepEqual(got, []string{"172.6.8.11", "172.6.8.12"}) {
		t.Errorf("nodes = %q", got)
	}
}

func TestMapTarsErrorsNameKeyAndLine(t *testing.T) {
	tests := []struct {
		name, in, key string
		line          int
	}{
		{"bad integer", "<tars><application>\n<server>\nqueuecap=lots\n</server></application></tars>", "/tars/application/server<queuecap>", 3},
		{"bad milliseconds", "<tars><application>\n<client>\n\nasync-invoke-timeout=3s\n</client></application></tars>", "/tars/application/client<async-invoke-timeout>", 4},
		{"adapter without servant", "<tars><application><server>\n<X>\nendpoint=tcp -h 1.2.3.4 -p 1\n</X>\n</server></application></tars>", "/tars/application/server/X<servant>", 3},
		{"bad adapter value", "<tars><application><server>\n<X>\nservant=A.B.C\nendpoint=tcp -h 1.2.3.4 -p 1\nthreads=x\n</X>\n</server></application></tars>", "/tars/application/server/X<threads>", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadTars([]byte(tt.in))
			var ke *KeyError
			if !errors.As(err, &ke) || ke.Key != tt.key || ke.Line != tt.line {
				t.Fatalf("err = %v; want key %s at line %d", err, tt.key, tt.line)
			}
		})
	}
	if _, err := ReadTars([]byte("<config>\n</config>")); err == nil || !strings.Contains(err.Error(), "not <tars>") {
		t.Errorf("a <config> root: err = %v", err)
	}
	// A value gotars refuses after mapping names the tree's key.
	_, err := ReadTars([]byte("<tars><application><server>\nmaxPackageLength=10\n</server></application></tars>"))
	var ke *KeyError
	if !errors.As(err, &ke) || ke.Key != "server.max_packet" {
		t.Errorf("err = %v; want server.max_packet", err)
	}
}

func TestFormatTarsRoundTrips(t *testing.T) {
	for _, f := range []string{"testdata/UserService.UserServer.config.conf", "testdata/legacy.conf", "testdata/userservice.tars.conf"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := ReadTars(b)
		if err != nil {
			t.Fatal(err)
		}
		out, err := FormatTars(c)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := ReadTars(out)
		if err != nil {
			t.Fatalf("%s: written file does not read: %v\n%s", f, err, out)
		}
		if c.Log.Level = strings.ToUpper(c.Log.Level); !reflect.DeepEqual(c, c2) {
			t.Errorf("%s: round trip\n got %+v\nwant %+v", f, c2, c)
		}
		p := TarsParser{}
		m, err := p.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Marshal(m); err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzParseTars(f *testing.F) {
	for _, name := range []string{"UserService.UserServer.config.conf", "legacy.conf", "userservice.tars.conf"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("<tars><a>k=v</a><b/></tars>"))
	f.Add([]byte("<!-- x --><tars>\n#c\nk\n=v\n</tars>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseTars(b)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 {
				t.Fatalf("error %v is not a *SyntaxError with a line", err)
			}
			return
		}
		// What was read is written back to the same keys and domains.
		d2, err := ParseTars(d.Format())
		if err != nil {
			t.Fatalf("Format's output does not parse: %v\n%q", err, d.Format())
		}
		if !reflect.DeepEqual(d.Map(), d2.Map()) {
			t.Fatalf("round trip:\n%v\n%v", d.Map(), d2.Map())
		}
		// Mapping never panics; what maps decodes or names a key.
		if m, err := MapTars(d); err == nil {
			c := Default()
			if err := Decode(m, &c); err != nil {
				var ke *KeyError
				if !errors.As(err, &ke) {
					t.Fatalf("decode: %v", err)
				}
			}
			_ = c.Validate()
		}
	})
}
