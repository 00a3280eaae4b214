package probes

import (
	"github.com/probesim/probesim/report"
	"github.com/probesim/probesim/smp"
)

// The overhead of hits, by phase.
//
// Every cycle a hit charges the trapping vCPU is added to exactly one phase
// of its probe, at the moment it is charged, from the exact figure that
// charged it (never estimated, never from a clock difference that could
// include another vCPU's work):
//
//   - trap: the int3's exception entry and exit (smp.Machine.TrapCycles),
//     which also covers the probe lookup (handle_swbp's find_active_uprobe
//     is part of the ~1000-cycle trap the profile's default is measured
//     from, see timing/doc.go). A spurious trap (the int3 was gone when the
//     kernel looked) costs the same and is counted here too, though it is
//     a miss: the probe caused it;
//   - handler: the modelled handler, kernel.probe_handler per hit, plus what a Go
//     handler charged (Hit.Charge, smp.Machine.Charge), measured as the
//     vCPU's clock difference across the handler, during which no other
//     vCPU runs;
//   - step: the work of the kernel writes that prepare and end the step
//     (the original byte and int3 again inline; the slot copy, a stack
//     expansion and the NX clear on the stack; the slot copy and, on the
//     first hit, the XOL page's mapping for xol), the #DB exception, and the
//     stepped instruction itself, priced as the block hook prices it (the
//     profile's block cost of that one instruction: with TF set, the engine
//     translates exactly one instruction per block);
//   - fixups: the copies to the user stack that fix a pushed return address
//     or pushed flags, and restoring the stack page's protection (register
//     fixups cost nothing: they change the saved pt_regs);
//   - shootdowns: the TLB shootdowns the hit initiated (text writes, NX
//     flips and their restores), as charged to the trapping vCPU.
//
// Not in any phase: the cycles the hit's shootdowns and text writes steal
// from the other vCPUs (the IPI they take, their cross-modifying-code
// serialisation), which show on those vCPUs' clocks, and the cost of the
// program's own blocks around the int3 (a probe splits the block it sits
// in, which changes how the block model prices the program's own
// instructions slightly).
//
// The modelled handler every hit runs costs the profile's
// kernel.probe_handler (a counting consumer; sources in timing/doc.go).
// Register capture for --probe-log adds nothing: the registers are the
// pt_regs saved on exception entry.

// overhead is one probe's hit costs by phase, in 24.8 fixed-point cycles
// (the stepped instruction's block cost has a fraction).
type overhead struct {
	trap, handler, step, fixups, shootdowns uint64
}

// add adds o2's phases to o's.
func (o *overhead) add(o2 overhead) {
	o.trap += o2.trap
	o.handler += o2.handler
	o.step += o2.step
	o.fixups += o2.fixups
	o.shootdowns += o2.shootdowns
}

// kernel adds a kernel change's cost: its work to phase, its shootdown to
// the shootdowns.
func (o *overhead) kernel(phase *uint64, c smp.KernelCost) {
	*phase += c.Work << 8
	o.shootdowns += c.Shootdown << 8
}

// report rounds each phase down to whole cycles; Total is their sum and
// PerHit is Total / hits.
func (o overhead) report(hits uint64) report.ProbeOverhead {
	r := report.ProbeOverhead{Trap: o.trap >> 8, Handler: o.handler >> 8, Step: o.step >> 8,
		Fixups: o.fixups >> 8, Shootdowns: o.shootdowns >> 8}
	r.Total = r.Trap + r.Handler + r.Step + r.Fixups + r.Shootdowns
	if hits > 0 {
		r.PerHit = r.Total / hits
	}
	return r
}
