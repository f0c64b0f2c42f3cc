package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Diff returns the keys whose values differ between old and new (a map
// entry added or removed counts as each of its keys that is not zero), split into those a
// running application can take live and those that need a restart.
//
// Live: log.level; the client timeouts (client.timeout, dial_timeout,
// idle_timeout, write_timeout, client.objects.<obj>.timeout); the balancer
// (client.balancer, client.objects.<obj>.balancer); the policies
// of methods (client.objects.<obj>.methods.…: timeout, breaker, retry);
// the static endpoint lists (client.objects.<obj>.endpoints). Clients
// taking the new values are built anew and swapped in by the caller.
// Everything else (what a server listens on and admits, the TARS
// identity, observability, TLS) needs a restart.
func Diff(old, new Config) (live, restart []string) {
	a, b := map[string]leaf{}, map[string]leaf{}
	flattenTo(nil, ToMap(old), a)
	flattenTo(nil, ToMap(new), b)
	seen := map[string]bool{}
	check := func(k string, l leaf) {
		if seen[k] {
			return
		}
		seen[k] = true
		va, ina := a[k]
		vb, inb := b[k]
		if reflect.DeepEqual(va.v, vb.v) || !ina && zeroLeaf(vb.v) || !inb && zeroLeaf(va.v) {
			return
		}
		if IsLive(l.path) {
			live = append(live, k)
		} else {
			restart = append(restart, k)
		}
	}
	for k, l := range a {
		check(k, l)
	}
	for k, l := range b {
		check(k, l)
	}
	sort.Strings(live)
	sort.Strings(restart)
	return live, restart
}

// zeroLeaf reports a value of ToMap that is its type's zero: a key of a
// map entry added or removed with such a value changed nothing.
func zeroLeaf(v any) bool {
	switch x := v.(type) {
	case string:
		return x == "" || x == "0s"
	case []any:
		return len(x) == 0
	case nil:
		return true
	}
	return reflect.ValueOf(v).IsZero()
}

type leaf struct {
	path []string
	v    any
}

func flattenTo(path []string, m map[string]any, out map[string]leaf) {
	for k, v := range m {
		p := append(path[:len(path):len(path)], k)
		if sub, ok := v.(map[string]any); ok {
			flattenTo(p, sub, out)
			continue
		}
		out[strings.Join(p, ".")] = leaf{p, v}
	}
}

// IsLive reports whether the key at path (one element a level, a map
// entry's name one element) can change without a restart; see Diff.
func IsLive(path []string) bool {
	switch {
	case len(path) == 2 && path[0] == "log" && path[1] == "level":
		return true
	case len(path) == 2 && path[0] == "client":
		switch path[1] {
		case "timeout", "dial_timeout", "idle_timeout", "write_timeout", "balancer":
			return true
		}
	case len(path) >= 4 && path[0] == "client" && path[1] == "objects":
		switch path[3] {
		case "timeout", "endpoints", "methods", "balancer", "endpoint_breaker", "rate_limit":
			return true
		}
	}
	return false
}

// Change is what a watch reports: the configuration that was running, the
// new one, and which changed keys the new one can apply live. When Err is
// set the file could not be read or the result is invalid: New is the
// zero Config and Old keeps running.
type Change struct {
	Old, New Config
	Live     []string // changed keys that apply without a restart
	Restart  []string // changed keys that need a restart
	Err      error
}

// NeedsRestart reports whether any changed key needs a restart.
func (c Change) NeedsRestart() bool { return len(c.Restart) > 0 }

// String describes the change for a log line.
func (c Change) String() string {
	if c.Err != nil {
		return fmt.Sprintf("config change refused: %v", c.Err)
	}
	return fmt.Sprintf("config change: live %v, restart %v", c.Live, c.Restart)
}
