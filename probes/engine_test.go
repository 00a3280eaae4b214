package probes

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/smp"
)

// runProbed runs the threads fixture with an inline probe on probed().
func runProbed(t *testing.T, arch string, cpus int, seed uint64, args []string) (string, Result) {
	out, res, _ := runStrategy(t, arch, cpus, seed, args, Inline)
	return out, res
}

// runStrategy runs the threads fixture with a probe on probed().
func runStrategy(t *testing.T, arch string, cpus int, seed uint64, args []string, s Strategy) (string, Result, Stats) {
	t.Helper()
	prog, err := fixtures.Path(arch, "threads")
	require.NoError(t, err)
	m, err := smp.New(smp.Config{Program: prog, Args: args, CPUs: cpus, Seed: seed})
	require.NoError(t, err)
	defer m.Close()
	spec, err := Resolve(m.Image(), "probed")
	require.NoError(t, err)
	handled := uint64(0)
	e, err := Attach(m, []Spec{spec}, s, func(Hit) { handled++ })
	require.NoError(t, err)
	r, err := m.Run()
	require.NoError(t, err)
	require.Equal(t, "exit", r.StopReason, "stderr %q fault %+v", r.Stderr, r.Fault)
	res := e.Results()[0]
	require.Equal(t, handled, res.Hits, "the handler ran once per hit")
	return r.Stdout, res, e.Stats()
}

// TestInlineOneCPU: on one vCPU inline single-stepping sees every call.
func TestInlineOneCPU(t *testing.T) {
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		args := []string{"4", "200"}
		prog, _ := fixtures.Path(arch, "threads")
		want, _, _, err := fixtures.RunNative(prog, args, nil, nil)
		require.NoError(t, err)
		out, res := runProbed(t, arch, 1, 1, args)
		require.Equal(t, string(want), out, "%s: probed output differs from native", arch)
		require.Contains(t, out, "calls=800")
		require.Equal(t, uint64(800), res.Executions, arch)
		require.Equal(t, uint64(800), res.Hits, arch)
		require.Zero(t, res.Misses, arch)
	}
}

// TestInlineSMPMisses: on several vCPUs, other vCPUs run through the probe
// while the original byte is back: misses appear on some seeds, and every
// execution is a hit or a miss.
func TestInlineSMPMisses(t *testing.T) {
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		for _, cpus := range []int{2, 4, 8} {
			t.Run(fmt.Sprintf("%s/%dcpus", arch, cpus), func(t *testing.T) {
				args := []string{"4", "200"}
				var misses uint64
				for seed := uint64(1); seed <= 3; seed++ {
					out, res := runProbed(t, arch, cpus, seed, args)
					require.Contains(t, out, "calls=800")
					require.Equal(t, uint64(800), res.Executions, "executions = the program's own call count")
					require.Equal(t, res.Executions, res.Hits+res.Misses)
					require.Len(t, res.MissList, int(res.Misses))
					misses += res.Misses
				}
				require.NotZero(t, misses, "no misses on seeds 1-3")
			})
		}
	}
}

// TestSSOLStackNoMisses: stepping a copy out of line on the stack, with the
// int3 never removed, sees every call on any number of vCPUs; the stack
// page is made executable for each step and restored.
func TestSSOLStackNoMisses(t *testing.T) {
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		args := []string{"4", "200"}
		prog, _ := fixtures.Path(arch, "threads")
		want, _, _, err := fixtures.RunNative(prog, args, nil, nil)
		require.NoError(t, err)
		for _, cpus := range []int{1, 2, 4, 8} {
			for seed := uint64(1); seed <= 2; seed++ {
				out, res, st := runStrategy(t, arch, cpus, seed, args, SSOLStack)
				require.Equal(t, string(want), out, "%s %d vCPUs: output differs from native", arch, cpus)
				require.Equal(t, uint64(800), res.Executions, "%s %d vCPUs", arch, cpus)
				require.Equal(t, uint64(800), res.Hits, "%s %d vCPUs", arch, cpus)
				require.Zero(t, res.Misses, "%s %d vCPUs", arch, cpus)
				require.Zero(t, st.InlineFallback)
				require.Equal(t, res.Hits, st.NXFlips, "every step flips NX on a stack page")
			}
		}
	}
}

// TestProbesAgreeWithLockstep: hits, misses and executions per vCPU are the
// same in the fast mode and in lockstep.
func TestProbesAgreeWithLockstep(t *testing.T) {
	prog, err := fixtures.Path(fixtures.ArchAMD64, "threads")
	require.NoError(t, err)
	for _, s := range []Strategy{Inline, SSOLStack} {
		var got [2][]CPUCounts
		for i, lockstep := range []bool{false, true} {
			m, err := smp.New(smp.Config{Program: prog, Args: []string{"4", "100"}, CPUs: 4, Seed: 3, Lockstep: lockstep})
			require.NoError(t, err)
			spec, err := Resolve(m.Image(), "probed")
			require.NoError(t, err)
			e, err := Attach(m, []Spec{spec}, s, nil)
			require.NoError(t, err)
			_, err = m.Run()
			require.NoError(t, err)
			got[i] = e.Results()[0].PerCPU
			m.Close()
		}
		require.Equal(t, got[1], got[0], "%s: fast mode and lockstep disagree", s)
	}
}
