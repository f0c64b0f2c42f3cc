// Package retry holds client middleware that make more than one attempt
// at a call: retries of failed attempts (New) and backup, or hedged,
// requests that race a slow attempt (Hedge). Both act only on the calls
// of endpoints declared tars.Idempotent, send each attempt to an endpoint
// the call has not tried while one is left, spend extra attempts from a
// Budget, and mark every extra attempt with the request status key
// StatusKey so that a gotars server handling it never retries or hedges
// the calls it makes in turn (a retry storm stops at one level).
//
// Put them in a client's chain with tars.WithMiddleware, after the
// middleware that should see the call once (a method circuit breaker,
// logging) and before those that should see every attempt (tracing):
//
//	rt, err := retry.New(retry.Policy{MaxAttempts: 3, AttemptTimeout: 200 * time.Millisecond})
//	c, err := tars.NewClient(obj, tars.WithMiddleware(rt))
package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/gotars/tars"
)

// StatusKey is the request status key of an extra attempt: its value is the
// attempt's number (2 for the first retry or backup). TarsCpp and TarsGo
// pass status keys that do not start with STATUS_ through unchanged.
const StatusKey = "gotars.attempt"

// IsAttempt reports whether ctx belongs to a server call that is itself an
// extra attempt (it carries StatusKey): the calls its handler makes are not
// retried or hedged.
func IsAttempt(ctx context.Context) bool {
	sc, ok := tars.CallFromContext(ctx)
	return ok && sc.Status[StatusKey] != ""
}

// Policy is a retry policy.
type Policy struct {
	// MaxAttempts bounds the attempts of a call, the first included; 0
	// means 3. 1 turns retries off.
	MaxAttempts int
	// AttemptTimeout bounds each attempt within the call's deadline; 0:
	// an attempt may take what is left of the call's deadline (so only an
	// attempt that fails before it is retried).
	AttemptTimeout time.Duration
	// Backoff is the pause before the first retry, doubled for each next
	// one up to MaxBackoff (0: 32 × Backoff), each pause drawn at random in
	// [pause/2, pause] (jitter). 0: retry at once.
	Backoff, MaxBackoff time.Duration
	// Codes lists the TARS return codes retried besides those always
	// retried: a failed connection (CodeProxyConnectErr), a request not
	// sent or a connection lost (CodeSendRequestErr), and an attempt that
	// timed out while the call still has time (CodeInvokeTimeout). Add
	// CodeServerOverload and CodeServerQueueTimeout to retry calls a server
	// refused without running them.
	Codes []tars.Code
	// Methods limits the policy to these method names; empty: every
	// idempotent method of the client.
	Methods []string
	// Budget bounds the retries; nil: a DefaultBudget of the middleware's
	// own.
	Budget *Budget
	// OnRetry, when set, is called before each retry with the attempt's
	// number (2 for the first retry) and the error of the one before
	// (for metrics and logs: tarsotel's Events.Retry).
	OnRetry func(ctx context.Context, call *tars.Call, attempt int, err error)
	// OnBudgetExhausted, when set, is called when a retry was due but the
	// budget refused it.
	OnBudgetExhausted func(call *tars.Call)
}

type retrier struct{ Policy }

// alwaysRetried are the codes of attempts that may be made again whatever
// the policy lists: nothing reached a handler, or the attempt ran out of
// its own time.
var alwaysRetried = []tars.Code{tars.CodeProxyConnectErr, tars.CodeSendRequestErr, tars.CodeInvokeTimeout}

// New returns a client middleware retrying the failed calls of idempotent
// endpoints under p. It fails for a negative setting. It passes through,
// without retrying, calls that are not idempotent or one way, server calls,
// and calls made while handling an extra attempt (IsAttempt).
func New(p Policy) (tars.Middleware, error) {
	if p.MaxAttempts < 0 || p.AttemptTimeout < 0 || p.Backoff < 0 || p.MaxBackoff < 0 {
		return nil, fmt.Errorf("retry.New: negative setting in %+v", p)
	}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = 3
	}
	if p.MaxBackoff == 0 {
		p.MaxBackoff = 32 * p.Backoff
	}
	p.MaxBackoff = max(p.MaxBackoff, p.Backoff)
	if p.Budget == nil {
		p.Budget = DefaultBudget()
	}
	p.Codes = slices.Clone(p.Codes)
	p.Methods = slices.Clone(p.Methods)
	r := &retrier{p}
	return func(next tars.Invoker) tars.Invoker {
		return func(ctx context.Context, call *tars.Call) error {
			if !applies(call, r.Methods) || r.MaxAttempts < 2 || IsAttempt(ctx) {
				return next(ctx, call)
			}
			return r.invoke(ctx, next, call)
		}
	}, nil
}

func applies(call *tars.Call, methods []string) bool {
	return !call.Server && !call.Oneway && call.Idempotent() && (len(methods) == 0 || slices.Contains(methods, call.Method))
}

func (r *retrier) invoke(ctx context.Context, next tars.Invoker, call *tars.Call) error {
	r.Budget.Call()
	cur := call
	for n := 1; ; n++ {
		err := attempt(ctx, next, cur, r.AttemptTimeout)
		call.Adopt(cur)
		if err == nil || n >= r.MaxAttempts || !retryable(ctx, err, r.Codes) {
			return err
		}
		pause := r.pause(n)
		// A retry needs time: at least what the pause takes and a
		// millisecond to send it in.
		if time.Until(deadline(ctx, call)) < pause+time.Millisecond {
			return err
		}
		if !r.Budget.Withdraw() {
			if r.OnBudgetExhausted != nil {
				r.OnBudgetExhausted(call)
			}
			return err
		}
		if pause > 0 {
			t := time.NewTimer(pause)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return err
			}
		}
		if r.OnRetry != nil {
			r.OnRetry(ctx, call, n+1, err)
		}
		cur = call.NewAttempt()
		cur.SetStatus(StatusKey, strconv.Itoa(n+1))
	}
}

// pause returns the jittered back-off before retry n (1: the first).
func (r *retrier) pause(n int) time.Duration {
	if r.Backoff <= 0 {
		return 0
	}
	d := r.Backoff << min(n-1, 30)
	if d <= 0 || d > r.MaxBackoff {
		d = r.MaxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

// deadline is when the call must end: its context's deadline, or the
// client's timeout from its start, whichever comes first.
func deadline(ctx context.Context, call *tars.Call) time.Time {
	d := call.Deadline()
	if cd, ok := ctx.Deadline(); ok && (d.IsZero() || cd.Before(d)) {
		d = cd
	}
	return d
}

// attempt runs one attempt, within timeout (0: none beyond the call's).
func attempt(ctx context.Context, next tars.Invoker, a *tars.Call, timeout time.Duration) error {
	if timeout <= 0 {
		return next(ctx, a)
	}
	d := time.Now().Add(timeout)
	if cd := a.Deadline(); !cd.IsZero() && cd.Before(d) {
		d = cd
	}
	actx, cancel := context.WithDeadline(ctx, d)
	defer cancel()
	return next(actx, a)
}

// retryable reports whether an attempt's error allows another attempt: not
// when the caller gave up (ctx done), else by its code.
func retryable(ctx context.Context, err error, codes []tars.Code) bool {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return false
	}
	var te *tars.Error
	if !errors.As(err, &te) {
		return false
	}
	return slices.Contains(alwaysRetried, te.Code) || slices.Contains(codes, te.Code)
}
