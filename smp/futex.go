package smp

import (
	"encoding/binary"
	"math"
	"math/bits"
	"syscall"

	"github.com/probesim/probesim/emu/linux"
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
func (m *Machine) sysFutex(wideTime bool) linux.Handler {
	return func(k *linux.Kernel, lt *linux.Thread, a linux.Args) (uint64, linux.Result) {
		t := m.byTID[lt.TID]
		addr, op, val, timeout := a[0], a[1], uint32(a[2]), a[3]
		cmd := op &^ (futexPrivateFlag | futexClockRealtime)
		switch cmd {
		case futexWait:
			return m.futexWait(t, addr, val, futexBitsetAll, timeout, wideTime, false, false)
		case futexWaitBitset:
			return m.futexWait(t, addr, val, uint32(a[5]), timeout, wideTime, true, op&futexClockRealtime != 0)
		case futexWake:
			return uint64(m.futexWake(addr, int(int32(val)), futexBitsetAll)), linux.Result{}
		case futexWakeBitset:
			if uint32(a[5]) == 0 {
				return linux.Errno(syscall.EINVAL), linux.Result{}
			}
			return uint64(m.futexWake(addr, int(int32(val)), uint32(a[5]))), linux.Result{}
		}
		return linux.Errno(syscall.ENOSYS), linux.Result{}
	}
}

func (m *Machine) futexWait(t *thread, addr uint64, val, bits uint32, timeout uint64, wide, absolute, realtime bool) (uint64, linux.Result) {
	fail := func(e syscall.Errno) (uint64, linux.Result) { return linux.Errno(e), linux.Result{} }
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
		wakeAt = m.wakeTime(now, sec, nsec, absolute, realtime)
		if wakeAt <= now {
			return fail(syscall.ETIMEDOUT)
		}
		if wakeAt >= neverFP {
			wakeAt = 0 // too far to ever fire: a wait without a timeout
		}
	}
	t.state = blocked
	t.futexAddr, t.futexBits, t.wakeAt = addr, bits, wakeAt
	m.waiters[addr] = append(m.waiters[addr], t)
	// The return value is written when it wakes (0, or -ETIMEDOUT).
	return 0, linux.Result{Outcome: linux.Block}
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
	if m.arch == linux.I386 && !wide {
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

// nsToFP converts guest nanoseconds to fixed-point cycles, rounding down
// and saturating at MaxUint64.
func (m *Machine) nsToFP(ns uint64) uint64 {
	hi, lo := bits.Mul64(ns, m.cfg.Profile.FreqHz)
	if hi >= 1_000_000_000 {
		return math.MaxUint64
	}
	cycles, _ := bits.Div64(hi, lo, 1_000_000_000)
	return toFP(cycles)
}

// wakeTime is the fixed-point cycle at which a timeout of sec seconds and
// nsec nanoseconds (both valid: sec >= 0, 0 <= nsec < 10^9) ends: after
// now, or, when absolute, at that time of the monotonic clock (or of the
// realtime one, which starts at linux.Epoch). It saturates like
// timespec64_to_ktime, which caps a timespec at KTIME_MAX.
func (m *Machine) wakeTime(now uint64, sec, nsec int64, absolute, realtime bool) uint64 {
	hi, ns := bits.Mul64(uint64(sec), 1_000_000_000)
	ns, carry := bits.Add64(ns, uint64(nsec), 0)
	if hi != 0 || carry != 0 {
		ns = math.MaxUint64
	}
	if !absolute {
		return addFP(now, m.nsToFP(ns))
	}
	if realtime {
		ns -= min(ns, linux.Epoch*1_000_000_000)
	}
	return m.nsToFP(ns)
}
