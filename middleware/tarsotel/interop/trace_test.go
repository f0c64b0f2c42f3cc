package interop

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	tarsgo "github.com/TarsCloud/TarsGo/tars"
	"github.com/TarsCloud/TarsGo/tars/protocol/res/requestf"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
	UserService "github.com/gotars/tars/interop/gen/UserService"
	"github.com/gotars/tars/interop/rpcpeer"
	"github.com/gotars/tars/middleware/tarsotel"
)

// The servants of the three hops: a gotars client calls the TarsGo
// service (rpcpeer.Servant), whose getUser calls the gotars backend.
const backendServant = "Backend.UserServer.UserServiceObj"

// tarsGoOTel is the TarsGo side's OpenTelemetry filters, built on TarsGo's
// own hooks (tars.ServerFilterMiddleware, tars.ClientFilterMiddleware) as
// TarsGo's contrib middleware (contrib/middleware/opentelemetry) builds
// them: the server filter extracts from req.Status with a MapCarrier and
// starts a Server span "<Obj>.<func>"; the client filter starts a Client
// span and injects into msg.Req.Status, making the map when nil.
type tarsGoOTel struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
}

func (o tarsGoOTel) serverFilter(next tarsgo.ServerFilter) tarsgo.ServerFilter {
	return func(ctx context.Context, d tarsgo.Dispatch, f any, req *requestf.RequestPacket, resp *requestf.ResponsePacket, withContext bool) error {
		if req.Status == nil {
			req.Status = map[string]string{}
		}
		ctx = o.prop.Extract(ctx, propagation.MapCarrier(req.Status))
		parts := strings.Split(req.SServantName, ".")
		ctx, span := o.tracer.Start(ctx, parts[len(parts)-1]+"."+req.SFuncName, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("tars.interface", req.SServantName), attribute.String("tars.method", req.SFuncName)))
		defer span.End()
		err := next(ctx, d, f, req, resp, withContext)
		if err != nil {
			span.SetStatus(codes.Error, "server failed")
			span.RecordError(err)
		} else {
			span.SetAttributes(attribute.Int64("tars.rpc.ret", int64(resp.IRet)))
		}
		return err
	}
}

func (o tarsGoOTel) clientFilter(next tarsgo.ClientFilter) tarsgo.ClientFilter {
	return func(ctx context.Context, msg *tarsgo.Message, invoke tarsgo.Invoke, timeout time.Duration) error {
		parts := strings.Split(msg.Req.SServantName, ".")
		ctx, span := o.tracer.Start(ctx, parts[len(parts)-1]+"."+msg.Req.SFuncName, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("tars.interface", msg.Req.SServantName), attribute.String("tars.method", msg.Req.SFuncName)))
		defer span.End()
		if msg.Req.Status == nil {
			msg.Req.Status = map[string]string{}
		}
		o.prop.Inject(ctx, propagation.MapCarrier(msg.Req.Status))
		err := next(ctx, msg, invoke, timeout)
		if err != nil {
			span.SetStatus(codes.Error, "client failed")
			span.RecordError(err)
		} else {
			span.SetAttributes(attribute.Int64("tars.rpc.ret", int64(msg.Resp.IRet)))
		}
		return err
	}
}

// filtered runs a generated Dispatch through a TarsGo server filter chain,
// composed as TarsGo's application composes its ServerFilterMiddlewares
// (the innermost filter calls the dispatch).
type filtered struct {
	d  rpcpeer.Dispatcher
	sf tarsgo.ServerFilter
}

func newFiltered(d rpcpeer.Dispatcher, mws ...tarsgo.ServerFilterMiddleware) filtered {
	sf := tarsgo.ServerFilter(func(ctx context.Context, d tarsgo.Dispatch, f any, req *requestf.RequestPacket, resp *requestf.ResponsePacket, withContext bool) error {
		return d(ctx, f, req, resp, withContext)
	})
	for i := len(mws) - 1; i >= 0; i-- {
		sf = mws[i](sf)
	}
	return filtered{d, sf}
}

func (f filtered) Dispatch(ctx context.Context, impl any, req *requestf.RequestPacket, resp *requestf.ResponsePacket, withContext bool) error {
	return f.sf(ctx, f.d.Dispatch, impl, req, resp, withContext)
}

// relay is the TarsGo service: getUser asks the gotars backend, through
// TarsGo's generated client, with the handler's context.
type relay struct {
	*rpcpeer.Store
	backend *UserService.UserService
}

func (r *relay) GetUser(ctx context.Context, id int32) (UserService.UserInfo, error) {
	return r.backend.GetUserWithContext(ctx, id)
}

// The TarsGo client filter is registered on TarsGo's process-wide
// application once; it uses the filters of the running test or benchmark,
// and passes calls through untouched when there are none.
var (
	registerOnce sync.Once
	current      struct {
		sync.Mutex
		o *tarsGoOTel
	}
)

// useTarsGoOTel makes o the TarsGo client filter of the process (nil: none).
func useTarsGoOTel(o *tarsGoOTel) {
	current.Lock()
	current.o = o
	current.Unlock()
	registerOnce.Do(func() {
		tarsgo.UseClientFilterMiddleware(func(next tarsgo.ClientFilter) tarsgo.ClientFilter {
			return func(ctx context.Context, msg *tarsgo.Message, invoke tarsgo.Invoke, timeout time.Duration) error {
				current.Lock()
				o := current.o
				current.Unlock()
				if o == nil {
					return next(ctx, msg, invoke, timeout)
				}
				return o.clientFilter(next)(ctx, msg, invoke, timeout)
			}
		})
	})
}

func TestTraceAcrossTarsGo(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())
	w3c := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	o := tarsGoOTel{tracer: tp.Tracer("tarsgo-contrib-equivalent"), prop: w3c}
	useTarsGoOTel(&o)
	defer useTarsGoOTel(nil)

	mw, err := tarsotel.NewMiddleware(tarsotel.WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}

	// The gotars backend.
	backend := tars.NewServer(tars.WithMiddleware(mw))
	var backendStatus map[string]string
	tars.Handle(backend, backendServant, userapi.GetUser, func(ctx context.Context, a userapi.UserIDArgs) (userapi.UserInfo, error) {
		call, _ := tars.CallFromContext(ctx)
		backendStatus = call.Status
		if a.UserID != 7 {
			return userapi.UserInfo{}, tars.NewError(userapi.RetNotFound, "no such user")
		}
		return userapi.UserInfo{UserID: 7, UserName: "alice"}, nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- backend.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := backend.Shutdown(ctx); err != nil {
			t.Errorf("backend shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, tars.ErrServerClosed) {
			t.Errorf("backend Serve: %v", err)
		}
	}()
	backendObj := fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d -t 5000", backendServant, ln.Addr().(*net.TCPAddr).Port)

	// The TarsGo service in the middle: generated dispatch behind the
	// server filter, the generated client with the client filter.
	comm := tarsgo.NewCommunicator()
	r := &relay{Store: rpcpeer.NewStore(), backend: UserService.NewUserServiceClient(backendObj, comm)}
	mid, err := rpcpeer.Serve(newFiltered(UserService.NewUserService(), o.serverFilter), r, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The gotars client.
	c, err := tars.NewClient(mid.Endpoint(), tars.WithMiddleware(mw))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := mid.Shutdown(ctx); err != nil {
			t.Errorf("TarsGo shutdown: %v", err)
		}
	}()

	for _, tc := range []struct {
		name string
		id   int32
		code tars.Code
	}{
		{"ok", 7, tars.CodeSuccess},
		{"service code", 3, userapi.RetNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec.Reset()
			u, err := userapi.GetUser.Call(context.Background(), c, userapi.UserIDArgs{UserID: tc.id})
			if tars.CodeOf(err) != tc.code || (err == nil && u.UserName != "alice") {
				t.Fatalf("call: %+v, %v; want code %d", u, err, tc.code)
			}
			spans := rec.Ended()
			byName := map[string]sdktrace.ReadOnlySpan{}
			for _, s := range spans {
				byName[s.SpanKind().String()+" "+s.Name()] = s
			}
			// The four spans of one trace, each the child of the one before.
			chain := []string{
				"client " + rpcpeer.Servant + "/getUser", // gotars client
				"server UserServiceObj.getUser",          // TarsGo server filter
				"client UserServiceObj.getUser",          // TarsGo client filter (the backend's Obj is also UserServiceObj)
				"server " + backendServant + "/getUser",  // gotars backend
			}
			if len(spans) != len(chain) {
				t.Fatalf("%d spans %v; want %d", len(spans), keys(byName), len(chain))
			}
			var prev sdktrace.ReadOnlySpan
			for _, name := range chain {
				s, ok := byName[name]
				if !ok {
					t.Fatalf("no span %q among %v", name, keys(byName))
				}
				if prev == nil {
					if s.Parent().IsValid() {
						t.Errorf("%s has a parent", name)
					}
				} else {
					if s.SpanContext().TraceID() != prev.SpanContext().TraceID() {
						t.Errorf("%s: trace %s, want %s", name, s.SpanContext().TraceID(), prev.SpanContext().TraceID())
					}
					if s.Parent().SpanID() != prev.SpanContext().SpanID() {
						t.Errorf("%s: parent %s, want %s (%s)", name, s.Parent().SpanID(), prev.SpanContext().SpanID(), prev.Name())
					}
				}
				prev = s
			}
			// The hop into the backend came from TarsGo's client filter, in
			// the status map.
			tgClient := byName[chain[2]].SpanContext()
			want := "00-" + tgClient.TraceID().String() + "-" + tgClient.SpanID().String() + "-01"
			if backendStatus["traceparent"] != want {
				t.Errorf("backend saw traceparent %q, want %q", backendStatus["traceparent"], want)
			}
			code := attrValue(byName[chain[0]], "rpc.response.status_code")
			if code != fmt.Sprint(int(tc.code)) {
				t.Errorf("gotars client rpc.response.status_code %q, want %d", code, tc.code)
			}
		})
	}
}

func keys(m map[string]sdktrace.ReadOnlySpan) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func attrValue(s sdktrace.ReadOnlySpan, key attribute.Key) string {
	for _, a := range s.Attributes() {
		if a.Key == key {
			return a.Value.String()
		}
	}
	return ""
}
