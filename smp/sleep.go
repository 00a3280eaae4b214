package smp

import (
	"syscall"

	"github.com/probesim/probesim/kernel"
)

// nanosleep and clock_nanosleep sleep in simulated time: the thread blocks
// until its vCPU-independent wake-up cycle, and its vCPU runs something
// else or idles meanwhile (kernel/time/hrtimer.c). Signals cannot interrupt
// a sleep (none are delivered), so the remaining time is never written.

const timerAbstime = 1

func (m *Machine) sysNanosleep(wide bool) kernel.Handler {
	return func(k *kernel.Kernel, lt *kernel.Thread, a kernel.Args) (uint64, kernel.Result) {
		return m.sleep(lt, kernel.ClockMonotonic, a[0], false, wide)
	}
}

func (m *Machine) sysClockNanosleep(wide bool) kernel.Handler {
	return func(k *kernel.Kernel, lt *kernel.Thread, a kernel.Args) (uint64, kernel.Result) {
		switch a[0] {
		case kernel.ClockRealtime, kernel.ClockMonotonic, kernel.ClockBoottime:
		default:
			return kernel.Errno(syscall.EINVAL), kernel.Result{}
		}
		return m.sleep(lt, int(a[0]), a[2], a[1]&timerAbstime != 0, wide)
	}
}

func (m *Machine) sleep(lt *kernel.Thread, clock int, req uint64, absolute, wide bool) (uint64, kernel.Result) {
	sec, nsec, e := m.readTimespec(req, wide)
	if e != 0 {
		return kernel.Errno(e), kernel.Result{}
	}
	if sec < 0 || nsec < 0 || nsec >= 1_000_000_000 {
		return kernel.Errno(syscall.EINVAL), kernel.Result{}
	}
	now := m.curV.clockFP()
	ns := uint64(sec)*1_000_000_000 + uint64(nsec)
	wakeAt := now + m.nsToFP(ns)
	if absolute {
		if clock == kernel.ClockRealtime {
			ns -= min(ns, kernel.Epoch*1_000_000_000)
		}
		wakeAt = m.nsToFP(ns)
	}
	if wakeAt <= now {
		return 0, kernel.Result{}
	}
	t := m.byTID[lt.TID]
	t.state = blocked
	t.futexAddr, t.wakeAt = 0, wakeAt
	return 0, kernel.Result{Outcome: kernel.Block}
}
