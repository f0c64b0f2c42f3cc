package tarsotel

import (
	"github.com/gotars/tars"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// DurationBuckets returns the default bucket boundaries, in seconds, of the
// call-duration histograms: those the semantic conventions v1.43.0 give
// rpc.server.call.duration and rpc.client.call.duration (5 ms to 10 s).
func DurationBuckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
}

// An Option configures NewMiddleware.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	tp          trace.TracerProvider
	mp          metric.MeterProvider
	prop        propagation.TextMapPropagator
	filter      func(*tars.Call) bool
	spanAttrs   []attribute.KeyValue
	metricAttrs []attribute.KeyValue
	buckets     []float64
	serverErr   func(tars.Code) bool
	public      bool
	serverPeer  bool
	noTracing   bool
	noMetrics   bool
}

func newConfig(opts []Option) config {
	c := config{
		tp:      tracenoop.NewTracerProvider(),
		mp:      metricnoop.NewMeterProvider(),
		prop:    propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		buckets: DurationBuckets(),
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

// WithTracerProvider sets the provider of the middleware's tracer. Without
// it (and without WithGlobalProviders) the middleware makes no spans.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) {
		if tp != nil {
			c.tp = tp
		}
	})
}

// WithMeterProvider sets the provider of the middleware's meter. Without it
// (and without WithGlobalProviders) the middleware records no metrics.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) {
		if mp != nil {
			c.mp = mp
		}
	})
}

// WithPropagators sets how trace context and baggage travel in the
// request's status map. The default is W3C Trace Context and W3C Baggage
// (the keys traceparent, tracestate and baggage), not otel's global
// propagator.
func WithPropagators(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c *config) {
		if p != nil {
			c.prop = p
		}
	})
}

// WithGlobalProviders uses the otel package's global tracer provider, meter
// provider and propagator (otel.GetTracerProvider, otel.GetMeterProvider,
// otel.GetTextMapPropagator), read once by NewMiddleware. Options given
// after it override each.
func WithGlobalProviders() Option {
	return optionFunc(func(c *config) {
		c.tp, c.mp, c.prop = otel.GetTracerProvider(), otel.GetMeterProvider(), otel.GetTextMapPropagator()
	})
}

// WithFilter instruments only the calls for which keep returns true; the
// others pass through untouched (no span, no measurement, no propagation).
// Filters are called on every call, before anything else: keep them cheap.
// SkipPing is one.
func WithFilter(keep func(call *tars.Call) bool) Option {
	return optionFunc(func(c *config) { c.filter = keep })
}

// SkipPing is a filter for WithFilter that leaves out the framework's
// tars_ping calls (health checks).
func SkipPing(call *tars.Call) bool { return call.Method != "tars_ping" }

// WithSpanAttributes adds attributes to every span, at its start.
func WithSpanAttributes(attrs ...attribute.KeyValue) Option {
	return optionFunc(func(c *config) { c.spanAttrs = append(c.spanAttrs, attrs...) })
}

// WithMetricAttributes adds attributes to every measurement. They multiply
// the number of series: keep them of low cardinality.
func WithMetricAttributes(attrs ...attribute.KeyValue) Option {
	return optionFunc(func(c *config) { c.metricAttrs = append(c.metricAttrs, attrs...) })
}

// WithDurationBuckets sets the bucket boundaries, in seconds, of both
// call-duration histograms (default DurationBuckets()).
func WithDurationBuckets(bounds ...float64) Option {
	return optionFunc(func(c *config) { c.buckets = append([]float64(nil), bounds...) })
}

// WithServerErrorCodes decides which return codes count as failures on the
// server side: span status Error and error.type. The default counts the
// negative codes (the framework's) and no positive one (a service's own
// answers). The client side counts every non-zero code.
func WithServerErrorCodes(failed func(tars.Code) bool) Option {
	return optionFunc(func(c *config) { c.serverErr = failed })
}

// WithPublicEndpoint makes server spans roots of new traces, linked to the
// caller's span context instead of children of it: for servers that take
// calls from outside the estate, whose trace context is not to be trusted.
func WithPublicEndpoint() Option {
	return optionFunc(func(c *config) { c.public = true })
}

// WithServerPeerAttributes adds network.peer.address and network.peer.port
// (the caller's address) to server spans. They are off by default: they
// cost an allocation or two per call.
func WithServerPeerAttributes() Option {
	return optionFunc(func(c *config) { c.serverPeer = true })
}

// WithoutTracing makes no spans and propagates nothing: a server does not
// read the caller's trace context, a client writes none. Use it only where
// no trace is to cross the service.
func WithoutTracing() Option {
	return optionFunc(func(c *config) { c.noTracing = true })
}

// WithoutMetrics records no call durations.
func WithoutMetrics() Option {
	return optionFunc(func(c *config) { c.noMetrics = true })
}
