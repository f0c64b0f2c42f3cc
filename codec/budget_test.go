package codec_test

import (
	"errors"
	"math"
	"testing"

	"github.com/gotars/tars/codec"
)

// TestBudget: the Reader's own allocating methods charge the budget, fail
// with a typed ErrBudget past it (taking nothing), and Reset restores the
// default for the new input.
func TestBudget(t *testing.T) {
	var w codec.Writer
	w.WriteString(0, "hello") // 5 bytes of string
	w.WriteListHeader(1, 3)   // a vector<byte> sent as a LIST: 3 bytes
	w.WriteRaw([]byte{0x00, 0x01, 0x00, 0x02, 0x0c})
	w.WriteMapHeader(2, 1) // a map<string,string> of one entry
	w.WriteString(0, "k")
	w.WriteString(1, "v")
	in := w.Bytes()

	r := codec.NewReader(in)
	if got, want := r.Budget(), codec.DefaultBudget(len(in)); got != want {
		t.Fatalf("NewReader budget %d, want %d", got, want)
	}
	read := func(r *codec.Reader) error {
		if _, err := r.String(0, true); err != nil {
			return err
		}
		if _, err := r.Bytes(1, true); err != nil {
			return err
		}
		_, err := r.StringMap(2, true)
		return err
	}
	// Measure what the three reads charge, then give one byte less.
	r.SetBudget(1 << 20)
	if err := read(r); err != nil {
		t.Fatal(err)
	}
	need := 1<<20 - r.Budget()
	if need < 5+3+2 {
		t.Fatalf("charged %d bytes, less than the strings and bytes alone", need)
	}
	r.Reset(in)
	r.SetBudget(need - 1)
	err := read(r)
	var ce *codec.Error
	if !errors.Is(err, codec.ErrBudget) || !errors.As(err, &ce) || ce.Offset <= 0 {
		t.Fatalf("budget %d of %d: %v", need-1, need, err)
	}
	if left := r.Budget(); left < 0 {
		t.Fatalf("a failed charge took %d", left)
	}
	r.Reset(in)
	if r.Budget() != codec.DefaultBudget(len(in)) {
		t.Fatalf("Reset left the budget at %d", r.Budget())
	}
	r.SetBudget(-1)
	if r.Budget() != math.MaxInt {
		t.Fatalf("SetBudget(-1): %d", r.Budget())
	}
	if err := r.Charge(1 << 40); err != nil {
		t.Fatalf("no bound: %v", err)
	}
	r.SetBudget(10)
	if err := r.Charge(11); !errors.Is(err, codec.ErrBudget) || r.Budget() != 10 {
		t.Fatalf("Charge(11) of 10: %v, %d left", err, r.Budget())
	}
	if err := r.Charge(10); err != nil || r.Budget() != 0 {
		t.Fatalf("Charge(10) of 10: %v, %d left", err, r.Budget())
	}
}

func TestDefaultBudget(t *testing.T) {
	for _, c := range []struct{ n, want int }{
		{0, codec.DefaultBudgetSlack},
		{-5, codec.DefaultBudgetSlack},
		{1000, 2000 + codec.DefaultBudgetSlack},
		{math.MaxInt / 2, math.MaxInt},
	} {
		if got := codec.DefaultBudget(c.n); got != c.want {
			t.Errorf("DefaultBudget(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}
