package interop

// Machinery of the TLS interop tests: certificates generated in memory
// (internal/testcert) and written as PEM files for TarsGo, which loads its
// TLS material only from files; gotars' example server on ServeTLS; the
// TarsGo server (rpcpeer) with the tls.Config TarsGo's application builds
// from an adapter's key/cert/ca/verifyclient; and a TarsGo client in a child
// process, because a TarsGo communicator takes its TLS configuration only
// from the process's one TARS config file (/tars/application/client
// ca, cert, key, or the same keys in a sub-domain named after the object),
// read once per process.

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/TarsCloud/TarsGo/tars/transport"
	tarsgossl "github.com/TarsCloud/TarsGo/tars/util/ssl"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/example/userservice/userserver"
	"github.com/gotars/tars/internal/testcert"
	"github.com/gotars/tars/interop/rpcpeer"
)

// tlsCerts makes a CA with server and client certificates.
func tlsCerts(tb testing.TB, cn string) *testcert.Set {
	tb.Helper()
	s, err := testcert.New(cn)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// tlsFiles are a Set's PEM files in a test's temporary directory.
type tlsFiles struct {
	CA, ServerCert, ServerKey, ClientCert, ClientKey string
}

func tlsWriteFiles(tb testing.TB, s *testcert.Set) tlsFiles {
	tb.Helper()
	dir := tb.TempDir()
	f := tlsFiles{
		CA:         filepath.Join(dir, "ca.pem"),
		ServerCert: filepath.Join(dir, "server.pem"),
		ServerKey:  filepath.Join(dir, "server.key"),
		ClientCert: filepath.Join(dir, "client.pem"),
		ClientKey:  filepath.Join(dir, "client.key"),
	}
	for path, b := range map[string][]byte{
		f.CA: s.CA.CertPEM, f.ServerCert: s.Server.CertPEM, f.ServerKey: s.Server.KeyPEM,
		f.ClientCert: s.Client.CertPEM, f.ClientKey: s.Client.KeyPEM,
	} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	return f
}

// tlsObj is the UserService object with an ssl endpoint at addr.
func tlsObj(addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	return fmt.Sprintf("%s@ssl -h %s -p %s -t 60000", userapi.Servant, host, port)
}

// tlsSeen records, from a tls.Config's VerifyConnection, the handshakes a
// server accepted: their versions and the client certificates' names.
type tlsSeen struct {
	mu       sync.Mutex
	versions []uint16
	peers    []string
}

// hook returns cfg with VerifyConnection recording into s (cfg is cloned).
func (s *tlsSeen) hook(cfg *tls.Config) *tls.Config {
	cfg = cfg.Clone()
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.versions = append(s.versions, cs.Version)
		if len(cs.PeerCertificates) > 0 {
			s.peers = append(s.peers, cs.PeerCertificates[0].Subject.CommonName)
		}
		return nil
	}
	return cfg
}

func (s *tlsSeen) get() ([]uint16, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint16(nil), s.versions...), append([]string(nil), s.peers...)
}

// tlsGotarsServer is gotars' example UserService served with ServeTLS.
type tlsGotarsServer struct {
	addr  string
	store *userserver.Store
	seen  tlsSeen
}

func tlsStartGotars(tb testing.TB, cfg *tls.Config) *tlsGotarsServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &tlsGotarsServer{addr: ln.Addr().String(), store: userserver.NewStore()}
	srv := tars.NewServer()
	userserver.Register(srv, userapi.Servant, s.store)
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, s.seen.hook(cfg)) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			tb.Errorf("gotars server shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, tars.ErrServerClosed) {
			tb.Errorf("gotars ServeTLS returned %v", err)
		}
	})
	return s
}

// tlsTarsGoServer is the TarsGo UserService (rpcpeer) on an ssl endpoint.
type tlsTarsGoServer struct {
	*rpcpeer.Server
	store *rpcpeer.Store
	seen  tlsSeen
}

// tlsStartTarsGo serves the TarsGo UserService over TLS with the
// configuration TarsGo's application gives an ssl adapter whose config has
// key, cert, ca and verifyclient (application.go parseServerConfig):
// ssl.NewServerTlsConfig(ca, cert, key, verifyClient, ciphers) on the PEM
// files, set as TarsServerConf.TlsConfig, on which TarsGo's TCP handler
// wraps its listener in tls.NewListener. edit, when not nil, changes the
// configuration after TarsGo built it (a test's TLS version bounds).
func tlsStartTarsGo(tb testing.TB, f tlsFiles, verifyClient bool, edit func(*tls.Config)) *tlsTarsGoServer {
	tb.Helper()
	cfg, err := tarsgossl.NewServerTlsConfig(f.CA, f.ServerCert, f.ServerKey, verifyClient, "")
	if err != nil {
		tb.Fatal(err)
	}
	if edit != nil {
		edit(cfg)
	}
	s := &tlsTarsGoServer{store: rpcpeer.NewStore()}
	cfg = s.seen.hook(cfg)
	srv, err := rpcpeer.Start(s.store, "127.0.0.1:0", func(c *transport.TarsServerConf) { c.TlsConfig = cfg })
	if err != nil {
		tb.Fatal(err)
	}
	s.Server = srv
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			tb.Errorf("TarsGo server shutdown: %v", err)
		}
	})
	return s
}

// The TarsGo client runs in a child process: this test binary again, running
// only TestTLSTarsGoClientProcess with its job in tlsChildEnv.
const tlsChildEnv = "GOTARS_TLS_TARSGO_CHILD"

// tlsChildJob is what the child does: read the TARS config file Config (its
// TLS keys), call Obj, and either succeed or be refused.
type tlsChildJob struct {
	Config  string
	Obj     string
	Refused bool // the call must fail
}

// tlsTarsGoConf writes a TARS config file with the client's TLS keys: in
// /tars/application/client itself or, with perObj, in its sub-domain named
// after the servant. Empty paths are left out.
func tlsTarsGoConf(tb testing.TB, ca, cert, key string, perObj bool) string {
	tb.Helper()
	if perObj {
		return tlsTarsGoConfBoth(tb, [3]string{}, [3]string{ca, cert, key})
	}
	return tlsTarsGoConfBoth(tb, [3]string{ca, cert, key}, [3]string{})
}

// tlsTarsGoConfBoth writes a TARS config file with communicator-wide keys
// (ca, cert, key) and per-object keys for the servant; empty ones are left
// out.
func tlsTarsGoConfBoth(tb testing.TB, global, perObj [3]string) string {
	tb.Helper()
	keys := func(v [3]string, indent string) string {
		var b strings.Builder
		for i, k := range []string{"ca", "cert", "key"} {
			if v[i] != "" {
				fmt.Fprintf(&b, "%s%s = %s\n", indent, k, v[i])
			}
		}
		return b.String()
	}
	client := keys(global, "        ")
	if obj := keys(perObj, "            "); obj != "" {
		client += fmt.Sprintf("        <%s>\n%s        </%s>\n", userapi.Servant, obj, userapi.Servant)
	}
	conf := "<tars>\n  <application>\n    <server>\n        logLevel = ERROR\n    </server>\n    <client>\n" +
		client + "    </client>\n  </application>\n</tars>\n"
	path := filepath.Join(tb.TempDir(), "client.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// tlsRunTarsGoClient runs job in a child process and returns its output.
func tlsRunTarsGoClient(tb testing.TB, job tlsChildJob) (string, error) {
	tb.Helper()
	b, err := json.Marshal(job)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestTLSTarsGoClientProcess$", "-test.v", "-test.count=1", "-test.timeout=50s")
	cmd.Env = append(os.Environ(), tlsChildEnv+"="+string(b))
	cmd.Dir = tb.TempDir() // TarsGo looks for <datapath>/<server>.tarsdat relative to it
	out, err := cmd.CombinedOutput()
	return string(out), err
}
