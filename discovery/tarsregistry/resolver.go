// Package tarsregistry resolves TARS servants through the TARS registry:
// the QueryF interface served at tars.tarsregistry.QueryObj, called with
// gotars itself.
//
// A Resolver asks findObjectByIdInSameGroup, as TarsGo and TarsCpp clients
// do, or findObjectByIdInSameSet when the target names a set, or
// findObjectById4Any on request (WithAnyGroup). It asks at once, then every
// 60 s (WithRefreshInterval); it publishes the active endpoints and,
// apart, the inactive ones (never to be called). TarsGo's rule holds: an
// error and an answer without an active endpoint both keep the last good
// list, published again with State.Err. With WithCacheFile, good answers
// are written to a cache file in TarsGo's .tarsdat form, and a Watch whose
// first query fails starts from it, so that a process started while the
// registry is down can still call.
//
// The request context carries "node_name" (WithNodeName), as TARS clients
// send it on every framework call.
//
// There is no Registrar here: a TARS server does not register itself. The
// registry learns a server's endpoints from its deployment, and tarsnode
// reports whether it is alive (TarsGo's built-in registrar's Registry and
// Deregister do nothing).
package tarsregistry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/transport"
)

// Defaults.
const (
	DefaultRefreshInterval = 60 * time.Second // TarsGo's and TarsCpp's refresh-endpoint-interval
	DefaultRetryInterval   = 2 * time.Second  // TarsCpp's retry after a failed query
	DefaultQueryTimeout    = 5 * time.Second  // TarsCpp's registry request timeout
)

// Meta keys of the EndpointF fields that discovery.Endpoint has no place
// for. Each is set, in decimal, on every endpoint the Resolver publishes.
const (
	MetaGrid        = "grid"
	MetaGroupWorkID = "groupworkid"
	MetaGroupRealID = "grouprealid"
	MetaQoS         = "qos"
	MetaBakFlag     = "bakFlag"
)

// ErrNoActive is State.Err (wrapped) when the registry answered without an
// active endpoint: the last good list, if any, is kept.
var ErrNoActive = errors.New("tarsregistry: the registry lists no active endpoint")

// ErrBadTarget is wrapped by the error Watch returns for a target it cannot
// resolve: an empty servant, one with endpoints ('@'), a malformed set id.
var ErrBadTarget = errors.New("tarsregistry: bad target")

// QueryError is State.Err when the registry answered with a non-zero return
// code (findObjectByIdInSameSet answers -1 for a set it cannot serve).
type QueryError struct {
	Method  string // the QueryF method
	Servant string
	SetID   string
	Ret     int32
}

// Error names the query and the code.
func (e *QueryError) Error() string {
	s := fmt.Sprintf("tarsregistry: %s(%q", e.Method, e.Servant)
	if e.SetID != "" {
		s += fmt.Sprintf(", %q", e.SetID)
	}
	return s + fmt.Sprintf(") returned %d", e.Ret)
}

// InvalidEndpointError is State.Err when the answer listed endpoints that
// cannot be called (no host, a port out of range): they are left out, the
// others used.
type InvalidEndpointError struct {
	Servant string
	Dropped []EndpointF
}

// Error counts the dropped endpoints and names the first.
func (e *InvalidEndpointError) Error() string {
	d := e.Dropped[0]
	return fmt.Sprintf("tarsregistry: %s: %d endpoint(s) left out as invalid, the first host %q port %d", e.Servant, len(e.Dropped), d.Host, d.Port)
}

// Option configures a Resolver.
type Option func(*config)

type config struct {
	refresh    time.Duration
	retry      time.Duration
	timeout    time.Duration
	nodeName   string
	anyGroup   bool
	cachePath  string
	clientOpts []tars.ClientOption
	logger     *slog.Logger
	now        func() time.Time
}

// WithRefreshInterval sets the time between queries after a good answer
// (default DefaultRefreshInterval; at least 1 ms).
func WithRefreshInterval(d time.Duration) Option {
	return func(c *config) { c.refresh = max(d, time.Millisecond) }
}

// WithRetryInterval sets the first pause after a failed query or an answer
// without active endpoints (default DefaultRetryInterval); it doubles on
// each failure in a row up to the refresh interval.
func WithRetryInterval(d time.Duration) Option {
	return func(c *config) { c.retry = max(d, time.Millisecond) }
}

// WithQueryTimeout bounds one registry query (default DefaultQueryTimeout).
func WithQueryTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = max(d, time.Millisecond) }
}

// WithNodeName sets the "node_name" entry of every query's request context:
// the node this process runs on, as TARS clients send it (TarsGo takes it
// from /tars/application/server<node_name>).
func WithNodeName(name string) Option { return func(c *config) { c.nodeName = name } }

// WithAnyGroup makes the Resolver ask findObjectById4Any: every active and
// inactive endpoint, whatever the IDC group or set (TarsCpp's
// getEndpointByAll). It overrides the set lookup.
func WithAnyGroup() Option { return func(c *config) { c.anyGroup = true } }

// WithCacheFile names the cache file, in TarsGo's .tarsdat JSON form
// (TarsGo's own is "<datapath>/<server>.tarsdat"). Good answers are written
// to it; a Watch whose first query fails publishes the file's entry for the
// same servant, set and locator. Nothing is read or written without it.
func WithCacheFile(path string) Option { return func(c *config) { c.cachePath = path } }

// WithClientOptions sets the options of the client that calls the registry
// (TLS, a dialer, middleware, …).
func WithClientOptions(opts ...tars.ClientOption) Option {
	return func(c *config) { c.clientOpts = append(c.clientOpts, opts...) }
}

// WithLogger sets where the Resolver reports what it cannot publish: cache
// files it fails to write. Default: none.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// Resolver resolves servants through a TARS registry. It is safe for
// concurrent use; each Watch runs its own registry client, closed when the
// Watch returns.
type Resolver struct {
	locator string
	cfg     config
	cacheMu sync.Mutex // serializes the cache file's read-modify-write
}

var _ discovery.Resolver = (*Resolver)(nil)

// New returns a resolver that queries the registry named by locator, an
// object string with endpoints:
// "tars.tarsregistry.QueryObj@tcp -h 10.0.0.1 -p 17890:tcp -h 10.0.0.2 -p 17890"
// (the client locator of a TARS configuration). It connects to nothing
// until Watch is called.
func New(locator string, opts ...Option) (*Resolver, error) {
	_, addrs, err := transport.ParseObject(locator)
	if err != nil {
		return nil, fmt.Errorf("tarsregistry: locator: %w", err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("tarsregistry: locator %q has no endpoints", locator)
	}
	cfg := config{refresh: DefaultRefreshInterval, retry: DefaultRetryInterval, timeout: DefaultQueryTimeout, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	return &Resolver{locator: locator, cfg: cfg}, nil
}

// Locator returns the locator object string the resolver queries.
func (r *Resolver) Locator() string { return r.locator }

// checkTarget validates t as the registry's rules need it.
func checkTarget(t discovery.Target) error {
	if strings.TrimSpace(t.Servant) == "" {
		return fmt.Errorf("%w: empty servant", ErrBadTarget)
	}
	if strings.Contains(t.Servant, "@") {
		return fmt.Errorf("%w: servant %q has endpoints; resolve it with discovery.Static", ErrBadTarget, t.Servant)
	}
	if t.SetID != "" {
		p := strings.Split(t.SetID, ".")
		if len(p) != 3 || p[0] == "" || p[1] == "" || p[2] == "" || p[0] == "*" || p[1] == "*" {
			return fmt.Errorf("%w: set id %q is not name.area.group (name and area not *)", ErrBadTarget, t.SetID)
		}
	}
	return nil
}

// answer is one registry answer, as received.
type answer struct {
	active, inactive []EndpointF
}

// query asks the registry once.
func (r *Resolver) query(ctx context.Context, c *tars.Client, t discovery.Target) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.timeout)
	defer cancel()
	if r.cfg.nodeName != "" {
		ctx = tars.WithOutgoingContext(ctx, map[string]string{"node_name": r.cfg.nodeName})
	}
	var (
		method   string
		ret      int32
		a        answer
		err      error
		setQuery = t.SetID
	)
	switch {
	case r.cfg.anyGroup:
		method, setQuery = FindObjectByID4Any.Name(), ""
		var l Lists
		l, err = FindObjectByID4Any.Call(ctx, c, IDArgs{ID: t.Servant})
		ret, a = l.Ret, answer{l.Active, l.Inactive}
	case t.SetID != "":
		method = FindObjectByIDInSameSet.Name()
		var l SetLists
		l, err = FindObjectByIDInSameSet.Call(ctx, c, SetArgs{ID: t.Servant, SetID: t.SetID})
		ret, a = l.Ret, answer{l.Active, l.Inactive}
	default:
		method = FindObjectByIDInSameGroup.Name()
		var l Lists
		l, err = FindObjectByIDInSameGroup.Call(ctx, c, IDArgs{ID: t.Servant})
		ret, a = l.Ret, answer{l.Active, l.Inactive}
	}
	if err != nil {
		return answer{}, fmt.Errorf("tarsregistry: %s(%q) through %s: %w", method, t.Servant, r.locator, err)
	}
	if ret != 0 {
		return answer{}, &QueryError{Method: method, Servant: t.Servant, SetID: setQuery, Ret: ret}
	}
	return a, nil
}

// ToEndpoint maps an EndpointF onto a discovery.Endpoint: istcp 0 is "udp",
// 2 "ssl", anything else "tcp" (as TarsGo's Tars2endpoint); timeout in ms;
// weight (as listed: 0 when the registry sends none), weightType, authType,
// setId and nodeName in their places; grid, groupworkid, grouprealid, qos
// and bakFlag in Meta (MetaGrid, …), in decimal.
func ToEndpoint(f EndpointF) discovery.Endpoint {
	network := "tcp"
	switch f.IsTCP {
	case IsUDP:
		network = "udp"
	case IsSSL:
		network = "ssl"
	}
	return discovery.Endpoint{
		Address: transport.Address{
			Network: network, Host: f.Host, Port: int(f.Port),
			Timeout: time.Duration(f.Timeout) * time.Millisecond,
			Weight:  int(f.Weight), WeightType: int(f.WeightType), Auth: int(f.AuthType),
		},
		SetID:    f.SetID,
		NodeName: f.NodeName,
		Meta: map[string]string{
			MetaGrid:        strconv.Itoa(int(f.Grid)),
			MetaGroupWorkID: strconv.Itoa(int(f.GroupWorkID)),
			MetaGroupRealID: strconv.Itoa(int(f.GroupRealID)),
			MetaQoS:         strconv.Itoa(int(f.QoS)),
			MetaBakFlag:     strconv.Itoa(int(f.BakFlag)),
		},
	}
}

func validEndpoint(f EndpointF) bool {
	return strings.TrimSpace(f.Host) != "" && f.Port > 0 && f.Port <= 65535
}

// endpoints maps a list, leaving out invalid entries (returned apart), and
// normalizes it (sorted by key, duplicates dropped).
func endpoints(fs []EndpointF) (eps []discovery.Endpoint, dropped []EndpointF) {
	eps = make([]discovery.Endpoint, 0, len(fs))
	for _, f := range fs {
		if !validEndpoint(f) {
			dropped = append(dropped, f)
			continue
		}
		eps = append(eps, ToEndpoint(f))
	}
	return discovery.Normalize(eps), dropped
}

// lists is an answer as published, with the entries left out as invalid.
type lists struct {
	active, inactive []discovery.Endpoint
	dropped          []EndpointF
}

func toLists(a answer) lists {
	var l lists
	var d1, d2 []EndpointF
	l.active, d1 = endpoints(a.active)
	l.inactive, d2 = endpoints(a.inactive)
	l.dropped = append(d1, d2...)
	return l
}

// Watch resolves t through the registry and publishes each new State until
// ctx ends; it returns ctx's error, or at once an error wrapping
// ErrBadTarget. The first query runs at once; the first State is published
// when it ends, whatever its outcome. Later ones are published when the
// lists or the error change. While no good answer is known, each failed
// query looks the target up in the cache file (WithCacheFile).
func (r *Resolver) Watch(ctx context.Context, t discovery.Target, publish func(discovery.State)) error {
	if err := checkTarget(t); err != nil {
		return err
	}
	c, err := tars.NewClient(r.locator, r.cfg.clientOpts...)
	if err != nil {
		return fmt.Errorf("tarsregistry: %w", err)
	}
	defer c.Close()

	var (
		good     lists // the last good lists
		haveGood bool
		prev     discovery.State
		first    = true
		retry    = r.cfg.retry
		cached   []EndpointF // what this Watch last wrote to the cache
		cachedIn []EndpointF
		wrote    bool
	)
	for {
		a, qerr := r.query(ctx, c, t)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var st discovery.State
		ok := false
		switch {
		case qerr != nil:
			if !haveGood && r.cfg.cachePath != "" {
				if l, found := r.fromCache(t); found {
					good, haveGood = l, true
					qerr = fmt.Errorf("%w; endpoints from the cache %s", qerr, r.cfg.cachePath)
				}
			}
			st.Err = qerr
		case len(a.active) == 0:
			st.Err = fmt.Errorf("%w for %s (%d inactive)", ErrNoActive, t.Servant, len(a.inactive))
			if !haveGood {
				st.Inactive, _ = endpoints(a.inactive)
			}
		default:
			l := toLists(a)
			if len(l.active) == 0 { // all invalid: as empty
				st.Err = &InvalidEndpointError{Servant: t.Servant, Dropped: l.dropped}
				break
			}
			good, haveGood, ok = l, true, true
			if len(l.dropped) > 0 {
				st.Err = &InvalidEndpointError{Servant: t.Servant, Dropped: l.dropped}
			}
			if r.cfg.cachePath != "" && (!wrote || !slices.Equal(cached, a.active) || !slices.Equal(cachedIn, a.inactive)) {
				if err := r.toCache(t, a); err != nil {
					if r.cfg.logger != nil {
						r.cfg.logger.Warn("tarsregistry: cache not written", "servant", t.Servant, "err", err)
					}
				} else {
					cached, cachedIn, wrote = a.active, a.inactive, true
				}
			}
		}
		if haveGood {
			st.Endpoints, st.Inactive = good.active, good.inactive // never modified; publish gets copies
		}
		if first || changed(prev, st) {
			prev = st
			publish(copyState(st))
		}
		first = false

		wait := r.cfg.refresh
		if ok {
			retry = r.cfg.retry
		} else {
			wait = min(retry, r.cfg.refresh)
			retry = min(2*retry, r.cfg.refresh)
		}
		tm := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			tm.Stop()
			return ctx.Err()
		case <-tm.C:
		}
	}
}

// fromCache reads the cache file's entry for t.
func (r *Resolver) fromCache(t discovery.Target) (lists, bool) {
	r.cacheMu.Lock()
	ac, err := ReadAppCache(r.cfg.cachePath)
	r.cacheMu.Unlock()
	if err != nil {
		return lists{}, false
	}
	oc, ok := ac.Lookup(t.Servant, r.cacheSet(t), r.locator)
	if !ok || len(oc.Endpoints) == 0 {
		return lists{}, false
	}
	l := toLists(answer{oc.Endpoints, oc.InactiveEndpoints})
	return l, len(l.active) > 0
}

// cacheSet is the SetID an entry for t is filed under: the set queried.
func (r *Resolver) cacheSet(t discovery.Target) string {
	if r.cfg.anyGroup {
		return ""
	}
	return t.SetID
}

// toCache files a good answer under t, keeping the file's other entries.
func (r *Resolver) toCache(t discovery.Target, a answer) error {
	r.cacheMu.Lock()
	defer r.cacheMu.Unlock()
	ac, err := ReadAppCache(r.cfg.cachePath)
	if err != nil {
		ac = &AppCache{TarsVersion: "gotars"} // a missing or unreadable file is replaced
	}
	ac.Put(ObjCache{Name: t.Servant, SetID: r.cacheSet(t), Locator: r.locator,
		Endpoints: a.active, InactiveEndpoints: a.inactive}, r.cfg.now())
	return WriteAppCache(r.cfg.cachePath, ac)
}

func changed(a, b discovery.State) bool {
	if (a.Err == nil) != (b.Err == nil) || a.Err != nil && a.Err.Error() != b.Err.Error() {
		return true
	}
	return !sameEndpoints(a.Endpoints, b.Endpoints) || !sameEndpoints(a.Inactive, b.Inactive)
}

func sameEndpoints(a, b []discovery.Endpoint) bool {
	return slices.EqualFunc(a, b, func(x, y discovery.Endpoint) bool {
		return x.Address == y.Address && x.SetID == y.SetID && x.NodeName == y.NodeName && maps.Equal(x.Meta, y.Meta)
	})
}

// copyState gives publish slices and maps of its own.
func copyState(s discovery.State) discovery.State {
	cp := func(eps []discovery.Endpoint) []discovery.Endpoint {
		if eps == nil {
			return nil
		}
		out := slices.Clone(eps)
		for i := range out {
			out[i].Meta = maps.Clone(out[i].Meta)
		}
		return out
	}
	return discovery.State{Endpoints: cp(s.Endpoints), Inactive: cp(s.Inactive), Err: s.Err}
}
