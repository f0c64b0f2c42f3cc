package wire_test

import (
	"runtime"
	"testing"
	"unsafe"

	"github.com/gotars/tars/codec"
	"github.com/gotars/tars/internal/wire"
)

func view(r *codec.Reader) *wire.Reader { return (*wire.Reader)(unsafe.Pointer(r)) }

// TestLayout: a *codec.Reader seen as a *wire.Reader reads the same state.
func TestLayout(t *testing.T) {
	r := codec.NewReader([]byte{0x10, 0x07, 0x26, 0x01, 'x'})
	r.SetLimits(codec.Limits{MaxDepth: 3, MaxElements: 4, MaxBytes: 5})
	r.SetBudget(1234)
	if _, err := r.ReadHead(); err != nil {
		t.Fatal(err)
	}
	w := view(r)
	if len(w.Buf) != 5 || w.Off != 1 || w.MaxDepth != 3 || w.MaxElements != 4 || w.MaxBytes != 5 || w.Budget != 1234 {
		t.Fatalf("wire view %+v", *w)
	}
	w.Off = 2
	if r.Offset() != 2 {
		t.Fatalf("offset through the view: %d", r.Offset())
	}
}

// TestMapCost: the estimate covers what Go's maps allocate, for sizes
// around the group and table boundaries.
func TestMapCost(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector pads allocations")
	}
	for _, n := range []int{0, 1, 2, 7, 8, 9, 15, 16, 17, 100, 896, 897, 1000, 1024, 5000, 100000} {
		measure := func(f func()) uint64 {
			var a, b runtime.MemStats
			runtime.ReadMemStats(&a)
			f()
			runtime.ReadMemStats(&b)
			return b.TotalAlloc - a.TotalAlloc
		}
		ss := measure(func() { m := make(map[string]string, n); fillSS(m, n); sink = m })
		if c := wire.MapCost(n, wire.StringSize, wire.StringSize); uint64(c) < ss {
			t.Errorf("map[string]string n=%d: estimate %d < allocated %d", n, c, ss)
		}
		ii := measure(func() { m := make(map[int32]int32, n); fillII(m, n); sink = m })
		if c := wire.MapCost(n, 4, 4); uint64(c) < ii {
			t.Errorf("map[int32]int32 n=%d: estimate %d < allocated %d", n, c, ii)
		}
	}
}

var (
	sink  any
	sinkP []*byte
)

var keys = func() []string {
	k := make([]string, 100000)
	for i := range k {
		k[i] = string(rune('a'+i%26)) + string(rune(i))
	}
	return k
}()

func fillSS(m map[string]string, n int) {
	for i := range n {
		m[keys[i]] = ""
	}
}

func fillII(m map[int32]int32, n int) {
	for i := range n {
		m[int32(i)] = 1
	}
}

func seeds(f *testing.F) {
	f.Add([]byte{0x00, 0x05, 0x11, 0x01, 0x00, 0x22, 0, 0, 0, 1, 0x33, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add([]byte{0x04, 0x3f, 0x80, 0, 0, 0x05, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x06, 0x02, 'h', 'i', 0x0c})
	f.Add([]byte{0x09, 0x02, 0x7f, 0xff, 0xff, 0xff, 0x0c})
	f.Add([]byte{0x06, 0xff, 'a'})
}

// FuzzTryMethods checks the fast paths against the general methods: where a
// Try method succeeds, the general one gives the same value and position;
// where it declines, it has consumed nothing.
func FuzzTryMethods(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		fastR, slow := codec.NewReader(in), codec.NewReader(in)
		fast := view(fastR)
		for range 64 {
			start := fast.Off
			b, ok := fast.TryHead()
			hs, err := slow.ReadHead()
			if !ok {
				if fast.Off != start {
					t.Fatal("TryHead declined but consumed")
				}
				return
			}
			h := codec.Head{Tag: b >> 4, Type: codec.Type(b & 0x0F)}
			if err != nil || h != hs || fast.Off != slow.Offset() {
				t.Fatalf("TryHead %v at %d, ReadHead %v at %d, %v", h, fast.Off, hs, slow.Offset(), err)
			}
			start = fast.Off
			switch h.Type {
			case codec.ZeroTag, codec.Int1, codec.Int2, codec.Int4, codec.Int8:
				v, ok := fast.TryIntBody(uint8(h.Type), uint8(codec.Int4))
				vs, err := slow.IntBody(h, codec.Int4)
				if ok != (err == nil) || ok && v != vs {
					t.Fatalf("TryIntBody %d %v, IntBody %d %v", v, ok, vs, err)
				}
				if !ok {
					if fast.Off != start {
						t.Fatal("a Try method declined but consumed")
					}
					return
				}
			case codec.Float, codec.Double:
				n := 4
				if h.Type == codec.Double {
					n = 8
				}
				_, ok := fast.TryFixedBody(n)
				err := slow.Skip(h)
				if ok != (err == nil) {
					t.Fatalf("TryFixedBody %v, Skip %v", ok, err)
				}
				if !ok {
					if fast.Off != start {
						t.Fatal("a Try method declined but consumed")
					}
					return
				}
			case codec.String1:
				b, ok := fast.TryString1Body(uint8(h.Type))
				bs, err := slow.StringBytesBody(h)
				if ok != (err == nil) || ok && string(b) != string(bs) {
					t.Fatalf("TryString1Body %q %v, StringBytesBody %q %v", b, ok, bs, err)
				}
				if !ok {
					if fast.Off != start {
						t.Fatal("a Try method declined but consumed")
					}
					return
				}
			default:
				return
			}
			if fast.Off != slow.Offset() {
				t.Fatalf("positions differ: %d vs %d", fast.Off, slow.Offset())
			}
		}
	})
}

// TestAlloc: the estimate covers what Go allocates for b bytes, at every
// size up to 40 KiB and around the page sizes beyond.
func TestAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector pads allocations")
	}
	sizes := []int{1 << 16, 1<<16 + 1, 1<<20 - 1, 1 << 20}
	for b := 1; b <= 40<<10; b++ {
		sizes = append(sizes, b)
	}
	for _, b := range sizes {
		n := 8 * ((b + 7) / 8)
		var a, c runtime.MemStats
		runtime.ReadMemStats(&a)
		sinkP = make([]*byte, n/8) // pointers: no tiny allocator
		runtime.ReadMemStats(&c)
		got := c.TotalAlloc - a.TotalAlloc
		if got == 0 {
			t.Fatalf("%d bytes: nothing allocated", n)
		}
		if uint64(wire.Alloc(n)) < got {
			t.Fatalf("Alloc(%d) = %d < %d allocated", n, wire.Alloc(n), got)
		}
	}
}
