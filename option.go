package tars

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/lb"
	"github.com/gotars/tars/protocol"
)

// ServerOption configures a Server. Options are values: they can be
// printed, kept in slices and compared with == (options that hold a
// function or a pointer compare by identity).
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

// checker is an option that can be invalid: NewClient returns its error,
// NewServer panics with it.
type checker interface{ check() error }

type serverConfig struct {
	limits        ServantLimits            // server-wide admission defaults
	servantLimits map[string]ServantLimits // per servant, over the defaults
	maxPacket     int
	writeTimeout  time.Duration
	idleTimeout   time.Duration
	frameTimeout  time.Duration
	maxConns      int
	maxConnsPerIP int
	connRequests  int
	memoryBudget  int64
	decodeBudget  int
	middleware    []Middleware
	admission     []func(servant, method string) error
	logger        *slog.Logger
}

type clientConfig struct {
	timeout      time.Duration
	conns        int
	maxPacket    int
	writeTimeout time.Duration
	idleTimeout  time.Duration
	dialTimeout  time.Duration
	maxInflight  int
	decodeBudget int
	version      int16
	middleware   []Middleware
	logger       *slog.Logger
	dial         func(ctx context.Context, network, addr string) (net.Conn, error)
	tls          *tls.Config
	backoffMin   time.Duration
	backoffMax   time.Duration
	resolver     discovery.Resolver
	balancer     lb.Balancer
	set          string
	epMiddleware []Middleware
	health       HealthPolicy
}

// Defaults.
const (
	DefaultMaxInvoke    = 1000                      // handlers of one servant running at once
	DefaultMaxQueue     = 1000                      // requests of one servant waiting for a handler
	DefaultQueueTimeout = 5 * time.Second           // the longest a request waits for a handler
	DefaultTimeout      = 3 * time.Second           // a call's timeout when ctx has no deadline (TarsGo's)
	DefaultConns        = 2                         // connections per endpoint
	DefaultMaxPacket    = protocol.DefaultMaxPacket // the largest frame (TarsGo's 10,485,760 bytes)
	DefaultWriteTimeout = 10 * time.Second          // a blocked socket write
	DefaultIdleTimeout  = 60 * time.Second          // a server closes connections idle this long (TarsCpp's usual endpoint -t)
	DefaultClientIdle   = 10 * time.Minute          // a client closes connections idle this long (TarsGo's clientidletimeout)
	DefaultFrameTimeout = 10 * time.Second          // a frame must arrive whole this soon after it began
	DefaultDialTimeout  = 3 * time.Second           // TarsGo's clientdialtimeout
	DefaultMaxInflight  = 10000                     // a client's calls in flight on one endpoint
	DefaultMemoryBudget = 256 << 20                 // a server's bytes in frame buffers and write queues
)

func newServerConfig(opts []ServerOption) serverConfig {
	c := serverConfig{
		limits:    ServantLimits{MaxInvoke: DefaultMaxInvoke, MaxQueue: DefaultMaxQueue, QueueTimeout: DefaultQueueTimeout},
		maxPacket: DefaultMaxPacket, writeTimeout: DefaultWriteTimeout, idleTimeout: DefaultIdleTimeout,
		frameTimeout: DefaultFrameTimeout, memoryBudget: DefaultMemoryBudget,
	}
	for _, o := range opts {
		if ch, ok := o.(checker); ok {
			if err := ch.check(); err != nil {
				panic("tars.NewServer: " + err.Error())
			}
		}
		o.applyServer(&c)
	}
	if c.memoryBudget < int64(c.maxPacket) {
		panic(fmt.Sprintf("tars.NewServer: WithMemoryBudget(%d) is smaller than the largest packet (%d)", c.memoryBudget, c.maxPacket))
	}
	return c
}

func newClientConfig(opts []ClientOption) (clientConfig, error) {
	c := clientConfig{timeout: DefaultTimeout, conns: DefaultConns, maxPacket: DefaultMaxPacket,
		writeTimeout: DefaultWriteTimeout, idleTimeout: DefaultClientIdle, dialTimeout: DefaultDialTimeout,
		maxInflight: DefaultMaxInflight, version: VersionTARS,
		backoffMin: 20 * time.Millisecond, backoffMax: 5 * time.Second,
		balancer: lb.TARS(), health: DefaultHealth}
	for _, o := range opts {
		if ch, ok := o.(checker); ok {
			if err := ch.check(); err != nil {
				return c, fmt.Errorf("tars.NewClient: %w", err)
			}
		}
		o.applyClient(&c)
	}
	return c, nil
}

func positive(name string, v int) error {
	if v < 1 {
		return fmt.Errorf("%s(%d): must be at least 1", name, v)
	}
	return nil
}

func atLeastZero(name string, v int) error {
	if v < 0 {
		return fmt.Errorf("%s(%d): must not be negative", name, v)
	}
	return nil
}

func positiveDuration(name string, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%s(%v): must be positive", name, d)
	}
	return nil
}

func durationOrZero(name string, d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("%s(%v): must not be negative (0 means none)", name, d)
	}
	return nil
}

// ServantLimits are the admission limits of one servant: a TARS adapter's
// threads, queuecap and queuetimeout. Calls to a servant beyond MaxInvoke
// running wait in its queue; beyond MaxQueue waiting they are answered
// CodeServerOverload; one that waited QueueTimeout (or so long that too
// little of its caller's timeout is left) is answered
// CodeServerQueueTimeout without running. Servants do not share limits:
// an overloaded servant does not slow the others. Zero fields take the
// server-wide values (WithMaxInvoke, WithMaxQueue, WithQueueTimeout).
type ServantLimits struct {
	MaxInvoke    int           // handlers running at once
	MaxQueue     int           // requests waiting for a handler
	QueueTimeout time.Duration // the longest a request waits
}

func (l ServantLimits) check(name string) error {
	if l.MaxInvoke < 0 || l.MaxQueue < 0 || l.QueueTimeout < 0 {
		return fmt.Errorf("%s: negative limit in %+v", name, l)
	}
	return nil
}

// over returns l with its zero fields taken from d.
func (l ServantLimits) over(d ServantLimits) ServantLimits {
	if l.MaxInvoke == 0 {
		l.MaxInvoke = d.MaxInvoke
	}
	if l.MaxQueue == 0 {
		l.MaxQueue = d.MaxQueue
	}
	if l.QueueTimeout == 0 {
		l.QueueTimeout = d.QueueTimeout
	}
	return l
}

type servantLimitsOption struct {
	servant string
	limits  ServantLimits
}

func (o servantLimitsOption) applyServer(c *serverConfig) {
	if c.servantLimits == nil {
		c.servantLimits = map[string]ServantLimits{}
	}
	c.servantLimits[o.servant] = o.limits
}
func (o servantLimitsOption) check() error {
	if err := checkServantName(o.servant); err != nil {
		return fmt.Errorf("WithServantLimits: %w", err)
	}
	return o.limits.check("WithServantLimits(" + o.servant + ")")
}
func (o servantLimitsOption) String() string {
	return fmt.Sprintf("WithServantLimits(%q, %+v)", o.servant, o.limits)
}

// WithServantLimits sets the admission limits of one servant (a TARS
// adapter); see ServantLimits.
func WithServantLimits(servant string, l ServantLimits) ServerOption {
	return servantLimitsOption{servant, l}
}

type maxInvokeOption int

func (o maxInvokeOption) applyServer(c *serverConfig) { c.limits.MaxInvoke = int(o) }
func (o maxInvokeOption) check() error                { return positive("WithMaxInvoke", int(o)) }
func (o maxInvokeOption) String() string              { return fmt.Sprintf("WithMaxInvoke(%d)", int(o)) }

// WithMaxInvoke bounds the handlers of each servant running at once
// (default DefaultMaxInvoke; a TARS adapter's threads). Requests beyond it
// wait in the servant's queue. It must be at least 1.
func WithMaxInvoke(n int) ServerOption { return maxInvokeOption(n) }

type maxQueueOption int

func (o maxQueueOption) applyServer(c *serverConfig) { c.limits.MaxQueue = int(o) }
func (o maxQueueOption) check() error                { return atLeastZero("WithMaxQueue", int(o)) }
func (o maxQueueOption) String() string              { return fmt.Sprintf("WithMaxQueue(%d)", int(o)) }

// WithMaxQueue bounds the requests of each servant waiting for a handler
// (default DefaultMaxQueue; a TARS adapter's queuecap); a request beyond it
// is answered CodeServerOverload at once. 0 means no waiting.
func WithMaxQueue(n int) ServerOption { return maxQueueOption(n) }

type queueTimeoutOption time.Duration

func (o queueTimeoutOption) applyServer(c *serverConfig) { c.limits.QueueTimeout = time.Duration(o) }
func (o queueTimeoutOption) check() error {
	return positiveDuration("WithQueueTimeout", time.Duration(o))
}
func (o queueTimeoutOption) String() string {
	return fmt.Sprintf("WithQueueTimeout(%v)", time.Duration(o))
}

// WithQueueTimeout bounds how long a request may wait for a handler before
// it is answered CodeServerQueueTimeout without running (default
// DefaultQueueTimeout; a TARS adapter's queuetimeout). A request whose
// caller sent a timeout waits less: its answer must reach the caller
// before the caller gives up.
func WithQueueTimeout(d time.Duration) ServerOption { return queueTimeoutOption(d) }

type maxPacketOption int

func (o maxPacketOption) applyServer(c *serverConfig) { c.maxPacket = int(o) }
func (o maxPacketOption) applyClient(c *clientConfig) { c.maxPacket = int(o) }
func (o maxPacketOption) check() error {
	if o < 64 {
		return fmt.Errorf("WithMaxPacket(%d): must be at least 64 bytes", int(o))
	}
	return nil
}
func (o maxPacketOption) String() string { return fmt.Sprintf("WithMaxPacket(%d)", int(o)) }

// WithMaxPacket sets the largest frame accepted (default DefaultMaxPacket;
// at least 64). A server disconnects a peer that sends a larger one; a
// client fails the call whose answer is larger, skipping the answer's
// bytes, and keeps the connection.
func WithMaxPacket(n int) Option { return maxPacketOption(n) }

type writeTimeoutOption time.Duration

func (o writeTimeoutOption) applyServer(c *serverConfig) { c.writeTimeout = time.Duration(o) }
func (o writeTimeoutOption) applyClient(c *clientConfig) { c.writeTimeout = time.Duration(o) }
func (o writeTimeoutOption) check() error {
	return positiveDuration("WithWriteTimeout", time.Duration(o))
}
func (o writeTimeoutOption) String() string {
	return fmt.Sprintf("WithWriteTimeout(%v)", time.Duration(o))
}

// WithWriteTimeout bounds how long a connection may wait for its peer to
// take bytes (default DefaultWriteTimeout): a peer that reads nothing for
// that long is disconnected. Callers never wait for a socket write; this
// bounds the connection, not a call.
func WithWriteTimeout(d time.Duration) Option { return writeTimeoutOption(d) }

type idleTimeoutOption time.Duration

func (o idleTimeoutOption) applyServer(c *serverConfig) { c.idleTimeout = time.Duration(o) }
func (o idleTimeoutOption) applyClient(c *clientConfig) { c.idleTimeout = time.Duration(o) }
func (o idleTimeoutOption) check() error {
	return durationOrZero("WithIdleTimeout", time.Duration(o))
}
func (o idleTimeoutOption) String() string {
	return fmt.Sprintf("WithIdleTimeout(%v)", time.Duration(o))
}

// WithIdleTimeout closes connections that carried nothing for d: no call in
// flight, nothing to write, no frame begun (0: never). A server's default is
// DefaultIdleTimeout (60s, the -t TarsCpp servers give their endpoints'
// connections); a client's is DefaultClientIdle (10 minutes, TarsGo's
// clientidletimeout).
func WithIdleTimeout(d time.Duration) Option { return idleTimeoutOption(d) }

type frameTimeoutOption time.Duration

func (o frameTimeoutOption) applyServer(c *serverConfig) { c.frameTimeout = time.Duration(o) }
func (o frameTimeoutOption) check() error {
	return durationOrZero("WithFrameTimeout", time.Duration(o))
}
func (o frameTimeoutOption) String() string {
	return fmt.Sprintf("WithFrameTimeout(%v)", time.Duration(o))
}

// WithFrameTimeout closes a connection whose peer began a frame (its first
// byte arrived) and did not complete it within d (default
// DefaultFrameTimeout; 0: never): a peer that trickles bytes cannot hold a
// connection and its buffer forever.
func WithFrameTimeout(d time.Duration) ServerOption { return frameTimeoutOption(d) }

type maxConnsOption struct{ n, perIP int }

func (o maxConnsOption) applyServer(c *serverConfig) {
	if o.perIP < 0 {
		c.maxConns = o.n
	} else {
		c.maxConnsPerIP = o.perIP
	}
}
func (o maxConnsOption) check() error {
	if o.perIP < 0 {
		return atLeastZero("WithMaxConns", o.n)
	}
	return atLeastZero("WithMaxConnsPerIP", o.perIP)
}
func (o maxConnsOption) String() string {
	if o.perIP < 0 {
		return fmt.Sprintf("WithMaxConns(%d)", o.n)
	}
	return fmt.Sprintf("WithMaxConnsPerIP(%d)", o.perIP)
}

// WithMaxConns bounds a server's open connections (TarsCpp's maxconns; 0,
// the default: no bound). A connection over the bound is accepted and
// closed at once, so its client learns at once.
func WithMaxConns(n int) ServerOption { return maxConnsOption{n: n, perIP: -1} }

// WithMaxConnsPerIP bounds the open connections from one remote IP (0, the
// default: no bound), as WithMaxConns does.
func WithMaxConnsPerIP(n int) ServerOption { return maxConnsOption{perIP: n} }

type connRequestsOption int

func (o connRequestsOption) applyServer(c *serverConfig) { c.connRequests = int(o) }
func (o connRequestsOption) check() error                { return atLeastZero("WithMaxConnRequests", int(o)) }
func (o connRequestsOption) String() string              { return fmt.Sprintf("WithMaxConnRequests(%d)", int(o)) }

// WithMaxConnRequests bounds the requests of one connection in progress at
// once (0, the default: no bound beyond the servants' limits). At the
// bound the server stops reading the connection until one is answered: a
// pipelining peer is slowed, not failed.
func WithMaxConnRequests(n int) ServerOption { return connRequestsOption(n) }

type memoryBudgetOption int64

func (o memoryBudgetOption) applyServer(c *serverConfig) { c.memoryBudget = int64(o) }
func (o memoryBudgetOption) check() error {
	if o < 1 {
		return fmt.Errorf("WithMemoryBudget(%d): must be positive", int64(o))
	}
	return nil
}
func (o memoryBudgetOption) String() string { return fmt.Sprintf("WithMemoryBudget(%d)", int64(o)) }

// WithMemoryBudget bounds the bytes a server holds across all connections
// in frames being read, frames whose requests are in progress, and answers
// waiting to be written (default DefaultMemoryBudget; at least the largest
// packet). A connection that needs more than is left waits, not reading,
// until memory is returned or its frame timeout closes it; answers are
// never refused, but while they hold the budget no large frame is read.
func WithMemoryBudget(bytes int64) ServerOption { return memoryBudgetOption(bytes) }

type decodeBudgetOption int

func (o decodeBudgetOption) applyServer(c *serverConfig) { c.decodeBudget = int(o) }
func (o decodeBudgetOption) applyClient(c *clientConfig) { c.decodeBudget = int(o) }
func (o decodeBudgetOption) check() error                { return atLeastZero("WithDecodeBudget", int(o)) }
func (o decodeBudgetOption) String() string              { return fmt.Sprintf("WithDecodeBudget(%d)", int(o)) }

// WithDecodeBudget bounds the Go memory that decoding one body's parameters
// may allocate, in bytes (0, the default: 7× the body plus 64 KiB; ordinary
// values with many small maps take up to ~6.3× their wire size, a list of
// empty strings 8×). A server answers
// a request over it CodeServerDecodeErr; a client fails the call with
// CodeClientDecodeErr: a hostile frame cannot make either allocate many
// times its size. A server also charges the decode budget of each request
// larger than 4 KiB to its memory budget (WithMemoryBudget) while the call
// runs, answering CodeServerOverload when that is exhausted.
func WithDecodeBudget(bytes int) Option { return decodeBudgetOption(bytes) }

type admissionOption struct {
	f func(servant, method string) error
}

func (o *admissionOption) applyServer(c *serverConfig) { c.admission = append(c.admission, o.f) }
func (o *admissionOption) check() error {
	if o.f == nil {
		return errors.New("WithAdmission: nil function")
	}
	return nil
}
func (o *admissionOption) String() string { return "WithAdmission" }

// WithAdmission has the server ask admit, for each request of a known
// servant and method, whether to take it, before it is queued or decoded: a
// non-nil error is the answer at once (its code by CodeOf; a rate limit
// answers CodeServerOverload, as middleware/ratelimit's Limiter.Admit
// does), counted in ServerStats.Overloaded when that is its code. admit runs
// on the connection's read loop: it must be quick and must not block. Several
// run in the order given; the first error wins.
func WithAdmission(admit func(servant, method string) error) ServerOption {
	return &admissionOption{admit}
}

type middlewareOption struct{ mw []Middleware }

func (o *middlewareOption) applyServer(c *serverConfig) { c.middleware = append(c.middleware, o.mw...) }
func (o *middlewareOption) applyClient(c *clientConfig) { c.middleware = append(c.middleware, o.mw...) }
func (o *middlewareOption) check() error {
	for i, m := range o.mw {
		if m == nil {
			return fmt.Errorf("WithMiddleware: middleware %d is nil", i)
		}
	}
	return nil
}
func (o *middlewareOption) String() string { return fmt.Sprintf("WithMiddleware(%d)", len(o.mw)) }

// WithMiddleware appends middleware to the chain of a server or a client;
// the first runs outermost.
func WithMiddleware(mw ...Middleware) Option { return &middlewareOption{mw} }

type loggerOption struct{ l *slog.Logger }

func (o loggerOption) applyServer(c *serverConfig) { c.logger = o.l }
func (o loggerOption) applyClient(c *clientConfig) { c.logger = o.l }
func (o loggerOption) String() string              { return "WithLogger" }

// WithLogger sets where the framework reports what it cannot return to a
// caller (dropped connections, panics, undecodable packets). Records about
// connections are rate-limited (what a peer can cause at will must not
// flood the log); the counts are in Server.Stats. Default: none.
func WithLogger(l *slog.Logger) Option { return loggerOption{l} }

type timeoutOption time.Duration

func (o timeoutOption) applyClient(c *clientConfig) { c.timeout = time.Duration(o) }
func (o timeoutOption) check() error                { return positiveDuration("WithTimeout", time.Duration(o)) }
func (o timeoutOption) String() string              { return fmt.Sprintf("WithTimeout(%v)", time.Duration(o)) }

// WithTimeout sets a client's timeout for calls whose context has no
// deadline (default DefaultTimeout; TarsGo's async-invoke-timeout). It must
// be positive.
func WithTimeout(d time.Duration) ClientOption { return timeoutOption(d) }

type dialTimeoutOption time.Duration

func (o dialTimeoutOption) applyClient(c *clientConfig) { c.dialTimeout = time.Duration(o) }
func (o dialTimeoutOption) check() error {
	return positiveDuration("WithDialTimeout", time.Duration(o))
}
func (o dialTimeoutOption) String() string {
	return fmt.Sprintf("WithDialTimeout(%v)", time.Duration(o))
}

// WithDialTimeout bounds a connection attempt, TLS handshake included
// (default DefaultDialTimeout). A dial is the endpoint's, not a caller's:
// callers wait for it no longer than their own deadlines, and a caller
// giving up does not cancel it.
func WithDialTimeout(d time.Duration) ClientOption { return dialTimeoutOption(d) }

type maxInflightOption int

func (o maxInflightOption) applyClient(c *clientConfig) { c.maxInflight = int(o) }
func (o maxInflightOption) check() error                { return positive("WithMaxInflight", int(o)) }
func (o maxInflightOption) String() string              { return fmt.Sprintf("WithMaxInflight(%d)", int(o)) }

// WithMaxInflight bounds a client's calls in flight on one endpoint (default
// DefaultMaxInflight). A full endpoint is passed over for the others; when
// all are full a call fails at once with CodeServerOverload.
func WithMaxInflight(n int) ClientOption { return maxInflightOption(n) }

type connsOption int

func (o connsOption) applyClient(c *clientConfig) { c.conns = int(o) }
func (o connsOption) check() error                { return positive("WithConnsPerEndpoint", int(o)) }
func (o connsOption) String() string              { return fmt.Sprintf("WithConnsPerEndpoint(%d)", int(o)) }

// WithConnsPerEndpoint sets how many multiplexed connections a client keeps
// to each endpoint (default DefaultConns; at least 1).
func WithConnsPerEndpoint(n int) ClientOption { return connsOption(n) }

type versionOption int16

func (o versionOption) applyClient(c *clientConfig) { c.version = int16(o) }
func (o versionOption) check() error {
	switch int16(o) {
	case VersionTARS, VersionTUP, VersionJSON:
		return nil
	}
	return fmt.Errorf("WithVersion(%d): %w", int16(o), badVersion(int16(o)))
}
func (o versionOption) String() string { return fmt.Sprintf("WithVersion(%d)", int16(o)) }

// WithVersion sets the packet version a client calls with: VersionTARS (the
// default), VersionTUP or VersionJSON.
func WithVersion(v int16) ClientOption { return versionOption(v) }

type dialerOption struct {
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (o *dialerOption) applyClient(c *clientConfig) { c.dial = o.dial }
func (o *dialerOption) check() error {
	if o.dial == nil {
		return errors.New("WithDialer(nil)")
	}
	return nil
}
func (o *dialerOption) String() string { return "WithDialer" }

// WithDialer replaces how a client opens connections (for proxies, custom
// sockets and tests). network is the endpoint's TARS transport: "tcp",
// "udp" or "ssl" (dial TCP for it). For an ssl endpoint the client runs TLS
// over the returned connection with the WithTLSConfig configuration, unless
// the dialer returns a *tls.Conn of its own.
func WithDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) ClientOption {
	return &dialerOption{dial}
}

type backoffOption struct{ min, max time.Duration }

func (o backoffOption) applyClient(c *clientConfig) { c.backoffMin, c.backoffMax = o.min, o.max }
func (o backoffOption) check() error {
	if o.min < 0 || o.max < o.min {
		return fmt.Errorf("%v: want 0 <= min <= max", o)
	}
	return nil
}
func (o backoffOption) String() string {
	return fmt.Sprintf("WithReconnectBackoff(%v, %v)", o.min, o.max)
}

// WithReconnectBackoff sets the pause after a failed connection attempt to
// an endpoint: it starts at min and doubles to max (defaults 20ms and 5s;
// 0 for no pause).
// Calls made during the pause go to other endpoints or fail at once with
// CodeProxyConnectErr.
func WithReconnectBackoff(min, max time.Duration) ClientOption { return backoffOption{min, max} }

// checkServantName reports a servant name that no TARS peer can call.
func checkServantName(s string) error {
	switch {
	case s == "":
		return errors.New("empty servant name")
	case strings.ContainsAny(s, "@: \t\r\n\v\f"):
		return fmt.Errorf("servant name %q holds whitespace, '@' or ':' (an object string's separators)", s)
	}
	return nil
}
