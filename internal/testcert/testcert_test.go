package testcert

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"
)

func TestSetVerifies(t *testing.T) {
	s, err := New("testcert CA")
	if err != nil {
		t.Fatal(err)
	}
	other, err := New("another CA")
	if err != nil {
		t.Fatal(err)
	}
	srvUse := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	cliUse := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	for _, tc := range []struct {
		name  string
		leaf  *Leaf
		roots *x509.CertPool
		host  string
		usage []x509.ExtKeyUsage
		ok    bool
	}{
		{"server for 127.0.0.1", s.Server, s.CA.Pool(), "127.0.0.1", srvUse, true},
		{"server for ::1", s.Server, s.CA.Pool(), "::1", srvUse, true},
		{"server for localhost", s.Server, s.CA.Pool(), "localhost", srvUse, true},
		{"server for another name", s.Server, s.CA.Pool(), "example.com", srvUse, false},
		{"server under another CA", s.Server, other.CA.Pool(), "127.0.0.1", srvUse, false},
		{"server used as a client", s.Server, s.CA.Pool(), "", cliUse, false},
		{"client", s.Client, s.CA.Pool(), "", cliUse, true},
		{"client under another CA", s.Client, other.CA.Pool(), "", cliUse, false},
		{"client used as a server", s.Client, s.CA.Pool(), "", srvUse, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.leaf.Cert.Verify(x509.VerifyOptions{Roots: tc.roots, DNSName: tc.host, KeyUsages: tc.usage})
			if (err == nil) != tc.ok {
				t.Errorf("Verify: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestPEMAndLifetime(t *testing.T) {
	s, err := New("testcert CA")
	if err != nil {
		t.Fatal(err)
	}
	for name, l := range map[string]*Leaf{"server": s.Server, "client": s.Client} {
		pair, err := tls.X509KeyPair(l.CertPEM, l.KeyPEM)
		if err != nil {
			t.Fatalf("%s: PEM pair does not load: %v", name, err)
		}
		if !pair.Leaf.Equal(l.Cert) {
			t.Errorf("%s: PEM certificate differs from Cert", name)
		}
		if left := time.Until(l.Cert.NotAfter); left <= 0 || left > Lifetime {
			t.Errorf("%s: valid for %v more, want (0, %v]", name, left, Lifetime)
		}
		if l.Cert.PublicKeyAlgorithm != x509.ECDSA {
			t.Errorf("%s: key algorithm %v, want ECDSA", name, l.Cert.PublicKeyAlgorithm)
		}
	}
	if b, _ := pem.Decode(s.CA.CertPEM); b == nil || b.Type != "CERTIFICATE" {
		t.Errorf("CA PEM does not decode as a certificate")
	}
	if !s.CA.Cert.IsCA {
		t.Errorf("CA certificate is not a CA")
	}
}

func TestIssueTemplate(t *testing.T) {
	ca, err := NewCA("testcert CA")
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-2 * time.Hour)
	for _, tc := range []struct {
		name string
		t    Template
		err  bool
	}{
		{"no common name", Template{Usage: ServerAuth}, true},
		{"unknown usage", Template{CommonName: "x", Usage: Usage(9)}, true},
		{"expired", Template{CommonName: "x", Usage: ServerAuth, Hosts: []string{"127.0.0.1"}, NotBefore: past, NotAfter: past.Add(time.Hour)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := ca.Issue(tc.t)
			if (err != nil) != tc.err {
				t.Fatalf("Issue: %v, want error %v", err, tc.err)
			}
			if err == nil && !tc.t.NotAfter.IsZero() && !l.Cert.NotAfter.Equal(tc.t.NotAfter.Truncate(time.Second)) {
				t.Errorf("NotAfter %v, want %v", l.Cert.NotAfter, tc.t.NotAfter)
			}
		})
	}
}

func ExampleNew() {
	s, err := New("example CA")
	if err != nil {
		panic(err)
	}
	server := s.ServerConfig(true) // mutual TLS: clients need a certificate from s.CA
	client := s.ClientConfig(true) // trusts s.CA and presents s.Client
	_, _ = server, client
	// Output:
}
