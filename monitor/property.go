package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotars/tars"
)

type policyKind uint8

// The policies in TarsGo's ReportPolicy order, the order values are sent in.
const (
	policySum policyKind = iota + 1
	policyAvg
	policyDistr
	policyMax
	policyMin
	policyCount
)

var policyNames = [...]string{policySum: "Sum", policyAvg: "Avg", policyDistr: "Distr", policyMax: "Max", policyMin: "Min", policyCount: "Count"}

// maxInitial is the value TarsGo and TarsCpp start a Max from (and leave
// unsent when no sample exceeded it).
const maxInitial = -9999999

// A Policy is how a property's samples are summed up per interval, and sent
// as a StatPropInfo: Sum, Avg, Distr, Max, Min or Count.
type Policy struct {
	kind    policyKind
	buckets []int64
}

// Sum sends the sum of the samples.
func Sum() Policy { return Policy{kind: policySum} }

// Avg sends the mean of the samples, as the shortest decimal that reads
// back to the float64 quotient (TarsGo's strconv.FormatFloat(v, 'f', -1,
// 64)).
func Avg() Policy { return Policy{kind: policyAvg} }

// Max sends the largest sample (none when no sample exceeds -9999999, the
// initial value TarsGo and TarsCpp share).
func Max() Policy { return Policy{kind: policyMax} }

// Min sends the smallest non-zero sample, as TarsGo and TarsCpp do (none
// when every sample is 0).
func Min() Policy { return Policy{kind: policyMin} }

// Count sends the number of samples.
func Count() Policy { return Policy{kind: policyCount} }

// Distr sends how many samples fell in each bucket, as
// "b1|n1,b2|n2,…,bk|nk" over the bounds sorted and without duplicates. A
// sample goes to the first bucket with sample <= bound, and a sample above
// every bound to the last bucket: TarsGo's rule (TarsCpp counts such samples
// in an extra "max|n" term instead). At least one bound is needed.
func Distr(bounds ...int64) Policy {
	b := slices.Clone(bounds)
	slices.Sort(b)
	return Policy{kind: policyDistr, buckets: slices.Compact(b)}
}

// String returns the policy's name as sent: "Sum", "Avg", "Distr", "Max",
// "Min" or "Count" ("" for the zero Policy).
func (p Policy) String() string {
	if int(p.kind) < len(policyNames) {
		return policyNames[p.kind]
	}
	return ""
}

// A Property is a named value a program reports samples of (Report) and a
// PropertyReporter sends, summed up by its policies, every interval. It is
// safe for concurrent use.
type Property struct {
	name     string
	policies []Policy // sorted by kind, no duplicates

	mu         sync.Mutex
	n, sum     int64
	maxV, minV int64
	distr      []int64
}

// Name returns the property's name.
func (p *Property) Name() string { return p.name }

// Report adds a sample. It is safe to call from any goroutine.
func (p *Property) Report(v int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	p.sum += v
	if v > p.maxV {
		p.maxV = v
	}
	if p.minV == 0 || (p.minV > v && v != 0) {
		p.minV = v
	}
	if p.distr != nil {
		p.distr[distrIndex(p.policies, v)]++
	}
}

func distrIndex(ps []Policy, v int64) int {
	for _, pol := range ps {
		if pol.kind != policyDistr {
			continue
		}
		for i, b := range pol.buckets {
			if v <= b {
				return i
			}
		}
		return len(pol.buckets) - 1
	}
	return 0
}

func (p *Property) resetLocked() {
	p.n, p.sum, p.maxV, p.minV = 0, 0, maxInitial, 0
	clear(p.distr)
}

// take returns the property's values since the last take and resets them,
// false when no sample came. A policy whose value equals its initial value
// is left out, as TarsGo leaves it out.
func (p *Property) take() (StatPropMsgBody, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == 0 {
		return StatPropMsgBody{}, false
	}
	var body StatPropMsgBody
	for _, pol := range p.policies {
		var v string
		switch pol.kind {
		case policySum:
			v = strconv.FormatInt(p.sum, 10)
		case policyAvg:
			v = strconv.FormatFloat(float64(p.sum)/float64(p.n), 'f', -1, 64)
		case policyDistr:
			var sb strings.Builder
			for i, b := range pol.buckets {
				if i > 0 {
					sb.WriteByte(',')
				}
				sb.WriteString(strconv.FormatInt(b, 10))
				sb.WriteByte('|')
				sb.WriteString(strconv.FormatInt(p.distr[i], 10))
			}
			v = sb.String()
		case policyMax:
			v = strconv.FormatInt(p.maxV, 10)
		case policyMin:
			v = strconv.FormatInt(p.minV, 10)
		case policyCount:
			v = strconv.FormatInt(p.n, 10)
		}
		if skipValue(pol.kind, v) {
			continue
		}
		body.VInfo = append(body.VInfo, StatPropInfo{Policy: pol.String(), Value: v})
	}
	p.resetLocked()
	return body, true
}

// skipValue reports a value TarsGo does not send: its policy's initial one.
func skipValue(k policyKind, v string) bool {
	switch k {
	case policyDistr:
		return v == ""
	case policyMax:
		return v == strconv.Itoa(maxInitial)
	}
	return v == "0"
}

// PropertyOptions configure a PropertyReporter. The zero value of every
// field but Identity takes the default.
type PropertyOptions struct {
	Identity
	// Interval is how often the properties are sent (default
	// DefaultInterval), in reportPropMsg calls of at most MaxPropsPerCall
	// properties each.
	Interval time.Duration
	// Timeout bounds each report call (default DefaultReportTimeout), and
	// the final send when Run's context ends.
	Timeout time.Duration
	// Logger receives failed reports (default none).
	Logger *slog.Logger
}

// A PropertyReporter holds a program's properties (Property) and sends
// their values to the property server (PropertyF.reportPropMsg, iPropertyVer
// PropertyVersion) while Run runs: TarsGo's PropertyReportHelper, without
// globals.
//
// Each interval, every property that got samples is sent with the values of
// its policies in TarsGo's order (Sum, Avg, Distr, Max, Min, Count), leaving
// out a value equal to its policy's initial one ("0", or -9999999 for Max)
// as TarsGo does. Unlike TarsGo, a property without samples in the interval
// is not sent at all (TarsGo sends it with no values, or with an all-zero
// Distr), and batches hold MaxPropsPerCall properties (TarsGo's loop sends
// 19 and then one per call).
type PropertyReporter struct {
	client   *tars.Client
	head     StatPropMsgHead
	interval time.Duration
	timeout  time.Duration
	log      reportLog

	mu    sync.Mutex
	props map[string]*Property
	order []*Property

	running           atomic.Bool
	reports, failures atomic.Uint64
}

// NewPropertyReporter returns a reporter that sends to the property server
// through c, a client of PropertyObj. It starts nothing: create properties
// with Property, report samples, and run Run.
func NewPropertyReporter(c *tars.Client, o PropertyOptions) (*PropertyReporter, error) {
	if c == nil {
		return nil, errors.New("monitor: NewPropertyReporter needs a client of the property server")
	}
	id, err := o.Identity.resolve()
	if err != nil {
		return nil, err
	}
	if o.Interval < 0 || o.Timeout < 0 {
		return nil, errors.New("monitor: negative Interval or Timeout")
	}
	r := &PropertyReporter{
		client: c, interval: o.Interval, timeout: o.Timeout, log: reportLog{o.Logger},
		head: StatPropMsgHead{
			ModuleName: id.propModule, IP: id.localIP,
			SetName: id.setName, SetArea: id.setArea, SetID: id.setID,
			IPropertyVer: PropertyVersion,
		},
		props: map[string]*Property{},
	}
	if r.interval == 0 {
		r.interval = DefaultInterval
	}
	if r.timeout == 0 {
		r.timeout = DefaultReportTimeout
	}
	return r, nil
}

// Property returns the property name, summed up by policies, creating it
// on first use. Asking again for a name with the same policies returns the
// same property; with other policies it is an error, as are an empty name,
// no policy, a policy given twice, the zero Policy and a Distr without
// bounds.
func (r *PropertyReporter) Property(name string, policies ...Policy) (*Property, error) {
	if name == "" {
		return nil, errors.New("monitor: a property needs a name")
	}
	if len(policies) == 0 {
		return nil, fmt.Errorf("monitor: property %q needs at least one policy", name)
	}
	ps := slices.Clone(policies)
	slices.SortFunc(ps, func(a, b Policy) int { return int(a.kind) - int(b.kind) })
	for i, p := range ps {
		switch {
		case p.kind == 0:
			return nil, fmt.Errorf("monitor: property %q: the zero Policy is not a policy", name)
		case i > 0 && ps[i-1].kind == p.kind:
			return nil, fmt.Errorf("monitor: property %q: policy %s given twice", name, p)
		case p.kind == policyDistr && len(p.buckets) == 0:
			return nil, fmt.Errorf("monitor: property %q: Distr needs at least one bound", name)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.props[name]; ok {
		if !slices.EqualFunc(p.policies, ps, func(a, b Policy) bool {
			return a.kind == b.kind && slices.Equal(a.buckets, b.buckets)
		}) {
			return nil, fmt.Errorf("monitor: property %q already exists with other policies", name)
		}
		return p, nil
	}
	p := &Property{name: name, policies: ps, maxV: maxInitial}
	for _, pol := range ps {
		if pol.kind == policyDistr {
			p.distr = make([]int64, len(pol.buckets))
		}
	}
	r.props[name] = p
	r.order = append(r.order, p)
	return p, nil
}

// Stats returns the reporter's counts so far (Dropped and Skipped are 0).
func (r *PropertyReporter) Stats() ReporterStats {
	return ReporterStats{Reports: r.reports.Load(), Failures: r.failures.Load()}
}

// Flush sends the values since the last send now, in reportPropMsg calls of
// at most MaxPropsPerCall properties, each bounded by the Timeout. What a
// failed call carried is dropped. It returns the calls' errors, joined.
func (r *PropertyReporter) Flush(ctx context.Context) error {
	r.mu.Lock()
	props := slices.Clone(r.order)
	r.mu.Unlock()
	var errs []error
	msg := map[StatPropMsgHead]StatPropMsgBody{}
	for i, p := range props {
		if body, ok := p.take(); ok {
			h := r.head
			h.PropertyName = p.name
			msg[h] = body
		}
		if len(msg) == MaxPropsPerCall || (i == len(props)-1 && len(msg) > 0) {
			if err := r.send(ctx, msg); err != nil {
				errs = append(errs, err)
			}
			msg = map[StatPropMsgHead]StatPropMsgBody{}
		}
	}
	return errors.Join(errs...)
}

func (r *PropertyReporter) send(ctx context.Context, msg map[StatPropMsgHead]StatPropMsgBody) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	ret, err := ReportPropMsg.Call(ctx, r.client, ReportPropMsgArgs{Msg: msg})
	if err == nil && ret != 0 {
		err = fmt.Errorf("monitor: reportPropMsg returned %d", ret)
	}
	if err != nil {
		r.failures.Add(1)
		r.log.failed("reportPropMsg", len(msg), err)
		return err
	}
	r.reports.Add(1)
	return nil
}

// Run sends the properties every Interval until ctx ends, then sends what
// is left once more, within the Timeout, and returns ctx's error. Failed
// sends are counted (Stats) and logged, not returned. A second concurrent
// Run returns ErrRunning.
func (r *PropertyReporter) Run(ctx context.Context) error {
	return runLoop(ctx, &r.running, r.interval, r.timeout, r.Flush)
}
