package tars

import (
	"context"
	"sync"
	"time"
)

// handlerCtx is the context a server call's middleware and handler run
// with: it carries the call, the caller's deadline and the server's
// cancellation (the grace of Shutdown expiring), and it is cancelled when
// the call ends. Unlike context.WithDeadline it arms no timer until
// something waits on it (Done, or a context derived from it): a timer per
// request cost ~0.5 µs of runtime timer-heap work on every call, 5% of a
// small one, for a channel few handlers ever watch. Err reads the clock
// instead.
type handlerCtx struct {
	base     context.Context // the server's base for the call; cancelled by Shutdown
	call     *Call
	deadline time.Time // zero: none

	mu     sync.Mutex
	err    error         // set once: the deadline passed, base was cancelled, or the call ended
	done   chan struct{} // made by the first Done (closed then if err is set)
	timer  *time.Timer   // fires at the deadline, once armed
	stop   func() bool   // stops the base's AfterFunc, once armed
	afters []*afterFunc  // AfterFunc registrations, run when err is set
}

type afterFunc struct{ f func() }

// Deadline is the caller's deadline.
func (c *handlerCtx) Deadline() (time.Time, bool) { return c.deadline, !c.deadline.IsZero() }

// Done returns a channel closed when the deadline passes, the server
// cancels its handlers, or the call ends.
func (c *handlerCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armLocked()
	return c.done
}

// armLocked makes the done channel and starts watching the deadline and
// the base context, once.
func (c *handlerCtx) armLocked() {
	if c.done != nil {
		return
	}
	c.done = make(chan struct{})
	if c.err != nil {
		close(c.done)
		return
	}
	// Both callbacks take c.mu in their own goroutine, after this returns.
	c.stop = context.AfterFunc(c.base, func() { c.cancel(c.base.Err()) })
	if !c.deadline.IsZero() {
		c.timer = time.AfterFunc(time.Until(c.deadline), func() { c.cancel(context.DeadlineExceeded) })
	}
}

// Err returns context.DeadlineExceeded once the deadline has passed,
// context.Canceled once the server cancelled its handlers or the call
// ended, nil before.
func (c *handlerCtx) Err() error {
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if err := c.base.Err(); err != nil {
		return c.cancel(err)
	}
	if !c.deadline.IsZero() && nanotime() >= monoOf(c.deadline) {
		// Done, if made, is closed before Err reports the deadline.
		return c.cancel(context.DeadlineExceeded)
	}
	return nil
}

// Value returns the call for callKey, else the base's values.
// (context.Cause of a handlerCtx is its Err: the base's cancelCtx has no
// cause of its own until Shutdown cancels it.)
func (c *handlerCtx) Value(key any) any {
	if key == any(callKey{}) {
		return c.call
	}
	return c.base.Value(key)
}

// AfterFunc runs f in its own goroutine once c is done, as context.AfterFunc
// does; the context package uses it to propagate c's cancellation to
// contexts derived from it without a goroutine each.
func (c *handlerCtx) AfterFunc(f func()) (stop func() bool) {
	a := &afterFunc{f: f}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	c.armLocked()
	c.afters = append(c.afters, a)
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, x := range c.afters {
			if x == a {
				c.afters = append(c.afters[:i], c.afters[i+1:]...)
				return true
			}
		}
		return false
	}
}

// cancel sets err unless an error is already set, closes done and runs
// the AfterFunc registrations; it returns the error c ends with.
func (c *handlerCtx) cancel(err error) error {
	c.mu.Lock()
	if c.err != nil {
		err = c.err
		c.mu.Unlock()
		return err
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	timer, stop, afters := c.timer, c.stop, c.afters
	c.timer, c.stop, c.afters = nil, nil, nil
	c.mu.Unlock()
	if timer != nil {
		timer.Stop()
	}
	if stop != nil {
		stop()
	}
	for _, a := range afters {
		go a.f()
	}
	return err
}

// end cancels c when its call is done: goroutines the handler left
// watching it are released.
func (c *handlerCtx) end() { c.cancel(context.Canceled) }

// String names the context, as the context package's own do.
func (c *handlerCtx) String() string { return "tars.handlerContext" }
