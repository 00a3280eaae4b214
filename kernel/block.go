package kernel

import "syscall"

// Blocking in simulated time.
//
// A syscall that must wait (futex, nanosleep, a read of an empty pipe)
// does not hold a goroutine: it records how to finish (a resume function)
// and returns Outcome Block; the machine takes the task off its vCPU. When
// something wakes the task (a futex wake, its timeout, an event on a wait
// queue), the kernel asks the scheduler to make it runnable; when the
// machine next loads it on a vCPU, in global cycle order, it calls Resume,
// which runs the resume function in the task's context: the syscall
// returns what it says, or blocks again. That is how Linux's schedule() in
// the middle of a syscall looks from outside: the work after the sleep
// happens when the task runs again.

// wakeReason says why a blocked task woke.
type wakeReason int

const (
	wokenByEvent   wakeReason = iota // a waker (futex wake, wait queue)
	wokenByTimeout                   // its deadline passed
	wokenBySignal                    // a signal it does not block (restart.go)
)

// blocker is the state of a task asleep in a syscall.
type blocker struct {
	// resume finishes the syscall after the wake-up.
	resume func(t *Task, why wakeReason) (uint64, Result)
	// cancel undoes what the sleep registered (a futex queue entry) when
	// the task wakes for another reason than its waker's.
	cancel func()
	why    wakeReason
	woken  bool
}

// block puts t to sleep in the current syscall until a waker calls wake,
// or until deadline (fixed-point cycles; 0 = none) passes.
func (t *Task) block(deadline uint64, cancel func(), resume func(*Task, wakeReason) (uint64, Result)) (uint64, Result) {
	t.state = TaskBlocked
	t.blocked = &blocker{resume: resume, cancel: cancel}
	if deadline != 0 {
		t.timer.Arm(deadline)
	}
	// The return value is written when the task resumes.
	return 0, Result{Outcome: Block}
}

// wake ends t's sleep for why, at fixed-point cycle at.
func (t *Task) wake(why wakeReason, at uint64) {
	b := t.blocked
	if b == nil || b.woken {
		return
	}
	b.why, b.woken = why, true
	t.timer.Disarm()
	t.state = TaskRunnable
	t.k.sched.Wake(t, at)
}

// fireTimeout is the task timer's expiry: the sleep's deadline passed.
func (t *Task) fireTimeout(at uint64) {
	b := t.blocked
	if b == nil || b.woken {
		return
	}
	if b.cancel != nil {
		b.cancel()
	}
	t.wake(wokenByTimeout, at)
}

// NeedsResume reports whether t woke from a sleep in a syscall that has
// not finished yet: the machine must call Resume before t runs user code.
func (t *Task) NeedsResume() bool { return t.blocked != nil && t.blocked.woken }

// Resume finishes the syscall t slept in and returns its result, as
// Syscall does (the task may block again).
func (k *Kernel) Resume(t *Task) (uint64, Result) {
	b := t.blocked
	t.blocked = nil
	k.cur = t
	ret, res := b.resume(t, b.why)
	if k.cfg.Arch == I386 {
		ret = uint64(uint32(ret))
	}
	t.restartPending = isRestart(ret)
	return ret, res
}

// Waitable is a file that can block a reader or writer: it reports its
// readiness and has a queue it notifies when that changes.
type Waitable interface {
	Readiness(mask EventMask) EventMask
	Queue() *WaitQueue
}

// blockOnFile puts t to sleep until f is ready for mask, then runs again
// (the syscall retries from the start, as a woken reader in pipe_read
// loops back). A file that cannot block reports EAGAIN as is.
func (t *Task) blockOnFile(f *FileDescription, mask EventMask, again func() (uint64, Result)) (uint64, Result) {
	w, ok := f.impl.(Waitable)
	if !ok {
		return fail(syscall.EAGAIN)
	}
	return t.blockOnQueues([]*WaitQueue{w.Queue()}, []EventMask{mask}, 0, func(_ *Task, why wakeReason) (uint64, Result) {
		if why == wokenBySignal {
			return fail(errRestartSys)
		}
		return again()
	})
}

// blockOnQueues puts t to sleep until one of the queues notifies an event
// of its mask, or deadline passes; resume finishes the syscall then.
func (t *Task) blockOnQueues(qs []*WaitQueue, masks []EventMask, deadline uint64,
	resume func(*Task, wakeReason) (uint64, Result)) (uint64, Result) {
	waiters := make([]*Waiter, len(qs))
	cancel := func() {
		for _, w := range waiters {
			w.Remove()
		}
	}
	for i, q := range qs {
		waiters[i] = NewWaiter(masks[i], func(EventMask) {
			cancel()
			t.wake(wokenByEvent, t.k.nowFP())
		})
		q.Add(waiters[i])
	}
	return t.block(deadline, cancel, resume)
}
