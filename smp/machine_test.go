package smp_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/report"
	"github.com/probesim/probesim/smp"
)

var arches = []string{fixtures.ArchAMD64, fixtures.ArchI386}

// runGuest runs a fixture on a machine and returns the report.
func runGuest(t *testing.T, cfg smp.Config) *report.Run {
	t.Helper()
	m, err := smp.New(cfg)
	require.NoError(t, err)
	defer m.Close()
	r, err := m.Run()
	require.NoError(t, err)
	return r
}

func fixture(t *testing.T, arch, name string) string {
	t.Helper()
	p, err := fixtures.Path(arch, name)
	require.NoError(t, err)
	return p
}

// TestThreadsMatchNative: the threaded fixture prints exactly what it prints
// natively on 1, 2, 4 and 8 vCPUs, with more threads than vCPUs too, and
// when there are enough threads every vCPU does work.
func TestThreadsMatchNative(t *testing.T) {
	for _, arch := range arches {
		prog := fixture(t, arch, "threads")
		for _, tc := range []struct{ threads, cpus int }{
			{4, 1}, {4, 2}, {4, 4}, {8, 8}, {8, 2}, {3, 8},
		} {
			t.Run(fmt.Sprintf("%s/%dthreads/%dcpus", arch, tc.threads, tc.cpus), func(t *testing.T) {
				args := []string{fmt.Sprint(tc.threads), "300"}
				want, _, status, err := fixtures.RunNative(prog, args, nil, nil)
				require.NoError(t, err)
				require.Equal(t, 0, status)
				r := runGuest(t, smp.Config{Program: prog, Args: args, CPUs: tc.cpus, Seed: 1})
				require.Equal(t, "exit", r.StopReason, "stderr: %s", r.Stderr)
				require.Equal(t, string(want), r.Stdout)
				require.Equal(t, 0, r.ExitStatus)
				require.Len(t, r.VCPUs, tc.cpus)
				require.Len(t, r.Threads, tc.threads+1) // the workers and main
				var sumInsns uint64
				for _, v := range r.VCPUs {
					sumInsns += v.Instructions
					if tc.threads >= tc.cpus {
						assert.NotZero(t, v.Instructions, "vCPU %d did no work", v.ID)
					}
					assert.LessOrEqual(t, v.IdleCycles, v.Cycles)
				}
				require.Equal(t, r.Instructions, sumInsns)
				for _, th := range r.Threads {
					assert.NotEmpty(t, th.VCPUs, "thread %d never ran", th.TID)
				}
			})
		}
	}
}

// TestSameSeedSameReport: two runs with the same inputs give identical
// reports outside host; another seed gives another interleaving, visible
// in the per-vCPU cycles.
func TestSameSeedSameReport(t *testing.T) {
	for _, arch := range arches {
		prog := fixture(t, arch, "threads")
		enc := func(seed uint64) (string, *report.Run) {
			r := runGuest(t, smp.Config{Program: prog, Args: []string{"4", "200"}, CPUs: 4, Seed: seed})
			r.Host = nil
			var b bytes.Buffer
			require.NoError(t, r.Encode(&b))
			return b.String(), r
		}
		a, ra := enc(7)
		b, _ := enc(7)
		require.Equal(t, a, b, "%s: same seed, different reports", arch)

		differs := false
		for seed := uint64(8); seed < 12 && !differs; seed++ {
			_, rb := enc(seed)
			require.Equal(t, ra.Stdout, rb.Stdout)
			for i := range ra.VCPUs {
				if ra.VCPUs[i].Cycles != rb.VCPUs[i].Cycles || ra.VCPUs[i].Instructions != rb.VCPUs[i].Instructions {
					differs = true
				}
			}
		}
		require.True(t, differs, "%s: seeds 8..11 all gave seed 7's per-vCPU figures", arch)
	}
}

// TestQuantumBoundsRunAhead: with a small quantum the run still gives the
// native output, and the report records the quantum and vCPU count.
func TestQuantumAndReportFields(t *testing.T) {
	prog := fixture(t, fixtures.ArchAMD64, "threads")
	r := runGuest(t, smp.Config{Program: prog, Args: []string{"2", "100"}, CPUs: 2, Quantum: 500, Seed: 3})
	require.Equal(t, 0, r.ExitStatus)
	require.Equal(t, 2, r.CPUs)
	require.Equal(t, uint64(500), r.Quantum)
	require.Contains(t, r.Stdout, "calls=200")
	require.Contains(t, r.Syscalls, "clone3")
	require.Contains(t, r.Syscalls, "futex")
	js, err := json.Marshal(r)
	require.NoError(t, err)
	require.True(t, strings.Contains(string(js), `"idle_cycles"`))
}

func TestBadCPUCount(t *testing.T) {
	prog := fixture(t, fixtures.ArchAMD64, "exit42")
	for _, n := range []int{-1, smp.MaxCPUs + 1} {
		_, err := smp.New(smp.Config{Program: prog, CPUs: n})
		require.ErrorContains(t, err, "vCPUs")
	}
}

// TestLockstepOracle: on race-free fixtures, the fast mode gives exactly the
// per-vCPU instruction counts and cycles of the lockstep reference mode.
//
// Known gaps, left for the SMP issue: watched addresses are not yet
// reliable in lockstep mode (Unicorn 2.0.1 ends some runs at instructions
// nobody stopped at once code hooks are in the translation), so this test
// does not compare watched-event order; and the multi-threaded "parallel"
// fixture still differs by a few instructions between the modes (a race
// inside glibc's thread start/exit path that a quantum exposes).
func TestLockstepOracle(t *testing.T) {
	guests := []struct {
		name string
		args []string
	}{{"stdio", nil}, {"qsort", nil}, {"malloc", nil}, {"loop", []string{"1000"}}}
	for _, arch := range arches {
		for _, g := range guests {
			t.Run(arch+"/"+g.name, func(t *testing.T) {
				prog := fixture(t, arch, g.name)
				run := func(lockstep bool) *report.Run {
					return runGuest(t, smp.Config{Program: prog, Args: g.args, CPUs: 2, Seed: 5, Lockstep: lockstep})
				}
				fast, slow := run(false), run(true)
				require.Equal(t, "exit", slow.StopReason)
				require.Equal(t, slow.Stdout, fast.Stdout)
				require.True(t, slow.Lockstep)
				for i := range slow.VCPUs {
					require.Equal(t, slow.VCPUs[i].Instructions, fast.VCPUs[i].Instructions, "vCPU %d instructions", i)
					require.Equal(t, slow.VCPUs[i].Cycles, fast.VCPUs[i].Cycles, "vCPU %d cycles", i)
				}
			})
		}
	}
}

// TestWatchCountsCalls: a watched function entry is executed exactly as
// many times as the program says it called it, on any number of vCPUs.
func TestWatchCountsCalls(t *testing.T) {
	for _, arch := range arches {
		for _, cpus := range []int{1, 4} {
			prog := fixture(t, arch, "threads")
			m, err := smp.New(smp.Config{Program: prog, Args: []string{"4", "250"}, CPUs: cpus, Seed: 2})
			require.NoError(t, err)
			sym, ok := m.Image().Lookup("probed")
			require.True(t, ok)
			require.NoError(t, m.Watch(sym.Value, nil))
			r, err := m.Run()
			require.NoError(t, err)
			require.Contains(t, r.Stdout, "calls=1000")
			require.Len(t, m.WatchEvents(), 1000, "%s on %d vCPUs", arch, cpus)
			perThread := map[int]int{}
			for _, e := range m.WatchEvents() {
				perThread[e.TID]++
			}
			require.Len(t, perThread, 4)
			for tid, n := range perThread {
				require.Equal(t, 250, n, "thread %d", tid)
			}
			m.Close()
		}
	}
}

// TestTLBShootdowns: page-table changes charge a shootdown to the vCPU that
// makes them and an IPI to every other vCPU running the process; alone, a
// vCPU only flushes locally.
func TestTLBShootdowns(t *testing.T) {
	prog := fixture(t, fixtures.ArchAMD64, "threads")
	one := runGuest(t, smp.Config{Program: prog, Args: []string{"4", "100"}, CPUs: 1, Seed: 1})
	require.NotZero(t, one.VCPUs[0].TLBShootdowns)
	require.Zero(t, one.VCPUs[0].IPIsReceived)

	four := runGuest(t, smp.Config{Program: prog, Args: []string{"4", "100"}, CPUs: 4, Seed: 1})
	var sent, received uint64
	for _, v := range four.VCPUs {
		sent += v.TLBShootdowns
		received += v.IPIsReceived
	}
	require.Equal(t, one.VCPUs[0].TLBShootdowns, sent, "the same syscalls change page tables")
	require.NotZero(t, received)
	require.LessOrEqual(t, received, 3*sent, "at most one IPI per other vCPU")
}
