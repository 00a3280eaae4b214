package probes

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/mmu"
	"github.com/probesim/probesim/report"
	"github.com/probesim/probesim/smp"
)

// TestXOLSlots: slot 0 (the return-probe trampoline) is never handed out,
// a hit takes the lowest free slot, 31 can be taken at once, and a freed
// slot is the next one taken.
func TestXOLSlots(t *testing.T) {
	const base = 0x7000_0000
	a := xolArea{base: base, used: 1}
	for i := uint64(1); i < 32; i++ {
		addr, ok := a.take()
		require.True(t, ok, "slot %d", i)
		require.Equal(t, base+i*128, addr)
		require.Equal(t, i, a.inUse())
	}
	_, ok := a.take()
	require.False(t, ok, "32 slots, one of them the trampoline's")
	a.free(base + 7*128)
	a.free(base + 3*128)
	require.Equal(t, uint64(29), a.inUse())
	addr, ok := a.take()
	require.True(t, ok)
	require.Equal(t, uint64(base+3*128), addr, "the lowest free slot")
	a.free(base + 3*128)
	a.free(base + 3*128) // freeing a free slot changes nothing
	require.Equal(t, uint64(29), a.inUse())
	require.Equal(t, uint32(0xffffffff)&^(1<<3|1<<7), a.used)
}

// xolRun is one run of the threads fixture with an xol probe on probed().
type xolRun struct {
	rep *report.Run
	res Result
	st  Stats
	kev []smp.KernelEvent
	ool *report.OutOfLine
	// beforeFirst: the VMAs when the first hit's handler ran, before the
	// hit sought a slot.
	beforeFirst []mmu.VMA
}

func runXOL(t *testing.T, arch string, cpus int, args []string, handler func(*Engine)) xolRun {
	t.Helper()
	prog, err := fixtures.Path(arch, "threads")
	require.NoError(t, err)
	m, err := smp.New(smp.Config{Program: prog, Args: args, CPUs: cpus, Seed: 1})
	require.NoError(t, err)
	defer m.Close()
	spec, err := Resolve(m.Image(), "probed")
	require.NoError(t, err)
	var run xolRun
	var e *Engine
	e, err = Attach(m, []Spec{spec}, XOL, func(Hit) {
		if run.beforeFirst == nil {
			run.beforeFirst = m.AddressSpace().VMAs()
		}
		if handler != nil {
			handler(e)
		}
	})
	require.NoError(t, err)
	run.rep, err = m.Run()
	require.NoError(t, err)
	require.Equal(t, "exit", run.rep.StopReason, "stderr %q fault %+v", run.rep.Stderr, run.rep.Fault)
	run.res, run.st, run.kev, run.ool = e.Results()[0], e.Stats(), m.KernelEvents(), e.OutOfLineReport()
	return run
}

func uprobesVMAs(maps []report.VMA) []report.VMA {
	var out []report.VMA
	for _, v := range maps {
		if v.Name == "[uprobes]" {
			out = append(out, v)
		}
	}
	return out
}

// TestXOLAreaMapping: the "[uprobes]" page is mapped by the first hit, not
// before (nor at all when the probe is never hit), once, "--xp" as
// _install_special_mapping's VM_EXEC makes it, at get_unmapped_area's
// answer to the hint TASK_SIZE - PAGE_SIZE: the hint is the stack's, so
// top-down below mmap_base, under the worker threads' stacks. Every hit
// then copies its instruction into a slot of that page (slots 1 up, one per
// thread stepping at once), with no page-protection change and no text
// write but the probe's own int3.
func TestXOLAreaMapping(t *testing.T) {
	for _, c := range []struct {
		arch string
		base uint64
	}{{fixtures.ArchAMD64, 0x7ffff5ffa000}, {fixtures.ArchI386, 0xf5ff9000}} {
		t.Run(c.arch, func(t *testing.T) {
			never := runXOL(t, c.arch, 4, []string{"4", "0"}, nil)
			require.Zero(t, never.res.Executions)
			require.Empty(t, uprobesVMAs(never.rep.Maps), "no hit, no XOL page")
			require.Zero(t, never.st.XOLMapCycles)

			r := runXOL(t, c.arch, 4, []string{"4", "200"}, nil)
			require.Equal(t, uint64(800), r.res.Hits)
			require.Zero(t, r.res.Misses)
			require.NotNil(t, r.beforeFirst)
			for _, v := range r.beforeFirst {
				require.NotEqual(t, "[uprobes]", v.Name, "mapped before the first hit")
			}
			require.Equal(t, []report.VMA{{Start: c.base, End: c.base + 4096, Perms: "--xp", Name: "[uprobes]"}}, uprobesVMAs(r.rep.Maps))

			kinds := map[string]int{}
			for _, ev := range r.kev {
				kinds[ev.Kind.String()]++
				switch ev.Kind {
				case smp.KernelMapSpecial:
					require.Equal(t, c.base, ev.Addr)
					require.Equal(t, 4096, ev.Len)
				case smp.KernelCopyToPage:
					slot := (ev.Addr - c.base) / 128
					require.Equal(t, c.base+slot*128, ev.Addr, "a slot's start")
					require.GreaterOrEqual(t, slot, uint64(1), "slot 0 is the trampoline's")
					require.LessOrEqual(t, slot, r.st.XOLSlotsMaxInUse)
				}
			}
			require.Equal(t, map[string]int{"write": 1, "install_special_mapping": 1, "copy_to_page": 800}, kinds)
			require.GreaterOrEqual(t, r.st.XOLSlotsMaxInUse, uint64(2), "4 workers on 4 vCPUs step at once")
			require.LessOrEqual(t, r.st.XOLSlotsMaxInUse, uint64(4))
		})
	}
}

// TestXOLSlotsWait: 64 threads on 64 vCPUs step out of line at once,
// more than the 31 slots the XOL page has: a hit that finds every slot
// taken sleeps until one is freed, as Linux's xol_get_insn_slot does, so no
// hit is lost and none is stepped in place; the waits are reported with
// their cycles, and the output is the native one.
func TestXOLSlotsWait(t *testing.T) {
	args := []string{"64", "50"}
	prog, err := fixtures.Path(fixtures.ArchAMD64, "threads")
	require.NoError(t, err)
	want, _, _, err := fixtures.RunNative(prog, args, nil, nil)
	require.NoError(t, err)
	r := runXOL(t, fixtures.ArchAMD64, 64, args, nil)
	require.Equal(t, string(want), r.rep.Stdout)
	require.Equal(t, uint64(64*50), r.res.Hits)
	require.Zero(t, r.res.Misses)
	require.Zero(t, r.st.InlineFallback)
	require.Empty(t, r.res.Windows, "nothing stepped in place")
	require.Equal(t, uint64(31), r.st.XOLSlotsMaxInUse, "every slot in use at once")
	require.NotZero(t, r.st.XOLSlotWaits, "some hits waited for a slot")
	require.NotZero(t, r.st.XOLSlotWaitCycles)
	require.Equal(t, r.st.XOLSlotWaits, r.ool.XOLSlotWaits)
	require.Equal(t, r.st.XOLSlotWaitCycles, r.ool.XOLSlotWaitCycles)
	t.Logf("%d waits, %d cycles waited", r.st.XOLSlotWaits, r.st.XOLSlotWaitCycles)
}

// TestXOLReport: the run report's out_of_line object for xol.
func TestXOLReport(t *testing.T) {
	_, e := probeThreads(t, fixtures.ArchAMD64, smp.Config{Args: []string{"2", "50"}, CPUs: 2, Seed: 1}, XOL)
	st := e.Stats()
	require.Equal(t, &report.OutOfLine{XOLSlotsMaxInUse: st.XOLSlotsMaxInUse, XOLMapCycles: st.XOLMapCycles, SteppedHits: 100}, e.OutOfLineReport())
	require.NotZero(t, st.XOLMapCycles)
	require.Equal(t, uint64(100), e.Results()[0].Hits, fmt.Sprintf("%+v", st))
}

// TestXOLSlotWaitsAgreeWithLockstep: with slots to wait for, the counts
// per vCPU and the waits are the same in the fast mode and in lockstep.
func TestXOLSlotWaitsAgreeWithLockstep(t *testing.T) {
	var got [2]struct {
		per   []CPUCounts
		waits uint64
	}
	for i, lockstep := range []bool{false, true} {
		_, e := probeThreads(t, fixtures.ArchAMD64, smp.Config{Args: []string{"40", "20"}, CPUs: 40, Seed: 2, Lockstep: lockstep}, XOL)
		got[i].per, got[i].waits = e.Results()[0].PerCPU, e.Stats().XOLSlotWaits
	}
	require.NotZero(t, got[0].waits)
	require.Equal(t, got[1], got[0])
}
