package configtarsgo

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/TarsCloud/TarsGo/tars"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/transport"
)

type tarsGoAdapter struct {
	Protocol, Obj string
	Threads       int
	Endpoint      struct {
		Host, Proto string
		Port        int32
	}
}

// tarsGoView is what TarsGo's application read from a file: the exported
// fields of its serverConfig and clientConfig (tars/config.go).
type tarsGoView struct {
	Server struct {
		Node, App, Server, LogPath  string
		LogSize, LogNum             uint64
		LogLevel, NodeName, LocalIP string
		Local, BasePath, DataPath   string
		Config, Notify, Log         string
		Adapters                    map[string]tarsGoAdapter
		Enableset                   bool
		Setdivision                 string
		AcceptTimeout, ReadTimeout  time.Duration
		WriteTimeout, HandleTimeout time.Duration
		IdleTimeout, ZombieTimeout  time.Duration
		QueueCap, TCPReadBuffer     int
		TCPWriteBuffer              int
		TCPNoDelay                  bool
		MaxInvoke                   int32
		PropertyReportInterval      time.Duration
		StatReportInterval          time.Duration
		MainLoopTicker              time.Duration
		StatReportChannelBufLen     int32
		MaxPackageLength            int
		GracedownTimeout            time.Duration
		CA, Cert, Key               string
		VerifyClient                bool
		Ciphers                     string
		SampleRate                  float64
		SampleType, SampleAddress   string
		SampleEncoding              string
	}
	Client struct {
		Locator, Stat, Property, ModuleName string
		RefreshEndpointInterval             int
		ReportInterval, CheckStatusInterval int
		KeepAliveInterval                   int
		AsyncInvokeTimeout, ClientQueueLen  int
		ClientIdleTimeout                   time.Duration
		ClientReadTimeout                   time.Duration
		ClientWriteTimeout                  time.Duration
		ClientDialTimeout                   time.Duration
		ReqDefaultTimeout, ObjQueueMax      int32
	}
}

// TestTarsGoApplicationReadsTheSame starts this test binary again as a
// TarsGo application (tars.ServerConfigPath set, then TarsGo's own
// GetServerConfig and GetClientConfig) on each sample file and compares
// every key TarsGo read, defaults included, with config.ReadTars. The
// child prints its view and exits; it dials nothing but a listener of the
// test on 127.0.0.1 (the samples' framework objects are rewritten to it)
// and logs into a temporary directory.
func TestTarsGoApplicationReadsTheSame(t *testing.T) {
	if path := os.Getenv("TARSGO_CHILD_CONF"); path != "" {
		t.Skip("in the child")
	}
	hosts := regexp.MustCompile(`10\.\d+\.\d+\.\d+`)
	// The child's TarsGo dials its locator to report stats: give it a port
	// of ours that accepts and hangs up, not whatever holds 17890.
	sink, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sunk := make(chan struct{})
	go func() {
		defer close(sunk)
		for {
			c, err := sink.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	defer func() { sink.Close(); <-sunk }()
	port := []byte(fmt.Sprintf("-p %d", sink.Addr().(*net.TCPAddr).Port))
	logs := regexp.MustCompile(`(?m)^(\s*logpath=).*$`)
	for _, name := range []string{"UserService.UserServer.config.conf", "legacy.conf", "userservice.tars.conf", "full.conf", "minimal.conf"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile("../../config/testdata/" + name)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			b = hosts.ReplaceAll(b, []byte("127.0.0.1"))
			b = bytes.ReplaceAll(b, []byte("-p 17890"), port)
			b = logs.ReplaceAll(b, []byte("${1}"+dir))
			if bytes.Contains(b, []byte("<taf>")) { // TarsGo reads only /tars/…
				b = bytes.ReplaceAll(b, []byte("taf>"), []byte("tars>"))
			}
			// TarsGo loads the CA a client object names, and panics without it.
			ca := filepath.Join(dir, "ca.pem")
			writeCA(t, ca)
			b = bytes.ReplaceAll(b, []byte("/etc/tars/ca.pem"), []byte(ca))
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestTarsGoChild$", "-test.count=1")
			// TarsGo's own goroutines race (gtime against rogger and the
			// registry proxy); under -race the child reports them but its
			// exit status and timing stay its own.
			cmd.Env = append(os.Environ(), "TARSGO_CHILD_CONF="+path, "GORACE=exitcode=0 atexit_sleep_ms=0")
			cmd.Dir = dir
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("child: %v\n%s\n%s", err, out, err.(*exec.ExitError).Stderr)
			}
			i := bytes.IndexByte(out, '{')
			if i < 0 {
				t.Fatalf("child printed %s", out)
			}
			var v tarsGoView
			if err := json.NewDecoder(bytes.NewReader(out[i:])).Decode(&v); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			c, err := config.ReadTars(b)
			if err != nil {
				t.Fatal(err)
			}
			compareWithTarsGo(t, v, c)
		})
	}
}

// TestTarsGoChild is the TarsGo application of
// TestTarsGoApplicationReadsTheSame.
func TestTarsGoChild(t *testing.T) {
	path := os.Getenv("TARSGO_CHILD_CONF")
	if path == "" {
		t.Skip("only as the child of TestTarsGoApplicationReadsTheSame")
	}
	tars.ServerConfigPath = path
	var v struct {
		Server any
		Client any
	}
	v.Server, v.Client = tars.GetServerConfig(), tars.GetClientConfig()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.Write(append(b, '\n'))
	os.Exit(0) // before TarsGo's reporting goroutines matter
}

// writeCA writes a self-signed CA certificate to path.
func writeCA(t *testing.T, path string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gotars test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

type tarsGoCheck struct {
	key            string
	tarsgo, gotars any
}

func compareWithTarsGo(t *testing.T, v tarsGoView, c config.Config) {
	t.Helper()
	s, cl := v.Server, v.Client
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	set := ""
	if s.Enableset {
		set = s.Setdivision
	}
	checks := []tarsGoCheck{
		{"server.node", s.Node, c.Server.Node},
		{"server.app", s.App, c.Server.App},
		{"server.server", s.Server, c.Server.Server},
		{"log.path", s.LogPath, c.Log.Path},
		{"log.size (MB)", s.LogSize, uint64(c.Log.Size >> 20)},
		{"log.num", s.LogNum, uint64(c.Log.Num)},
		{"server.local_ip", s.LocalIP, c.Server.LocalIP},
		// TarsGo: node_name, else localip; gotars reads tarsnode's nodename
		// between the two, which the samples set to localip or not at all.
		{"server.node_name", s.NodeName, c.Server.NodeName},
		{"server.local", s.Local, c.Server.Local},
		{"server.base_path", s.BasePath, c.Server.BasePath},
		{"server.data_path", s.DataPath, c.Server.DataPath},
		{"server.config_obj", s.Config, c.Server.ConfigObj},
		{"server.notify_obj", s.Notify, c.Server.NotifyObj},
		{"server.log_obj", s.Log, c.Server.LogObj},
		{"client.set_division", set, c.Client.SetDivision},
		{"server.tars.accept_timeout", s.AcceptTimeout, c.Server.Tars.AcceptTimeout},
		{"server.tars.read_timeout", s.ReadTimeout, c.Server.Tars.ReadTimeout},
		{"server.tars.write_timeout", s.WriteTimeout, c.Server.Tars.WriteTimeout},
		{"server.tars.handle_timeout", s.HandleTimeout, c.Server.Tars.HandleTimeout},
		{"server.idle_timeout", s.IdleTimeout, c.Server.IdleTimeout},
		{"server.tars.zombie_timeout", s.ZombieTimeout, c.Server.Tars.ZombieTimeout},
		{"server.queue_cap", s.QueueCap, c.Server.QueueCap},
		{"server.tars.tcp_read_buffer", s.TCPReadBuffer, c.Server.Tars.TCPReadBuffer},
		{"server.tars.tcp_write_buffer", s.TCPWriteBuffer, c.Server.Tars.TCPWriteBuffer},
		{"server.tars.tcp_no_delay", s.TCPNoDelay, c.Server.Tars.TCPNoDelay},
		{"server.tars.max_routine", s.MaxInvoke, int32(c.Server.Tars.MaxRoutine)},
		{"observability.property_interval", s.PropertyReportInterval, c.Observability.PropertyInterval},
		{"observability.stat_interval", s.StatReportInterval, c.Observability.StatInterval},
		{"server.tars.main_loop_ticker", s.MainLoopTicker, c.Server.Tars.MainLoopTicker},
		{"server.tars.stat_report_channel_buf_len", s.StatReportChannelBufLen, int32(c.Server.Tars.StatChannelLen)},
		{"server.max_packet", s.MaxPackageLength, c.Server.MaxPacket},
		{"server.grace_timeout", s.GracedownTimeout, c.Server.GraceTimeout},
		{"server.tls.key", s.Key, c.Server.TLS.Key},
		{"server.tls.cert", s.Cert, c.Server.TLS.Cert},
		{"server.tars.sample_rate", s.SampleRate, c.Server.Tars.SampleRate},
		{"server.tars.sample_type", s.SampleType, c.Server.Tars.SampleType},
		{"server.tars.sample_address", s.SampleAddress, c.Server.Tars.SampleAddress},
		{"server.tars.sample_encoding", s.SampleEncoding, c.Server.Tars.SampleEncoding},
		{"client.locator", cl.Locator, c.Client.Locator},
		{"observability.stat_obj", cl.Stat, c.Observability.StatObj},
		{"observability.property_obj", cl.Property, c.Observability.PropertyObj},
		{"client.module_name", cl.ModuleName, c.Client.ModuleName},
		{"client.refresh_interval", ms(cl.RefreshEndpointInterval), c.Client.RefreshInterval},
		{"client.tars.report_interval", ms(cl.ReportInterval), c.Client.Tars.ReportInterval},
		{"client.tars.check_status_interval", ms(cl.CheckStatusInterval), c.Client.Tars.CheckStatusInterval},
		{"client.tars.keep_alive_interval", ms(cl.KeepAliveInterval), c.Client.Tars.KeepAliveInterval},
		{"client.timeout", ms(cl.AsyncInvokeTimeout), c.Client.Timeout},
		{"client.tars.queue_len", cl.ClientQueueLen, c.Client.Tars.QueueLen},
		{"client.idle_timeout", cl.ClientIdleTimeout, c.Client.IdleTimeout},
		{"client.tars.read_timeout", cl.ClientReadTimeout, c.Client.Tars.ReadTimeout},
		{"client.write_timeout", cl.ClientWriteTimeout, c.Client.WriteTimeout},
		{"client.dial_timeout", cl.ClientDialTimeout, c.Client.DialTimeout},
		{"client.tars.req_default_timeout", ms(int(cl.ReqDefaultTimeout)), c.Client.Tars.ReqDefaultTimeout},
		{"client.tars.obj_queue_max", cl.ObjQueueMax, int32(c.Client.Tars.ObjQueueMax)},
	}
	if s.Key != "" && s.Cert != "" { // TarsGo reads these only then
		checks = append(checks, tarsGoCheck{"server.tls.ca", s.CA, c.Server.TLS.CA},
			tarsGoCheck{"server.tls.verify_client", s.VerifyClient, c.Server.TLS.VerifyClient})
	}
	if s.LogLevel != "" { // "" when the file has none: TarsGo then takes .tarsdat's
		checks = append(checks, tarsGoCheck{"log.level", s.LogLevel, c.Log.Level})
	}
	for _, ch := range checks {
		if ch.tarsgo != ch.gotars {
			t.Errorf("%s: TarsGo %v (%T), gotars %v (%T)", ch.key, ch.tarsgo, ch.tarsgo, ch.gotars, ch.gotars)
		}
	}
	if a, ok := s.Adapters["AdminAdapter"]; ok { // TarsGo's AdminObj, from local
		if a.Obj != "AdminObj" || c.Server.Local == "" {
			t.Errorf("AdminAdapter %+v, server.local %q", a, c.Server.Local)
		}
		delete(s.Adapters, "AdminAdapter")
	}
	if len(s.Adapters) != len(c.Servants) {
		t.Errorf("TarsGo has %d adapters, gotars %d servants", len(s.Adapters), len(c.Servants))
	}
	for name, a := range s.Adapters {
		sv, ok := c.Servants[a.Obj]
		if !ok || sv.Adapter != name {
			t.Errorf("adapter %s (servant %s): gotars has %+v", name, a.Obj, sv)
			continue
		}
		ep, err := transport.ParseAddress(sv.Endpoint)
		if err != nil {
			t.Errorf("adapter %s: %v", name, err)
			continue
		}
		if a.Protocol != sv.Protocol || a.Threads != sv.Threads || a.Endpoint.Host != ep.Host ||
			int(a.Endpoint.Port) != ep.Port || a.Endpoint.Proto != ep.Network {
			t.Errorf("adapter %s: TarsGo %+v; gotars %+v", name, a, sv)
		}
	}
}
