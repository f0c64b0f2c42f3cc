package tarsotel_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/middleware/breaker"
	"github.com/gotars/tars/middleware/retry"
	"github.com/gotars/tars/middleware/tarsotel"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// TestEventsFromResilienceMiddleware wires Events into the real breaker,
// retry and hedge middleware through their callbacks: of two endpoints one
// refuses every call (−9) and the other answers in 10 ms: one client's
// calls are retried and the refusing endpoint's breaker opens, another's
// get backup requests.
func TestEventsFromResilienceMiddleware(t *testing.T) {
	p := newPipeline(t)
	ev, err := tarsotel.NewEvents(p.mp)
	if err != nil {
		t.Fatal(err)
	}
	_, bad := listen(t, func(context.Context, userapi.UserIDArgs) (userapi.UserInfo, error) {
		return userapi.UserInfo{}, tars.NewError(tars.CodeServerOverload, "refused")
	})
	_, good := listen(t, func(_ context.Context, a userapi.UserIDArgs) (userapi.UserInfo, error) {
		time.Sleep(10 * time.Millisecond)
		return userapi.UserInfo{UserID: a.UserID}, nil
	})
	eps, err := breaker.NewEndpoint(breaker.Settings{MinRequests: 3, Timeout: time.Minute,
		OnStateChange: func(name string, from, to breaker.State) { ev.BreakerStateChange(name, from.String(), to.String()) }})
	if err != nil {
		t.Fatal(err)
	}
	budget, _ := retry.NewBudget(1, 100, 10*time.Second)
	refused := []tars.Code{tars.CodeServerOverload}
	rt, _ := retry.New(retry.Policy{MaxAttempts: 3, Codes: refused, Budget: budget,
		OnRetry: func(ctx context.Context, call *tars.Call, _ int, _ error) { ev.Retry(ctx, call) }})
	hedge, _ := retry.Hedge(retry.HedgePolicy{Delay: 5 * time.Millisecond, Codes: refused, Budget: budget,
		OnBackup: func(ctx context.Context, call *tars.Call, _ int, won bool) { ev.BackupRequest(ctx, call, won) }})
	obj := fmt.Sprintf("tcp -h 127.0.0.1 -p %d -t 3000:tcp -h 127.0.0.1 -p %d -t 3000", bad, good)
	// Retries (and the breaker) on one client, backups on another.
	retrying := dial(t, obj, tars.WithMiddleware(rt), tars.WithEndpointMiddleware(eps.Middleware()))
	hedging := dial(t, obj, tars.WithMiddleware(hedge))
	for i := range 10 {
		if _, err := userapi.GetUser.Call(context.Background(), retrying, userapi.UserIDArgs{UserID: int32(i)}); err != nil {
			t.Fatalf("retrying call %d: %v", i, err)
		}
		if _, err := userapi.GetUser.Call(context.Background(), hedging, userapi.UserIDArgs{UserID: int32(i)}); err != nil {
			t.Fatalf("hedged call %d: %v", i, err)
		}
	}
	var changes, retries, backups int64
	for k, v := range observedSums(t, p) {
		switch {
		case strings.HasPrefix(k, "tars.client.breaker.state_changes") && strings.Contains(k, "tars.breaker.to=open"):
			changes += v
		case strings.HasPrefix(k, "tars.client.retries"):
			retries += v
		case strings.HasPrefix(k, "tars.client.backup_requests"):
			backups += v
		}
	}
	if changes != 1 || retries == 0 || backups == 0 {
		t.Fatalf("breaker openings %d, retries %d, backups %d: want 1 and some of each", changes, retries, backups)
	}
}

// observedSums returns p's int64 sums by instrument name and attributes
// ("name k=v k=v").
func observedSums(t *testing.T, p *pipeline) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := p.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			sum, ok := m.Data.(metricdata.Sum[int64])
			if !ok {
				continue
			}
			for _, dp := range sum.DataPoints {
				key := m.Name
				for _, a := range dp.Attributes.ToSlice() {
					key += " " + string(a.Key) + "=" + a.Value.String()
				}
				out[key] += dp.Value
			}
		}
	}
	return out
}
