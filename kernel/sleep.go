package kernel

import "syscall"

// nanosleep and clock_nanosleep sleep in simulated time: the task blocks
// until its vCPU-independent wake-up cycle, and its vCPU runs something
// else or idles meanwhile (kernel/time/hrtimer.c). A signal with a
// handler interrupts a sleep: EINTR, with the time left written to rem
// for a relative sleep (ERESTART_RESTARTBLOCK, ERESTARTNOHAND for an
// absolute one).

const timerAbstime = 1

func sysNanosleep(wide bool) Handler {
	return func(k *Kernel, t *Task, a Args) (uint64, Result) {
		return k.sleep(t, clockMonotonic, a[0], a[1], false, wide)
	}
}

func sysClockNanosleep(wide bool) Handler {
	return func(k *Kernel, t *Task, a Args) (uint64, Result) {
		switch a[0] {
		case clockRealtime, clockMonotonic, clockBoottime:
		case clockProcessCPUTimeID:
			// Linux sleeps until the process has used that much CPU time
			// (posix_cpu_nsleep); not modelled.
			k.unsupportedDetail("clock_nanosleep", "CLOCK_PROCESS_CPUTIME_ID")
			return fail(syscall.EINVAL)
		default:
			return fail(syscall.EINVAL) // as Linux: CLOCK_THREAD_CPUTIME_ID included
		}
		return k.sleep(t, int(a[0]), a[2], a[3], a[1]&timerAbstime != 0, wide)
	}
}

func (k *Kernel) sleep(t *Task, clock int, req, rem uint64, absolute, wide bool) (uint64, Result) {
	sec, nsec, e := k.readTimespec(req, wide)
	if e != 0 {
		return fail(e)
	}
	if sec < 0 || nsec < 0 || nsec >= 1_000_000_000 {
		return fail(syscall.EINVAL)
	}
	now := k.nowFP()
	wakeAt := k.wakeTime(now, sec, nsec, absolute, clock == clockRealtime)
	if wakeAt <= now {
		return ok0()
	}
	// Too far to ever come: the task sleeps for good, and if nothing else
	// runs the machine ends the run as deadlocked.
	wakeAt = never(wakeAt)
	// A sleep that ran its course returns 0.
	return t.block(wakeAt, nil, func(_ *Task, why wakeReason) (uint64, Result) {
		if why != wokenBySignal {
			return ok0()
		}
		if absolute {
			return fail(errRestartNoHand)
		}
		if rem != 0 {
			var left uint64
			if now := k.nowFP(); wakeAt > now {
				left = k.fpToNS(wakeAt - now)
			}
			if e := k.putTime(rem, left/1e9, left%1e9, wide || k.cfg.Arch == X8664); e != 0 {
				return fail(e)
			}
		}
		return fail(errRestartBlock)
	})
}
