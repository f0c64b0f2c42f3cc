// Package consul resolves and registers TARS servants through Consul
// (github.com/hashicorp/consul/api). It is a module of its own, so that
// importing gotars never pulls in Consul's dependency tree.
//
// A Resolver implements discovery.Resolver with blocking health queries: a
// client watching "App.Server.Obj" gets the passing instances of the Consul
// service "app-server-obj" (ServiceName gives the mapping), with their
// weights (Weights.Passing) and TARS fields (transport, timeout, weight type,
// set, from the service Meta), as whole, sorted sets, and a new set within
// one query of each change. A Registrar implements discovery.Registrar: a
// server registers each servant endpoint with its local agent, with a TCP
// check (or a TTL check that Registrar.Run keeps passing), and deregisters
// it when it shuts down.
//
// Neither starts a goroutine: Resolver.Watch and Registrar.Run run in the
// caller's goroutine and return when their context ends, and every HTTP
// request runs under that context. The *api.Client is the caller's; note
// that api.NewClient fills the fields a Config leaves empty from the
// CONSUL_HTTP_* environment variables.
//
// The TARS fields travel in Meta keys without dots (Consul refuses dots):
// tars_servant, tars_transport, tars_timeout (ms), tars_weight_type,
// tars_weight (only for a TARS weight of 0, which Consul's Weights cannot
// hold), tars_set and tars_auth.
//
// The tests run a real Consul agent (v1.15.4, the last MPL-2.0 release
// that builds from the module proxy) built by scripts/consul.sh.
package consul
