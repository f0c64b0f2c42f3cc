package protocol

import (
	"sync"
	"sync/atomic"
)

// The intern table turns the byte strings that recur in every packet (servant
// and function names, context and status keys) into strings without
// allocating once they have been seen. It is copy-on-write: readers load an
// immutable map without locking; a miss copies the map with the new entry.
// The table is bounded in entries and in key length, so hostile input can
// only make it stop growing, never make it large.
const (
	internMaxEntries = 1024
	internMaxLen     = 128
)

var (
	internTab atomic.Pointer[map[string]string]
	internMu  sync.Mutex
)

// intern returns b as a string, from the table when it is there.
func intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > internMaxLen {
		return string(b)
	}
	if t := internTab.Load(); t != nil {
		if s, ok := (*t)[string(b)]; ok { // no allocation for the lookup
			return s
		}
	}
	return internSlow(b)
}

func internSlow(b []byte) string {
	s := string(b)
	internMu.Lock()
	defer internMu.Unlock()
	old := internTab.Load()
	n := 0
	if old != nil {
		if v, ok := (*old)[s]; ok {
			return v
		}
		n = len(*old)
	}
	if n >= internMaxEntries {
		return s
	}
	t := make(map[string]string, n+1)
	if old != nil {
		for k, v := range *old {
			t[k] = v
		}
	}
	t[s] = s
	internTab.Store(&t)
	return s
}
