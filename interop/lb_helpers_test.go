package interop

// Machinery of the load-balancing tests: random endpoint sets, the same set
// as TarsGo holds it (parsed by TarsGo's endpoint.Parse and ordered by
// TarsGo's own endpointManager), and a selector.Message. No traffic is sent:
// TarsGo's endpointManager for a direct object dials nothing until a call.

import (
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	tarsgo "github.com/TarsCloud/TarsGo/tars"
	"github.com/TarsCloud/TarsGo/tars/selector"
	"github.com/TarsCloud/TarsGo/tars/util/endpoint"

	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/transport"
)

// lbCodes is how many random hash codes each endpoint set is checked with.
func lbCodes() int {
	switch {
	case testing.Short():
		return 10_000
	case raceEnabled:
		return 10_000
	}
	return 100_000
}

// lbWeights says how a generated set is weighted.
type lbWeights int

const (
	lbUnweighted lbWeights = iota // WeightType 0, no -w
	lbWeighted                    // every endpoint WeightType 1, weights -1, 0..300
	lbMixed                       // some WeightType 1, some 0: TarsGo weights none
)

func (w lbWeights) String() string {
	return [...]string{"unweighted", "weighted", "mixed"}[w]
}

// lbEndpoints returns n endpoints as discovery publishes them (sorted by
// Key, unique keys), on hosts 10.0.x.y; portsPerHost > 1 puts up to that
// many endpoints on one host. Networks, ports and timeouts vary.
func lbEndpoints(r *rand.Rand, n, portsPerHost int, w lbWeights) []discovery.Endpoint {
	seen := map[string]bool{}
	var eps []discovery.Endpoint
	for len(eps) < n {
		h := r.IntN(1 << 16)
		host := fmt.Sprintf("10.0.%d.%d", h>>8, h&255)
		for range 1 + r.IntN(portsPerHost) {
			if len(eps) == n {
				break
			}
			a := transport.Address{
				Network: [...]string{"tcp", "tcp", "ssl", "udp"}[r.IntN(4)],
				Host:    host,
				Port:    1 + r.IntN(65535),
				Weight:  -1,
			}
			if r.IntN(3) > 0 {
				a.Timeout = time.Duration(1+r.IntN(60000)) * time.Millisecond
			}
			if w == lbWeighted || (w == lbMixed && r.IntN(2) == 0) {
				a.WeightType = 1
				switch k := r.IntN(10); {
				case k == 0:
					a.Weight = -1
				case k == 1:
					a.Weight = 0
				case k == 2:
					a.Weight = 101 + r.IntN(200)
				default:
					a.Weight = 1 + r.IntN(100)
				}
			}
			e := discovery.FromAddress(a)
			if seen[e.Key()] {
				continue
			}
			seen[e.Key()] = true
			eps = append(eps, e)
		}
	}
	if w == lbMixed && n > 1 {
		eps[0].WeightType, eps[1].WeightType = 0, 1 // both kinds, whatever the draw
	}
	slices.SortFunc(eps, func(a, b discovery.Endpoint) int { return strings.Compare(a.Key(), b.Key()) })
	return eps
}

// tarsGoSet is an endpoint set as TarsGo v1.4.6 holds it.
type tarsGoSet struct {
	// sorted is endpointManager.activeEp: every endpoint parsed by
	// endpoint.Parse, in the order updateActiveEp sorts them (crc32 of
	// Key), from TarsGo's own endpointManager.
	sorted []endpoint.Endpoint
	// weighted is endpointManager.enableWeight: every endpoint has the
	// same WeightType and it is 1.
	weighted bool
}

// lbTarsGoSet returns eps as TarsGo's endpointManager holds them for the
// direct object "Lb.Test.Obj@…" (GetManager parses the endpoints and
// sorts them; no connection is made). ok is false when TarsGo cannot hold
// them: its BuildStaticWeightList divides by zero when every endpoint it
// keeps (one per host) has weight 0.
func lbTarsGoSet(t testing.TB, eps []discovery.Endpoint) (s tarsGoSet, ok bool) {
	t.Helper()
	defer func() {
		if e := recover(); e != nil {
			t.Logf("TarsGo cannot hold %v: %v", eps, e)
			ok = false
		}
	}()
	strs := make([]string, len(eps))
	for i, e := range eps {
		strs[i] = e.String()
	}
	m := tarsgo.GetManager(rpcComm(), "Lb.Test.Obj@"+strings.Join(strs, ":"))
	for _, ep := range m.GetAllEndpoint() {
		s.sorted = append(s.sorted, *ep)
	}
	if len(s.sorted) != len(eps) {
		t.Fatalf("TarsGo's endpointManager holds %d endpoints of %d", len(s.sorted), len(eps))
	}
	s.weighted = true
	for _, ep := range s.sorted {
		if ep.WeightType != 1 {
			s.weighted = false
		}
	}
	return s, true
}

// lbIndex returns the index in eps of TarsGo's endpoint ep (same network,
// host and port), -1 when there is none.
func lbIndex(eps []discovery.Endpoint, ep endpoint.Endpoint) int {
	for i, e := range eps {
		istcp := int32(1)
		switch e.Network {
		case "udp":
			istcp = 0
		case "ssl":
			istcp = 2
		}
		if e.Host == ep.Host && e.Port == int(ep.Port) && istcp == ep.Istcp {
			return i
		}
	}
	return -1
}

// hashMsg is a hashed call as TarsGo's selectors see it.
type hashMsg struct {
	code uint32
	typ  selector.HashType
}

func (m hashMsg) HashCode() uint32            { return m.code }
func (m hashMsg) HashType() selector.HashType { return m.typ }
func (m hashMsg) IsHash() bool                { return true }

// lbEdgeCodes returns codes at and around the ring points of eps' hosts
// (computed here the ketama way) and the ends of the code space: where
// "first point >= code" and wrapping matter.
func lbEdgeCodes(eps []discovery.Endpoint) []uint32 {
	codes := []uint32{0, 1, 1<<32 - 1, 1<<32 - 2}
	for _, e := range eps {
		for i := range 2 {
			p := ketamaPoints(fmt.Sprintf("%s_%d", e.Host, i))
			for _, pt := range p {
				codes = append(codes, pt-1, pt, pt+1)
			}
		}
	}
	return codes
}

// ketamaPoints returns the four ring points of one virtual name: its md5's
// little-endian 32-bit words.
func ketamaPoints(name string) [4]uint32 {
	p := md5.Sum([]byte(name))
	var pts [4]uint32
	for k := range pts {
		pts[k] = binary.LittleEndian.Uint32(p[4*k:])
	}
	return pts
}
