package smp

import "github.com/probesim/probesim/emu/uc"

// The scheduler.
//
// Every vCPU has its own clock. The machine always runs the vCPU whose clock
// is lowest (ties broken by a rank drawn from the seed) for at most one
// quantum, so no vCPU gets more than a quantum ahead of the slowest running
// one. A vCPU with no thread idles: its clock jumps to the time the next
// thread becomes ready for it. Threads map 1:1 to vCPUs while there are
// enough; beyond that a FIFO run queue time-slices them, and a vCPU that
// switches between different threads pays the profile's context-switch cost.

// pick returns the running vCPU with the lowest clock, or nil.
func (m *Machine) pick() *vcpu {
	var best *vcpu
	for _, v := range m.vcpus {
		if v.cur == nil || v.spinning {
			continue
		}
		if best == nil || v.clockFP() < best.clockFP() ||
			(v.clockFP() == best.clockFP() && v.prio < best.prio) {
			best = v
		}
	}
	return best
}

// sliceEnd is the fixed-point cycle at which v's next slice must stop. A
// quantum bounds it while another vCPU runs; a vCPU running alone goes on
// until something else could need the machine: the end of its time slice
// when threads wait for it, the next futex timeout, or (through
// makeRunnable) a thread it wakes or creates, and at the latest every
// checkCycles (interrupt.go). Slices are the host's main per-event cost,
// so a lone vCPU should not pay one per quantum.
func (m *Machine) sliceEnd(v *vcpu) uint64 {
	if m.cfg.Lockstep {
		return m.horizon(v)
	}
	for _, o := range m.vcpus {
		if o != v && o.cur != nil && !o.spinning {
			return addFP(v.clockFP(), toFP(m.cfg.Quantum))
		}
	}
	// Running alone: cut the slice every checkCycles, which changes
	// nothing but lets Interrupt and Progress act (interrupt.go).
	end := addFP(v.clockFP(), toFP(checkCycles))
	if len(m.runq) > 0 {
		end = max(addFP(v.sliceStartFP, toFP(m.cfg.Timeslice)), addFP(v.clockFP(), toFP(m.cfg.Quantum)))
	}
	if at, ok := m.kernel.NextTimerFP(); ok {
		end = min(end, max(at, v.clockFP()+1))
	}
	return end
}

// timerArmed cuts the running slice at a timer armed during it, as
// sliceEnd would have had the timer been there when the slice began.
func (m *Machine) timerArmed(at uint64) {
	if !m.running {
		return
	}
	c := m.curV.counters
	c.SetStopAt(min(c.StopAt(), max(at, m.curV.clockFP()+1)))
}

// makeRunnable puts t, ready at fixed-point cycle at, on an idle vCPU (the
// one with the lowest clock, so it starts as early as possible) or at the
// tail of the run queue. Called during a slice (clone, futex wake), it cuts
// the running vCPU's slice to a quantum, since another thread now competes.
func (m *Machine) makeRunnable(t *thread, at uint64) {
	t.readyAt = at
	if m.running {
		c := m.curV.counters
		c.SetStopAt(min(c.StopAt(), addFP(m.curV.clockFP(), toFP(m.cfg.Quantum))))
	}
	var idle *vcpu
	for _, v := range m.vcpus {
		if v.cur != nil {
			continue
		}
		if idle == nil || v.clockFP() < idle.clockFP() ||
			(v.clockFP() == idle.clockFP() && v.prio < idle.prio) {
			idle = v
		}
	}
	if idle != nil {
		m.give(idle, t)
		return
	}
	m.runq = append(m.runq, t)
}

// give starts t on the idle vCPU v.
func (m *Machine) give(v *vcpu, t *thread) {
	v.advanceTo(t.readyAt)
	if v.last != nil && v.last != t {
		v.counters.Add(0, m.jittered(t, m.cfg.Profile.Kernel.ContextSwitch)<<8)
		v.contextSwitches++
	}
	if mm := t.mm(); v.mm != mm {
		// switch_mm_irqs_off: the vCPU loads another process's page
		// tables. An idle vCPU keeps the last mm loaded (lazy TLB mode),
		// so going back to it costs nothing.
		if v.mm != nil {
			v.counters.Add(0, m.jittered(t, m.cfg.Profile.Kernel.AddressSpaceSwitch)<<8)
			v.mmSwitches++
		}
		v.mm = mm
	}
	v.cur = t
	v.sliceStartFP = v.clockFP()
	if v.id < 64 {
		t.vcpus |= 1 << v.id
	}
}

// release takes v's thread off it (blocked, exited or preempted) and gives v
// the next queued thread, if any.
func (m *Machine) release(v *vcpu) {
	v.last = v.cur
	v.cur = nil
	if len(m.runq) > 0 {
		t := m.runq[0]
		m.runq = m.runq[1:]
		m.give(v, t)
	}
}

// preempt moves v's thread to the tail of the run queue when its time slice
// is over and another thread waits.
func (m *Machine) preempt(v *vcpu) {
	t := v.cur
	t.readyAt = v.clockFP()
	m.runq = append(m.runq, t)
	m.release(v)
}

// load makes t's registers the engine's.
func (m *Machine) load(t *thread) error {
	if m.loaded != t {
		if o := m.loaded; o != nil && !o.exited() {
			if o.ctx == nil {
				ctx, err := m.core.NewContext()
				if err != nil {
					return err
				}
				o.ctx = ctx
			} else if err := m.core.SaveContext(o.ctx); err != nil {
				return err
			}
		}
		// The engine translates through the thread's address space (one
		// engine for every vCPU: its page table is switched as a CR3).
		if _, err := m.core.SwitchMM(t.mm()); err != nil {
			return err
		}
		if err := m.core.RestoreContext(t.ctx, t.kt); err != nil {
			return err
		}
		m.loaded = t
	}
	if len(t.pending) > 0 {
		regs := make([]uc.Reg, len(t.pending))
		vals := make([]uint64, len(t.pending))
		for i, p := range t.pending {
			regs[i], vals[i] = p.reg, p.val
		}
		t.pending = t.pending[:0]
		return m.core.WriteRegs(regs, vals)
	}
	return nil
}

// fireTimers fires, in (time, creation) order, every kernel timer (a
// futex or sleep timeout) due before the clock of every running vCPU (or,
// when none runs, the earliest one): the kernel wakes the sleepers, which
// makes them runnable at their deadline.
func (m *Machine) fireTimers() {
	for {
		at, ok := m.kernel.NextTimerFP()
		if !ok {
			return
		}
		if v := m.pick(); v != nil && at > v.clockFP() {
			return
		}
		m.kernel.FireNextTimer()
	}
}
