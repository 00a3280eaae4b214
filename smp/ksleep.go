package smp

import "github.com/probesim/probesim/emu"

// Sleeping in the kernel from a trap handler.
//
// A probe hit may have to wait inside the kernel: mainline's
// xol_get_insn_slot sleeps on the XOL area's wait queue (wait_event) until
// another thread frees a slot. SleepInKernel does that for the thread whose
// trap is being handled: when the handler returns, the thread is blocked
// (its vCPU takes the next queued thread, or idles) until a later ordered
// event of another thread calls WakeFromKernel for it, which makes it
// runnable at that event's cycle (wake_up). It resumes at the ip the
// handler left, so a handler that sleeps leaves it at the trapping
// instruction and finishes its work when the thread traps there again;
// that trap re-enters the kernel where the thread slept and is not a new
// exception (ResumedTrap). A thread blocked so is asleep for the scheduler
// and for deadlock detection, like one in futex; its kernel.Task stays
// TaskRunnable, since the wait is the probe engine's, not a syscall's, and
// no signal ends it (wait_event is uninterruptible).

// SpinInKernel is SleepInKernel for a thread that waits spinning with
// interrupts off, as on a spinlock: its vCPU keeps it, busy, and runs
// nothing else; the other vCPUs do not wait for its clock in the global
// order. WakeFromKernel then charges the vCPU the cycles it spun, as
// kernel work, up to the wake-up's cycle.
func (m *Machine) SpinInKernel() {
	m.SleepInKernel()
	if t := m.runningThread(); t != nil {
		t.kernelSpin = true
	}
}

// SleepInKernel blocks the thread being handled when its trap handler
// returns.
func (m *Machine) SleepInKernel() {
	if t := m.runningThread(); t != nil {
		t.kernelSleep = true
		t.kernelStepping = false
		m.trapBlocked = true
	}
}

// WakeFromKernel makes tid, blocked by SleepInKernel, runnable at the
// running vCPU's clock. It reports false when tid is not so blocked.
func (m *Machine) WakeFromKernel(tid int) bool {
	t := m.byTID[tid]
	if t == nil || !t.kernelSleep || m.curV == nil {
		return false
	}
	t.kernelSleep = false
	at := m.curV.clockFP()
	if t.kernelSpin {
		t.kernelSpin = false
		for _, v := range m.vcpus {
			if v.cur == t {
				if now := v.clockFP(); at > now {
					v.counters.Add(0, at-now)
				}
				v.spinning = false
			}
		}
		t.readyAt = at
		return true
	}
	m.makeRunnable(t, at)
	return true
}

// ResumedTrap tells the machine, from a trap handler, that the trap being
// handled is a thread coming back into the kernel where SleepInKernel left
// it, not a new exception: it is not charged (and its jitter draw is given
// back, as for an undone trap).
func (m *Machine) ResumedTrap() { m.trapUndone = true }

// trapAction is what the trap gate answers for a handled trap.
func (m *Machine) trapAction() emu.TrapAction {
	if m.trapBlocked {
		m.trapBlocked = false
		return emu.TrapBlock
	}
	return emu.TrapHandled
}
