package lb

import "sync"

// pointCache remembers hosts' ring points for the balancer that builds
// rings, so that a new picker after a set change computes md5s only for
// hosts it has not seen lately. It holds two generations: a lookup that
// finds a host in the older one moves it to the newer; when the newer one
// fills up, the older is dropped. A nil *pointCache remembers nothing.
type pointCache struct {
	mu        sync.Mutex
	cur, prev map[string][]uint32
	limit     int // hosts the newer generation holds before it is retired
}

// pointCacheMin is the least number of hosts the newer generation holds
// before it is retired.
const pointCacheMin = 4096

// reserve makes room for a ring of n hosts: the newer generation holds at
// least 2n, so one ring's hosts never push each other out.
func (c *pointCache) reserve(n int) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.limit = max(c.limit, pointCacheMin, 2*n)
	c.mu.Unlock()
}

// get returns host's ring points for names virtual names. Without a cache
// they are computed into *scratch, which the next call reuses.
func (c *pointCache) get(host string, names int, scratch *[]uint32) []uint32 {
	if c == nil {
		*scratch = appendHostPoints((*scratch)[:0], host, names)
		return *scratch
	}
	c.mu.Lock()
	pts, ok := c.cur[host]
	if !ok {
		if pts, ok = c.prev[host]; ok {
			c.putLocked(host, pts)
		}
	}
	c.mu.Unlock()
	if len(pts) >= 4*names {
		return pts[:4*names]
	}
	pts = appendHostPoints(make([]uint32, 0, 4*names), host, names)
	c.mu.Lock()
	if old := c.cur[host]; len(old) < len(pts) {
		c.putLocked(host, pts)
	}
	c.mu.Unlock()
	return pts
}

func (c *pointCache) putLocked(host string, pts []uint32) {
	if c.cur == nil {
		c.cur = make(map[string][]uint32)
	}
	if _, ok := c.cur[host]; !ok && len(c.cur) >= max(c.limit, pointCacheMin) {
		c.prev, c.cur = c.cur, make(map[string][]uint32)
	}
	c.cur[host] = pts
}
