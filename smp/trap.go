package smp

import (
	"github.com/probesim/probesim/emu"
	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/timing"
)

// Traps for the probe engine.
//
// An int3 or single-step #DB is an ordered event like a syscall: it is
// handled only when no other running vCPU is behind the trapping one;
// otherwise the vCPU stops and the trap is handled when the loop resumes
// it. Every handled trap costs the profile's exception entry and exit.

// TrapEvent is one int3 (Intno 3) or single-step (Intno 1) trap.
type TrapEvent struct {
	Intno uint32
	// PC is the ip the kernel sees: after the int3 for a breakpoint, after
	// the stepped instruction for #DB.
	PC    uint64
	Cycle uint64
	VCPU  int
	TID   int
}

// SetTrapHandler installs the handler of int3 and #DB traps. It returns
// true when it handled the trap (it may move the ip with SetPC and set or
// clear TF with SetTrapFlag); false makes the trap a SIGTRAP, as without a
// handler.
func (m *Machine) SetTrapHandler(fn func(TrapEvent) bool) {
	m.trapFn = fn
	m.core.SetTrapGate(func(intno uint32) emu.TrapAction {
		if !m.mayProceed() {
			return emu.TrapDefer
		}
		return m.runTrap(intno)
	})
}

// runTrap calls the handler for a trap of the running thread.
func (m *Machine) runTrap(intno uint32) emu.TrapAction {
	v := m.curV
	ev := TrapEvent{Intno: intno, PC: m.core.PC(), Cycle: v.clockFP() >> 8, VCPU: v.id, TID: v.cur.kt.TID}
	m.trapCycles = m.jittered(v.cur, m.cfg.Profile.Kernel.ExceptionEntryExit)
	m.trapUndone = false
	if !m.trapFn(ev) {
		return emu.TrapFault
	}
	if m.trapUndone {
		// No exception happened: its cost is not charged, and its jitter
		// draw is given back, so that the thread's later kernel events
		// cost what they would have (jitter.go draws by event count).
		if m.cfg.Profile.KernelJitterPercent != 0 {
			v.cur.kernelEvents--
		}
	} else {
		v.counters.Add(0, m.TrapCycles()<<8)
	}
	return m.trapAction()
}

// UndoTrap tells the machine, from a trap handler, that the trap being
// handled did not happen in cycle order: an int3 handled late, in its
// ordered turn, found the original byte back (another vCPU opened an
// inline window first), so the thread executed the original instruction,
// not the int3. The handler has put the ip back at addr; the exception is
// not charged, and the block that resumes at addr is not charged again (its
// instructions were charged with the block that held the int3).
func (m *Machine) UndoTrap(addr uint64) {
	m.trapUndone = true
	if v := m.curV; v != nil {
		v.counters.SkipNextBlockAt(addr)
	}
}

// TrapCycles is what the int3 or #DB being handled costs the trapping vCPU
// on top of its handler's own charges: the profile's exception entry and
// exit (spread by the kernel jitter, jitter.go), charged when the handler
// returns (so a handler that measures ClockFP does not see it).
func (m *Machine) TrapCycles() uint64 { return m.trapCycles }

// ClockFP is the running vCPU's clock in 24.8 fixed-point cycles (the unit
// the counters charge), or 0 before Run. No other vCPU runs while a
// trap or watch callback does, so the difference of two readings inside one
// callback is exactly what the callback's work charged this vCPU.
func (m *Machine) ClockFP() uint64 {
	if m.curV == nil {
		return 0
	}
	return m.curV.clockFP()
}

// Profile is the machine's timing profile (read-only: the run uses it).
func (m *Machine) Profile() *timing.Profile { return m.cfg.Profile }

// ReadRegs reads regs[i] of the thread being handled into vals[i] with one
// call into the engine.
func (m *Machine) ReadRegs(regs []uc.Reg, vals []uint64) error {
	return m.core.Engine().RegReadBatch(regs, vals)
}

// SetPC moves the ip of the thread being handled.
func (m *Machine) SetPC(pc uint64) error { return m.core.SetPC(pc) }

// SetTrapFlag sets or clears TF of the thread being handled. While a trap
// handler has TF set on a thread, the thread is not preempted at the end of
// its time slice (thread.kernelStepping).
func (m *Machine) SetTrapFlag(on bool) error {
	if t := m.runningThread(); t != nil {
		t.kernelStepping = on
	}
	return m.core.SetTrapFlag(on)
}

// EndKernelStep ends the kernel's single-step of the thread being handled
// without touching its TF: a stepped popf loaded the program's own TF,
// which stays (the thread may be preempted again at the end of its time
// slice, thread.kernelStepping).
func (m *Machine) EndKernelStep() {
	if t := m.runningThread(); t != nil {
		t.kernelStepping = false
	}
}

// Charge adds kernel work of the given cycles to the running vCPU (a probe
// handler's own cost, for instance).
func (m *Machine) Charge(cycles uint64) {
	if m.curV != nil {
		m.curV.counters.Add(0, cycles<<8)
	}
}

// Flags returns the EFLAGS of the thread being handled.
func (m *Machine) Flags() (uint64, error) { return m.core.Flags() }

// SP returns the stack pointer of the thread being handled.
func (m *Machine) SP() uint64 { return m.core.SP() }

// PC returns the ip of the thread being handled.
func (m *Machine) PC() uint64 { return m.core.PC() }

// Reg reads a register of the thread being handled.
func (m *Machine) Reg(r uc.Reg) (uint64, error) { return m.core.ReadReg(r) }

// SetReg writes a register of the thread being handled.
func (m *Machine) SetReg(r uc.Reg, v uint64) error {
	return m.core.WriteRegs([]uc.Reg{r}, []uint64{v})
}
