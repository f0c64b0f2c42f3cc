package lb

import (
	"context"
	"strconv"

	"github.com/gotars/tars/discovery"
)

// HashType says how a call's hash code chooses its endpoint.
//
// The numbers are not TarsGo's: there tars.ModHash is 0 and
// tars.ConsistentHash 1, and a call is hashed only when a hash was set at
// all; here the zero value NoHash means "not hashed". Values other than
// the three below are taken as NoHash.
type HashType uint8

const (
	// NoHash: the call is not hashed; the balancer uses its own order.
	NoHash HashType = iota
	// ModHash: the endpoint at code % n of the host-deduplicated list
	// (TarsGo's tars.ModHash, 0 there).
	ModHash
	// ConsistentHash: the ketama ring (TarsGo's tars.ConsistentHash, 1
	// there).
	ConsistentHash
)

// String returns the hash type's name.
func (t HashType) String() string {
	switch t {
	case NoHash:
		return "NoHash"
	case ModHash:
		return "ModHash"
	case ConsistentHash:
		return "ConsistentHash"
	}
	return "HashType(" + strconv.Itoa(int(t)) + ")"
}

// Request is what a picker knows about one call.
type Request struct {
	// HashType and Hash route hashed calls; Hash is ignored when HashType
	// is NoHash.
	HashType HashType
	Hash     uint32
	// Skip reports the indices (into the picker's endpoint list) not to
	// pick: tried already, unhealthy, breaker open. nil skips none. It is
	// called from Pick, maybe several times, and must be cheap and safe
	// for concurrent use if the request is shared.
	Skip func(i int) bool
}

// Picker picks an endpoint for each call from one endpoint set.
type Picker interface {
	// Pick returns the index of the endpoint to call, -1 when none can
	// be picked (every endpoint skipped, or none at all). A nil r is a
	// call with no hash and nothing to skip. Pick is safe for concurrent
	// use and does not allocate (a hashing picker builds its hash tables
	// once, on its first hashed call).
	Pick(r *Request) int
}

// Balancer makes pickers. A Balancer may be shared by many clients.
type Balancer interface {
	// Name identifies the balancer ("tars", "round_robin", …).
	Name() string
	// NewPicker returns a picker over eps, as discovery publishes them
	// (sorted by Key, unique). The picker keeps no reference to eps; it
	// is immutable (only its round-robin position moves) and is rebuilt
	// on every set change.
	NewPicker(eps []discovery.Endpoint) Picker
}

type hashKey struct{}

type hashValue struct {
	t    HashType
	code uint32
}

// WithHash returns a context carrying a hash type and code for the calls
// made with it: TarsGo's current.SetClientHash. NoHash removes a hash set
// further up.
func WithHash(ctx context.Context, t HashType, code uint32) context.Context {
	return context.WithValue(ctx, hashKey{}, hashValue{t, code})
}

// HashFromContext returns the hash type and code WithHash put on ctx, or
// NoHash and 0.
func HashFromContext(ctx context.Context) (HashType, uint32) {
	v, ok := ctx.Value(hashKey{}).(hashValue)
	if !ok {
		return NoHash, 0
	}
	return v.t, v.code
}
