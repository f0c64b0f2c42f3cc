package discovery

import (
	"cmp"
	"context"
	"slices"
	"sync"
)

// StaticResolver publishes a fixed endpoint list for every target, and a new
// one whenever Update is called: the resolver behind an object string's
// "@endpoints", and a way to steer clients by hand or from configuration.
// It is safe for concurrent use.
type StaticResolver struct {
	mu      sync.Mutex
	eps     []Endpoint
	version uint64
	changed chan struct{} // closed and replaced by every Update
}

// NewStatic returns a resolver that publishes eps (sorted, duplicates by Key
// dropped).
func NewStatic(eps ...Endpoint) *StaticResolver {
	return &StaticResolver{eps: Normalize(eps), changed: make(chan struct{})}
}

// Update replaces the published list; every Watch publishes it.
func (r *StaticResolver) Update(eps ...Endpoint) {
	eps = Normalize(eps)
	r.mu.Lock()
	r.eps = eps
	r.version++
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// Endpoints returns the current list.
func (r *StaticResolver) Endpoints() []Endpoint {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.eps)
}

// Watch publishes the list, and every update, until ctx ends.
func (r *StaticResolver) Watch(ctx context.Context, _ Target, publish func(State)) error {
	var seen uint64
	first := true
	for {
		r.mu.Lock()
		eps, v, changed := r.eps, r.version, r.changed
		r.mu.Unlock()
		if first || v != seen {
			first, seen = false, v
			publish(State{Endpoints: slices.Clone(eps)})
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// Normalize returns eps sorted by Key with duplicate keys dropped (the first
// of each key kept): the form State.Endpoints has.
func Normalize(eps []Endpoint) []Endpoint {
	out := slices.Clone(eps)
	slices.SortStableFunc(out, func(a, b Endpoint) int { return cmp.Compare(a.Key(), b.Key()) })
	return slices.CompactFunc(out, func(a, b Endpoint) bool { return a.Key() == b.Key() })
}
