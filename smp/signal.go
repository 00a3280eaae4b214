package smp

import (
	"github.com/probesim/probesim/emu"
	"github.com/probesim/probesim/kernel"
)

// Faults with a handler, and faults of a probe's single-step.
//
// A fault (a page fault the address space refused, an exception) is a
// synchronous signal of the faulting task (arch/x86/mm/fault.c,
// arch/x86/kernel/traps.c): with a handler for it, the kernel queues it
// with its si_code and si_addr and the handler runs at once (the frame's
// ip is the faulting instruction, which runs again when the handler
// returns); without one the process ends as before, with the fault in
// the report. The exception's entry and exit are charged as for any
// exception the kernel handles.
//
// A fault of the instruction a probe is single-stepping (its out-of-line
// copy, or the original in place) first ends the step as
// arch_uprobe_abort_xol does: the probe engine's abort handler puts the ip
// back at the probed instruction (and undoes what the step set up), so
// the fault is reported, and delivered, at the original address.

// Kernel is the machine's kernel (for tests and tools that send signals
// or read kernel state between events).
func (m *Machine) Kernel() *kernel.Kernel { return m.kernel }

// SetStepAbortHandler installs the probe engine's handler of a fault
// during a single-step it set up (TrapEvent.PC is the ip of the fault).
func (m *Machine) SetStepAbortHandler(fn func(TrapEvent)) { m.stepAbortFn = fn }

// abortStep ends the single-step of t, whose stepped instruction faulted,
// and moves the fault to the ip the handler left.
func (m *Machine) abortStep(v *vcpu, t *thread, ev *emu.Event) {
	if m.stepAbortFn != nil {
		m.stepAbortFn(TrapEvent{Intno: 0, PC: m.core.PC(), Cycle: v.clockFP() >> 8, VCPU: v.id, TID: t.kt.TID})
	}
	t.kernelStepping = false
	ev.Fault.RIP = m.core.PC()
	ev.Fault.VMA, ev.Fault.InVMA = m.mmNow().FindVMA(ev.Fault.RIP)
	if ev.Fault.Kind != "segfault" {
		ev.Fault.Addr = ev.Fault.RIP
	}
}

// faultCode is the si_code, si_addr and trap number of a fault, as the
// kernel's exception handlers give them.
func faultCode(f emu.Fault) (code int, addr, trapno uint64) {
	const siKernel = 0x80
	switch f.Kind {
	case "segfault":
		code = 1 // SEGV_MAPERR
		if f.ErrorCode&1 != 0 {
			code = 2 // SEGV_ACCERR: a present page refused the access
		}
		return code, f.Addr, 14
	case "invalid opcode":
		return 2, f.RIP, 6 // ILL_ILLOPN
	case "divide error":
		return 1, f.RIP, 0 // FPE_INTDIV
	case "alignment check":
		return 1, f.RIP, 17 // BUS_ADRALN
	case "simd exception", "coprocessor error":
		return 7, f.RIP, 19 // FPE_FLTINV
	case "general protection":
		return siKernel, 0, 13
	case "vsyscall":
		// emulate_vsyscall: force_sig_fault(SEGV_MAPERR) at a pointer
		// beyond TASK_SIZE, else force_sig (SI_KERNEL); from the page
		// fault that carried the call.
		if f.Addr != 0 {
			return 1, f.Addr, 14
		}
		return siKernel, 0, 14
	case "int3":
		return siKernel, 0, 3
	}
	return siKernel, 0, 0
}

// faultToHandler gives a fault to the task's handler; false leaves the
// fault to end the process.
func (m *Machine) faultToHandler(v *vcpu, t *thread, ev emu.Event) bool {
	f := ev.Fault
	if m.core.Thread() != t.kt {
		return false
	}
	code, addr, trapno := faultCode(f)
	if !m.kernel.SendFault(t.kt, f.Signal, code, addr, trapno, f.ErrorCode) {
		return false
	}
	cost := m.cfg.Profile.Kernel.ExceptionEntryExit
	if trapno == 14 {
		cost = m.cfg.Profile.Kernel.PageFaultEntryExit
	}
	v.counters.Add(0, m.jittered(t, cost)<<8)
	if _, done := m.core.ExitToUser(false); done {
		// The frame did not fit: the process dies of SIGSEGV.
		return false
	}
	return true
}
