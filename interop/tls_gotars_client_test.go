package interop

// gotars' client calls the TarsGo UserService (rpcpeer, TarsGo's transport
// and generated Dispatch) on an ssl endpoint whose TLS configuration TarsGo
// built from an adapter's key, cert, ca and verifyclient: the whole example
// demo over mutual TLS, server-only TLS, TLS 1.2, and the refusals.

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/example/userservice/userdemo"
)

func TestTLSGotarsClientDemo(t *testing.T) {
	certs := tlsCerts(t, "gotars interop CA")
	files := tlsWriteFiles(t, certs)
	for _, tc := range []struct {
		name         string
		verifyClient bool // TarsGo's verifyclient=1
		client       *tls.Config
		version      uint16
		peer         string
	}{
		{"mutual TLS", true, certs.ClientConfig(true), tls.VersionTLS13, "gotars-test-client"},
		{"mutual TLS 1.2", true, func() *tls.Config {
			c := certs.ClientConfig(true)
			c.MaxVersion = tls.VersionTLS12
			return c
		}(), tls.VersionTLS12, "gotars-test-client"},
		{"server TLS only", false, certs.ClientConfig(false), tls.VersionTLS13, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := tlsStartTarsGo(t, files, tc.verifyClient, nil)
			c := rpcGotarsClient(t, tlsObj(srv.Addr()), tars.WithTLSConfig(tc.client))
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var out bytes.Buffer
			if err := userdemo.Run(ctx, c, &out); err != nil {
				t.Fatalf("demo against TarsGo over ssl: %v\n%s", err, out.String())
			}
			versions, peers := srv.seen.get()
			if len(versions) == 0 {
				t.Fatal("the TarsGo server saw no handshake")
			}
			for _, v := range versions {
				if v != tc.version {
					t.Errorf("handshake version %x, want %x", v, tc.version)
				}
			}
			if tc.peer == "" && len(peers) != 0 || tc.peer != "" && (len(peers) != len(versions) || peers[0] != tc.peer) {
				t.Errorf("client certificates %q on %d handshakes, want %q on each", peers, len(versions), tc.peer)
			}
		})
	}
}

func TestTLSGotarsClientRefused(t *testing.T) {
	certs := tlsCerts(t, "gotars interop CA")
	files := tlsWriteFiles(t, certs)
	other := tlsCerts(t, "another CA")
	otherClient := certs.ClientConfig(false)
	otherClient.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return &other.Client.TLS, nil
	}
	tls12 := func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }
	for _, tc := range []struct {
		name   string
		edit   func(*tls.Config) // of TarsGo's server configuration
		client *tls.Config
		// In TLS 1.3 the refusal of a client certificate comes after the
		// client's handshake, as an alert on the first read: a send error.
		code tars.Code
		msg  string
	}{
		{"no client certificate", nil, certs.ClientConfig(false), tars.CodeSendRequestErr, "certificate required"},
		{"no client certificate, TLS 1.2", tls12, certs.ClientConfig(false), tars.CodeProxyConnectErr, "handshake failure"},
		{"client certificate of another CA", nil, otherClient, tars.CodeSendRequestErr, "unknown certificate authority"},
		{"client certificate of another CA, TLS 1.2", tls12, otherClient, tars.CodeProxyConnectErr, "unknown certificate authority"},
		{"server certificate not trusted", nil, other.ClientConfig(true), tars.CodeProxyConnectErr, "unknown authority"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := tlsStartTarsGo(t, files, true, tc.edit)
			c := rpcGotarsClient(t, tlsObj(srv.Addr()), tars.WithTLSConfig(tc.client))
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: 1})
			if err == nil {
				t.Fatal("call succeeded; want the handshake refused")
			}
			t.Logf("caller sees: %v", err)
			var te *tars.Error
			// A refusal after the handshake (TLS 1.3) is a send error when the
			// request was written before the alert came, a connect error when
			// the alert came first.
			if !errors.As(err, &te) || te.Code != tc.code && !(tc.code == tars.CodeSendRequestErr && te.Code == tars.CodeProxyConnectErr) {
				t.Errorf("got %v; want code %d", err, tc.code)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
			if ctx.Err() != nil {
				t.Error("the refusal waited for the call's deadline")
			}
			if _, peers := srv.seen.get(); len(peers) != 0 {
				t.Errorf("the TarsGo server accepted client certificates %q", peers)
			}
		})
	}
}
