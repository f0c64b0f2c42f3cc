package tarsotel

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// NewPrometheus returns a meter provider whose metrics reg exposes: the
// OpenTelemetry Prometheus exporter registered on reg, never on the global
// registry (serve it with promhttp.HandlerFor(reg, promhttp.HandlerOpts{})).
// Names follow the exporter's default translation: rpc.server.call.duration
// in seconds is rpc_server_call_duration_seconds, the counters end in
// _total. opts go to sdkmetric.NewMeterProvider (a resource, views); the
// exporter is added as its reader. The exporter pulls: nothing runs until
// reg is gathered. Shut the provider down when done; it stays registered on
// reg (unregister it with a fresh registry, or keep it for the process).
func NewPrometheus(reg prometheus.Registerer, opts ...sdkmetric.Option) (*sdkmetric.MeterProvider, error) {
	if reg == nil {
		return nil, errors.New("tarsotel.NewPrometheus: nil registerer")
	}
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("tarsotel.NewPrometheus: %w", err)
	}
	return sdkmetric.NewMeterProvider(append(opts[:len(opts):len(opts)], sdkmetric.WithReader(exp))...), nil
}
