package tars

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"time"
)

// ServerOption configures a Server. Options are values: they can be
// compared, printed and kept in slices.
type ServerOption interface {
	applyServer(*serverConfig)
}

// ClientOption configures a Client.
type ClientOption interface {
	applyClient(*clientConfig)
}

// Option configures both a Server and a Client.
type Option interface {
	ServerOption
	ClientOption
}

type serverConfig struct {
	maxInvoke    int
	maxQueue     int
	queueTimeout time.Duration
	maxPacket    int
	writeTimeout time.Duration
	middleware   []Middleware
	logger       *slog.Logger
}

type clientConfig struct {
	timeout      time.Duration
	conns        int
	maxPacket    int
	writeTimeout time.Duration
	version      int16
	middleware   []Middleware
	logger       *slog.Logger
	dial         func(ctx context.Context, network, addr string) (net.Conn, error)
	tls          *tls.Config
	backoffMin   time.Duration
	backoffMax   time.Duration
}

// Defaults.
const (
	DefaultMaxInvoke    = 10000           // handlers running at once
	DefaultMaxQueue     = 10000           // requests waiting for a handler slot
	DefaultQueueTimeout = 5 * time.Second // the wait bound of requests without iTimeout
	DefaultTimeout      = 3 * time.Second // a call's timeout when ctx has no deadline (TarsGo's)
	DefaultConns        = 2               // connections per endpoint
	DefaultMaxPacket    = 10485760        // the largest frame (TarsGo's)
)

func newServerConfig(opts []ServerOption) serverConfig {
	c := serverConfig{maxInvoke: DefaultMaxInvoke, maxQueue: DefaultMaxQueue, queueTimeout: DefaultQueueTimeout,
		maxPacket: DefaultMaxPacket, writeTimeout: 10 * time.Second}
	for _, o := range opts {
		o.applyServer(&c)
	}
	return c
}

func newClientConfig(opts []ClientOption) clientConfig {
	c := clientConfig{timeout: DefaultTimeout, conns: DefaultConns, maxPacket: DefaultMaxPacket,
		writeTimeout: 10 * time.Second, version: VersionTARS,
		backoffMin: 20 * time.Millisecond, backoffMax: 5 * time.Second}
	for _, o := range opts {
		o.applyClient(&c)
	}
	return c
}

type maxInvokeOption int

func (o maxInvokeOption) applyServer(c *serverConfig) { c.maxInvoke = max(1, int(o)) }
func (o maxInvokeOption) String() string              { return fmt.Sprintf("WithMaxInvoke(%d)", int(o)) }

// WithMaxInvoke bounds the handlers a server runs at once (default
// DefaultMaxInvoke). Requests beyond it wait in the queue.
func WithMaxInvoke(n int) ServerOption { return maxInvokeOption(n) }

type maxQueueOption int

func (o maxQueueOption) applyServer(c *serverConfig) { c.maxQueue = max(0, int(o)) }
func (o maxQueueOption) String() string              { return fmt.Sprintf("WithMaxQueue(%d)", int(o)) }

// WithMaxQueue bounds the requests waiting for a handler slot (default
// DefaultMaxQueue); a request beyond it is answered CodeServerOverload.
func WithMaxQueue(n int) ServerOption { return maxQueueOption(n) }

type queueTimeoutOption time.Duration

func (o queueTimeoutOption) applyServer(c *serverConfig) { c.queueTimeout = time.Duration(o) }
func (o queueTimeoutOption) String() string {
	return fmt.Sprintf("WithQueueTimeout(%v)", time.Duration(o))
}

// WithQueueTimeout bounds how long a request without its own timeout
// (iTimeout 0) may wait for a handler slot before it is answered
// CodeServerQueueTimeout (default DefaultQueueTimeout). Requests with a
// timeout wait at most that long.
func WithQueueTimeout(d time.Duration) ServerOption { return queueTimeoutOption(d) }

type maxPacketOption int

func (o maxPacketOption) applyServer(c *serverConfig) { c.maxPacket = max(64, int(o)) }
func (o maxPacketOption) applyClient(c *clientConfig) { c.maxPacket = max(64, int(o)) }
func (o maxPacketOption) String() string              { return fmt.Sprintf("WithMaxPacket(%d)", int(o)) }

// WithMaxPacket sets the largest frame accepted (default DefaultMaxPacket).
// A peer that sends a larger one is disconnected.
func WithMaxPacket(n int) Option { return maxPacketOption(n) }

type writeTimeoutOption time.Duration

func (o writeTimeoutOption) applyServer(c *serverConfig) { c.writeTimeout = time.Duration(o) }
func (o writeTimeoutOption) applyClient(c *clientConfig) { c.writeTimeout = time.Duration(o) }
func (o writeTimeoutOption) String() string {
	return fmt.Sprintf("WithWriteTimeout(%v)", time.Duration(o))
}

// WithWriteTimeout bounds one socket write (default 10s): a peer that stops
// reading is disconnected rather than blocking its writers forever.
func WithWriteTimeout(d time.Duration) Option { return writeTimeoutOption(d) }

type middlewareOption []Middleware

func (o middlewareOption) applyServer(c *serverConfig) { c.middleware = append(c.middleware, o...) }
func (o middlewareOption) applyClient(c *clientConfig) { c.middleware = append(c.middleware, o...) }
func (o middlewareOption) String() string              { return fmt.Sprintf("WithMiddleware(%d)", len(o)) }

// WithMiddleware appends middleware to the chain of a server or a client;
// the first runs outermost.
func WithMiddleware(mw ...Middleware) Option { return middlewareOption(mw) }

type loggerOption struct{ l *slog.Logger }

func (o loggerOption) applyServer(c *serverConfig) { c.logger = o.l }
func (o loggerOption) applyClient(c *clientConfig) { c.logger = o.l }
func (o loggerOption) String() string              { return "WithLogger" }

// WithLogger sets where the framework reports what it cannot return to a
// caller (dropped connections, panics, undecodable packets). Default: none.
func WithLogger(l *slog.Logger) Option { return loggerOption{l} }

type timeoutOption time.Duration

func (o timeoutOption) applyClient(c *clientConfig) { c.timeout = time.Duration(o) }
func (o timeoutOption) String() string              { return fmt.Sprintf("WithTimeout(%v)", time.Duration(o)) }

// WithTimeout sets a client's timeout for calls whose context has no
// deadline (default DefaultTimeout).
func WithTimeout(d time.Duration) ClientOption { return timeoutOption(d) }

type connsOption int

func (o connsOption) applyClient(c *clientConfig) { c.conns = max(1, int(o)) }
func (o connsOption) String() string              { return fmt.Sprintf("WithConnsPerEndpoint(%d)", int(o)) }

// WithConnsPerEndpoint sets how many multiplexed connections a client keeps
// to each endpoint (default DefaultConns).
func WithConnsPerEndpoint(n int) ClientOption { return connsOption(n) }

type versionOption int16

func (o versionOption) applyClient(c *clientConfig) { c.version = int16(o) }
func (o versionOption) String() string              { return fmt.Sprintf("WithVersion(%d)", int16(o)) }

// WithVersion sets the packet version a client calls with: VersionTARS (the
// default), VersionTUP or VersionJSON.
func WithVersion(v int16) ClientOption { return versionOption(v) }

type dialerOption struct {
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (o dialerOption) applyClient(c *clientConfig) { c.dial = o.dial }
func (o dialerOption) String() string              { return "WithDialer" }

// WithDialer replaces how a client opens connections (for proxies, custom
// sockets and tests). network is the endpoint's TARS transport: "tcp",
// "udp" or "ssl" (dial TCP for it). For an ssl endpoint the client runs TLS
// over the returned connection with the WithTLSConfig configuration, unless
// the dialer returns a *tls.Conn of its own.
func WithDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) ClientOption {
	return dialerOption{dial}
}

type backoffOption struct{ min, max time.Duration }

func (o backoffOption) applyClient(c *clientConfig) {
	c.backoffMin, c.backoffMax = o.min, max(o.min, o.max)
}
func (o backoffOption) String() string {
	return fmt.Sprintf("WithReconnectBackoff(%v, %v)", o.min, o.max)
}

// WithReconnectBackoff sets the pause after a failed connection attempt to
// an endpoint: it starts at min and doubles to max (defaults 20ms and 5s).
// Calls made during the pause go to other endpoints or fail at once with
// CodeProxyConnectErr.
func WithReconnectBackoff(min, max time.Duration) ClientOption { return backoffOption{min, max} }
