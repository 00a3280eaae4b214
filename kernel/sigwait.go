package kernel

import "syscall"

// Waiting for signals: pause, rt_sigsuspend (and i386's sigsuspend),
// rt_sigtimedwait, and the temporary masks of ppoll, pselect6 and
// epoll_pwait (kernel/signal.c).

// tempMaskArg installs, for the rest of the syscall, the sigset of size
// bytes at addr, when addr is not 0 (ppoll, pselect6, epoll_pwait).
func (k *Kernel) tempMaskArg(t *Task, addr, size uint64) syscall.Errno {
	if addr == 0 {
		return 0
	}
	m, e := k.readSigmask(addr, size)
	if e == 0 {
		t.setTempMask(m)
	}
	return e
}

// setTempMask installs mask for the rest of the syscall; the task's own
// mask comes back at its return to user mode, after any handler's frame
// has saved it (set_restore_sigmask).
func (t *Task) setTempMask(mask uint64) {
	if !t.restoreMask {
		t.savedMask, t.restoreMask = t.SigMask, true
	}
	t.SigMask = mask &^ unblockable
}

// readSigmask reads a sigset_t argument of size bytes (8).
func (k *Kernel) readSigmask(addr, size uint64) (uint64, syscall.Errno) {
	if size != 8 {
		return 0, syscall.EINVAL
	}
	return k.readU64(addr)
}

// waitForSignal sleeps until a signal the task does not block arrives;
// the syscall then returns ERESTARTNOHAND (EINTR once a handler ran).
func (t *Task) waitForSignal() (uint64, Result) {
	if t.hasDeliverable() {
		return fail(errRestartNoHand)
	}
	return t.block(0, nil, func(t *Task, why wakeReason) (uint64, Result) {
		if why != wokenBySignal && !t.hasDeliverable() {
			return t.waitForSignal()
		}
		return fail(errRestartNoHand)
	})
}

func sysPause(k *Kernel, t *Task, a Args) (uint64, Result) { return t.waitForSignal() }

func sysRtSigsuspend(k *Kernel, t *Task, a Args) (uint64, Result) {
	m, e := k.readSigmask(a[0], a[1])
	if e != 0 {
		return fail(e)
	}
	t.setTempMask(m)
	return t.waitForSignal()
}

// sysSigsuspend is i386's sigsuspend(history0, history1, old_sigset_t).
func sysSigsuspend(k *Kernel, t *Task, a Args) (uint64, Result) {
	t.setTempMask(t.SigMask&^0xffffffff | a[2]&0xffffffff)
	return t.waitForSignal()
}

// dequeueIn takes the first pending signal of set, blocked or not.
func (t *Task) dequeueIn(set uint64) (sigInfo, bool) {
	for _, p := range []*sigPending{&t.pending, &t.tg.pending} {
		m := p.mask & set
		if m == 0 {
			continue
		}
		sig := 1
		for m&1 == 0 {
			m >>= 1
			sig++
		}
		return p.take(sig), true
	}
	return sigInfo{}, false
}

// rt_sigtimedwait(set, info, timeout, size): takes a signal of set if
// one is pending, else waits with set unblocked until one comes (its
// number is the result), the timeout passes (EAGAIN) or another signal
// is delivered (EINTR).
func sigtimedwaitHandler(wide bool) Handler {
	return func(k *Kernel, t *Task, a Args) (uint64, Result) {
		set, e := k.readSigmask(a[0], a[3])
		if e != 0 {
			return fail(e)
		}
		set &^= unblockable
		ns, e := k.timeoutArg(a[2], wide)
		if e != 0 {
			return fail(e)
		}
		return k.sigtimedwait(t, set, a[1], k.deadlineFor(ns))
	}
}

func (k *Kernel) sigtimedwait(t *Task, set, infoAddr, deadline uint64) (uint64, Result) {
	if info, ok := t.dequeueIn(set); ok {
		if info.code == siTimer {
			info = k.timerTaken(t.tg, info)
		}
		if infoAddr != 0 {
			w := &frameWriter{k: k, b: make([]byte, 128)}
			k.putSiginfo(w, 0, info)
			if e := k.writeBytes(infoAddr, w.b); e != 0 {
				return fail(e)
			}
		}
		return okv(uint64(info.signo))
	}
	if deadline == noWait || deadline != 0 && deadline <= k.nowFP() {
		return fail(syscall.EAGAIN)
	}
	real := t.SigMask
	t.SigMask &^= set
	return t.block(deadline, nil, func(t *Task, why wakeReason) (uint64, Result) {
		t.SigMask = real
		if (t.pending.mask|t.tg.pending.mask)&set != 0 {
			return k.sigtimedwait(t, set, infoAddr, deadline)
		}
		if why == wokenByTimeout {
			return fail(syscall.EAGAIN)
		}
		return fail(syscall.EINTR)
	})
}

// The old i386 calls, with 32-bit masks.

// sysSignal is signal(sig, handler): SA_RESETHAND|SA_NODEFER, as
// sys_signal installs it; the result is the old handler.
func sysSignal(k *Kernel, t *Task, a Args) (uint64, Result) {
	sig := int(int32(a[0]))
	if sig < 1 || sig > numSignals || sig == SIGKILL || sig == SIGSTOP {
		return fail(syscall.EINVAL)
	}
	old := t.sighand.actions[sig]
	t.sighand.actions[sig] = sigAction{Handler: a[1], Flags: saResethand | saNodefer}
	return okv(old.Handler)
}

// sysOldSigaction is i386 sigaction(sig, old_sigaction *, old_sigaction *):
// {handler, mask (32 bits), flags, restorer}.
func sysOldSigaction(k *Kernel, t *Task, a Args) (uint64, Result) {
	sig := int(int32(a[0]))
	if sig < 1 || sig > numSignals || a[1] != 0 && (sig == SIGKILL || sig == SIGSTOP) {
		return fail(syscall.EINVAL)
	}
	old := t.sighand.actions[sig]
	if a[1] != 0 {
		b, e := k.readBytes(a[1], 16)
		if e != 0 {
			return fail(e)
		}
		u := func(o int) uint64 {
			return uint64(uint32(b[o]) | uint32(b[o+1])<<8 | uint32(b[o+2])<<16 | uint32(b[o+3])<<24)
		}
		t.sighand.actions[sig] = sigAction{Handler: u(0), Mask: u(4) &^ unblockable, Flags: u(8), Restorer: u(12)}
	}
	if a[2] != 0 {
		b := newStruct(16)
		b.u32(0, uint32(old.Handler))
		b.u32(4, uint32(old.Mask))
		b.u32(8, uint32(old.Flags))
		b.u32(12, uint32(old.Restorer))
		if e := k.writeBytes(a[2], b.b); e != 0 {
			return fail(e)
		}
	}
	return ok0()
}

// sysOldSigprocmask is i386 sigprocmask(how, old_sigset_t *, old_sigset_t *).
func sysOldSigprocmask(k *Kernel, t *Task, a Args) (uint64, Result) {
	old := t.SigMask
	if a[1] != 0 {
		v, e := k.readU32(a[1])
		if e != 0 {
			return fail(e)
		}
		set := uint64(v)
		switch a[0] {
		case 0:
			t.SigMask |= set
		case 1:
			t.SigMask &^= set
		case 2:
			t.SigMask = t.SigMask&^0xffffffff | set
		default:
			return fail(syscall.EINVAL)
		}
		t.SigMask &^= unblockable
	}
	if a[2] != 0 {
		b := newStruct(4)
		b.u32(0, uint32(old))
		if e := k.writeBytes(a[2], b.b); e != 0 {
			return fail(e)
		}
	}
	return ok0()
}

func sysOldSigpending(k *Kernel, t *Task, a Args) (uint64, Result) {
	b := newStruct(4)
	b.u32(0, uint32((t.pending.mask|t.tg.pending.mask)&t.SigMask))
	return okOrFault(k.writeBytes(a[0], b.b))
}
