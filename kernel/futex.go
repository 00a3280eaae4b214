package kernel

import (
	"encoding/binary"
	"syscall"
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

// futexQueues are the tasks waiting on each futex word, FIFO.
type futexQueues map[uint64][]*futexWaiter

type futexWaiter struct {
	t    *Task
	bits uint32
}

// sysFutex serves "futex" (both ABIs, 32-bit timespec on i386) and
// "futex_time64" (i386, 64-bit timespec).
func sysFutex(wideTime bool) Handler {
	return func(k *Kernel, t *Task, a Args) (uint64, Result) {
		addr, op, val, timeout := a[0], a[1], uint32(a[2]), a[3]
		cmd := op &^ (futexPrivateFlag | futexClockRealtime)
		switch cmd {
		case futexWait:
			return k.futexWait(t, addr, val, futexBitsetAll, timeout, wideTime, false, false)
		case futexWaitBitset:
			return k.futexWait(t, addr, val, uint32(a[5]), timeout, wideTime, true, op&futexClockRealtime != 0)
		case futexWake:
			return okv(uint64(k.futexWake(addr, int(int32(val)), futexBitsetAll)))
		case futexWakeBitset:
			if uint32(a[5]) == 0 {
				return fail(syscall.EINVAL)
			}
			return okv(uint64(k.futexWake(addr, int(int32(val)), uint32(a[5]))))
		}
		return fail(syscall.ENOSYS)
	}
}

func (k *Kernel) futexWait(t *Task, addr uint64, val, bits uint32, timeout uint64, wide, absolute, realtime bool) (uint64, Result) {
	if addr&3 != 0 {
		return fail(syscall.EINVAL)
	}
	if bits == 0 {
		return fail(syscall.EINVAL)
	}
	cur, e := k.readU32(addr)
	if e != 0 {
		return fail(e)
	}
	if cur != val {
		return fail(syscall.EAGAIN)
	}
	now := k.nowFP()
	var wakeAt uint64
	if timeout != 0 {
		sec, nsec, e := k.readTimespec(timeout, wide)
		if e != 0 {
			return fail(e)
		}
		if nsec >= 1_000_000_000 || sec < 0 {
			return fail(syscall.EINVAL)
		}
		ns := uint64(sec)*1_000_000_000 + uint64(nsec)
		if absolute {
			if realtime {
				ns -= min(ns, Epoch*1_000_000_000)
			}
			wakeAt = k.nsToFP(ns)
		} else {
			wakeAt = now + k.nsToFP(ns)
		}
		if wakeAt <= now {
			return fail(syscall.ETIMEDOUT)
		}
	}
	w := &futexWaiter{t: t, bits: bits}
	k.futexes[addr] = append(k.futexes[addr], w)
	return t.block(wakeAt, func() { k.futexDequeue(addr, w) }, func(t *Task, why wakeReason) (uint64, Result) {
		switch why {
		case wokenByTimeout:
			return fail(syscall.ETIMEDOUT)
		case wokenBySignal:
			return fail(errRestartSys)
		}
		return ok0()
	})
}

// futexWake wakes up to n waiters on addr whose bitset meets bits.
func (k *Kernel) futexWake(addr uint64, n int, bits uint32) int {
	woken := 0
	q := k.futexes[addr]
	for i := 0; i < len(q) && woken < n; {
		w := q[i]
		if w.bits&bits == 0 {
			i++
			continue
		}
		q = append(q[:i], q[i+1:]...)
		w.t.wake(wokenByEvent, k.nowFP())
		woken++
	}
	k.setFutexQueue(addr, q)
	return woken
}

// futexDequeue removes a waiter that woke for another reason.
func (k *Kernel) futexDequeue(addr uint64, w *futexWaiter) {
	q := k.futexes[addr]
	for i, o := range q {
		if o == w {
			q = append(q[:i], q[i+1:]...)
			break
		}
	}
	k.setFutexQueue(addr, q)
}

func (k *Kernel) setFutexQueue(addr uint64, q []*futexWaiter) {
	if len(q) == 0 {
		delete(k.futexes, addr)
		return
	}
	k.futexes[addr] = q
}

// readTimespec reads a timespec: two longs on i386's "futex", two 64-bit
// fields for the *_time64 calls and on x86-64.
func (k *Kernel) readTimespec(addr uint64, wide bool) (int64, int64, syscall.Errno) {
	if k.cfg.Arch == I386 && !wide {
		b, e := k.readBytes(addr, 8)
		if e != 0 {
			return 0, 0, e
		}
		return int64(int32(binary.LittleEndian.Uint32(b))), int64(int32(binary.LittleEndian.Uint32(b[4:]))), 0
	}
	b, e := k.readBytes(addr, 16)
	if e != 0 {
		return 0, 0, e
	}
	return int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:])), 0
}

// nsToFP converts guest nanoseconds to fixed-point cycles.
func (k *Kernel) nsToFP(ns uint64) uint64 {
	f := k.cfg.FreqHz
	cycles := ns/1_000_000_000*f + ns%1_000_000_000*f/1_000_000_000
	return cycles << 8
}
