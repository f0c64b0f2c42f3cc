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
// TARS is the default and picks exactly as TarsGo v1.4.6's
// endpointManager.SelectAdapterProxy does: a call hashed with
// ConsistentHash goes to the ketama ring, one hashed with ModHash to the
// modulo-hash list, and any other call round robin from a random start,
// over TARS's static-weight router cache when every endpoint has
// WeightType 1. RoundRobin, Random, WeightedRoundRobin,
// ModHashBalancer and ConsistentHashBalancer are the parts on their own.
//
// # Compatibility with TarsGo and TarsCpp
//
// The consistent-hash ring is TarsGo's and TarsCpp's: one entry per host
// (not per host:port), for each host 25 virtual names "host_0" …
// "host_24" (weighted: weight/4, at least 1, none for weight 0), each md5
// giving 4 points from its little-endian 32-bit words, so 100 points per
// host; a code goes to the first point >= code, wrapping to the first
// point. Where two hosts share a point the later host in TarsGo's order
// owns it, as TarsGo's map keeps its last writer. TarsCpp picks the first
// point > code: the two disagree only when a code equals a ring point.
//
// Hosts are ordered as TarsGo orders its candidate list: by the IEEE crc32
// of the endpoint's TarsGo key "tcp -h HOST -p PORT -t TIMEOUT_MS" ("udp"
// for udp, "tcp" for ssl too; a zero Timeout is written as TARS's default
// 3000), ties (crc32 collisions) in discovery's order. Several endpoints
// on one host hash as one: the first of them in that order gets all of the
// host's hashed calls, the others none (TarsGo's quirk, kept so that
// hashed calls land where TarsGo's land).
//
// Modulo hash is TarsGo's: code % n over the host-deduplicated list in that
// crc32 order, or over the static-weight router cache built from it when
// every endpoint has WeightType 1. TarsCpp's modulo hash differs and
// cannot be matched at the same time: it takes active and inactive
// registry endpoints together, ordered by the string "istcp:host:port",
// and a 64-bit code.
//
// Static weight (TarsGo's selector.BuildStaticWeightList, a port of
// TarsCpp's router cache): weights are scaled into 1..maxRange with
// maxRange = maxWeight/minWeight clamped to 10..100 (1 when the least
// weight is 0 or less); endpoints whose scaled weight is 0 get one slot at
// the front; the rest follow in a smooth weighted sequence of totalWeight
// slots, ties going to the greater TarsGo key. A weight of -1 (not given)
// or above 100 counts as 100, as TarsGo's endpoint.Parse makes it. Where
// TarsGo would divide by zero (every weight 0) the endpoints are taken
// as equal. TarsCpp drops weight-0 endpoints instead of giving them a
// slot.
//
// # Where this package differs from TarsGo
//
// TarsGo deduplicates every selector by host, so of several servers on
// one host only one ever gets calls. Here only the hashed pickers do
// (they must, to agree with TarsGo); round robin, random and weighted
// round robin use every endpoint.
//
// TarsGo removes a blocked endpoint from its selectors; here the caller
// passes Request.Skip. Round robin then moves a skipped endpoint's turns
// over all the others in rotation (not all to its neighbour), random and
// weighted round robin draw again, consistent hash walks on along the ring
// to the next endpoint not skipped (what TarsGo's ring gives once the
// endpoint is removed), and modulo hash keeps every call whose endpoint is
// not skipped where it is and sends the others to the (code % live)-th
// live endpoint of its list (TarsCpp's rule; TarsGo re-spreads every code
// over the shorter list). When no endpoint of a hashed list can be picked
// the call falls back to round robin over all endpoints (TarsGo picks at
// random then); Pick returns -1 only when every endpoint is skipped.
//
// # Hash codes
//
// TarsGo passes a call's hash with current.SetClientHash(ctx, hashType,
// code), hashType tars.ModHash = 0 or tars.ConsistentHash = 1; here
// NoHash is the zero value, so the numbers differ: use WithHash and the
// HashType constants. The code is used as given, not re-hashed: to hash a
// string key use HashNew, which equals TarsGo's tars.HashNew (and TarsCpp's
// hash_new for ASCII keys). Consecutive small integers all land on one
// ring point's host; pass a real hash.
package lb
