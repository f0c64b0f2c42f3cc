package ratelimit

import (
	"maps"
	"math"
	"slices"

	"golang.org/x/time/rate"

	"github.com/gotars/tars/config"
)

// FromConfig returns the rule of a configuration's limit on servant (and
// method, "" for the whole servant); ok is false when it sets none (rate
// 0). A burst of 0 is the rate rounded up, at least 1.
func FromConfig(servant, method string, c config.RateLimit) (r Rule, ok bool) {
	if c.Rate <= 0 {
		return Rule{}, false
	}
	burst := c.Burst
	if burst == 0 {
		burst = int(min(math.Ceil(c.Rate), math.MaxInt32))
	}
	return Rule{Servant: servant, Method: method, Rate: rate.Limit(c.Rate), Burst: max(burst, 1)}, true
}

// ServerRules returns the rules of every servant's and method's limit in
// a configuration (servants.<s>.rate_limit, servants.<s>.methods.<m>.rate_limit),
// in a stable order: what NewLimiter takes, for tars.WithAdmission.
func ServerRules(servants map[string]config.Servant) []Rule {
	var rules []Rule
	for _, s := range slices.Sorted(maps.Keys(servants)) {
		sv := servants[s]
		if r, ok := FromConfig(s, "", sv.RateLimit); ok {
			rules = append(rules, r)
		}
		for _, m := range slices.Sorted(maps.Keys(sv.Methods)) {
			if r, ok := FromConfig(s, m, sv.Methods[m].RateLimit); ok {
				rules = append(rules, r)
			}
		}
	}
	return rules
}

// ClientRule returns the rule and options of a configuration's limit on
// the calls to obj (client.objects.<obj>.rate_limit): what Client takes.
// ok is false when it sets none.
func ClientRule(obj string, c config.ClientRateLimit) (r Rule, opts []ClientOption, ok bool) {
	r, ok = FromConfig(obj, "", config.RateLimit{Rate: c.Rate, Burst: c.Burst})
	if ok && c.Wait > 0 {
		opts = append(opts, WithWait(c.Wait))
	}
	return r, opts, ok
}
