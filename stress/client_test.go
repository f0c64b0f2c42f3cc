package stress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
)

// TestHungEndpoint: a client with two endpoints, 64 callers; one server is
// SIGSTOP'd (hung, not dead: the kernel still accepts and buffers). Target:
// the client keeps ≥ 50% of the calls/s it made with both healthy.
func TestHungEndpoint(t *testing.T) {
	const (
		callers = 64
		phase   = 3 * time.Second
	)
	a := startChild(t, "defaults", childConfig{})
	b := startChild(t, "defaults", childConfig{})
	ha, pa, _ := net.SplitHostPort(a.tcp)
	hb, pb, _ := net.SplitHostPort(b.tcp)
	obj := fmt.Sprintf("%s@tcp -h %s -p %s -t 3000:tcp -h %s -p %s -t 3000", userapi.Servant, ha, pa, hb, pb)
	c := newClient(t, obj, clientOptions("hung")...)
	for range 4 { // connect to both
		if _, err := userapi.GetUser.Call(context.Background(), c, userapi.UserIDArgs{UserID: 1}); err != nil {
			t.Fatal(err)
		}
	}
	run := func() (perSec float64, s *callStats) {
		end := time.Now().Add(phase)
		var ok atomic.Int64
		var wg sync.WaitGroup
		var mu sync.Mutex
		s = &callStats{codes: map[tars.Code]int{}}
		for range callers {
			wg.Go(func() {
				codes := map[tars.Code]int{}
				for time.Now().Before(end) {
					ctx, cancel := context.WithTimeout(context.Background(), time.Second)
					_, err := userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: 1})
					cancel()
					if err == nil && time.Now().Before(end) {
						ok.Add(1)
					} else if err != nil {
						codes[tars.CodeOf(err)]++
					}
				}
				mu.Lock()
				for k, v := range codes {
					s.codes[k] += v
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		s.ok = int(ok.Load())
		return float64(s.ok) / phase.Seconds(), s
	}
	normal, ns := run()
	if err := b.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	b.stopped.Store(true)
	hung, hs := run()
	b.cmd.Process.Signal(syscall.SIGCONT)
	b.stopped.Store(false)
	t.Logf("hung endpoint: %d callers, both healthy %.0f calls/s (failures %v); one SIGSTOP'd %.0f calls/s (%.1f%%, failures %v)",
		callers, normal, ns.codes, hung, 100*hung/normal, hs.codes)
	if hung < 0.5*normal {
		t.Errorf("with one of two endpoints hung the client made %.0f calls/s, < 50%% of its %.0f with both healthy", hung, normal)
	}
}

// TestClientDeadlines: the deadline bounds the whole call, write and dial
// included.
func TestClientDeadlines(t *testing.T) {
	t.Run("write to a peer that does not read", func(t *testing.T) {
		// An 8 MB call with a 200 ms deadline: it returns within ~300 ms
		// with CodeInvokeTimeout and errors.Is(err,
		// context.DeadlineExceeded); a small call made meanwhile on the same
		// client returns within its own 100 ms deadline (+100 ms).
		ln := holdingListener(t)
		c := newClient(t, fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d -t 3000", userapi.Servant, ln.Addr().(*net.TCPAddr).Port),
			clientOptions("deadlines")...)
		big := userapi.UserInfoArgs{UserInfo: userapi.UserInfo{UserName: strings.Repeat("x", 8<<20), Email: "a@b"}}
		type result struct {
			err error
			d   time.Duration
		}
		bigDone, smallDone := make(chan result, 1), make(chan result, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := userapi.CreateUser.Call(ctx, c, big)
			bigDone <- result{err, time.Since(start)}
		}()
		time.Sleep(50 * time.Millisecond)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: 1})
			smallDone <- result{err, time.Since(start)}
		}()
		wait := func(ch chan result) result {
			select {
			case r := <-ch:
				return r
			case <-time.After(15 * time.Second):
				return result{errors.New("still blocked after 15s"), 15 * time.Second}
			}
		}
		br, sr := wait(bigDone), wait(smallDone)
		t.Logf("8 MB call, 200ms deadline, peer not reading: returned after %v, code %d: %v; 100ms call meanwhile: after %v, code %d",
			br.d.Round(time.Millisecond), tars.CodeOf(br.err), br.err, sr.d.Round(time.Millisecond), tars.CodeOf(sr.err))
		if br.d > 300*time.Millisecond || tars.CodeOf(br.err) != tars.CodeInvokeTimeout || !errors.Is(br.err, context.DeadlineExceeded) {
			t.Errorf("8 MB call with a 200ms deadline: %v after %v (want CodeInvokeTimeout wrapping context.DeadlineExceeded within 300ms)", br.err, br.d)
		}
		if sr.d > 200*time.Millisecond {
			t.Errorf("a 100ms call behind the blocked write returned after %v (want within its deadline + 100ms)", sr.d)
		}
		c.Close()
	})
	t.Run("dial to a black hole", func(t *testing.T) {
		// Two callers (1.5 s deadlines) dial a listener whose backlog is full
		// (the dial hangs); a 20 ms call made meanwhile returns within
		// 20 ms + 30 ms.
		addr := blackHole(t)
		c := newClient(t, fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d -t 3000", userapi.Servant, addr.Port), clientOptions("deadlines")...)
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
				defer cancel()
				userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: 1})
			})
		}
		time.Sleep(50 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		start := time.Now()
		_, err := userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: 1})
		d := time.Since(start)
		cancel()
		c.Close()
		wg.Wait()
		t.Logf("20ms call while other callers dial a black hole: returned after %v, code %d: %v", d.Round(time.Millisecond), tars.CodeOf(err), err)
		if d > 50*time.Millisecond {
			t.Errorf("a 20ms call waited %v behind another caller's dial (want within its deadline + 30ms)", d)
		}
		if err == nil {
			t.Errorf("a call to a black hole succeeded")
		}
	})
}

// holdingListener accepts connections and never reads from them.
func holdingListener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, nc)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		for _, nc := range held {
			nc.Close()
		}
		mu.Unlock()
	})
	return ln
}

// blackHole returns the address of a listener that never accepts, with its
// accept queue full: a dial to it hangs (the kernel drops the SYNs).
func blackHole(t *testing.T) *net.TCPAddr {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sa.(*syscall.SockaddrInet4).Port}
	var fillers []net.Conn
	t.Cleanup(func() {
		for _, nc := range fillers {
			nc.Close()
		}
	})
	for range 8 { // fill the accept queue until a dial hangs
		nc, err := net.DialTimeout("tcp", addr.String(), 300*time.Millisecond)
		if err != nil {
			return addr
		}
		fillers = append(fillers, nc)
	}
	t.Skip("could not fill the accept queue of a listener with backlog 0: dials do not hang on this kernel")
	return nil
}
