package probes

import "github.com/probesim/probesim/smp"

// The March 2006 repost's global lock (--strategy ssol-stack-2006): the
// repost ("[3/3 PATCH] Kprobes: User space probes support- single stepping
// out-of-line", Message-ID <20060320061123.GF31091@in.ibm.com>) steps out
// of line on the stack as ssol-stack does, but holds one spinlock for the
// whole system with interrupts off from the int3 to the end of the step:
// one hit in flight at a time. A vCPU whose thread hits while another
// holds it spins there, busy and not preemptible, until the holder's #DB
// releases it; then it takes the lock and its hit proceeds (the handler
// runs after the spin). Stats.LockSpins counts the spins and
// LockSpinCycles the cycles spun, which the vCPUs are charged
// (smp.Machine.SpinInKernel). The spinners get the lock in the order they
// came (a ticket lock; the spinlocks of 2006 were not fair). The lock
// itself, uncontended, costs nothing here.

// uprobeLock is the repost's lock.
type uprobeLock struct {
	owner    int // the holder's tid, 0 when free
	spinners []slotWaiter
}

// lockOrSpin takes the lock for t, or makes t spin for it (and reports
// false: the trap is handled, the thread comes back to the int3).
func (e *Engine) lockOrSpin(t *uprobeTask, p *probe) bool {
	l := e.lock
	if l.owner == 0 || l.owner == t.tid {
		l.owner = t.tid
		return true
	}
	t.state, t.active = utaskSpinLock, p
	l.spinners = append(l.spinners, slotWaiter{tid: t.tid, since: e.m.ClockFP() >> 8})
	e.stats.LockSpins++
	e.m.SpinInKernel()
	_ = e.m.SetPC(p.spec.Addr)
	return false
}

// unlock releases the lock t holds, handing it to the first spinner.
func (e *Engine) unlock(t *uprobeTask) {
	l := e.lock
	if l == nil || l.owner != t.tid {
		return
	}
	l.owner = 0
	for len(l.spinners) > 0 {
		w := l.spinners[0]
		l.spinners = l.spinners[1:]
		if e.m.WakeFromKernel(w.tid) {
			e.stats.LockSpinCycles += e.m.ClockFP()>>8 - w.since
			return
		}
	}
}

// resumeSpinner brings t back from spinning (its int3 trapped again).
func (e *Engine) resumeSpinner(t *uprobeTask, ev smp.TrapEvent) {
	e.m.ResumedTrap()
	t.state, t.active = utaskRunning, nil
}
