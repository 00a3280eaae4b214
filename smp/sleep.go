package smp

import (
	"syscall"

	"github.com/probesim/probesim/emu/linux"
)

// nanosleep and clock_nanosleep sleep in simulated time: the thread blocks
// until its vCPU-independent wake-up cycle, and its vCPU runs something
// else or idles meanwhile (kernel/time/hrtimer.c). Signals cannot interrupt
// a sleep (none are delivered), so the remaining time is never written.

const timerAbstime = 1

func (m *Machine) sysNanosleep(wide bool) linux.Handler {
	return func(k *linux.Kernel, lt *linux.Thread, a linux.Args) (uint64, linux.Result) {
		return m.sleep(lt, linux.ClockMonotonic, a[0], false, wide)
	}
}

func (m *Machine) sysClockNanosleep(wide bool) linux.Handler {
	return func(k *linux.Kernel, lt *linux.Thread, a linux.Args) (uint64, linux.Result) {
		switch a[0] {
		case linux.ClockRealtime, linux.ClockMonotonic, linux.ClockBoottime:
		default:
			return linux.Errno(syscall.EINVAL), linux.Result{}
		}
		return m.sleep(lt, int(a[0]), a[2], a[1]&timerAbstime != 0, wide)
	}
}

func (m *Machine) sleep(lt *linux.Thread, clock int, req uint64, absolute, wide bool) (uint64, linux.Result) {
	sec, nsec, e := m.readTimespec(req, wide)
	if e != 0 {
		return linux.Errno(e), linux.Result{}
	}
	if sec < 0 || nsec < 0 || nsec >= 1_000_000_000 {
		return linux.Errno(syscall.EINVAL), linux.Result{}
	}
	now := m.curV.clockFP()
	wakeAt := m.wakeTime(now, sec, nsec, absolute, clock == linux.ClockRealtime)
	if wakeAt <= now {
		return 0, linux.Result{}
	}
	if wakeAt >= neverFP {
		// Too far to ever come: the thread sleeps for good, and if nothing
		// else runs the machine ends the run as deadlocked.
		wakeAt = 0
	}
	t := m.byTID[lt.TID]
	t.state = blocked
	t.futexAddr, t.wakeAt = 0, wakeAt
	return 0, linux.Result{Outcome: linux.Block}
}
