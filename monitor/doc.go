// Package monitor reports to the TARS monitor: call statistics to the stat
// server (StatObj, StatF.reportMicMsg) and properties to the property
// server (PropertyObj, PropertyF.reportPropMsg), with the heads, bodies,
// time buckets and policies that TarsGo v1.4.6 sends, so that the TARS web
// console shows gotars services beside TarsGo and TarsCpp ones.
//
// A StatReporter is a tars.Middleware for client and server chains that
// times every call and sums the calls up per head (caller, callee, method,
// endpoint, return value) and interval; a PropertyReporter holds named
// properties whose samples a program reports from any goroutine, summed up
// by policies (Sum, Avg, Distr, Max, Min, Count). Both are values the
// program builds with a *tars.Client of the server they report to, and
// runs:
//
//	statClient, _ := tars.NewClient(monitor.StatObj + "@tcp -h 10.0.0.5 -p 18888 -t 3000")
//	stats, _ := monitor.NewStatReporter(statClient, monitor.StatOptions{
//		Identity: monitor.Identity{App: "Demo", Server: "UserServer", LocalIP: "10.0.0.7"},
//	})
//	srv := tars.NewServer(tars.WithMiddleware(stats.Middleware))
//	go stats.Run(ctx) // one reportMicMsg per side every 10 s; a last one when ctx ends
//
// Constructors start nothing and there is no global state: Run sends every
// Interval (10 s, TarsGo's statreportinterval) until its context ends,
// then sends what is left within a bounded time and returns. Memory is
// bounded: at most MaxHeads distinct heads per side and interval (calls
// with new heads beyond are counted, not kept); a failed report is dropped,
// as TarsGo drops it.
//
// The StatF and PropertyF declarations (ReportMicMsg, ReportSampleMsg,
// ReportPropMsg and their structs) are exported: a program can serve them
// with tars.Handle. Their maps are keyed by structs, as the TARS IDL allows
// with a key[...] declaration and as tars2go generates them; idl-export
// does not print such maps yet.
//
// Where gotars cannot report as TarsGo does (see the StatReporter and
// PropertyReporter docs): a server's call time runs from the middleware,
// not from the packet's arrival; calls answered before the server chain
// (tars_ping, queue timeouts, overload) are not reported; the set of the
// endpoint a client called is not known, so client heads carry no slave
// set.
package monitor
