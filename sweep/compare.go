package sweep

import (
	"fmt"
	"math"
	"strconv"
)

// Tolerances bound how far a configuration's results may move from the
// baseline before Compare calls the move a regression (or, the other way,
// an improvement).
type Tolerances struct {
	// MissRate is absolute, in miss-rate units: 0.01 lets the rate move
	// by one percentage point.
	MissRate float64
	// Misses, Hits and Cycles are relative: 0.10 lets the value move by
	// 10 % of the baseline's. Cycles applies to cycles and cycles_per_hit.
	Misses float64
	Hits   float64
	Cycles float64
}

// DefaultTolerances are check's defaults. Runs are deterministic, so any
// move comes from a change to probesim or to the program; the tolerances
// let small, intended timing changes through and stop real regressions.
var DefaultTolerances = Tolerances{MissRate: 0.01, Misses: 0.10, Hits: 0.10, Cycles: 0.05}

// Verdict is what a move means.
type Verdict int

// The verdicts.
const (
	Within    Verdict = iota // moved, within tolerance
	Improved                 // moved beyond tolerance the good way
	Regressed                // moved beyond tolerance the bad way
)

func (v Verdict) String() string {
	return [...]string{"ok", "improved", "REGRESSED"}[v]
}

// Change is one metric of one configuration that differs from the
// baseline. Values are spelled for a table.
type Change struct {
	Index             int    // the configuration
	Probe             string // the probe
	Metric            string // executions, exit, misses, miss_rate, hits, cycles, cycles_per_hit
	Baseline, Current string
	Delta             string // "+30 (+20.0%)"
	Tolerance         string // "±10%", "±0.0100", "exact", "none: baseline had no misses"
	Verdict           Verdict
}

// rowID identifies a row within any sweep: its configuration and probe.
func rowID(r *Row) string { return r.Key() + "\x00" + r.Probe }

// Comparison is the result of Compare.
type Comparison struct {
	Changes []Change // in configuration order, then the order of Change.Metric's list
	Configs int      // configurations compared
	// Configurations with at least one change, with a regression, and
	// with an improvement but no regression.
	Moved, Regressed, Improved int
}

// Compare matches current rows to baseline rows by Key and reports every
// metric that moved. A rise of misses, miss rate, cycles or cycles per
// hit, or a fall of hits, beyond its tolerance is a regression; so is any
// miss where the baseline had none (whatever the tolerances), a change in
// executions (the workload is no longer the one the baseline measured)
// and a change in how the program ended. Moves the other way beyond
// tolerance are improvements. Rows of current the baseline lacks are an
// error (check them first with Matches).
func Compare(baseline, current []Row, tol Tolerances) (Comparison, error) {
	base := make(map[string]*Row, len(baseline))
	for i := range baseline {
		base[rowID(&baseline[i])] = &baseline[i]
	}
	cmp := Comparison{Configs: len(current)}
	for i := range current {
		cur := &current[i]
		b, ok := base[rowID(cur)]
		if !ok {
			return Comparison{}, fmt.Errorf("the baseline has no row for probe %s of %s", cur.Probe, cur.Key())
		}
		changes := compareRow(b, cur, tol)
		if len(changes) == 0 {
			continue
		}
		cmp.Moved++
		worst := Within
		for _, ch := range changes {
			worst = max(worst, ch.Verdict)
		}
		switch worst {
		case Regressed:
			cmp.Regressed++
		case Improved:
			cmp.Improved++
		}
		cmp.Changes = append(cmp.Changes, changes...)
	}
	return cmp, nil
}

// direction says which way a metric gets worse.
type direction int

const (
	upIsWorse direction = iota
	downIsWorse
)

func compareRow(b, c *Row, tol Tolerances) []Change {
	var out []Change
	add := func(metric, bv, cv, delta, limit string, v Verdict) {
		out = append(out, Change{Index: c.Index, Probe: c.Probe, Metric: metric, Baseline: bv, Current: cv,
			Delta: delta, Tolerance: limit, Verdict: v})
	}
	if b.Executions != c.Executions {
		add("executions", u(b.Executions), u(c.Executions), countDelta(b.Executions, c.Executions), "exact", Regressed)
	}
	if bs, cs := ending(b), ending(c); bs != cs {
		add("exit", bs, cs, "", "exact", Regressed)
	}
	newMisses := b.Misses == 0 && c.Misses > 0
	if b.Misses != c.Misses {
		v := relative(b.Misses, c.Misses, tol.Misses, upIsWorse)
		limit := percent(tol.Misses)
		if newMisses {
			v, limit = Regressed, "none: baseline had no misses"
		}
		add("misses", u(b.Misses), u(c.Misses), countDelta(b.Misses, c.Misses), limit, v)
	}
	if br, cr := rate(b.Misses, b.Executions), rate(c.Misses, c.Executions); br != cr {
		v, limit := Within, fmt.Sprintf("±%.4f", tol.MissRate)
		switch {
		case newMisses:
			v, limit = Regressed, "none: baseline had no misses"
		case cr-br > tol.MissRate:
			v = Regressed
		case br-cr > tol.MissRate:
			v = Improved
		}
		add("miss_rate", fmt.Sprintf("%.4f", br), fmt.Sprintf("%.4f", cr), fmt.Sprintf("%+.4f", cr-br), limit, v)
	}
	if b.Hits != c.Hits {
		add("hits", u(b.Hits), u(c.Hits), countDelta(b.Hits, c.Hits), percent(tol.Hits), relative(b.Hits, c.Hits, tol.Hits, downIsWorse))
	}
	if b.Cycles != c.Cycles {
		add("cycles", u(b.Cycles), u(c.Cycles), countDelta(b.Cycles, c.Cycles), percent(tol.Cycles), relative(b.Cycles, c.Cycles, tol.Cycles, upIsWorse))
	}
	if bp, cp := rate(b.OverheadCycles, b.Hits), rate(c.OverheadCycles, c.Hits); bp != cp {
		add("cycles_per_hit", fmt.Sprintf("%.1f", bp), fmt.Sprintf("%.1f", cp), floatDelta(bp, cp),
			percent(tol.Cycles), relativeFloat(bp, cp, tol.Cycles, upIsWorse))
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

func relative(b, c uint64, tol float64, worse direction) Verdict {
	return relativeFloat(float64(b), float64(c), tol, worse)
}

// relativeFloat judges a move from b to c against a relative tolerance.
// From a baseline of 0 any move is beyond tolerance.
func relativeFloat(b, c, tol float64, worse direction) Verdict {
	var up, down bool
	if b == 0 {
		up, down = c > 0, c < 0
	} else {
		up, down = c > b*(1+tol), c < b*(1-tol)
	}
	switch {
	case up && worse == upIsWorse, down && worse == downIsWorse:
		return Regressed
	case up || down:
		return Improved
	}
	return Within
}

func percent(f float64) string { return "±" + strconv.FormatFloat(100*f, 'f', -1, 64) + "%" }

// countDelta spells c-b with its relative size: "+30 (+20.0%)".
func countDelta(b, c uint64) string {
	d := int64(c - b) // two's complement gives the signed difference
	return fmt.Sprintf("%+d%s", d, relSuffix(float64(b), float64(c)))
}

func floatDelta(b, c float64) string { return fmt.Sprintf("%+.1f%s", c-b, relSuffix(b, c)) }

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
