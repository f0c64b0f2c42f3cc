package stress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/codec"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/protocol"
)

// TestPipelinedReaders: 10 connections each pipeline 20,000 queryUsers and
// read every answer. Target: no reading client is dropped (each gets all its
// answers, of whatever code), the server's goroutines stay ≤ MaxInvoke +
// connections + 64, and its RSS ≤ 300 MiB.
func TestPipelinedReaders(t *testing.T) {
	for _, tt := range []struct {
		profile   string
		maxInvoke int
	}{
		{"invoke100", smallInvoke},
		{"defaults", tars.DefaultMaxInvoke},
	} {
		t.Run(tt.profile, func(t *testing.T) { pipelined(t, tt.profile, tt.maxInvoke) })
	}
}

func pipelined(t *testing.T, profile string, maxInvoke int) {
	const (
		conns   = 10
		perConn = 20000
		batch   = 200
		bound   = 60 * time.Second
	)
	srv := startChild(t, profile, childConfig{})
	limit := maxInvoke + conns + 64
	stop := srv.watch(limit)
	start := time.Now()
	deadline := start.Add(bound)
	type result struct {
		answers int
		codes   map[protocol.Code]int
		err     error
	}
	results := make([]result, conns)
	var wg sync.WaitGroup
	for i := range conns {
		tc, err := dial(srv.tcp)
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		tc.SetDeadline(deadline)
		wg.Go(func() { // writer
			buf := make([]byte, 0, 64*kiB)
			for sent := 0; sent < perConn; sent += batch {
				buf = appendQueries(buf[:0], int32(sent+1), batch)
				if _, err := tc.Write(buf); err != nil {
					return
				}
			}
		})
		wg.Go(func() { // reader
			r := &results[i]
			r.codes = map[protocol.Code]int{}
			fr := protocol.NewFrameReader(tc, 0)
			var rsp protocol.ResponsePacket
			for r.answers < perConn {
				f, err := fr.Next()
				if err != nil {
					r.err = err
					return
				}
				if err := protocol.DecodeResponse(f, &rsp); err != nil {
					r.err = err
					return
				}
				r.answers++
				r.codes[rsp.Ret]++
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	p := stop()
	dropped, total := 0, map[protocol.Code]int{}
	for i, r := range results {
		if r.answers < perConn {
			dropped++
			t.Logf("connection %d: %d of %d answers, then %v", i, r.answers, perConn, r.err)
		}
		for k, v := range r.codes {
			total[k] += v
		}
	}
	t.Logf("%s: %d connections × %d pipelined queryUsers in %v: %d dropped, answers by code %v; %v; server log: %s",
		profile, conns, perConn, elapsed.Round(time.Millisecond), dropped, total, p, srv.logs())
	srv.alive(t)
	if dropped > 0 {
		t.Errorf("%d of %d reading clients dropped (want 0: backpressure, not disconnection)", dropped, conns)
	}
	if p.Goroutines > limit {
		t.Errorf("peak server goroutines %d > MaxInvoke %d + %d connections + 64 = %d; %s", p.Goroutines, maxInvoke, conns, limit, p.Profile)
	}
	if p.RSS > 300*miB {
		t.Errorf("peak server RSS %s > 300 MiB", mib(p.RSS))
	}
}

// TestNonReader: one connection pipelines queryUsers and never reads an
// answer. Target: the server closes it once its writes have been stuck for
// the write timeout (between writeTimeout and writeTimeout + 3s after the
// attack's start: not earlier, for want of reading, as a slow peer), its
// goroutines stay ≤ MaxInvoke + 2 connections + 64 and its RSS ≤ 300 MiB,
// and a normal caller on another connection is served meanwhile (≥ 95% of
// its calls succeed).
func TestNonReader(t *testing.T) {
	const bound = 15 * time.Second
	srv := startChild(t, "nonreader", childConfig{})
	c := newClient(t, srv.obj(userapi.Servant))
	if _, err := userapi.GetUser.Call(context.Background(), c, userapi.UserIDArgs{UserID: 1}); err != nil {
		t.Fatal(err)
	}
	limit := smallInvoke + 2 + 64
	stop := srv.watch(limit)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	normal := goCallLoop(ctx, c, time.Second, 10*time.Millisecond)

	tc, err := dial(srv.tcp)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	start := time.Now()
	var closedAfter time.Duration
	var closeErr error
	buf := make([]byte, 0, 64*kiB)
	sent := 0
	for time.Since(start) < bound {
		buf = appendQueries(buf[:0], int32(sent+1), 200)
		tc.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := tc.Write(buf)
		sent += n / (len(buf) / 200)
		var ne net.Error
		if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
			closedAfter, closeErr = time.Since(start), err
			break
		}
	}
	cancel()
	ns := normal()
	p := stop()
	t.Logf("non-reader: %d requests written; closed after %v (%v); normal caller: %v; %v",
		sent, closedAfter.Round(time.Millisecond), closeErr, ns, p)
	srv.alive(t)
	switch {
	case closeErr == nil:
		t.Errorf("the connection that never reads was still open after %v (want closed within the write timeout %v + 3s)", bound, writeTimeout)
	case closedAfter < writeTimeout-100*time.Millisecond || closedAfter > writeTimeout+3*time.Second:
		t.Errorf("the connection that never reads was closed after %v, want after the write timeout %v and before it + 3s (a slow peer is slowed, not dropped)", closedAfter, writeTimeout)
	}
	if p.Goroutines > limit {
		t.Errorf("peak server goroutines %d > MaxInvoke %d + 2 connections + 64 = %d; %s", p.Goroutines, smallInvoke, limit, p.Profile)
	}
	if p.RSS > 300*miB {
		t.Errorf("peak server RSS %s > 300 MiB", mib(p.RSS))
	}
	if ns.ok == 0 || float64(ns.ok) < 0.95*float64(ns.ok+ns.failed()) {
		t.Errorf("normal caller not served meanwhile: %v", ns)
	}
}

// TestServantAdmission: 200 callers overload the slow servant (500 ms
// calls) while 8 callers call the UserService on the same server. Target:
// every UserService call succeeds.
func TestServantAdmission(t *testing.T) {
	const phase = 3 * time.Second
	srv := startChild(t, "servants", childConfig{})
	slow := newClient(t, srv.obj(slowServant), tars.WithConnsPerEndpoint(4))
	users := newClient(t, srv.obj(userapi.Servant))
	if _, err := userapi.GetUser.Call(context.Background(), users, userapi.UserIDArgs{UserID: 1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), phase)
	defer cancel()
	var wg sync.WaitGroup
	var slowMu sync.Mutex
	slowCodes := map[tars.Code]int{}
	for range 200 {
		wg.Go(func() {
			for ctx.Err() == nil {
				cctx, ccancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, err := sleepEndpoint.Call(cctx, slow, sleepArgs{Millis: 500})
				ccancel()
				slowMu.Lock()
				slowCodes[tars.CodeOf(err)]++
				slowMu.Unlock()
				if err != nil {
					time.Sleep(2 * time.Millisecond) // a retrying caller, not a busy loop
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond) // the overload first
	total := &callStats{}
	var mu sync.Mutex
	for range 8 {
		wg.Go(func() {
			s := callLoop(ctx, users, time.Second, 5*time.Millisecond)
			mu.Lock()
			total.merge(s)
			mu.Unlock()
		})
	}
	wg.Wait()
	t.Logf("slow servant calls by code %v; UserService calls meanwhile: %v", slowCodes, total)
	if total.ok == 0 || total.failed() > 0 {
		t.Errorf("overloading %s failed calls of %s: %v (want every call to succeed)", slowServant, userapi.Servant, total)
	}
}

// TestSlowloris: 2,000 connections each send a frame header, then one byte
// every 2 s. Target: every one is closed within frameTimeout + 1 s of its
// header.
func TestSlowloris(t *testing.T) {
	const n = 2000
	needFDs(t, n+200)
	srv := startChild(t, "timeouts", childConfig{})
	stop := srv.watch(0)
	conns := dialMany(t, srv.tcp, n, 32, frameHeader(1000))
	headersSent := time.Now()
	done := make(chan struct{})
	var dripWG sync.WaitGroup
	dripWG.Go(func() { // one byte every 2 s on every open connection
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			for _, c := range conns {
				if _, closed := c.closedAfter(); !closed {
					c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
					c.Write([]byte{0})
				}
			}
		}
	})
	bound := frameTimeout + time.Second
	open := waitClosed(conns, headersSent.Add(bound+2*time.Second))
	close(done)
	dripWG.Wait()
	p := stop()
	late, worst := 0, time.Duration(0)
	for _, c := range conns {
		if d, ok := c.closedAfter(); ok {
			worst = max(worst, d)
			if d > bound {
				late++
			}
		}
	}
	t.Logf("slowloris: %d connections; %d still open %v after their headers, %d closed late, slowest closed after %v; %v",
		n, open, (bound + 2*time.Second), late, worst.Round(time.Millisecond), p)
	srv.alive(t)
	if open > 0 || late > 0 {
		t.Errorf("%d slowloris connections still open and %d closed later than frame timeout %v + 1s (want all closed by then)", open, late, frameTimeout)
	}
}

// TestIdleConns: 20,000 connections (fewer if RLIMIT_NOFILE is lower) open
// and send nothing. Target: each is closed between idleTimeout − 0.25 s and
// idleTimeout + 2 s after it opened. The memory one idle connection costs is
// reported.
func TestIdleConns(t *testing.T) {
	n := 20000
	if lim := raiseNofile(); lim < uint64(n+200) {
		n = int(lim) - 200
	}
	if n < 5000 {
		t.Skipf("RLIMIT_NOFILE %d allows only %d idle connections; this attack needs at least 5,000", raiseNofile(), n)
	}
	srv := startChild(t, "timeouts", childConfig{})
	base := srv.gcStats(t)
	stop := srv.watch(0)
	start := time.Now()
	conns := dialMany(t, srv.tcp, n, 64, nil)
	dialled := time.Since(start)
	time.Sleep(200 * time.Millisecond)
	held := srv.gcStats(t)
	perConn := float64(held.RSS-base.RSS) / float64(n)
	heapPerConn := float64(held.HeapBytes-base.HeapBytes) / float64(n)
	last := time.Now()
	open := waitClosed(conns, last.Add(idleTimeout+3*time.Second))
	p := stop()
	early, late := 0, 0
	lo, hi := idleTimeout-250*time.Millisecond, idleTimeout+2*time.Second
	for _, c := range conns {
		if d, ok := c.closedAfter(); ok {
			if d < lo {
				early++
			} else if d > hi {
				late++
			}
		}
	}
	t.Logf("idle: %d connections dialled in %v; server held %d fds, %.0f B RSS and %.0f B heap per idle connection; %d still open %v after the last, %d closed before %v, %d after %v; %v",
		n, dialled.Round(time.Millisecond), held.FDs, perConn, heapPerConn, open, idleTimeout+3*time.Second, early, lo, late, hi, p)
	srv.alive(t)
	if open > 0 || early > 0 || late > 0 {
		t.Errorf("idle timeout %v: %d connections never closed, %d closed too early, %d too late (want all closed between %v and %v)", idleTimeout, open, early, late, lo, hi)
	}
}

// TestConnCap: with maxConns connections open and served, a connection
// beyond the cap is closed by the server at once. Target: median < 10 ms,
// none > 50 ms, over 5 attempts; the connections under the cap are served
// before and after.
func TestConnCap(t *testing.T) {
	srv := startChild(t, "maxconns", childConfig{})
	held := make([]*net.TCPConn, maxConns)
	for i := range held {
		tc, err := dial(srv.tcp)
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		if err := roundTrip(tc, int32(i+1), 2*time.Second); err != nil {
			t.Fatalf("connection %d under the cap not served: %v", i, err)
		}
		held[i] = tc
	}
	const attempts = 5
	var lat []time.Duration
	for range attempts {
		tc, err := dial(srv.tcp)
		if err != nil {
			lat = append(lat, 0) // refused by the kernel: at once
			continue
		}
		t0 := time.Now()
		tc.SetReadDeadline(t0.Add(500 * time.Millisecond))
		_, err = tc.Read(make([]byte, 64))
		d := time.Since(t0)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			d = -1 // still open
		}
		lat = append(lat, d)
		tc.Close()
	}
	served := 0
	for i, tc := range held {
		if roundTrip(tc, int32(100+i), 2*time.Second) == nil {
			served++
		}
	}
	t.Logf("connection cap %d: over-cap connections closed after %v (-1: still open after 500ms); %d of %d under the cap served afterwards",
		maxConns, lat, served, maxConns)
	stillOpen, slow := 0, 0
	sorted := make([]time.Duration, 0, attempts)
	for _, d := range lat {
		if d < 0 {
			stillOpen++
			d = time.Hour
		}
		if d > 50*time.Millisecond {
			slow++
		}
		sorted = append(sorted, d)
	}
	slices.Sort(sorted)
	if median := sorted[attempts/2]; median >= 10*time.Millisecond || slow > 0 {
		t.Errorf("over the cap of %d: %d of %d connections still open after 500ms, %d closed after > 50ms, median %v (want median < 10ms, none > 50ms)",
			maxConns, stillOpen, attempts, slow, median)
	}
	if served < maxConns {
		t.Errorf("only %d of %d connections under the cap were served after the over-cap attempts", served, maxConns)
	}
}

// TestFDExhaustion: the server runs out of file descriptors (RLIMIT_NOFILE
// 64, 100 connections open). Target: a new client's call fails (or
// succeeds) within 500 ms instead of hanging to its 2 s timeout, and a
// connection opened before is still served.
func TestFDExhaustion(t *testing.T) {
	srv := startChild(t, "defaults", childConfig{nofile: 64})
	first, err := dial(srv.tcp)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if err := roundTrip(first, 1, 2*time.Second); err != nil {
		t.Fatalf("first connection not served: %v", err)
	}
	flood := dialMany(t, srv.tcp, 100, 8, nil)
	time.Sleep(300 * time.Millisecond)
	fds := fdCount(srv.pid())

	c := newClient(t, srv.obj(userapi.Servant))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	start := time.Now()
	_, callErr := userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: 1})
	newClient := time.Since(start)
	cancel()
	start = time.Now()
	firstErr := roundTrip(first, 2, 2*time.Second)
	existing := time.Since(start)
	closed := 0
	for _, c := range flood {
		if _, ok := c.closedAfter(); ok {
			closed++
		}
	}
	t.Logf("out of fds (server holds %d): new client's call returned after %v with %v (code %d); %d of %d flood connections closed by the server; an existing connection answered in %v (%v)",
		fds, newClient.Round(time.Millisecond), callErr, tars.CodeOf(callErr), closed, len(flood), existing.Round(time.Millisecond), firstErr)
	if newClient > 500*time.Millisecond {
		t.Errorf("a new client hung %v with the server out of descriptors (want refused within 500ms)", newClient)
	}
	if firstErr != nil || existing > 500*time.Millisecond {
		t.Errorf("an existing connection was not served while the server was out of descriptors: %v after %v", firstErr, existing)
	}
}

// TestStalledLargeFrames: 50 connections each send 1 MiB of a frame that
// claims 10 MiB, then stall. Target: each is closed within frameTimeout + 1
// s of its last byte, and afterwards the server's heap and RSS (after a GC
// returning free memory to the OS) are back within 16 MiB of before.
func TestStalledLargeFrames(t *testing.T) {
	const n = 50
	srv := startChild(t, "timeouts", childConfig{})
	base := srv.gcStats(t)
	stop := srv.watch(0)
	payload := append(frameHeader(10<<20), make([]byte, 1*miB)...)
	conns := dialMany(t, srv.tcp, n, 10, payload)
	sent := time.Now()
	for _, c := range conns {
		c.opened = sent // time closing from the stall, not the connect
	}
	time.Sleep(300 * time.Millisecond)
	holding := srv.stats(t)
	bound := frameTimeout + time.Second
	open := waitClosed(conns, sent.Add(bound+2*time.Second))
	late := 0
	for _, c := range conns {
		if d, ok := c.closedAfter(); ok && d > bound {
			late++
		}
	}
	time.Sleep(200 * time.Millisecond)
	after := srv.gcStats(t)
	p := stop()
	t.Logf("stalled frames: RSS %s before, %s holding 50 × 1 MiB (heap %s → %s), %d still open %v after the stall, %d closed late; after GC: RSS %s, heap %s; %v",
		mib(base.RSS), mib(holding.RSS), mib(base.HeapBytes), mib(holding.HeapBytes), open, bound+2*time.Second, late,
		mib(after.RSS), mib(after.HeapBytes), p)
	srv.alive(t)
	if open > 0 || late > 0 {
		t.Errorf("%d stalled connections still open, %d closed later than frame timeout %v + 1s", open, late, frameTimeout)
	}
	if after.HeapBytes > base.HeapBytes+16*miB || after.RSS > base.RSS+16*miB {
		t.Errorf("memory not released after the stalled frames: heap %s → %s, RSS %s → %s (want within 16 MiB)",
			mib(base.HeapBytes), mib(after.HeapBytes), mib(base.RSS), mib(after.RSS))
	}
}

// hostileCreateUser returns a createUser frame of about 10 MiB whose
// UserInfo holds ~5M empty tags (list) or ~2.6M empty metadata entries
// (map): a few wire bytes per element that cost a decoder far more. The
// userName is empty, so the handler refuses it without storing anything.
func hostileCreateUser(mapVariant bool) []byte {
	const room = protocol.DefaultMaxPacket - 256
	w := codec.NewWriter(make([]byte, 0, room+256))
	w.WriteStructBegin(1) // UserInfoArgs.userInfo
	if mapVariant {
		n := room / 4
		w.WriteMapHeader(6, n)
		for range n {
			w.WriteString(0, "")
			w.WriteString(1, "")
		}
	} else {
		n := room / 2
		w.WriteListHeader(5, n)
		for range n {
			w.WriteString(0, "")
		}
	}
	w.WriteStructEnd()
	return appendRequest(nil, 1, userapi.Servant, "createUser", w.Bytes())
}

// TestHostileDecode: 32 connections at once each send two ~10 MiB
// createUser frames built to inflate in the decoder (16 list, 16 map), while
// a normal caller calls getUser. Target: the server's RSS stays < 1 GiB and
// the normal caller's p99 < 100 ms.
func TestHostileDecode(t *testing.T) {
	const (
		conns  = 32
		rounds = 2
		bound  = 40 * time.Second
	)
	frames := [2][]byte{hostileCreateUser(false), hostileCreateUser(true)}
	srv := startChild(t, "defaults", childConfig{rssCap: 3 * giB})
	c := newClient(t, srv.obj(userapi.Servant))
	if _, err := userapi.GetUser.Call(context.Background(), c, userapi.UserIDArgs{UserID: 1}); err != nil {
		t.Fatal(err)
	}
	stop := srv.watch(0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	normal := goCallLoop(ctx, c, 2*time.Second, 0)
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for i := range conns {
		wg.Go(func() {
			tc, err := dial(srv.tcp)
			if err != nil {
				mu.Lock()
				codes["dial: "+err.Error()]++
				mu.Unlock()
				return
			}
			defer tc.Close()
			tc.SetDeadline(start.Add(bound))
			fr := protocol.NewFrameReader(tc, 0)
			for range rounds {
				outcome := ""
				if _, err := tc.Write(frames[i%2]); err != nil {
					outcome = "write failed"
				} else if f, err := fr.Next(); err != nil {
					outcome = "no answer: " + err.Error()
				} else {
					var rsp protocol.ResponsePacket
					protocol.DecodeResponse(f, &rsp)
					outcome = fmt.Sprintf("ret %d", rsp.Ret)
				}
				mu.Lock()
				codes[outcome]++
				mu.Unlock()
				if outcome == "write failed" || strings.HasPrefix(outcome, "no answer") {
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cancel()
	ns := normal()
	p := stop()
	t.Logf("hostile decode: %d × %d frames of %s in %v, outcomes %v; normal caller: %v; %v; server log: %s",
		conns, rounds, mib(int64(len(frames[0]))), elapsed.Round(time.Millisecond), codes, ns, p, srv.logs())
	srv.alive(t)
	if p.RSS >= 1*giB {
		t.Errorf("peak server RSS %s ≥ 1 GiB while decoding hostile frames", mib(p.RSS))
	}
	if q := ns.quantile(0.99); ns.ok == 0 || q >= 100*time.Millisecond {
		t.Errorf("normal caller's p99 %v ≥ 100ms during the hostile frames (%v)", q, ns)
	}
}

// TestLogFlood: 10,000 garbage connections, then 10,000 garbage UDP
// datagrams. Target: each flood adds < 100 lines to the server's log
// (rate-limited, counted instead), and the server still serves.
func TestLogFlood(t *testing.T) {
	const n = 10000
	srv := startChild(t, "defaults", childConfig{})
	garbage := [][]byte{
		append(frameHeader(20), 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF), // undecodable packet
		frameHeader(1 << 30), // too large
		frameHeader(2),       // too short
	}
	base := srv.logLines.Load()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failures atomic.Int64
	for range 16 {
		wg.Go(func() {
			buf := make([]byte, 256)
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				tc, err := dial(srv.tcp)
				if err != nil {
					failures.Add(1)
					continue
				}
				tc.SetDeadline(time.Now().Add(2 * time.Second))
				tc.Write(garbage[i%len(garbage)])
				for { // until the server closes it
					if _, err := tc.Read(buf); err != nil {
						break
					}
				}
				tc.Close()
			}
		})
	}
	wg.Wait()
	tcpTime := time.Since(start)
	time.Sleep(500 * time.Millisecond)
	tcpLines := srv.logLines.Load() - base

	base = srv.logLines.Load()
	uc, err := net.Dial("udp", srv.udp)
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	for i := range n {
		uc.Write(garbage[0])
		if i%100 == 99 {
			time.Sleep(time.Millisecond) // do not just overflow the receive buffer
		}
	}
	time.Sleep(500 * time.Millisecond)
	udpLines := srv.logLines.Load() - base

	c := newClient(t, srv.obj(userapi.Servant))
	_, callErr := userapi.GetUser.Call(context.Background(), c, userapi.UserIDArgs{UserID: 1})
	t.Logf("log flood: %d garbage connections in %v (%d dials failed) → %d log lines; %d garbage datagrams → %d log lines; a call afterwards: %v; %s",
		n, tcpTime.Round(time.Millisecond), failures.Load(), tcpLines, n, udpLines, callErr, srv.logs())
	if tcpLines >= 100 {
		t.Errorf("%d garbage connections wrote %d log lines (want < 100: rate-limited)", n, tcpLines)
	}
	if udpLines >= 100 {
		t.Errorf("%d garbage datagrams wrote %d log lines (want < 100: rate-limited)", n, udpLines)
	}
	if callErr != nil {
		t.Errorf("server not serving after the flood: %v", callErr)
	}
}
