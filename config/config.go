// Package config is the configuration tree of a gotars application: its
// servers (one entry per servant, a TARS adapter), the server-wide
// settings, its clients, observability and logging, with TARS's and
// gotars' defaults, validation that names the bad key, and the mapping of
// the tree onto the root package's options (ServerOptions, ClientOptions).
//
// The tree is plain Go structs with koanf tags; this package needs no
// dependency to use it. It also reads the TARS-native format that tarsnode
// hands a server with --config= (ReadTars, ParseTars, TarsParser), the way
// TarsGo v1.4.6 reads it, and maps it onto the same tree. The layered
// loader (defaults → file → environment → flags) and the file watch live
// in package github.com/gotars/tars/config/koanf.
//
// Keys are written with "." between levels ("client.timeout"); a map entry
// is one level even when its name holds dots
// ("servants.UserService.UserServiceObj.max_invoke"). README.md lists
// every key in both formats.
package config

import (
	"time"

	"github.com/gotars/tars"
)

// Config is the configuration of one application: what it serves, what it
// calls, and how it reports.
type Config struct {
	Server        Server             `koanf:"server"`        // server-wide settings
	Servants      map[string]Servant `koanf:"servants"`      // by servant name (App.Server.Obj)
	Client        Client             `koanf:"client"`        // every client the application builds
	Observability Observability      `koanf:"observability"` // metrics, traces, TARS stat/property
	Log           Log                `koanf:"log"`           // logging
}

// Server holds the server-wide settings: the server's TARS identity, the
// framework objects it reports to, and the defaults of its servants.
type Server struct {
	App      string `koanf:"app"`       // TARS application name
	Server   string `koanf:"server"`    // TARS server name
	Node     string `koanf:"node"`      // tarsnode's ServerF object; empty: not managed
	NodeName string `koanf:"node_name"` // the node's name (TARS nodename / node_name); default local_ip
	LocalIP  string `koanf:"local_ip"`  // this host's IP (TARS localip)
	Local    string `koanf:"local"`     // the AdminObj endpoint, TARS syntax; empty: no AdminObj

	BasePath  string `koanf:"base_path"`  // where remote config files land
	DataPath  string `koanf:"data_path"`  // where cached data (.tarsdat) lives
	ConfigObj string `koanf:"config_obj"` // ConfigF object (tars.tarsconfig.ConfigObj)
	NotifyObj string `koanf:"notify_obj"` // NotifyF object (tars.tarsnotify.NotifyObj)
	LogObj    string `koanf:"log_obj"`    // LogF object (tars.tarslog.LogObj)

	GraceTimeout time.Duration `koanf:"grace_timeout"` // graceful shutdown bound (TARS gracedowntimeout)
	MaxPacket    int           `koanf:"max_packet"`    // largest frame in bytes (WithMaxPacket)
	IdleTimeout  time.Duration `koanf:"idle_timeout"`  // close connections idle this long; 0: never (WithIdleTimeout)
	FrameTimeout time.Duration `koanf:"frame_timeout"` // a begun frame must complete this soon; 0: never (WithFrameTimeout)
	WriteTimeout time.Duration `koanf:"write_timeout"` // a peer that takes no bytes this long is dropped (WithWriteTimeout)
	MaxConns     int           `koanf:"max_conns"`     // open connections; 0: no bound (WithMaxConns)
	MaxConnsIP   int           `koanf:"max_conns_per_ip"`
	MemoryBudget int64         `koanf:"memory_budget"` // bytes in frames and write queues (WithMemoryBudget)

	// Defaults of every servant (WithMaxInvoke, WithMaxQueue, WithQueueTimeout).
	MaxInvoke    int           `koanf:"max_invoke"`
	QueueCap     int           `koanf:"queue_cap"`
	QueueTimeout time.Duration `koanf:"queue_timeout"`

	TLS  TLS        `koanf:"tls"`  // the certificate of ssl endpoints without their own
	Tars TarsServer `koanf:"tars"` // TarsGo keys gotars keeps but does not use
}

// TarsServer holds the server keys TarsGo reads that have no gotars
// meaning; they are kept so that a TARS file loses nothing.
type TarsServer struct {
	AcceptTimeout  time.Duration `koanf:"accept_timeout"`
	ReadTimeout    time.Duration `koanf:"read_timeout"`
	WriteTimeout   time.Duration `koanf:"write_timeout"`
	HandleTimeout  time.Duration `koanf:"handle_timeout"`
	ZombieTimeout  time.Duration `koanf:"zombie_timeout"`
	TCPReadBuffer  int           `koanf:"tcp_read_buffer"`
	TCPWriteBuffer int           `koanf:"tcp_write_buffer"`
	TCPNoDelay     bool          `koanf:"tcp_no_delay"`
	MaxRoutine     int           `koanf:"max_routine"`
	MainLoopTicker time.Duration `koanf:"main_loop_ticker"`
	StatChannelLen int           `koanf:"stat_report_channel_buf_len"`
	SampleRate     float64       `koanf:"sample_rate"`
	SampleType     string        `koanf:"sample_type"`
	SampleAddress  string        `koanf:"sample_address"`
	SampleEncoding string        `koanf:"sample_encoding"`
}

// Servant is one served object: a TARS adapter. Zero limits take the
// server-wide values.
type Servant struct {
	Adapter      string        `koanf:"adapter"`       // TARS adapter name; default <servant>Adapter
	Endpoint     string        `koanf:"endpoint"`      // TARS syntax: "tcp -h 0.0.0.0 -p 18015 -t 60000"
	Protocol     string        `koanf:"protocol"`      // "tars" (default) or "not_tars"
	MaxInvoke    int           `koanf:"max_invoke"`    // handlers running at once
	QueueCap     int           `koanf:"queue_cap"`     // requests waiting for a handler
	QueueTimeout time.Duration `koanf:"queue_timeout"` // the longest a request waits
	MaxConns     int           `koanf:"max_conns"`     // open connections of this adapter (data: gotars bounds the server)
	IdleTimeout  time.Duration `koanf:"idle_timeout"`  // data: the server-wide idle timeout applies
	Threads      int           `koanf:"threads"`       // TARS threads, kept as data (TarsGo ignores it)
	TLS          TLS           `koanf:"tls"`           // for an ssl endpoint
	// RateLimit bounds the calls of the servant, Methods' those of its
	// methods (both apply); over them the server answers −9 before
	// queueing (tars.WithAdmission with middleware/ratelimit).
	RateLimit RateLimit                `koanf:"rate_limit"`
	Methods   map[string]ServantMethod `koanf:"methods"` // by method name
}

// ServantMethod is what a server applies to the calls of one method.
type ServantMethod struct {
	RateLimit RateLimit `koanf:"rate_limit"`
}

// RateLimit is a token bucket: Rate calls a second, bursts of Burst.
type RateLimit struct {
	Rate  float64 `koanf:"rate"`  // calls a second; 0: no limit
	Burst int     `koanf:"burst"` // bucket size; 0: the rate rounded up (at least 1)
}

// ClientRateLimit is a RateLimit on calls a client makes, which may wait
// for a token.
type ClientRateLimit struct {
	Rate  float64       `koanf:"rate"`  // calls a second; 0: no limit
	Burst int           `koanf:"burst"` // bucket size; 0: the rate rounded up (at least 1)
	Wait  time.Duration `koanf:"wait"`  // wait up to this for a token (within the call's deadline); 0: fail at once
}

// TLS names the files of a TLS configuration.
type TLS struct {
	Key          string `koanf:"key"`           // PEM private key file
	Cert         string `koanf:"cert"`          // PEM certificate file
	CA           string `koanf:"ca"`            // PEM CA bundle: a server verifies clients, a client the server
	VerifyClient bool   `koanf:"verify_client"` // a server requires and verifies client certificates
	Ciphers      string `koanf:"ciphers"`       // TarsGo's cipher list, kept as data
}

// Client holds what every client of the application shares, and the
// per-object settings.
type Client struct {
	Locator          string            `koanf:"locator"`            // TARS registry (QueryObj) object
	Consul           string            `koanf:"consul"`             // Consul agent address (host:port), instead of a locator
	ModuleName       string            `koanf:"module_name"`        // the caller's name in stat reports (TARS modulename)
	SetDivision      string            `koanf:"set_division"`       // the TARS set (name.area.group); empty: none
	Timeout          time.Duration     `koanf:"timeout"`            // per call without a deadline (WithTimeout; TARS async-invoke-timeout)
	DialTimeout      time.Duration     `koanf:"dial_timeout"`       // WithDialTimeout
	IdleTimeout      time.Duration     `koanf:"idle_timeout"`       // WithIdleTimeout (TARS clientidletimeout)
	WriteTimeout     time.Duration     `koanf:"write_timeout"`      // WithWriteTimeout (TARS clientwritetimeout)
	RefreshInterval  time.Duration     `koanf:"refresh_interval"`   // how often endpoints are asked of the registry
	ConnsPerEndpoint int               `koanf:"conns_per_endpoint"` // WithConnsPerEndpoint
	MaxInflight      int               `koanf:"max_inflight"`       // WithMaxInflight
	Balancer         string            `koanf:"balancer"`           // round_robin, random, mod_hash, consistent_hash
	TLS              TLS               `koanf:"tls"`                // for ssl endpoints
	Objects          map[string]Object `koanf:"objects"`            // by servant name; "*" applies to every object
	Tars             TarsClient        `koanf:"tars"`               // TarsGo keys gotars keeps but does not use
}

// TarsClient holds the client keys TarsGo reads that have no gotars meaning.
type TarsClient struct {
	ReportInterval      time.Duration `koanf:"report_interval"`
	CheckStatusInterval time.Duration `koanf:"check_status_interval"`
	KeepAliveInterval   time.Duration `koanf:"keep_alive_interval"`
	QueueLen            int           `koanf:"queue_len"`
	ReadTimeout         time.Duration `koanf:"read_timeout"`
	ReqDefaultTimeout   time.Duration `koanf:"req_default_timeout"`
	ObjQueueMax         int           `koanf:"obj_queue_max"`
}

// Object is the configuration of the clients of one servant.
type Object struct {
	Endpoints string            `koanf:"endpoints"` // static endpoints, TARS syntax joined by ':'; empty: discovery
	Timeout   time.Duration     `koanf:"timeout"`   // overrides Client.Timeout
	Balancer  string            `koanf:"balancer"`  // overrides Client.Balancer
	TLS       TLS               `koanf:"tls"`       // TarsGo's <client><Obj> ca/cert/key
	Methods   map[string]Method `koanf:"methods"`   // by method name; "*" applies to every method
	// EndpointBreaker is a circuit breaker per endpoint of the object: an
	// open one sends calls to other endpoints (middleware/breaker).
	EndpointBreaker Breaker `koanf:"endpoint_breaker"`
	// RateLimit bounds the calls the application makes to the object.
	RateLimit ClientRateLimit `koanf:"rate_limit"`
}

// Method is the policy of calls to one method.
type Method struct {
	Timeout time.Duration `koanf:"timeout"` // overrides the object's timeout
	Breaker Breaker       `koanf:"breaker"`
	Retry   Retry         `koanf:"retry"`
	Hedge   Hedge         `koanf:"hedge"`
}

// Breaker is a circuit breaker policy (gobreaker's settings).
type Breaker struct {
	Enabled      bool          `koanf:"enabled"`
	MaxRequests  int           `koanf:"max_requests"`  // calls let through while half-open
	Interval     time.Duration `koanf:"interval"`      // closed-state counting window, rolling by tenths; 0: the default (10 s)
	Timeout      time.Duration `koanf:"timeout"`       // open → half-open after this
	FailureRatio float64       `koanf:"failure_ratio"` // trip at this ratio of failures ...
	MinRequests  int           `koanf:"min_requests"`  // ... once this many calls were counted
}

// Retry is a retry policy (middleware/retry), for methods declared
// idempotent only.
type Retry struct {
	MaxAttempts    int           `koanf:"max_attempts"`    // including the first; 0 or 1: no retry
	AttemptTimeout time.Duration `koanf:"attempt_timeout"` // each attempt, within the call's deadline; 0: none
	Backoff        time.Duration `koanf:"backoff"`         // first pause, doubled each attempt
	MaxBackoff     time.Duration `koanf:"max_backoff"`
	Codes          []int         `koanf:"codes"` // TARS return codes retried besides connect errors and timeouts
}

// Hedge is a policy of backup requests (middleware/retry), for methods
// declared idempotent only.
type Hedge struct {
	Delay       time.Duration `koanf:"delay"`        // a backup after this long; 0 with percentile: the observed latency
	Percentile  float64       `koanf:"percentile"`   // the observed latency's percentile (0 < p < 1) when delay is 0
	MaxAttempts int           `koanf:"max_attempts"` // including the first; 0: 2 once delay or percentile is set
}

// Observability configures metrics, tracing and TARS reporting.
type Observability struct {
	MetricsAddress   string        `koanf:"metrics_address"`    // where Prometheus scrapes; empty: no endpoint
	TraceExporter    string        `koanf:"trace_exporter"`     // "", "otlp" or "stdout"
	TraceEndpoint    string        `koanf:"trace_endpoint"`     // the OTLP collector address
	TraceSampleRatio float64       `koanf:"trace_sample_ratio"` // 0..1
	StatObj          string        `koanf:"stat_obj"`           // StatF object (tars.tarsstat.StatObj); empty: no stat reports
	PropertyObj      string        `koanf:"property_obj"`       // PropertyF object
	StatInterval     time.Duration `koanf:"stat_interval"`      // TARS statreportinterval
	PropertyInterval time.Duration `koanf:"property_interval"`  // TARS propertyreportinterval
}

// Log configures logging.
type Log struct {
	Level string `koanf:"level"` // debug, info, warn, error or none (TARS DEBUG/INFO/WARN/ERROR/NONE too)
	Path  string `koanf:"path"`  // directory of log files (TARS logpath); empty: stderr
	Size  int64  `koanf:"size"`  // bytes before a log file rolls (TARS logsize)
	Num   int    `koanf:"num"`   // rolled files kept (TARS lognum)
}

// Default returns the configuration of an application that sets nothing:
// gotars' defaults (the root package's Default constants).
func Default() Config {
	return Config{
		Server: Server{
			GraceTimeout: 10 * time.Second,
			MaxPacket:    tars.DefaultMaxPacket,
			IdleTimeout:  tars.DefaultIdleTimeout,
			FrameTimeout: tars.DefaultFrameTimeout,
			WriteTimeout: tars.DefaultWriteTimeout,
			MemoryBudget: tars.DefaultMemoryBudget,
			MaxInvoke:    tars.DefaultMaxInvoke,
			QueueCap:     tars.DefaultMaxQueue,
			QueueTimeout: tars.DefaultQueueTimeout,
			Tars: TarsServer{ // TarsGo's defaults (tars/setting.go), kept as data
				AcceptTimeout: 500 * time.Millisecond, ZombieTimeout: 10 * time.Second,
				TCPReadBuffer: 128 << 20, TCPWriteBuffer: 128 << 20, MainLoopTicker: 10 * time.Second,
				StatChannelLen: 100000, SampleEncoding: "json",
			},
		},
		Client: Client{
			Timeout:          tars.DefaultTimeout,
			DialTimeout:      tars.DefaultDialTimeout,
			IdleTimeout:      tars.DefaultClientIdle,
			WriteTimeout:     tars.DefaultWriteTimeout,
			RefreshInterval:  60 * time.Second,
			ConnsPerEndpoint: tars.DefaultConns,
			MaxInflight:      tars.DefaultMaxInflight,
			Balancer:         "round_robin",
			Tars: TarsClient{ // TarsGo's defaults, kept as data
				ReportInterval: 5 * time.Second, CheckStatusInterval: time.Second, QueueLen: 10000,
				ReadTimeout: 100 * time.Millisecond, ReqDefaultTimeout: 3 * time.Second, ObjQueueMax: 100000,
			},
		},
		Observability: Observability{
			TraceSampleRatio: 1,
			StatInterval:     10 * time.Second,
			PropertyInterval: 10 * time.Second,
		},
		Log: Log{Level: "info", Size: 100 << 20, Num: 10},
	}
}

// Clone returns a deep copy of c: its maps and lists are its own.
func (c Config) Clone() Config {
	if c.Servants != nil {
		s := make(map[string]Servant, len(c.Servants))
		for k, v := range c.Servants {
			s[k] = v
		}
		c.Servants = s
	}
	c.Client = c.Client.Clone()
	return c
}

// Clone returns a deep copy of c: its maps and lists are its own.
func (c Client) Clone() Client {
	if c.Objects != nil {
		objs := make(map[string]Object, len(c.Objects))
		for k, o := range c.Objects {
			if o.Methods != nil {
				ms := make(map[string]Method, len(o.Methods))
				for name, m := range o.Methods {
					m.Retry.Codes = append([]int(nil), m.Retry.Codes...)
					ms[name] = m
				}
				o.Methods = ms
			}
			objs[k] = o
		}
		c.Objects = objs
	}
	return c
}
