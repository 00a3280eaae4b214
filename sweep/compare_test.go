package sweep

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pair returns a baseline row and a copy to edit as the current one.
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
	cmp := compareOne(t, b, c, Tolerances{})
	assert.Equal(t, Comparison{Configs: 1}, cmp)
}

func TestCompareTolerances(t *testing.T) {
	b, c := pairOf()
	c.Misses, c.Hits = 160, 40 // +6.7 %, -20 %; rate 0.75 -> 0.80
	c.Cycles = 123456 * 104 / 100
	cmp := compareOne(t, b, c, DefaultTolerances)
	require.Len(t, cmp.Changes, 5)
	byMetric := map[string]Change{}
	for _, ch := range cmp.Changes {
		byMetric[ch.Metric] = ch
	}
	assert.Equal(t, Change{Index: 3, Probe: "f", Metric: "misses", Baseline: "150", Current: "160",
		Delta: "+10 (+6.7%)", Tolerance: "±10%", Verdict: Within}, byMetric["misses"])
	assert.Equal(t, Change{Index: 3, Probe: "f", Metric: "miss_rate", Baseline: "0.7500", Current: "0.8000",
		Delta: "+0.0500", Tolerance: "±0.0100", Verdict: Regressed}, byMetric["miss_rate"])
	assert.Equal(t, Change{Index: 3, Probe: "f", Metric: "hits", Baseline: "50", Current: "40",
		Delta: "-10 (-20.0%)", Tolerance: "±10%", Verdict: Regressed}, byMetric["hits"])
	assert.Equal(t, Within, byMetric["cycles"].Verdict)
	assert.Equal(t, "+4938 (+4.0%)", byMetric["cycles"].Delta)
	assert.Equal(t, "cycles_per_hit", cmp.Changes[4].Metric)
	assert.Equal(t, Regressed, cmp.Changes[4].Verdict, "5000/40 = 125 > 100 * 1.05")
	assert.Equal(t, 1, cmp.Regressed)
	assert.Equal(t, 1, cmp.Moved)

	// Looser tolerances let the same moves through.
	loose := Tolerances{MissRate: 0.1, Misses: 0.5, Hits: 0.5, Cycles: 0.5}
	cmp = compareOne(t, b, c, loose)
	assert.Equal(t, 0, cmp.Regressed)
	for _, ch := range cmp.Changes {
		assert.Equal(t, Within, ch.Verdict, ch.Metric)
	}
}

func TestCompareImprovementsDoNotFail(t *testing.T) {
	b, c := pairOf()
	c.Misses, c.Hits = 100, 100
	c.Cycles = 100000
	c.OverheadCycles = 5000
	cmp := compareOne(t, b, c, DefaultTolerances)
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
	huge := Tolerances{MissRate: 1, Misses: 100, Hits: 100, Cycles: 100}
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
	cmp := compareOne(t, b, c, Tolerances{MissRate: 1, Misses: 1, Hits: 1, Cycles: 1})
	require.GreaterOrEqual(t, len(cmp.Changes), 2)
	assert.Equal(t, Change{Index: 3, Probe: "f", Metric: "executions", Baseline: "200", Current: "190",
		Delta: "-10 (-5.0%)", Tolerance: "exact", Verdict: Regressed}, cmp.Changes[0])
	assert.Equal(t, Change{Index: 3, Probe: "f", Metric: "exit", Baseline: "exit 0", Current: "signal (status 139)",
		Tolerance: "exact", Verdict: Regressed}, cmp.Changes[1])
}

func TestCompareNeedsEveryKey(t *testing.T) {
	_, groups := syntheticSweep(t, 2)
	rows := flat(groups)
	_, err := Compare(rows[:1], rows, DefaultTolerances)
	require.EqualError(t, err, `the baseline has no row for probe f of `+rows[1].Key())
}
