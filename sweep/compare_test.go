package sweep

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pairOf returns a baseline row and a copy to edit as the current one.
func pairOf() (Row, Row) {
	b := sampleRow() // 200 executions, 50 hits, 150 misses, 123456 cycles, 5000 overhead
	return b, b
}

func compareOne(t *testing.T, b, c Row, tol Tolerances) Comparison {
	t.Helper()
	cmp, err := Compare([]Row{b}, []Row{c}, tol)
	require.NoError(t, err)
	return cmp
}

func TestCompareUnchanged(t *testing.T) {
	b, c := pairOf()
	c.MissRate = 0.750000001 // as rounded in CSV: rates are recomputed from counts
	cmp := compareOne(t, b, c, nil)
	assert.Equal(t, Comparison{Configs: 1}, cmp)
}

// TestCompareIsExact: one cycle more is a regression, one fewer an
// improvement, unless a tolerance allows it.
func TestCompareIsExact(t *testing.T) {
	b, c := pairOf()
	c.Cycles++
	cmp := compareOne(t, b, c, nil)
	require.Len(t, cmp.Changes, 1)
	assert.Equal(t, Change{Index: 3, Probe: "f", Metric: "cycles", Baseline: "123456", Current: "123457",
		Delta: "+1 (+0.0%)", Tolerance: "exact", Verdict: Regressed}, cmp.Changes[0])
	assert.Equal(t, 1, cmp.Regressed)

	for _, tol := range []string{"1", "0.001%"} {
		tl, err := ParseTolerance(tol)
		require.NoError(t, err)
		cmp = compareOne(t, b, c, Tolerances{"cycles": tl})
		assert.Equal(t, Within, cmp.Changes[0].Verdict, tol)
		assert.Equal(t, 0, cmp.Regressed)
	}
	c.Cycles -= 2
	cmp = compareOne(t, b, c, nil)
	assert.Equal(t, Improved, cmp.Changes[0].Verdict)
	assert.Equal(t, 1, cmp.Improved)

	// Counts past 2^53 are compared as integers, not as floats.
	b.Cycles, c.Cycles = 1<<60, 1<<60+1
	cmp = compareOne(t, b, c, nil)
	require.Len(t, cmp.Changes, 1)
	assert.Equal(t, Regressed, cmp.Changes[0].Verdict)
}

func TestCompareTolerances(t *testing.T) {
	b, c := pairOf()
	c.Misses, c.Hits = 160, 40 // +6.7 %, -20 %; rate 0.75 -> 0.80
	c.Cycles = 123456 * 104 / 100
	tol := Tolerances{"misses": {0.10, true}, "miss_rate": {0.01, false}, "hits": {0.10, true}, "cycles": {0.05, true}, "cycles_per_hit": {0.05, true}}
	cmp := compareOne(t, b, c, tol)
	require.Len(t, cmp.Changes, 5)
	byMetric := map[string]Change{}
	for _, ch := range cmp.Changes {
		byMetric[ch.Metric] = ch
	}
	assert.Equal(t, Change{Index: 3, Probe: "f", Metric: "misses", Baseline: "150", Current: "160",
		Delta: "+10 (+6.7%)", Tolerance: "±10%", Verdict: Within}, byMetric["misses"])
	assert.Equal(t, Change{Index: 3, Probe: "f", Metric: "miss_rate", Baseline: "0.7500", Current: "0.8000",
		Delta: "+0.0500", Tolerance: "±0.01", Verdict: Regressed}, byMetric["miss_rate"])
	assert.Equal(t, Change{Index: 3, Probe: "f", Metric: "hits", Baseline: "50", Current: "40",
		Delta: "-10 (-20.0%)", Tolerance: "±10%", Verdict: Regressed}, byMetric["hits"])
	assert.Equal(t, Within, byMetric["cycles"].Verdict)
	assert.Equal(t, "+4938 (+4.0%)", byMetric["cycles"].Delta)
	assert.Equal(t, "cycles_per_hit", cmp.Changes[4].Metric)
	assert.Equal(t, Regressed, cmp.Changes[4].Verdict, "5000/40 = 125 > 100 * 1.05")
	assert.Equal(t, 1, cmp.Regressed)
	assert.Equal(t, 1, cmp.Moved)
	assert.Equal(t, "misses ±10%, miss_rate ±0.01, hits ±10%, cycles ±5%, cycles_per_hit ±5%; the rest exact", tol.String())
	assert.Equal(t, "exact", Tolerances{}.String())

	// Looser tolerances let the same moves through.
	loose := Tolerances{"misses": {0.5, true}, "miss_rate": {0.1, false}, "hits": {0.5, true}, "cycles": {0.5, true}, "cycles_per_hit": {0.5, true}}
	cmp = compareOne(t, b, c, loose)
	assert.Equal(t, 0, cmp.Regressed)
	for _, ch := range cmp.Changes {
		assert.Equal(t, Within, ch.Verdict, ch.Metric)
	}
}

func TestParseTolerance(t *testing.T) {
	for in, want := range map[string]Tolerance{
		"5%": {0.05, true}, "0.5%": {0.005, true}, "100": {100, false}, "0.01": {0.01, false}, ".5": {0.5, false}, "0": {},
	} {
		got, err := ParseTolerance(in)
		require.NoError(t, err, in)
		assert.InDelta(t, want.Value, got.Value, 1e-12, in)
		assert.Equal(t, want.Relative, got.Relative, in)
	}
	// A table spells a tolerance as it was written.
	for _, in := range []string{"5%", "0.0001%", "12.5%", "0.3%", "100", "0.01", "0.1"} {
		tl, err := ParseTolerance(in)
		require.NoError(t, err, in)
		assert.Equal(t, "±"+in, tl.String())
	}
	for _, in := range []string{"5 %", "-1", "%", "1e3", "lots", "", "5%%", "0x10", "NaN", "Inf"} {
		_, err := ParseTolerance(in)
		assert.EqualError(t, err, `"`+in+`" is not a tolerance: want a percentage of the baseline such as 5% or an absolute amount such as 100 or 0.01`, in)
	}
	assert.EqualError(t, Tolerances{"exit": {}}.Check(), `"exit" takes no tolerance: want one of `+
		"misses, miss_rate, hits, cycles, cycles_per_hit, overhead_cycles, windows, window_cycles, max_window_cycles, instructions, nx_flips, stack_expansions, stack_start_slots, inline_fallbacks")
}

func TestCompareImprovementsDoNotFail(t *testing.T) {
	b, c := pairOf()
	c.Misses, c.Hits = 100, 100
	c.Cycles = 100000
	c.OverheadCycles = 5000
	cmp := compareOne(t, b, c, nil)
	assert.Equal(t, 0, cmp.Regressed)
	assert.Equal(t, 1, cmp.Improved)
	for _, ch := range cmp.Changes {
		assert.Equal(t, Improved, ch.Verdict, ch.Metric)
	}
}

// TestCompareNewMissesAlwaysRegress: a miss where the baseline had none
// fails whatever the tolerances.
func TestCompareNewMissesAlwaysRegress(t *testing.T) {
	b, c := pairOf()
	b.Misses, b.Hits = 0, 200
	c.Misses, c.Hits = 1, 199
	huge := Tolerances{"miss_rate": {1, false}, "misses": {100, true}, "hits": {100, true}, "cycles_per_hit": {100, true}}
	cmp := compareOne(t, b, c, huge)
	require.Len(t, cmp.Changes, 4) // misses, miss_rate, hits, cycles_per_hit
	assert.Equal(t, Change{Index: 3, Probe: "f", Metric: "misses", Baseline: "0", Current: "1",
		Delta: "+1 (new)", Tolerance: "none: baseline had no misses", Verdict: Regressed}, cmp.Changes[0])
	assert.Equal(t, "miss_rate", cmp.Changes[1].Metric)
	assert.Equal(t, Regressed, cmp.Changes[1].Verdict)
	assert.Equal(t, Within, cmp.Changes[2].Verdict, "hits -0.5%")
	assert.Equal(t, Within, cmp.Changes[3].Verdict, "cycles per hit +0.5%")
	assert.Equal(t, 1, cmp.Regressed)
}

func TestCompareWorkloadAndEndingChanges(t *testing.T) {
	b, c := pairOf()
	c.Executions, c.Hits = 190, 40
	c.StopReason, c.ExitStatus = "signal", 139
	c.ProbeInstruction = "nop"
	c.Instructions--
	all := Tolerances{}
	for _, m := range MetricNames() {
		all[m] = Tolerance{1, true}
	}
	all["instructions"] = Tolerance{}
	cmp := compareOne(t, b, c, all)
	require.GreaterOrEqual(t, len(cmp.Changes), 3)
	assert.Equal(t, Change{Index: 3, Probe: "f", Metric: "executions", Baseline: "200", Current: "190",
		Delta: "-10 (-5.0%)", Tolerance: "exact", Verdict: Regressed}, cmp.Changes[0])
	assert.Equal(t, Change{Index: 3, Probe: "f", Metric: "exit", Baseline: "exit 0", Current: "signal (status 139)",
		Tolerance: "exact", Verdict: Regressed}, cmp.Changes[1])
	assert.Equal(t, Change{Index: 3, Probe: "f", Metric: "probe_instruction", Baseline: "push rbp", Current: "nop",
		Tolerance: "exact", Verdict: Regressed}, cmp.Changes[2])
	last := cmp.Changes[len(cmp.Changes)-1]
	assert.Equal(t, "instructions", last.Metric)
	assert.Equal(t, Regressed, last.Verdict, "fewer instructions is another workload, not an improvement")
}

// TestCompareCountsConfigurations: a configuration's probes move
// together in the counts.
func TestCompareCountsConfigurations(t *testing.T) {
	base := sampleRows()
	cur := sampleRows()
	cur[0].Cycles++
	cur[1].Cycles++
	cmp, err := Compare(base, cur, nil)
	require.NoError(t, err)
	assert.Len(t, cmp.Changes, 2)
	assert.Equal(t, 1, cmp.Configs)
	assert.Equal(t, 1, cmp.Regressed)
	assert.Equal(t, []string{"f", "g+4"}, []string{cmp.Changes[0].Probe, cmp.Changes[1].Probe})
}

func TestCompareNeedsEveryKey(t *testing.T) {
	_, groups := syntheticSweep(t, 2)
	rows := flat(groups)
	_, err := Compare(rows[:1], rows, nil)
	require.EqualError(t, err, `the baseline has no row for probe f of `+rows[1].Key())
}
