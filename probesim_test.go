package probesim_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
)

const threads = "fixtures/bin/x86_64/threads"

func TestConfigErrorsNameTheField(t *testing.T) {
	cases := []struct {
		cfg   probesim.Config
		field string
		msg   string
	}{
		{probesim.Config{Program: threads, CPUs: 65}, "cpus", "cpus: 65: want 1 to 64"},
		{probesim.Config{Program: threads, CPUs: -1}, "cpus", "cpus: -1: want 1 to 64"},
		{probesim.Config{Program: threads, Strategy: "emulate"}, "strategy", `strategy: unknown strategy "emulate" (have: inline, ssol-stack, xol, ssol-stack-2005, ssol-stack-2006)`},
		{probesim.Config{Program: threads, Params: []string{"kernel.nope=1"}}, "param", `param: "kernel.nope=1": `},
		{probesim.Config{Program: threads, Probes: []string{"probed", "main+1"}}, "probe", `probe: probe "main+1": `},
	}
	for _, c := range cases {
		_, err := probesim.Run(c.cfg)
		var ce *probesim.ConfigError
		require.ErrorAs(t, err, &ce, "%+v", c.cfg)
		assert.Equal(t, c.field, ce.Field)
		assert.Contains(t, err.Error(), c.msg)
		assert.NotContains(t, err.Error(), "\n", "one line")
	}
}

func TestProgramErrors(t *testing.T) {
	_, err := probesim.Run(probesim.Config{Program: "fixtures/bin/x86_64/no-such-program"})
	assert.ErrorIs(t, err, fs.ErrNotExist)

	notELF := filepath.Join(t.TempDir(), "script")
	require.NoError(t, os.WriteFile(notELF, []byte("#!/bin/sh\necho hi\n"), 0o755))
	_, err = probesim.Run(probesim.Config{Program: notELF})
	assert.ErrorIs(t, err, probesim.ErrCannotRun)
}

func TestSimulationRunsOnce(t *testing.T) {
	s, err := probesim.New(probesim.Config{Program: "fixtures/bin/x86_64/exit42"})
	require.NoError(t, err)
	defer s.Close()
	assert.Nil(t, s.Engine(), "no probes, no engine")
	assert.Equal(t, 1, s.Machine().CPUs())
	res, err := s.Run()
	require.NoError(t, err)
	assert.Equal(t, 42, res.Report.ExitStatus)
	assert.Empty(t, res.Events)
	_, err = s.Run()
	assert.EqualError(t, err, "probesim: a Simulation runs once")
}

// The library's result is a pure function of the Config: two runs give the
// same report (outside host) and the same event log, and guest output both
// reaches Stdout and is captured in the report.
func TestRunIsDeterministic(t *testing.T) {
	run := func() (*probesim.Result, string) {
		var out bytes.Buffer
		res, err := probesim.Run(probesim.Config{
			Program: threads, Args: []string{"4", "60"}, CPUs: 4, Seed: 3,
			Probes: []string{"probed"}, Strategy: probesim.Inline, Stdout: &out,
		})
		require.NoError(t, err)
		res.Report.Host = nil
		return res, out.String()
	}
	a, outA := run()
	b, outB := run()
	assert.Equal(t, a.Report, b.Report)
	assert.Equal(t, a.Events, b.Events)
	assert.Equal(t, outA, outB)
	assert.Equal(t, outA, a.Report.Stdout)
	assert.Contains(t, outA, "calls=240\n")
	p := a.Report.Probes[0]
	assert.Equal(t, uint64(240), p.Executions)
	assert.Equal(t, p.Executions, p.Hits+p.Misses)
	assert.Equal(t, "inline", a.Report.Strategy)
	assert.Nil(t, a.Report.OutOfLine, "inline has no out-of-line counts")
}

// Params override a copy of the profile: the caller's profile is unchanged
// and the report records the override.
func TestParamsOverrideACopy(t *testing.T) {
	exact := "kernel_jitter_percent=0"
	res, err := probesim.Run(probesim.Config{Program: "fixtures/bin/x86_64/exit42",
		Params: []string{exact, "kernel.syscall_entry_exit=1000"}})
	require.NoError(t, err)
	base, err := probesim.Run(probesim.Config{Program: "fixtures/bin/x86_64/exit42", Params: []string{exact}})
	require.NoError(t, err)
	assert.Equal(t, []string{exact, "kernel.syscall_entry_exit=1000"}, res.Report.ProfileOverrides)
	// exit42 makes one syscall: 1000 - 275 cycles more.
	assert.Equal(t, base.Report.Cycles+725, res.Report.Cycles)
}

// A Simulation closed without running releases everything cleanly.
func TestCloseWithoutRun(t *testing.T) {
	s, err := probesim.New(probesim.Config{Program: threads, Probes: []string{"probed"}})
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

// Seeds explore interleavings: the kernel cost jitter drawn from the seed
// keeps threads from phase-locking, so the inline miss count of the same
// workload differs between seeds, while each seed reproduces exactly.
func TestSeedsExploreInterleavings(t *testing.T) {
	misses := map[uint64]bool{}
	for seed := uint64(1); seed <= 4; seed++ {
		run := func() uint64 {
			res, err := probesim.Run(probesim.Config{Program: threads, Args: []string{"8", "200", "5000"},
				CPUs: 2, Seed: seed, Probes: []string{"probed"}, Strategy: probesim.Inline})
			require.NoError(t, err)
			p := res.Report.Probes[0]
			require.Equal(t, uint64(1600), p.Executions)
			require.Equal(t, p.Executions, p.Hits+p.Misses)
			return p.Misses
		}
		m := run()
		require.Equal(t, m, run(), "seed %d reproduces", seed)
		misses[m] = true
	}
	assert.Greater(t, len(misses), 1, "miss counts over seeds 1-4: %v", misses)
}

// A program given as bytes runs without a file: Program is only the path
// the guest sees.
func TestImageRunsWithoutAFile(t *testing.T) {
	data, err := os.ReadFile("fixtures/bin/x86_64/argsenv")
	require.NoError(t, err)
	res, err := probesim.Run(probesim.Config{Program: "/nowhere/argsenv", Image: data, Args: []string{"x"}})
	require.NoError(t, err)
	assert.Equal(t, 0, res.Report.ExitStatus)
	assert.Contains(t, res.Report.Stdout, "argv[0] basename=argsenv\n")
	assert.Equal(t, "/nowhere/argsenv", res.Report.Maps[0].Name, "the text mapping names the guest path")

	_, err = probesim.Run(probesim.Config{Program: "/nowhere/junk", Image: []byte("not an ELF file")})
	assert.ErrorIs(t, err, probesim.ErrCannotRun)
}
