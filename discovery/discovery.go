// Package discovery finds where servants are served. A Resolver watches a
// servant name and publishes whole endpoint sets; a Registrar announces a
// server's own endpoints. Backends live in their own packages
// (discovery/tarsregistry for the TARS registry, the discovery/consul module
// for Consul); Static serves fixed lists, as an object string's
// "@endpoints" does.
//
// Nothing here starts goroutines: a Watch runs in the goroutine that calls
// it and returns when its context ends.
package discovery

import (
	"context"
	"net"
	"strconv"

	"github.com/gotars/tars/transport"
)

// Endpoint is one address where a servant is served, with what the backend
// knows about it.
type Endpoint struct {
	// Network ("tcp", "udp" or "ssl"), Host, Port, Timeout (-t), Weight
	// (-w, -1 when not given), WeightType (0 round robin, 1 static
	// weight), Auth (-e).
	transport.Address
	SetID    string            // the TARS set "name.area.group" it belongs to, "" when none
	NodeName string            // the node it runs on, when the backend knows it
	Meta     map[string]string // backend-specific metadata (Consul service Meta, the EndpointF fields without a place above)
}

// FromAddress returns the endpoint served at a.
func FromAddress(a transport.Address) Endpoint { return Endpoint{Address: a} }

// Key identifies the endpoint within a set: its network, host and port. Two
// endpoints with the same key are the same place, whatever else differs.
func (e Endpoint) Key() string {
	return e.Network + " " + net.JoinHostPort(e.Host, strconv.Itoa(e.Port))
}

// Target names what a client resolves.
type Target struct {
	Servant string // the servant object, "App.Server.Obj"
	SetID   string // resolve within this TARS set ("name.area.group"); "" for none
}

// State is one published result of a resolution: a whole set, replacing
// the one before.
type State struct {
	// Endpoints are the active endpoints: the ones to call, sorted and
	// without duplicate keys.
	Endpoints []Endpoint
	// Inactive are endpoints the backend knows but marks not to be called
	// (the TARS registry's inactive list). They are never picked.
	Inactive []Endpoint
	// Err is the error of the latest resolution attempt, nil when it
	// succeeded. A backend that keeps its last good set on errors publishes
	// that set along with the error.
	Err error
}

// Resolver watches servants' endpoint sets.
type Resolver interface {
	// Watch resolves t and calls publish with each new State, the first as
	// soon as it is known, until ctx ends; then it returns ctx's error. It
	// returns earlier only with an error that no retry can mend (a bad
	// target). publish is called from Watch's goroutine, one call at a
	// time; it must not block for long, and it owns the slices it is
	// given.
	Watch(ctx context.Context, t Target, publish func(State)) error
}

// Registration is one servant endpoint a server announces.
type Registration struct {
	Servant  string   // the servant object, "App.Server.Obj"
	Endpoint Endpoint // where it is served
}

// Registrar announces a server's servants to a registry.
type Registrar interface {
	// Register announces reg; registering the same servant and endpoint
	// again updates it.
	Register(ctx context.Context, reg Registration) error
	// Deregister withdraws reg; withdrawing what is not registered is not
	// an error.
	Deregister(ctx context.Context, reg Registration) error
}
