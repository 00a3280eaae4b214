package sweep

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Comparing results with a baseline (probesim check, docs/ci.md).
//
// Runs are deterministic: the same probesim, program, inputs and seed give
// the same numbers on any machine. So every measured column is compared
// exactly unless a tolerance for it was asked for: a move of one cycle is
// a move.

// Metric is a column Compare judges.
type Metric struct {
	Name string
	// Worse is +1 when a rise is a regression, -1 when a fall is, 0 when
	// any change is (the workload, the probe or the ending changed).
	Worse int
	// Tolerable says whether a tolerance may be given for it.
	Tolerable bool
	// One of: count (exact integers), value (rates), text (the identity
	// columns).
	count func(*Row) uint64
	value func(*Row) float64
	text  func(*Row) string
}

// Metrics are the columns Compare judges, in the order a table lists
// them.
var Metrics = []Metric{
	{Name: "executions", Worse: 0, count: func(r *Row) uint64 { return r.Executions }},
	{Name: "exit", text: ending},
	{Name: "probe_address", text: func(r *Row) string { return formatAddress(r.ProbeAddress) }},
	{Name: "probe_instruction", text: func(r *Row) string { return r.ProbeInstruction }},
	{Name: "misses", Worse: +1, Tolerable: true, count: func(r *Row) uint64 { return r.Misses }},
	{Name: "miss_rate", Worse: +1, Tolerable: true, value: func(r *Row) float64 { return rate(r.Misses, r.Executions) }},
	{Name: "hits", Worse: -1, Tolerable: true, count: func(r *Row) uint64 { return r.Hits }},
	{Name: "cycles", Worse: +1, Tolerable: true, count: func(r *Row) uint64 { return r.Cycles }},
	{Name: "cycles_per_hit", Worse: +1, Tolerable: true, value: func(r *Row) float64 { return rate(r.OverheadCycles, r.Hits) }},
	{Name: "overhead_cycles", Worse: +1, Tolerable: true, count: func(r *Row) uint64 { return r.OverheadCycles }},
	{Name: "windows", Worse: +1, Tolerable: true, count: func(r *Row) uint64 { return r.Windows }},
	{Name: "window_cycles", Worse: +1, Tolerable: true, count: func(r *Row) uint64 { return r.WindowCycles }},
	{Name: "max_window_cycles", Worse: +1, Tolerable: true, count: func(r *Row) uint64 { return r.MaxWindowCycles }},
	{Name: "instructions", Worse: 0, Tolerable: true, count: func(r *Row) uint64 { return r.Instructions }},
	{Name: "nx_flips", Worse: +1, Tolerable: true, count: func(r *Row) uint64 { return r.NXFlips }},
	{Name: "stack_expansions", Worse: +1, Tolerable: true, count: func(r *Row) uint64 { return r.StackExpansions }},
	{Name: "stack_start_slots", Worse: +1, Tolerable: true, count: func(r *Row) uint64 { return r.StackStartSlots }},
	{Name: "inline_fallbacks", Worse: +1, Tolerable: true, count: func(r *Row) uint64 { return r.InlineFallbacks }},
}

// MetricNames are the names of the metrics that take a tolerance.
func MetricNames() []string {
	var out []string
	for _, m := range Metrics {
		if m.Tolerable {
			out = append(out, m.Name)
		}
	}
	return out
}

// Tolerance bounds how far a metric may move from the baseline before the
// move is a regression (or, the other way, an improvement): Value of the
// baseline's value when Relative, else Value in the metric's own units.
// The zero Tolerance is exact.
type Tolerance struct {
	Value    float64
	Relative bool
}

// toleranceSyntax is a tolerance as the command line writes it: a
// non-negative decimal, with % for a relative one.
var toleranceSyntax = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?|\.[0-9]+)(%?)$`)

// ParseTolerance reads "5%" (relative to the baseline's value) or "100"
// or "0.01" (absolute, in the metric's units).
func ParseTolerance(s string) (Tolerance, error) {
	m := toleranceSyntax.FindStringSubmatch(s)
	if m == nil {
		return Tolerance{}, fmt.Errorf("%q is not a tolerance: want a percentage of the baseline such as 5%% or an absolute amount such as 100 or 0.01", s)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil || math.IsInf(v, 0) {
		return Tolerance{}, fmt.Errorf("%q is not a tolerance: want a percentage of the baseline such as 5%% or an absolute amount such as 100 or 0.01", s)
	}
	if m[3] == "%" {
		return Tolerance{Value: v / 100, Relative: true}, nil
	}
	return Tolerance{Value: v}, nil
}

// String spells t as a table shows it: "exact", "±5%", "±100".
func (t Tolerance) String() string {
	switch {
	case t.Value == 0:
		return "exact"
	case t.Relative:
		return "±" + decimal(100*t.Value) + "%"
	}
	return "±" + decimal(t.Value)
}

// decimal spells v as the user wrote it: a relative tolerance was divided
// by 100, so 0.0001% is 1e-6 and back ×100 is 0.00009999999999999999;
// twelve significant digits undo that rounding.
func decimal(v float64) string {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 12, 64), 64)
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// bound is how far from b the tolerance lets a value go.
func (t Tolerance) bound(b float64) float64 {
	if t.Relative {
		return math.Abs(b) * t.Value
	}
	return t.Value
}

// Tolerances are the tolerances asked for, by metric name; a metric not
// named is compared exactly.
type Tolerances map[string]Tolerance

// String lists the tolerances given, in Metrics order: "exact" when none
// is, else "cycles ±1%, misses ±2" (the others exact).
func (ts Tolerances) String() string {
	var parts []string
	for _, m := range Metrics {
		if t, ok := ts[m.Name]; ok && t.Value != 0 {
			parts = append(parts, m.Name+" "+t.String())
		}
	}
	if len(parts) == 0 {
		return "exact"
	}
	return strings.Join(parts, ", ") + "; the rest exact"
}

// Check refuses a tolerance for a metric that takes none.
func (ts Tolerances) Check() error {
	names := make([]string, 0, len(ts))
	for n := range ts {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if !slices.Contains(MetricNames(), n) {
			return fmt.Errorf("%q takes no tolerance: want one of %s", n, strings.Join(MetricNames(), ", "))
		}
	}
	return nil
}

// Verdict is what a move means.
type Verdict int

// The verdicts.
const (
	Within    Verdict = iota // moved, within tolerance
	Improved                 // moved beyond tolerance the good way
	Regressed                // moved beyond tolerance the bad way, or changed what must not change
)

func (v Verdict) String() string {
	return [...]string{"ok", "improved", "REGRESSED"}[v]
}

// Change is one metric of one row (configuration and probe) that differs
// from the baseline. Values are spelled for a table.
type Change struct {
	Index             int    // the configuration
	Probe             string // the probe
	Metric            string // a Metrics name
	Baseline, Current string
	Delta             string // "+30 (+20.0%)"
	Tolerance         string // "exact", "±10%", "±0.01", "none: baseline had no misses"
	Verdict           Verdict
}

// Comparison is the result of Compare.
type Comparison struct {
	Changes []Change // in configuration order, then probe, then Metrics order
	Configs int      // configurations compared
	// Configurations with at least one change, with a regression, and
	// with an improvement but no regression.
	Moved, Regressed, Improved int
}

// rowID identifies a row within any sweep: its configuration and probe.
func rowID(r *Row) string { return r.Key() + "\x00" + r.Probe }

// Compare matches current rows to baseline rows by configuration and
// probe and reports every metric that moved. A move beyond its tolerance
// (none unless tol gives one) in a metric's bad direction is a regression;
// so is any miss where the baseline had none (whatever the tolerances),
// and any change in executions, the probe's address or instruction or how
// the program ended (the workload is not the one the baseline measured),
// or in instructions beyond tolerance. Moves the other way beyond
// tolerance are improvements. Rows of current the baseline lacks are an
// error (check them first with Matches).
func Compare(baseline, current []Row, tol Tolerances) (Comparison, error) {
	base := make(map[string]*Row, len(baseline))
	for i := range baseline {
		base[rowID(&baseline[i])] = &baseline[i]
	}
	var cmp Comparison
	worst := map[int]Verdict{} // by configuration, of those that moved
	var configs []int
	for i := range current {
		cur := &current[i]
		if len(configs) == 0 || configs[len(configs)-1] != cur.Index {
			configs = append(configs, cur.Index)
		}
		b, ok := base[rowID(cur)]
		if !ok {
			return Comparison{}, fmt.Errorf("the baseline has no row for probe %s of %s", cur.Probe, cur.Key())
		}
		for _, ch := range compareRow(b, cur, tol) {
			if w, moved := worst[ch.Index]; !moved || ch.Verdict > w {
				worst[ch.Index] = ch.Verdict
			}
			cmp.Changes = append(cmp.Changes, ch)
		}
	}
	cmp.Configs = len(configs)
	cmp.Moved = len(worst)
	for _, w := range worst {
		switch w {
		case Regressed:
			cmp.Regressed++
		case Improved:
			cmp.Improved++
		}
	}
	return cmp, nil
}

func compareRow(b, c *Row, tol Tolerances) []Change {
	var out []Change
	newMisses := b.Misses == 0 && c.Misses > 0
	for _, m := range Metrics {
		var bv, cv float64
		var up bool // the value rose
		var ch Change
		switch {
		case m.text != nil:
			if bt, ct := m.text(b), m.text(c); bt != ct {
				out = append(out, Change{Index: c.Index, Probe: c.Probe, Metric: m.Name, Baseline: bt, Current: ct,
					Tolerance: "exact", Verdict: Regressed})
			}
			continue
		case m.count != nil:
			bc, cc := m.count(b), m.count(c)
			if bc == cc {
				continue
			}
			bv, cv, up = float64(bc), float64(cc), cc > bc
			ch = Change{Baseline: u(bc), Current: u(cc), Delta: countDelta(bc, cc)}
		default:
			bv, cv = m.value(b), m.value(c)
			if bv == cv {
				continue
			}
			up = cv > bv
			ch = Change{Baseline: spell(m.Name, bv), Current: spell(m.Name, cv), Delta: floatDelta(m.Name, bv, cv)}
		}
		t := tol[m.Name]
		ch.Index, ch.Probe, ch.Metric, ch.Tolerance = c.Index, c.Probe, m.Name, t.String()
		switch {
		case !m.Tolerable:
			ch.Verdict = Regressed
		case newMisses && (m.Name == "misses" || m.Name == "miss_rate"):
			ch.Verdict, ch.Tolerance = Regressed, "none: baseline had no misses"
		case t.Value != 0 && math.Abs(cv-bv) <= t.bound(bv): // exact: they differ
			ch.Verdict = Within
		case m.Worse == 0 || up == (m.Worse > 0):
			ch.Verdict = Regressed
		default:
			ch.Verdict = Improved
		}
		out = append(out, ch)
	}
	return out
}

// ending spells how a program ended: "exit 0", "signal (status 139)".
func ending(r *Row) string {
	if r.StopReason == "exit" {
		return "exit " + strconv.Itoa(r.ExitStatus)
	}
	return fmt.Sprintf("%s (status %d)", r.StopReason, r.ExitStatus)
}

// rate is n/d, 0 when d is 0, recomputed from the counts rather than read
// from the row: a CSV file keeps six decimals of a rate, and a rounded
// baseline must not differ from an unchanged run.
func rate(n, d uint64) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// spell writes a rate: miss rates with four decimals, cycles per hit with
// one.
func spell(metric string, v float64) string {
	if metric == "miss_rate" {
		return strconv.FormatFloat(v, 'f', 4, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// countDelta spells c-b exactly, with its relative size: "+30 (+20.0%)".
func countDelta(b, c uint64) string {
	d := int64(c - b) // two's complement gives the signed difference
	return fmt.Sprintf("%+d%s", d, relSuffix(float64(b), float64(c)))
}

// floatDelta spells the move of a rate.
func floatDelta(metric string, b, c float64) string {
	if metric == "miss_rate" {
		return fmt.Sprintf("%+.4f", c-b)
	}
	return fmt.Sprintf("%+.1f%s", c-b, relSuffix(b, c))
}

func relSuffix(b, c float64) string {
	if b == 0 {
		return " (new)"
	}
	r := 100 * (c - b) / b
	if math.Abs(r) >= 1e6 {
		return ""
	}
	return fmt.Sprintf(" (%+.1f%%)", r)
}
