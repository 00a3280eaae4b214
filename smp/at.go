package smp

import "slices"

// Work scheduled at a moment of global time.
//
// A tool outside the process (perf registering or removing a uprobe)
// changes it at a moment of time, not at an event of one of its threads.
// At schedules such work: fn runs once the clock of every running vCPU has
// reached the cycle (the global time is the slowest running vCPU's clock),
// and before any vCPU runs past it, since every slice stops at the next
// scheduled cycle; the vCPUs that stopped there resume after fn. In
// lockstep as in fast mode, everything before the cycle in global order
// has happened when fn runs and nothing after it has, so both modes see
// the change at the same point. Work scheduled for the same cycle runs in
// the order it was scheduled; a cycle already past runs at the next
// scheduling decision. Work still pending when the process ends never
// runs.
//
// fn runs on no vCPU (External reports true meanwhile): a kernel change
// it makes is charged as one made from a CPU outside the machine would be
// (KernelWriteCost).

// atWork is one piece of scheduled work.
type atWork struct {
	cycleFP uint64
	fn      func()
}

// atQueue is the scheduled work in (cycle, scheduling) order.
type atQueue struct {
	work     []atWork
	external bool   // a scheduled fn is running
	cycle    uint64 // its cycle, while it runs
}

// nextFP is the fixed-point cycle of the next scheduled work, or never.
func (q *atQueue) nextFP() uint64 {
	if len(q.work) == 0 {
		return ^uint64(0)
	}
	return q.work[0].cycleFP
}

// At schedules fn at cycle (see above).
func (m *Machine) At(cycle uint64, fn func()) {
	w := atWork{cycleFP: toFP(cycle), fn: fn}
	i, _ := slices.BinarySearchFunc(m.at.work, w.cycleFP+1, func(a atWork, c uint64) int {
		if a.cycleFP < c {
			return -1
		}
		return 1
	})
	m.at.work = slices.Insert(m.at.work, i, w)
}

// External reports whether scheduled work is running (on no vCPU).
func (m *Machine) External() bool { return m.at.external }

// runScheduled runs the work whose cycle every running vCPU has reached.
func (m *Machine) runScheduled() {
	for len(m.at.work) > 0 {
		w := m.at.work[0]
		if v := m.pick(); v == nil || v.clockFP() < w.cycleFP {
			return
		}
		m.at.work = m.at.work[1:]
		saved := m.curV
		m.curV, m.at.external, m.at.cycle = nil, true, w.cycleFP>>8
		w.fn()
		m.curV, m.at.external = saved, false
	}
}
