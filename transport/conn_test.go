package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gotars/tars/protocol"
)

func frame(payload string) []byte {
	b := make([]byte, 4+len(payload))
	binary.BigEndian.PutUint32(b, uint32(len(b)))
	copy(b[4:], payload)
	return b
}

// echoServer answers every frame with the same frame.
func echoServer(t *testing.T, maxFrame int) (*Server, string, chan error) {
	t.Helper()
	errs := make(chan error, 16)
	s := &Server{
		MaxFrame: maxFrame,
		Handler: func(p Peer, fr Frame) {
			if err := p.Write(fr.Data); err != nil {
				errs <- err
			}
		},
		OnConnError: func(_ net.Addr, err error) { errs <- err },
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, ln.Addr().String(), errs
}

func TestConnEchoManyWriters(t *testing.T) {
	_, addr, _ := echoServer(t, 0)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[string]int{}
	done := make(chan struct{})
	const writers, each = 8, 200
	c := NewConn(nc, ConnConfig{OnFrame: func(_ Peer, fr Frame) {
		f := fr.Data
		mu.Lock()
		got[string(f[4:])]++
		n := len(got)
		mu.Unlock()
		if n == writers*each {
			close(done)
		}
	}})
	go c.Serve()
	defer c.Close()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Payload sizes vary so that frames straddle reads.
				p := make([]byte, (w*each+i)%3000)
				for j := range p {
					p[j] = byte('a' + (w+i+j)%26)
				}
				key := string(binary.BigEndian.AppendUint32(nil, uint32(w*each+i))) + string(p)
				if err := c.Write(frame(key)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("echo incomplete: %d of %d frames", len(got), writers*each)
	}
	for k, n := range got {
		if n != 1 {
			t.Fatalf("frame %q echoed %d times", k[:4], n)
		}
	}
}

func TestServerDropsBadFrames(t *testing.T) {
	tests := []struct {
		name   string
		header uint32
		want   error
	}{
		{"too short", 3, protocol.ErrFrameTooShort},
		{"zero", 0, protocol.ErrFrameTooShort},
		{"over maximum", 1 << 20, protocol.ErrFrameTooLarge},
		{"4 GiB", 0xffffffff, protocol.ErrFrameTooLarge},
	}
	s, addr, errs := echoServer(t, 1000)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			// A good frame first: it is answered.
			nc.Write(frame("ok"))
			buf := make([]byte, 6)
			nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := readFull(nc, buf); err != nil || string(buf[4:]) != "ok" {
				t.Fatalf("echo: %q %v", buf, err)
			}
			nc.Write(binary.BigEndian.AppendUint32(nil, tt.header))
			if _, err := nc.Read(buf); err == nil {
				t.Fatal("connection still open after a bad frame")
			}
			select {
			case err := <-errs:
				if !errors.Is(err, tt.want) {
					t.Fatalf("dropped with %v, want %v", err, tt.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no error reported")
			}
		})
	}
	// The server still serves new connections.
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write(frame("again"))
	buf := make([]byte, 9)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := readFull(nc, buf); err != nil || string(buf[4:]) != "again" {
		t.Fatalf("after bad frames: %q %v", buf, err)
	}
	_ = s
}

func TestLargeFrameGrowsAndShrinks(t *testing.T) {
	_, addr, _ := echoServer(t, 4<<20)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 4)
	c := NewConn(nc, ConnConfig{MaxFrame: 4 << 20, OnFrame: func(_ Peer, f Frame) { got <- len(f.Data) }})
	go c.Serve()
	defer c.Close()
	for _, n := range []int{3 << 20, 10, 1 << 20} {
		if err := c.Write(frame(string(make([]byte, n)))); err != nil {
			t.Fatal(err)
		}
		select {
		case l := <-got:
			if l != n+4 {
				t.Fatalf("echoed %d bytes, want %d", l, n+4)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("timeout")
		}
	}
}

func TestUDP(t *testing.T) {
	s := &Server{Handler: func(p Peer, f Frame) { p.Write(f.Data) }}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.ServePacket(pc)
	defer s.Close(context.Background())
	nc, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	c := NewConn(nc, ConnConfig{OnFrame: func(_ Peer, f Frame) { got <- string(f.Data[4:]) }})
	go c.Serve()
	defer c.Close()
	// A malformed datagram is dropped; the next one is answered.
	nc.Write([]byte{0, 0, 0, 99, 1})
	if err := c.Write(frame("udp")); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "udp" {
			t.Fatalf("got %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no UDP answer")
	}
}

func TestWriteAfterClose(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	c := NewConn(a, ConnConfig{OnFrame: func(Peer, Frame) {}})
	c.Close()
	if err := c.Write(frame("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	<-c.Done()
}

func readFull(nc net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := nc.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func TestClientWriteNeverBlocks(t *testing.T) {
	a, b := net.Pipe() // b never reads: a write to a blocks
	defer b.Close()
	c := NewConn(a, ConnConfig{MaxQueued: 1 << 10, WriteTimeout: 200 * time.Millisecond, OnFrame: func(Peer, Frame) {}})
	go c.Serve()
	// The first frame goes to the background writer, which blocks in the
	// pipe; the following ones queue until the bound refuses them. No
	// Write waits for the peer.
	start := time.Now()
	var err error
	for i := 0; i < 10000 && err == nil; i++ {
		err = c.Write(frame(string(make([]byte, 100))))
	}
	if !errors.Is(err, ErrQueueFull) {
		t.Fatalf("10000 frames to a peer that does not read: %v", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("writes took %v", d)
	}
	select {
	case <-c.Done():
		t.Fatal("a full queue closed the connection")
	default:
	}
	// The blocked write times out and closes the connection.
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the blocked writer did not time out")
	}
	if err := c.Err(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("closed with %v", err)
	}
}
