package smp

import "github.com/probesim/probesim/emu"

// A fault of a probe's single-step.
//
// A fault of the instruction the probe engine is single-stepping (its
// out-of-line copy, or the original in place) first ends the step, as
// Linux's arch_uprobe_abort_xol does when the stepped instruction traps:
// the engine's abort handler puts the ip back at the probed instruction
// and undoes what the step set up, so the fault is reported at the
// original address.

// SetStepAbortHandler installs the probe engine's handler of a fault
// during a single-step it set up (TrapEvent.PC is the ip of the fault).
func (m *Machine) SetStepAbortHandler(fn func(TrapEvent)) { m.stepAbortFn = fn }

// abortStep ends the running thread's single-step, if it is in one, and
// moves the fault f to the ip the handler left.
func (m *Machine) abortStep(f *emu.Fault) {
	v := m.curV
	t := m.runningThread()
	if v == nil || t == nil || !t.kernelStepping {
		return
	}
	if m.stepAbortFn != nil {
		m.stepAbortFn(TrapEvent{PC: m.core.PC(), Cycle: v.clockFP() >> 8, VCPU: v.id, TID: t.lt.TID})
	}
	t.kernelStepping = false
	f.RIP = m.core.PC()
	f.VMA, f.InVMA = m.as.FindVMA(f.RIP)
	if f.Kind != "segfault" {
		f.Addr = f.RIP
	}
}
