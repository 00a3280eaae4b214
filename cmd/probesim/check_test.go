package main

// End-to-end tests of `probesim check` on the threaded fixture.

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/sweep"
)

// checkBaseline is a baseline of the test sweep recorded by --update,
// made once; tests edit copies of its rows.
var checkBaseline struct {
	once sync.Once
	cfg  string
	rows []sweep.Row
}

func baselineRows(t *testing.T) (string, []sweep.Row) {
	t.Helper()
	checkBaseline.once.Do(func() {
		// In workDir: the config outlives the test that makes it.
		dir, err := os.MkdirTemp(workDir, "check-")
		require.NoError(t, err)
		cfg := sweepConfigIn(t, dir, "")
		base := filepath.Join(dir, "base.csv")
		res := cli(t, "check", cfg, "--baseline", base, "--update")
		require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
		require.Equal(t, "check: recorded "+base+": 8 configurations\n", string(res.stdout))
		require.Empty(t, res.stderr)
		// The baseline is a sweep results file: the sweep's own bytes.
		require.Equal(t, string(fullSweep(t)), string(readFile(t, base)))
		rows, err := sweep.ReadFile(base)
		require.NoError(t, err)
		checkBaseline.cfg, checkBaseline.rows = cfg, rows
	})
	require.Len(t, checkBaseline.rows, 8)
	return checkBaseline.cfg, append([]sweep.Row(nil), checkBaseline.rows...)
}

// writeBaseline writes rows edited by edit as a baseline file.
func writeBaseline(t *testing.T, name string, rows []sweep.Row, edit func(r *sweep.Row)) string {
	t.Helper()
	for i := range rows {
		edit(&rows[i])
		rows[i].SetRates() // an edited baseline is still a consistent one
	}
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, sweep.WriteFile(path, rows))
	return path
}

const tolerancesLine = "tolerances: exact)"

func TestCheckPassesAgainstAFreshBaseline(t *testing.T) {
	cfg, rows := baselineRows(t)
	base := writeBaseline(t, "base.json", rows, func(*sweep.Row) {})
	res := cli(t, "check", cfg, "--baseline", base, "--jobs", "2")
	assert.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	assert.Equal(t, "check: ok: 0 of 8 configurations regressed, 0 improved, 0 moved within tolerance (baseline "+base+"; "+tolerancesLine+"\n",
		string(res.stdout))
	assert.Empty(t, res.stderr)
}

// TestCheckFailsOnFewerMissesInTheBaseline: a baseline edited to record
// fewer misses (and as many more hits) than the code gives now fails, with
// a table naming the configurations.
func TestCheckFailsOnFewerMissesInTheBaseline(t *testing.T) {
	cfg, rows := baselineRows(t)
	var edited []string
	base := writeBaseline(t, "base.csv", rows, func(r *sweep.Row) {
		if r.Strategy == "inline" && r.CPUs == 2 {
			require.Greater(t, r.Misses, uint64(40))
			r.Misses -= 40
			r.Hits += 40
			edited = append(edited, r.Key())
		}
	})
	require.Len(t, edited, 2)
	res := cli(t, "check", cfg, "--baseline", base)
	assert.Equal(t, 1, res.status)
	assert.Equal(t, "probesim: check: 2 configurations regressed against "+base+"\n", string(res.stderr))
	out := string(res.stdout)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.GreaterOrEqual(t, len(lines), 4, out)
	assert.Regexp(t, `^CONFIGURATION +METRIC +BASELINE +CURRENT +CHANGE +TOLERANCE +VERDICT$`, lines[0])
	_, measured := baselineRows(t)
	cur := measured[2] // cpus=2 strategy=inline seed=1, as measured
	require.Equal(t, 2, cur.CPUs)
	require.Equal(t, "inline", cur.Strategy)
	require.Equal(t, uint64(1), cur.Seed)
	assert.Contains(t, out, "\ncpus=2 strategy=inline seed=1  ")
	assert.Contains(t, out, "\ncpus=2 strategy=inline seed=2  ")
	assert.Regexp(t, `\ncpus=2 strategy=inline seed=1 +miss_rate +0\.\d{4} +0\.\d{4} +\+0\.\d{4} +exact +REGRESSED\n`, out)
	assert.Regexp(t, `\ncpus=2 strategy=inline seed=1 +hits +`+itoa(cur.Hits+40)+` +`+itoa(cur.Hits)+` +-40 \(-\d+\.\d%\) +exact +REGRESSED\n`, out)
	assert.NotContains(t, out, "ssol-stack", "nothing else moved")
	assert.NotContains(t, out, "cpus=1")
	assert.True(t, strings.HasSuffix(out, "check: FAIL: 2 of 8 configurations regressed, 0 improved, 0 moved within tolerance (baseline "+base+"; "+tolerancesLine+"\n"), out)

	// --update records what the code gives now, after showing what moved.
	res = cli(t, "check", cfg, "--baseline", base, "--update")
	assert.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	assert.Contains(t, string(res.stdout), "REGRESSED")
	assert.NotContains(t, string(res.stdout), "FAIL", "an update is no failure")
	assert.Contains(t, string(res.stdout), "\ncheck: --update: against the baseline it replaces, 2 of 8 configurations regressed, 0 improved, 0 moved within tolerance (tolerances: ")
	assert.True(t, strings.HasSuffix(string(res.stdout), "check: recorded "+base+": 8 configurations\n"))
	assert.Equal(t, string(fullSweep(t)), string(readFile(t, base)))
}

// TestCheckNewMissesFailWhateverTheTolerance: misses where the baseline
// had none fail even with tolerances that allow anything else.
func TestCheckNewMissesFailWhateverTheTolerance(t *testing.T) {
	cfg, rows := baselineRows(t)
	base := writeBaseline(t, "base.csv", rows, func(r *sweep.Row) {
		r.Hits += r.Misses
		r.Misses = 0
	})
	res := cli(t, "check", cfg, "--baseline", base,
		"--miss-rate-tol", "1", "--misses-tol", "1000%", "--hits-tol", "1000", "--cycles-tol", "1000%")
	assert.Equal(t, 1, res.status)
	out := string(res.stdout)
	assert.Regexp(t, `\ncpus=2 strategy=inline seed=1 +misses +0 +\d+ +\+\d+ \(new\) +none: baseline had no misses +REGRESSED\n`, out)
	assert.Regexp(t, `\ncpus=2 strategy=inline seed=2 +miss_rate +0\.0000 +0\.\d{4} +\+0\.\d{4} +none: baseline had no misses +REGRESSED\n`, out)
	assert.Contains(t, out, "check: FAIL: 2 of 8 configurations regressed, 0 improved, 0 moved within tolerance")
	assert.Contains(t, out, "tolerances: misses ±1000%, miss_rate ±1, hits ±1000, cycles ±1000%, cycles_per_hit ±1000%; the rest exact)")
}

// TestCheckReportsImprovements: a baseline with more misses than now is
// an improvement, reported without failing.
func TestCheckReportsImprovements(t *testing.T) {
	cfg, rows := baselineRows(t)
	base := writeBaseline(t, "base.csv", rows, func(r *sweep.Row) {
		if r.Strategy == "inline" && r.CPUs == 2 && r.Seed == 1 {
			r.Misses += 20
			r.Hits -= 20
		}
	})
	res := cli(t, "check", cfg, "--baseline", base)
	assert.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	out := string(res.stdout)
	assert.Regexp(t, `\ncpus=2 strategy=inline seed=1 +miss_rate .* improved\n`, out)
	assert.NotContains(t, out, "REGRESSED")
	assert.Contains(t, out, "check: ok: 0 of 8 configurations regressed, 1 improved, 0 moved within tolerance")
	assert.Contains(t, out, "; improvements mean the baseline is out of date: --update records them)")
}

// TestCheckIsExact: a baseline one cycle off fails, in whichever row;
// a tolerance lets exactly that through.
func TestCheckIsExact(t *testing.T) {
	cfg, rows := baselineRows(t)
	base := writeBaseline(t, "base.csv", rows, func(r *sweep.Row) {
		if r.Index == 5 {
			r.Cycles-- // the code now takes one cycle more
		}
	})
	res := cli(t, "check", cfg, "--baseline", base)
	assert.Equal(t, 1, res.status, "stdout: %s", res.stdout)
	out := string(res.stdout)
	assert.Regexp(t, `\ncpus=1 strategy=ssol-stack seed=2 +cycles +\d+ +\d+ +\+1 \(\+0\.0%\) +exact +REGRESSED\n`, out)
	assert.Contains(t, out, "check: FAIL: 1 of 8 configurations regressed")

	for _, tol := range [][]string{{"--cycles-tol", "1"}, {"--tol", "cycles=0.01%"}} {
		res = cli(t, append([]string{"check", cfg, "--baseline", base}, tol...)...)
		assert.Equal(t, 0, res.status, "%q: stdout: %s", tol, res.stdout)
		assert.Regexp(t, `\ncpus=1 strategy=ssol-stack seed=2 +cycles .* +ok\n`, string(res.stdout))
		assert.Contains(t, string(res.stdout), "check: ok: 0 of 8 configurations regressed, 0 improved, 1 moved within tolerance")
	}
}

func TestCheckUsageErrors(t *testing.T) {
	cfg, rows := baselineRows(t)
	dir := t.TempDir()
	base := writeBaseline(t, "base.csv", rows, func(*sweep.Row) {})
	missing := filepath.Join(dir, "none.csv")
	other := sweepConfig(t, "seeds: [1, 2, 3]\n")
	require.NoError(t, os.WriteFile(other, []byte(strings.Replace(string(readFile(t, other)), "seeds: [1, 2]\n", "", 1)), 0o644))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{cfg, "--baseline", missing}, "--baseline " + missing + ": no such file; record one with --update"},
		{[]string{other, "--baseline", base}, "--baseline " + base + ": has 8 of the 12 configurations of " + other +
			`; missing cpus=1 strategy=inline seed=3; rerun with --update to record a new baseline`},
		{[]string{cfg, "--baseline", filepath.Join(dir, "b.txt")}, "--baseline: " + filepath.Join(dir, "b.txt") + ": want a .csv or .json file"},
		{[]string{cfg, "--baseline", base, "--cycles-tol", "lots"}, `invalid argument "lots" for --cycles-tol: want a percentage of the baseline such as 5% or an absolute amount such as 100 or 0.01`},
		{[]string{cfg, "--baseline", base, "--miss-rate-tol", "5 %"}, `invalid argument "5 %" for --miss-rate-tol: want a percentage of the baseline such as 5% or an absolute amount such as 100 or 0.01`},
		{[]string{cfg, "--baseline", base, "--tol", "cycles"}, `invalid argument "cycles" for --tol: want METRIC=TOL, such as cycles=1% or misses=2`},
		{[]string{cfg, "--baseline", base, "--tol", "exit=1"}, `invalid argument "exit=1" for --tol: "exit" takes no tolerance: want one of ` + strings.Join(sweep.MetricNames(), ", ")},
		{[]string{cfg}, `check: --baseline is required (see 'probesim check --help')`},
	} {
		res := cli(t, append([]string{"check"}, tc.args...)...)
		assert.Equal(t, 125, res.status, "%q", tc.args)
		assert.Equal(t, "probesim: "+tc.want+"\n", string(res.stderr), "%q", tc.args)
		assert.Empty(t, res.stdout, "%q", tc.args)
	}
	assert.NoFileExists(t, missing)
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }
