package sweep

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/fixtures"
)

// full is the test sweep run once with 2 jobs, shared by the tests.
var full struct {
	once sync.Once
	cfg  *Config
	rows []Row
	err  error
}

func fullSweep(t *testing.T) (*Config, []Row) {
	t.Helper()
	full.once.Do(func() {
		full.cfg = loadThreads(t)
		full.rows, _, full.err = Run(context.Background(), full.cfg, Options{Jobs: 2})
	})
	require.NoError(t, full.err)
	return full.cfg, full.rows
}

func encodeCSV(t *testing.T, rows []Row) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, WriteCSV(&b, rows))
	return b.Bytes()
}

// TestSweepMatchesSingleRuns: each row is what probesim.Run measures for
// its configuration on its own.
func TestSweepMatchesSingleRuns(t *testing.T) {
	c, rows := fullSweep(t)
	require.Len(t, rows, 8, "one probe: a row per configuration")
	for i, r := range rows {
		p := c.Point(i)
		label := c.Label(p)
		require.Equal(t, i, r.Index)
		require.Equal(t, p.Key(), r.Key())
		require.Equal(t, c.ID(), r.Sweep)
		// Standalone, from the file, under the guest path a sweep uses.
		res, err := probesim.Run(t.Context(), probesim.Config{
			Program: threadsProgram(t), GuestPath: GuestDir + "/threads", Args: []string{"4", "50"}, Probes: []string{"probed"},
			CPUs: p.CPUs, Strategy: p.Strategy, Seed: p.Seed, MaxCycles: DefaultMaxCycles,
		})
		require.NoError(t, err)
		rep := res.Report
		require.Len(t, rep.Probes, 1)
		pr := rep.Probes[0]
		assert.Equal(t, "probed", r.Probe)
		assert.Equal(t, pr.Address, r.ProbeAddress)
		assert.Equal(t, pr.Instruction, r.ProbeInstruction)
		assert.Equal(t, pr.Executions, r.Executions, label)
		assert.Equal(t, pr.Hits, r.Hits, label)
		assert.Equal(t, pr.Misses, r.Misses, label)
		assert.Equal(t, pr.Windows.Count, r.Windows, label)
		assert.Equal(t, pr.OverheadCycles.Total, r.OverheadCycles, label)
		assert.Equal(t, rep.Cycles, r.Cycles, label)
		assert.Equal(t, rep.Instructions, r.Instructions, label)
		assert.Equal(t, "exit", r.StopReason, label)
		assert.Equal(t, 0, r.ExitStatus, label)
		assert.Equal(t, c.RowsOf(p, rep), []Row{r}, label)

		assert.Equal(t, uint64(4*50), r.Executions, "every thread runs the probed instruction 50 times")
		assert.Equal(t, r.Executions, r.Hits+r.Misses, label)
		assert.InDelta(t, float64(r.Misses)/float64(r.Executions), r.MissRate, 1e-12)
		switch {
		case r.Strategy == "ssol-stack":
			assert.Zero(t, r.Misses, "%s: the breakpoint never leaves the text", label)
		case r.CPUs == 1:
			assert.Zero(t, r.Misses, "%s: nobody else runs during the window", label)
		default:
			assert.Positive(t, r.Misses, "%s: the other vCPU runs through the open window", label)
		}
	}
}

// TestRowPerProbe: a configuration with two probes has two rows, each
// with its probe's own counts, and the run's columns in both; a probe set
// axis gives each configuration its own set.
func TestRowPerProbe(t *testing.T) {
	c, err := Load(writeConfig(t, fmt.Sprintf(`program: %s
args: [4, 50]
probes: [[probed], [probed, main]]
cpus: 2
strategies: inline
seeds: 1
`, threadsProgram(t))))
	require.NoError(t, err)
	rows, st, err := Run(t.Context(), c, Options{Jobs: 2})
	require.NoError(t, err)
	assert.Equal(t, Stats{Total: 2, Ran: 2}, st)
	require.Len(t, rows, 3)
	assert.Equal(t, []string{"probed", "probed", "main"}, []string{rows[0].Probe, rows[1].Probe, rows[2].Probe})
	assert.Equal(t, []int{0, 1, 1}, []int{rows[0].Index, rows[1].Index, rows[2].Index})
	assert.Equal(t, uint64(200), rows[1].Executions)
	assert.Equal(t, uint64(1), rows[2].Executions, "main runs once")
	assert.Equal(t, rows[1].Cycles, rows[2].Cycles, "one run")
	tot := Totals(rows)
	require.Len(t, tot, 2)
	assert.Equal(t, uint64(201), tot[1].Executions)
	assert.Equal(t, rows[1].Hits+rows[2].Hits, tot[1].Hits)
}

// TestJobsDoNotChangeTheOutput: one worker or two, the same bytes.
func TestJobsDoNotChangeTheOutput(t *testing.T) {
	c, rows2 := fullSweep(t)
	rows1, st, err := Run(context.Background(), c, Options{Jobs: 1})
	require.NoError(t, err)
	assert.Equal(t, Stats{Total: 8, Ran: 8}, st)
	assert.Equal(t, string(encodeCSV(t, rows1)), string(encodeCSV(t, rows2)))
}

// TestResumeRunsOnlyTheMissing: rows kept from an interrupted sweep are
// not run again, and the result is the full sweep's.
func TestResumeRunsOnlyTheMissing(t *testing.T) {
	c, rows := fullSweep(t)
	// An interrupted sweep's file, with the last two rows lost.
	out := filepath.Join(t.TempDir(), "out.csv")
	require.NoError(t, WriteFile(out, rows[:6]))
	o, err := OpenOutput(out, c, Shard{})
	require.NoError(t, err)
	assert.Equal(t, 6, o.Kept())

	var progress []int
	var saved []string
	o.SaveEvery = 1 // every row
	got, st, err := Run(context.Background(), c, Options{Jobs: 2, Done: o.Has,
		Progress: func(done, total int) { progress = append(progress, done*100+total) },
		Emit: func(r []Row) error {
			if err := o.Add(r); err != nil {
				return err
			}
			saved = append(saved, string(readFile(t, out)))
			return nil
		},
	})
	require.NoError(t, err)
	assert.Empty(t, got, "Emit has the rows")
	assert.Equal(t, Stats{Total: 8, Kept: 6, Ran: 2}, st)
	assert.Equal(t, []int{708, 808}, progress)
	require.Len(t, saved, 2)
	back, err := ReadCSV(strings.NewReader(saved[0]))
	require.NoError(t, err)
	require.Len(t, back, 7, "a checkpoint after the first new row")
	for i := range back {
		if i > 0 {
			assert.Less(t, back[i-1].Index, back[i].Index, "checkpoints are in configuration order")
		}
	}
	require.NoError(t, o.Close())
	assert.Equal(t, string(encodeCSV(t, rows)), string(readFile(t, out)))
	assert.NoFileExists(t, lockPath(out), "the lock file goes with the lock")

	// Nothing left: nothing runs.
	o, err = OpenOutput(out, c, Shard{})
	require.NoError(t, err)
	_, st, err = Run(context.Background(), c, Options{Done: o.Has, Emit: o.Add})
	require.NoError(t, err)
	assert.Equal(t, Stats{Total: 8, Kept: 8}, st)
	require.NoError(t, o.Close())
	assert.Equal(t, string(encodeCSV(t, rows)), string(readFile(t, out)))
}

// TestShardsMergeToTheFullSweep: shards 1/2 and 2/2, merged, are the
// unsharded sweep byte for byte.
func TestShardsMergeToTheFullSweep(t *testing.T) {
	c, rows := fullSweep(t)
	var inputs []Input
	for i := 1; i <= 2; i++ {
		shard, st, err := Run(context.Background(), c, Options{Jobs: 2, Shard: Shard{i, 2}})
		require.NoError(t, err)
		assert.Equal(t, 4, st.Ran)
		for _, r := range shard {
			assert.Equal(t, i-1, r.Index%2)
		}
		inputs = append(inputs, Input{fmt.Sprintf("shard-%d.csv", i), shard})
	}
	merged, st, err := Merge([]Input{inputs[1], inputs[0]})
	require.NoError(t, err)
	assert.Equal(t, MergeStats{Files: 2, Rows: 8, Sweeps: []SweepStats{{ID: c.ID(), File: "shard-2.csv", Configs: 8, Rows: 8}}}, st)
	assert.Equal(t, string(encodeCSV(t, rows)), string(encodeCSV(t, merged)))
}

// TestMergeSweepsThatDifferInValues: two configs that differ only in a
// setting's values (the duty cycle, threads' third argument), run apart,
// merge into one table; resuming the config of both values on it runs
// nothing and writes what that config's own sweep writes.
func TestMergeSweepsThatDifferInValues(t *testing.T) {
	prog := threadsProgram(t)
	cfg := func(args string) *Config {
		c, err := Load(writeConfig(t, fmt.Sprintf("program: %s\nargs: %s\nprobes: [probed]\ncpus: [1, 2]\nstrategies: inline\nseeds: 1\n", prog, args)))
		require.NoError(t, err)
		return c
	}
	a, b, both := cfg("[4, 50, 0]"), cfg("[4, 50, 2000]"), cfg("[[4, 50, 0], [4, 50, 2000]]")
	ra, _, err := Run(t.Context(), a, Options{Jobs: 2})
	require.NoError(t, err)
	rb, _, err := Run(t.Context(), b, Options{Jobs: 2})
	require.NoError(t, err)
	merged, st, err := Merge([]Input{{"a.csv", ra}, {"b.csv", rb}, {"a-again.csv", ra}})
	require.NoError(t, err)
	assert.Equal(t, 4, st.Rows)
	assert.Equal(t, 2, st.Duplicates)
	require.Len(t, st.Sweeps, 2)
	assert.Equal(t, 0, st.Missing())
	assert.Equal(t, append(append([]Row{}, ra...), rb...), merged, "one sweep after the other")

	out := filepath.Join(t.TempDir(), "both.csv")
	require.NoError(t, WriteFile(out, merged))
	o, err := OpenOutput(out, both, Shard{})
	require.NoError(t, err)
	assert.Equal(t, 4, o.Kept())
	_, run, err := Run(t.Context(), both, Options{Done: o.Has, Emit: o.Add})
	require.NoError(t, err)
	assert.Equal(t, Stats{Total: 4, Kept: 4}, run)
	require.NoError(t, o.Close())
	fresh, _, err := Run(t.Context(), both, Options{Jobs: 2})
	require.NoError(t, err)
	assert.Equal(t, string(encodeCSV(t, fresh)), string(readFile(t, out)))
}

func TestReconcileRefusesOtherSweeps(t *testing.T) {
	c, rows := fullSweep(t)
	other := append([]Row(nil), rows[:2]...)
	other[1].Program = "/elsewhere/threads"
	_, err := Reconcile(c, Shard{}, "out.csv", other)
	require.EqualError(t, err, `out.csv: row 2 comes from another sweep (program "/elsewhere/threads", not "`+c.Program+`" of `+c.File+")")

	stranger := append([]Row(nil), rows[:1]...)
	stranger[0].Args = []string{"4", "60"}
	_, err = Reconcile(c, Shard{}, "out.csv", stranger)
	require.EqualError(t, err, `out.csv: row 1: not a configuration of `+c.File+`: args ["4","60"] is not one of its values (["4","50"])`)
	stranger[0].Args, stranger[0].CPUs = []string{"4", "50"}, 16
	_, err = Reconcile(c, Shard{}, "out.csv", stranger)
	require.EqualError(t, err, `out.csv: row 1: not a configuration of `+c.File+`: cpus 16 is not one of its values (1, 2)`)

	_, err = Reconcile(c, Shard{2, 2}, "out.csv", rows[:1])
	require.EqualError(t, err, `out.csv: row 1: cpus=1 strategy=inline seed=1: configuration 0, not in shard 2/2`)

	_, err = Reconcile(c, Shard{}, "out.csv", []Row{rows[3], rows[3]})
	require.EqualError(t, err, `out.csv: row 2: cpus=2 strategy=inline seed=2: appears twice`)

	// Rows that contradict themselves are tampered with, not measured.
	for _, tc := range []struct {
		edit func(r *Row)
		want string
	}{
		{func(r *Row) { r.Hits = r.Executions + 1 }, "hits 201 + misses 0 is not executions 200"},
		{func(r *Row) { r.MissRate = 0.5 }, "miss_rate 0.500000 is not misses/executions (0.000000)"},
		{func(r *Row) { r.Probe = "main" }, `probe "main" is not one of the probes ["probed"]`},
		{func(r *Row) { r.Index = 8 }, "index 8 is not in 0..7"},
		{func(r *Row) { r.Configs = 0 }, "configs 0 is not in 1..1000000"},
		{func(r *Row) { r.Sweep = "x" }, `sweep "x" is not a sweep's fingerprint (16 hex digits)`},
		{func(r *Row) { r.StopReason = "bored" }, `stop_reason "bored" is not one of exit, signal, fault, cycle_budget, deadlock, out_of_memory`},
		{func(r *Row) { r.StopReason = "signal" }, "exit_status 0 cannot end a run by signal"},
		{func(r *Row) { r.Windows, r.WindowCycles, r.MaxWindowCycles = 2, 10, 11 }, "windows 2 of 10 cycles cannot have a longest of 11"},
	} {
		bad := append([]Row(nil), rows...)
		tc.edit(&bad[0])
		_, err := Reconcile(c, Shard{}, "out.csv", bad)
		assert.EqualError(t, err, "out.csv: row 1: "+tc.want)
		assert.EqualError(t, Matches(c, "base.csv", bad), "base.csv: row 1: "+tc.want)
	}

	// A baseline is this config's rows at their places, not a resumable file.
	moved := append([]Row(nil), rows...)
	moved[0].Configs = 9
	require.EqualError(t, Matches(c, "base.csv", moved), `base.csv: row 1: cpus=1 strategy=inline seed=1: configuration 0 of 8 of sweep `+c.ID()+` (`+c.File+"), not 0 of 9 of sweep "+c.ID())
	require.NoError(t, Matches(c, "base.csv", rows))
	require.EqualError(t, Matches(c, "base.csv", rows[1:]),
		`base.csv: has 7 of the 8 configurations of `+c.File+`; missing cpus=1 strategy=inline seed=1`)
}

// TestReconcileReindexes: rows are matched by their settings, so a config
// that gained values keeps its rows, at their new positions.
func TestReconcileReindexes(t *testing.T) {
	_, rows := fullSweep(t)
	grown, err := Load(writeConfig(t, fmt.Sprintf(`program: %s
args: [[4, 50], [4, 60]]
probes: [probed]
cpus: [1, 2]
strategies: [inline, ssol-stack]
seeds: [1, 2, 3]
`, threadsProgram(t))))
	require.NoError(t, err)
	keep, err := Reconcile(grown, Shard{}, "out.csv", rows)
	require.NoError(t, err)
	require.Len(t, keep, 8)
	for _, r := range keep {
		assert.Equal(t, 24, r.Configs)
		assert.Equal(t, grown.ID(), r.Sweep)
		assert.Equal(t, grown.Point(r.Index).Key(), r.Key())
	}
	assert.Equal(t, []int{0, 1, 3, 4}, []int{keep[0].Index, keep[1].Index, keep[2].Index, keep[3].Index})
}

func TestCancelStopsStartingRuns(t *testing.T) {
	c := loadThreads(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rows, st, err := Run(ctx, c, Options{Jobs: 2})
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, rows)
	assert.Equal(t, Stats{Total: 8}, st)

	abandon := make(chan struct{})
	close(abandon)
	_, _, err = Run(context.Background(), c, Options{Jobs: 1, Abandon: abandon})
	require.ErrorIs(t, err, ErrAbandoned)
}

// TestFailedProgramsGetRows: a program that runs out of its budget is
// measured like any other, and counted as failed.
func TestFailedProgramsGetRows(t *testing.T) {
	c, err := Load(writeConfig(t, fmt.Sprintf(`program: %s
args: [4, 50]
probes: [probed]
cpus: 2
strategies: [inline, ssol-stack]
seeds: 1
max_cycles: 100_000
`, threadsProgram(t))))
	require.NoError(t, err)
	rows, st, err := Run(context.Background(), c, Options{Jobs: 2})
	require.NoError(t, err)
	assert.Equal(t, Stats{Total: 2, Ran: 2, Failed: 2}, st)
	for _, r := range rows {
		assert.Equal(t, "cycle_budget", r.StopReason)
		assert.Equal(t, 128+24, r.ExitStatus, "SIGXCPU")
		assert.True(t, r.Failed())
		assert.Equal(t, uint64(100_000), r.MaxCycles)
		assert.Less(t, r.Executions, uint64(200))
	}
}

// BenchmarkSweep runs the test sweep (8 configurations) with 1 and 2
// jobs: the speedup parallel runs give on this machine.
func BenchmarkSweep(b *testing.B) {
	prog, err := fixtures.Path(fixtures.ArchAMD64, "threads")
	require.NoError(b, err)
	c, err := Parse(filepath.Join(b.TempDir(), "s.yaml"), []byte(fmt.Sprintf(threadsYAML, prog)))
	require.NoError(b, err)
	for _, jobs := range []int{1, 2} {
		b.Run(fmt.Sprintf("jobs=%d", jobs), func(b *testing.B) {
			for b.Loop() {
				_, _, err := Run(context.Background(), c, Options{Jobs: jobs})
				require.NoError(b, err)
			}
		})
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}
