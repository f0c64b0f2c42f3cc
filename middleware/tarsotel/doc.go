// Package tarsotel instruments gotars servers and clients with
// OpenTelemetry: a span and a call-duration measurement per RPC, following
// the semantic conventions v1.43.0 for RPC (the semconv package this module
// pins), trace context carried in the request's TARS status map as TarsGo's
// contrib OpenTelemetry middleware carries it, instruments observing a
// server's own counts (ObserveServer), counters for client-side events that
// other packages report (Events), and a Prometheus exposition through the
// OpenTelemetry Prometheus exporter on a registry the caller owns
// (NewPrometheus).
//
// It lives in its own module so that the root module stays free of the
// OpenTelemetry SDK. Nothing here starts goroutines or reads global state
// unless asked to: the providers default to no-op ones and the propagator to
// W3C Trace Context plus W3C Baggage; WithGlobalProviders opts into the
// otel package's globals.
//
// # Names
//
// The TARS interface name is not on the wire (a request names its servant
// object and its function), so the method is named after the servant:
// span name and rpc.method are "App.Server.Obj/function", for example
// "UserService.UserServiceObj/getUser", the same on both sides of a call.
// (TarsGo's contrib middleware names its spans "Obj.function" and uses
// tars.* attributes of its own; the trace context it propagates is the same.)
//
// Attributes: rpc.system.name = "tars"; rpc.method; rpc.response.status_code,
// the TARS return code in decimal ("0", "-7", "2"); error.type, the same
// string, when the call failed; on client spans server.address and
// server.port of the endpoint the call went to (the last one tried) as
// configured or resolved (Call.Endpoint), and network.peer.address and
// network.peer.port of the address connected to (Call.Peer). Client spans
// are of kind Client, server spans of kind Server.
//
// A client call failed when its code is not zero. A server call failed
// when its code is negative (a framework failure: the handler panicked, the
// response could not be encoded, a plain error); a service's own positive
// return codes are answers, not failures, unless WithServerErrorCodes says
// otherwise. Failed calls get the span status Error.
//
// # Propagation
//
// A client middleware writes traceparent, tracestate (when not empty) and
// baggage (when not empty) into the request's status map (Call.SetStatus)
// before the call goes out; a server middleware reads them from the
// request's status map (Call.Status). These are the keys TarsGo's contrib
// OpenTelemetry middleware writes and reads, and TarsCpp passes status keys
// that do not start with STATUS_ downstream unchanged, so a trace crosses
// TarsGo and TarsCpp services.
//
// # Metrics
//
// rpc.server.call.duration and rpc.client.call.duration, histograms in
// seconds with the semantic conventions' buckets (0.005 s to 10 s), with the
// attributes rpc.system.name, rpc.method, rpc.response.status_code and, on
// failure, error.type. server.address and server.port are opt-in on metrics
// in the conventions and are left off.
//
// Calls a server answers before any middleware runs (an unknown servant or
// function, overload, queue timeouts) have no span; ObserveServer counts
// them from the server's Stats.
package tarsotel
