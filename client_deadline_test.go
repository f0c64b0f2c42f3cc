package tars

import (
	"math/rand/v2"
	"testing"
	"time"
)

// checkHeap fails unless cc.deadlines is a heap whose waiters know their
// places.
func checkHeap(t *testing.T, cc *clientConn) {
	t.Helper()
	for i, w := range cc.deadlines {
		if w.hi != i {
			t.Fatalf("waiter at %d thinks it is at %d", i, w.hi)
		}
		if p := (i - 1) / 2; i > 0 && cc.deadlines[p].deadline > w.deadline {
			t.Fatalf("heap order broken at %d: parent %d > %d", i, cc.deadlines[p].deadline, w.deadline)
		}
	}
}

// TestDeadlineHeap pushes and removes waiters in random order (as answers
// and cancellations take them out of the middle) and checks the heap after
// each step; the earliest is always at the top.
func TestDeadlineHeap(t *testing.T) {
	cc := &clientConn{pending: map[int32]*waiter{}}
	defer func() {
		if cc.dtimer != nil {
			cc.dtimer.Stop()
		}
	}()
	far := nanotime() + int64(time.Hour) // the timer never fires here
	rng := rand.New(rand.NewPCG(1, 2))
	var in []*waiter
	for step := range 2000 {
		if len(in) == 0 || rng.IntN(3) > 0 {
			w := &waiter{id: int32(step), deadline: far + rng.Int64N(int64(time.Minute)), hi: -1}
			cc.mu.Lock()
			cc.pushDeadline(w)
			cc.mu.Unlock()
			in = append(in, w)
		} else {
			i := rng.IntN(len(in))
			cc.mu.Lock()
			cc.removeDeadline(in[i])
			cc.mu.Unlock()
			if in[i].hi != -1 {
				t.Fatal("a removed waiter keeps its index")
			}
			in = append(in[:i], in[i+1:]...)
		}
		checkHeap(t, cc)
		if len(cc.deadlines) != len(in) {
			t.Fatalf("heap holds %d, want %d", len(cc.deadlines), len(in))
		}
		if cc.dtimerAt == 0 || len(in) > 0 && cc.dtimerAt > cc.deadlines[0].deadline {
			t.Fatalf("timer armed at %d, earliest deadline %d", cc.dtimerAt, cc.deadlines[0].deadline)
		}
	}
}

// TestDeadlineExpire: the timer fails the calls that are due, in deadline
// order, leaves the others waiting, and re-arms for the earliest left.
func TestDeadlineExpire(t *testing.T) {
	cc := &clientConn{pending: map[int32]*waiter{}}
	defer func() {
		cc.mu.Lock()
		cc.dtimer.Stop()
		cc.mu.Unlock()
	}()
	now := nanotime()
	var ws []*waiter
	for i, d := range []time.Duration{30 * time.Millisecond, 10 * time.Millisecond, time.Hour, 20 * time.Millisecond} {
		w := &waiter{done: make(chan struct{}, 1), hi: -1}
		cc.mu.Lock()
		w.id, w.deadline = int32(i+1), now+int64(d)
		cc.pending[w.id] = w
		cc.pushDeadline(w)
		cc.mu.Unlock()
		ws = append(ws, w)
	}
	for _, i := range []int{1, 3, 0} { // 10, 20, 30 ms
		select {
		case <-ws[i].done:
		case <-time.After(5 * time.Second):
			t.Fatalf("call %d not timed out after 5s", ws[i].id)
		}
		if ws[i].err != errCallDeadline {
			t.Errorf("call %d: err %v", ws[i].id, ws[i].err)
		}
	}
	select {
	case <-ws[2].done:
		t.Fatal("the call due in an hour was timed out")
	case <-time.After(20 * time.Millisecond):
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if len(cc.pending) != 1 || cc.pending[3] != ws[2] || len(cc.deadlines) != 1 || cc.dtimerAt != ws[2].deadline {
		t.Errorf("left: pending %v, heap %d, timer at %d (want %d)", cc.pending, len(cc.deadlines), cc.dtimerAt, ws[2].deadline)
	}
}
