package interop

import (
	"context"
	"fmt"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	tarsgo "github.com/TarsCloud/TarsGo/tars"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/example/userservice/userserver"
	UserService "github.com/gotars/tars/interop/gen/UserService"
	"github.com/gotars/tars/interop/rpcpeer"
	"github.com/gotars/tars/middleware/tarsotel"
)

type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkOTelVsTarsGo puts the cost of tracing in TarsGo beside ours, in
// one run: getUser over loopback, client and server in one process, every
// call traced (AlwaysSample, batched to a discarding exporter) on both
// sides or not at all.
//
//   - stack=gotars: gotars client and server, tarsotel's middleware (with
//     metrics, as otel mode in tarsotel's BenchmarkOverhead);
//   - stack=tarsgo: TarsGo v1.4.6's generated client and dispatch, with
//     filters equivalent to TarsGo's contrib OpenTelemetry middleware
//     (spans only, W3C in the status map).
func BenchmarkOTelVsTarsGo(b *testing.B) {
	for _, stack := range []string{"gotars", "tarsgo"} {
		for _, traced := range []bool{false, true} {
			mode := "base"
			if traced {
				mode = "otel"
			}
			b.Run(fmt.Sprintf("stack=%s/mode=%s", stack, mode), func(b *testing.B) {
				var tp *sdktrace.TracerProvider
				if traced {
					tp = sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithBatcher(discard{}))
					defer tp.Shutdown(context.Background())
				}
				var call func(ctx context.Context) error
				if stack == "gotars" {
					call = benchGotars(b, tp)
				} else {
					call = benchTarsGo(b, tp)
				}
				if err := call(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.SetParallelism(32) // 64 callers on 2 cores
				cpu0 := cpuTime()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					ctx := context.Background()
					for pb.Next() {
						if err := call(ctx); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.StopTimer()
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

func benchGotars(b *testing.B, tp *sdktrace.TracerProvider) func(context.Context) error {
	var opts []tars.Option
	if tp != nil {
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
		mw, err := tarsotel.NewMiddleware(tarsotel.WithTracerProvider(tp), tarsotel.WithMeterProvider(mp))
		if err != nil {
			b.Fatal(err)
		}
		opts = append(opts, tars.WithMiddleware(mw))
	}
	var sopts []tars.ServerOption
	var copts []tars.ClientOption
	for _, o := range opts {
		sopts, copts = append(sopts, o), append(copts, o)
	}
	srv := tars.NewServer(sopts...)
	store := userserver.NewStore()
	userserver.Register(srv, userapi.Servant, store)
	if _, err := store.CreateUser(context.Background(), userapi.UserInfoArgs{UserInfo: userapi.UserInfo{UserName: "alice", Email: "alice@example.com"}}); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ln)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	c, err := tars.NewClient(fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d -t 5000", userapi.Servant, ln.Addr().(*net.TCPAddr).Port), copts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return func(ctx context.Context) error {
		_, err := userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: 1})
		return err
	}
}

func benchTarsGo(b *testing.B, tp *sdktrace.TracerProvider) func(context.Context) error {
	store := rpcpeer.NewStore()
	if _, err := store.CreateUser(context.Background(), &UserService.UserInfo{UserName: "alice", Email: "alice@example.com"}, &UserService.UserInfo{}); err != nil {
		b.Fatal(err)
	}
	var d rpcpeer.Dispatcher = UserService.NewUserService()
	if tp != nil {
		o := &tarsGoOTel{tracer: tp.Tracer("tarsgo-contrib-equivalent"),
			prop: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})}
		d = newFiltered(d, o.serverFilter)
		useTarsGoOTel(o)
		b.Cleanup(func() { useTarsGoOTel(nil) })
	}
	srv, err := rpcpeer.Serve(d, store, "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	c := UserService.NewUserServiceClient(srv.Endpoint(), benchComm())
	return func(ctx context.Context) error {
		_, err := c.GetUserWithContext(ctx, 1)
		return err
	}
}

// benchComm is the benchmark's one TarsGo communicator (TarsGo wants one per
// process; it never stops).
var benchComm = sync.OnceValue(func() *tarsgo.Communicator { return tarsgo.NewCommunicator() })
