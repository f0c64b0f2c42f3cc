// Package lb chooses which endpoint of a servant a call goes to, the way
// TARS clients do.
//
// A Balancer turns an endpoint set, as discovery publishes it, into a
// Picker; the client asks the picker for an endpoint on every call and
// builds a new picker whenever the set changes (a picker is immutable).
// Pickers work on their own, with no client or network, so routing can be
// unit-tested: build one over a list of endpoints and look at what it
// picks.
//
// # Balancers
//
// TARS is the default and picks as TarsGo v1.4.6's
// endpointManager.SelectAdapterProxy does, but for the differences below: a
// call hashed with ConsistentHash goes to the ketama ring, one hashed with
// ModHash to the modulo-hash list, and any other call round robin from a
// random start, over TARS's static-weight router cache when every endpoint
// has WeightType 1. RoundRobin, Random, WeightedRoundRobin, ModHashBalancer
// and ConsistentHashBalancer are the parts on their own.
//
// # Compatibility with TarsGo and TarsCpp
//
// The consistent-hash ring is TarsGo's and TarsCpp's: one entry per host
// (not per host:port), for each host 25 virtual names "host_0" … "host_24"
// (weighted: weight/4, at least 1, none for weight 0), each md5 giving 4
// points from its little-endian 32-bit words, so 100 points per host; a
// code goes to the first point >= code, wrapping to the first point. Where
// two hosts share a point the later host in TarsGo's order owns it, as
// TarsGo's map keeps its last writer. TarsCpp picks the first point > code:
// the two disagree only when a code equals a ring point.
//
// Hosts are ordered as TarsGo orders its candidate list: by the IEEE crc32
// of the endpoint's TarsGo key "tcp -h HOST -p PORT -t TIMEOUT_MS" ("udp"
// for udp, "tcp" for ssl too; a zero Timeout is written as TARS's default
// 3000), ties (crc32 collisions) in discovery's order. Several endpoints on
// one host hash as one: the first of them in that order gets all of the
// host's hashed calls, the others none (TarsGo's quirk, kept so that hashed
// calls land where TarsGo's land).
//
// Modulo hash is TarsGo's: code % n over the host-deduplicated list in that
// crc32 order, or over the static-weight router cache built from it when
// every endpoint has WeightType 1. TarsCpp's modulo hash differs and cannot
// be matched at the same time: it takes active and inactive registry
// endpoints together, ordered by the string "istcp:host:port", and a 64-bit
// code.
//
// Static weight (TarsGo's selector.BuildStaticWeightList, a port of
// TarsCpp's router cache): weights are scaled into 0..maxRange with
// maxRange = maxWeight/minWeight clamped to 10..100 (1 when the least
// weight is 0 or less); endpoints whose scaled weight is 0 get one slot at
// the front; the rest follow in a smooth weighted sequence of totalWeight
// slots, ties going to the greater TarsGo key. A weight of -1 (not given)
// or above 100 counts as 100, as TarsGo's endpoint.Parse makes it for
// "@endpoints" (TarsGo keeps a registry's weight above 100 as it is, so
// there the two would differ). Where TarsGo divides by zero and panics
// (every weight 0) the endpoints are taken as equal. TarsCpp drops weight-0
// endpoints instead of giving them a slot. The consistent-hash ring reads
// the same weights.
//
// # Where this package differs from TarsGo
//
// TarsGo deduplicates every selector by host, so of several servers on one
// host only one ever gets calls. Here only the hashed pickers do (they
// must, to agree with TarsGo; TarsCpp too keys its ring by host); round
// robin, random and weighted round robin use every endpoint, as TarsCpp's
// round robin does.
//
// TarsGo removes a blocked endpoint from its selectors; here the caller
// passes Request.Skip. Round robin then moves a skipped endpoint's turns
// over all the others in rotation (not all to its neighbour), random and
// weighted round robin draw again, consistent hash walks on along the ring
// to the next endpoint not skipped (what TarsGo's ring gives once the
// endpoint is removed; a skipped host's other ports take nothing over, as
// in TarsGo until its next registry refresh), and modulo hash keeps every
// call whose endpoint is not skipped where it is and sends the others to
// the (code % live)-th live endpoint of its list (what TarsGo's list
// without the skipped endpoints gives those codes, and TarsCpp's rule;
// TarsGo moves the other codes as well), or, weighted, to the next live
// slot of the router cache. When no endpoint of a hashed list can be picked
// (all weights 0, or every host's first endpoint skipped) the call falls
// back to round robin over all endpoints (TarsGo then picks at random from
// the registry's list); Pick returns -1 only when every endpoint is
// skipped.
//
// # Cost
//
// NewPicker copies a few fields of each endpoint; under static weight it
// also builds the router cache (one slot per scaled weight unit, up to 100
// per endpoint). The hashing tables are built on a picker's first hashed
// call: the modulo list is a crc32 sort, the ring 25 md5s per host, which
// the TARS balancers remember for recently seen hosts (up to twice the
// largest ring, at least 4096 hosts, about 400 bytes each), so a new picker
// after a set change hashes only the new hosts. A ring takes about 1 KB per
// host. Pick takes no lock and does not allocate. A client that wants no call to wait for a build can make one
// hashed Pick of each kind in the goroutine that applies the update, before
// it publishes the picker.
//
// # Hash codes
//
// TarsGo passes a call's hash with current.SetClientHash(ctx, hashType,
// code), hashType tars.ModHash = 0 or tars.ConsistentHash = 1; here NoHash
// is the zero value, so the numbers differ: use WithHash and the HashType
// constants. The code is used as given, not re-hashed: to hash a string key
// use HashNew, which equals TarsGo's tars.HashNew (and TarsCpp's hash_new
// for ASCII keys). Consecutive small integers all land on one ring point's
// host; pass a real hash.
package lb
