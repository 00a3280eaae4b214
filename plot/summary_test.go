package plot

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/sweep"
)

// row is a consistent sweep row of the threads fixture with the duty
// cycle work (its third argument) and a parameter.
func row(strategy string, cpus int, seed, executions, misses, overhead uint64) sweep.Row {
	return dutyRow(strategy, cpus, seed, 0, executions, misses, overhead)
}

func dutyRow(strategy string, cpus int, seed uint64, work int, executions, misses, overhead uint64) sweep.Row {
	hits := executions - misses
	r := sweep.Row{
		Configs: 1, Sweep: "0123456789abcdef",
		Program: "fixtures/bin/x86_64/threads", Args: []string{"4", "50", strconv.Itoa(work)}, Env: []string{}, Probes: []string{"probed"},
		StackLimit: 8 << 20, MaxCycles: 1e10, Profile: "skylake", Params: []string{"kernel.exception_entry_exit=600"}, Quantum: 10000,
		Strategy: strategy, CPUs: cpus, Seed: seed, Probe: "probed", ProbeInstruction: "nop", StopReason: "exit",
		Executions: executions, Hits: hits, Misses: misses, OverheadCycles: overhead,
	}
	r.SetRates()
	return r
}

// sampleRows is a sweep over cpus 1, 2, 4, two strategies, seeds 1-3, in
// the order a sweep writes it; ssol-stack never misses.
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

// dutyRows is a sweep over the duty cycle (args[2]: 0, 1000, 4000) and
// cpus 2 and 4, inline and xol, two seeds: inline misses less as the
// threads work longer between calls, more on more vCPUs.
func dutyRows() []sweep.Row {
	var rows []sweep.Row
	for _, work := range []int{4000, 0, 1000} { // not in order: the axis sorts them
		for _, st := range []string{"xol", "inline"} {
			for _, cpus := range []int{2, 4} {
				for seed := uint64(1); seed <= 2; seed++ {
					misses := uint64(0)
					if st == "inline" {
						misses = uint64(cpus*40) / uint64(1+work/1000) * (9 + seed) / 10
					}
					rows = append(rows, dutyRow(st, cpus, seed, work, 200, misses, 200*2000))
				}
			}
		}
	}
	return rows
}

func TestSummarizeMeansAndRanges(t *testing.T) {
	rows := sampleRows()
	// Reverse the order: the summary does not depend on it.
	for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
		rows[i], rows[j] = rows[j], rows[i]
	}
	s, err := Summarize(rows, Options{})
	require.NoError(t, err)
	assert.Equal(t, "cpus", s.X.Name)
	assert.Equal(t, []string{"1", "2", "4"}, s.XValues)
	assert.Equal(t, Log2, s.Scale)
	assert.Equal(t, []float64{0, 1, 2}, s.XPos)
	assert.Equal(t, []string{"inline", "ssol-stack"}, s.Strategies)
	assert.Equal(t, []string{""}, s.Facets)
	require.Len(t, s.Panels, 2)
	mr := s.Panels[0][0]
	assert.Equal(t, "miss_rate", mr.Metric.Name)
	inline := mr.Series[0]
	assert.Equal(t, "inline", inline.Strategy)
	require.Len(t, inline.Points, 3)
	assert.Equal(t, Point{X: 1, Seeds: 3, Mean: 25, Min: 20, Max: 30, positionX: 1}, inline.Points[1])
	assert.Equal(t, 3, s.MinSeeds)
	cph := s.Panels[1][0].Series[1] // ssol-stack's cycles per hit
	assert.InDelta(t, 5400, cph.Points[1].Mean, 1e-9)
	assert.Equal(t, "threads 4 50 0 \u00b7 probe probed \u00b7 quantum 10000, profile skylake, kernel.exception_entry_exit=600", s.Title)
}

// TestSummarizeAxes: any setting along x, in numeric order, and a second
// as facets; the title marks the argument laid out.
func TestSummarizeAxes(t *testing.T) {
	s, err := Summarize(dutyRows(), Options{X: "args[2]", Facet: "cpus"})
	require.NoError(t, err)
	assert.Equal(t, []string{"0", "1000", "4000"}, s.XValues)
	assert.Equal(t, Category, s.Scale, "0, 1000, 4000 are not evenly spaced")
	assert.Equal(t, []float64{0, 1, 2}, s.XPos)
	assert.Equal(t, []string{"2", "4"}, s.Facets)
	assert.Equal(t, []string{"inline", "xol"}, s.Strategies, "probesim's order, not the file's")
	assert.Equal(t, "threads 4 50 args[2] \u00b7 probe probed \u00b7 quantum 10000, profile skylake, kernel.exception_entry_exit=600", s.Title)
	require.Len(t, s.Panels, 2)
	require.Len(t, s.Panels[0], 2)
	four := s.Panels[0][1].Series[0]
	require.Len(t, four.Points, 3)
	assert.Greater(t, four.Points[0].Mean, four.Points[2].Mean, "inline misses less with more work")
	assert.Greater(t, four.Points[0].Mean, s.Panels[0][0].Series[0].Points[0].Mean, "and more on more vCPUs")

	lin, err := Summarize(dutyRows(), Options{X: "args[2]", Facet: "cpus", XScale: Linear})
	require.NoError(t, err)
	assert.Equal(t, []float64{0, 1000, 4000}, lin.XPos)
	_, err = Summarize(dutyRows(), Options{X: "args[2]", Facet: "cpus", XScale: Log2})
	assert.EqualError(t, err, "--x-scale log2: args[2] has the value 0: a log scale needs positive values (try --x-scale linear or category)")

	// A parameter along x, one vCPU count picked by --where.
	var rows []sweep.Row
	for _, entry := range []int{600, 900, 1200} {
		for _, st := range []string{"inline", "ssol-stack"} {
			r := dutyRow(st, 4, 1, 0, 200, uint64(entry/10)*map[string]uint64{"inline": 1}[st], 1000)
			r.Params = []string{fmt.Sprintf("kernel.exception_entry_exit=%d", entry)}
			rows = append(rows, r)
			r.CPUs = 2
			rows = append(rows, r)
		}
	}
	p, err := Summarize(rows, Options{X: "param.kernel.exception_entry_exit", Where: []string{"cpus=4"}, Metrics: []string{"misses"}})
	require.NoError(t, err)
	assert.Equal(t, Linear, p.Scale, "evenly spaced")
	assert.Equal(t, []float64{600, 900, 1200}, p.XPos)
	require.Len(t, p.Panels, 1)
	assert.Equal(t, 120.0, p.Panels[0][0].Series[0].Points[2].Mean)
	bare, err := Summarize(rows, Options{X: "kernel.exception_entry_exit", Where: []string{"cpus=4"}})
	require.NoError(t, err)
	assert.Equal(t, p.XValues, bare.XValues, "param. may be left out")
}

// TestSummarizeProbes: a configuration's probes are summed, or one is
// picked.
func TestSummarizeProbes(t *testing.T) {
	var rows []sweep.Row
	for _, r := range sampleRows()[:3] {
		r.Probes = []string{"probed", "main"}
		m := r
		m.Probe, m.Executions, m.Hits, m.Misses, m.OverheadCycles = "main", 1, 1, 0, 0
		m.SetRates()
		rows = append(rows, r, m)
	}
	all, err := Summarize(rows, Options{})
	require.NoError(t, err)
	assert.Equal(t, 201*3, all.Panels[0][0].Series[0].Points[0].Seeds*201)
	assert.Contains(t, all.Title, "probe probed + main")
	one, err := Summarize(rows, Options{Probe: "main"})
	require.NoError(t, err)
	assert.Equal(t, 0.0, one.Panels[0][0].Series[0].Points[0].Mean)
	_, err = Summarize(rows, Options{Probe: "nope"})
	assert.EqualError(t, err, "--probe nope: no row of that probe (the probes: probed, main)")
}

func TestSummarizeErrors(t *testing.T) {
	noStrategy := row("", 1, 1, 10, 0, 0)
	noCPUs := row("inline", 0, 1, 10, 0, 0)
	other := row("inline", 1, 2, 10, 0, 0)
	other.Quantum = 500
	for _, c := range []struct {
		name string
		rows []sweep.Row
		o    Options
		want string
	}{
		{"empty", nil, Options{}, "no rows to plot"},
		{"no strategy", []sweep.Row{row("inline", 1, 1, 10, 0, 0), noStrategy}, Options{}, "row 2: no strategy (not a sweep results row)"},
		{"no cpus", []sweep.Row{noCPUs}, Options{}, "row 1: cpus 0, want at least 1 (not a sweep results row)"},
		{"two settings", []sweep.Row{row("inline", 1, 1, 10, 0, 0), other}, Options{},
			"rows 1 and 2 differ in quantum (10000 and 500) besides the x axis (cpus): choose one with --where quantum=VALUE or lay it out with --facet quantum"},
		{"args", dutyRows(), Options{},
			`rows 1 and 9 differ in args (["4" "50" "4000"] and ["4" "50" "0"]) besides the x axis (cpus): lay an argument out with --x args[N] or --facet args[N], or choose one with --where args[N]=VALUE`},
		{"duplicate", []sweep.Row{row("inline", 1, 1, 10, 0, 0), row("inline", 2, 1, 10, 0, 0), row("inline", 1, 1, 10, 0, 0)}, Options{},
			"row 3: repeats row 1 (strategy inline, cpus 1, seed 1): merge shards with probesim merge, do not concatenate them"},
		{"no executions", []sweep.Row{row("inline", 1, 1, 0, 0, 0)}, Options{}, "no row has a probe execution: nothing to plot"},
		{"axis", sampleRows(), Options{X: "seed"}, `--x: "seed": strategies are the series and seeds are averaged: choose another axis`},
		{"axis name", sampleRows(), Options{X: "args[x]"}, `--x: "args[x]" is not an axis: want cpus, quantum, stack_limit, max_cycles, profile, probe, args[N] or a parameter (param.NAME)`},
		{"short args", sampleRows(), Options{X: "args[7]"}, "row 1 has no args[7] (args 4 50 0)"},
		{"no param", sampleRows(), Options{X: "colour"}, "row 1 has no parameter colour (its params: kernel.exception_entry_exit=600): the axes are cpus, quantum, stack_limit, max_cycles, profile, probe, args[N] and param.NAME"},
		{"facet is x", sampleRows(), Options{Facet: "vcpus"}, "--facet vcpus: the x axis already"},
		{"metric", sampleRows(), Options{Metrics: []string{"joy"}}, "--metric joy: want one of miss_rate, cycles_per_hit, misses, hits, window_cycles, cycles"},
		{"where", sampleRows(), Options{Where: []string{"cpus=16"}}, "no row matches --where cpus=16"},
		{"where syntax", sampleRows(), Options{Where: []string{"cpus"}}, "--where cpus: want COLUMN=VALUE, such as quantum=1000"},
	} {
		_, err := Summarize(c.rows, c.o)
		if assert.Error(t, err, c.name) {
			assert.Equal(t, c.want, err.Error(), c.name)
		}
	}
}

// TestStrategyStyles: a strategy has one colour and glyph whatever else
// the figure holds.
func TestStrategyStyles(t *testing.T) {
	assert.Equal(t, palette[0], strategyStyle("inline").color)
	assert.Equal(t, palette[1], strategyStyle("ssol-stack").color)
	assert.Equal(t, palette[2], strategyStyle("xol").color)
	assert.Equal(t, palette[3], strategyStyle("ssol-stack-2005").color)
	assert.Equal(t, palette[4], strategyStyle("ssol-stack-2006").color)
	require.Less(t, len(knownStrategies), len(palette), "a colour for each strategy and one for any other name")
	require.LessOrEqual(t, len(knownStrategies), len(glyphs))
	seen := map[style]string{}
	for _, s := range knownStrategies {
		st := strategyStyle(string(s))
		assert.NotContains(t, seen, st, "%s and %s look alike", s, seen[st])
		seen[st] = string(s)
	}
	assert.Equal(t, strategyStyle("uretprobe"), strategyStyle("uretprobe"), "an unknown name is stable too")
	assert.NotContains(t, []any{palette[0], palette[1], palette[2], palette[3], palette[4]}, strategyStyle("uretprobe").color)
}
