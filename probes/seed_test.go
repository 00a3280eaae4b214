package probes

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/report"
	"github.com/probesim/probesim/smp"
)

// seedRun is one run of the threads fixture with a seed strategy.
type seedRun struct {
	out, stop string
	res       Result
	st        Stats
}

func runSeed(t *testing.T, arch string, s Strategy, cpus int, seed uint64, lockstep bool, args ...string) seedRun {
	t.Helper()
	r, e := probeThreads(t, arch, smp.Config{Args: args, CPUs: cpus, Seed: seed, Lockstep: lockstep, MaxCycles: 500_000_000}, s)
	return seedRun{out: r.Stdout, stop: r.StopReason, res: e.Results()[0], st: e.Stats()}
}

// probeThreads runs the threads fixture of arch with cfg (Program set
// here), probed at probed() with s, and returns the report and the engine;
// the machine is closed when the test ends.
func probeThreads(t *testing.T, arch string, cfg smp.Config, s Strategy) (*report.Run, *Engine) {
	t.Helper()
	cfg.Program = fixturePathT(t, arch, "threads")
	m, err := smp.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	spec, err := Resolve(m.Image(), "probed")
	require.NoError(t, err)
	e, err := Attach(m, []Spec{spec}, s, nil)
	require.NoError(t, err)
	r, err := m.Run()
	require.NoError(t, err)
	return r, e
}

// TestSeed2005AsPosted: the 2005 code on the threads fixture (i386, the
// code's own architecture). On one vCPU the output is not the native one,
// and the report says why: thread stacks are mmapped, so the code's
// "grows up" branch copies a page above sp, into live data, or past the
// top of the stack's mapping, where the copy faults and the thread steps
// from inside the instruction. On four vCPUs the global singlestep_addr
// is overwritten by another vCPU's hit before a step's fixup reads it, on
// every seed tried, and each such fixup is reported.
func TestSeed2005AsPosted(t *testing.T) {
	want, _, _, err := fixtures.RunNative(fixturePathT(t, fixtures.ArchI386, "threads"), []string{"4", "200"}, nil, nil)
	require.NoError(t, err)
	one := runSeed(t, fixtures.ArchI386, SSOLStack2005, 1, 1, false, "4", "200")
	d := one.st.SeedDefects
	require.NotEqual(t, string(want), one.out)
	require.NotZero(t, d.LiveStackCopies)
	require.NotZero(t, d.EIPNotMoved)
	require.Contains(t, strings.Join(d.Examples, "\n"), "wrote its copy over live stack at")
	require.Contains(t, strings.Join(d.Examples, "\n"), "eip not moved")
	var races uint64
	for seed := uint64(1); seed <= 3; seed++ {
		r := runSeed(t, fixtures.ArchI386, SSOLStack2005, 4, seed, false, "4", "200")
		races += r.st.SeedDefects.ForeignSinglestepAddr
		if r.st.SeedDefects.ForeignSinglestepAddr > 0 {
			require.Contains(t, strings.Join(r.st.SeedDefects.Examples, "\n"), "singlestep_addr")
		}
	}
	require.NotZero(t, races, "no fixup read another hit's singlestep_addr")
}

// TestSeed2006NeverCorrupts: the repost's global lock makes the stack
// strategy safe on SMP at a price: on 1 to 8 vCPUs every call is a hit and
// the output is the native one, and the cycles the vCPUs spin for the lock
// grow with their number (none on one vCPU). Lockstep agrees.
func TestSeed2006NeverCorrupts(t *testing.T) {
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		want, _, _, err := fixtures.RunNative(fixturePathT(t, arch, "threads"), []string{"8", "100"}, nil, nil)
		require.NoError(t, err)
		var prev uint64
		for _, cpus := range []int{1, 2, 4, 8} {
			t.Run(fmt.Sprintf("%s/%dcpu", arch, cpus), func(t *testing.T) {
				r := runSeed(t, arch, SSOLStack2006, cpus, 1, false, "8", "100")
				require.Equal(t, "exit", r.stop)
				require.Equal(t, string(want), r.out)
				require.Equal(t, uint64(800), r.res.Hits)
				require.Zero(t, r.res.Misses)
				if cpus == 1 {
					require.Zero(t, r.st.LockSpins+r.st.LockSpinCycles, "no one to contend with")
				} else {
					require.Greater(t, r.st.LockSpinCycles, prev, "the lock's cost grows with the vCPUs")
				}
				prev = r.st.LockSpinCycles
				t.Logf("%d vCPUs: %d spins, %d cycles spun", cpus, r.st.LockSpins, r.st.LockSpinCycles)
			})
		}
	}
	fast := runSeed(t, fixtures.ArchAMD64, SSOLStack2006, 4, 2, false, "4", "100")
	lock := runSeed(t, fixtures.ArchAMD64, SSOLStack2006, 4, 2, true, "4", "100")
	require.Equal(t, lock.res.PerCPU, fast.res.PerCPU)
	require.Equal(t, lock.st.LockSpins, fast.st.LockSpins)
}

func fixturePathT(t *testing.T, arch, name string) string {
	t.Helper()
	p, err := fixtures.Path(arch, name)
	require.NoError(t, err)
	return p
}
