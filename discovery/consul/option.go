package consul

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// ResolverOption configures a Resolver. Options are values: they can be
// printed and kept in slices.
type ResolverOption interface {
	applyResolver(*resolverConfig)
}

// RegistrarOption configures a Registrar.
type RegistrarOption interface {
	applyRegistrar(*registrarConfig)
}

// Option configures both a Resolver and a Registrar.
type Option interface {
	ResolverOption
	RegistrarOption
}

// EmptyPolicy says what a Resolver does with an answer that has no endpoint
// to call (every instance deregistered, or none passing its checks).
type EmptyPolicy int

const (
	// PublishEmpty publishes the empty set: Consul's answer is the truth,
	// and no call goes to an endpoint Consul no longer lists. The default.
	PublishEmpty EmptyPolicy = iota
	// KeepLastGood keeps publishing the last non-empty set, with State.Err
	// wrapping ErrEmpty, as TARS clients do with their registry's empty
	// answers: a Consul glitch cannot drain a client, but a service whose
	// instances are all gone stays listed until one comes back.
	KeepLastGood
)

// String returns the policy's name.
func (p EmptyPolicy) String() string {
	switch p {
	case PublishEmpty:
		return "PublishEmpty"
	case KeepLastGood:
		return "KeepLastGood"
	}
	return fmt.Sprintf("EmptyPolicy(%d)", int(p))
}

// Resolver defaults.
const (
	DefaultWaitTime    = 5 * time.Minute        // how long one blocking query waits (Consul's own default)
	DefaultMinInterval = time.Second            // the pace of queries beyond a burst of two
	DefaultBackoffMin  = 500 * time.Millisecond // the first back-off after a failed query
	DefaultBackoffMax  = 30 * time.Second       // the longest back-off
)

// Registrar defaults.
const (
	DefaultCheckInterval   = 10 * time.Second // how often the agent probes the TCP (UDP) port
	DefaultCheckTimeout    = 5 * time.Second  // the probe's timeout
	DefaultDeregisterAfter = time.Minute      // a service critical this long is removed (Consul's minimum)
)

type resolverConfig struct {
	datacenter  string
	tags        []string
	passingOnly bool
	allowStale  bool
	empty       EmptyPolicy
	waitTime    time.Duration
	minInterval time.Duration
	backoffMin  time.Duration
	backoffMax  time.Duration
}

func newResolverConfig(opts []ResolverOption) resolverConfig {
	c := resolverConfig{passingOnly: true, allowStale: true, waitTime: DefaultWaitTime,
		minInterval: DefaultMinInterval, backoffMin: DefaultBackoffMin, backoffMax: DefaultBackoffMax}
	for _, o := range opts {
		o.applyResolver(&c)
	}
	return c
}

type registrarConfig struct {
	tags            []string
	ttl             time.Duration
	interval        time.Duration
	timeout         time.Duration
	deregisterAfter time.Duration
	logger          *slog.Logger
}

func newRegistrarConfig(opts []RegistrarOption) registrarConfig {
	c := registrarConfig{interval: DefaultCheckInterval, timeout: DefaultCheckTimeout,
		deregisterAfter: DefaultDeregisterAfter}
	for _, o := range opts {
		o.applyRegistrar(&c)
	}
	return c
}

type tagsOption []string

func (o tagsOption) applyResolver(c *resolverConfig)   { c.tags = append(c.tags, o...) }
func (o tagsOption) applyRegistrar(c *registrarConfig) { c.tags = append(c.tags, o...) }
func (o tagsOption) String() string                    { return "WithTags(" + strings.Join(o, ", ") + ")" }

// WithTags gives a Registrar tags to register services with, and makes a
// Resolver use only instances that carry every one of them.
func WithTags(tags ...string) Option { return tagsOption(tags) }

type datacenterOption string

func (o datacenterOption) applyResolver(c *resolverConfig) { c.datacenter = string(o) }
func (o datacenterOption) String() string                  { return fmt.Sprintf("WithDatacenter(%q)", string(o)) }

// WithDatacenter makes a Resolver resolve in datacenter dc (default: the
// agent's own).
func WithDatacenter(dc string) ResolverOption { return datacenterOption(dc) }

type passingOnlyOption bool

func (o passingOnlyOption) applyResolver(c *resolverConfig) { c.passingOnly = bool(o) }
func (o passingOnlyOption) String() string                  { return fmt.Sprintf("WithPassingOnly(%t)", bool(o)) }

// WithPassingOnly(false) makes a Resolver ask for every instance, not only
// those whose checks all pass (the default). Instances with a warning are
// then called with their warning weight (Weights.Warning; none when it is
// 0), and critical or maintenance ones are published in State.Inactive.
func WithPassingOnly(only bool) ResolverOption { return passingOnlyOption(only) }

type allowStaleOption bool

func (o allowStaleOption) applyResolver(c *resolverConfig) { c.allowStale = bool(o) }
func (o allowStaleOption) String() string                  { return fmt.Sprintf("WithAllowStale(%t)", bool(o)) }

// WithAllowStale(false) makes a Resolver's queries go to the leader rather
// than to any server (stale reads, the default, spread the load of many
// watchers over the servers; a follower is rarely more than a few
// milliseconds behind).
func WithAllowStale(stale bool) ResolverOption { return allowStaleOption(stale) }

type emptyOption EmptyPolicy

func (o emptyOption) applyResolver(c *resolverConfig) { c.empty = EmptyPolicy(o) }
func (o emptyOption) String() string                  { return "WithEmpty(" + EmptyPolicy(o).String() + ")" }

// WithEmpty sets what an answer without endpoints means (default
// PublishEmpty).
func WithEmpty(p EmptyPolicy) ResolverOption { return emptyOption(p) }

type waitTimeOption time.Duration

func (o waitTimeOption) applyResolver(c *resolverConfig) {
	c.waitTime = min(max(time.Duration(o), time.Second), 10*time.Minute)
}
func (o waitTimeOption) String() string { return fmt.Sprintf("WithWaitTime(%v)", time.Duration(o)) }

// WithWaitTime sets how long one blocking query may wait for a change
// (default DefaultWaitTime, within 1 s and Consul's 10 min). Each query's
// HTTP request is bounded by it plus Consul's jitter (wait/16) and 10 s, so
// a hung agent cannot hold a watch longer; an *api.Client with an
// http.Client Timeout needs a longer Timeout than that.
func WithWaitTime(d time.Duration) ResolverOption { return waitTimeOption(d) }

type minIntervalOption time.Duration

func (o minIntervalOption) applyResolver(c *resolverConfig) { c.minInterval = max(0, time.Duration(o)) }
func (o minIntervalOption) String() string {
	return fmt.Sprintf("WithMinInterval(%v)", time.Duration(o))
}

// WithMinInterval sets the pace a watch's queries keep when answers come
// quickly (a churning service): two queries may follow each other at once,
// then at most one per d (a token bucket with a burst of two, as Consul's
// blocking-query guide advises). Default DefaultMinInterval; 0 turns the
// limit off.
func WithMinInterval(d time.Duration) ResolverOption { return minIntervalOption(d) }

type backoffOption struct{ min, max time.Duration }

func (o backoffOption) applyResolver(c *resolverConfig) {
	c.backoffMin = max(time.Millisecond, o.min)
	c.backoffMax = max(c.backoffMin, o.max)
}
func (o backoffOption) String() string { return fmt.Sprintf("WithBackoff(%v, %v)", o.min, o.max) }

// WithBackoff sets the back-off after failed queries: the first waits about
// min, each further one twice as long up to max, each with a random part of
// up to a half (defaults DefaultBackoffMin, DefaultBackoffMax).
func WithBackoff(min, max time.Duration) ResolverOption { return backoffOption{min, max} }

type ttlOption time.Duration

func (o ttlOption) applyRegistrar(c *registrarConfig) { c.ttl = max(0, time.Duration(o)) }
func (o ttlOption) String() string                    { return fmt.Sprintf("WithTTL(%v)", time.Duration(o)) }

// WithTTL makes a Registrar register a TTL check instead of the default TCP
// check: the service stays passing only while the caller runs
// Registrar.Run (or calls Heartbeat) at least once per ttl. Use it when the
// agent cannot reach the server's port.
func WithTTL(ttl time.Duration) RegistrarOption { return ttlOption(ttl) }

type checkOption struct{ interval, timeout time.Duration }

func (o checkOption) applyRegistrar(c *registrarConfig) {
	if o.interval > 0 {
		c.interval = o.interval
	}
	if o.timeout > 0 {
		c.timeout = o.timeout
	}
}
func (o checkOption) String() string { return fmt.Sprintf("WithCheck(%v, %v)", o.interval, o.timeout) }

// WithCheck sets how often the agent probes a registered port and the
// probe's timeout (defaults DefaultCheckInterval, DefaultCheckTimeout).
func WithCheck(interval, timeout time.Duration) RegistrarOption {
	return checkOption{interval, timeout}
}

type deregisterAfterOption time.Duration

func (o deregisterAfterOption) applyRegistrar(c *registrarConfig) {
	c.deregisterAfter = max(time.Minute, time.Duration(o))
}
func (o deregisterAfterOption) String() string {
	return fmt.Sprintf("WithDeregisterAfter(%v)", time.Duration(o))
}

// WithDeregisterAfter sets how long a service may stay critical before
// Consul removes it (DeregisterCriticalServiceAfter; default and minimum 1
// min, Consul's own minimum), so a server that dies without deregistering
// leaves no ghost behind.
func WithDeregisterAfter(d time.Duration) RegistrarOption { return deregisterAfterOption(d) }

type loggerOption struct{ l *slog.Logger }

func (o loggerOption) applyRegistrar(c *registrarConfig) { c.logger = o.l }
func (o loggerOption) String() string                    { return "WithLogger" }

// WithLogger sets where Registrar.Run reports the heartbeats that failed
// (default: nowhere).
func WithLogger(l *slog.Logger) RegistrarOption { return loggerOption{l} }
