package tars

import (
	"crypto/tls"
	"net"
)

type tlsOption struct{ cfg *tls.Config }

func (o tlsOption) applyClient(c *clientConfig) { c.tls = o.cfg }
func (o tlsOption) String() string              { return "WithTLSConfig" }

// WithTLSConfig sets the TLS configuration a client uses for "ssl"
// endpoints (EndpointF istcp 2): the roots that verify servers, and for
// mutual TLS the client's certificates. When cfg.ServerName is empty, the
// endpoint's host is verified. Without it, a client refuses ssl endpoints.
func WithTLSConfig(cfg *tls.Config) ClientOption { return tlsOption{cfg} }

// ServeTLS serves TLS connections on ln, as Serve does plain ones: the
// "ssl" endpoints of a TARS server. cfg holds the server's certificates; for
// mutual TLS set cfg.ClientAuth (tls.RequireAndVerifyClientCert) and
// cfg.ClientCAs. It returns ErrServerClosed after Shutdown.
func (s *Server) ServeTLS(ln net.Listener, cfg *tls.Config) error {
	return s.Serve(tls.NewListener(ln, cfg))
}

// clientTLS returns the configuration for a connection to host.
func clientTLS(cfg *tls.Config, host string) *tls.Config {
	if cfg.ServerName != "" || cfg.InsecureSkipVerify {
		return cfg
	}
	cfg = cfg.Clone()
	cfg.ServerName = host
	return cfg
}
