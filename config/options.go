package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"

	"github.com/gotars/tars"
)

// ServerOptions validates c and returns the options of a tars.Server
// serving c's servants: the server-wide limits and timeouts and each
// servant's admission limits. What has no server option yet (listening on
// the endpoints, a servant's max_conns and idle_timeout, TLS, the TARS
// identity) is left as data for the caller.
func (c *Config) ServerOptions() ([]tars.ServerOption, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	s := c.Server
	opts := []tars.ServerOption{
		tars.WithMaxPacket(s.MaxPacket),
		tars.WithIdleTimeout(s.IdleTimeout),
		tars.WithFrameTimeout(s.FrameTimeout),
		tars.WithMaxConns(s.MaxConns),
		tars.WithMaxConnsPerIP(s.MaxConnsIP),
		tars.WithMemoryBudget(s.MemoryBudget),
		tars.WithMaxQueue(s.QueueCap),
	}
	if s.WriteTimeout > 0 {
		opts = append(opts, tars.WithWriteTimeout(s.WriteTimeout))
	}
	if s.MaxInvoke > 0 {
		opts = append(opts, tars.WithMaxInvoke(s.MaxInvoke))
	}
	if s.QueueTimeout > 0 {
		opts = append(opts, tars.WithQueueTimeout(s.QueueTimeout))
	}
	names := make([]string, 0, len(c.Servants))
	for n := range c.Servants {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		sv := c.Servants[n]
		l := tars.ServantLimits{MaxInvoke: sv.MaxInvoke, MaxQueue: sv.QueueCap, QueueTimeout: sv.QueueTimeout}
		if l != (tars.ServantLimits{}) {
			opts = append(opts, tars.WithServantLimits(n, l))
		}
	}
	return opts, nil
}

// ClientOptions validates c and returns the options of a tars.Client of
// the servant obj: the client-wide settings with obj's timeout (or the
// "*" object's) over client.timeout, and the TLS configuration of obj (or
// of the client) when it names files. The balancer, the policies of
// methods and the set are left as data (see Object, Method).
func (c *Config) ClientOptions(obj string) ([]tars.ClientOption, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	cl := c.Client
	timeout := cl.Timeout
	t := cl.TLS
	for _, name := range []string{"*", obj} {
		if o, ok := cl.Objects[name]; ok {
			if o.Timeout > 0 {
				timeout = o.Timeout
			}
			if o.TLS != (TLS{}) {
				t = o.TLS
			}
		}
	}
	opts := []tars.ClientOption{
		tars.WithTimeout(timeout),
		tars.WithDialTimeout(cl.DialTimeout),
		tars.WithIdleTimeout(cl.IdleTimeout),
		tars.WithWriteTimeout(cl.WriteTimeout),
		tars.WithConnsPerEndpoint(cl.ConnsPerEndpoint),
		tars.WithMaxInflight(cl.MaxInflight),
		tars.WithMaxPacket(c.Server.MaxPacket),
	}
	if t.CA != "" || t.Cert != "" {
		cfg, err := t.ClientConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, tars.WithTLSConfig(cfg))
	}
	return opts, nil
}

// Target returns the object string a client of obj dials: obj with its
// static endpoints ("obj@tcp -h … -p …") when client.objects.<obj> lists
// some, else obj alone, for a resolver to find.
func (c *Client) Target(obj string) string {
	if o, ok := c.Objects[obj]; ok && o.Endpoints != "" {
		return obj + "@" + o.Endpoints
	}
	return obj
}

// Policy returns the policy of calls to method of obj. Each of its parts
// (timeout, breaker, retry, hedge) comes from the first of
// objects.<obj>.methods.<method>, objects.<obj>.methods.*,
// objects.*.methods.<method> and objects.*.methods.* that sets it; a
// timeout set by none is the object's (obj's, else "*"'s), else
// client.timeout.
func (c *Client) Policy(obj, method string) Method {
	var m Method
	var haveBreaker, haveRetry, haveHedge bool
	for _, o := range []string{obj, "*"} {
		for _, name := range []string{method, "*"} {
			x, ok := c.Objects[o].Methods[name]
			if !ok {
				continue
			}
			if m.Timeout == 0 {
				m.Timeout = x.Timeout
			}
			if !haveBreaker && x.Breaker != (Breaker{}) {
				m.Breaker, haveBreaker = x.Breaker, true
			}
			if !haveRetry && !reflect.ValueOf(x.Retry).IsZero() {
				m.Retry, haveRetry = x.Retry, true
			}
			if !haveHedge && x.Hedge != (Hedge{}) {
				m.Hedge, haveHedge = x.Hedge, true
			}
		}
	}
	if m.Timeout == 0 {
		m.Timeout = c.Timeout
		for _, o := range []string{"*", obj} {
			if t := c.Objects[o].Timeout; t > 0 {
				m.Timeout = t
			}
		}
	}
	return m
}

// ServerConfig loads the files of t into a server's TLS configuration:
// cert and key, and with verify_client the ca that client certificates
// must chain to.
func (t TLS) ServerConfig() (*tls.Config, error) {
	if t.Cert == "" || t.Key == "" {
		return nil, errors.New("config: a TLS server needs a cert and a key")
	}
	pair, err := tls.LoadX509KeyPair(t.Cert, t.Key)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	if t.CA != "" {
		pool, err := loadPool(t.CA)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs = pool
		if t.VerifyClient {
			cfg.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	return cfg, nil
}

// ClientConfig loads the files of t into a client's TLS configuration: the
// ca the server's certificate must chain to (else the system's), and a
// client certificate when cert and key are set.
func (t TLS) ClientConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.CA != "" {
		pool, err := loadPool(t.CA)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if t.Cert != "" {
		pair, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

func loadPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("config: %s holds no PEM certificate", file)
	}
	return pool, nil
}
