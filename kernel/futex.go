package kernel

import (
	"encoding/binary"
	"syscall"

	"github.com/probesim/probesim/mmu"
)

// futex(2): WAIT, WAKE, WAIT_BITSET, WAKE_BITSET, REQUEUE, CMP_REQUEUE
// and WAKE_OP, with timeouts in simulated time (kernel/futex/), and the
// robust list walked at thread exit. Every futex is private to the one
// guest process, so FUTEX_PRIVATE_FLAG changes nothing. Waiters wake in
// FIFO order of their wait, which is deterministic; a requeued waiter
// keeps its place in that order at the tail of the other futex's queue.
// The priority-inheritance commands are ENOSYS (counted as unsupported),
// as on a kernel without futex_cmpxchg.

const (
	futexWait          = 0
	futexWake          = 1
	futexFd            = 2
	futexRequeue       = 3
	futexCmpRequeue    = 4
	futexWakeOp        = 5
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexPrivateFlag   = 128
	futexClockRealtime = 256
	futexBitsetAll     = 0xffffffff
)

// futexQueues are the tasks waiting on each futex word, FIFO.
type futexQueues map[futexKey][]*futexWaiter

// futexKey names a futex word: its address in an address space, as
// get_futex_key keys a private futex by (mm, address). Deviation: shared
// futexes are keyed the same way (Linux keys them by inode or page), so a
// futex in memory two processes share wakes only waiters of the same
// process.
type futexKey struct {
	mm   *mmu.AddressSpace
	addr uint64
}

// futexKey is the key of addr in the address space of the task served.
func (k *Kernel) futexKey(addr uint64) futexKey { return futexKey{k.mm(), addr} }

type futexWaiter struct {
	t    *Task
	bits uint32
	addr uint64 // the futex it waits on now (requeue moves it)
}

var futexPINames = map[uint64]string{6: "FUTEX_LOCK_PI", 7: "FUTEX_UNLOCK_PI", 8: "FUTEX_TRYLOCK_PI",
	11: "FUTEX_WAIT_REQUEUE_PI", 12: "FUTEX_CMP_REQUEUE_PI", 13: "FUTEX_LOCK_PI2", futexFd: "FUTEX_FD"}

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
		case futexRequeue, futexCmpRequeue:
			// The timeout argument is the requeue count here.
			return k.futexRequeue(addr, a[4], int(int32(val)), int(int32(uint32(a[3]))), cmd == futexCmpRequeue, uint32(a[5]))
		case futexWakeOp:
			return k.futexWakeOp(addr, a[4], int(int32(val)), int(int32(uint32(a[3]))), uint32(a[5]))
		}
		if name, ok := futexPINames[cmd]; ok {
			k.unsupportedDetail("futex", name)
			return fail(syscall.ENOSYS)
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
		wakeAt = k.wakeTime(now, sec, nsec, absolute, realtime)
		if wakeAt <= now {
			return fail(syscall.ETIMEDOUT)
		}
		wakeAt = never(wakeAt) // too far to ever fire: no timeout
	}
	w := &futexWaiter{t: t, bits: bits, addr: addr}
	k.futexes[k.futexKey(addr)] = append(k.futexes[k.futexKey(addr)], w)
	return t.block(wakeAt, func() { k.futexDequeue(w.addr, w) }, func(t *Task, why wakeReason) (uint64, Result) {
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
	q := k.futexes[k.futexKey(addr)]
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
	k.setFutexQueue(k.futexKey(addr), q)
	return woken
}

// futexRequeue wakes up to nwake waiters of addr and moves up to
// nrequeue more to addr2 (FUTEX_REQUEUE), after checking that *addr is
// still val3 (FUTEX_CMP_REQUEUE: EAGAIN otherwise, the condvar's wait
// sequence moved on). It returns the woken plus the requeued.
func (k *Kernel) futexRequeue(addr, addr2 uint64, nwake, nrequeue int, cmp bool, val3 uint32) (uint64, Result) {
	if addr&3 != 0 || addr2&3 != 0 || nwake < 0 || nrequeue < 0 {
		return fail(syscall.EINVAL)
	}
	if cmp {
		cur, e := k.readU32(addr)
		if e != 0 {
			return fail(e)
		}
		if cur != val3 {
			return fail(syscall.EAGAIN)
		}
	}
	woken := k.futexWake(addr, nwake, futexBitsetAll)
	if addr == addr2 {
		return okv(uint64(woken))
	}
	q := k.futexes[k.futexKey(addr)]
	n := min(nrequeue, len(q))
	for _, w := range q[:n] {
		w.addr = addr2
	}
	k.futexes[k.futexKey(addr2)] = append(k.futexes[k.futexKey(addr2)], q[:n]...)
	k.setFutexQueue(k.futexKey(addr), append([]*futexWaiter(nil), q[n:]...))
	return okv(uint64(woken + n))
}

// futexWakeOp is FUTEX_WAKE_OP: *addr2 = op(*addr2, oparg) atomically,
// wake nwake waiters of addr, and nwake2 of addr2 if the old value
// compared with cmparg holds (include/uapi/linux/futex.h encoding).
func (k *Kernel) futexWakeOp(addr, addr2 uint64, nwake, nwake2 int, enc uint32) (uint64, Result) {
	if addr2&3 != 0 {
		return fail(syscall.EINVAL)
	}
	op, cmp := enc>>28&7, enc>>24&15
	oparg := int32(enc<<8) >> 20
	cmparg := int32(enc<<20) >> 20
	if enc>>28&8 != 0 { // FUTEX_OP_OPARG_SHIFT
		if oparg < 0 || oparg > 31 {
			return fail(syscall.EINVAL)
		}
		oparg = 1 << oparg
	}
	old, e := k.readU32(addr2)
	if e != 0 {
		return fail(e)
	}
	var nv uint32
	switch op {
	case 0:
		nv = uint32(oparg)
	case 1:
		nv = old + uint32(oparg)
	case 2:
		nv = old | uint32(oparg)
	case 3:
		nv = old &^ uint32(oparg)
	case 4:
		nv = old ^ uint32(oparg)
	default:
		return fail(syscall.ENOSYS)
	}
	b := newStruct(4)
	b.u32(0, nv)
	if e := k.writeBytes(addr2, b.b); e != 0 {
		return fail(e)
	}
	var hit bool
	o := int32(old)
	switch cmp {
	case 0:
		hit = o == cmparg
	case 1:
		hit = o != cmparg
	case 2:
		hit = o < cmparg
	case 3:
		hit = o <= cmparg
	case 4:
		hit = o > cmparg
	case 5:
		hit = o >= cmparg
	default:
		return fail(syscall.ENOSYS)
	}
	woken := k.futexWake(addr, nwake, futexBitsetAll)
	if hit {
		woken += k.futexWake(addr2, nwake2, futexBitsetAll)
	}
	return okv(uint64(woken))
}

// Robust futexes (kernel/futex/core.c exit_robust_list): at exit, every
// lock on the task's robust list whose owner is the task gets
// FUTEX_OWNER_DIED, and a waiter is woken.
const (
	futexWaiters   = 0x80000000
	futexOwnerDied = 0x40000000
	futexTIDMask   = 0x3fffffff
	robustListMax  = 2048 // ROBUST_LIST_LIMIT
)

func (k *Kernel) exitRobustList(t *Task) {
	head := t.RobustList
	if head == 0 {
		return
	}
	ws := uint64(k.cfg.Arch.wordSize())
	entry, e := k.readWord(head)
	if e != 0 {
		return
	}
	off, e := k.readWord(head + ws)
	if e != 0 {
		return
	}
	offset := int64(off)
	if ws == 4 {
		offset = int64(int32(off))
	}
	pending, e := k.readWord(head + 2*ws)
	if e != 0 {
		return
	}
	for n := 0; entry&^1 != head && n < robustListMax; n++ {
		next, e := k.readWord(entry &^ 1)
		if e != 0 {
			return
		}
		if entry&^1 != pending&^1 {
			k.robustDied(t, uint64(int64(entry&^1)+offset))
		}
		entry = next
	}
	if pending != 0 {
		k.robustDied(t, uint64(int64(pending&^1)+offset))
	}
}

// robustDied marks the futex word at addr as its owner's death (handle_futex_death).
func (k *Kernel) robustDied(t *Task, addr uint64) {
	if addr&3 != 0 {
		return
	}
	v, e := k.readU32(addr)
	if e != 0 || v&futexTIDMask != uint32(t.TID) {
		return
	}
	b := newStruct(4)
	b.u32(0, v&futexWaiters|futexOwnerDied)
	if k.writeBytes(addr, b.b) != 0 {
		return
	}
	if v&futexWaiters != 0 {
		k.futexWake(addr, 1, futexBitsetAll)
	}
}

// futexDequeue removes a waiter that woke for another reason.
func (k *Kernel) futexDequeue(addr uint64, w *futexWaiter) {
	key := futexKey{w.t.tg.mm, addr}
	q := k.futexes[key]
	for i, o := range q {
		if o == w {
			q = append(q[:i], q[i+1:]...)
			break
		}
	}
	k.setFutexQueue(key, q)
}

func (k *Kernel) setFutexQueue(key futexKey, q []*futexWaiter) {
	if len(q) == 0 {
		delete(k.futexes, key)
		return
	}
	k.futexes[key] = q
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
