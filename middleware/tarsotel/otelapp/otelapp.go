// Package otelapp gives an application run by package app
// (github.com/gotars/tars/app) its OpenTelemetry traces and Prometheus
// metrics from the same configuration tree, the keys the runner leaves to
// this module:
//
//   - observability.metrics_address: a meter provider with the
//     OpenTelemetry Prometheus exporter on a registry of its own (never the
//     global one), tarsotel's middleware on the server and every client,
//     the server's own counts (tarsotel.ObserveServer), and /metrics served
//     on that address while the application runs;
//   - observability.trace_exporter: "stdout" (JSON lines, to os.Stdout or
//     WithTraceWriter's writer) or "otlp" (OTLP over HTTP to
//     observability.trace_endpoint), sampled
//     ParentBased(TraceIDRatioBased(observability.trace_sample_ratio)).
//
// A program builds a Telemetry from its configuration, gives its
// AppOptions to app.New, attaches it to the App, and shuts it down after
// Run:
//
//	tel, err := otelapp.New(cfg)
//	if err != nil {
//		return err // a *app.UsageError naming the key
//	}
//	defer tel.Shutdown(context.Background()) // flushes the spans
//	a, err := app.New(cfg, append(tel.AppOptions(), app.WithLogger(log, level))...)
//	if err != nil {
//		return err
//	}
//	if err := tel.Attach(a); err != nil {
//		return err
//	}
//	return a.Run(ctx)
//
// New starts nothing: no goroutine, no socket; no global is set, and the
// trace SDK's OTEL_SPAN_* and OTEL_BSP_* variables are not read (its
// limits and batching are its defaults, set explicitly), nor OTEL_RESOURCE_*
// (see WithResource); the OTLP exporter still reads its own
// OTEL_EXPORTER_OTLP_* variables for what the configuration and
// WithOTLPOptions leave unset (headers, say). The /metrics server is a task of the App
// (app.WithTask), ending with Run's task context; the span batcher starts
// with Attach, and Shutdown flushes and ends it.
package otelapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/app"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/middleware/tarsotel"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// Task names, as Run's errors name them ("app: task tarsotel-metrics: …").
const (
	MetricsTask = "tarsotel-metrics" // serves /metrics on observability.metrics_address
)

// MetricsPath is where the metrics are served on
// observability.metrics_address.
const MetricsPath = "/metrics"

// spanLimits are the SDK's default span limits.
var spanLimits = sdktrace.SpanLimits{
	AttributeValueLengthLimit:   sdktrace.DefaultAttributeValueLengthLimit,
	AttributeCountLimit:         sdktrace.DefaultAttributeCountLimit,
	EventCountLimit:             sdktrace.DefaultEventCountLimit,
	LinkCountLimit:              sdktrace.DefaultLinkCountLimit,
	AttributePerEventCountLimit: sdktrace.DefaultAttributePerEventCountLimit,
	AttributePerLinkCountLimit:  sdktrace.DefaultAttributePerLinkCountLimit,
}

// metricsShutdown bounds the /metrics server's shutdown once Run stops.
const metricsShutdown = 5 * time.Second

// ErrShutdown is returned by Attach after Shutdown.
var ErrShutdown = errors.New("otelapp: shut down")

// An Option configures New.
type Option func(*options)

type options struct {
	traceWriter io.Writer
	mwOpts      []tarsotel.Option
	res         *resource.Resource
	traceOpts   []otlptracehttp.Option
}

// WithTraceWriter sets where the "stdout" trace exporter writes its spans,
// one JSON object a line (default os.Stdout).
func WithTraceWriter(w io.Writer) Option { return func(o *options) { o.traceWriter = w } }

// WithMiddlewareOptions adds options to tarsotel.NewMiddleware, after
// New's own (the providers, and WithFilter(tarsotel.SkipPing)): attributes,
// filters, buckets.
func WithMiddlewareOptions(opts ...tarsotel.Option) Option {
	return func(o *options) { o.mwOpts = append(o.mwOpts, opts...) }
}

// WithResource sets the resource of the tracer and meter providers. The
// default has service.name "<server.app>.<server.server>" (TARS's name of
// the server) when both are set, and nothing read from the environment.
func WithResource(r *resource.Resource) Option { return func(o *options) { o.res = r } }

// WithOTLPOptions adds options to the "otlp" exporter
// (otlptracehttp.New), after those from the configuration: TLS, headers,
// compression, retries.
func WithOTLPOptions(opts ...otlptracehttp.Option) Option {
	return func(o *options) { o.traceOpts = append(o.traceOpts, opts...) }
}

// Telemetry is the observability of one application, built from its
// configuration by New. Its methods are safe for concurrent use.
type Telemetry struct {
	cfg config.Observability

	reg    *prometheus.Registry     // nil without metrics_address
	mp     *sdkmetric.MeterProvider // nil without metrics_address
	tp     *sdktrace.TracerProvider // nil without trace_exporter
	exp    sdktrace.SpanExporter    // the trace exporter, nil without
	mw     tars.Middleware          // nil when neither is on
	events *tarsotel.Events         // always; on a no-op meter without metrics
	meter  metric.MeterProvider     // mp or a no-op one
	tracer trace.TracerProvider     // tp or a no-op one

	mu         sync.Mutex
	srv        *tars.Server // Attach's
	unobserve  func() error
	bsp        sdktrace.SpanProcessor // the span batcher, started by Attach
	shut       bool
	addr       net.Addr
	listening  chan struct{}
	listenOnce sync.Once
}

// New checks the observability keys of cfg and builds the providers, the
// middleware and the exporters they name; it starts nothing. Its errors
// are *app.UsageError values wrapping a *config.KeyError that names the
// key (observability.trace_exporter, …), as app.New's are.
func New(cfg config.Config, opts ...Option) (*Telemetry, error) {
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	ob := cfg.Observability
	if err := check(ob); err != nil {
		return nil, app.Usage(err)
	}
	t := &Telemetry{cfg: ob, listening: make(chan struct{}),
		meter: metricnoop.NewMeterProvider(), tracer: tracenoop.NewTracerProvider()}
	res := o.res
	if res == nil {
		if cfg.Server.App != "" && cfg.Server.Server != "" {
			res = resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(cfg.Server.App+"."+cfg.Server.Server))
		} else {
			res = resource.Empty()
		}
	}
	mwOpts := []tarsotel.Option{tarsotel.WithFilter(tarsotel.SkipPing)}
	if ob.MetricsAddress != "" {
		t.reg = prometheus.NewRegistry()
		mp, err := tarsotel.NewPrometheus(t.reg, sdkmetric.WithResource(res))
		if err != nil {
			return nil, fmt.Errorf("otelapp: %w", err)
		}
		t.mp, t.meter = mp, mp
		mwOpts = append(mwOpts, tarsotel.WithMeterProvider(mp))
	}
	switch ob.TraceExporter {
	case "stdout":
		w := o.traceWriter
		if w == nil {
			w = os.Stdout
		}
		exp, err := stdouttrace.New(stdouttrace.WithWriter(w))
		if err != nil {
			return nil, t.fail(&config.KeyError{Key: "observability.trace_exporter", Err: err})
		}
		t.exp = exp
	case "otlp":
		eopts, err := otlpOptions(ob.TraceEndpoint)
		if err != nil {
			return nil, t.fail(err)
		}
		// New makes the HTTP client and dials nothing: the first export does.
		exp, err := otlptracehttp.New(context.Background(), append(eopts, o.traceOpts...)...)
		if err != nil {
			return nil, t.fail(&config.KeyError{Key: "observability.trace_endpoint", Err: err})
		}
		t.exp = exp
	}
	if t.exp != nil {
		// No span processor yet: Attach registers the batcher, whose
		// goroutine starts with it. The limits are the SDK's defaults, set
		// so that its OTEL_SPAN_* variables are not read.
		t.tp = sdktrace.NewTracerProvider(sdktrace.WithResource(res),
			sdktrace.WithRawSpanLimits(spanLimits),
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ob.TraceSampleRatio))))
		t.tracer = t.tp
		mwOpts = append(mwOpts, tarsotel.WithTracerProvider(t.tp))
	}
	var err error
	if t.events, err = tarsotel.NewEvents(t.meter); err != nil {
		_ = t.Shutdown(context.Background())
		return nil, fmt.Errorf("otelapp: %w", err)
	}
	if t.mp != nil || t.tp != nil {
		if t.mw, err = tarsotel.NewMiddleware(append(mwOpts, o.mwOpts...)...); err != nil {
			_ = t.Shutdown(context.Background())
			return nil, fmt.Errorf("otelapp: %w", err) // an instrument the options made impossible
		}
	}
	return t, nil
}

// fail releases what New built and returns err as a usage error.
func (t *Telemetry) fail(err error) error {
	_ = t.Shutdown(context.Background())
	return app.Usage(err)
}

// check reports every bad observability key, each a *config.KeyError.
func check(ob config.Observability) error {
	if err := ob.Validate(); err != nil {
		return err
	}
	if ob.TraceExporter == "otlp" {
		_, err := otlpOptions(ob.TraceEndpoint) // the endpoint's syntax, which config does not know
		return err
	}
	return nil
}

// otlpOptions maps trace_endpoint onto the OTLP HTTP exporter: a URL
// (http:// is plain HTTP, https:// TLS; no path is /v1/traces) or
// host:port (HTTPS, to /v1/traces, the exporter's default).
func otlpOptions(ep string) ([]otlptracehttp.Option, error) {
	keyErr := func(err error) error { return &config.KeyError{Key: "observability.trace_endpoint", Err: err} }
	if !strings.Contains(ep, "://") {
		host, port, err := net.SplitHostPort(ep)
		if err != nil || host == "" || port == "" {
			return nil, keyErr(fmt.Errorf("%q: want host:port or an http:// or https:// URL", ep))
		}
		return []otlptracehttp.Option{otlptracehttp.WithEndpoint(ep)}, nil
	}
	u, err := url.Parse(ep)
	if err != nil {
		return nil, keyErr(err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, keyErr(fmt.Errorf("%q: scheme %q: want http or https", ep, u.Scheme))
	}
	if u.Host == "" {
		return nil, keyErr(fmt.Errorf("%q: no host", ep))
	}
	path := u.Path
	if path == "" || path == "/" {
		path = "/v1/traces"
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpoint(u.Host), otlptracehttp.WithURLPath(path)}
	if u.Scheme == "http" {
		opts = append(opts, otlptracehttp.WithInsecure())
	}
	return opts, nil
}

// AppOptions returns the options to give app.New: tarsotel's middleware on
// the server and on every client (put them before the program's own
// middleware, so that their spans cover it), with trace_exporter the
// per-attempt events on every client's endpoint chain
// (tarsotel.EndpointMiddleware), the metrics task with
// observability.metrics_address, and the App's lifecycle hooks: as Run
// begins, before anything listens, Attach (the server's counts, the span
// batcher); once the servers have shut down, a flush of the spans batched.
// None when neither key is set.
func (t *Telemetry) AppOptions() []app.Option {
	var opts []app.Option
	if t.mw != nil {
		opts = append(opts, app.WithServerMiddleware(t.mw), app.WithClientMiddleware(t.mw))
	}
	if t.tp != nil {
		opts = append(opts, app.WithClientEndpointMiddleware(tarsotel.EndpointMiddleware()))
	}
	if t.reg != nil {
		opts = append(opts, app.WithTask(MetricsTask, t.serveMetrics))
	}
	if t.tp != nil || t.reg != nil {
		opts = append(opts, app.WithLifecycle(func(_ context.Context, a *app.App) error { return t.Attach(a) }, t.flush))
	}
	return opts
}

// flush exports the spans batched so far, within ctx (the App's stop hook:
// the calls that ended in the graceful shutdown).
func (t *Telemetry) flush(ctx context.Context) error {
	if t.tp == nil {
		return nil
	}
	if err := t.tp.ForceFlush(ctx); err != nil {
		return fmt.Errorf("otelapp: flushing spans: %w", err)
	}
	return nil
}

// ClientOptions returns the client options that record every attempt of a
// traced call as an event on its span (tars.WithEndpointMiddleware with
// tarsotel.EndpointMiddleware); none without trace_exporter. The App's
// clients have it through AppOptions; this is for clients a program builds
// itself.
func (t *Telemetry) ClientOptions() []tars.ClientOption {
	if t.tp == nil {
		return nil
	}
	return []tars.ClientOption{tars.WithEndpointMiddleware(tarsotel.EndpointMiddleware())}
}

// Attach readies t for the App a, built with AppOptions: with
// metrics_address it observes a's server (its connection, admission and
// queue counts, tarsotel.ObserveServer, read when /metrics is scraped);
// with trace_exporter it starts the span batcher, whose goroutine Shutdown
// flushes and ends (after Run, so that the spans of the calls that end in
// the graceful shutdown are kept; started here rather than in a task so
// that the first calls, which may come as soon as the servants listen,
// are kept too). AppOptions' start hook calls it as Run begins; a program
// may call it earlier (after app.New), to the same effect: it does nothing
// for an App already attached.
func (t *Telemetry) Attach(a *app.App) error {
	if a == nil {
		return errors.New("otelapp: Attach(nil)")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.shut {
		return ErrShutdown
	}
	if t.srv != nil {
		if t.srv == a.Server() {
			return nil
		}
		return errors.New("otelapp: Attach: already attached to another App")
	}
	if t.mp != nil {
		un, err := tarsotel.ObserveServer(t.mp, a.Server())
		if err != nil {
			return fmt.Errorf("otelapp: %w", err)
		}
		t.unobserve = un
	}
	if t.tp != nil {
		// The SDK's defaults, set so that its OTEL_BSP_* variables are not read.
		t.bsp = sdktrace.NewBatchSpanProcessor(t.exp,
			sdktrace.WithMaxQueueSize(sdktrace.DefaultMaxQueueSize),
			sdktrace.WithMaxExportBatchSize(sdktrace.DefaultMaxExportBatchSize),
			sdktrace.WithBatchTimeout(sdktrace.DefaultScheduleDelay*time.Millisecond),
			sdktrace.WithExportTimeout(sdktrace.DefaultExportTimeout*time.Millisecond))
		t.tp.RegisterSpanProcessor(t.bsp)
	}
	t.srv = a.Server()
	return nil
}

// serveMetrics is the metrics task: /metrics on metrics_address until ctx
// ends.
func (t *Telemetry) serveMetrics(ctx context.Context) error {
	t.mu.Lock()
	attached, shut := t.srv != nil, t.shut
	t.mu.Unlock()
	switch {
	case shut:
		return ErrShutdown
	case !attached: // the start hook attaches before tasks start
		return errors.New("otelapp: the metrics task started before Attach")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", t.cfg.MetricsAddress)
	if err != nil {
		return &config.KeyError{Key: "observability.metrics_address", Err: err}
	}
	hs := &http.Server{Handler: t.Handler(), ReadHeaderTimeout: 5 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	t.mu.Lock()
	t.addr = ln.Addr()
	t.mu.Unlock()
	t.listenOnce.Do(func() { close(t.listening) })
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serving %s: %w", MetricsPath, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), metricsShutdown)
	defer cancel()
	err = hs.Shutdown(sctx)
	if err != nil {
		hs.Close()
	}
	<-served
	return err
}

// Handler returns the /metrics handler of the registry (what the metrics
// task serves), for a program that serves it itself; nil without
// metrics_address.
func (t *Telemetry) Handler() http.Handler {
	if t.reg == nil {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle(MetricsPath, promhttp.HandlerFor(t.reg, promhttp.HandlerOpts{}))
	return mux
}

// MetricsAddr returns the address /metrics is served on, nil until the
// metrics task listens (observability.metrics_address may say port 0).
func (t *Telemetry) MetricsAddr() net.Addr {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.addr
}

// MetricsListening is closed once the metrics task listens (MetricsAddr
// answers); never without metrics_address.
func (t *Telemetry) MetricsListening() <-chan struct{} { return t.listening }

// Registry returns the Prometheus registry the metrics are on (a program
// registers its own collectors there); nil without metrics_address.
func (t *Telemetry) Registry() *prometheus.Registry { return t.reg }

// MeterProvider returns the meter provider of the metrics, a no-op one
// without metrics_address.
func (t *Telemetry) MeterProvider() metric.MeterProvider { return t.meter }

// TracerProvider returns the tracer provider of the spans, a no-op one
// without trace_exporter: the program's own spans go with the calls'.
func (t *Telemetry) TracerProvider() trace.TracerProvider { return t.tracer }

// Events returns the counters of client events (breaker state changes,
// retries, backup requests) for the breaker and retry callbacks; they
// count nothing without metrics_address.
func (t *Telemetry) Events() *tarsotel.Events { return t.events }

// Shutdown flushes the spans still batched to the exporter (within ctx)
// and releases the providers and the exporter. Call it once Run has
// returned; it is safe to call more than once. When ctx ends first it
// returns ctx's error, and the batcher's goroutine ends with the export in
// flight (bounded by the exporter's own timeout).
func (t *Telemetry) Shutdown(ctx context.Context) error {
	t.mu.Lock()
	if t.shut {
		t.mu.Unlock()
		return nil
	}
	t.shut = true
	un, bsp := t.unobserve, t.bsp
	t.unobserve = nil
	t.mu.Unlock()
	var errs []error
	if un != nil {
		errs = append(errs, un())
	}
	if t.tp != nil {
		// Shuts the batcher down (flushing it) and, through it, the exporter.
		if err := t.tp.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("otelapp: traces: %w", err))
		}
		if bsp == nil { // no batcher: the exporter is shut down here
			errs = append(errs, t.exp.Shutdown(ctx))
		}
	}
	if t.mp != nil {
		if err := t.mp.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("otelapp: metrics: %w", err))
		}
	}
	return errors.Join(errs...)
}
