// Package testcert generates the certificates of TLS tests in memory: a
// certificate authority and the server and client certificates it signs,
// all ECDSA P-256 and short-lived. Nothing is read from disk or the
// network; the PEM forms are there for peers that only load files (write
// them to a test's temporary directory).
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Lifetime is how long the certificates New, NewCA and Issue make stay
// valid from the moment they are made (they are valid from a minute
// before, to absorb clock steps).
const Lifetime = time.Hour

// Hosts are the names New's server certificate is valid for: the loopback
// addresses and localhost.
var Hosts = []string{"127.0.0.1", "::1", "localhost"}

// CA is a certificate authority held in memory.
type CA struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	CertPEM []byte // the CA certificate, PEM-encoded
}

// Leaf is a certificate signed by a CA, with its private key.
type Leaf struct {
	Cert    *x509.Certificate
	TLS     tls.Certificate // the chain (leaf only) and key, for tls.Config.Certificates
	CertPEM []byte          // the certificate, PEM-encoded
	KeyPEM  []byte          // the private key, PEM-encoded (PKCS #8)
}

// Usage says what a leaf certificate is for.
type Usage int

// The usages of a leaf certificate.
const (
	ServerAuth Usage = iota // a TLS server's certificate
	ClientAuth              // a TLS client's certificate (mutual TLS)
)

// Template describes a leaf certificate for Issue.
type Template struct {
	CommonName string
	Usage      Usage
	// Hosts are the IP addresses and DNS names the certificate is valid
	// for (subject alternative names); a server's ServerName is checked
	// against them.
	Hosts []string
	// NotBefore and NotAfter bound the validity; when zero, a minute ago
	// and Lifetime from now.
	NotBefore, NotAfter time.Time
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

// NewCA makes a self-signed certificate authority named cn.
func NewCA(cn string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"gotars tests"}},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(Lifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// Pool returns a pool holding only the CA: tls.Config.RootCAs for clients,
// ClientCAs for servers that verify client certificates.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// Issue makes a leaf certificate signed by the CA.
func (ca *CA) Issue(t Template) (*Leaf, error) {
	if t.CommonName == "" {
		return nil, errors.New("testcert: Template.CommonName is empty")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: t.CommonName, Organization: []string{"gotars tests"}},
		NotBefore:    t.NotBefore,
		NotAfter:     t.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = now.Add(-time.Minute)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = now.Add(Lifetime)
	}
	switch t.Usage {
	case ServerAuth:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	case ClientAuth:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	default:
		return nil, fmt.Errorf("testcert: unknown usage %d", t.Usage)
	}
	for _, h := range t.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &Leaf{
		Cert:    cert,
		TLS:     tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert},
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}),
	}, nil
}

// Set is what most TLS tests need: a CA, a server certificate for Hosts
// and a client certificate, both signed by the CA.
type Set struct {
	CA     *CA
	Server *Leaf // CommonName "gotars-test-server", valid for Hosts
	Client *Leaf // CommonName "gotars-test-client", for client authentication
}

// New makes a Set with a fresh CA named cn.
func New(cn string) (*Set, error) {
	ca, err := NewCA(cn)
	if err != nil {
		return nil, err
	}
	srv, err := ca.Issue(Template{CommonName: "gotars-test-server", Usage: ServerAuth, Hosts: Hosts})
	if err != nil {
		return nil, err
	}
	cli, err := ca.Issue(Template{CommonName: "gotars-test-client", Usage: ClientAuth})
	if err != nil {
		return nil, err
	}
	return &Set{CA: ca, Server: srv, Client: cli}, nil
}

// ServerConfig returns a server configuration presenting the server
// certificate. With verifyClients, clients must present a certificate the
// CA signed (tls.RequireAndVerifyClientCert).
func (s *Set) ServerConfig(verifyClients bool) *tls.Config {
	cfg := &tls.Config{Certificates: []tls.Certificate{s.Server.TLS}, MinVersion: tls.VersionTLS12}
	if verifyClients {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = s.CA.Pool()
	}
	return cfg
}

// ClientConfig returns a client configuration trusting only the CA. With
// withCert, it presents the client certificate (mutual TLS). ServerName is
// left empty: gotars' client fills in the endpoint's host.
func (s *Set) ClientConfig(withCert bool) *tls.Config {
	cfg := &tls.Config{RootCAs: s.CA.Pool(), MinVersion: tls.VersionTLS12}
	if withCert {
		cfg.Certificates = []tls.Certificate{s.Client.TLS}
	}
	return cfg
}
