package smp_test

import (
	"math"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/report"
	"github.com/probesim/probesim/smp"
)

// hangTimeout is the watchdog of runBounded: every run there takes well
// under a second, so reaching it means the scheduler spins.
const hangTimeout = 2 * time.Minute

// runBounded is runGuest under a watchdog: a run that does not end fails
// the test instead of hanging it (the machine is left running; the test
// binary exits with the failure).
func runBounded(t *testing.T, cfg smp.Config) *report.Run {
	t.Helper()
	done := make(chan *report.Run, 1)
	go func() {
		m, err := smp.New(cfg)
		if err != nil {
			t.Error(err)
			done <- nil
			return
		}
		defer m.Close()
		r, err := m.Run()
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	select {
	case r := <-done:
		require.NotNil(t, r)
		return r
	case <-time.After(hangTimeout):
		t.Fatalf("%s %q: no end after %s: the scheduler hangs", cfg.Program, cfg.Args, hangTimeout)
		return nil
	}
}

// Quanta and budgets up to 2^64-1 saturate instead of wrapping: a quantum
// that overflowed the fixed-point clock stopped every slice before its
// first instruction (a hang at 100% CPU, which --max-cycles could not end),
// and in lockstep it ended exit42 with a segfault at the boot stub.
func TestExtremeQuantaAndBudgets(t *testing.T) {
	threads := fixture(t, fixtures.ArchAMD64, "threads")
	exit42 := fixture(t, fixtures.ArchAMD64, "exit42")
	for _, q := range []uint64{1 << 56, math.MaxUint64 >> 1, math.MaxUint64} {
		r := runBounded(t, smp.Config{Program: threads, Args: []string{"2", "5"}, CPUs: 2, Quantum: q, MaxCycles: 1_000_000})
		assert.Contains(t, []string{"exit", "cycle_budget"}, r.StopReason, "quantum %d", q)
		assert.Equal(t, q, r.Quantum, "the report keeps the quantum as given")
		r = runBounded(t, smp.Config{Program: threads, Args: []string{"2", "5"}, CPUs: 2, Quantum: q})
		assert.Equal(t, "exit", r.StopReason, "quantum %d", q)
		assert.Equal(t, 0, r.ExitStatus)
		for _, lockstep := range []bool{false, true} {
			r = runBounded(t, smp.Config{Program: exit42, Quantum: q, Lockstep: lockstep})
			assert.Equal(t, "exit", r.StopReason, "quantum %d, lockstep %v", q, lockstep)
			assert.Equal(t, 42, r.ExitStatus)
			assert.Nil(t, r.Fault)
		}
	}
	// A budget past the clock's fixed-point range is no budget, not one
	// that wrapped to almost nothing.
	for _, budget := range []uint64{1 << 56, 1 << 63, math.MaxUint64} {
		r := runBounded(t, smp.Config{Program: exit42, MaxCycles: budget})
		assert.Equal(t, "exit", r.StopReason, "max cycles %d", budget)
		assert.Equal(t, 42, r.ExitStatus)
		assert.Equal(t, budget, r.Limits.MaxCycles)
	}
}

// Timeouts too large for the clock saturate as Linux's timespec64_to_ktime
// does: a sleep of 2^62 s never ends (alone, the thread deadlocks the
// machine), and a semaphore wait with such a deadline ends by the post.
// Before, the nanoseconds wrapped and both ended at once.
func TestFarTimeouts(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "farwait")
	out, err := exec.Command("gcc", "-static", "-O2", "-pthread", "-o", bin, "testdata/farwait.c").CombinedOutput()
	require.NoError(t, err, "%s", out)
	const far = "4611686018427387904" // 2^62 seconds
	want, _, status, err := fixtures.RunNative(bin, []string{"wait", far}, nil, nil)
	require.NoError(t, err)
	require.Equal(t, 0, status)
	require.Equal(t, "posted\n", string(want))
	for _, cpus := range []int{1, 2} {
		r := runBounded(t, smp.Config{Program: bin, Args: []string{"wait", far}, CPUs: cpus})
		assert.Equal(t, string(want), r.Stdout, "%d vCPUs", cpus)
		r = runBounded(t, smp.Config{Program: bin, Args: []string{"sleep", far}, CPUs: cpus})
		assert.Equal(t, "deadlock", r.StopReason, "%d vCPUs", cpus)
		assert.Empty(t, r.Stdout)
	}
	// One that fits still sleeps its time.
	r := runBounded(t, smp.Config{Program: bin, Args: []string{"sleep", "1"}})
	assert.Equal(t, "woke\n", r.Stdout)
	assert.GreaterOrEqual(t, r.Cycles, uint64(3_000_000_000))
}
