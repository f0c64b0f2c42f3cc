// Package interop holds tests of gotars' OpenTelemetry middleware
// (middleware/tarsotel) against TarsGo v1.4.6: a trace that crosses a TarsGo
// service whose filters carry trace context in the request status map, as
// TarsGo's contrib OpenTelemetry middleware does.
//
// It is a module of its own: TarsGo's client filters are registered on
// TarsGo's process-wide application (tars.UseClientFilterMiddleware), which
// must not reach the other interop tests, and the root interop module stays
// free of the OpenTelemetry SDK.
package interop
