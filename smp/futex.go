package smp

import (
	"encoding/binary"
	"syscall"

	"github.com/probesim/probesim/kernel"
)

// futex(2): WAIT, WAKE, WAIT_BITSET and WAKE_BITSET, with timeouts in
// simulated time (kernel/futex/). Every futex is private to the one guest
// process, so FUTEX_PRIVATE_FLAG changes nothing. Waiters wake in FIFO order
// of their wait, which is deterministic.

const (
	futexWait          = 0
	futexWake          = 1
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexPrivateFlag   = 128
	futexClockRealtime = 256
	futexBitsetAll     = 0xffffffff
)

// sysFutex serves "futex" (both ABIs, 32-bit timespec on i386) and
// "futex_time64" (i386, 64-bit timespec).
func (m *Machine) sysFutex(wideTime bool) kernel.Handler {
	return func(k *kernel.Kernel, lt *kernel.Thread, a kernel.Args) (uint64, kernel.Result) {
		t := m.byTID[lt.TID]
		addr, op, val, timeout := a[0], a[1], uint32(a[2]), a[3]
		cmd := op &^ (futexPrivateFlag | futexClockRealtime)
		switch cmd {
		case futexWait:
			return m.futexWait(t, addr, val, futexBitsetAll, timeout, wideTime, false, false)
		case futexWaitBitset:
			return m.futexWait(t, addr, val, uint32(a[5]), timeout, wideTime, true, op&futexClockRealtime != 0)
		case futexWake:
			return uint64(m.futexWake(addr, int(int32(val)), futexBitsetAll)), kernel.Result{}
		case futexWakeBitset:
			if uint32(a[5]) == 0 {
				return kernel.Errno(syscall.EINVAL), kernel.Result{}
			}
			return uint64(m.futexWake(addr, int(int32(val)), uint32(a[5]))), kernel.Result{}
		}
		return kernel.Errno(syscall.ENOSYS), kernel.Result{}
	}
}

func (m *Machine) futexWait(t *thread, addr uint64, val, bits uint32, timeout uint64, wide, absolute, realtime bool) (uint64, kernel.Result) {
	fail := func(e syscall.Errno) (uint64, kernel.Result) { return kernel.Errno(e), kernel.Result{} }
	if addr&3 != 0 {
		return fail(syscall.EINVAL)
	}
	if bits == 0 {
		return fail(syscall.EINVAL)
	}
	var cur [4]byte
	if err := m.as.Read(addr, cur[:]); err != nil {
		return fail(syscall.EFAULT)
	}
	if binary.LittleEndian.Uint32(cur[:]) != val {
		return fail(syscall.EAGAIN)
	}
	now := m.curV.clockFP()
	var wakeAt uint64
	if timeout != 0 {
		sec, nsec, e := m.readTimespec(timeout, wide)
		if e != 0 {
			return fail(e)
		}
		if nsec >= 1_000_000_000 || sec < 0 {
			return fail(syscall.EINVAL)
		}
		ns := uint64(sec)*1_000_000_000 + uint64(nsec)
		if absolute {
			if realtime {
				ns -= min(ns, kernel.Epoch*1_000_000_000)
			}
			wakeAt = m.nsToFP(ns)
		} else {
			wakeAt = now + m.nsToFP(ns)
		}
		if wakeAt <= now {
			return fail(syscall.ETIMEDOUT)
		}
	}
	t.state = blocked
	t.futexAddr, t.futexBits, t.wakeAt = addr, bits, wakeAt
	m.waiters[addr] = append(m.waiters[addr], t)
	// The return value is written when it wakes (0, or -ETIMEDOUT).
	return 0, kernel.Result{Outcome: kernel.Block}
}

// futexWake wakes up to n waiters on addr whose bitset meets bits.
func (m *Machine) futexWake(addr uint64, n int, bits uint32) int {
	woken := 0
	q := m.waiters[addr]
	for i := 0; i < len(q) && woken < n; {
		t := q[i]
		if t.futexBits&bits == 0 {
			i++
			continue
		}
		q = append(q[:i], q[i+1:]...)
		t.wakeAt = 0
		t.setPending(m.core.RetReg(), 0)
		m.makeRunnable(t, m.curV.clockFP())
		woken++
	}
	m.setWaiters(addr, q)
	return woken
}

// futexDequeue removes a timed-out waiter.
func (m *Machine) futexDequeue(t *thread) {
	q := m.waiters[t.futexAddr]
	for i, w := range q {
		if w == t {
			q = append(q[:i], q[i+1:]...)
			break
		}
	}
	m.setWaiters(t.futexAddr, q)
	t.wakeAt = 0
}

func (m *Machine) setWaiters(addr uint64, q []*thread) {
	if len(q) == 0 {
		delete(m.waiters, addr)
		return
	}
	m.waiters[addr] = q
}

// readTimespec reads a timespec: two longs on i386's "futex", two 64-bit
// fields for futex_time64 and on x86-64.
func (m *Machine) readTimespec(addr uint64, wide bool) (int64, int64, syscall.Errno) {
	if m.arch == kernel.I386 && !wide {
		var b [8]byte
		if err := m.as.Read(addr, b[:]); err != nil {
			return 0, 0, syscall.EFAULT
		}
		return int64(int32(binary.LittleEndian.Uint32(b[:]))), int64(int32(binary.LittleEndian.Uint32(b[4:]))), 0
	}
	var b [16]byte
	if err := m.as.Read(addr, b[:]); err != nil {
		return 0, 0, syscall.EFAULT
	}
	return int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:])), 0
}

// nsToFP converts guest nanoseconds to fixed-point cycles.
func (m *Machine) nsToFP(ns uint64) uint64 {
	f := m.cfg.Profile.FreqHz
	cycles := ns/1_000_000_000*f + ns%1_000_000_000*f/1_000_000_000
	return cycles << 8
}
