package smp

// Global cycle order of ordered events.
//
// Between scheduling decisions a vCPU may run up to a quantum ahead of the
// others, so plain memory accesses are ordered only to within a quantum.
// Syscalls and executions of watched addresses are ordered exactly: the
// running vCPU may perform one only while no other running vCPU has a lower
// clock (ties go to the lower seed-drawn rank); otherwise emu stops before
// the event and the loop resumes the vCPU once it is the lowest again.

// WatchEvent is one execution of a watched address, in global cycle order.
type WatchEvent struct {
	Cycle uint64 // the vCPU's clock when the instruction executes
	VCPU  int
	TID   int
	Addr  uint64
}

// before reports whether a comes before b in the global order.
func before(a, b *vcpu) bool {
	return a.clockFP() < b.clockFP() || (a.clockFP() == b.clockFP() && a.prio < b.prio)
}

// mayProceed is true when no other running vCPU is behind the running one.
func (m *Machine) mayProceed() bool {
	v := m.curV
	for _, o := range m.vcpus {
		if o != v && o.cur != nil && !o.spinning && before(o, v) {
			return false
		}
	}
	return true
}

// horizon is, for lockstep, the clock at which v must stop: a block may
// start only while v is not ahead of any other running vCPU.
func (m *Machine) horizon(v *vcpu) uint64 {
	h := ^uint64(0)
	for _, o := range m.vcpus {
		if o == v || o.cur == nil || o.spinning {
			continue
		}
		lim := o.clockFP()
		if v.prio < o.prio {
			lim++ // v wins ties with o
		}
		h = min(h, lim)
	}
	if h == ^uint64(0) {
		return addFP(v.clockFP(), toFP(m.cfg.Quantum))
	}
	return h
}

// Watch makes every execution of the instruction at addr an ordered event:
// it is recorded (WatchEvents) and fn, if not nil, is called at that cycle
// on the executing vCPU, before the instruction runs. Watching costs a
// Go call per execution of the instruction, and a code hook that Unicorn
// checks at every hooked instruction.
func (m *Machine) Watch(addr uint64, fn func(WatchEvent)) error {
	if err := m.core.Watch(addr); err != nil {
		return err
	}
	if m.watchFns == nil {
		m.watchFns = map[uint64]func(WatchEvent){}
	}
	m.watchFns[addr] = fn
	return nil
}

// WatchBlocks is Watch at block granularity: the event happens when an
// executed block that holds the instruction at addr starts (so the block's
// instructions before addr run after it), at the cycle the instruction
// would have, as the block is charged at its start. It costs nothing per
// instruction and no retranslation, and may be added and removed while
// the machine runs (from a trap or watch handler): the probe engine
// watches a probe this way only while its original byte is back.
func (m *Machine) WatchBlocks(addr uint64, fn func(WatchEvent)) error {
	if err := m.core.WatchBlocks(addr); err != nil {
		return err
	}
	if m.watchFns == nil {
		m.watchFns = map[uint64]func(WatchEvent){}
	}
	m.watchFns[addr] = fn
	return nil
}

// UnwatchBlocks stops WatchBlocks of addr.
func (m *Machine) UnwatchBlocks(addr uint64) {
	delete(m.watchFns, addr)
	m.core.UnwatchBlocks(addr)
}

// WatchEvents returns the executions of watched addresses, in order (a new
// slice on every call).
func (m *Machine) WatchEvents() []WatchEvent { return m.watchEvents.All() }

// onWatch is the Core's watch gate.
func (m *Machine) onWatch(addr uint64) bool {
	if !m.mayProceed() {
		return false
	}
	v := m.curV
	ev := WatchEvent{Cycle: v.clockFP() >> 8, VCPU: v.id, TID: v.cur.kt.TID, Addr: addr}
	m.watchEvents.Add(ev)
	if fn := m.watchFns[addr]; fn != nil {
		fn(ev)
	}
	return true
}
