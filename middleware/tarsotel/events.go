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

// Attributes of the Events counters.
const (
	BreakerKey     = attribute.Key("tars.breaker.name")   // the breaker's name
	BreakerFromKey = attribute.Key("tars.breaker.from")   // the state left: "closed", "half-open", "open"
	BreakerToKey   = attribute.Key("tars.breaker.to")     // the state entered
	OutcomeKey     = attribute.Key("tars.backup.outcome") // which attempt answered first: "primary" or "backup"
)

// Events counts what happens to client calls between the middleware and the
// wire, reported by the packages that make it happen: circuit breakers
// changing state, retries and backup (hedged) requests. Those packages need
// not depend on OpenTelemetry: they take plain callbacks, and the methods of
// Events have the shapes to pass them. Its instruments:
//
//   - tars.client.breaker.state_changes {change}: BreakerKey, BreakerFromKey, BreakerToKey
//   - tars.client.retries {attempt}: rpc.system.name, rpc.method
//   - tars.client.backup_requests {attempt}: rpc.system.name, rpc.method, OutcomeKey
type Events struct {
	breaker, retries, backups metric.Int64Counter
}

// NewEvents makes the Events instruments on a meter of mp. It starts
// nothing.
func NewEvents(mp metric.MeterProvider) (*Events, error) {
	if mp == nil {
		return nil, errors.New("tarsotel.NewEvents: nil meter provider")
	}
	meter := mp.Meter(ScopeName, metric.WithInstrumentationVersion(Version), metric.WithSchemaURL(semconv.SchemaURL))
	var e Events
	var err error
	if e.breaker, err = meter.Int64Counter("tars.client.breaker.state_changes", metric.WithUnit("{change}"),
		metric.WithDescription("Circuit breaker state changes.")); err != nil {
		return nil, fmt.Errorf("tarsotel.NewEvents: %w", err)
	}
	if e.retries, err = meter.Int64Counter("tars.client.retries", metric.WithUnit("{attempt}"),
		metric.WithDescription("Attempts made again after a failed one.")); err != nil {
		return nil, fmt.Errorf("tarsotel.NewEvents: %w", err)
	}
	if e.backups, err = meter.Int64Counter("tars.client.backup_requests", metric.WithUnit("{attempt}"),
		metric.WithDescription("Backup (hedged) attempts sent while the first was still out.")); err != nil {
		return nil, fmt.Errorf("tarsotel.NewEvents: %w", err)
	}
	return &e, nil
}

// BreakerStateChange counts a breaker named name going from one state to
// another (the shape of gobreaker's OnStateChange with its states as
// strings). It takes no lock and calls nothing back: safe to call under
// the breaker's own lock.
func (e *Events) BreakerStateChange(name, from, to string) {
	e.breaker.Add(context.Background(), 1, metric.WithAttributes(BreakerKey.String(name), BreakerFromKey.String(from), BreakerToKey.String(to)))
}

// Retry counts one retried attempt of call.
func (e *Events) Retry(ctx context.Context, call *tars.Call) {
	e.retries.Add(ctx, 1, metric.WithAttributes(systemAttr, semconv.RPCMethod(call.Servant+"/"+call.Method)))
}

// BackupRequest counts one backup attempt of call; backupWon tells whether
// the backup answered first.
func (e *Events) BackupRequest(ctx context.Context, call *tars.Call, backupWon bool) {
	outcome := "primary"
	if backupWon {
		outcome = "backup"
	}
	e.backups.Add(ctx, 1, metric.WithAttributes(systemAttr, semconv.RPCMethod(call.Servant+"/"+call.Method), OutcomeKey.String(outcome)))
}
