package config

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gotars/tars/internal/ident"
	"github.com/gotars/tars/transport"
)

// Balancers are the names client.balancer and an object's balancer take.
var Balancers = []string{"round_robin", "random", "mod_hash", "consistent_hash"}

// TraceExporters are the names observability.trace_exporter takes ("" is none).
var TraceExporters = []string{"", "otlp", "stdout"}

// LevelNone is the slog level of log.level "none": above every record.
const LevelNone = slog.Level(math.MaxInt32)

// ParseLevel reads a log level: debug, info, warn (or warning), error or
// none, in any case (TARS writes DEBUG, INFO, WARN, ERROR, NONE; TarsGo
// also knows TRACE, read as debug).
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug", "trace":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	case "none", "off":
		return LevelNone, nil
	}
	return 0, fmt.Errorf("bad log level %q (want debug, info, warn, error or none)", s)
}

// Validate reports every bad value of c, each as a *KeyError naming its
// key, joined with errors.Join; nil if c can be used.
func (c *Config) Validate() error {
	v := &validator{}
	s := &c.Server
	v.min("server.max_packet", int64(s.MaxPacket), 64)
	if s.MemoryBudget < int64(s.MaxPacket) {
		v.add("server.memory_budget", fmt.Errorf("%d is smaller than server.max_packet (%d)", s.MemoryBudget, s.MaxPacket))
	}
	v.positive("server.grace_timeout", s.GraceTimeout)
	v.nonNegative("server.idle_timeout", s.IdleTimeout)
	v.nonNegative("server.frame_timeout", s.FrameTimeout)
	v.nonNegative("server.write_timeout", s.WriteTimeout)
	v.min("server.max_conns", int64(s.MaxConns), 0)
	v.min("server.max_conns_per_ip", int64(s.MaxConnsIP), 0)
	v.min("server.max_invoke", int64(s.MaxInvoke), 0)
	v.min("server.queue_cap", int64(s.QueueCap), 0)
	v.nonNegative("server.queue_timeout", s.QueueTimeout)
	v.endpoint("server.local", s.Local)
	v.object("server.node", s.Node)
	v.tls("server.tls", s.TLS)

	names := make([]string, 0, len(c.Servants))
	for n := range c.Servants {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		sv := c.Servants[n]
		p := "servants." + n
		if err := checkServantName(n); err != nil {
			v.add(p, err)
			continue
		}
		if sv.Endpoint == "" {
			v.add(p+".endpoint", errors.New("missing: a servant needs an endpoint"))
		} else if a, err := transport.ParseAddress(sv.Endpoint); err != nil {
			v.add(p+".endpoint", err)
		} else if a.Network == "ssl" && (sv.TLS.Cert == "" || sv.TLS.Key == "") && (s.TLS.Cert == "" || s.TLS.Key == "") {
			v.add(p+".tls", errors.New("an ssl endpoint needs a cert and a key (here or in server.tls)"))
		}
		switch sv.Protocol {
		case "", "tars", "not_tars":
		default:
			v.add(p+".protocol", fmt.Errorf("%q: want tars or not_tars", sv.Protocol))
		}
		v.min(p+".max_invoke", int64(sv.MaxInvoke), 0)
		v.min(p+".queue_cap", int64(sv.QueueCap), 0)
		v.nonNegative(p+".queue_timeout", sv.QueueTimeout)
		v.min(p+".max_conns", int64(sv.MaxConns), 0)
		v.nonNegative(p+".idle_timeout", sv.IdleTimeout)
		v.tls(p+".tls", sv.TLS)
		v.rate(p+".rate_limit", sv.RateLimit)
		for _, m := range slices.Sorted(maps.Keys(sv.Methods)) {
			if !ident.Valid(m) {
				v.add(p+".methods."+m, fmt.Errorf("%q is not a method name", m))
				continue
			}
			v.rate(p+".methods."+m+".rate_limit", sv.Methods[m].RateLimit)
		}
	}

	cl := &c.Client
	if cl.Locator != "" && cl.Consul != "" {
		v.add("client.consul", errors.New("set client.locator or client.consul, not both"))
	}
	v.object("client.locator", cl.Locator)
	v.positive("client.timeout", cl.Timeout)
	v.positive("client.dial_timeout", cl.DialTimeout)
	v.nonNegative("client.idle_timeout", cl.IdleTimeout)
	v.positive("client.write_timeout", cl.WriteTimeout)
	v.positive("client.refresh_interval", cl.RefreshInterval)
	v.min("client.conns_per_endpoint", int64(cl.ConnsPerEndpoint), 1)
	v.min("client.max_inflight", int64(cl.MaxInflight), 1)
	v.oneOf("client.balancer", cl.Balancer, Balancers)
	v.tls("client.tls", cl.TLS)
	objs := make([]string, 0, len(cl.Objects))
	for n := range cl.Objects {
		objs = append(objs, n)
	}
	sort.Strings(objs)
	for _, n := range objs {
		o := cl.Objects[n]
		p := "client.objects." + n
		if n != "*" {
			if err := checkServantName(n); err != nil {
				v.add(p, err)
				continue
			}
		}
		if o.Endpoints != "" {
			if n == "*" {
				v.add(p+".endpoints", errors.New(`the "*" object cannot have endpoints`))
			} else if _, _, err := transport.ParseObject(n + "@" + o.Endpoints); err != nil {
				v.add(p+".endpoints", err)
			}
		}
		v.nonNegative(p+".timeout", o.Timeout)
		if o.Balancer != "" {
			v.oneOf(p+".balancer", o.Balancer, Balancers)
		}
		v.tls(p+".tls", o.TLS)
		v.breaker(p+".endpoint_breaker", o.EndpointBreaker)
		v.rate(p+".rate_limit", RateLimit{o.RateLimit.Rate, o.RateLimit.Burst})
		v.nonNegative(p+".rate_limit.wait", o.RateLimit.Wait)
		ms := make([]string, 0, len(o.Methods))
		for m := range o.Methods {
			ms = append(ms, m)
		}
		sort.Strings(ms)
		for _, m := range ms {
			v.method(p+".methods."+m, o.Methods[m])
		}
	}

	c.Observability.check(v)

	if _, err := ParseLevel(c.Log.Level); err != nil {
		v.add("log.level", err)
	}
	v.min("log.size", c.Log.Size, 0)
	v.min("log.num", int64(c.Log.Num), 0)
	return errors.Join(v.errs...)
}

// Validate checks the observability keys alone, as Config.Validate does,
// for the integrations that read only them (middleware/tarsotel/otelapp).
func (ob Observability) Validate() error {
	v := &validator{}
	ob.check(v)
	return errors.Join(v.errs...)
}

func (ob *Observability) check(v *validator) {
	v.oneOf("observability.trace_exporter", ob.TraceExporter, TraceExporters)
	if r := ob.TraceSampleRatio; math.IsNaN(r) || r < 0 || r > 1 {
		v.add("observability.trace_sample_ratio", fmt.Errorf("%v: want 0..1", r))
	}
	if ob.TraceExporter == "otlp" && ob.TraceEndpoint == "" {
		v.add("observability.trace_endpoint", errors.New("missing: the otlp exporter needs an endpoint"))
	}
	if a := ob.MetricsAddress; a != "" {
		if _, port, err := net.SplitHostPort(a); err != nil {
			v.add("observability.metrics_address", fmt.Errorf("%q: want host:port: %w", a, err))
		} else if port == "" {
			v.add("observability.metrics_address", fmt.Errorf("%q: no port", a))
		}
	}
	v.object("observability.stat_obj", ob.StatObj)
	v.object("observability.property_obj", ob.PropertyObj)
	v.positive("observability.stat_interval", ob.StatInterval)
	v.positive("observability.property_interval", ob.PropertyInterval)
}

type validator struct{ errs []error }

func (v *validator) add(key string, err error) {
	v.errs = append(v.errs, &KeyError{Key: key, Err: err})
}

func (v *validator) min(key string, n, min int64) {
	if n < min {
		v.add(key, fmt.Errorf("%d: must be at least %d", n, min))
	}
}

func (v *validator) positive(key string, d time.Duration) {
	if d <= 0 {
		v.add(key, fmt.Errorf("%v: must be positive", d))
	}
}

func (v *validator) nonNegative(key string, d time.Duration) {
	if d < 0 {
		v.add(key, fmt.Errorf("%v: must not be negative (0: none)", d))
	}
}

func (v *validator) oneOf(key, s string, set []string) {
	for _, x := range set {
		if s == x {
			return
		}
	}
	v.add(key, fmt.Errorf("%q: want one of %q", s, set))
}

func (v *validator) endpoint(key, s string) {
	if s == "" {
		return
	}
	if _, err := transport.ParseAddress(s); err != nil {
		v.add(key, err)
	}
}

// object checks a TARS object string; one without '@' (a name the
// registry resolves) is accepted.
func (v *validator) object(key, s string) {
	if s == "" {
		return
	}
	if !strings.Contains(s, "@") {
		if err := checkServantName(s); err != nil {
			v.add(key, err)
		}
		return
	}
	if _, _, err := transport.ParseObject(s); err != nil {
		v.add(key, err)
	}
}

func (v *validator) tls(key string, t TLS) {
	if (t.Cert == "") != (t.Key == "") {
		v.add(key, errors.New("cert and key go together"))
	}
	if t.VerifyClient && t.CA == "" {
		v.add(key+".verify_client", errors.New("verifying clients needs a ca"))
	}
}

func (v *validator) method(key string, m Method) {
	v.nonNegative(key+".timeout", m.Timeout)
	v.breaker(key+".breaker", m.Breaker)
	r := m.Retry
	v.min(key+".retry.max_attempts", int64(r.MaxAttempts), 0)
	v.nonNegative(key+".retry.attempt_timeout", r.AttemptTimeout)
	v.nonNegative(key+".retry.backoff", r.Backoff)
	if r.MaxBackoff != 0 && r.MaxBackoff < r.Backoff {
		v.add(key+".retry.max_backoff", fmt.Errorf("%v is less than retry.backoff (%v)", r.MaxBackoff, r.Backoff))
	}
	h := m.Hedge
	v.nonNegative(key+".hedge.delay", h.Delay)
	if h.Percentile < 0 || h.Percentile >= 1 {
		v.add(key+".hedge.percentile", fmt.Errorf("%v: want 0 ≤ p < 1", h.Percentile))
	}
	v.min(key+".hedge.max_attempts", int64(h.MaxAttempts), 0)
}

func (v *validator) breaker(key string, b Breaker) {
	if b.FailureRatio < 0 || b.FailureRatio > 1 {
		v.add(key+".failure_ratio", fmt.Errorf("%v: want 0..1", b.FailureRatio))
	}
	v.min(key+".max_requests", int64(b.MaxRequests), 0)
	v.min(key+".min_requests", int64(b.MinRequests), 0)
	v.nonNegative(key+".interval", b.Interval)
	v.nonNegative(key+".timeout", b.Timeout)
}

func (v *validator) rate(key string, r RateLimit) {
	if r.Rate < 0 || r.Rate != r.Rate {
		v.add(key+".rate", fmt.Errorf("%v: want ≥ 0", r.Rate))
	}
	v.min(key+".burst", int64(r.Burst), 0)
}

// checkServantName reports a servant name no TARS peer can call (the root
// package's rule).
func checkServantName(s string) error {
	switch {
	case s == "":
		return errors.New("empty servant name")
	case strings.ContainsAny(s, "@: \t\r\n\v\f"):
		return fmt.Errorf("servant name %q holds whitespace, '@' or ':'", s)
	}
	return nil
}
