package smp_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/mmu"
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
// per-vCPU instruction counts and cycles of the lockstep reference mode,
// and the same executions of a watched address in the same global order.
// "parallel" is race-free only while its main thread cannot run further
// ahead of its workers than its own work lasts, hence the default quantum.
func TestLockstepOracle(t *testing.T) {
	guests := []struct {
		name, watch string
		args        []string
		cpus        int
	}{
		{"parallel", "work", []string{"3", "300"}, 4},
		{"parallel", "work", []string{"4", "200"}, 2},
		{"qsort", "compare_ints", nil, 2},
		{"stdio", "main", nil, 2},
		{"malloc", "main", nil, 2},
		{"loop", "_start", []string{"1000"}, 1},
	}
	for _, arch := range arches {
		for _, g := range guests {
			t.Run(fmt.Sprintf("%s/%s/%dcpus", arch, g.name, g.cpus), func(t *testing.T) {
				prog := fixture(t, arch, g.name)
				run := func(lockstep bool) (*report.Run, []smp.WatchEvent) {
					m, err := smp.New(smp.Config{Program: prog, Args: g.args, CPUs: g.cpus, Seed: 5, Lockstep: lockstep})
					require.NoError(t, err)
					defer m.Close()
					calls := 0
					if g.watch != "" {
						sym, ok := m.Image().Lookup(g.watch)
						require.True(t, ok, "no symbol %s", g.watch)
						require.NoError(t, m.Watch(sym.Value, func(smp.WatchEvent) { calls++ }))
					}
					r, err := m.Run()
					require.NoError(t, err)
					require.Equal(t, len(m.WatchEvents()), calls)
					return r, m.WatchEvents()
				}
				fast, fastEv := run(false)
				slow, slowEv := run(true)
				require.Equal(t, "exit", slow.StopReason)
				require.True(t, slow.Lockstep)
				require.Equal(t, slow.Stdout, fast.Stdout)
				require.Equal(t, g.watch != "", len(fastEv) > 0)
				for i := range slow.VCPUs {
					require.Equal(t, slow.VCPUs[i].Instructions, fast.VCPUs[i].Instructions, "vCPU %d instructions", i)
					require.Equal(t, slow.VCPUs[i].Cycles, fast.VCPUs[i].Cycles, "vCPU %d cycles", i)
				}
				require.Equal(t, slowEv, fastEv)
				for i := 1; i < len(fastEv); i++ {
					require.LessOrEqual(t, fastEv[i-1].Cycle, fastEv[i].Cycle, "watch events out of cycle order")
				}
			})
		}
	}
}

// TestWatchWithSmallQuantum: short slices (the C hook stopping the engine
// every few blocks) with a watched address still give the program's own
// call count and the same result as the default quantum.
func TestWatchWithSmallQuantum(t *testing.T) {
	prog := fixture(t, fixtures.ArchAMD64, "parallel")
	for _, q := range []uint64{100, 10_000} {
		m, err := smp.New(smp.Config{Program: prog, Args: []string{"3", "300"}, CPUs: 2, Seed: 5, Quantum: q})
		require.NoError(t, err)
		sym, _ := m.Image().Lookup("work")
		require.NoError(t, m.Watch(sym.Value, nil))
		r, err := m.Run()
		require.NoError(t, err)
		require.Equal(t, "exit", r.StopReason)
		require.Len(t, m.WatchEvents(), 3*300+300*40, "quantum %d", q) // workers + main's own loop
		m.Close()
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

// TestKernelWriteVisibleToAllVCPUs: a breakpoint the kernel writes at an
// ordered event is what every vCPU executes from then on: the next call of
// the function, on whichever vCPU, traps at its first byte.
func TestKernelWriteVisibleToAllVCPUs(t *testing.T) {
	for _, arch := range arches {
		prog := fixture(t, arch, "threads")
		m, err := smp.New(smp.Config{Program: prog, Args: []string{"4", "50"}, CPUs: 4, Seed: 9})
		require.NoError(t, err)
		sym, ok := m.Image().Lookup("probed")
		require.True(t, ok)
		var writeAt smp.WatchEvent
		require.NoError(t, m.Watch(sym.Value, func(ev smp.WatchEvent) {
			if writeAt.Addr == 0 {
				writeAt = ev
				require.NoError(t, m.KernelWrite(sym.Value, []byte{0xcc}))
			}
		}))
		r, err := m.Run()
		require.NoError(t, err)
		require.Equal(t, "fault", r.StopReason, arch)
		require.Equal(t, "SIGTRAP", r.Fault.Signal)
		require.Equal(t, "int3", r.Fault.Kind)
		require.Equal(t, sym.Value, r.Fault.RIP)
		kev := m.KernelEvents()
		require.Len(t, kev, 1)
		require.Equal(t, smp.KernelEvent{Cycle: writeAt.Cycle, VCPU: writeAt.VCPU, Kind: smp.KernelTextWrite, Addr: sym.Value, Len: 1}, kev[0])
		var shootdowns uint64
		for _, v := range r.VCPUs {
			shootdowns += v.TLBShootdowns
		}
		require.NotZero(t, shootdowns)
		m.Close()
	}
}

// TestKernelProtectPage: taking exec away from a text page at an ordered
// event makes the next instruction fetch from it fault, on any vCPU.
func TestKernelProtectPage(t *testing.T) {
	prog := fixture(t, fixtures.ArchAMD64, "threads")
	m, err := smp.New(smp.Config{Program: prog, Args: []string{"4", "50"}, CPUs: 4, Seed: 9})
	require.NoError(t, err)
	defer m.Close()
	sym, _ := m.Image().Lookup("probed")
	page := sym.Value &^ 0xfff
	done := false
	require.NoError(t, m.Watch(sym.Value, func(smp.WatchEvent) {
		if !done {
			done = true
			require.NoError(t, m.KernelProtectPage(sym.Value, mmu.ProtRead))
		}
	}))
	r, err := m.Run()
	require.NoError(t, err)
	require.Equal(t, "fault", r.StopReason)
	require.Equal(t, "SIGSEGV", r.Fault.Signal)
	require.Equal(t, uint64(0x15), r.Fault.ErrorCode, "user instruction fetch from a present page")
	require.Equal(t, page, r.Fault.RIP&^0xfff)
	require.Equal(t, "protect", m.KernelEvents()[0].Kind.String())
	require.Equal(t, page, m.KernelEvents()[0].Addr)
}

// TestSleepsAndTimeouts: nanosleep, clock_nanosleep and futex timeouts run
// in simulated time; the program behaves as natively and the machine's
// clock covers the sleeps.
func TestSleepsAndTimeouts(t *testing.T) {
	for _, arch := range arches {
		bin := filepath.Join(t.TempDir(), "timed")
		flags := []string{"-static", "-O2", "-pthread", "-o", bin, "testdata/timed.c"}
		if arch == fixtures.ArchI386 {
			flags = append([]string{"-m32"}, flags...)
		}
		out, err := exec.Command("gcc", flags...).CombinedOutput()
		require.NoError(t, err, "%s", out)
		want, _, status, err := fixtures.RunNative(bin, nil, nil, nil)
		require.NoError(t, err)
		require.Equal(t, 0, status)
		for _, cpus := range []int{1, 2} {
			r := runGuest(t, smp.Config{Program: bin, CPUs: cpus, Seed: 4})
			require.Equal(t, string(want), r.Stdout, "%s on %d vCPUs", arch, cpus)
			// 2 + 2 + 1 + 3 ms of sleeps at 3 GHz.
			require.GreaterOrEqual(t, r.Cycles, uint64(8_000_000*3), "%s", arch)
		}
	}
}
