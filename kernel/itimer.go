package kernel

import "syscall"

// Process timers in simulated time (kernel/time/itimer.c,
// kernel/time/posix-timers.c, kernel/time/posix-cpu-timers.c): alarm,
// setitimer/getitimer (ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF) and the
// POSIX timers of timer_create (CLOCK_REALTIME, CLOCK_MONOTONIC,
// CLOCK_BOOTTIME and the process and thread CPU clocks), with
// SIGEV_SIGNAL, SIGEV_THREAD_ID and SIGEV_NONE. They run on the kernel's
// timer queue, so expirations happen in global cycle order; a timer whose
// last signal is still pending counts an overrun instead of queueing
// another (SI_TIMER, si_overrun).
//
// A CPU-time timer is armed for the moment its clock would reach the
// expiry if the clock ran from now on; when that moment comes, a clock
// that has not got there yet (a thread that did not run all the time)
// re-arms the timer for the rest. The process CPU clock is the
// machine's clock, as CLOCK_PROCESS_CPUTIME_ID reads it here.

type procTimer struct {
	k        *Kernel
	proc     *Process // the process whose timer it is
	id       int
	clock    int
	timer    *Timer
	interval uint64 // nanoseconds of the clock; 0 = one shot
	expiry   uint64 // the clock's value at the next expiration (ns)
	// notification
	signo    int
	value    uint64
	target   *Task // SIGEV_THREAD_ID; nil = the process
	none     bool  // SIGEV_NONE
	overrun  int32
	pending  bool  // its signal is queued and not yet taken
	lastTake int32 // overrun reported with the last signal
}

// clockNow reads the timer's clock in nanoseconds.
func (pt *procTimer) clockNow() uint64 {
	k := pt.k
	switch pt.clock {
	case clockThreadCPUTimeID:
		if pt.target != nil && pt.target.CPUCycles != nil {
			return k.nanos(pt.target.CPUCycles())
		}
	case clockRealtime:
		return Epoch*1_000_000_000 + k.fpToNS(k.nowFP())
	}
	return k.fpToNS(k.nowFP())
}

// arm schedules the timer's next expiration at pt.expiry of its clock.
func (pt *procTimer) arm() {
	now := pt.clockNow()
	at := pt.k.nowFP()
	if pt.expiry > now {
		at = addFP(at, pt.k.nsToFP(pt.expiry-now))
	}
	if at < neverFP {
		pt.timer.Arm(at)
	}
}

func (pt *procTimer) fire(at uint64) {
	if now := pt.clockNow(); now < pt.expiry {
		pt.arm() // a CPU clock that did not run all the time
		return
	}
	if !pt.none {
		pt.notify()
	}
	if pt.interval > 0 {
		pt.expiry += pt.interval
		if now := pt.clockNow(); pt.expiry <= now {
			// Missed periods are overruns (hrtimer_forward).
			missed := (now-pt.expiry)/pt.interval + 1
			pt.expiry += missed * pt.interval
			pt.overrun += int32(missed)
		}
		pt.arm()
	}
}

// notify queues the timer's signal, or counts an overrun.
func (pt *procTimer) notify() {
	if pt.signo == 0 {
		return
	}
	if pt.pending {
		pt.overrun++
		return
	}
	info := sigInfo{signo: int32(pt.signo), code: siTimer, timerID: int32(pt.id), value: pt.value}
	if pt.id < 0 { // an itimer: SI_KERNEL, as the kernel's own signal
		info = sigInfo{signo: int32(pt.signo), code: siKernel}
	}
	pt.pending = pt.id >= 0
	if pt.target != nil {
		pt.k.sendToTask(pt.target, info)
	} else {
		pt.k.sendToGroup(pt.proc, info)
	}
	if pt.id >= 0 {
		pt.proc.timerSignals[pt.signo] = append(pt.proc.timerSignals[pt.signo], pt)
	}
}

// timerTaken is called when a SI_TIMER signal is dequeued: it carries
// the overruns counted while it was pending (posixtimer_rearm), and the
// timer may queue again.
func (k *Kernel) timerTaken(p *Process, info sigInfo) sigInfo {
	q := p.timerSignals[int(info.signo)]
	for i, pt := range q {
		if pt.id == int(info.timerID) {
			pt.pending = false
			info.overrun, pt.lastTake, pt.overrun = pt.overrun, pt.overrun, 0
			p.timerSignals[int(info.signo)] = append(q[:i], q[i+1:]...)
			break
		}
	}
	return info
}

// set arms (value != 0) or disarms the timer; value is relative unless
// abs, both in nanoseconds of the clock.
func (pt *procTimer) set(value, interval uint64, abs bool) {
	pt.timer.Disarm()
	pt.interval = interval
	pt.overrun = 0
	if value == 0 {
		pt.expiry = 0
		return
	}
	now := pt.clockNow()
	pt.expiry = now + value
	if abs {
		pt.expiry = value
	}
	pt.arm()
}

// get is the time to the next expiration and the interval (0, 0 when
// disarmed).
func (pt *procTimer) get() (value, interval uint64) {
	if _, ok := pt.timer.Armed(); !ok {
		return 0, pt.interval
	}
	if now := pt.clockNow(); pt.expiry > now {
		return pt.expiry - now, pt.interval
	}
	return 1, pt.interval
}

// The three itimers of the process (ids -1, -2, -3 keep them apart from
// POSIX timers).
const (
	itimerReal    = 0
	itimerVirtual = 1
	itimerProf    = 2
)

func (k *Kernel) itimer(which int) *procTimer {
	if k.self().itimers[which] == nil {
		clock, sig := clockMonotonic, SIGALRM
		switch which {
		case itimerVirtual:
			clock, sig = clockProcessCPUTimeID, 26 // SIGVTALRM
		case itimerProf:
			clock, sig = clockProcessCPUTimeID, 27 // SIGPROF
		}
		pt := &procTimer{k: k, proc: k.self(), id: -1 - which, clock: clock, signo: sig}
		pt.timer = k.timers.newTimer(pt.fire)
		k.self().itimers[which] = pt
	}
	return k.self().itimers[which]
}

// itimerval is struct itimerval {timeval interval, value}.
func (k *Kernel) readItimerval(addr uint64) (interval, value uint64, e syscall.Errno) {
	ws := uint64(k.cfg.Arch.wordSize())
	is, iu, e := k.readTimespec(addr, false)
	if e != 0 {
		return 0, 0, e
	}
	vs, vu, e := k.readTimespec(addr+2*ws, false)
	if e != 0 {
		return 0, 0, e
	}
	if iu < 0 || iu >= 1e6 || vu < 0 || vu >= 1e6 || is < 0 || vs < 0 {
		return 0, 0, syscall.EINVAL
	}
	return uint64(is)*1e9 + uint64(iu)*1000, uint64(vs)*1e9 + uint64(vu)*1000, 0
}

func (k *Kernel) writeItimerval(addr uint64, interval, value uint64) syscall.Errno {
	ws := uint64(k.cfg.Arch.wordSize())
	wide := k.cfg.Arch == X8664
	// A running timer never reports 0 (it_value rounds up to 1 us).
	usec := func(ns uint64) uint64 { return (ns + 999) / 1000 }
	iv, vv := usec(interval), usec(value)
	if e := k.putTime(addr, iv/1e6, iv%1e6, wide); e != 0 {
		return e
	}
	return k.putTime(addr+2*ws, vv/1e6, vv%1e6, wide)
}

func sysSetitimer(k *Kernel, t *Task, a Args) (uint64, Result) {
	which := int(int32(a[0]))
	if which < 0 || which > itimerProf {
		return fail(syscall.EINVAL)
	}
	pt := k.itimer(which)
	if a[2] != 0 {
		v, i := pt.get()
		if e := k.writeItimerval(a[2], i, v); e != 0 {
			return fail(e)
		}
	}
	if a[1] == 0 {
		pt.set(0, 0, false) // a NULL new value disarms (Linux 6.1 accepts it)
		return ok0()
	}
	interval, value, e := k.readItimerval(a[1])
	if e != 0 {
		return fail(e)
	}
	pt.set(value, interval, false)
	return ok0()
}

func sysGetitimer(k *Kernel, t *Task, a Args) (uint64, Result) {
	which := int(int32(a[0]))
	if which < 0 || which > itimerProf {
		return fail(syscall.EINVAL)
	}
	v, i := k.itimer(which).get()
	return okOrFault(k.writeItimerval(a[1], i, v))
}

// sysAlarm is alarm(seconds): ITIMER_REAL, the old value in seconds
// rounded to the nearest (at least 1 while running).
func sysAlarm(k *Kernel, t *Task, a Args) (uint64, Result) {
	pt := k.itimer(itimerReal)
	v, _ := pt.get()
	old := (v + 500_000_000) / 1e9
	if v > 0 && old == 0 {
		old = 1
	}
	pt.set(uint64(uint32(a[0]))*1e9, 0, false)
	return okv(old)
}

// POSIX timers.

const (
	sigevSignal   = 0
	sigevNone     = 1
	sigevThread   = 2
	sigevThreadID = 4
	maxTimers     = 1 << 16
)

// decodeCPUClock reads a dynamic CPU clock id (include/linux/posix-timers.h
// MAKE_PROCESS_CPUCLOCK, MAKE_THREAD_CPUCLOCK): ~pid << 3 | thread bit |
// type; pid 0 is the caller (thread or process).
func (k *Kernel) decodeCPUClock(id int32, t *Task) (clock int, target *Task, ok bool) {
	if id >= 0 {
		return int(id), nil, true
	}
	pid := int(^(id >> 3))
	if id&3 == 3 { // no such type
		return 0, nil, false
	}
	if id&4 != 0 {
		target = t
		if pid != 0 {
			target = k.tasks[pid]
			if target == nil || target.state == TaskExited {
				return 0, nil, false
			}
		}
		return clockThreadCPUTimeID, target, true
	}
	if pid != 0 && pid != t.tg.TGID {
		return 0, nil, false
	}
	return clockProcessCPUTimeID, nil, true
}

func sysTimerCreate(k *Kernel, t *Task, a Args) (uint64, Result) {
	clock, cpuTarget, ok := k.decodeCPUClock(int32(a[0]), t)
	if !ok {
		return fail(syscall.EINVAL)
	}
	switch clock {
	case clockRealtime, clockMonotonic, clockBoottime, clockProcessCPUTimeID, clockThreadCPUTimeID:
	case clockRealtimeAlarm, clockBoottimeAlarm:
		return fail(syscall.EPERM)
	default:
		return fail(syscall.EINVAL)
	}
	pt := &procTimer{k: k, proc: t.tg, clock: clock, signo: SIGALRM}
	if clock == clockThreadCPUTimeID {
		pt.target = t
		if cpuTarget != nil {
			pt.target = cpuTarget
		}
	}
	if a[1] != 0 {
		// struct sigevent: sigval, signo, notify, then the thread id.
		ws := k.cfg.Arch.wordSize()
		b, e := k.readBytes(a[1], ws+12)
		if e != 0 {
			return fail(e)
		}
		le := func(o int) uint32 { return uint32(b[o]) | uint32(b[o+1])<<8 | uint32(b[o+2])<<16 | uint32(b[o+3])<<24 }
		pt.value = uint64(le(0))
		if ws == 8 {
			pt.value |= uint64(le(4)) << 32
		}
		pt.signo = int(int32(le(ws)))
		notify := le(ws + 4)
		switch notify {
		case sigevNone:
			pt.none = true
		case sigevSignal:
		case sigevThreadID:
			tt := k.tasks[int(int32(le(ws+8)))]
			if tt == nil || tt.state == TaskExited || tt.tg != t.tg {
				return fail(syscall.EINVAL)
			}
			pt.target = tt
		default:
			// SIGEV_THREAD is the C library's: it never reaches the kernel.
			return fail(syscall.EINVAL)
		}
		if !pt.none && (pt.signo < 1 || pt.signo > numSignals) {
			return fail(syscall.EINVAL)
		}
	} else {
		pt.value = uint64(len(k.self().posixTimers))
	}
	id := -1
	for i, o := range k.self().posixTimers {
		if o == nil {
			id = i
			break
		}
	}
	if id < 0 {
		if len(k.self().posixTimers) >= maxTimers {
			return fail(syscall.EAGAIN)
		}
		id = len(k.self().posixTimers)
		k.self().posixTimers = append(k.self().posixTimers, nil)
	}
	pt.id = id
	if a[1] == 0 {
		pt.value = uint64(id)
	}
	b := newStruct(4)
	b.u32(0, uint32(id))
	if e := k.writeBytes(a[2], b.b); e != 0 {
		return fail(e)
	}
	pt.timer = k.timers.newTimer(pt.fire)
	k.self().posixTimers[id] = pt
	return ok0()
}

func (k *Kernel) posixTimer(id uint64) *procTimer {
	if id < uint64(len(k.self().posixTimers)) {
		return k.self().posixTimers[id]
	}
	return nil
}

func timerSettimeHandler(wide bool) Handler {
	return func(k *Kernel, t *Task, a Args) (uint64, Result) {
		pt := k.posixTimer(uint64(uint32(a[0])))
		if pt == nil {
			return fail(syscall.EINVAL)
		}
		interval, value, e := k.readItimerspec(a[2], wide)
		if e != 0 {
			return fail(e)
		}
		if a[3] != 0 {
			v, i := pt.get()
			if e := k.writeItimerspec(a[3], i, v, wide); e != 0 {
				return fail(e)
			}
		}
		pt.set(uint64(value), uint64(interval), a[1]&timerAbstime != 0)
		return ok0()
	}
}

func timerGettimeHandler(wide bool) Handler {
	return func(k *Kernel, t *Task, a Args) (uint64, Result) {
		pt := k.posixTimer(uint64(uint32(a[0])))
		if pt == nil {
			return fail(syscall.EINVAL)
		}
		v, i := pt.get()
		return okOrFault(k.writeItimerspec(a[1], i, v, wide))
	}
}

func sysTimerGetoverrun(k *Kernel, t *Task, a Args) (uint64, Result) {
	pt := k.posixTimer(uint64(uint32(a[0])))
	if pt == nil {
		return fail(syscall.EINVAL)
	}
	return okv(uint64(pt.lastTake))
}

func sysTimerDelete(k *Kernel, t *Task, a Args) (uint64, Result) {
	id := uint64(uint32(a[0]))
	pt := k.posixTimer(id)
	if pt == nil {
		return fail(syscall.EINVAL)
	}
	pt.timer.Disarm()
	k.self().posixTimers[id] = nil
	return ok0()
}
