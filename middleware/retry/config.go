package retry

import (
	"context"
	"sync"

	"github.com/gotars/tars"
	"github.com/gotars/tars/config"
)

// FromConfig maps a configuration's retry policy onto a Policy (the
// budget, methods and callbacks are the caller's to add).
func FromConfig(c config.Retry) Policy {
	p := Policy{MaxAttempts: c.MaxAttempts, AttemptTimeout: c.AttemptTimeout, Backoff: c.Backoff, MaxBackoff: c.MaxBackoff}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = 1 // the configuration's 0 means no retry
	}
	for _, code := range c.Codes {
		p.Codes = append(p.Codes, tars.Code(code))
	}
	return p
}

// HedgeFromConfig maps a configuration's backup-request policy onto a
// HedgePolicy; ok is false when it asks for none (no delay and no
// percentile).
func HedgeFromConfig(c config.Hedge) (p HedgePolicy, ok bool) {
	if c.Delay == 0 && c.Percentile == 0 {
		return HedgePolicy{}, false
	}
	return HedgePolicy{Delay: c.Delay, Percentile: c.Percentile, MaxAttempts: c.MaxAttempts}, true
}

// ForClient returns client middleware that gives each method of the
// servant obj the retries and backup requests the configuration asks for
// (c.Policy(obj, method): its retry and hedge parts), retries outermost,
// sharing budget (nil: a DefaultBudget of its own). With both, a call is
// counted in the budget once, a failure is retried by the retries alone
// (with their back-off), and backup requests race slow attempts: a call
// sends at most retry.max_attempts × hedge.max_attempts requests, and only
// while attempts are slow, not failing. The middleware of a
// method is made at its first call; a method whose policy asks for neither
// passes through. A policy the configuration got wrong fails the calls of
// its method with the error (config.Validate catches those first). It reads
// a copy of *c taken now: a later change to *c (a reload) is for the
// middleware built from it.
func ForClient(c *config.Client, obj string, budget *Budget) tars.Middleware {
	snap := c.Clone()
	c = &snap
	if budget == nil {
		budget = DefaultBudget()
	}
	return func(next tars.Invoker) tars.Invoker {
		var byMethod sync.Map // method -> tars.Invoker
		build := func(method string) tars.Invoker {
			pol := c.Policy(obj, method)
			inv := next
			rp := FromConfig(pol.Retry)
			hp, hedged := HedgeFromConfig(pol.Hedge)
			rp.Budget, hp.Budget = budget, budget
			if hedged {
				// The retries around it count the call, once, and
				// retry its failures.
				mw, err := hedge(hp, rp.MaxAttempts > 1)
				if err != nil {
					return failing(err)
				}
				inv = mw(inv)
			}
			if rp.MaxAttempts > 1 {
				mw, err := New(rp)
				if err != nil {
					return failing(err)
				}
				inv = mw(inv)
			}
			return inv
		}
		return func(ctx context.Context, call *tars.Call) error {
			if !applies(call, nil) {
				return next(ctx, call)
			}
			inv, ok := byMethod.Load(call.Method)
			if !ok {
				inv, _ = byMethod.LoadOrStore(call.Method, build(call.Method))
			}
			return inv.(tars.Invoker)(ctx, call)
		}
	}
}

func failing(err error) tars.Invoker {
	return func(context.Context, *tars.Call) error {
		return tars.Errorf(tars.CodeSendRequestErr, "retry policy: %w", err)
	}
}
