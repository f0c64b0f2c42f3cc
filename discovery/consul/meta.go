package consul

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/transport"
	"github.com/hashicorp/consul/api"
)

// The service Meta keys that carry TARS endpoint fields. Consul refuses
// Meta keys with dots, so they use underscores.
const (
	MetaServant    = "tars_servant"     // the exact servant name ("App.Server.Obj")
	MetaTransport  = "tars_transport"   // "tcp", "udp" or "ssl"; "tcp" when absent
	MetaTimeout    = "tars_timeout"     // the endpoint timeout (-t) in milliseconds
	MetaWeightType = "tars_weight_type" // 0 round robin, 1 static weight (-v)
	MetaWeight     = "tars_weight"      // the TARS weight when Consul's Weights cannot hold it (0)
	MetaSet        = "tars_set"         // the TARS set "name.area.group"
	MetaAuth       = "tars_auth"        // TarsCpp's authentication flag (-e)
)

// Keys Resolver adds to Endpoint.Meta (never sent to Consul).
const (
	EndpointMetaServiceID  = "consul.service_id" // the Consul service ID
	EndpointMetaDatacenter = "consul.datacenter" // the datacenter of the node
	EndpointMetaStatus     = "consul.status"     // the aggregated health: passing, warning, critical, maintenance
)

// ErrRegistration is wrapped by the errors for registrations Consul would
// refuse or clients could not use (an unspecified host, a bad port, Meta
// keys with dots, a weight out of range).
var ErrRegistration = errors.New("consul: bad registration")

var metaKey = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`).MatchString

func isTARSKey(k string) bool { return strings.HasPrefix(k, "tars_") }

// service builds the agent registration of reg.
func (c *registrarConfig) service(reg discovery.Registration) (*api.AgentServiceRegistration, error) {
	name, err := ServiceName(reg.Servant)
	if err != nil {
		return nil, err
	}
	ep := reg.Endpoint
	if err := checkHost(ep.Host); err != nil {
		return nil, err
	}
	if ep.Port <= 0 || ep.Port > 65535 {
		return nil, fmt.Errorf("%w: port %d", ErrRegistration, ep.Port)
	}
	network := ep.Network
	if network == "" {
		network = "tcp"
	}
	switch network {
	case "tcp", "udp", "ssl":
	default:
		return nil, fmt.Errorf("%w: transport %q (want tcp, udp or ssl)", ErrRegistration, ep.Network)
	}
	if ep.Weight > 65535 {
		return nil, fmt.Errorf("%w: weight %d above Consul's 65535", ErrRegistration, ep.Weight)
	}
	if ep.Timeout < 0 {
		return nil, fmt.Errorf("%w: negative timeout %v", ErrRegistration, ep.Timeout)
	}

	meta := make(map[string]string, len(ep.Meta)+4)
	for k, v := range ep.Meta {
		switch {
		case strings.Contains(k, "."):
			return nil, fmt.Errorf("%w: Meta key %q has a dot (Consul refuses them; use '_')", ErrRegistration, k)
		case !metaKey(k) || len(k) > 128:
			return nil, fmt.Errorf("%w: Meta key %q (Consul takes 1-128 of [A-Za-z0-9_-])", ErrRegistration, k)
		case strings.HasPrefix(k, "consul-"):
			return nil, fmt.Errorf("%w: Meta key %q: the consul- prefix is Consul's own", ErrRegistration, k)
		case isTARSKey(k):
			return nil, fmt.Errorf("%w: Meta key %q: the tars_ prefix is set from the endpoint's fields", ErrRegistration, k)
		case len(v) > 512:
			return nil, fmt.Errorf("%w: Meta value of %q is %d bytes, more than Consul's 512", ErrRegistration, k, len(v))
		}
		meta[k] = v
	}
	meta[MetaServant] = reg.Servant
	meta[MetaTransport] = network
	if ep.Timeout > 0 {
		meta[MetaTimeout] = strconv.FormatInt(ep.Timeout.Milliseconds(), 10)
	}
	if ep.WeightType != 0 {
		meta[MetaWeightType] = strconv.Itoa(ep.WeightType)
	}
	if ep.SetID != "" {
		meta[MetaSet] = ep.SetID
	}
	if ep.Auth != 0 {
		meta[MetaAuth] = strconv.Itoa(ep.Auth)
	}
	if len(meta) > 64 {
		return nil, fmt.Errorf("%w: %d Meta pairs, more than Consul's 64", ErrRegistration, len(meta))
	}

	id := ServiceID(reg.Servant, ep.Host, ep.Port)
	svc := &api.AgentServiceRegistration{
		ID:      id,
		Name:    name,
		Tags:    c.tags,
		Address: ep.Host,
		Port:    ep.Port,
		Meta:    meta,
	}
	switch {
	case ep.Weight == 0:
		// Consul's passing weight is at least 1; keep TARS's 0 in Meta.
		meta[MetaWeight] = "0"
		svc.Weights = &api.AgentWeights{Passing: 1, Warning: 1}
	case ep.Weight > 0:
		svc.Weights = &api.AgentWeights{Passing: ep.Weight, Warning: ep.Weight}
	}

	check := &api.AgentServiceCheck{
		CheckID:                        checkID(id),
		Status:                         api.HealthPassing,
		DeregisterCriticalServiceAfter: c.deregisterAfter.String(),
	}
	if c.ttl > 0 {
		check.Name = "TARS heartbeat"
		check.TTL = c.ttl.String()
	} else {
		addr := net.JoinHostPort(ep.Host, strconv.Itoa(ep.Port))
		if network == "udp" {
			check.Name = "UDP " + addr
			check.UDP = addr
		} else {
			check.Name = "TCP " + addr
			check.TCP = addr
		}
		check.Interval = c.interval.String()
		check.Timeout = c.timeout.String()
	}
	svc.Check = check
	return svc, nil
}

// checkID is the ID of a service's check: Consul's own default for a
// service's single check.
func checkID(serviceID string) string { return "service:" + serviceID }

// endpoint reads one health entry. ok is false when the entry is not an
// instance of servant (another servant sharing its service name). usable is
// false when its TARS fields are unusable (an unknown transport).
func endpoint(e *api.ServiceEntry, servant string) (ep discovery.Endpoint, ok, usable bool) {
	s := e.Service
	if s == nil {
		return ep, false, false
	}
	if v, has := s.Meta[MetaServant]; has && v != servant {
		return ep, false, false
	}
	host := s.Address
	if host == "" && e.Node != nil {
		host = e.Node.Address
	}
	ep.Address = transport.Address{Network: "tcp", Host: host, Port: s.Port, Weight: s.Weights.Passing}
	usable = host != "" && s.Port > 0 && s.Port <= 65535
	meta := make(map[string]string, len(s.Meta)+3)
	for k, v := range s.Meta {
		switch k {
		case MetaServant:
		case MetaTransport:
			switch v {
			case "tcp", "udp", "ssl":
				ep.Network = v
			default:
				usable = false
				meta[k] = v
			}
		case MetaTimeout:
			if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms > 0 && ms < 1<<40 {
				ep.Timeout = time.Duration(ms) * time.Millisecond
			}
		case MetaWeightType:
			if n, err := strconv.Atoi(v); err == nil {
				ep.WeightType = n
			}
		case MetaWeight:
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				ep.Weight = n
			}
		case MetaSet:
			ep.SetID = v
		case MetaAuth:
			if n, err := strconv.Atoi(v); err == nil {
				ep.Auth = n
			}
		default:
			meta[k] = v
		}
	}
	meta[EndpointMetaServiceID] = s.ID
	if e.Node != nil {
		ep.NodeName = e.Node.Node
		if e.Node.Datacenter != "" {
			meta[EndpointMetaDatacenter] = e.Node.Datacenter
		}
	}
	meta[EndpointMetaStatus] = e.Checks.AggregatedStatus()
	ep.Meta = meta
	return ep, true, usable
}

// inSet reports whether an endpoint of set have is called by a client of
// set want ("name.area.group"; a group "*" takes every group of the area).
func inSet(want, have string) bool {
	if want == have {
		return true
	}
	if prefix, ok := strings.CutSuffix(want, ".*"); ok {
		return strings.HasPrefix(have, prefix+".")
	}
	return false
}

func cloneEndpoints(eps []discovery.Endpoint) []discovery.Endpoint {
	if eps == nil {
		return nil
	}
	out := make([]discovery.Endpoint, len(eps))
	for i, e := range eps {
		e.Meta = maps.Clone(e.Meta)
		out[i] = e
	}
	return out
}

func equalEndpoints(a, b []discovery.Endpoint) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Address != b[i].Address || a[i].SetID != b[i].SetID || a[i].NodeName != b[i].NodeName ||
			!maps.Equal(a[i].Meta, b[i].Meta) {
			return false
		}
	}
	return true
}
