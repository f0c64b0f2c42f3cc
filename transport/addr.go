// Package transport moves TARS frames over TCP and UDP: endpoint addresses in
// TARS syntax, framed connections with a write-combining writer, and the
// accept loops of a server. It knows nothing of packets or endpoints; the
// root package gotars/tars gives the frames their meaning.
//
// A frame is a 4-byte big-endian length that counts itself, then the packet.
package transport

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Address is one TARS endpoint, as written after the '@' of an object name:
// "tcp -h 127.0.0.1 -p 18015 -t 3000".
type Address struct {
	Network    string        // "tcp", "udp" or "ssl"
	Host       string        // -h
	Port       int           // -p
	Timeout    time.Duration // -t, 0 when not given
	Weight     int           // -w, -1 when not given
	WeightType int           // -v, 0 when not given
	Bind       string        // -b, the local address a server binds (servers only)
	Auth       int           // -e, TarsCpp's authentication flag, 0 when not given
}

// ErrAddress is wrapped by every error that ParseAddress and ParseObject return.
var ErrAddress = errors.New("transport: bad TARS endpoint")

// HostPort returns "host:port" for net.Dial and net.Listen.
func (a Address) HostPort() string { return net.JoinHostPort(a.Host, strconv.Itoa(a.Port)) }

// ListenHostPort returns "host:port" for a server to listen on: the -b
// bind address when the endpoint has one (it then advertises -h and binds
// -b, as TarsCpp does), else -h.
func (a Address) ListenHostPort() string {
	if a.Bind != "" {
		a.Host = a.Bind
	}
	return a.HostPort()
}

// String returns the address in TARS syntax; ParseAddress reads it back.
func (a Address) String() string {
	var b strings.Builder
	b.WriteString(a.Network)
	b.WriteString(" -h ")
	b.WriteString(a.Host)
	b.WriteString(" -p ")
	b.WriteString(strconv.Itoa(a.Port))
	if a.Timeout > 0 {
		b.WriteString(" -t ")
		b.WriteString(strconv.FormatInt(a.Timeout.Milliseconds(), 10))
	}
	if a.Weight >= 0 {
		fmt.Fprintf(&b, " -w %d", a.Weight)
	}
	if a.WeightType != 0 {
		fmt.Fprintf(&b, " -v %d", a.WeightType)
	}
	if a.Auth != 0 {
		fmt.Fprintf(&b, " -e %d", a.Auth)
	}
	if a.Bind != "" {
		b.WriteString(" -b ")
		b.WriteString(a.Bind)
	}
	return b.String()
}

// ParseAddress parses one endpoint in TARS syntax: a transport (tcp, udp or
// ssl) followed by options -h host, -p port (both required), -t timeout in
// milliseconds, -w weight, -v weight type, -e auth flag and -b bind address.
// Unknown options and malformed values are errors wrapping ErrAddress.
func ParseAddress(s string) (Address, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return Address{}, fmt.Errorf("%w: empty endpoint", ErrAddress)
	}
	a := Address{Network: strings.ToLower(f[0]), Weight: -1}
	switch a.Network {
	case "tcp", "udp", "ssl":
	default:
		return Address{}, fmt.Errorf("%w %q: transport %q is not tcp, udp or ssl", ErrAddress, s, f[0])
	}
	seen := map[string]bool{}
	for i := 1; i < len(f); i += 2 {
		opt := f[i]
		if i+1 >= len(f) {
			return Address{}, fmt.Errorf("%w %q: option %s has no value", ErrAddress, s, opt)
		}
		if seen[opt] {
			return Address{}, fmt.Errorf("%w %q: option %s given twice", ErrAddress, s, opt)
		}
		seen[opt] = true
		val := f[i+1]
		num := func(min, max int) (int, error) {
			n, err := strconv.Atoi(val)
			if err != nil || n < min || n > max {
				return 0, fmt.Errorf("%w %q: option %s wants a number in %d..%d, got %q", ErrAddress, s, opt, min, max, val)
			}
			return n, nil
		}
		var err error
		switch opt {
		case "-h":
			a.Host = strings.TrimSuffix(strings.TrimPrefix(val, "["), "]")
		case "-p":
			a.Port, err = num(0, 65535)
		case "-t":
			var ms int
			ms, err = num(0, 1<<31-1)
			a.Timeout = time.Duration(ms) * time.Millisecond
		case "-w":
			a.Weight, err = num(0, 1<<31-1)
		case "-v":
			a.WeightType, err = num(0, 1<<31-1)
		case "-e":
			a.Auth, err = num(0, 1<<31-1)
		case "-b":
			a.Bind = val
		default:
			return Address{}, fmt.Errorf("%w %q: unknown option %s", ErrAddress, s, opt)
		}
		if err != nil {
			return Address{}, err
		}
	}
	if a.Host == "" || !seen["-p"] {
		return Address{}, fmt.Errorf("%w %q: -h host and -p port are required", ErrAddress, s)
	}
	return a, nil
}

// ParseObject splits a TARS object name, "Servant@ep1:ep2:...", into the
// servant and its addresses. Without '@' the addresses are nil: the servant
// is to be resolved through a registry.
func ParseObject(s string) (servant string, addrs []Address, err error) {
	s = strings.TrimSpace(s)
	servant, eps, ok := strings.Cut(s, "@")
	servant = strings.TrimSpace(servant)
	if servant == "" {
		return "", nil, fmt.Errorf("%w %q: no servant name", ErrAddress, s)
	}
	if !ok {
		return servant, nil, nil
	}
	for _, part := range splitEndpoints(eps) {
		if strings.TrimSpace(part) == "" {
			continue
		}
		a, err := ParseAddress(part)
		if err != nil {
			return "", nil, err
		}
		addrs = append(addrs, a)
	}
	if len(addrs) == 0 {
		return "", nil, fmt.Errorf("%w %q: no endpoints after '@'", ErrAddress, s)
	}
	return servant, addrs, nil
}

// splitEndpoints splits an object's endpoint list at the ':' that begin a
// new endpoint (a ':' followed by a transport name), so that IPv6 hosts
// ("-h ::1", "-h fe80::1") keep their colons.
func splitEndpoints(s string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] != ':' {
			continue
		}
		rest := strings.TrimLeft(s[i+1:], " \t")
		if len(rest) >= 3 {
			switch strings.ToLower(rest[:3]) {
			case "tcp", "udp", "ssl":
				if len(rest) == 3 || rest[3] == ' ' || rest[3] == '\t' {
					parts = append(parts, s[start:i])
					start = i + 1
				}
			}
		}
	}
	return append(parts, s[start:])
}
