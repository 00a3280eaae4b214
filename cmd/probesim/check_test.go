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

const tolerancesLine = "tolerances: miss rate ±0.01, misses ±10%, hits ±10%, cycles ±5%)"

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
			edited = append(edited, r.Key)
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
	require.Equal(t, "cpus=2 strategy=inline seed=1 quantum=10000 profile=skylake", cur.Key)
	assert.Contains(t, out, "\ncpus=2 strategy=inline seed=1  ")
	assert.Contains(t, out, "\ncpus=2 strategy=inline seed=2  ")
	assert.Regexp(t, `\ncpus=2 strategy=inline seed=1 +miss_rate +0\.\d{4} +0\.\d{4} +\+0\.\d{4} +±0\.0100 +REGRESSED\n`, out)
	assert.Regexp(t, `\ncpus=2 strategy=inline seed=1 +hits +`+itoa(cur.Hits+40)+` +`+itoa(cur.Hits)+` +-40 \(-\d+\.\d%\) +±10% +REGRESSED\n`, out)
	assert.NotContains(t, out, "ssol-stack", "nothing else moved")
	assert.NotContains(t, out, "cpus=1")
	assert.True(t, strings.HasSuffix(out, "check: FAIL: 2 of 8 configurations regressed, 0 improved, 0 moved within tolerance (baseline "+base+"; "+tolerancesLine+"\n"), out)

	// --update records what the code gives now, after showing what moved.
	res = cli(t, "check", cfg, "--baseline", base, "--update")
	assert.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	assert.Contains(t, string(res.stdout), "REGRESSED")
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
	assert.Contains(t, out, "tolerances: miss rate ±1, misses ±1000%, hits ±1000%, cycles ±1000%)")
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
			`; missing "cpus=1 strategy=inline seed=3 quantum=10000 profile=skylake"; rerun with --update to record a new baseline`},
		{[]string{cfg, "--baseline", filepath.Join(dir, "b.txt")}, "--baseline: " + filepath.Join(dir, "b.txt") + ": want a .csv or .json file"},
		{[]string{cfg, "--baseline", base, "--cycles-tol", "lots"}, `invalid argument "lots" for --cycles-tol: want a percentage such as 5% or 0.5`},
		{[]string{cfg, "--baseline", base, "--miss-rate-tol", "2"}, "invalid argument 2 for --miss-rate-tol: want a rate from 0 to 1, such as 0.01"},
		{[]string{cfg}, `required flag(s) "baseline" not set`},
	} {
		res := cli(t, append([]string{"check"}, tc.args...)...)
		assert.Equal(t, 125, res.status, "%q", tc.args)
		assert.Equal(t, "probesim: "+tc.want+"\n", string(res.stderr), "%q", tc.args)
		assert.Empty(t, res.stdout, "%q", tc.args)
	}
	assert.NoFileExists(t, missing)
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }
