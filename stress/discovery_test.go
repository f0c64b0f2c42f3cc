package stress

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
)

// The fault tests of issue 8 §4, against three backend children resolved
// through a TARS registry (a registry child serving QueryF): a backend
// killed, a backend hung, the registry down, an endpoint deregistered.

// TestBackendKilled: three backends, 64 callers through one client; one
// backend is SIGKILLed mid-run. Targets: the callers' failures are no more
// than the calls in flight on it at the kill — those in flight at the
// signal, those begun on it while it died (until its process was reaped:
// its sockets take writes until then), and those begun after that but
// before the client could know (its read loop had not yet seen the
// connection close) — and no call begun once the client knew fails; the
// others fail nothing; within 1 s of the kill there are no more failures and the
// calls spread over the two live backends (each ≥ 40% of the calls in a
// 100 ms window and from then on to the end).
func TestBackendKilled(t *testing.T) {
	const (
		before   = 1500 * time.Millisecond
		after    = 2500 * time.Millisecond
		recovery = time.Second
	)
	f := startFleet(t, 3)
	reg := startChild(t, registryProfile, childConfig{})
	setRegistry(t, reg, userapi.Servant, f.addrs(f.backends...)...)
	lt := f.load
	c := registryClient(t, registryLocator(reg), lt)
	f.warm(t, c, lt.eps...)
	a, b, cc := lt.eps[0], lt.eps[1], lt.eps[2]
	victim := f.backends[1]

	lt.watch = b
	run := lt.callers(c, fleetCallers, fleetCallTimeout)
	time.Sleep(before)
	lt.phase.Store(1) // begun from here: while it dies
	inflight := int(b.inflight.Load())
	tKill := lt.now()
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-victim.exited:
	case <-time.After(5 * time.Second):
		t.Fatal("the killed backend was not reaped within 5 s")
	}
	tReaped := lt.now()
	lt.phase.Store(2) // begun from here: after its death
	time.Sleep(after)
	tEnd := lt.now()
	fails := run.finish()

	// When the client learnt of the death: the last failure of a call sent
	// to it before it was reaped (every connection to it carried some).
	attempts := lt.failures()
	tKnown := tReaped
	for _, f := range attempts {
		if f.ep == b && f.phase <= 1 {
			tKnown = max(tKnown, f.end)
		}
	}
	var dying, unknowing int // begun on it from the signal to its reaping, and from then until the client knew
	for _, st := range lt.watchedStarts() {
		switch {
		case st <= tReaped:
			dying++
		case st <= tKnown:
			unknowing++
		}
	}
	bound := inflight + dying + unknowing
	// Failed attempts by phase begun (0 before the signal, 1 while it
	// died, 2 after); on the victim, those whose frame was never written
	// (the connection had already failed: nothing sent).
	var onLive, onVictim, unsent, callers [3]int
	for _, f := range attempts {
		if f.ep == b {
			onVictim[min(f.phase, 2)]++
			if !strings.Contains(f.err, "connection lost") {
				unsent[min(f.phase, 2)]++
			}
		} else {
			onLive[min(f.phase, 2)]++
		}
	}
	late := 0 // failures of calls begun once the client knew
	for _, f := range fails {
		callers[min(f.phase, 2)]++
		if f.start > tKnown {
			late++
		}
	}
	live := []*epLoad{a, cc}
	// Recovery: the last failure, and the end of the first window after
	// the kill from which on the calls are spread (each live backend ≥
	// minShare in that window and over the rest of the run).
	var lastFail time.Duration
	for _, f := range fails {
		lastFail = max(lastFail, f.at-tKill)
	}
	spreadAt := tEnd - tKill
	for w := tKill; w+spreadWindow <= tEnd; w += spreadWindow {
		if _, _, ok := lt.spread(live, w, w+spreadWindow); ok && lt.least(live, w, tEnd) >= minShare {
			spreadAt = w + spreadWindow - tKill
			break
		}
	}
	rec := max(lastFail, spreadAt)
	least, _, _ := lt.spread(live, tKill+rec, tEnd)
	rate := func(from, to time.Duration) float64 { return float64(lt.answeredIn(from, to)) / (to - from).Seconds() }
	t.Logf("killed 1 of 3 backends under %d callers: calls in flight on it at the kill %d at the signal + %d begun while it died (reaped %v after the signal) "+
		"+ %d begun after, before the client knew (%v after the signal) = bound %d; "+
		"callers' failures %d (%s), by phase begun (before the signal/dying/after its death) %v, begun once the client knew %d; answers read after its death %d (sent before it); "+
		"failed attempts on it by phase begun %v, of which never written (the connection had already failed) %v; on the live ones %v; "+
		"the last failure %v after the kill; calls spread (each live ≥ %.0f%% of a %v window and of the rest) from %v after; recovery %v; then the least live share per window %.2f; calls/s before %.0f, after recovery %.0f; answered %s"+
		"\n timeline from the kill:%s",
		fleetCallers, inflight, dying, (tReaped - tKill).Round(time.Microsecond), unknowing, (tKnown - tKill).Round(time.Microsecond), bound,
		len(fails), byCode(fails), callers, late, b.answeredIn(tReaped, tEnd),
		onVictim, unsent, onLive, lastFail.Round(time.Microsecond), 100*minShare, spreadWindow, spreadAt, rec.Round(time.Microsecond), least, rate(tKill-before+500*time.Millisecond, tKill), rate(tKill+rec, tEnd),
		lt.counts(0, tEnd), lt.timeline(fails, tKill, tKill-spreadWindow, min(tKill+time.Second, tEnd), spreadWindow))
	if len(fails) > bound {
		t.Errorf("%d calls failed, more than the %d in flight on the killed backend at its death", len(fails), bound)
	}
	if late > 0 {
		t.Errorf("%d calls begun after the client knew of the backend's death failed", late)
	}
	if onLive != [3]int{} {
		t.Errorf("calls failed on the live backends: %v", onLive)
	}
	if rec >= recovery {
		t.Errorf("recovery took %v after the kill (last failure %v, calls spread from %v), want < %v", rec, lastFail, spreadAt, recovery)
	}
}

// TestBackendStopped: three backends, 64 callers (1 s deadlines); one
// backend is SIGSTOPped (hung: the kernel still accepts and buffers) for
// 8 s, then SIGCONTed. Targets: the client isolates it within the health
// rule — no call begins on it later than FailInterval (5 s, TarsGo's "no
// success for 5 s" after 5 timeouts in a row) + one call timeout + the
// stall window after the stop — and the calls/s over the hung phase are ≥
// 50% of those with all three healthy, measured in the same run.
func TestBackendStopped(t *testing.T) {
	const (
		warmup = 500 * time.Millisecond
		normal = 3 * time.Second
		hung   = 8 * time.Second
		tail   = 500 * time.Millisecond
	)
	isolation := tars.DefaultHealth.FailInterval + fleetCallTimeout + stallAfter
	f := startFleet(t, 3)
	reg := startChild(t, registryProfile, childConfig{})
	setRegistry(t, reg, userapi.Servant, f.addrs(f.backends...)...)
	lt := f.load
	c := registryClient(t, registryLocator(reg), lt)
	f.warm(t, c, lt.eps...)
	b := lt.eps[1]
	victim := f.backends[1]

	run := lt.callers(c, fleetCallers, fleetCallTimeout)
	time.Sleep(warmup + normal)
	tStop := lt.now()
	victim.stopped.Store(true)
	if err := victim.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(hung)
	tCont := lt.now()
	victim.cmd.Process.Signal(syscall.SIGCONT)
	victim.stopped.Store(false)
	time.Sleep(tail)
	tEnd := lt.now()
	fails := run.finish()

	normalRate := float64(lt.answeredIn(tStop-normal, tStop)) / normal.Seconds()
	hungRate := float64(lt.answeredIn(tStop, tCont)) / (tCont - tStop).Seconds()
	worst := hungRate
	var perSec []int
	for w := tStop; w+time.Second <= tCont; w += time.Second {
		n := lt.answeredIn(w, w+time.Second)
		perSec = append(perSec, n)
		worst = min(worst, float64(n))
	}
	var onB []int
	for w := tStop; w+stallAfter <= tCont; w += stallAfter {
		onB = append(onB, b.startedIn(w, w+stallAfter))
	}
	last, any := b.lastStart(tStop, tCont)
	isolated := last - tStop
	if !any {
		isolated = 0
	}
	t.Logf("hung 1 of 3 backends under %d callers (%v deadlines): all healthy %.0f calls/s; hung phase %.0f calls/s (%.1f%%), per second %v (worst %.1f%%); "+
		"calls begun on the hung one per %v: %v; the last %v after the stop (bound %v); failures in the hung phase %s, after SIGCONT %s",
		fleetCallers, fleetCallTimeout, normalRate, hungRate, 100*hungRate/normalRate, perSec, 100*worst/normalRate,
		stallAfter, onB, isolated, isolation, byCode(failsIn(fails, tStop, tCont)), byCode(failsIn(fails, tCont, tEnd)))
	if hungRate < 0.5*normalRate {
		t.Errorf("with one of three backends hung the client made %.0f calls/s, < 50%% of its %.0f with all healthy", hungRate, normalRate)
	}
	if isolated > isolation {
		t.Errorf("a call began on the hung backend %v after the stop, later than the health rule allows (%v)", isolated, isolation)
	}
	if n := b.startedIn(tStop+isolation, tCont); n > 0 {
		t.Errorf("%d calls began on the hung backend more than %v after the stop", n, isolation)
	}
}

// TestRegistryFaults: three backends listed by a registry child, the
// client refreshing every 200 ms, 64 callers. An endpoint is removed from
// the registry's answer: no call begins on it later than one refresh
// cycle (+100 ms for the query under load) after, no call fails, and the
// client's connections to it are closed 1 s after. Then
// the registry is SIGKILLed: calls go on with the last good list for 2 s
// (no failure, answers in every 100 ms window, each listed backend ≥ 40%
// of them). Then it
// comes back on the same port listing all three: the removed backend gets
// calls again within 2 s.
func TestRegistryFaults(t *testing.T) {
	const (
		settle    = time.Second
		deregLag  = refreshInterval + 100*time.Millisecond
		down      = 2 * time.Second
		recovered = 2 * time.Second
		tail      = 2 * time.Second
	)
	f := startFleet(t, 3)
	reg := startChild(t, registryProfile, childConfig{})
	setRegistry(t, reg, userapi.Servant, f.addrs(f.backends...)...)
	lt := f.load
	c := registryClient(t, registryLocator(reg), lt)
	f.warm(t, c, lt.eps...)
	a, b, cc := lt.eps[0], lt.eps[1], lt.eps[2]

	run := lt.callers(c, fleetCallers, fleetCallTimeout)
	time.Sleep(settle)
	tDereg := lt.now()
	connsBefore := connsTo(b.port)
	setRegistry(t, reg, userapi.Servant, f.addrs(f.backends[0], f.backends[2])...)
	time.Sleep(settle)
	connsAfter := connsTo(b.port)

	tDown := lt.now()
	reg.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-reg.exited:
	case <-time.After(5 * time.Second):
		t.Fatal("the killed registry was not reaped within 5 s")
	}
	time.Sleep(down)

	tRestart := lt.now()
	reg2 := startChild(t, registryProfile, childConfig{addr: reg.tcp})
	setRegistry(t, reg2, userapi.Servant, f.addrs(f.backends...)...)
	tUp := lt.now()
	time.Sleep(tail)
	tEnd := lt.now()
	fails := run.finish()

	last, _ := b.lastStart(tDereg, tDown)
	lag := last - tDereg
	listed := []*epLoad{a, cc}
	least, _, _ := lt.spread(listed, tDown, tRestart)
	overall := lt.least(listed, tDown, tRestart)
	quiet := -time.Duration(1) // a window of the outage without answers
	for w := tDown; w+spreadWindow <= tRestart; w += spreadWindow {
		if lt.answeredIn(w, w+spreadWindow) == 0 {
			quiet = w - tDown
			break
		}
	}
	back, backOK := b.firstStart(tUp, tEnd)
	t.Logf("registry: endpoint removed → its last call began %v after (bound %v), connections to it %d before, %d %v after; registry down %v: answered %s, share of the less called of the two listed %.2f (least per %v window %.2f); "+
		"registry back (started in %v): the removed endpoint's first call %v after; failures %s; answered in all %s",
		lag, deregLag, connsBefore, connsAfter, settle, tRestart-tDown, lt.counts(tDown, tRestart), overall, spreadWindow, least, (tUp - tRestart).Round(time.Millisecond),
		back-tUp, byCode(fails), lt.counts(0, tEnd))
	if len(fails) > 0 {
		t.Errorf("%d calls failed: %s", len(fails), byCode(fails))
	}
	if lag > deregLag {
		t.Errorf("a call began on the deregistered endpoint %v after its removal, want within %v (one refresh cycle + 100 ms)", lag, deregLag)
	}
	if connsAfter != 0 {
		t.Errorf("%d connections to the deregistered endpoint still open %v after its removal (want drained and closed)", connsAfter, settle)
	}
	if quiet >= 0 {
		t.Errorf("registry down: no call answered in the %v window at +%v of the outage", spreadWindow, quiet)
	}
	if overall < minShare {
		t.Errorf("registry down: a listed backend answered %.0f%% of the calls, want ≥ %.0f%% each", 100*overall, 100*minShare)
	}
	if !backOK || back-tUp > recovered {
		t.Errorf("registry back listing the removed endpoint: it got no call within %v (first at %v, found %t)", recovered, back-tUp, backOK)
	}
}
