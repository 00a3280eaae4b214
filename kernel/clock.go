package kernel

import (
	"math"
	"math/bits"
	"syscall"
)

// Clock ids the machine's sleep calls need.
const (
	ClockRealtime  = clockRealtime
	ClockMonotonic = clockMonotonic
	ClockBoottime  = clockBoottime
)

// Clock ids (include/uapi/linux/time.h).
const (
	clockRealtime         = 0
	clockMonotonic        = 1
	clockProcessCPUTimeID = 2
	clockThreadCPUTimeID  = 3
	clockMonotonicRaw     = 4
	clockRealtimeCoarse   = 5
	clockMonotonicCoarse  = 6
	clockBoottime         = 7
)

// nanos converts cycles of the simulated clock to nanoseconds, rounding
// down, in 128 bits: the split cycles/f*1e9 + cycles%f*1e9/f this replaced
// wrapped for any freq_hz above 18 GHz (the profile allows up to 1e12),
// and for a slow clock after enough cycles. Past 2^64-1 ns it saturates.
func (k *Kernel) nanos(cycles uint64) uint64 {
	f := k.cfg.FreqHz
	hi, lo := bits.Mul64(cycles, 1_000_000_000)
	if hi >= f {
		return math.MaxUint64
	}
	ns, _ := bits.Div64(hi, lo, f)
	return ns
}

// sinceEpoch is a time of the realtime clock: ns after Epoch, saturating.
func sinceEpoch(ns uint64) uint64 {
	t, carry := bits.Add64(Epoch*1_000_000_000, ns, 0)
	if carry != 0 {
		return math.MaxUint64
	}
	return t
}

// clockNanos reads clock id for thread t. Every clock derives from the
// simulated cycle count, so guest time is deterministic.
func (k *Kernel) clockNanos(t *Task, id uint64) (uint64, syscall.Errno) {
	if int32(id) < 0 {
		// A dynamic CPU clock (pthread_getcpuclockid, clock_getcpuclockid).
		clock, target, ok := k.decodeCPUClock(int32(id), t)
		if !ok {
			return 0, syscall.EINVAL
		}
		if target != nil {
			t = target
		}
		id = uint64(clock)
	}
	switch id {
	case clockRealtime, clockRealtimeCoarse:
		return sinceEpoch(k.nanos(k.cfg.Clock())), 0
	case clockMonotonic, clockMonotonicRaw, clockMonotonicCoarse, clockBoottime:
		return k.nanos(k.cfg.Clock()), 0
	case clockProcessCPUTimeID:
		return k.nanos(k.cfg.Clock()), 0
	case clockThreadCPUTimeID:
		if t.CPUCycles != nil {
			return k.nanos(t.CPUCycles()), 0
		}
		return k.nanos(k.cfg.Clock()), 0
	}
	return 0, syscall.EINVAL
}

// putTimespec writes a timespec of 2 longs (wide=false on i386) or of two
// 64-bit fields (the *_time64 calls and x86-64).
func (k *Kernel) putTime(addr uint64, sec, frac uint64, wide bool) syscall.Errno {
	if wide {
		b := newStruct(16)
		b.u64(0, sec)
		b.u64(8, frac)
		return k.writeBytes(addr, b.b)
	}
	b := newStruct(8)
	b.u32(0, uint32(sec))
	b.u32(4, uint32(frac))
	return k.writeBytes(addr, b.b)
}

func (k *Kernel) clockGettime(t *Task, id, addr uint64, wide bool) (uint64, Result) {
	ns, e := k.clockNanos(t, id)
	if e != 0 {
		return fail(e)
	}
	if e := k.putTime(addr, ns/1_000_000_000, ns%1_000_000_000, wide); e != 0 {
		return fail(e)
	}
	return ok0()
}

func sysClockGettime(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.clockGettime(t, a[0], a[1], k.cfg.Arch == X8664)
}

func sysClockGettime64(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.clockGettime(t, a[0], a[1], true)
}

// clockGetres reports 1 ns for every clock, as hrtimer-based clocks do.
func (k *Kernel) clockGetres(t *Task, id, addr uint64, wide bool) (uint64, Result) {
	if _, e := k.clockNanos(t, id); e != 0 {
		return fail(e)
	}
	if addr != 0 {
		if e := k.putTime(addr, 0, 1, wide); e != 0 {
			return fail(e)
		}
	}
	return ok0()
}

func sysClockGetres(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.clockGetres(t, a[0], a[1], k.cfg.Arch == X8664)
}

func sysClockGetresTime64(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.clockGetres(t, a[0], a[1], true)
}

func sysGettimeofday(k *Kernel, t *Task, a Args) (uint64, Result) {
	if a[0] != 0 {
		ns, _ := k.clockNanos(t, clockRealtime)
		if e := k.putTime(a[0], ns/1_000_000_000, ns%1_000_000_000/1000, k.cfg.Arch == X8664); e != 0 {
			return fail(e)
		}
	}
	if a[1] != 0 {
		// struct timezone: UTC, no DST.
		if e := k.writeBytes(a[1], make([]byte, 8)); e != 0 {
			return fail(e)
		}
	}
	return ok0()
}

func sysTime(k *Kernel, t *Task, a Args) (uint64, Result) {
	ns, _ := k.clockNanos(t, clockRealtime)
	sec := ns / 1_000_000_000
	if a[0] != 0 {
		b := newStruct(k.cfg.Arch.wordSize())
		b.word(k.cfg.Arch, 0, sec)
		if e := k.writeBytes(a[0], b.b); e != 0 {
			return fail(e)
		}
	}
	return okv(sec)
}
