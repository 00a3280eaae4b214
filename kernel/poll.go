package kernel

import (
	"math"
	"syscall"
)

// poll, ppoll, select, pselect6 and i386's old select and _newselect
// (fs/select.c), over the files' readiness and wait queues, with
// timeouts in simulated time. A task with nothing ready sleeps on the
// queues of every file it polls until one notifies or its deadline
// passes, then looks again; the deadline is fixed at the first look.

// readiness is what f is ready for among mask (errors and hang-ups are
// always reported). A file without a wait queue never blocks: it is
// always ready, as regular files are (DEFAULT_POLLMASK).
func readiness(f *FileDescription, mask EventMask) EventMask {
	if w, ok := f.impl.(Waitable); ok {
		return w.Readiness(mask)
	}
	return (EventIn | EventRdNorm | EventOut | EventWrNorm) & (mask | eventsAlways)
}

// deadlineFor turns a relative timeout in nanoseconds (<0: none, 0: do
// not wait) into a deadline in fixed-point cycles (0: none; noWait: 0).
const noWait = 1

// timeoutArg reads the relative timespec timeout at addr (wide: 64-bit
// fields on i386) as nanoseconds, saturating: -1 when addr is 0 (no
// timeout), EINVAL for a negative or unnormalised one.
func (k *Kernel) timeoutArg(addr uint64, wide bool) (int64, syscall.Errno) {
	if addr == 0 {
		return -1, 0
	}
	sec, nsec, e := k.readTimespec(addr, wide)
	if e != 0 {
		return 0, e
	}
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, syscall.EINVAL
	}
	if sec > (math.MaxInt64-nsec)/1e9 {
		return math.MaxInt64, 0
	}
	return sec*1e9 + nsec, 0
}

func (k *Kernel) deadlineFor(ns int64) uint64 {
	switch {
	case ns < 0:
		return 0
	case ns == 0:
		return noWait
	}
	return never(addFP(k.nowFP(), k.nsToFP(uint64(ns))))
}

// waitReady sleeps until a file of fs notifies one of its mask, or
// deadline passes, then runs again (again has the deadline built in).
// A timed-out wait runs timedOut instead.
func (t *Task) waitReady(fs []*FileDescription, masks []EventMask, deadline uint64, interrupted syscall.Errno,
	again func() (uint64, Result), timedOut func() (uint64, Result)) (uint64, Result) {
	if deadline == noWait || deadline != 0 && deadline <= t.k.nowFP() {
		return timedOut()
	}
	var qs []*WaitQueue
	var ms []EventMask
	for i, f := range fs {
		if w, ok := f.impl.(Waitable); ok {
			qs = append(qs, w.Queue())
			ms = append(ms, masks[i])
		}
	}
	return t.blockOnQueues(qs, ms, deadline, func(t *Task, why wakeReason) (uint64, Result) {
		switch why {
		case wokenByTimeout:
			return timedOut()
		case wokenBySignal:
			return fail(interrupted)
		}
		return again()
	})
}

type pollFD struct {
	fd      int32
	events  uint16
	revents uint16
}

func sysPoll(k *Kernel, t *Task, a Args) (uint64, Result) {
	ms := int64(int32(a[2]))
	ns := int64(-1)
	if ms >= 0 {
		ns = ms * 1e6
	}
	return k.poll(t, a[0], a[1], k.deadlineFor(ns), 0)
}

func ppollHandler(wide bool) Handler {
	return func(k *Kernel, t *Task, a Args) (uint64, Result) {
		ns, e := k.timeoutArg(a[2], wide)
		if e != 0 {
			return fail(e)
		}
		if e := k.tempMaskArg(t, a[3], a[4]); e != 0 {
			return fail(e)
		}
		return k.poll(t, a[0], a[1], k.deadlineFor(ns), a[3])
	}
}

// poll reads the pollfd array and polls it until deadline.
func (k *Kernel) poll(t *Task, addr, nfds uint64, deadline uint64, sigmask uint64) (uint64, Result) {
	if nfds > k.nofile() {
		return fail(syscall.EINVAL)
	}
	raw, e := k.readBytes(addr, int(nfds*8))
	if e != 0 {
		return fail(e)
	}
	fds := make([]pollFD, nfds)
	for i := range fds {
		b := raw[i*8:]
		fds[i].fd = int32(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
		fds[i].events = uint16(b[4]) | uint16(b[5])<<8
	}
	return k.pollLoop(t, addr, fds, deadline)
}

func (k *Kernel) pollLoop(t *Task, addr uint64, fds []pollFD, deadline uint64) (uint64, Result) {
	n := 0
	var files []*FileDescription
	var masks []EventMask
	for i := range fds {
		p := &fds[i]
		p.revents = 0
		if p.fd < 0 {
			continue
		}
		f := t.files.Get(uint64(p.fd))
		if f == nil {
			p.revents = uint16(EventNVal)
			n++
			continue
		}
		mask := EventMask(p.events)
		if r := readiness(f, mask); r != 0 {
			p.revents = uint16(r)
			n++
			continue
		}
		files, masks = append(files, f), append(masks, mask)
	}
	finish := func() (uint64, Result) {
		out := newStruct(len(fds) * 8)
		for i, p := range fds {
			out.u32(i*8, uint32(p.fd))
			out.u16(i*8+4, p.events)
			out.u16(i*8+6, p.revents)
		}
		if e := k.writeBytes(addr, out.b); e != 0 {
			return fail(e)
		}
		return okv(uint64(n))
	}
	if n > 0 {
		return finish()
	}
	return t.waitReady(files, masks, deadline, errRestartNoHand,
		func() (uint64, Result) { return k.pollLoop(t, addr, fds, deadline) },
		finish)
}

// select: three bitmaps of nfds bits (longs of the ABI).

const (
	selectIn  = EventIn | EventRdNorm | EventRdBand | EventHUp | EventErr
	selectOut = EventOut | EventWrNorm | EventWrBand | EventErr
	selectEx  = EventPri
)

type fdSets struct {
	addr [3]uint64
	bits [3][]byte
}

func (k *Kernel) selectFDs(t *Task, nfds int, sets fdSets, deadline uint64, tv uint64, tvWide, tvMicro bool) (uint64, Result) {
	if nfds < 0 {
		return fail(syscall.EINVAL)
	}
	if uint64(nfds) > k.nofile() {
		nfds = int(k.nofile())
	}
	ws := k.cfg.Arch.wordSize()
	size := (nfds + 8*ws - 1) / (8 * ws) * ws
	for i := range sets.bits {
		if sets.addr[i] == 0 {
			continue
		}
		b, e := k.readBytes(sets.addr[i], size)
		if e != 0 {
			return fail(e)
		}
		sets.bits[i] = b
	}
	for fd := 0; fd < nfds; fd++ {
		for i := range sets.bits {
			if sets.bits[i] != nil && sets.bits[i][fd/8]&(1<<(fd%8)) != 0 && t.files.Get(uint64(fd)) == nil {
				return fail(syscall.EBADF)
			}
		}
	}
	return k.selectLoop(t, nfds, sets, deadline, tv, tvWide, tvMicro)
}

func (k *Kernel) selectLoop(t *Task, nfds int, sets fdSets, deadline uint64, tv uint64, tvWide, tvMicro bool) (uint64, Result) {
	var out [3][]byte
	for i := range sets.bits {
		if sets.bits[i] != nil {
			out[i] = make([]byte, len(sets.bits[i]))
		}
	}
	n := 0
	var files []*FileDescription
	var masks []EventMask
	for fd := 0; fd < nfds; fd++ {
		var want EventMask
		for i, m := range []EventMask{selectIn, selectOut, selectEx} {
			if sets.bits[i] != nil && sets.bits[i][fd/8]&(1<<(fd%8)) != 0 {
				want |= m
			}
		}
		if want == 0 {
			continue
		}
		f := t.files.Get(uint64(fd))
		if f == nil {
			return fail(syscall.EBADF)
		}
		r := readiness(f, want)
		hit := false
		for i, m := range []EventMask{selectIn, selectOut, selectEx} {
			if sets.bits[i] != nil && sets.bits[i][fd/8]&(1<<(fd%8)) != 0 && r&m != 0 {
				out[i][fd/8] |= 1 << (fd % 8)
				n++
				hit = true
			}
		}
		if !hit {
			files, masks = append(files, f), append(masks, want)
		}
	}
	finish := func() (uint64, Result) {
		for i := range out {
			if out[i] != nil {
				if e := k.writeBytes(sets.addr[i], out[i]); e != 0 {
					return fail(e)
				}
			}
		}
		if tv != 0 && deadline > noWait {
			// Linux writes back the time left (poll_select_finish).
			var left uint64
			if now := k.nowFP(); deadline > now {
				left = k.fpToNS(deadline - now)
			}
			frac := left % 1e9
			if tvMicro {
				frac /= 1000
			}
			if e := k.putTime(tv, left/1e9, frac, tvWide); e != 0 {
				return fail(e)
			}
		}
		return okv(uint64(n))
	}
	if n > 0 {
		return finish()
	}
	return t.waitReady(files, masks, deadline, errRestartNoHand,
		func() (uint64, Result) { return k.selectLoop(t, nfds, sets, deadline, tv, tvWide, tvMicro) },
		finish)
}

// sysSelect is select(nfds, r, w, e, struct timeval *) (x86-64 select,
// i386 _newselect).
func sysSelect(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.selectTimeval(t, int(int32(a[0])), fdSets{addr: [3]uint64{a[1], a[2], a[3]}}, a[4])
}

func (k *Kernel) selectTimeval(t *Task, nfds int, sets fdSets, tv uint64) (uint64, Result) {
	ns := int64(-1)
	wide := k.cfg.Arch == X8664
	if tv != 0 {
		sec, usec, e := k.readTimespec(tv, wide)
		if e != 0 {
			return fail(e)
		}
		if sec < 0 || usec < 0 {
			return fail(syscall.EINVAL)
		}
		ns = sec*1e9 + usec*1000
	}
	return k.selectFDs(t, nfds, sets, k.deadlineFor(ns), tv, wide, true)
}

// sysOldSelect is i386's select (82), whose five arguments are in memory.
func sysOldSelect(k *Kernel, t *Task, a Args) (uint64, Result) {
	v, e := k.argBlock32(a[0], 5)
	if e != 0 {
		return fail(e)
	}
	return k.selectTimeval(t, int(int32(v[0])), fdSets{addr: [3]uint64{v[1], v[2], v[3]}}, v[4])
}

func pselect6Handler(wide bool) Handler {
	return func(k *Kernel, t *Task, a Args) (uint64, Result) {
		ns, e := k.timeoutArg(a[4], wide)
		if e != 0 {
			return fail(e)
		}
		if a[5] != 0 {
			// struct { const sigset_t *ss; size_t ss_len; }
			ws := uint64(k.cfg.Arch.wordSize())
			ss, e := k.readWord(a[5])
			if e != 0 {
				return fail(e)
			}
			size, e := k.readWord(a[5] + ws)
			if e != 0 {
				return fail(e)
			}
			if e := k.tempMaskArg(t, ss, size); e != 0 {
				return fail(e)
			}
		}
		return k.selectFDs(t, int(int32(a[0])), fdSets{addr: [3]uint64{a[1], a[2], a[3]}}, k.deadlineFor(ns), a[4],
			wide || k.cfg.Arch == X8664, false)
	}
}
