package kernel

import "syscall"

// Signal generation (kernel/signal.c): a signal is queued on a task
// (tkill, tgkill, a fault, SIGPIPE) or on its thread group (kill, a
// process timer), with a siginfo. A standard signal already pending is
// not queued again; a real-time one is, in order. A signal that is
// ignored and not blocked is dropped at once (sig_ignored). Then a task
// that does not block it is told (complete_signal and signal_wake_up): a
// task asleep in a syscall wakes (the syscall is interrupted, see
// restart.go), a running one takes it at its next return to user mode
// (deliver.go).

// sigInfo is a kernel siginfo: the fields probesim fills.
type sigInfo struct {
	signo, errno, code int32
	pid, uid           int32
	addr               uint64 // faults
	timerID, overrun   int32  // POSIX timers
	status             int32  // SIGCHLD: the exit code or the signal
	value              uint64 // sigval (rt_sigqueueinfo, timers)
	// fault-only frame fields: the trap number and error code of the
	// exception, and its address for cr2.
	trapno, errcode uint64
}

// si_code values (include/uapi/asm-generic/siginfo.h).
const (
	siUser     = 0
	siKernel   = 0x80
	siQueue    = -1
	siTimer    = -2
	siTkill    = -6
	segvMaperr = 1
	segvAccerr = 2
	busAdraln  = 1
	fpeIntdiv  = 1
	illIllopn  = 2
	trapBrkpt  = 1
	trapTrace  = 2
)

// sigPending is a set of pending signals and their queued infos.
type sigPending struct {
	mask  uint64
	queue []sigInfo
}

func sigBit(sig int) uint64 { return 1 << (sig - 1) }

func (p *sigPending) add(info sigInfo) {
	sig := int(info.signo)
	if sig < 32 && p.mask&sigBit(sig) != 0 {
		return // a standard signal is pending once
	}
	p.mask |= sigBit(sig)
	p.queue = append(p.queue, info)
}

// take removes the first queued info of sig.
func (p *sigPending) take(sig int) sigInfo {
	info := sigInfo{signo: int32(sig)}
	for i, q := range p.queue {
		if int(q.signo) == sig {
			info = q
			p.queue = append(p.queue[:i], p.queue[i+1:]...)
			break
		}
	}
	still := false
	for _, q := range p.queue {
		if int(q.signo) == sig {
			still = true
			break
		}
	}
	if !still {
		p.mask &^= sigBit(sig)
	}
	return info
}

// pendingMask is the set of signals pending for the task itself
// (/proc/<pid>/status SigPnd).
func (t *Task) pendingMask() uint64 { return t.pending.mask }

// pendingMask is the set pending for the whole thread group (ShdPnd).
func (tg *Process) pendingMask() uint64 { return tg.pending.mask }

// Default actions (kernel/signal.c SIG_KERNEL_*_MASK). The stop signals
// are treated as ignored: probesim models no job control.
func ignoredByDefault(sig int) bool {
	switch sig {
	case SIGCHLD, SIGURG, SIGWINCH, SIGCONT, SIGSTOP, 20, 21, 22:
		return true
	}
	return false
}

// ignored reports whether sig would be dropped by t at generation.
func (t *Task) ignored(sig int) bool {
	if t.SigMask&sigBit(sig) != 0 || sig == SIGKILL {
		return false
	}
	h := t.sighand.actions[sig].Handler
	return h == sigIGN || h == sigDFL && ignoredByDefault(sig)
}

// sendToTask queues info on t (a thread-directed signal).
func (k *Kernel) sendToTask(t *Task, info sigInfo) {
	sig := int(info.signo)
	if t.state == TaskExited || t.ignored(sig) {
		return
	}
	t.pending.add(info)
	k.signalWakeUp(t, sig)
}

// sendToGroup queues info on tg (a process-directed signal) and tells a
// task that takes it: the first in creation order not blocking it.
func (k *Kernel) sendToGroup(tg *Process, info sigInfo) {
	sig := int(info.signo)
	var leader *Task
	for _, t := range tg.tasks {
		if t.state != TaskExited {
			leader = t
			break
		}
	}
	if leader == nil || leader.ignored(sig) {
		return
	}
	tg.pending.add(info)
	for _, t := range tg.tasks {
		if t.state != TaskExited && t.SigMask&sigBit(sig) == 0 {
			k.signalWakeUp(t, sig)
			return
		}
	}
}

// signalWakeUp interrupts t's sleep if sig is not blocked for it; a
// running task notices at its next return to user mode.
func (k *Kernel) signalWakeUp(t *Task, sig int) {
	if t.SigMask&sigBit(sig) != 0 && sig != SIGKILL {
		return
	}
	if b := t.blocked; b != nil && !b.woken {
		if b.cancel != nil {
			b.cancel()
		}
		t.wake(wokenBySignal, k.nowFP())
	}
}

// hasDeliverable reports whether t has a pending signal it does not block.
func (t *Task) hasDeliverable() bool {
	return (t.pending.mask|t.tg.pending.mask)&^t.SigMask != 0
}

// sigpipe is raised on the task writing to a pipe without readers
// (pipe_write's send_sig(SIGPIPE, current, 0)).
func (k *Kernel) sigpipe() {
	if t := k.cur; t != nil {
		k.sendToTask(t, sigInfo{signo: SIGPIPE, code: siUser, pid: int32(t.tg.TGID), uid: int32(k.cfg.UID)})
	}
}

// SendFault queues the synchronous signal of a fault of the running
// task t (force_sig_fault): a blocked or ignored fault signal cannot be
// put off, so it is unblocked and its disposition reset to the default,
// which ends the process. It reports whether a handler will run (the
// machine delivers it at the return to user mode); false means the
// fault ends the process as before.
func (k *Kernel) SendFault(t *Task, sig int, code int, addr, trapno, errcode uint64) bool {
	act := &t.sighand.actions[sig]
	if t.SigMask&sigBit(sig) != 0 || act.Handler == sigIGN {
		t.SigMask &^= sigBit(sig)
		act.Handler = sigDFL
	}
	if act.Handler == sigDFL {
		return false
	}
	t.pending.add(sigInfo{signo: int32(sig), code: int32(code), addr: addr, trapno: trapno, errcode: errcode})
	return true
}

// SignalThread sends sig to the task tid as tgkill from the process
// itself would (SI_TKILL): for tools and tests driving the machine.
func (k *Kernel) SignalThread(tid, sig int) error {
	t := k.tasks[tid]
	if t == nil || t.state == TaskExited {
		return syscall.ESRCH
	}
	if e := checkSig(sig); e != 0 || sig == 0 {
		return syscall.EINVAL
	}
	k.sendToTask(t, sigInfo{signo: int32(sig), code: siTkill, pid: int32(t.tg.TGID), uid: int32(k.cfg.UID)})
	return nil
}

// checkSig validates a signal number from a syscall (0 is "check only").
func checkSig(sig int) syscall.Errno {
	if sig < 0 || sig > numSignals {
		return syscall.EINVAL
	}
	return 0
}

// sysKill: kill(pid, sig). pid 0 and the process's own pid (or process
// group, -pid) signal the process; -1 signals every other process, of
// which there is none (ESRCH), as for any other pid.
func sysKill(k *Kernel, t *Task, a Args) (uint64, Result) {
	pid, sig := int32(a[0]), int(int32(a[1]))
	if e := checkSig(sig); e != 0 {
		return fail(e)
	}
	info := sigInfo{signo: int32(sig), code: siUser, pid: int32(t.tg.TGID), uid: int32(k.cfg.UID)}
	var targets []*Process
	switch {
	case pid > 0:
		if p := k.procs[int(pid)]; p != nil {
			targets = append(targets, p)
		}
	case pid == -1:
		// Every process but init and the caller (kill_something_info).
		for _, p := range k.procOrder {
			if p.state != procReaped && p != t.tg {
				targets = append(targets, p)
			}
		}
	default:
		pgrp := int(-pid)
		if pid == 0 {
			pgrp = t.tg.pgid
		}
		for _, p := range k.procOrder {
			if p.state != procReaped && p.pgid == pgrp {
				targets = append(targets, p)
			}
		}
	}
	if len(targets) == 0 {
		return fail(syscall.ESRCH)
	}
	if sig != 0 {
		for _, p := range targets {
			if p.state == procLive {
				k.sendToGroup(p, info)
			}
		}
	}
	return ok0()
}

func (k *Kernel) tkill(t *Task, tgid, tid int, sig int) (uint64, Result) {
	if e := checkSig(sig); e != 0 {
		return fail(e)
	}
	if tid <= 0 || tgid != -1 && tgid <= 0 {
		return fail(syscall.EINVAL)
	}
	target := k.tasks[tid]
	if target == nil || target.state == TaskExited || tgid != -1 && tgid != target.tg.TGID {
		return fail(syscall.ESRCH)
	}
	if sig != 0 {
		k.sendToTask(target, sigInfo{signo: int32(sig), code: siTkill, pid: int32(t.tg.TGID), uid: int32(k.cfg.UID)})
	}
	return ok0()
}

func sysTkill(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.tkill(t, -1, int(int32(a[0])), int(int32(a[1])))
}

func sysTgkill(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.tkill(t, int(int32(a[0])), int(int32(a[1])), int(int32(a[2])))
}

// rt_sigqueueinfo(tgid, sig, info) and rt_tgsigqueueinfo(tgid, tid, sig,
// info): the caller's own siginfo, whose si_code must be negative (a
// process may not pose as the kernel or kill: EPERM).
func (k *Kernel) readUserInfo(addr uint64, sig int) (sigInfo, syscall.Errno) {
	b, e := k.readBytes(addr, 128)
	if e != 0 {
		return sigInfo{}, e
	}
	le32 := func(o int) int32 {
		return int32(uint32(b[o]) | uint32(b[o+1])<<8 | uint32(b[o+2])<<16 | uint32(b[o+3])<<24)
	}
	info := sigInfo{signo: int32(sig), errno: le32(4), code: le32(8)}
	u := 16
	if k.cfg.Arch == I386 {
		u = 12
	}
	info.pid, info.uid = le32(u), le32(u+4)
	if k.cfg.Arch == I386 {
		info.value = uint64(uint32(le32(u + 8)))
	} else {
		info.value = uint64(uint32(le32(u+8))) | uint64(uint32(le32(u+12)))<<32
	}
	if info.code >= 0 || info.code == siTkill {
		return sigInfo{}, syscall.EPERM
	}
	return info, 0
}

func sysRtSigqueueinfo(k *Kernel, t *Task, a Args) (uint64, Result) {
	sig := int(int32(a[1]))
	if e := checkSig(sig); e != 0 {
		return fail(e)
	}
	if int(int32(a[0])) != t.tg.TGID {
		return fail(syscall.ESRCH)
	}
	info, e := k.readUserInfo(a[2], sig)
	if e != 0 {
		return fail(e)
	}
	if sig != 0 {
		k.sendToGroup(t.tg, info)
	}
	return ok0()
}

func sysRtTgsigqueueinfo(k *Kernel, t *Task, a Args) (uint64, Result) {
	sig := int(int32(a[2]))
	if e := checkSig(sig); e != 0 {
		return fail(e)
	}
	target := k.tasks[int(int32(a[1]))]
	if target == nil || target.state == TaskExited || int(int32(a[0])) != target.tg.TGID {
		return fail(syscall.ESRCH)
	}
	info, e := k.readUserInfo(a[3], sig)
	if e != 0 {
		return fail(e)
	}
	if sig != 0 {
		k.sendToTask(target, info)
	}
	return ok0()
}

// sysRtSigpending writes the signals pending for the task or its group
// that it blocks (sigpending reports blocked pending signals: an
// unblocked one would have been delivered).
func sysRtSigpending(k *Kernel, t *Task, a Args) (uint64, Result) {
	if a[1] > 8 {
		return fail(syscall.EINVAL)
	}
	b := newStruct(8)
	b.u64(0, (t.pending.mask|t.tg.pending.mask)&t.SigMask)
	return okOrFault(k.writeBytes(a[0], b.b[:a[1]]))
}
