package monitor_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/gotars/tars/monitor"
)

func newPropReporter(t *testing.T, stat *statServer, id monitor.Identity) *monitor.PropertyReporter {
	t.Helper()
	r, err := monitor.NewPropertyReporter(stat.propClient(t), monitor.PropertyOptions{Identity: id})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestPropertyPolicies checks each policy's value for given samples against
// TarsGo's rules (tars/propertyf.go), values equal to the policy's initial
// one left out, and the order of the values.
func TestPropertyPolicies(t *testing.T) {
	stat := startStatServer(t)
	r := newPropReporter(t, stat, monitor.Identity{App: "A", Server: "S", LocalIP: "10.1.1.1"})
	all := []monitor.Policy{monitor.Count(), monitor.Min(), monitor.Max(), monitor.Distr(10, 0, 5, 10), monitor.Avg(), monitor.Sum()}
	for _, tc := range []struct {
		name    string
		samples []int64
		want    []monitor.StatPropInfo // in TarsGo's order: Sum, Avg, Distr, Max, Min, Count
	}{
		{"mixed", []int64{-1, 0, 3, 5, 7, 10, 11}, []monitor.StatPropInfo{
			{"Sum", "35"}, {"Avg", "5"}, {"Distr", "0|2,5|2,10|3"}, {"Max", "11"}, {"Min", "-1"}, {"Count", "7"},
		}},
		{"fraction", []int64{1, 2}, []monitor.StatPropInfo{
			{"Sum", "3"}, {"Avg", "1.5"}, {"Distr", "0|0,5|2,10|0"}, {"Max", "2"}, {"Min", "1"}, {"Count", "2"},
		}},
		{"thirds", []int64{1, 1, 2}, []monitor.StatPropInfo{
			{"Sum", "4"}, {"Avg", "1.3333333333333333"}, {"Distr", "0|0,5|3,10|0"}, {"Max", "2"}, {"Min", "1"}, {"Count", "3"},
		}},
		// Sum, Avg and Min are "0": left out; the Distr is sent.
		{"zeros", []int64{0, 0}, []monitor.StatPropInfo{{"Distr", "0|2,5|0,10|0"}, {"Max", "0"}, {"Count", "2"}}},
		// Min is the smallest non-zero sample.
		{"min skips zero", []int64{0, 8, 3, 0}, []monitor.StatPropInfo{
			{"Sum", "11"}, {"Avg", "2.75"}, {"Distr", "0|2,5|1,10|1"}, {"Max", "8"}, {"Min", "3"}, {"Count", "4"},
		}},
		// Max at TarsGo's initial value is left out.
		{"max initial", []int64{-9999999}, []monitor.StatPropInfo{
			{"Sum", "-9999999"}, {"Avg", "-9999999"}, {"Distr", "0|1,5|0,10|0"}, {"Min", "-9999999"}, {"Count", "1"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := r.Property("p."+tc.name, all...)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range tc.samples {
				p.Report(v)
			}
			if err := r.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			a := <-stat.props
			want := monitor.StatPropMsgHead{ModuleName: "A.S", IP: "10.1.1.1", PropertyName: "p." + tc.name, IPropertyVer: 2}
			if len(a.Msg) != 1 {
				t.Fatalf("%d heads, want 1: %+v", len(a.Msg), a.Msg)
			}
			body, ok := a.Msg[want]
			if !ok {
				t.Fatalf("no head %+v in %+v", want, a.Msg)
			}
			if !slices.Equal(body.VInfo, tc.want) {
				t.Errorf("values\n got %v\nwant %v", body.VInfo, tc.want)
			}
		})
	}
	// Nothing reported since: nothing sent.
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	stat.noMore(t)
}

// TestPropertyBatches checks that 45 properties go in calls of 20, 20 and 5,
// all with iPropertyVer 2 and the set's module name, and that concurrent
// reports all count.
func TestPropertyBatches(t *testing.T) {
	stat := startStatServer(t)
	r := newPropReporter(t, stat, monitor.Identity{App: "A", Server: "S", SetDivision: "gz.sz.1"})
	var wg sync.WaitGroup
	for i := range 45 {
		p, err := r.Property(fmt.Sprintf("prop%02d", i), monitor.Count())
		if err != nil {
			t.Fatal(err)
		}
		for range 4 {
			wg.Go(func() {
				for range 25 {
					p.Report(1)
				}
			})
		}
	}
	wg.Wait()
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	seen := map[string]bool{}
	for range 3 {
		a := <-stat.props
		sizes = append(sizes, len(a.Msg))
		for h, b := range a.Msg {
			seen[h.PropertyName] = true
			if h.IPropertyVer != 2 || h.ModuleName != "A.S.gzsz1" || h.SetName != "gz" || h.SetArea != "sz" || h.SetID != "1" {
				t.Errorf("head %+v", h)
			}
			if !slices.Equal(b.VInfo, []monitor.StatPropInfo{{"Count", "100"}}) {
				t.Errorf("%s: %v, want Count 100", h.PropertyName, b.VInfo)
			}
		}
	}
	if !slices.Equal(sizes, []int{20, 20, 5}) || len(seen) != 45 {
		t.Errorf("batches %v over %d properties, want [20 20 5] over 45", sizes, len(seen))
	}
	stat.noMore(t)
	if s := r.Stats(); s.Reports != 3 {
		t.Errorf("stats %+v", s)
	}
}

// TestPropertyErrors checks what Property refuses and that asking again
// with the same policies returns the same property.
func TestPropertyErrors(t *testing.T) {
	stat := startStatServer(t)
	r := newPropReporter(t, stat, monitor.Identity{})
	p, err := r.Property("x", monitor.Sum(), monitor.Distr(3, 1))
	if err != nil {
		t.Fatal(err)
	}
	if q, err := r.Property("x", monitor.Distr(1, 3, 3), monitor.Sum()); err != nil || q != p {
		t.Errorf("same policies: %v, %v", q == p, err)
	}
	for _, tc := range []struct {
		name string
		ps   []monitor.Policy
	}{
		{"", []monitor.Policy{monitor.Sum()}},
		{"none", nil},
		{"twice", []monitor.Policy{monitor.Sum(), monitor.Sum()}},
		{"zero", []monitor.Policy{{}}},
		{"distr", []monitor.Policy{monitor.Distr()}},
		{"x", []monitor.Policy{monitor.Sum()}}, // exists with other policies
	} {
		if _, err := r.Property(tc.name, tc.ps...); err == nil {
			t.Errorf("Property(%q, %v) accepted", tc.name, tc.ps)
		}
	}
	if _, err := monitor.NewPropertyReporter(nil, monitor.PropertyOptions{}); err == nil {
		t.Error("a nil client accepted")
	}
}
