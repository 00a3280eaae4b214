package probes

import "github.com/probesim/probesim/smp"

// A fault of the stepped instruction (arch_uprobe_abort_xol).
//
// The instruction a hit single-steps may fault: its out-of-line copy, or
// the original in place, touches memory it may not. Linux then abandons
// the step (handle_singlestep with UTASK_SSTEP_TRAPPED): the ip goes back
// to the probed instruction, the scratch register a RIP-relative copy
// borrowed gets its value back, TF is cleared, the XOL slot is freed, and
// the fault's signal is delivered (or ends the process) as if the
// original instruction had faulted. The engine does the same here; inline
// also puts int3 back, closing the window, and an NX flip of ssol-stack
// is undone. The machine then reports and delivers the fault at the
// probed address (smp.Machine.SetStepAbortHandler).

// onStepAbort ends the step of ev.TID, whose stepped instruction faulted.
func (e *Engine) onStepAbort(ev smp.TrapEvent) {
	if st := e.ssol[ev.TID]; st != nil {
		delete(e.ssol, ev.TID)
		p := st.p
		if e.strategy == XOL {
			e.xol.free(st.slot)
		}
		_ = e.m.SetPC(p.spec.Addr)
		if p.scratch != 0 {
			_ = e.m.SetReg(p.scratch, st.saved)
		}
		if st.flipped {
			if c, err := e.m.KernelProtectPageCost(st.page, st.restore); err == nil {
				p.cost.kernel(&p.cost.fixups, c)
				e.stats.NXFlipCycles += c.Total()
			}
		}
		_ = e.m.SetTrapFlag(false)
		e.stats.StepAborts++
		return
	}
	p := e.stepping[ev.TID]
	if p == nil {
		return
	}
	delete(e.stepping, ev.TID)
	if c, err := e.m.KernelWriteCost(p.spec.Addr, []byte{int3}); err == nil {
		p.cost.kernel(&p.cost.step, c)
	}
	_ = e.closeWindow(p, ev.Cycle, ev.VCPU, ev.TID)
	_ = e.m.SetPC(p.spec.Addr)
	_ = e.m.SetTrapFlag(false)
	e.stats.StepAborts++
}
