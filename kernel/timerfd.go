package kernel

import (
	"encoding/binary"
	"syscall"
)

// timerfd (fs/timerfd.c): a timer in simulated time whose expirations a
// read returns as a 64-bit count, blocking while there are none. It runs
// on the kernel's timer queue, so it fires in global cycle order.

const (
	tfdTimerAbstime     = 1
	tfdTimerCancelOnSet = 2
	clockRealtimeAlarm  = 8
	clockBoottimeAlarm  = 9
)

type timerFD struct {
	FileDefaults
	k        *Kernel
	clock    int
	timer    *Timer
	interval uint64 // fixed-point cycles; 0 = one shot
	ticks    uint64
	q        WaitQueue
}

func (tf *timerFD) fire(at uint64) {
	tf.ticks++
	if next := addFP(at, tf.interval); tf.interval > 0 && next < neverFP {
		tf.timer.Arm(next)
	}
	tf.q.Notify(EventIn | EventRdNorm)
}

func (tf *timerFD) Read(f *FileDescription, dst []byte) (int, syscall.Errno) {
	if len(dst) < 8 {
		return 0, syscall.EINVAL
	}
	if tf.ticks == 0 {
		return 0, syscall.EAGAIN
	}
	binary.LittleEndian.PutUint64(dst, tf.ticks)
	tf.ticks = 0
	return 8, 0
}

func (tf *timerFD) Write(*FileDescription, []byte) (int, syscall.Errno) { return 0, syscall.EINVAL }

func (tf *timerFD) Readiness(mask EventMask) EventMask {
	if tf.ticks > 0 {
		return (EventIn | EventRdNorm) & (mask | eventsAlways)
	}
	return 0
}

func (tf *timerFD) Queue() *WaitQueue { return &tf.q }
func (tf *timerFD) Stat() fileStat    { return anonStat() }
func (tf *timerFD) linkText() string  { return "anon_inode:[timerfd]" }
func (tf *timerFD) Release()          { tf.timer.Disarm() }

func sysTimerfdCreate(k *Kernel, t *Task, a Args) (uint64, Result) {
	clock, flags := int(int32(a[0])), a[1]
	switch clock {
	case clockRealtime, clockMonotonic, clockBoottime:
	case clockRealtimeAlarm, clockBoottimeAlarm:
		return fail(syscall.EPERM) // CAP_WAKE_ALARM
	default:
		return fail(syscall.EINVAL)
	}
	if flags&^uint64(oCloexec|oNonblock) != 0 {
		return fail(syscall.EINVAL)
	}
	tf := &timerFD{k: k, clock: clock}
	tf.timer = k.timers.newTimer(tf.fire)
	f := NewFileDescription(tf, oReadWrite|uint32(flags)&oNonblock)
	fd, e := t.installFD(f, flags&oCloexec != 0)
	if e != 0 {
		return fail(e)
	}
	return okv(fd)
}

func (t *Task) timerFD(fd uint64) (*timerFD, syscall.Errno) {
	f := t.files.Get(fd)
	if f == nil {
		return nil, syscall.EBADF
	}
	tf, ok := f.impl.(*timerFD)
	if !ok {
		return nil, syscall.EINVAL
	}
	return tf, 0
}

// itimerspec reads or writes struct itimerspec {interval, value} of two
// timespecs (wide: 64-bit fields).
func (k *Kernel) readItimerspec(addr uint64, wide bool) (interval, value int64, e syscall.Errno) {
	size := uint64(8)
	if wide || k.cfg.Arch == X8664 {
		size = 16
	}
	is, in, e := k.readTimespec(addr, wide)
	if e != 0 {
		return 0, 0, e
	}
	vs, vn, e := k.readTimespec(addr+size, wide)
	if e != 0 {
		return 0, 0, e
	}
	if in < 0 || in >= 1e9 || vn < 0 || vn >= 1e9 || is < 0 || vs < 0 {
		return 0, 0, syscall.EINVAL
	}
	return is*1e9 + in, vs*1e9 + vn, 0
}

func (k *Kernel) writeItimerspec(addr uint64, interval, value uint64, wide bool) syscall.Errno {
	size := uint64(8)
	if wide || k.cfg.Arch == X8664 {
		size = 16
	}
	w := wide || k.cfg.Arch == X8664
	if e := k.putTime(addr, interval/1e9, interval%1e9, w); e != 0 {
		return e
	}
	return k.putTime(addr+size, value/1e9, value%1e9, w)
}

// fpToNS converts fixed-point cycles to nanoseconds.
func (k *Kernel) fpToNS(fp uint64) uint64 { return k.nanos(fp >> 8) }

func timerfdSettime(wide bool) Handler {
	return func(k *Kernel, t *Task, a Args) (uint64, Result) {
		tf, e := t.timerFD(a[0])
		if e != 0 {
			return fail(e)
		}
		flags := a[1]
		if flags&^uint64(tfdTimerAbstime|tfdTimerCancelOnSet) != 0 {
			return fail(syscall.EINVAL)
		}
		interval, value, e := k.readItimerspec(a[2], wide)
		if e != 0 {
			return fail(e)
		}
		if a[3] != 0 {
			oi, ov := tf.current()
			if e := k.writeItimerspec(a[3], oi, ov, wide); e != 0 {
				return fail(e)
			}
		}
		tf.timer.Disarm()
		tf.ticks = 0
		tf.interval = k.nsToFP(uint64(interval))
		if value == 0 {
			return ok0()
		}
		now := k.nowFP()
		at := addFP(now, k.nsToFP(uint64(value)))
		if flags&tfdTimerAbstime != 0 {
			ns := uint64(value)
			if tf.clock == clockRealtime {
				ns -= min(ns, Epoch*1_000_000_000)
			}
			at = k.nsToFP(ns)
		}
		if at <= now {
			// Already expired: it fires at once (and again per interval).
			at = now
		}
		if at >= neverFP {
			return ok0() // too far to ever fire
		}
		tf.timer.Arm(at)
		return ok0()
	}
}

// current is the timer's interval and time to the next expiration, in
// nanoseconds.
func (tf *timerFD) current() (interval, value uint64) {
	interval = tf.k.fpToNS(tf.interval)
	if at, ok := tf.timer.Armed(); ok {
		if now := tf.k.nowFP(); at > now {
			value = tf.k.fpToNS(at - now)
		} else {
			value = 1
		}
	}
	return interval, value
}

func timerfdGettime(wide bool) Handler {
	return func(k *Kernel, t *Task, a Args) (uint64, Result) {
		tf, e := t.timerFD(a[0])
		if e != 0 {
			return fail(e)
		}
		i, v := tf.current()
		return okOrFault(k.writeItimerspec(a[1], i, v, wide))
	}
}
