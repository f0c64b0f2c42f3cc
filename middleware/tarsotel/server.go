package tarsotel

import (
	"context"
	"errors"
	"fmt"

	"github.com/gotars/tars"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// ServantKey is the attribute naming the servant object on the
// tars.server.queue.depth gauge.
const ServantKey = attribute.Key("tars.servant")

// counterSpec is a cumulative count of tars.ServerStats, observed as an
// Int64ObservableCounter.
type counterSpec struct {
	name, unit, desc string
	get              func(*tars.ServerStats) uint64
}

// The server's cumulative counts and what they are called.
var serverCounters = []counterSpec{
	{"tars.server.connections.accepted", "{connection}", "Stream connections accepted and served.", func(s *tars.ServerStats) uint64 { return s.Accepted }},
	{"tars.server.connections.refused", "{connection}", "Connections closed at once: over a cap, or out of descriptors.", func(s *tars.ServerStats) uint64 { return s.Refused }},
	{"tars.server.connections.idle_closed", "{connection}", "Connections closed as idle.", func(s *tars.ServerStats) uint64 { return s.IdleClosed }},
	{"tars.server.connections.frame_timeouts", "{connection}", "Connections closed for not completing a frame in time.", func(s *tars.ServerStats) uint64 { return s.FrameTimeouts }},
	{"tars.server.datagrams.malformed", "{datagram}", "Malformed UDP datagrams dropped.", func(s *tars.ServerStats) uint64 { return s.BadDatagrams }},
	{"tars.server.calls.overloaded", "{call}", "Calls answered with the overload code (-9): queue full, or shutting down.", func(s *tars.ServerStats) uint64 { return s.Overloaded }},
	{"tars.server.calls.queue_timeouts", "{call}", "Calls answered with the queue-timeout code (-5) without running.", func(s *tars.ServerStats) uint64 { return s.QueueTimeouts }},
	{"tars.server.calls.dropped", "{call}", "Calls not run because their connection closed first.", func(s *tars.ServerStats) uint64 { return s.Dropped }},
	{"tars.server.calls.decode_errors", "{call}", "Calls answered with the decode-error code (-1).", func(s *tars.ServerStats) uint64 { return s.DecodeErrors }},
	{"tars.server.calls.answered_at_expiry", "{call}", "Calls answered with an error when the shutdown grace expired.", func(s *tars.ServerStats) uint64 { return s.AnsweredAtExpiry }},
	{"tars.server.packets.malformed", "{packet}", "Undecodable packets; their connection was closed.", func(s *tars.ServerStats) uint64 { return s.BadPackets }},
	{"tars.server.handler.panics", "{panic}", "Handlers that panicked.", func(s *tars.ServerStats) uint64 { return s.Panics }},
	{"tars.server.logs.suppressed", "{record}", "Connection-level log records dropped by the rate limit.", func(s *tars.ServerStats) uint64 { return s.LogsSuppressed }},
}

// ServerInstruments names what ObserveServer observes, for dashboards and
// tests: the cumulative counters first, then the gauges
// tars.server.connections (open stream connections),
// tars.server.calls.in_flight (calls admitted and not yet answered),
// tars.server.memory.budget.used (bytes of the memory budget in use) and
// tars.server.queue.depth (requests waiting per servant, attribute
// tars.servant).
func ServerInstruments() []string {
	names := make([]string, 0, len(serverCounters)+4)
	for _, c := range serverCounters {
		names = append(names, c.name)
	}
	return append(names, "tars.server.connections", "tars.server.calls.in_flight",
		"tars.server.memory.budget.used", "tars.server.queue.depth")
}

// ObserveServer registers observable instruments that report srv.Stats()
// each time mp's readers collect (see ServerInstruments), with attrs on
// every observation (e.g. a service.instance.id of your own). It starts
// nothing: the values are read only when collected. Call unregister to stop
// observing srv (before dropping it, so the meter lets go of it).
//
// The hooks for what other packages count (breaker state changes, retries,
// backup requests) are on Events.
func ObserveServer(mp metric.MeterProvider, srv *tars.Server, attrs ...attribute.KeyValue) (unregister func() error, err error) {
	if mp == nil || srv == nil {
		return nil, errors.New("tarsotel.ObserveServer: nil meter provider or server")
	}
	meter := mp.Meter(ScopeName, metric.WithInstrumentationVersion(Version), metric.WithSchemaURL(semconv.SchemaURL))
	counters := make([]metric.Int64ObservableCounter, len(serverCounters))
	insts := make([]metric.Observable, 0, len(serverCounters)+4)
	for i, c := range serverCounters {
		if counters[i], err = meter.Int64ObservableCounter(c.name, metric.WithUnit(c.unit), metric.WithDescription(c.desc)); err != nil {
			return nil, fmt.Errorf("tarsotel.ObserveServer: %s: %w", c.name, err)
		}
		insts = append(insts, counters[i])
	}
	conns, err := meter.Int64ObservableUpDownCounter("tars.server.connections", metric.WithUnit("{connection}"),
		metric.WithDescription("Open stream connections."))
	if err != nil {
		return nil, fmt.Errorf("tarsotel.ObserveServer: %w", err)
	}
	inflight, err := meter.Int64ObservableUpDownCounter("tars.server.calls.in_flight", metric.WithUnit("{call}"),
		metric.WithDescription("Calls admitted and not yet answered."))
	if err != nil {
		return nil, fmt.Errorf("tarsotel.ObserveServer: %w", err)
	}
	budget, err := meter.Int64ObservableGauge("tars.server.memory.budget.used", metric.WithUnit("By"),
		metric.WithDescription("Bytes of the server's memory budget in use."))
	if err != nil {
		return nil, fmt.Errorf("tarsotel.ObserveServer: %w", err)
	}
	depth, err := meter.Int64ObservableGauge("tars.server.queue.depth", metric.WithUnit("{call}"),
		metric.WithDescription("Requests waiting for a handler, per servant."))
	if err != nil {
		return nil, fmt.Errorf("tarsotel.ObserveServer: %w", err)
	}
	insts = append(insts, conns, inflight, budget, depth)
	set := attribute.NewSet(attrs...)
	opt := metric.WithAttributeSet(set)
	reg, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := srv.Stats()
		for i, c := range serverCounters {
			o.ObserveInt64(counters[i], int64(c.get(&st)), opt)
		}
		o.ObserveInt64(conns, int64(st.Conns), opt)
		o.ObserveInt64(inflight, st.InFlight, opt)
		o.ObserveInt64(budget, st.BudgetUsed, opt)
		for servant, n := range st.ServantQueueDepth {
			o.ObserveInt64(depth, int64(n), metric.WithAttributes(append(attrs[:len(attrs):len(attrs)], ServantKey.String(servant))...))
		}
		return nil
	}, insts...)
	if err != nil {
		return nil, fmt.Errorf("tarsotel.ObserveServer: %w", err)
	}
	return reg.Unregister, nil
}
