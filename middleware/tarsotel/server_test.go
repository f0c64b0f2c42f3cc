package tarsotel_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/middleware/tarsotel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// observed collects p's metrics and returns the value of each int64 sum
// and gauge data point, by instrument name (and servant for queue depth).
func observed(t *testing.T, p *pipeline) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := p.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			var dps []metricdata.DataPoint[int64]
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				dps = d.DataPoints
				if d.IsMonotonic != (m.Name != "tars.server.connections" && m.Name != "tars.server.calls.in_flight") {
					t.Errorf("%s monotonic %v", m.Name, d.IsMonotonic)
				}
			case metricdata.Gauge[int64]:
				dps = d.DataPoints
			default:
				continue
			}
			for _, dp := range dps {
				if v, _ := dp.Attributes.Value("instance"); v.AsString() != "a" {
					t.Errorf("%s attributes %v", m.Name, dp.Attributes.ToSlice())
				}
				name := m.Name
				if s, ok := dp.Attributes.Value(tarsotel.ServantKey); ok {
					name += "/" + s.AsString()
				}
				out[name] = dp.Value
			}
		}
	}
	return out
}

func TestObserveServer(t *testing.T) {
	p := newPipeline(t)
	// One handler at a time and one waiting: of 8 slow calls at once, 6
	// are answered overloaded.
	release := make(chan struct{})
	srv, c := serve(t, func(ctx context.Context, a userapi.UserIDArgs) (userapi.UserInfo, error) {
		<-release
		return getUser(ctx, a)
	}, []tars.ServerOption{tars.WithMaxInvoke(1), tars.WithMaxQueue(1)}, tars.WithConnsPerEndpoint(2))
	unregister, err := tarsotel.ObserveServer(p.mp, srv, attribute.String("instance", "a"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := userapi.GetUser.Call(context.Background(), c, userapi.UserIDArgs{UserID: idOK})
			errs <- err
		})
	}
	// Wait until one runs, one waits and six were refused.
	deadline := time.Now().Add(5 * time.Second)
	for st := srv.Stats(); st.Overloaded < 6 || st.ServantQueueDepth[userapi.Servant] < 1; st = srv.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v", st)
		}
		time.Sleep(time.Millisecond)
	}
	busy := observed(t, p)
	if busy["tars.server.queue.depth/"+userapi.Servant] != 1 || busy["tars.server.calls.in_flight"] < 1 {
		t.Errorf("busy: queue depth %d, in flight %d", busy["tars.server.queue.depth/"+userapi.Servant], busy["tars.server.calls.in_flight"])
	}
	close(release)
	wg.Wait()
	close(errs)
	overloaded := 0
	for err := range errs {
		if tars.CodeOf(err) == tars.CodeServerOverload {
			overloaded++
		} else if err != nil {
			t.Errorf("call: %v", err)
		}
	}

	got := observed(t, p)
	st := srv.Stats()
	want := map[string]int64{
		"tars.server.connections.accepted":           int64(st.Accepted),
		"tars.server.connections.refused":            int64(st.Refused),
		"tars.server.connections.idle_closed":        int64(st.IdleClosed),
		"tars.server.connections.frame_timeouts":     int64(st.FrameTimeouts),
		"tars.server.datagrams.malformed":            int64(st.BadDatagrams),
		"tars.server.calls.overloaded":               int64(st.Overloaded),
		"tars.server.calls.queue_timeouts":           int64(st.QueueTimeouts),
		"tars.server.calls.dropped":                  int64(st.Dropped),
		"tars.server.calls.decode_errors":            int64(st.DecodeErrors),
		"tars.server.calls.answered_at_expiry":       int64(st.AnsweredAtExpiry),
		"tars.server.packets.malformed":              int64(st.BadPackets),
		"tars.server.handler.panics":                 int64(st.Panics),
		"tars.server.logs.suppressed":                int64(st.LogsSuppressed),
		"tars.server.connections":                    int64(st.Conns),
		"tars.server.calls.in_flight":                st.InFlight,
		"tars.server.memory.budget.used":             st.BudgetUsed,
		"tars.server.queue.depth/" + userapi.Servant: 0,
	}
	if len(got) != len(want) || len(tarsotel.ServerInstruments()) != len(want) {
		t.Errorf("%d series, %d instruments named; want %d", len(got), len(tarsotel.ServerInstruments()), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d", k, got[k], v)
		}
	}
	if got["tars.server.calls.overloaded"] != int64(overloaded) || overloaded != 6 {
		t.Errorf("overloaded observed %d, callers saw %d, want 6", got["tars.server.calls.overloaded"], overloaded)
	}
	if got["tars.server.connections.accepted"] != 2 || got["tars.server.connections"] != 2 {
		t.Errorf("connections accepted %d, open %d; want 2, 2", got["tars.server.connections.accepted"], got["tars.server.connections"])
	}

	if err := unregister(); err != nil {
		t.Fatal(err)
	}
	if after := observed(t, p); len(after) != 0 {
		t.Errorf("after unregister: %v", after)
	}
}

func TestObserveServerErrors(t *testing.T) {
	p := newPipeline(t)
	if _, err := tarsotel.ObserveServer(nil, tars.NewServer()); err == nil {
		t.Error("nil provider: no error")
	}
	if _, err := tarsotel.ObserveServer(p.mp, nil); err == nil {
		t.Error("nil server: no error")
	}
}

func TestEvents(t *testing.T) {
	p := newPipeline(t)
	ev, err := tarsotel.NewEvents(p.mp)
	if err != nil {
		t.Fatal(err)
	}
	call := &tars.Call{Servant: userapi.Servant, Method: "getUser"}
	ev.BreakerStateChange("UserService.UserServiceObj@127.0.0.1:1", "closed", "open")
	ev.BreakerStateChange("UserService.UserServiceObj@127.0.0.1:1", "closed", "open")
	ev.Retry(context.Background(), call)
	ev.BackupRequest(context.Background(), call, true)
	ev.BackupRequest(context.Background(), call, false)
	ev.BackupRequest(context.Background(), call, false)

	var rm metricdata.ResourceMetrics
	if err := p.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				key := m.Name
				for _, a := range dp.Attributes.ToSlice() {
					key += " " + string(a.Key) + "=" + a.Value.String()
				}
				got[key] = dp.Value
			}
		}
	}
	want := map[string]int64{
		"tars.client.breaker.state_changes tars.breaker.from=closed tars.breaker.name=UserService.UserServiceObj@127.0.0.1:1 tars.breaker.to=open": 2,
		"tars.client.retries rpc.method=" + method + " rpc.system.name=tars":                                                                       1,
		"tars.client.backup_requests rpc.method=" + method + " rpc.system.name=tars tars.backup.outcome=backup":                                    1,
		"tars.client.backup_requests rpc.method=" + method + " rpc.system.name=tars tars.backup.outcome=primary":                                   2,
	}
	if len(got) != len(want) {
		t.Errorf("got %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
	if _, err := tarsotel.NewEvents(nil); err == nil {
		t.Error("nil provider: no error")
	}
}
