package tars_test

// TLS on "ssl" endpoints: a gotars client calls a gotars server over
// "ssl -h 127.0.0.1 -p N", with and without client certificates, in TLS 1.2
// and 1.3; what the caller sees when the handshake is refused; the
// WithDialer contract for ssl; and hostile TLS peers on either side. All
// certificates come from internal/testcert (generated in memory).

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/internal/testcert"
)

// tlsServer is a gotars server of the Test servant's echo method on a
// 127.0.0.1 TLS listener.
type tlsServer struct {
	srv  *tars.Server
	port int
	logs *syncBuffer // the server's log (WithLogger), text
	// Filled by the server's VerifyConnection: the common names of the
	// client certificates and the versions of the handshakes it accepted.
	mu       sync.Mutex
	peers    []string
	versions []uint16
}

// syncBuffer is a bytes.Buffer safe for the server's concurrent logging.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// obj returns the servant's object with an ssl endpoint on host.
func (s *tlsServer) obj(host string) string {
	return fmt.Sprintf("Test.Server.TestObj@ssl -h %s -p %d -t 3000", host, s.port)
}

func (s *tlsServer) seen() ([]string, []uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.peers...), append([]uint16(nil), s.versions...)
}

// startTLSServer serves echo with ServeTLS and cfg until the test ends.
func startTLSServer(t *testing.T, cfg *tls.Config) *tlsServer {
	t.Helper()
	s := &tlsServer{logs: &syncBuffer{}}
	cfg = cfg.Clone()
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range cs.PeerCertificates[:min(1, len(cs.PeerCertificates))] {
			s.peers = append(s.peers, c.Subject.CommonName)
		}
		s.versions = append(s.versions, cs.Version)
		return nil
	}
	s.srv = tars.NewServer(tars.WithLogger(slog.New(slog.NewTextHandler(s.logs, nil))))
	tars.Handle(s.srv, "Test.Server.TestObj", echo, func(ctx context.Context, a echoArgs) (echoResults, error) {
		return echoResults{Ret: int32(len(a.S)), S: a.S + "!", N: a.N * 2, B: a.B}, nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	done := make(chan error, 1)
	go func() { done <- s.srv.ServeTLS(ln, cfg) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, tars.ErrServerClosed) {
			t.Errorf("ServeTLS returned %v, want ErrServerClosed", err)
		}
	})
	return s
}

func newCerts(t *testing.T, cn string) *testcert.Set {
	t.Helper()
	s, err := testcert.New(cn)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// echoCall calls echo("tls") with a 5 s deadline.
func echoCall(c *tars.Client) (echoResults, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return echo.Call(ctx, c, echoArgs{S: "tls", N: 21, B: []byte{0, 1, 2}})
}

func checkEcho(t *testing.T, r echoResults, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("echo over ssl: %v", err)
	}
	if r.Ret != 3 || r.S != "tls!" || r.N != 42 || !bytes.Equal(r.B, []byte{0, 1, 2}) {
		t.Fatalf("echo over ssl: %+v", r)
	}
}

func TestTLSCall(t *testing.T) {
	certs := newCerts(t, "gotars TLS test CA")
	for _, tc := range []struct {
		name    string
		version uint16
		mutual  bool
		host    string
	}{
		{"TLS1.2", tls.VersionTLS12, false, "127.0.0.1"},
		{"TLS1.3", tls.VersionTLS13, false, "127.0.0.1"},
		{"TLS1.2 mutual", tls.VersionTLS12, true, "127.0.0.1"},
		{"TLS1.3 mutual", tls.VersionTLS13, true, "127.0.0.1"},
		{"TLS1.3 mutual by name", tls.VersionTLS13, true, "localhost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scfg := certs.ServerConfig(tc.mutual)
			scfg.MinVersion, scfg.MaxVersion = tc.version, tc.version
			srv := startTLSServer(t, scfg)
			ccfg := certs.ClientConfig(tc.mutual)
			var got atomic.Uint32
			var sni atomic.Value
			ccfg.VerifyConnection = func(cs tls.ConnectionState) error {
				got.Store(uint32(cs.Version))
				sni.Store(cs.ServerName) // the SNI: a name, never an IP address
				return nil
			}
			c := newClient(t, srv.obj(tc.host), tars.WithTLSConfig(ccfg))
			for range 3 { // one connection, reused
				r, err := echoCall(c)
				checkEcho(t, r, err)
			}
			if v := uint16(got.Load()); v != tc.version {
				t.Errorf("client handshake version %x, want %x", v, tc.version)
			}
			if n, _ := sni.Load().(string); net.ParseIP(tc.host) == nil && n != tc.host {
				t.Errorf("client sent server name %q, want the endpoint host %q", n, tc.host)
			}
			if ccfg.ServerName != "" {
				t.Errorf("WithTLSConfig's config was modified: ServerName %q", ccfg.ServerName)
			}
			peers, versions := srv.seen()
			if len(versions) == 0 || len(versions) > 2 { // at most DefaultConns connections
				t.Fatalf("server accepted %d handshakes, want 1 or 2", len(versions))
			}
			for _, v := range versions {
				if v != tc.version {
					t.Errorf("server handshake version %x, want %x", v, tc.version)
				}
			}
			switch {
			case tc.mutual && (len(peers) != len(versions) || peers[0] != "gotars-test-client"):
				t.Errorf("server saw client certificates %q, want gotars-test-client on every connection", peers)
			case !tc.mutual && len(peers) != 0:
				t.Errorf("server saw client certificates %q without asking for them", peers)
			}
		})
	}
}

// TestTLSRefused: a refused handshake fails the call at once with a connect
// error naming the TLS reason; it never waits for the call's deadline.
func TestTLSRefused(t *testing.T) {
	certs := newCerts(t, "gotars TLS test CA")
	other := newCerts(t, "another CA")
	expired, err := certs.CA.Issue(testcert.Template{CommonName: "expired", Usage: testcert.ServerAuth,
		Hosts: testcert.Hosts, NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	localhostOnly, err := certs.CA.Issue(testcert.Template{CommonName: "localhost only", Usage: testcert.ServerAuth, Hosts: []string{"localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		server func() *tls.Config
		client func() *tls.Config
		// The caller's code and words of its message. A refusal the client
		// sees in its own handshake is a connect error (CodeProxyConnectErr).
		// In TLS 1.3 the client's handshake ends before the server has
		// checked the client's certificate: the server's refusal arrives as
		// an alert on the first read, after the request was written.
		code      tars.Code
		msg       string
		serverLog string // what the server logs about the connection
	}{
		{
			name:   "no client certificate, TLS 1.2",
			server: func() *tls.Config { c := certs.ServerConfig(true); c.MaxVersion = tls.VersionTLS12; return c },
			client: func() *tls.Config { return certs.ClientConfig(false) },
			code:   tars.CodeProxyConnectErr, msg: "handshake failure", serverLog: "client didn't provide a certificate",
		},
		{
			name:   "no client certificate, TLS 1.3",
			server: func() *tls.Config { return certs.ServerConfig(true) },
			client: func() *tls.Config { return certs.ClientConfig(false) },
			code:   tars.CodeSendRequestErr, msg: "certificate required", serverLog: "client didn't provide a certificate",
		},
		{
			name:   "client certificate from another CA, TLS 1.2",
			server: func() *tls.Config { c := certs.ServerConfig(true); c.MaxVersion = tls.VersionTLS12; return c },
			client: func() *tls.Config { return otherClient(certs, other) },
			code:   tars.CodeProxyConnectErr, msg: "unknown certificate authority", serverLog: "unknown authority",
		},
		{
			name:   "client certificate from another CA, TLS 1.3",
			server: func() *tls.Config { return certs.ServerConfig(true) },
			client: func() *tls.Config { return otherClient(certs, other) },
			code:   tars.CodeSendRequestErr, msg: "unknown certificate authority", serverLog: "unknown authority",
		},
		{
			name:   "wrong server name",
			server: func() *tls.Config { return certs.ServerConfig(false) },
			client: func() *tls.Config { c := certs.ClientConfig(false); c.ServerName = "other.example"; return c },
			code:   tars.CodeProxyConnectErr, msg: "not other.example", serverLog: "bad certificate",
		},
		{
			// ServerName defaults to the endpoint's host (-h 127.0.0.1).
			name: "server certificate not for the endpoint's host",
			server: func() *tls.Config {
				c := certs.ServerConfig(false)
				c.Certificates = []tls.Certificate{localhostOnly.TLS}
				return c
			},
			client: func() *tls.Config { return certs.ClientConfig(false) },
			code:   tars.CodeProxyConnectErr, msg: "doesn't contain any IP SANs", serverLog: "bad certificate",
		},
		{
			name:   "server certificate from another CA",
			server: func() *tls.Config { return other.ServerConfig(false) },
			client: func() *tls.Config { return certs.ClientConfig(false) },
			code:   tars.CodeProxyConnectErr, msg: "unknown authority", serverLog: "bad certificate",
		},
		{
			name: "expired server certificate",
			server: func() *tls.Config {
				c := certs.ServerConfig(false)
				c.Certificates = []tls.Certificate{expired.TLS}
				return c
			},
			client: func() *tls.Config { return certs.ClientConfig(false) },
			code:   tars.CodeProxyConnectErr, msg: "expired", serverLog: "bad certificate",
		},
		{
			name:   "no common version",
			server: func() *tls.Config { c := certs.ServerConfig(false); c.MinVersion = tls.VersionTLS13; return c },
			client: func() *tls.Config { c := certs.ClientConfig(false); c.MaxVersion = tls.VersionTLS12; return c },
			code:   tars.CodeProxyConnectErr, msg: "protocol version", serverLog: "unsupported versions",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startTLSServer(t, tc.server())
			c := newClient(t, srv.obj("127.0.0.1"), tars.WithTLSConfig(tc.client()))
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			start := time.Now()
			_, err := echo.Call(ctx, c, echoArgs{S: "refused"})
			took := time.Since(start)
			if err == nil {
				t.Fatal("call succeeded; want the handshake refused")
			}
			t.Logf("caller sees (after %v): %v", took.Round(time.Millisecond), err)
			// A refusal after the handshake (TLS 1.3) is a send error when the
			// request was written before the alert came, a connect error when
			// the alert came first.
			if code := codeOf(t, err); code != tc.code && !(tc.code == tars.CodeSendRequestErr && code == tars.CodeProxyConnectErr) {
				t.Errorf("code %d, want %d", code, tc.code)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
			if ctx.Err() != nil {
				t.Errorf("the refusal waited for the call's deadline")
			}
			// A second call: a refused dial puts the endpoint in its
			// reconnect pause; a TLS 1.3 refusal after the handshake does not.
			_, err = echo.Call(ctx, c, echoArgs{S: "refused again"})
			if err == nil {
				t.Fatal("second call succeeded")
			}
			t.Logf("second call: %v", err)
			// The server logs why it dropped the connection.
			deadline := time.Now().Add(2 * time.Second)
			for !strings.Contains(srv.logs.String(), tc.serverLog) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if logs := srv.logs.String(); !strings.Contains(logs, tc.serverLog) {
				t.Errorf("server log does not say %q:\n%s", tc.serverLog, logs)
			}
		})
	}
}

// otherClient trusts certs' CA but presents other's client certificate.
// Go's client sends no certificate that the server's CA list does not
// name, so it is forced with GetClientCertificate.
func otherClient(certs, other *testcert.Set) *tls.Config {
	c := certs.ClientConfig(false)
	c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &other.Client.TLS, nil }
	return c
}

// TestTLSWithoutConfig: an ssl endpoint and no WithTLSConfig (and no
// dialer of one's own) is refused with an error naming WithTLSConfig, before
// anything is sent.
func TestTLSWithoutConfig(t *testing.T) {
	certs := newCerts(t, "gotars TLS test CA")
	srv := startTLSServer(t, certs.ServerConfig(false))
	c, err := tars.NewClient(srv.obj("127.0.0.1"))
	if err != nil {
		// NewClient refuses it.
		if !strings.Contains(err.Error(), "WithTLSConfig") {
			t.Fatalf("NewClient: %v; want an error naming WithTLSConfig", err)
		}
		return
	}
	defer c.Close()
	_, err = echoCall(c)
	if err == nil {
		t.Fatal("call over ssl without a TLS configuration succeeded")
	}
	t.Logf("NewClient accepts it; the call fails: %v", err)
	if code := codeOf(t, err); code != tars.CodeProxyConnectErr {
		t.Errorf("code %d, want CodeProxyConnectErr", code)
	}
	if !strings.Contains(err.Error(), "WithTLSConfig") {
		t.Errorf("error %q does not name WithTLSConfig", err)
	}
	if _, versions := srv.seen(); len(versions) != 0 {
		t.Errorf("the server completed %d handshakes", len(versions))
	}
}

// TestTLSDialer: WithDialer is told the TARS transport. For ssl it returns
// either a plain connection, over which the client runs TLS with
// WithTLSConfig, or a *tls.Conn of its own, which the client uses as is
// (WithTLSConfig is then not needed).
func TestTLSDialer(t *testing.T) {
	certs := newCerts(t, "gotars TLS test CA")
	srv := startTLSServer(t, certs.ServerConfig(true))
	other := newCerts(t, "another CA")

	type dialed struct {
		network, addr string
	}
	for _, tc := range []struct {
		name string
		// own is the dialer's own TLS configuration (nil: it returns a
		// plain TCP connection).
		own     func() *tls.Config
		withTLS *tls.Config // WithTLSConfig, nil for none
		ok      bool
		msg     string // in the error when !ok
	}{
		{name: "plain conn, client runs TLS", withTLS: certs.ClientConfig(true), ok: true},
		{name: "own *tls.Conn, no WithTLSConfig", own: func() *tls.Config { return certs.ClientConfig(true) }, ok: true},
		{
			name: "own *tls.Conn wins over WithTLSConfig",
			own:  func() *tls.Config { return certs.ClientConfig(true) },
			// Would be refused by the server if the client used it.
			withTLS: other.ClientConfig(true), ok: true,
		},
		{
			name: "own *tls.Conn that does not trust the server",
			own:  func() *tls.Config { return other.ClientConfig(true) },
			msg:  "unknown authority",
		},
		{name: "plain conn, no WithTLSConfig", msg: "WithTLSConfig"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var calls []dialed
			var ownHandshakes atomic.Int32
			dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
				mu.Lock()
				calls = append(calls, dialed{network, addr})
				mu.Unlock()
				var d net.Dialer
				nc, err := d.DialContext(ctx, "tcp", addr)
				if err != nil || tc.own == nil {
					return nc, err
				}
				cfg := tc.own()
				cfg.ServerName = "127.0.0.1"
				cfg.VerifyConnection = func(tls.ConnectionState) error { ownHandshakes.Add(1); return nil }
				// Not handshaken yet: the client does it, within the call's context.
				return tls.Client(nc, cfg), nil
			}
			opts := []tars.ClientOption{tars.WithDialer(dial), tars.WithConnsPerEndpoint(1)}
			if tc.withTLS != nil {
				opts = append(opts, tars.WithTLSConfig(tc.withTLS))
			}
			c := newClient(t, srv.obj("127.0.0.1"), opts...)
			r, err := echoCall(c)
			if tc.ok {
				checkEcho(t, r, err)
				if tc.own != nil && ownHandshakes.Load() != 1 {
					t.Errorf("the dialer's own TLS configuration verified %d handshakes, want 1", ownHandshakes.Load())
				}
			} else {
				if err == nil {
					t.Fatal("call succeeded")
				}
				if code := codeOf(t, err); code != tars.CodeProxyConnectErr || !strings.Contains(err.Error(), tc.msg) {
					t.Errorf("got %v; want CodeProxyConnectErr saying %q", err, tc.msg)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			want := dialed{"ssl", fmt.Sprintf("127.0.0.1:%d", srv.port)}
			if len(calls) != 1 || calls[0] != want {
				t.Errorf("dialer called with %v, want once with %v", calls, want)
			}
		})
	}

	t.Run("tcp endpoint", func(t *testing.T) {
		// The same hook tells a plain endpoint apart.
		ts := startServer(t)
		var network atomic.Value
		dial := func(ctx context.Context, nw, addr string) (net.Conn, error) {
			network.Store(nw)
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		}
		c := newClient(t, ts.obj, tars.WithDialer(dial), tars.WithTLSConfig(certs.ClientConfig(true)))
		r, err := echoCall(c)
		checkEcho(t, r, err)
		if nw, _ := network.Load().(string); nw != "tcp" {
			t.Errorf("dialer told %q for a tcp endpoint", nw)
		}
	})
}

// TestTLSHostileClients: peers that stall or garble the TLS handshake do
// not hold up the server: other callers are served meanwhile, garbage is
// dropped at once, and Shutdown closes the stalled ones.
func TestTLSHostileClients(t *testing.T) {
	certs := newCerts(t, "gotars TLS test CA")
	srv := startTLSServer(t, certs.ServerConfig(true))
	addr := fmt.Sprintf("127.0.0.1:%d", srv.port)
	dial := func() net.Conn {
		t.Helper()
		nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		return nc
	}
	// A ClientHello cut short: the record header claims more than is sent.
	hello := func() []byte {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		go tls.Client(a, &tls.Config{ServerName: "127.0.0.1"}).Handshake()
		buf := make([]byte, 64)
		io.ReadFull(b, buf)
		return buf
	}()

	type hostile struct {
		name    string
		conn    net.Conn
		dropped bool // the server closes it at once
	}
	var hs []hostile
	for i := range 20 {
		hs = append(hs, hostile{fmt.Sprintf("silent %d", i), dial(), false})
	}
	for i := range 20 {
		nc := dial()
		nc.Write([]byte("\x00\x00\x00\x20 not TLS at all, a TARS frame?"))
		hs = append(hs, hostile{fmt.Sprintf("garbage %d", i), nc, true})
	}
	for i := range 20 {
		nc := dial()
		nc.Write(hello)
		hs = append(hs, hostile{fmt.Sprintf("half hello %d", i), nc, false})
	}
	slow := dial() // a byte of ClientHello every 50 ms
	stopSlow := make(chan struct{})
	slowDone := make(chan struct{})
	go func() {
		defer close(slowDone)
		for _, b := range hello {
			select {
			case <-stopSlow:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := slow.Write([]byte{b}); err != nil {
				return
			}
		}
	}()
	defer func() { close(stopSlow); <-slowDone }()

	// A well-behaved mTLS caller is served meanwhile.
	c := newClient(t, srv.obj("127.0.0.1"), tars.WithTLSConfig(certs.ClientConfig(true)))
	for range 5 {
		r, err := echoCall(c)
		checkEcho(t, r, err)
	}

	// Garbage is dropped at once; a TLS alert may come first.
	for _, h := range hs {
		if !h.dropped {
			continue
		}
		h.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := io.Copy(io.Discard, h.conn) // EOF, or a reset: closed either way
		if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("%s: not closed by the server within 5 s", h.name)
		}
	}
	// Stalled handshakes: no handshake timeout of its own; observe.
	time.Sleep(300 * time.Millisecond)
	open := 0
	for _, h := range hs {
		if h.dropped {
			continue
		}
		h.conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		if _, err := h.conn.Read(make([]byte, 1)); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				open++
			}
		}
	}
	t.Logf("stalled handshakes still open after 300 ms: %d of 40 (the server has no handshake or idle timeout of its own)", open)
	// Shutdown (the cleanup) must close them: it is bounded by its 5 s
	// context, and fails the test if it has to give up.
}

// TestTLSStalledServer: a server that accepts TCP but never answers the
// handshake holds the caller no longer than its timeout, with or without a
// deadline on ctx. (Without one, the handshake used to run on the call's
// bare ctx and waited until the server closed.)
func TestTLSStalledServer(t *testing.T) {
	certs := newCerts(t, "gotars TLS test CA")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	held.Add(1)
	go func() {
		defer held.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
		}
	}()
	defer func() {
		ln.Close()
		held.Wait()
		mu.Lock()
		for _, nc := range conns {
			nc.Close()
		}
		mu.Unlock()
	}()
	obj := fmt.Sprintf("Test.Server.TestObj@ssl -h 127.0.0.1 -p %d -t 3000", ln.Addr().(*net.TCPAddr).Port)
	for _, tc := range []struct {
		name     string
		deadline bool // the call's ctx has a deadline; otherwise WithTimeout bounds it
	}{
		{"ctx deadline", true},
		{"client timeout", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const bound = 300 * time.Millisecond
			c := newClient(t, obj, tars.WithTLSConfig(certs.ClientConfig(true)), tars.WithTimeout(bound))
			ctx := context.Background()
			if tc.deadline {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, bound)
				defer cancel()
			}
			done := make(chan error, 1)
			go func() {
				_, err := echo.Call(ctx, c, echoArgs{S: "stalled"})
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("call to a server that never handshakes succeeded")
				}
				t.Logf("caller sees: %v", err)
				if code := codeOf(t, err); code != tars.CodeProxyConnectErr && code != tars.CodeInvokeTimeout {
					t.Errorf("code %d, want CodeProxyConnectErr or CodeInvokeTimeout", code)
				}
			case <-time.After(10 * bound):
				// Unblock it before failing, so that the test ends.
				mu.Lock()
				for _, nc := range conns {
					nc.Close()
				}
				mu.Unlock()
				err := <-done
				t.Errorf("the call was still in the TLS handshake after %v (its bound is %v); it ended only when the server closed: %v", 10*bound, bound, err)
			}
		})
	}
}

// TestTLSPlainMismatch: plain TARS to a TLS port and TLS to a plain port
// fail fast with a connect or send error, on both sides.
func TestTLSPlainMismatch(t *testing.T) {
	certs := newCerts(t, "gotars TLS test CA")
	t.Run("tcp client, ssl server", func(t *testing.T) {
		srv := startTLSServer(t, certs.ServerConfig(false))
		c := newClient(t, fmt.Sprintf("Test.Server.TestObj@tcp -h 127.0.0.1 -p %d -t 3000", srv.port))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := echo.Call(ctx, c, echoArgs{S: "plain"})
		if err == nil {
			t.Fatal("a plain call to a TLS port succeeded")
		}
		t.Logf("caller sees: %v", err)
		if code := codeOf(t, err); code != tars.CodeSendRequestErr || ctx.Err() != nil {
			t.Errorf("code %d (ctx %v), want CodeSendRequestErr before the deadline", code, ctx.Err())
		}
	})
	t.Run("ssl client, tcp server", func(t *testing.T) {
		ts := startServer(t)
		_, port, _ := net.SplitHostPort(ts.addr)
		c := newClient(t, "Test.Server.TestObj@ssl -h 127.0.0.1 -p "+port+" -t 3000", tars.WithTLSConfig(certs.ClientConfig(false)))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := echo.Call(ctx, c, echoArgs{S: "plain"})
		if err == nil {
			t.Fatal("a TLS call to a plain port succeeded")
		}
		t.Logf("caller sees: %v", err)
		if code := codeOf(t, err); code != tars.CodeProxyConnectErr || ctx.Err() != nil {
			t.Errorf("code %d (ctx %v), want CodeProxyConnectErr before the deadline", code, ctx.Err())
		}
	})
}

// verifyChainOnly returns a client configuration that checks the server's
// chain against roots but not its name, as TarsCpp's client does (it sets
// SSL_VERIFY_PEER and no host): for estates whose server certificates do
// not name the hosts in their endpoints.
func verifyChainOnly(roots *x509.CertPool, certs ...tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates:       certs,
		InsecureSkipVerify: true, // no name check; the chain is checked below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("server sent no certificate")
			}
			opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
			for _, c := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(opts)
			return err
		},
	}
}

// TestTLSChainOnly: a server certificate that does not name the endpoint's
// host is accepted by a chain-only configuration, and one from another CA
// is still refused.
func TestTLSChainOnly(t *testing.T) {
	certs := newCerts(t, "gotars TLS test CA")
	other := newCerts(t, "another CA")
	noName, err := certs.CA.Issue(testcert.Template{CommonName: "tars-node", Usage: testcert.ServerAuth})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cert tls.Certificate
		ok   bool
	}{
		{"certificate naming no host", noName.TLS, true},
		{"certificate of another CA", other.Server.TLS, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scfg := certs.ServerConfig(true)
			scfg.Certificates = []tls.Certificate{tc.cert}
			srv := startTLSServer(t, scfg)
			c := newClient(t, srv.obj("127.0.0.1"), tars.WithTLSConfig(verifyChainOnly(certs.CA.Pool(), certs.Client.TLS)))
			r, err := echoCall(c)
			if tc.ok {
				checkEcho(t, r, err)
				return
			}
			if err == nil || codeOf(t, err) != tars.CodeProxyConnectErr || !strings.Contains(err.Error(), "unknown authority") {
				t.Fatalf("got %v; want CodeProxyConnectErr, unknown authority", err)
			}
		})
	}
}

// A server on an ssl endpoint with mutual TLS, and a client of it. The
// certificates here are generated for the example; a real service loads
// its own (see ExampleServer_ServeTLS).
func ExampleWithTLSConfig() {
	certs, err := testcert.New("example CA")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := tars.NewServer()
	tars.Handle(srv, "Demo.HelloServer.HelloObj", hello, func(ctx context.Context, a HelloArgs) (Greeting, error) {
		return Greeting{Text: "hello over TLS, " + a.Name, Count: 1}, nil
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.ServeTLS(ln, &tls.Config{
		Certificates: []tls.Certificate{certs.Server.TLS},
		ClientAuth:   tls.RequireAndVerifyClientCert, // TarsGo's and TarsCpp's verifyclient=1
		ClientCAs:    certs.CA.Pool(),
	})
	defer srv.Shutdown(context.Background())

	// "ssl" in the endpoint; the server's certificate is checked for the
	// endpoint's host, 127.0.0.1, since ServerName is empty.
	obj := fmt.Sprintf("Demo.HelloServer.HelloObj@ssl -h 127.0.0.1 -p %d", ln.Addr().(*net.TCPAddr).Port)
	client, err := tars.NewClient(obj, tars.WithTLSConfig(&tls.Config{
		RootCAs:      certs.CA.Pool(),
		Certificates: []tls.Certificate{certs.Client.TLS},
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	g, err := hello.Call(context.Background(), client, HelloArgs{Name: "tars"})
	fmt.Println(g.Text, err)
	// Output: hello over TLS, tars <nil>
}

// Serving an ssl endpoint with certificates from files, as a TARS server's
// key, cert, ca and verifyclient=1 describe them.
func ExampleServer_ServeTLS() {
	cert, err := tls.LoadX509KeyPair("server.pem", "server.key")
	if err != nil {
		fmt.Println(err)
		return
	}
	caPEM, err := os.ReadFile("ca.pem")
	if err != nil {
		fmt.Println(err)
		return
	}
	clientCAs := x509.NewCertPool()
	clientCAs.AppendCertsFromPEM(caPEM)
	srv := tars.NewServer()
	// tars.Handle(srv, ...)
	ln, err := net.Listen("tcp", "0.0.0.0:18016") // endpoint "ssl -h <host> -p 18016"
	if err != nil {
		fmt.Println(err)
		return
	}
	err = srv.ServeTLS(ln, &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCAs,
		MinVersion:   tls.VersionTLS12,
	})
	fmt.Println(err)
}

// A WithDialer for ssl endpoints that does the TLS itself, here with a
// configuration chosen per address: the client uses the *tls.Conn it
// returns as is (and then needs no WithTLSConfig). For "tcp" it returns a
// plain connection.
func ExampleWithDialer_tls() {
	perHost := map[string]*tls.Config{} // addr -> configuration, filled by the application
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, "tcp", addr) // "ssl" runs over TCP
		if err != nil || network != "ssl" {
			return nc, err
		}
		cfg, ok := perHost[addr]
		if !ok {
			nc.Close()
			return nil, fmt.Errorf("no TLS configuration for %s", addr)
		}
		return tls.Client(nc, cfg), nil // the client runs the handshake within the call's context
	}
	client, err := tars.NewClient("Demo.HelloServer.HelloObj@ssl -h 10.0.0.7 -p 18016", tars.WithDialer(dial))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	fmt.Println(client.Servant())
	// Output: Demo.HelloServer.HelloObj
}

// TestTLSBesideTCP: one server serves the same servants on a tcp and an
// ssl endpoint (two listeners), and one client object may list both.
func TestTLSBesideTCP(t *testing.T) {
	certs := newCerts(t, "gotars TLS test CA")
	ts := startServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ts.srv.ServeTLS(ln, certs.ServerConfig(true)) }()
	t.Cleanup(func() {
		// startServer's cleanup (registered first) runs after this one:
		// shut down here to see ServeTLS return.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ts.srv.Shutdown(ctx)
		if err := <-done; !errors.Is(err, tars.ErrServerClosed) {
			t.Errorf("ServeTLS returned %v", err)
		}
	})
	_, tcpPort, _ := net.SplitHostPort(ts.addr)
	obj := fmt.Sprintf("Test.Server.TestObj@tcp -h 127.0.0.1 -p %s:ssl -h 127.0.0.1 -p %d", tcpPort, ln.Addr().(*net.TCPAddr).Port)
	var mu sync.Mutex
	seen := map[string]int{}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		seen[network]++
		mu.Unlock()
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
	c := newClient(t, obj, tars.WithTLSConfig(certs.ClientConfig(true)), tars.WithDialer(dial), tars.WithConnsPerEndpoint(1))
	for range 4 { // round robin: both endpoints
		r, err := echoCall(c)
		checkEcho(t, r, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen["tcp"] != 1 || seen["ssl"] != 1 {
		t.Errorf("dialled %v, want one tcp and one ssl connection", seen)
	}
}
