package plot

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/sweep"
)

// row is a result of the threaded fixture's setting.
func row(strategy string, cpus int, seed, executions, misses, overhead uint64) sweep.Row {
	hits := executions - misses
	r := sweep.Row{
		Configs: 1, Sweep: "0123456789abcdef",
		Program: "fixtures/bin/x86_64/threads", Args: []string{"4", "50"}, Env: []string{}, Probes: []string{"probed"},
		Params:   []string{},
		Strategy: strategy, CPUs: cpus, Seed: seed, Probe: "probed", ProbeInstruction: "nop", StopReason: "exit",
		Executions: executions, Hits: hits, Misses: misses, OverheadCycles: overhead,
	}
	if executions > 0 {
		r.MissRate = float64(misses) / float64(executions)
	}
	if hits > 0 {
		r.CyclesPerHit = float64(overhead) / float64(hits)
	}
	return r
}

// sampleRows is a sweep over cpus 1, 2, 4, both strategies, seeds 1-3,
// in the order a sweep writes it; ssol-stack never misses.
func sampleRows() []sweep.Row {
	return []sweep.Row{
		row("inline", 1, 1, 200, 0, 200*3000),
		row("inline", 1, 2, 200, 0, 200*3100),
		row("inline", 1, 3, 200, 0, 200*3200),
		row("inline", 2, 1, 200, 40, 160*3000),
		row("inline", 2, 2, 200, 60, 140*3000),
		row("inline", 2, 3, 200, 50, 150*3000),
		row("inline", 4, 1, 200, 150, 50*4000),
		row("inline", 4, 2, 200, 140, 60*4000),
		row("inline", 4, 3, 200, 130, 70*4000),
		row("ssol-stack", 1, 1, 200, 0, 200*5000),
		row("ssol-stack", 1, 2, 200, 0, 200*5000),
		row("ssol-stack", 1, 3, 200, 0, 200*5000),
		row("ssol-stack", 2, 1, 200, 0, 200*5200),
		row("ssol-stack", 2, 2, 200, 0, 200*5400),
		row("ssol-stack", 2, 3, 200, 0, 200*5600),
		row("ssol-stack", 4, 1, 200, 0, 200*6000),
		row("ssol-stack", 4, 2, 200, 0, 200*6000),
		row("ssol-stack", 4, 3, 200, 0, 200*6300),
	}
}

func TestSummarizeMeansAndRanges(t *testing.T) {
	rows := sampleRows()
	// Reverse the order: the summary does not depend on it.
	for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
		rows[i], rows[j] = rows[j], rows[i]
	}
	s, err := Summarize(rows)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 4}, s.CPUs)
	assert.Equal(t, "fixtures/bin/x86_64/threads", s.Setting.Program)
	require.Len(t, s.Series, 2)

	inline := s.Series[0]
	assert.Equal(t, "inline", inline.Strategy)
	assert.Equal(t, []Point{
		{CPUs: 1, Seeds: 3, Mean: 0, Min: 0, Max: 0},
		{CPUs: 2, Seeds: 3, Mean: 25, Min: 20, Max: 30},
		{CPUs: 4, Seeds: 3, Mean: 70, Min: 65, Max: 75},
	}, inline.MissRate)
	assert.Equal(t, []Point{
		{CPUs: 1, Seeds: 3, Mean: 3100, Min: 3000, Max: 3200},
		{CPUs: 2, Seeds: 3, Mean: 3000, Min: 3000, Max: 3000},
		{CPUs: 4, Seeds: 3, Mean: 4000, Min: 4000, Max: 4000},
	}, inline.CyclesPerHit)

	ssol := s.Series[1]
	assert.Equal(t, "ssol-stack", ssol.Strategy)
	for _, p := range ssol.MissRate {
		assert.Equal(t, Point{CPUs: p.CPUs, Seeds: 3}, p, "ssol-stack never misses")
	}
	assert.Equal(t, []Point{
		{CPUs: 1, Seeds: 3, Mean: 5000, Min: 5000, Max: 5000},
		{CPUs: 2, Seeds: 3, Mean: 5400, Min: 5200, Max: 5600},
		{CPUs: 4, Seeds: 3, Mean: 6100, Min: 6000, Max: 6300},
	}, ssol.CyclesPerHit)
}

// Rows without executions have no miss rate and rows without hits no
// cycles per hit: they are left out of those means, not counted as 0.
func TestSummarizeLeavesOutUnmeasured(t *testing.T) {
	s, err := Summarize([]sweep.Row{
		row("inline", 4, 1, 200, 200, 0), // every execution missed: no hits
		row("inline", 4, 2, 200, 100, 100*2000),
		row("inline", 8, 1, 0, 0, 0), // the probe never ran
		row("inline", 8, 2, 100, 50, 50*1000),
	})
	require.NoError(t, err)
	require.Len(t, s.Series, 1)
	assert.Equal(t, []int{4, 8}, s.CPUs)
	assert.Equal(t, []Point{
		{CPUs: 4, Seeds: 2, Mean: 75, Min: 50, Max: 100},
		{CPUs: 8, Seeds: 1, Mean: 50, Min: 50, Max: 50},
	}, s.Series[0].MissRate)
	assert.Equal(t, []Point{
		{CPUs: 4, Seeds: 1, Mean: 2000, Min: 2000, Max: 2000},
		{CPUs: 8, Seeds: 1, Mean: 1000, Min: 1000, Max: 1000},
	}, s.Series[0].CyclesPerHit)
	lo, hi := s.seedRange()
	assert.Equal(t, [2]int{1, 2}, [2]int{lo, hi})
}

func TestSummarizeErrors(t *testing.T) {
	other := row("inline", 2, 1, 10, 0, 0)
	other.Args = []string{"4", "500"}
	noStrategy := row("", 2, 1, 10, 0, 0)
	noCPUs := row("inline", 0, 1, 10, 0, 0)
	cases := []struct {
		name string
		rows []sweep.Row
		msg  string
	}{
		{"empty", nil, "no rows to plot"},
		{"no strategy", []sweep.Row{row("inline", 1, 1, 10, 0, 0), noStrategy}, "row 2: no strategy"},
		{"no cpus", []sweep.Row{noCPUs}, "row 1: cpus 0, want at least 1"},
		{"two settings", []sweep.Row{row("inline", 1, 1, 10, 0, 0), other},
			`row 2: setting "fixtures/bin/x86_64/threads 4 500; probes probed" differs from row 1's "fixtures/bin/x86_64/threads 4 50; probes probed"`},
		{"duplicate", []sweep.Row{row("inline", 1, 1, 10, 0, 0), row("inline", 2, 1, 10, 0, 0), row("inline", 1, 1, 10, 0, 0)},
			"row 3: repeats row 1 (strategy inline, 1 vCPUs, seed 1)"},
		{"no executions", []sweep.Row{row("inline", 1, 1, 0, 0, 0)}, "no row has a probe execution"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Summarize(c.rows)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.msg)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
	_, err := Summarize(nil)
	assert.ErrorIs(t, err, ErrNoRows)
}

func TestSplit(t *testing.T) {
	a1 := row("inline", 1, 1, 10, 0, 0)
	b := row("inline", 1, 1, 10, 0, 0)
	b.Quantum = 1000
	c := row("inline", 1, 1, 10, 0, 0)
	c.Probes = []string{"probed", "main"}
	a2 := row("ssol-stack", 1, 1, 10, 0, 0)
	groups := Split([]sweep.Row{b, a1, c, a2})
	require.Len(t, groups, 3)
	assert.Equal(t, []sweep.Row{b}, groups[0].Rows)
	assert.Equal(t, []sweep.Row{a1, a2}, groups[1].Rows)
	assert.Equal(t, []sweep.Row{c}, groups[2].Rows)
	assert.Equal(t, uint64(1000), groups[0].Setting.Quantum)
	assert.Equal(t, "threads 4 50 \u00b7 probe probed; quantum 1000", groups[0].Setting.Title())
	assert.Equal(t, "threads 4 50 \u00b7 probes probed, main", groups[2].Setting.Title())
	assert.Equal(t, "fixtures/bin/x86_64/threads 4 50; probes probed,main", groups[2].Setting.String())

	p := row("inline", 1, 1, 10, 0, 0)
	p.Profile, p.Params = "slow", []string{"kernel.exception_entry_exit=1500", "x=1"}
	assert.Equal(t, "threads 4 50 \u00b7 probe probed; profile slow; kernel.exception_entry_exit=1500 x=1",
		settingOf(&p).Title())

	// List elements that contain the separator stay distinct settings.
	x, y := row("inline", 1, 1, 10, 0, 0), row("inline", 1, 1, 10, 0, 0)
	x.Args, y.Args = []string{"a b"}, []string{"a", "b"}
	assert.Len(t, Split([]sweep.Row{x, y}), 2)
	assert.Empty(t, Split(nil))
}

// Check numbers rows in the order given, across settings, and tells a
// repeated configuration from the same one in another setting.
func TestCheck(t *testing.T) {
	q := row("inline", 1, 1, 10, 0, 0)
	q.Quantum = 500
	require.NoError(t, Check([]sweep.Row{row("inline", 1, 1, 10, 0, 0), q}))
	err := Check([]sweep.Row{row("inline", 1, 1, 10, 0, 0), q, row("inline", 2, 1, 10, 0, 0), q})
	assert.EqualError(t, err, "row 4: repeats row 2 (strategy inline, 1 vCPUs, seed 1)")
	err = Check([]sweep.Row{q, q, row("", 2, 1, 10, 0, 0)})
	assert.EqualError(t, err, "row 2: repeats row 1 (strategy inline, 1 vCPUs, seed 1)")
	err = Check([]sweep.Row{q, row("inline", -2, 1, 10, 0, 0)})
	assert.EqualError(t, err, "row 2: cpus -2, want at least 1 (not a sweep results row)")
	require.NoError(t, Check(nil))
}

// The environment and limits tell settings apart and show in String, not
// in the figure's title.
func TestSettingEnvAndLimits(t *testing.T) {
	a, b := row("inline", 1, 1, 10, 0, 0), row("inline", 1, 1, 10, 0, 0)
	b.Env, b.MaxCycles, b.StackLimit = []string{"LANG=C", "X=1"}, 5000000, 1<<20
	groups := Split([]sweep.Row{a, b})
	require.Len(t, groups, 2)
	assert.Equal(t, "fixtures/bin/x86_64/threads 4 50; probes probed; env LANG=C X=1; max cycles 5000000; stack limit 1048576",
		groups[1].Setting.String())
	assert.Equal(t, groups[0].Setting.Title(), groups[1].Setting.Title())
}
