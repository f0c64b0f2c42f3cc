package tars

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/gotars/tars/codec"
	"github.com/gotars/tars/protocol"
)

type budgetArgs struct {
	Tags []string `tars:"1,name=tags"`
}

var budgetSvc = NewService("BudgetService")
var budgetEp = NewEndpoint[budgetArgs, Void](budgetSvc, "tag")

// hostileBodies returns request bodies of about size bytes, in each packet
// version, that carry a list of n empty strings: 16 bytes of Go for each 2
// (TARS, TUP) or 3 (JSON) bytes of wire.
func hostileBodies(size int) map[int16][]byte {
	n := size / 2
	var w codec.Writer
	w.WriteListHeader(1, n)
	w.WriteRaw(bytes.Repeat([]byte{0x06, 0x00}, n))
	tarsBody := append([]byte(nil), w.Bytes()...)

	var v codec.Writer
	v.WriteListHeader(0, n)
	v.WriteRaw(bytes.Repeat([]byte{0x06, 0x00}, n))
	var t codec.Writer
	protocol.EncodeTUP(&t, map[string][]byte{"tags": v.Bytes()})

	jsonBody := `{"tags":[` + strings.Repeat(`"",`, size/3) + `""]}`
	return map[int16][]byte{VersionTARS: tarsBody, VersionTUP: t.Bytes(), VersionJSON: []byte(jsonBody)}
}

// TestDecodeArgsBudget: a request body whose decoding would cost many times
// its size fails with ErrBudget in every packet version, having allocated
// no more than the budget; an explicit budget is the bound, and a negative
// one lets it through.
func TestDecodeArgsBudget(t *testing.T) {
	for version, body := range hostileBodies(2 << 20) {
		var err error
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err = decodeArgsBudget(budgetEp.m, version, body, &budgetArgs{}, codec.DefaultBudget(len(body)))
		runtime.ReadMemStats(&after)
		if !errors.Is(err, codec.ErrBudget) {
			t.Errorf("version %d: %v, want ErrBudget", version, err)
			continue
		}
		var ce *codec.Error
		if !errors.As(err, &ce) {
			t.Errorf("version %d: %T is not a *codec.Error", version, err)
		}
		// JSON: encoding/json's buffer and tokens are not charged (they
		// are garbage as they go); they cost several times the input
		// (about 8 without the race detector).
		limit := uint64(codec.DefaultBudget(len(body))) + 64<<10
		if version == VersionJSON {
			limit += 12 * uint64(len(body))
		}
		alloc := after.TotalAlloc - before.TotalAlloc
		if alloc > limit {
			t.Errorf("version %d: %d bytes allocated for a body of %d (budget %d)", version, alloc, len(body), codec.DefaultBudget(len(body)))
		}
		t.Logf("version %d: a body of %d bytes failed after %d bytes allocated", version, len(body), alloc)
		var req budgetArgs
		if err := decodeArgsBudget(budgetEp.m, version, body, &req, -1); err != nil || len(req.Tags) < 1<<19 {
			t.Errorf("version %d, no budget: %d tags, %v", version, len(req.Tags), err)
		}
	}
}

// TestDecodeBudgetCountsTheWholeBody: in TUP the UniAttribute map and the
// parameters share one budget; a budget that pays for the map alone is
// not enough for the parameter.
func TestDecodeBudgetCountsTheWholeBody(t *testing.T) {
	in := budgetArgs{Tags: []string{"abc", "de"}}
	for _, version := range []int16{VersionTARS, VersionTUP, VersionJSON} {
		w := getWriter()
		if err := encodeArgs(budgetEp.m, version, w, &in); err != nil {
			t.Fatal(err)
		}
		body := append([]byte(nil), w.Bytes()...)
		putWriter(w)
		var out budgetArgs
		if err := decodeArgsBudget(budgetEp.m, version, body, &out, 1<<10); err != nil || len(out.Tags) != 2 || out.Tags[1] != "de" {
			t.Fatalf("version %d: %+v %v", version, out, err)
		}
		if err := decodeArgsBudget(budgetEp.m, version, body, &out, 2*16); !errors.Is(err, codec.ErrBudget) {
			t.Errorf("version %d with a budget of 32 bytes: %v, want ErrBudget", version, err)
		}
	}
}
