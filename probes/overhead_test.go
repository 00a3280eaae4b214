package probes

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/report"
	"github.com/probesim/probesim/smp"
	"github.com/probesim/probesim/timing"
)

// overheadRun is one probed run of the threads fixture.
type overheadRun struct {
	rep   *report.Run
	res   Result
	stats Stats
	spec  Spec
}

// exact is the default profile without kernel cost jitter, so that every
// phase is its formula of the profile's costs.
func exact() *timing.Profile {
	p := timing.Default()
	p.KernelJitterPercent = 0
	return p
}

// runOverhead runs the threads fixture with a probe on probed(); a nil
// profile is exact().
func runOverhead(t *testing.T, arch string, cpus int, args []string, s Strategy, prof *timing.Profile) overheadRun {
	t.Helper()
	return runOverheadSeed(t, arch, cpus, args, s, prof, 1)
}

func runOverheadSeed(t *testing.T, arch string, cpus int, args []string, s Strategy, prof *timing.Profile, seed uint64) overheadRun {
	t.Helper()
	if prof == nil {
		prof = exact()
	}
	r, e := probeThreads(t, arch, smp.Config{Args: args, CPUs: cpus, Seed: seed, Profile: prof}, s)
	require.Equal(t, "exit", r.StopReason, "stderr %q", r.Stderr)
	spec := e.all[0].spec
	res := e.Results()[0]
	o := res.Overhead
	require.Equal(t, o.Trap+o.Handler+o.Step+o.Fixups+o.Shootdowns, o.Total, "total = sum of the phases")
	require.Equal(t, o.Total/res.Hits, o.PerHit)
	return overheadRun{rep: r, res: res, stats: e.Stats(), spec: spec}
}

// probeOnlyFree is the default profile with every cost that only the probe
// engine charges set to zero (the guest's own syscalls, faults and
// shootdowns keep their costs).
func probeOnlyFree() *timing.Profile {
	p := exact()
	p.Kernel.ExceptionEntryExit = 0
	p.Kernel.MprotectOnePage = 0
	p.Kernel.CowBreakPage = 0
	p.Kernel.KernelWriteByte = 0
	p.Kernel.CrossModifyingCodeSerialize = 0
	return p
}

// TestOverheadAddsUpToVCPUCycles proves the phase split exact against the
// vCPU's clock. On one vCPU with one worker thread the guest runs the same
// instructions whatever the probe costs, so a run with the default profile
// and a run where every probe-only cost is zero differ, on the vCPU's
// clock, by exactly the difference of their overhead totals. In the free
// run the phases are what is left: the modelled handler, the stepped
// instruction (the profile's block cost of it, per hit) and the shootdown
// initiator costs; in the default run each phase is its formula of the
// profile's costs.
func TestOverheadAddsUpToVCPUCycles(t *testing.T) {
	const iters = 300
	args := []string{"1", fmt.Sprint(iters)}
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		for _, s := range []Strategy{Inline, SSOLStack, XOL} {
			t.Run(fmt.Sprintf("%s/%s", arch, s), func(t *testing.T) {
				full := runOverhead(t, arch, 1, args, s, nil)
				free := runOverhead(t, arch, 1, args, s, probeOnlyFree())
				for _, r := range []overheadRun{full, free} {
					require.Equal(t, uint64(iters), r.res.Hits)
					require.Zero(t, r.res.Misses)
				}
				fo, zo := full.res.Overhead, free.res.Overhead
				require.Equal(t, full.rep.Instructions, free.rep.Instructions, "the guest ran the same instructions")
				require.Equal(t, full.rep.VCPUs[0].Cycles-free.rep.VCPUs[0].Cycles, fo.Total-zo.Total,
					"the vCPU's extra cycles are the overhead's extra cycles")

				k := timing.Default().Kernel
				hits := uint64(iters)
				mode := 64
				if arch == fixtures.ArchI386 {
					mode = 32
				}
				insnFP := timing.Default().CostBlock(full.spec.Bytes, full.spec.Addr, mode).CostFP
				require.NotZero(t, insnFP)
				// Two shootdowns per hit, inline (the text writes) and on
				// the stack (the NX flips); none in the XOL page, whose
				// mapping costs, once, a VMA change and the page fault that
				// populates the page (the latter is not probe-only).
				shootdowns, mapPF := uint64(2), uint64(0)
				if s == XOL {
					shootdowns, mapPF = 0, k.PageFaultEntryExit
				}
				// What is left with the probe-only costs at zero.
				require.Zero(t, zo.Trap)
				require.Equal(t, hits*k.ProbeHandler, zo.Handler)
				require.Equal(t, hits*insnFP>>8+mapPF, zo.Step, "the stepped instruction, as the block hook prices it")
				require.Zero(t, zo.Fixups)
				// One vCPU: a shootdown has no targets, only the local flush.
				require.Equal(t, shootdowns*hits*k.TLBShootdownInitiator, zo.Shootdowns)
				require.Equal(t, zo.Shootdowns, fo.Shootdowns)

				// The default run, phase by phase.
				require.Equal(t, hits*k.ExceptionEntryExit, fo.Trap)
				require.Equal(t, zo.Handler, fo.Handler)
				switch s {
				case Inline:
					// Original byte and int3 again: two text writes per hit,
					// the first one breaking copy-on-write of the text page.
					require.Equal(t, zo.Step+hits*(k.ExceptionEntryExit+2*k.KernelWriteByte)+k.CowBreakPage, fo.Step)
					require.Zero(t, fo.Fixups)
				case SSOLStack:
					// Slot copy, NX cleared, #DB; then NX restored.
					require.Equal(t, uint64(len(full.spec.Bytes)), uint64(full.spec.Len))
					require.Equal(t, zo.Step+hits*(k.ExceptionEntryExit+uint64(full.spec.Len)*k.KernelWriteByte+k.MprotectOnePage), fo.Step)
					require.Equal(t, hits*k.MprotectOnePage, fo.Fixups)
					require.Equal(t, hits, full.stats.NXFlips)
					require.Equal(t, 2*hits*(k.MprotectOnePage+k.TLBShootdownInitiator), full.stats.NXFlipCycles)
				case XOL:
					// The page mapped once, then per hit the slot copy and
					// the #DB; nothing to restore.
					require.Equal(t, zo.Step+hits*(k.ExceptionEntryExit+uint64(full.spec.Len)*k.KernelWriteByte)+k.MprotectOnePage, fo.Step)
					require.Zero(t, fo.Fixups)
					require.Zero(t, full.stats.NXFlips)
					require.Equal(t, k.MprotectOnePage+k.PageFaultEntryExit, full.stats.XOLMapCycles)
					require.Equal(t, uint64(1), full.stats.XOLSlotsMaxInUse)
				}
			})
		}
	}
}

// TestOverheadSMP: on 4 vCPUs the split stays exact where the profile
// fixes it, and the shootdowns carry the IPI round trip whenever another
// vCPU runs.
func TestOverheadSMP(t *testing.T) {
	k := timing.Default().Kernel
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		for _, s := range []Strategy{Inline, SSOLStack, XOL} {
			t.Run(fmt.Sprintf("%s/%s", arch, s), func(t *testing.T) {
				r := runOverhead(t, arch, 4, []string{"4", "200"}, s, nil)
				o, hits := r.res.Overhead, r.res.Hits
				require.Equal(t, r.res.Executions, r.res.Hits+r.res.Misses)
				spurious := uint64(0)
				for _, m := range r.res.MissList {
					if m.Spurious {
						spurious++
					}
				}
				require.Equal(t, (hits+spurious)*k.ExceptionEntryExit, o.Trap)
				require.Equal(t, hits*k.ProbeHandler, o.Handler)
				if s == XOL {
					// No shootdown, no fixup; the step is the mapping once,
					// then per hit the copy, the #DB and the instruction.
					mode := 64
					if arch == fixtures.ArchI386 {
						mode = 32
					}
					insnFP := timing.Default().CostBlock(r.spec.Bytes, r.spec.Addr, mode).CostFP
					require.Equal(t, uint64(800), hits)
					require.Zero(t, o.Shootdowns)
					require.Zero(t, o.Fixups)
					require.Equal(t, (hits*insnFP)>>8+hits*(k.ExceptionEntryExit+uint64(r.spec.Len)*k.KernelWriteByte)+
						k.MprotectOnePage+k.PageFaultEntryExit, o.Step)
					return
				}
				// Two shootdowns per hit, each at least the local flush and
				// at most the flush and the IPI round trip.
				require.GreaterOrEqual(t, o.Shootdowns, 2*hits*k.TLBShootdownInitiator)
				require.LessOrEqual(t, o.Shootdowns, 2*hits*(k.TLBShootdownInitiator+k.IPIDelivery))
				require.Greater(t, o.Shootdowns, 2*hits*k.TLBShootdownInitiator, "some shootdowns had targets")
				if s == SSOLStack {
					require.Equal(t, uint64(800), hits)
					require.Equal(t, hits*k.MprotectOnePage, o.Fixups)
					require.Equal(t, hits*k.MprotectOnePage*2+o.Shootdowns, r.stats.NXFlipCycles)
				}
			})
		}
	}
}

// TestOverheadWithKernelJitter: with the default profile's kernel cost
// jitter the phases are no longer formulas, but they are still exactly what
// was charged: the guest's own syscalls draw the same spread costs in a run
// with and without the probe-only costs (the draws are per thread and per
// event), so the vCPU's extra cycles are still the overhead's extra cycles.
// Each trap costs within +-10% of the exception cost, and seeds differ.
func TestOverheadWithKernelJitter(t *testing.T) {
	const iters = 300
	args := []string{"1", fmt.Sprint(iters)}
	jittery := func(p *timing.Profile) *timing.Profile {
		p.KernelJitterPercent = timing.Default().KernelJitterPercent
		return p
	}
	require.NotZero(t, timing.Default().KernelJitterPercent)
	k := timing.Default().Kernel
	for _, s := range []Strategy{Inline, SSOLStack, XOL} {
		t.Run(string(s), func(t *testing.T) {
			full := runOverheadSeed(t, fixtures.ArchAMD64, 1, args, s, timing.Default(), 1)
			free := runOverheadSeed(t, fixtures.ArchAMD64, 1, args, s, jittery(probeOnlyFree()), 1)
			other := runOverheadSeed(t, fixtures.ArchAMD64, 1, args, s, timing.Default(), 2)
			fo, zo := full.res.Overhead, free.res.Overhead
			require.Equal(t, full.rep.Instructions, free.rep.Instructions)
			require.Equal(t, full.rep.VCPUs[0].Cycles-free.rep.VCPUs[0].Cycles, fo.Total-zo.Total)
			// int3 and #DB per hit, each 900..1100 cycles.
			traps := 2 * uint64(iters)
			require.GreaterOrEqual(t, fo.Trap+fo.Step, traps*k.ExceptionEntryExit*9/10)
			require.InDelta(t, float64(iters*k.ExceptionEntryExit), float64(fo.Trap), float64(iters*k.ExceptionEntryExit)/10)
			require.NotEqual(t, uint64(iters)*k.ExceptionEntryExit, fo.Trap, "the traps were spread")
			require.NotEqual(t, fo.Trap, other.res.Overhead.Trap, "another seed draws other costs")
		})
	}
}
