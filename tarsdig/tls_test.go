package tarsdig_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/dig"

	"github.com/gotars/tars/config"
	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/tarsdig"
	"github.com/gotars/tars/transport"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 (its own CA)
// and its key into dir.
func selfSigned(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tarsdig test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// TestRunServesSSL: an ssl servant is served over TLS with the server's
// certificate (server.tls), and a client of Clients, trusting it through
// client.tls.ca, calls it.
func TestRunServesSSL(t *testing.T) {
	cert, key := selfSigned(t, t.TempDir())
	cfg := testConfig(map[string]string{echoObj: "ssl"})
	cfg.Server.TLS = config.TLS{Cert: cert, Key: key}
	cfg.Client.TLS = config.TLS{CA: cert}
	static := discovery.NewStatic()
	c := newContainer(t, cfg,
		func(c *dig.Container) error {
			return c.Provide(func() tarsdig.Servant { return echoServant(echoObj, "tls:") }, dig.Group(tarsdig.ServantGroup))
		},
		func(c *dig.Container) error {
			return c.Decorate(func(discovery.Resolver) discovery.Resolver { return static })
		})
	r := start(t, c)
	ep := r.ls.Endpoint(echoObj, "")
	if !strings.HasPrefix(ep, "ssl ") {
		t.Fatalf("endpoint %q, want ssl", ep)
	}
	a, _ := transport.ParseAddress(ep)
	static.Update(discovery.FromAddress(a))
	if err := c.Invoke(func(cs *tarsdig.Clients) {
		cl, err := cs.Get(echoObj)
		if err != nil {
			t.Fatal(err)
		}
		if got := callEcho(t, cl, "secret"); got != "tls:secret" {
			t.Errorf("echo over TLS = %q", got)
		}
	}); err != nil {
		t.Fatal(err)
	}

	if err := r.stop(); err != nil {
		t.Fatal(err)
	}

	// Without a certificate an ssl servant cannot be bound.
	bad := testConfig(map[string]string{echoObj: "ssl"})
	bad.Server.TLS = config.TLS{Cert: filepath.Join(t.TempDir(), "none.pem"), Key: key}
	if _, err := tarsdig.Listen(bad); err == nil || !strings.Contains(err.Error(), "servants."+echoObj) {
		t.Errorf("Listen with a missing certificate: %v", err)
	}
}
