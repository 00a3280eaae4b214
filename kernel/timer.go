package kernel

import "container/heap"

// Timers in simulated time (kernel/time/hrtimer.c, reduced).
//
// A Timer fires once at its deadline, a fixed-point cycle of the global
// simulated clock. The machine asks for the earliest deadline
// (NextTimerFP) to bound the running vCPU's slice, and fires timers
// (FireNextTimer) once every running vCPU's clock has reached them, so a
// timer's effect (a wake-up, a signal) happens in global cycle order.
// Timers due at the same cycle fire in the order they were created, which
// makes a task's timeout (created with the task) fire in task creation
// order: deterministic, whatever armed them first.

// Timer is one timer; fire runs when it expires, with its deadline.
type Timer struct {
	q        *timerQueue
	seq      uint64
	deadline uint64 // fixed-point cycles
	index    int    // in the queue's heap; -1 when not armed
	fire     func(atFP uint64)
}

type timerQueue struct {
	heap timerHeap
	seq  uint64
	// onArm tells the scheduler of a new deadline (Scheduler.TimerArmed).
	onArm func(deadline uint64)
}

func (q *timerQueue) newTimer(fire func(atFP uint64)) *Timer {
	q.seq++
	return &Timer{q: q, seq: q.seq, index: -1, fire: fire}
}

// Arm sets the timer to fire at deadline (fixed-point cycles), replacing
// any earlier setting.
func (t *Timer) Arm(deadline uint64) {
	t.deadline = deadline
	if t.index >= 0 {
		heap.Fix(&t.q.heap, t.index)
	} else {
		heap.Push(&t.q.heap, t)
	}
	if t.q.onArm != nil {
		t.q.onArm(deadline)
	}
}

// Disarm cancels the timer if it is armed.
func (t *Timer) Disarm() {
	if t.index >= 0 {
		heap.Remove(&t.q.heap, t.index)
	}
}

// Armed reports whether the timer will fire, and when.
func (t *Timer) Armed() (deadline uint64, ok bool) { return t.deadline, t.index >= 0 }

// NextTimerFP is the earliest armed deadline, in fixed-point cycles.
func (k *Kernel) NextTimerFP() (uint64, bool) {
	if len(k.timers.heap) == 0 {
		return 0, false
	}
	return k.timers.heap[0].deadline, true
}

// FireNextTimer fires the timer with the earliest deadline. The machine
// calls it once no running vCPU is before that deadline.
func (k *Kernel) FireNextTimer() {
	if len(k.timers.heap) == 0 {
		return
	}
	t := heap.Pop(&k.timers.heap).(*Timer)
	k.firing = t.deadline
	t.fire(t.deadline)
	k.firing = 0
}

// nowFP is the time of the kernel event being served, in fixed-point
// cycles: the running vCPU's clock during a syscall, the deadline while a
// timer fires (whatever it wakes becomes ready then).
func (k *Kernel) nowFP() uint64 {
	if k.firing != 0 {
		return k.firing
	}
	return k.sched.NowFP()
}

// timerHeap orders armed timers by (deadline, creation).
type timerHeap []*Timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].deadline != h[j].deadline {
		return h[i].deadline < h[j].deadline
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	t := x.(*Timer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}
