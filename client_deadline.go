package tars

import (
	"errors"
	"time"
)

// A connection times out its calls itself: the waiters whose deadline is
// the client's own (no earlier context deadline) sit in a heap ordered by
// deadline, and one timer per connection fires at the earliest. A timer
// per call, pooled or not, went through the runtime's timer locks twice a
// call (armed when the caller blocked on it, stopped when the answer came);
// here a call that is answered in time costs a push and a removal in a heap
// under the lock the call takes anyway, and the timer moves only when a
// call's deadline is earlier than every other's — rarely, as the calls of
// a client mostly share its timeout. A call whose context has the earlier
// deadline is left to its context's Done.

// errCallDeadline is the err of a waiter its connection timed out.
var errCallDeadline = errors.New("the call's deadline passed")

// pushDeadline adds w (w.deadline set) to the heap and moves the timer if
// w is now the earliest. cc.mu is held.
func (cc *clientConn) pushDeadline(w *waiter) {
	w.hi = len(cc.deadlines)
	cc.deadlines = append(cc.deadlines, w)
	cc.siftUp(w.hi)
	if w.hi == 0 && (cc.dtimerAt == 0 || w.deadline < cc.dtimerAt) {
		cc.armDeadline(w.deadline)
	}
}

// armDeadline makes the timer fire at at (nanotime). cc.mu is held.
func (cc *clientConn) armDeadline(at int64) {
	d := time.Duration(at - nanotime())
	cc.dtimerAt = at
	if cc.dtimer == nil {
		cc.dtimer = time.AfterFunc(d, cc.expire)
		return
	}
	cc.dtimer.Reset(d)
}

// removeDeadline takes w out of the heap, if it is in it. cc.mu is held.
func (cc *clientConn) removeDeadline(w *waiter) {
	i := w.hi
	if i < 0 {
		return
	}
	last := len(cc.deadlines) - 1
	if i != last {
		cc.swap(i, last)
	}
	cc.deadlines[last] = nil
	cc.deadlines = cc.deadlines[:last]
	w.hi = -1
	if i != last {
		cc.siftDown(i)
		cc.siftUp(i)
	}
	// The timer stays armed for the deadline removed: when it fires it
	// finds nothing due and re-arms for the earliest left.
}

// expire fails the calls whose deadline has passed and re-arms the timer
// for the earliest left.
func (cc *clientConn) expire() {
	now := nanotime()
	var due []*waiter
	cc.mu.Lock()
	cc.dtimerAt = 0
	for len(cc.deadlines) > 0 && cc.deadlines[0].deadline <= now {
		w := cc.deadlines[0]
		cc.removeDeadline(w)
		delete(cc.pending, w.id)
		due = append(due, w)
	}
	if len(cc.deadlines) > 0 && cc.dead == nil {
		cc.armDeadline(cc.deadlines[0].deadline)
	}
	last := len(cc.pending) == 0
	cc.mu.Unlock()
	for _, w := range due {
		w.err = errCallDeadline
		w.done <- struct{}{}
	}
	if last && cc.draining.Load() {
		cc.close()
	}
}

func (cc *clientConn) swap(i, j int) {
	h := cc.deadlines
	h[i], h[j] = h[j], h[i]
	h[i].hi, h[j].hi = i, j
}

func (cc *clientConn) siftUp(i int) {
	h := cc.deadlines
	for i > 0 {
		p := (i - 1) / 2
		if h[p].deadline <= h[i].deadline {
			return
		}
		cc.swap(i, p)
		i = p
	}
}

func (cc *clientConn) siftDown(i int) {
	h := cc.deadlines
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h[r].deadline < h[l].deadline {
			m = r
		}
		if h[i].deadline <= h[m].deadline {
			return
		}
		cc.swap(i, m)
		i = m
	}
}
