package tarsotel_test

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/middleware/tarsotel"
	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A server and a client with traces and metrics, the metrics exposed on a
// Prometheus registry of the program's own (serve it with
// promhttp.HandlerFor(reg, promhttp.HandlerOpts{}) on /metrics).
func Example() {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	mp, err := tarsotel.NewPrometheus(reg)
	if err != nil {
		panic(err)
	}
	defer mp.Shutdown(ctx)
	spans := tracetest.NewSpanRecorder() // a real program exports, e.g. sdktrace.WithBatcher(otlp exporter)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(ctx)

	mw, err := tarsotel.NewMiddleware(tarsotel.WithTracerProvider(tp), tarsotel.WithMeterProvider(mp),
		tarsotel.WithFilter(tarsotel.SkipPing))
	if err != nil {
		panic(err)
	}

	srv := tars.NewServer(tars.WithMiddleware(mw))
	tars.Handle(srv, userapi.Servant, userapi.GetUser, func(_ context.Context, a userapi.UserIDArgs) (userapi.UserInfo, error) {
		return userapi.UserInfo{UserID: a.UserID, UserName: "ada"}, nil
	})
	unregister, err := tarsotel.ObserveServer(mp, srv)
	if err != nil {
		panic(err)
	}
	defer unregister()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown(ctx)

	c, err := tars.NewClient(fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d", userapi.Servant, ln.Addr().(*net.TCPAddr).Port),
		tars.WithMiddleware(mw))
	if err != nil {
		panic(err)
	}
	defer c.Close()
	if _, err := userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: 7}); err != nil {
		panic(err)
	}

	for _, s := range spans.Ended() {
		fmt.Println(s.SpanKind(), s.Name(), s.Parent().IsValid())
	}
	families, err := reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), "rpc_") || strings.HasPrefix(f.GetName(), "tars_server_connections") {
			fmt.Println(f.GetName(), f.GetType())
		}
	}
	// Output:
	// server UserService.UserServiceObj/getUser true
	// client UserService.UserServiceObj/getUser false
	// rpc_client_call_duration_seconds HISTOGRAM
	// rpc_server_call_duration_seconds HISTOGRAM
	// tars_server_connections GAUGE
	// tars_server_connections_accepted_total COUNTER
	// tars_server_connections_frame_timeouts_total COUNTER
	// tars_server_connections_idle_closed_total COUNTER
	// tars_server_connections_refused_total COUNTER
}
