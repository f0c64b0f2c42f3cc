package reflectcodec_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/gotars/tars/codec"
	"github.com/gotars/tars/codec/reflectcodec"
)

// Hostile shapes: inputs whose decoding costs many times their size in Go
// memory, each filling about n bytes of wire.

type emptyStrings struct {
	L []string `tars:"0"`
}

type emptyKeys struct {
	M map[string]string `tars:"0"`
}

type zeroIntKeys struct {
	M map[int32]int32 `tars:"0"`
}

// user is a struct whose optional fields are all absent from the wire
// (STRUCT_BEGIN, STRUCT_END: 2 bytes), as a vector of default values.
type user struct {
	ID    int32             `tars:"0"`
	Name  string            `tars:"1"`
	Email string            `tars:"2"`
	Tags  []string          `tars:"3"`
	Meta  map[string]string `tars:"4"`
	Score float64           `tars:"5"`
}

type emptyStructs struct {
	L []user `tars:"0"`
}

type vectors struct {
	L [][]int64 `tars:"0"`
}

type ptrs struct {
	L []*user `tars:"0"`
}

type lists struct {
	L [][]string `tars:"0"`
}

// smallLists is a list of 100 empty strings, one element of a [][]string:
// each inner list passes its own charge, so the budget is spent piece by
// piece.
var smallLists = func() []byte {
	var w codec.Writer
	w.WriteListHeader(0, 100)
	for range 100 {
		w.WriteString(0, "")
	}
	return w.Bytes()
}()

type shape struct {
	name string
	elem []byte // one element's bytes, repeated
	head func(n int) []byte
	into func() any
}

func listHead(tag uint8, t codec.Type, n int) []byte {
	var w codec.Writer
	w.WriteListHeader(0, n) // a LIST or MAP head has the same length field
	b := w.Bytes()
	b[0] = tag<<4 | byte(t)
	return b
}

var shapes = []shape{
	{"[]string of empty strings", []byte{0x06, 0x00}, func(n int) []byte { return listHead(0, codec.List, n) }, func() any { return new(emptyStrings) }},
	{"map[string]string of empty keys", []byte{0x06, 0x00, 0x16, 0x00}, func(n int) []byte { return listHead(0, codec.Map, n) }, func() any { return new(emptyKeys) }},
	{"map[int32]int32 of zero keys", []byte{0x0c, 0x1c}, func(n int) []byte { return listHead(0, codec.Map, n) }, func() any { return new(zeroIntKeys) }},
	{"[]struct of empty structs", []byte{0x0a, 0x0b}, func(n int) []byte { return listHead(0, codec.List, n) }, func() any { return new(emptyStructs) }},
	{"[][]int64 of empty vectors", []byte{0x09, 0x0c}, func(n int) []byte { return listHead(0, codec.List, n) }, func() any { return new(vectors) }},
	{"[]*struct of empty structs", []byte{0x0a, 0x0b}, func(n int) []byte { return listHead(0, codec.List, n) }, func() any { return new(ptrs) }},
	{"[][]string of lists of 100 empty strings", smallLists, func(n int) []byte { return listHead(0, codec.List, n) }, func() any { return new(lists) }},
}

// input returns the shape filling about size bytes.
func (s shape) input(size int) []byte {
	n := min(size/len(s.elem), codec.DefaultMaxElements)
	return append(s.head(n), []byte(strings.Repeat(string(s.elem), n))...)
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHostileShapesStayWithinBudget: each hostile shape of 1 MiB fails with
// ErrBudget under the default budget, having allocated no more than the
// budget (plus a little for the error); without a budget it decodes, at a
// cost many times its size.
func TestHostileShapesStayWithinBudget(t *testing.T) {
	for _, s := range shapes {
		t.Run(s.name, func(t *testing.T) {
			in := s.input(1 << 20)
			var err error
			alloc := allocated(func() { err = reflectcodec.Unmarshal(in, s.into()) })
			if !errors.Is(err, codec.ErrBudget) {
				t.Fatalf("default budget: %v, want ErrBudget", err)
			}
			var ce *codec.Error
			if !errors.As(err, &ce) {
				t.Fatalf("not a *codec.Error: %T", err)
			}
			if limit := uint64(codec.DefaultBudget(len(in)) + 16<<10); alloc > limit {
				t.Fatalf("allocated %d bytes for %d of input, budget %d", alloc, len(in), codec.DefaultBudget(len(in)))
			}
			c := decodeUnbounded(t, s, in)
			t.Logf("%d wire bytes: %d allocated within the budget; %d (%.1fx) without one", len(in), alloc, c, float64(c)/float64(len(in)))
		})
	}
}

// decodeUnbounded decodes in with no budget and returns what it allocated.
func decodeUnbounded(t testing.TB, s shape, in []byte) uint64 {
	var err error
	alloc := allocated(func() {
		r := codec.NewReader(in)
		r.SetBudget(-1)
		err = decodeInto(r, s.into())
	})
	if err != nil {
		t.Fatalf("no budget: %v", err)
	}
	return alloc
}

func decodeInto(r *codec.Reader, v any) error {
	switch v := v.(type) {
	case *emptyStrings:
		return mustCodec[emptyStrings]().Decode(r, v)
	case *emptyKeys:
		return mustCodec[emptyKeys]().Decode(r, v)
	case *zeroIntKeys:
		return mustCodec[zeroIntKeys]().Decode(r, v)
	case *emptyStructs:
		return mustCodec[emptyStructs]().Decode(r, v)
	case *vectors:
		return mustCodec[vectors]().Decode(r, v)
	case *ptrs:
		return mustCodec[ptrs]().Decode(r, v)
	case *lists:
		return mustCodec[lists]().Decode(r, v)
	}
	panic(fmt.Sprintf("%T", v))
}

func mustCodec[T any]() *reflectcodec.Codec[T] {
	c, err := reflectcodec.For[T]()
	if err != nil {
		panic(err)
	}
	return c
}

// TestBudgetIsConfigurable: a budget set on the Reader is the bound; the
// same input passes with a larger one.
func TestBudgetIsConfigurable(t *testing.T) {
	v := emptyStrings{L: []string{"abc", "de", ""}}
	b, err := reflectcodec.Marshal(&v)
	if err != nil {
		t.Fatal(err)
	}
	c := mustCodec[emptyStrings]()
	const need = 3*16 + 16 // three string headers; five bytes of text in one block, rounded up
	for budget, ok := range map[int]bool{need - 1: false, need: true, -1: true} {
		r := codec.NewReader(b)
		r.SetBudget(budget)
		var out emptyStrings
		err := c.Decode(r, &out)
		if ok != (err == nil) || !ok && !errors.Is(err, codec.ErrBudget) {
			t.Errorf("budget %d: %v", budget, err)
		}
		if ok && budget >= 0 && r.Budget() != budget-need {
			t.Errorf("budget %d: %d left, want %d", budget, r.Budget(), budget-need)
		}
	}
}

type page struct {
	Users []user `tars:"0"`
}

func densePage(n int) page {
	var p page
	for i := range n {
		p.Users = append(p.Users, user{ID: int32(i), Name: fmt.Sprintf("user-%05d", i), Email: fmt.Sprintf("user-%05d@example.com", i),
			Tags: []string{"golang", "tars"}, Meta: map[string]string{"team": "infra"}, Score: 1.5})
	}
	return p
}

// TestDenseValues measures what ordinary, dense values cost in Go per byte
// of wire, and that the charges match what is allocated. Go's maps make a
// vector of users with a one-entry map cost about 6x its wire size: a
// small body decodes under the default budget (its slack covers it), a
// large one needs a budget of that multiple.
func TestDenseValues(t *testing.T) {
	c := mustCodec[page]()
	big, err := reflectcodec.Marshal(densePage(20000))
	if err != nil {
		t.Fatal(err)
	}
	var r codec.Reader
	var out page
	alloc := allocated(func() {
		r.Reset(big)
		r.SetBudget(8 * len(big))
		err = c.Decode(&r, &out)
	})
	if err != nil {
		t.Fatalf("%d bytes with a budget of 8x: %v", len(big), err)
	}
	charged := uint64(8*len(big) - r.Budget())
	t.Logf("%d users: %d wire bytes, %d allocated (%.2fx), %d charged", len(out.Users), len(big), alloc, float64(alloc)/float64(len(big)), charged)
	if charged < alloc*9/10 || charged > alloc*3/2 {
		t.Errorf("charged %d for %d allocated", charged, alloc)
	}
	small, _ := reflectcodec.Marshal(densePage(1000))
	if err := reflectcodec.Unmarshal(small, &out); err != nil || len(out.Users) != 1000 {
		t.Fatalf("%d bytes under the default budget: %v", len(small), err)
	}
	if err := reflectcodec.Unmarshal(big, &out); !errors.Is(err, codec.ErrBudget) {
		t.Fatalf("%d bytes under the default budget: %v, want ErrBudget", len(big), err)
	}
}

// BenchmarkHostileShapes measures what each hostile shape of 1 MiB costs to
// decode with the default budget (it fails once the budget is spent) and
// without a budget (what it would cost: B/op; goB/wireB is the ratio).
func BenchmarkHostileShapes(b *testing.B) {
	for _, s := range shapes {
		in := s.input(1 << 20)
		b.Run(s.name+"/budget=default", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if err := reflectcodec.Unmarshal(in, s.into()); !errors.Is(err, codec.ErrBudget) {
					b.Fatal(err)
				}
			}
		})
		b.Run(s.name+"/budget=none", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			var total uint64
			for b.Loop() {
				total += decodeUnbounded(b, s, in)
			}
			b.ReportMetric(float64(total)/float64(b.N)/float64(len(in)), "goB/wireB")
		})
	}
}
