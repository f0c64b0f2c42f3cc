package consul

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrServantName is wrapped by the errors for servant names that cannot be
// mapped onto a Consul service (empty, too long, or with characters outside
// [A-Za-z0-9._-]).
var ErrServantName = errors.New("consul: bad servant name")

// MaxServantLength bounds the servant names ServiceName accepts.
const MaxServantLength = 256

// maxServiceLength is the longest DNS label, the longest service name Consul
// serves over DNS.
const maxServiceLength = 63

// ServiceName returns the Consul service name a TARS servant is registered
// and resolved under.
//
// The rule: ASCII letters are lowercased, digits are kept, and each of '.',
// '_' and '-' becomes '-'; so "App.Server.Obj" is "app-server-obj". A name
// longer than 63 characters is cut to its first 54 and followed by '-' and
// the first 8 hex digits of the SHA-256 of the whole mapped name. The result
// is always a valid DNS label of [a-z0-9-], which Consul serves over DNS
// without warnings.
//
// The rule is not one to one: Consul compares service names without regard
// to case, so "App.Server.Obj" and "app.server.obj" (and "a.b_c" and
// "a.b-c") share a service name. Registrar therefore records the exact
// servant in the service Meta (key "tars_servant"), and Resolver drops the
// instances whose recorded servant is another one, so colliding servants
// never see each other's endpoints. Instances registered by other tools,
// without that key, are taken as they are.
//
// Servant names may contain only [A-Za-z0-9._-] and must not be empty or
// longer than MaxServantLength; others get an error wrapping ErrServantName.
func ServiceName(servant string) (string, error) {
	if err := checkServant(servant); err != nil {
		return "", err
	}
	b := make([]byte, len(servant))
	for i := 0; i < len(servant); i++ {
		c := servant[i]
		switch {
		case 'A' <= c && c <= 'Z':
			b[i] = c + ('a' - 'A')
		case c == '.' || c == '_' || c == '-':
			b[i] = '-'
		default:
			b[i] = c
		}
	}
	name := string(b)
	if len(name) > maxServiceLength {
		sum := sha256.Sum256(b)
		name = name[:54] + "-" + hex.EncodeToString(sum[:4])
	}
	return name, nil
}

func checkServant(s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty", ErrServantName)
	}
	if len(s) > MaxServantLength {
		return fmt.Errorf("%w: %d bytes, more than %d", ErrServantName, len(s), MaxServantLength)
	}
	for i := 0; i < len(s); i++ {
		if !servantByte(s[i]) {
			return fmt.Errorf("%w: %q has %q at %d (allowed: A-Z a-z 0-9 . _ -)", ErrServantName, s, s[i], i)
		}
	}
	return nil
}

func servantByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}

// ServiceID returns the Consul service ID of a servant served at host:port:
// "<servant>-<host>-<port>", e.g. "App.Server.Obj-10.0.0.7-18015". It is
// unique per servant and address on an agent, and is what Deregister
// withdraws. (Consul compares IDs without case: two servants that differ
// only in case, served at one address, would share an ID.)
func ServiceID(servant, host string, port int) string {
	return servant + "-" + host + "-" + strconv.Itoa(port)
}

// checkHost reports whether host can be registered: not empty, not an
// unspecified address, and safe in a URL path (the service ID travels in
// one).
func checkHost(host string) error {
	switch host {
	case "", "0.0.0.0", "::", "*":
		return fmt.Errorf("%w: host %q is not an address clients can dial", ErrRegistration, host)
	}
	if strings.ContainsAny(host, "/?#% \t\r\n[]") {
		return fmt.Errorf("%w: host %q has characters not allowed in a host", ErrRegistration, host)
	}
	return nil
}
