package tarsotel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotars/tars"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/rpcconv"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// ScopeName is the instrumentation scope of the tracer and meter the
// middleware makes: the module path.
const ScopeName = "github.com/gotars/tars/middleware/tarsotel"

// Version is the instrumentation scope's version.
const Version = "0.1.0"

// SystemName is the value of rpc.system.name on every span and measurement.
const SystemName = "tars"

// maxCodes bounds the attribute sets cached per method: return codes beyond
// the first maxCodes seen are built per call.
const maxCodes = 64

// maxMethods bounds the methods whose names and attributes are cached;
// calls of methods beyond it (a client calling names it is given) build
// them per call.
const maxMethods = 1024

// maxPeers bounds the client peer attributes cached per method and code;
// past it the cache starts again empty (reconnects to new addresses fill
// it).
const maxPeers = 256

var systemAttr = semconv.RPCSystemNameKey.String(SystemName)

// NewMiddleware returns middleware that traces and measures each call, for
// server chains and client chains alike (tars.WithMiddleware; Call.Server
// tells them apart). It starts nothing; an error means an instrument could
// not be made. With neither a tracer provider nor a meter provider set (or
// both no-op), it returns a middleware that only calls next.
//
// On a client put it first (outermost): its span covers the whole call,
// retries included, as the semantic conventions ask, and it writes the
// trace context into the status map before the request is encoded (once,
// for every attempt). Where the call went is read from Call.Endpoint and
// Call.Peer once it returns (the last endpoint tried); EndpointMiddleware,
// in the per-attempt chain (tars.WithEndpointMiddleware), also records
// every attempt.
//
// Without a tracer provider nothing is propagated either: a server with
// metrics only does not pass its caller's trace context on.
func NewMiddleware(opts ...Option) (tars.Middleware, error) {
	cfg := newConfig(opts)
	m := &instr{prop: cfg.prop, filter: cfg.filter, serverErr: cfg.serverErr,
		public: cfg.public, serverPeer: cfg.serverPeer}
	if m.serverErr == nil {
		m.serverErr = func(c tars.Code) bool { return c < 0 }
	}
	if _, noop := cfg.tp.(tracenoop.TracerProvider); !noop && !cfg.noTracing {
		m.tracer = cfg.tp.Tracer(ScopeName, trace.WithInstrumentationVersion(Version),
			trace.WithSchemaURL(semconv.SchemaURL))
	}
	if _, noop := cfg.mp.(metricnoop.MeterProvider); !noop && !cfg.noMetrics {
		meter := cfg.mp.Meter(ScopeName, metric.WithInstrumentationVersion(Version),
			metric.WithSchemaURL(semconv.SchemaURL))
		// Made here rather than with rpcconv.New*CallDuration: those append
		// their own bucket option after the caller's, so buckets could not
		// be chosen.
		var err error
		var sd rpcconv.ServerCallDuration
		m.serverDur, err = meter.Float64Histogram(sd.Name(), metric.WithUnit(sd.Unit()),
			metric.WithDescription(sd.Description()), metric.WithExplicitBucketBoundaries(cfg.buckets...))
		if err != nil {
			return nil, fmt.Errorf("tarsotel: %s: %w", sd.Name(), err)
		}
		var cd rpcconv.ClientCallDuration
		m.clientDur, err = meter.Float64Histogram(cd.Name(), metric.WithUnit(cd.Unit()),
			metric.WithDescription(cd.Description()), metric.WithExplicitBucketBoundaries(cfg.buckets...))
		if err != nil {
			return nil, fmt.Errorf("tarsotel: %s: %w", cd.Name(), err)
		}
	}
	if m.tracer == nil && m.serverDur == nil {
		return func(next tars.Invoker) tars.Invoker { return next }, nil
	}
	m.spanAttrs = cfg.spanAttrs
	m.metricAttrs = cfg.metricAttrs
	empty := map[methodKey]*methodInfo{}
	m.methods.Store(&empty)
	return m.wrap, nil
}

type instr struct {
	tracer               trace.Tracer            // nil: no tracing
	serverDur, clientDur metric.Float64Histogram // nil: no metrics
	prop                 propagation.TextMapPropagator
	filter               func(*tars.Call) bool
	serverErr            func(tars.Code) bool
	public, serverPeer   bool
	spanAttrs            []attribute.KeyValue
	metricAttrs          []attribute.KeyValue

	mu      sync.Mutex // serializes the writers of methods
	methods atomic.Pointer[map[methodKey]*methodInfo]
}

type methodKey struct {
	servant, method string
	server          bool
}

// methodInfo is what a method's calls share: the span name, the options a
// span starts with, and the attributes per return code.
type methodInfo struct {
	name      string
	method    attribute.KeyValue
	startOpts []trace.SpanStartOption
	mu        sync.Mutex
	codes     atomic.Pointer[map[tars.Code]*codeInfo]
}

// codeInfo is what the calls of one method that ended with one code share.
type codeInfo struct {
	failed     bool
	spanAttrs  []attribute.KeyValue // rpc.system.name, rpc.method, rpc.response.status_code, error.type, WithSpanAttributes
	recordOpts []metric.RecordOption
	mu         sync.Mutex
	peers      atomic.Pointer[map[peerKey][]attribute.KeyValue] // spanAttrs and a client's endpoint attributes
}

// peerKey identifies where a client call went: the endpoint as configured
// (Call.Endpoint) and the address connected to (Call.Peer).
type peerKey struct {
	host string
	port int
	peer netip.AddrPort
}

// withPeer returns spanAttrs with the server.* and network.peer.*
// attributes of where a client call went, cached for maxPeers places.
func (ci *codeInfo) withPeer(call *tars.Call) []attribute.KeyValue {
	if call.Peer == nil && call.Endpoint.Host == "" {
		return ci.spanAttrs
	}
	ap, ok := addrPort(call.Peer)
	if !ok && call.Peer != nil {
		return append(ci.spanAttrs[:len(ci.spanAttrs):len(ci.spanAttrs)], endpointAttrs(call)...)
	}
	k := peerKey{call.Endpoint.Host, call.Endpoint.Port, ap}
	if p := ci.peers.Load(); p != nil {
		if attrs, ok := (*p)[k]; ok {
			return attrs
		}
	}
	attrs := append(ci.spanAttrs[:len(ci.spanAttrs):len(ci.spanAttrs)], endpointAttrs(call)...)
	ci.mu.Lock()
	defer ci.mu.Unlock()
	var old map[peerKey][]attribute.KeyValue
	if p := ci.peers.Load(); p != nil {
		old = *p
	}
	next := make(map[peerKey][]attribute.KeyValue, len(old)+1)
	if len(old) < maxPeers {
		for k, v := range old {
			next[k] = v
		}
	}
	next[k] = attrs
	ci.peers.Store(&next)
	return attrs
}

func (m *instr) wrap(next tars.Invoker) tars.Invoker {
	return func(ctx context.Context, call *tars.Call) error {
		if m.filter != nil && !m.filter(call) {
			return next(ctx, call)
		}
		if call.Server {
			return m.server(ctx, call, next)
		}
		return m.client(ctx, call, next)
	}
}

func (m *instr) client(ctx context.Context, call *tars.Call, next tars.Invoker) error {
	mi := m.method(call)
	var span trace.Span
	if m.tracer != nil {
		ctx, span = m.tracer.Start(ctx, mi.name, mi.startOpts...)
		m.prop.Inject(ctx, (*statusCarrier)(call))
	}
	clock := m.startClock(span, m.clientDur)
	err := next(ctx, call)
	code := tars.CodeOf(err)
	ci := m.code(mi, code, code != tars.CodeSuccess)
	if span != nil {
		if span.IsRecording() {
			// One SetAttributes: each call may grow the span's slice.
			span.SetAttributes(ci.withPeer(call)...)
			if ci.failed && err != nil {
				span.SetStatus(codes.Error, err.Error())
			}
		}
		span.End()
	}
	if m.clientDur != nil {
		m.clientDur.Record(ctx, clock.seconds(), ci.recordOpts...)
	}
	return err
}

func (m *instr) server(ctx context.Context, call *tars.Call, next tars.Invoker) error {
	mi := m.method(call)
	var span trace.Span
	if m.tracer != nil {
		if m.public {
			remote := trace.SpanContextFromContext(m.prop.Extract(context.Background(), (*statusCarrier)(call)))
			opts := mi.startOpts
			if remote.IsValid() {
				opts = append(opts[:len(opts):len(opts)], trace.WithLinks(trace.Link{SpanContext: remote}))
			}
			ctx, span = m.tracer.Start(ctx, mi.name, append(opts, trace.WithNewRoot())...)
		} else {
			if len(call.Status) > 0 {
				ctx = m.prop.Extract(ctx, (*statusCarrier)(call))
			}
			ctx, span = m.tracer.Start(ctx, mi.name, mi.startOpts...)
		}
	}
	clock := m.startClock(span, m.serverDur)
	err := next(ctx, call)
	code := tars.CodeOf(err)
	ci := m.code(mi, code, m.serverErr(code))
	if span != nil {
		if span.IsRecording() {
			if m.serverPeer && call.Peer != nil {
				span.SetAttributes(append(ci.spanAttrs[:len(ci.spanAttrs):len(ci.spanAttrs)], peerAttrs(call.Peer)...)...)
			} else {
				span.SetAttributes(ci.spanAttrs...)
			}
			if ci.failed && err != nil {
				span.SetStatus(codes.Error, err.Error())
			}
		}
		span.End()
	}
	if m.serverDur != nil {
		m.serverDur.Record(ctx, clock.seconds(), ci.recordOpts...)
	}
	return err
}

// timedSpan is a span that knows when it started and ended: the SDK's
// recording spans.
type timedSpan interface {
	StartTime() time.Time
	EndTime() time.Time
}

// clock times a call for its duration histogram: with the span's own start
// and end times when the span records them (the measurement then equals the
// span's duration, as the conventions ask, and costs no clock reads), else
// with time.Now.
type clock struct {
	span  timedSpan
	start time.Time
}

func (m *instr) startClock(span trace.Span, h metric.Float64Histogram) clock {
	if h == nil {
		return clock{}
	}
	if ts, ok := span.(timedSpan); ok && span.IsRecording() {
		return clock{span: ts}
	}
	return clock{start: time.Now()}
}

// seconds returns the time since the clock started; for a span, the span's
// duration (call it after End).
func (c clock) seconds() float64 {
	if c.span != nil {
		return c.span.EndTime().Sub(c.span.StartTime()).Seconds()
	}
	return time.Since(c.start).Seconds()
}

// method returns the shared information of call's method, made on first
// use. The map is copied on write: reads take no lock.
func (m *instr) method(call *tars.Call) *methodInfo {
	k := methodKey{call.Servant, call.Method, call.Server}
	if mi, ok := (*m.methods.Load())[k]; ok {
		return mi
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.methods.Load()
	if mi, ok := old[k]; ok {
		return mi
	}
	mi := newMethod(call)
	if len(old) >= maxMethods {
		return mi
	}
	next := make(map[methodKey]*methodInfo, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[k] = mi
	m.methods.Store(&next)
	return mi
}

func newMethod(call *tars.Call) *methodInfo {
	name := call.Servant + "/" + call.Method
	kind := trace.SpanKindClient
	if call.Server {
		kind = trace.SpanKindServer
	}
	mi := &methodInfo{name: name, method: semconv.RPCMethod(name)}
	// The attributes are set once, when the call ends: passed at the start
	// they would cost two allocations more per span (the SDK copies the
	// option's slice, then its own grows again at the end). Samplers see
	// the span name, which is rpc.method, and the kind.
	mi.startOpts = []trace.SpanStartOption{trace.WithSpanKind(kind)}
	codes := map[tars.Code]*codeInfo{}
	mi.codes.Store(&codes)
	return mi
}

// code returns the attributes of mi's calls that ended with code, cached
// for the first maxCodes codes.
func (m *instr) code(mi *methodInfo, code tars.Code, failed bool) *codeInfo {
	if ci, ok := (*mi.codes.Load())[code]; ok && ci.failed == failed {
		return ci
	}
	ci := m.newCode(mi, code, failed)
	mi.mu.Lock()
	defer mi.mu.Unlock()
	old := *mi.codes.Load()
	if len(old) >= maxCodes {
		return ci
	}
	next := make(map[tars.Code]*codeInfo, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[code] = ci
	mi.codes.Store(&next)
	return ci
}

func (m *instr) newCode(mi *methodInfo, code tars.Code, failed bool) *codeInfo {
	s := strconv.Itoa(int(code))
	attrs := []attribute.KeyValue{systemAttr, mi.method, semconv.RPCResponseStatusCode(s)}
	if failed {
		attrs = append(attrs, semconv.ErrorTypeKey.String(s))
	}
	ci := &codeInfo{failed: failed}
	if m.serverDur != nil {
		set := attribute.NewSet(append(attrs[:len(attrs):len(attrs)], m.metricAttrs...)...)
		ci.recordOpts = []metric.RecordOption{metric.WithAttributeSet(set)}
	}
	ci.spanAttrs = append(attrs, m.spanAttrs...)
	return ci
}

func addrPort(addr net.Addr) (netip.AddrPort, bool) {
	switch a := addr.(type) {
	case *net.TCPAddr:
		return a.AddrPort(), true
	case *net.UDPAddr:
		return a.AddrPort(), true
	}
	return netip.AddrPort{}, false
}

// endpointAttrs returns server.address and server.port, of the endpoint as
// configured (Call.Endpoint) or else of the peer, and network.peer.address
// and network.peer.port, of the peer connected to.
func endpointAttrs(call *tars.Call) []attribute.KeyValue {
	peer := peerAttrs(call.Peer)
	attrs := make([]attribute.KeyValue, 0, 2+len(peer))
	switch {
	case call.Endpoint.Host != "":
		attrs = append(attrs, semconv.ServerAddress(call.Endpoint.Host))
		if call.Endpoint.Port > 0 {
			attrs = append(attrs, semconv.ServerPort(call.Endpoint.Port))
		}
	case len(peer) > 0:
		attrs = append(attrs, semconv.ServerAddress(peer[0].Value.AsString()))
		if len(peer) > 1 {
			attrs = append(attrs, semconv.ServerPort(int(peer[1].Value.AsInt64())))
		}
	}
	return append(attrs, peer...)
}

// peerAttrs returns network.peer.address and, when known,
// network.peer.port of addr; nil for a nil address.
func peerAttrs(addr net.Addr) []attribute.KeyValue {
	if addr == nil {
		return nil
	}
	var host string
	port := -1
	if ap, ok := addrPort(addr); ok {
		host, port = ap.Addr().Unmap().String(), int(ap.Port())
	} else {
		host = addr.String()
		if h, p, err := net.SplitHostPort(host); err == nil {
			if n, err := strconv.Atoi(p); err == nil {
				host, port = h, n
			}
		}
	}
	if port < 0 {
		return []attribute.KeyValue{semconv.NetworkPeerAddress(host)}
	}
	return []attribute.KeyValue{semconv.NetworkPeerAddress(host), semconv.NetworkPeerPort(port)}
}

// statusCarrier carries trace context in a call's request status map: a
// propagation.TextMapCarrier over tars.Call.
type statusCarrier tars.Call

var _ propagation.TextMapCarrier = (*statusCarrier)(nil)

// Get returns the status entry key ("" when absent).
func (c *statusCarrier) Get(key string) string { return c.Status[key] }

// Set sets the status entry key, making the map if there is none.
func (c *statusCarrier) Set(key, value string) { (*tars.Call)(c).SetStatus(key, value) }

// Keys returns the status map's keys.
func (c *statusCarrier) Keys() []string {
	keys := make([]string, 0, len(c.Status))
	for k := range c.Status {
		keys = append(keys, k)
	}
	return keys
}

// EndpointMiddleware returns middleware for a client's per-attempt chain
// (tars.WithEndpointMiddleware), which runs after an endpoint is picked,
// with Call.Endpoint and Call.Peer set. It adds an event "tars.attempt" to
// the call's client span, made by NewMiddleware's middleware in the client
// chain, for every attempt: server.address, server.port,
// network.peer.address and network.peer.port of the attempt's endpoint, its
// rpc.response.status_code and, if it failed, error.type (the code, or
// "endpoint_unavailable" when a middleware further in passed the endpoint
// over with tars.ErrEndpointUnavailable). Without a recording span in the
// context it only calls next.
func EndpointMiddleware() tars.Middleware {
	return func(next tars.Invoker) tars.Invoker {
		return func(ctx context.Context, call *tars.Call) error {
			span := trace.SpanFromContext(ctx)
			if call.Server || !span.IsRecording() {
				return next(ctx, call)
			}
			err := next(ctx, call)
			code := strconv.Itoa(int(tars.CodeOf(err)))
			attrs := append(endpointAttrs(call), semconv.RPCResponseStatusCode(code))
			switch {
			case errors.Is(err, tars.ErrEndpointUnavailable):
				attrs = append(attrs[:len(attrs)-1], semconv.ErrorTypeKey.String("endpoint_unavailable"))
			case err != nil:
				attrs = append(attrs, semconv.ErrorTypeKey.String(code))
			}
			span.AddEvent("tars.attempt", trace.WithAttributes(attrs...))
			return err
		}
	}
}
