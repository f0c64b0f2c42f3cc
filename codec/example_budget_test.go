package codec_test

import (
	"errors"
	"fmt"

	"github.com/gotars/tars/codec"
)

// A decode budget bounds the Go memory decoding may allocate for one
// input: here a vector<string> of 1,000 empty strings (2 bytes each on the
// wire, 16 in Go) read by a hand-written decoder that charges before it
// allocates.
func ExampleReader_SetBudget() {
	var w codec.Writer
	w.WriteListHeader(0, 1000)
	for range 1000 {
		w.WriteString(0, "")
	}
	r := codec.NewReader(w.Bytes())
	r.SetBudget(4 * len(w.Bytes())) // instead of codec.DefaultBudget(len(input))
	h, _ := r.ReadHead()
	n, _ := r.ListLen(h)
	if err := r.Charge(n * 16); err != nil { // a []string of n strings
		fmt.Println(errors.Is(err, codec.ErrBudget), err)
		return
	}
	fmt.Println("decoded", n)
	// Output: true tars: decode memory budget exceeded: expected at most 8016 more bytes of decoded Go memory, found 16000 bytes at offset 4
}
