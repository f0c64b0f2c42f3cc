package breaker

import (
	"math"

	"github.com/gotars/tars/config"
)

// FromConfig maps a configuration's breaker policy onto Settings: its
// MaxRequests, Interval, Timeout, FailureRatio and MinRequests; the window
// rolls in tenths of Interval (BucketPeriod, which the configuration does
// not carry); zero values take the defaults. Whether to install a breaker
// at all is c.Enabled, the caller's to check.
func FromConfig(c config.Breaker) Settings {
	s := Settings{
		MaxRequests:  clampU32(c.MaxRequests),
		Interval:     c.Interval,
		Timeout:      c.Timeout,
		FailureRatio: c.FailureRatio,
		MinRequests:  clampU32(c.MinRequests),
	}
	if c.Interval > 0 {
		s.BucketPeriod = c.Interval / 10
	}
	return s
}

func clampU32(n int) uint32 {
	return uint32(min(max(n, 0), math.MaxUint32))
}

// FromClientConfig returns the option that gives each method the breaker
// its configuration asks for: c.Policy(servant, method).Breaker (the first
// of objects.<o>.methods.<m>, objects.<o>.methods.*, objects.*.methods.<m>
// and objects.*.methods.* that sets one), through FromConfig when enabled,
// none when not (the configuration's default is off). It reads a copy of
// *c taken now, when a method's breaker is made at its first call: a later
// change to *c (a reload) is for the options built from it.
func FromClientConfig(c *config.Client) MethodOption {
	snap := c.Clone()
	c = &snap
	return Policy(func(servant, method string) (Settings, bool) {
		b := c.Policy(servant, method).Breaker
		return FromConfig(b), b.Enabled
	})
}
