package main

// End-to-end tests of `probesim sweep` and `probesim merge` on the
// threaded fixture; the sweep package's own tests cover the pieces.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/sweep"
)

// sweepYAML is the test sweep: 8 configurations of about 0.1 s each.
const sweepYAML = `program: %s
args: [4, 50]
probes: [probed]
cpus: [1, 2]
strategies: [inline, ssol-stack]
seeds: [1, 2]
`

// sweepConfig writes the test sweep's config, with extra lines, in a
// fresh directory and returns its path.
func sweepConfig(t *testing.T, extra string) string {
	t.Helper()
	return sweepConfigIn(t, t.TempDir(), extra)
}

// sweepConfigIn is sweepConfig in dir.
func sweepConfigIn(t *testing.T, dir, extra string) string {
	t.Helper()
	path := filepath.Join(dir, "sweep.yaml")
	text := fmt.Sprintf(sweepYAML, fixturePath(t, fixtures.ArchAMD64, "threads")) + extra
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

// fullSweepCSV is the test sweep's CSV output with --jobs 1, made once.
var fullSweepCSV struct {
	once sync.Once
	data []byte
}

func fullSweep(t *testing.T) []byte {
	t.Helper()
	fullSweepCSV.once.Do(func() {
		out := filepath.Join(t.TempDir(), "full.csv")
		res := cli(t, "sweep", sweepConfig(t, ""), "--out", out, "--jobs", "1")
		require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
		require.Equal(t, "sweep: "+out+": 8 configurations: 8 run, 0 kept, 0 failed\n", string(res.stderr))
		require.Empty(t, res.stdout)
		data, err := os.ReadFile(out)
		require.NoError(t, err)
		fullSweepCSV.data = data
	})
	require.NotEmpty(t, fullSweepCSV.data)
	return fullSweepCSV.data
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

// TestSweepOutputIsTheSameForAnyJobs: --jobs 2 writes the bytes --jobs 1
// does, and the rows hold together.
func TestSweepOutputIsTheSameForAnyJobs(t *testing.T) {
	full := fullSweep(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "two.csv")
	res := cli(t, "sweep", sweepConfig(t, ""), "--out", out, "--jobs", "2", "--quiet")
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	assert.Empty(t, res.stderr, "--quiet")
	assert.Equal(t, string(full), string(readFile(t, out)))

	rows, err := sweep.ReadFile(out)
	require.NoError(t, err)
	require.Len(t, rows, 8)
	for i, r := range rows {
		assert.Equal(t, i, r.Index)
		assert.Equal(t, uint64(200), r.Executions, r.Key)
		assert.Equal(t, r.Executions, r.Hits+r.Misses, r.Key)
		if r.Strategy == "ssol-stack" || r.CPUs == 1 {
			assert.Zero(t, r.Misses, r.Key)
		} else {
			assert.Positive(t, r.Misses, r.Key)
		}
	}

	// JSON holds the same rows.
	js := filepath.Join(dir, "two.json")
	res = cli(t, "sweep", sweepConfig(t, ""), "--out", js, "-q")
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	jrows, err := sweep.ReadFile(js)
	require.NoError(t, err)
	var b strings.Builder
	require.NoError(t, sweep.WriteCSV(&b, jrows))
	assert.Equal(t, string(full), b.String())
}

// TestSweepResumes: with its last rows gone, a sweep runs just those
// again and writes the same file.
func TestSweepResumes(t *testing.T) {
	full := fullSweep(t)
	out := filepath.Join(t.TempDir(), "r.csv")
	lines := strings.SplitAfter(string(full), "\n")
	require.Len(t, lines, 1+8+1, "header, 8 rows, empty tail")
	require.NoError(t, os.WriteFile(out, []byte(strings.Join(lines[:1+5], "")), 0o644))

	res := cli(t, "sweep", sweepConfig(t, ""), "--out", out, "--jobs", "2")
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	assert.Equal(t, "sweep: "+out+": 8 configurations: 3 run, 5 kept, 0 failed\n", string(res.stderr))
	assert.Equal(t, string(full), string(readFile(t, out)))

	res = cli(t, "sweep", sweepConfig(t, ""), "--out", out)
	require.Equal(t, 0, res.status)
	assert.Equal(t, "sweep: "+out+": 8 configurations: 0 run, 8 kept, 0 failed\n", string(res.stderr))
	assert.Equal(t, string(full), string(readFile(t, out)))

	// Rows of another sweep are not mixed in.
	other := sweepConfig(t, "env: [A=1]\n")
	res = cli(t, "sweep", other, "--out", out)
	assert.Equal(t, 125, res.status)
	assert.Equal(t, "probesim: --out "+out+`: row 1: not a configuration of `+other+
		`: env [] is not one of its values (["A=1"]); to start afresh, move the file away`+"\n", string(res.stderr))
	assert.Equal(t, string(full), string(readFile(t, out)), "the file is left alone")
}

// TestSweepShardsMerge: shards 1/2 and 2/2, merged, are the full sweep.
func TestSweepShardsMerge(t *testing.T) {
	full := fullSweep(t)
	dir := t.TempDir()
	cfg := sweepConfig(t, "")
	a, b := filepath.Join(dir, "shard-1.csv"), filepath.Join(dir, "shard-2.json")
	res := cli(t, "sweep", cfg, "--out", a, "--shard", "1/2")
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	assert.Equal(t, "sweep: "+a+": 4 configurations (shard 1/2 of 8): 4 run, 0 kept, 0 failed\n", string(res.stderr))
	res = cli(t, "sweep", cfg, "--out", b, "--shard", "2/2", "-j", "2")
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)

	merged := filepath.Join(dir, "merged.csv")
	res = cli(t, "merge", merged, b, a)
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	assert.Equal(t, "merge: "+merged+": 8 of 8 configurations from 2 files (0 identical repeats dropped, 0 missing)\n", string(res.stderr))
	assert.Equal(t, string(full), string(readFile(t, merged)))

	// A missing shard is an error unless --partial; then sweep fills in.
	partial := filepath.Join(dir, "partial.csv")
	res = cli(t, "merge", partial, a, a)
	assert.Equal(t, 125, res.status)
	assert.Equal(t, "probesim: merge: 4 of the 8 configurations of the sweep of "+a+" are in no file (indexes 1, 3, 5, 7): is a shard missing? --partial writes the rows there are\n", string(res.stderr))
	assert.NoFileExists(t, partial)
	res = cli(t, "merge", "--partial", partial, a, a)
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	assert.Equal(t, "merge: "+partial+": 4 of 8 configurations from 2 files (4 identical repeats dropped, 4 missing)\n", string(res.stderr))
	res = cli(t, "sweep", cfg, "--out", partial)
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	assert.Equal(t, "sweep: "+partial+": 8 configurations: 4 run, 4 kept, 0 failed\n", string(res.stderr))
	assert.Equal(t, string(full), string(readFile(t, partial)))

	// Conflicting rows for one configuration are refused.
	rows, err := sweep.ReadFile(a)
	require.NoError(t, err)
	rows[0].Cycles++
	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, sweep.WriteFile(bad, rows[:1]))
	res = cli(t, "merge", filepath.Join(dir, "m2.csv"), a, bad)
	assert.Equal(t, 125, res.status)
	assert.Equal(t, fmt.Sprintf("probesim: merge: %s: row 1 (%s) conflicts with %s: cycles %d vs %d\n", bad, rows[0].Key(), a, rows[0].Cycles-1, rows[0].Cycles), string(res.stderr))

	// A shard file is not a resumable file of another shard.
	res = cli(t, "sweep", cfg, "--out", a, "--shard", "2/2")
	assert.Equal(t, 125, res.status)
	assert.Equal(t, "probesim: --out "+a+`: row 1: cpus=1 strategy=inline seed=1: configuration 0, not in shard 2/2; to start afresh, move the file away`+"\n", string(res.stderr))

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"merge", filepath.Join(dir, "m.txt"), a}, "probesim: merge: OUT: " + filepath.Join(dir, "m.txt") + ": want a .csv or .json file\n"},
		{[]string{"merge", filepath.Join(dir, "m.csv"), filepath.Join(dir, "none.csv")}, "probesim: merge: open " + filepath.Join(dir, "none.csv") + ": no such file or directory\n"},
		{[]string{"merge", filepath.Join(dir, "m.csv")}, "probesim: merge: missing SHARD_FILE (see 'probesim merge --help')\n"},
	} {
		res := cli(t, tc.args...)
		assert.Equal(t, 125, res.status, "%q", tc.args)
		assert.Equal(t, tc.want, string(res.stderr), "%q", tc.args)
	}
}

// TestSweepUsageErrors: bad configs and flags end with one line naming
// the file, key and value, and status 125, before anything runs.
func TestSweepUsageErrors(t *testing.T) {
	dir := t.TempDir()
	prog := fixturePath(t, fixtures.ArchAMD64, "threads")
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	head := "program: " + prog + "\nprobes: [probed]\n"
	cpus := write("cpus.yaml", head+"cpus: [1, 0]\nstrategies: [inline]\nseeds: [1]\n")
	key := write("key.yaml", head+"cpus: [1]\nstrategy: [inline]\nseeds: [1]\n")
	strat := write("strat.yaml", head+"cpus: [1]\nstrategies: [inline, uretprobe]\nseeds: [1]\n")
	seeds := write("seeds.yaml", head+"cpus: [1]\nstrategies: [inline]\nseeds: {from: 5, to: 1}\n")
	probe := write("probe.yaml", "program: "+prog+"\nprobes: [nosuch]\ncpus: [1]\nstrategies: [inline]\nseeds: [1]\n")
	noProg := write("prog.yaml", "program: nothere\nprobes: [f]\ncpus: [1]\nstrategies: [inline]\nseeds: [1]\n")
	ok := write("ok.yaml", head+"cpus: [1]\nstrategies: [inline]\nseeds: [1]\n")
	none := filepath.Join(dir, "none.yaml")
	out := filepath.Join(dir, "out.csv")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{cpus}, cpus + ":3: cpus: 0 is not a vCPU count (1..64)"},
		{[]string{key}, key + `:4: unknown key "strategy" (did you mean "strategies"?)`},
		{[]string{strat}, strat + ":4: strategies: uretprobe is not a strategy (inline, ssol-stack, xol, ssol-stack-2005, ssol-stack-2006)"},
		{[]string{seeds}, seeds + ":5: seeds: from 5 is greater than to 1"},
		{[]string{probe}, probe + `:2: probes: probe "nosuch": no symbol "nosuch" in ` + prog},
		{[]string{noProg}, noProg + ":1: program: " + filepath.Join(dir, "nothere") + ": no such file (relative paths start at the config's directory)"},
		{[]string{none}, none + ": no such file or directory"},
		{[]string{ok, "--shard", "0/2"}, `invalid argument for --shard: "0/2": want 1 <= I <= N (shards are numbered from 1)`},
		{[]string{ok, "--jobs", "0"}, "invalid argument 0 for --jobs: want at least 1"},
		{[]string{ok, "--jobs", "many"}, `sweep: invalid argument "many" for --jobs: want an integer (see 'probesim sweep --help')`},
		{[]string{ok, "extra.yaml"}, "sweep: want CONFIG.yaml, got 2 arguments: " + ok + " extra.yaml (see 'probesim sweep --help')"},
	} {
		res := cli(t, append([]string{"sweep"}, append(tc.args, "--out", out)...)...)
		assert.Equal(t, 125, res.status, "%q", tc.args)
		assert.Equal(t, "probesim: "+tc.want+"\n", string(res.stderr), "%q", tc.args)
		assert.NoFileExists(t, out, "nothing written before the config is checked")
	}
	res := cli(t, "sweep", ok, "--out", filepath.Join(dir, "out.txt"))
	assert.Equal(t, 125, res.status)
	assert.Equal(t, "probesim: --out: "+filepath.Join(dir, "out.txt")+": want a .csv or .json file\n", string(res.stderr))
	res = cli(t, "sweep", ok)
	assert.Equal(t, 125, res.status)
	assert.Equal(t, "probesim: sweep: --out is required (see 'probesim sweep --help')\n", string(res.stderr))
	notRows := write("notrows.csv", "a,b\n1,2\n")
	res = cli(t, "sweep", ok, "--out", notRows)
	assert.Equal(t, 125, res.status)
	assert.Equal(t, "probesim: --out "+notRows+": header is not probesim's sweep header (index,configs,sweep,program,...); to start afresh, move the file away\n", string(res.stderr))
	assert.Equal(t, "a,b\n1,2\n", string(readFile(t, notRows)), "left alone")
}

// TestSweepRecordsFailingPrograms: a program that runs out of its cycle
// budget gets its row, and the sweep exits 1 saying so.
func TestSweepRecordsFailingPrograms(t *testing.T) {
	out := filepath.Join(t.TempDir(), "f.csv")
	res := cli(t, "sweep", sweepConfig(t, "max_cycles: 100_000\n"), "--out", out)
	assert.Equal(t, 1, res.status)
	assert.Equal(t, "sweep: "+out+": 8 configurations: 8 run, 0 kept, 8 failed\n"+
		"probesim: sweep: 8 of 8 configurations did not exit 0 (first: cpus=1 strategy=inline seed=1: cycle_budget, status 152); their rows are recorded\n",
		string(res.stderr))
	rows, err := sweep.ReadFile(out)
	require.NoError(t, err)
	require.Len(t, rows, 8)
	for _, r := range rows {
		assert.Equal(t, "cycle_budget", r.StopReason)
		assert.Equal(t, uint64(100_000), r.MaxCycles)
	}
}

// TestSweepInterruptedKeepsRows: SIGTERM lets the run in flight finish,
// saves the finished rows and exits 143; the rows are then kept by the
// next sweep.
func TestSweepInterruptedKeepsRows(t *testing.T) {
	dir := t.TempDir()
	prog := fixturePath(t, fixtures.ArchAMD64, "threads")
	long := filepath.Join(dir, "long.yaml")
	require.NoError(t, os.WriteFile(long, []byte("program: "+prog+
		"\nargs: [4, 50]\nprobes: [probed]\ncpus: 2\nstrategies: inline\nseeds: {from: 1, to: 1000}\n"), 0o644))
	out := filepath.Join(dir, "long.csv")

	slots <- struct{}{}
	cmd := exec.Command(probesimBin, "sweep", long, "--out", out, "--jobs", "1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	// Wait for the first checkpoint with rows in it.
	deadline := time.Now().Add(runTimeout)
	for {
		rows, err := sweep.ReadFile(out)
		if err == nil && len(rows) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no rows saved within %s", runTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	err := cmd.Wait()
	<-slots
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 143, ee.ExitCode(), "stderr: %s", stderr.String())

	rows, err := sweep.ReadFile(out)
	require.NoError(t, err)
	n := len(rows)
	require.Less(t, n, 1000)
	for i, r := range rows {
		require.Equal(t, i, r.Index, "one job: the rows done are the first ones")
	}
	assert.Equal(t, "\nsweep: SIGTERM: letting the runs in flight finish (signal again to drop them)\n"+
		fmt.Sprintf("probesim: sweep: interrupted by SIGTERM: saved %d of 1000 rows to %s; run the same command again to resume\n", n, out),
		stderr.String())

	// Resume with the seeds cut to two more than were done: the rows are
	// matched by key and only two configurations run.
	short := filepath.Join(dir, "short.yaml")
	require.NoError(t, os.WriteFile(short, []byte("program: "+prog+
		fmt.Sprintf("\nargs: [4, 50]\nprobes: [probed]\ncpus: 2\nstrategies: inline\nseeds: {from: 1, to: %d}\n", n+2)), 0o644))
	res := cli(t, "sweep", short, "--out", out)
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	assert.Equal(t, fmt.Sprintf("sweep: %s: %d configurations: 2 run, %d kept, 0 failed\n", out, n+2, n), string(res.stderr))
	again, err := sweep.ReadFile(out)
	require.NoError(t, err)
	require.Len(t, again, n+2)
	for i := range rows {
		rows[i].Configs, rows[i].Sweep = n+2, again[i].Sweep
		assert.Equal(t, rows[i], again[i])
	}
}
