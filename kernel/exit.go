package kernel

import (
	"syscall"
)

// Process exit and wait (kernel/exit.c).
//
// When the last thread of a process exits (exit, exit_group, a fatal
// signal), the process releases its descriptors, fs context, signal
// handlers, timers and, once no other process shares it (vfork), its
// address space; its children go to the nearest ancestor that is a child
// subreaper (PR_SET_CHILD_SUBREAPER), else to init (forget_original_parent,
// find_new_reaper). It then becomes a zombie its parent reaps with wait4 or
// waitid, after its parent got its exit signal (SIGCHLD for fork); a
// parent that ignores SIGCHLD or set SA_NOCLDWAIT reaps it at once
// (do_notify_parent's autoreap), and so does init, which lives outside
// the simulation and waits for every orphan.

// Wait options (include/uapi/linux/wait.h).
const (
	wNoHang    = 0x00000001
	wUntraced  = 0x00000002
	wExited    = 0x00000004
	wContinued = 0x00000008
	wNoWait    = 0x01000000
	wNoThread  = 0x20000000
	wAll       = 0x40000000
	wClone     = 0x80000000
)

// si_code values of SIGCHLD and waitid.
const (
	cldExited = 1
	cldKilled = 2
	cldDumped = 3
)

// idtype_t of waitid.
const (
	pAll   = 0
	pPID   = 1
	pPGID  = 2
	pPIDFD = 3
)

const saNoCldWait = 0x00000002

// procState is where a process is in its life.
type procState int

const (
	procLive   procState = iota
	procZombie           // exited, waiting for its parent's wait
	procReaped           // waited for (or autoreaped): gone
)

// ExitInfo is how a process ended: its exit code, or the signal that
// killed it.
type ExitInfo struct {
	Code   int // exit status (0..255) when Signal is 0
	Signal int // the fatal signal, or 0
	Core   bool
}

// waitStatus is the status word wait4 returns (WIFEXITED: code << 8;
// WIFSIGNALED: the signal, 0x80 with a core dump).
func (e ExitInfo) waitStatus() uint32 {
	if e.Signal != 0 {
		s := uint32(e.Signal)
		if e.Core {
			s |= 0x80
		}
		return s
	}
	return uint32(e.Code&0xff) << 8
}

// GroupExit records how process p ends before its threads are taken down
// (do_group_exit, or a fatal signal's): exit_group's code, or the signal.
// A process ends once, so a second call changes nothing.
func (k *Kernel) GroupExit(p *Process, e ExitInfo) {
	if p.exiting {
		return
	}
	p.exiting = true
	p.exit = e
}

// exitProcess is the end of p's last thread (do_exit of the group's last
// task, exit_notify).
func (k *Kernel) exitProcess(p *Process, last *Task) {
	if !p.exiting {
		p.exiting = true
		p.exit = ExitInfo{Code: last.exitStatus}
	}
	p.exitCycles = p.cycles()
	for _, pt := range p.itimers {
		if pt != nil {
			pt.timer.Disarm()
		}
	}
	for _, pt := range p.posixTimers {
		if pt != nil {
			pt.timer.Disarm()
		}
	}
	// The leader's objects are kept while it is unreaped (reap): drop
	// them now, so that pipes see their writers go.
	if leader := p.leader(); leader != nil && !leader.released {
		k.releaseTask(leader)
	}
	k.vforkDone(p)
	k.dropMM(p)
	k.reparentChildren(p)
	k.processes--
	k.live--
	par := p.parent
	autoreap := par == nil || par.state != procLive
	if !autoreap && p.exitSignal != 0 {
		if h := par.sighandAction(SIGCHLD); p.exitSignal == SIGCHLD && (h.Handler == sigIGN || h.Flags&saNoCldWait != 0) {
			autoreap = true // do_notify_parent: the parent does not want it
		}
		info := sigInfo{signo: int32(p.exitSignal), code: cldExited, pid: int32(p.TGID), uid: int32(k.cfg.UID),
			status: int32(p.exit.Code)}
		if p.exit.Signal != 0 {
			info.code, info.status = cldKilled, int32(p.exit.Signal)
			if p.exit.Core {
				info.code = cldDumped
			}
		}
		k.sendToGroup(par, info)
	}
	if autoreap {
		k.reapProcess(p)
		if par != nil {
			par.childExited.Notify(EventIn) // a waiter may now find no child: ECHILD
		}
	} else {
		p.state = procZombie
		par.childExited.Notify(EventIn)
	}
	if k.onProcessExit != nil {
		k.onProcessExit(p)
	}
}

// leader is the process's first task (its pid), if still in the group.
func (p *Process) leader() *Task {
	if len(p.tasks) > 0 && p.tasks[0].TID == p.TGID {
		return p.tasks[0]
	}
	return nil
}

// sighandAction is the disposition of sig in p (its tasks share one
// SignalHandlers unless a test made others).
func (p *Process) sighandAction(sig int) sigAction {
	for _, t := range p.tasks {
		if t.sighand != nil {
			return t.sighand.actions[sig]
		}
	}
	return sigAction{}
}

// dropMM releases p's use of its address space; the last user's release
// detaches it from the machine and frees it, except the machine's first
// one (Config.Mem) and the first process's last one, which the machine
// reports and closes itself.
func (k *Kernel) dropMM(p *Process) {
	mm := p.mm
	if k.mmUsers[mm]--; k.mmUsers[mm] > 0 || mm == k.cfg.Mem || p == k.init {
		return
	}
	delete(k.mmUsers, mm)
	if mms, ok := k.sched.(MMScheduler); ok {
		mms.ReleaseMM(mm)
	}
	p.mmStats = mm.Stats()
	_ = mm.Close()
}

// reparentChildren gives p's children to the nearest live subreaper
// ancestor, else to init (nil): init reaps the zombies among them at once.
func (k *Kernel) reparentChildren(p *Process) {
	var reaper *Process
	for a := p.parent; a != nil; a = a.parent {
		if a.subreaper && a.state == procLive && !a.exiting {
			reaper = a
			break
		}
	}
	children := p.children
	p.children = nil
	for _, c := range children {
		c.parent = reaper
		if reaper != nil {
			reaper.children = append(reaper.children, c)
			if c.state == procZombie {
				reaper.childExited.Notify(EventIn)
			}
			continue
		}
		if c.state == procZombie {
			k.reapProcess(c) // init's wait
		}
	}
}

// reapProcess forgets a dead process (release_task of its leader): it
// leaves its parent's children and the process table; its cycles join its
// parent's children's (RUSAGE_CHILDREN).
func (k *Kernel) reapProcess(p *Process) {
	p.state = procReaped
	if par := p.parent; par != nil {
		for i, c := range par.children {
			if c == p {
				par.children = append(par.children[:i], par.children[i+1:]...)
				break
			}
		}
		par.childCycles += p.exitCycles + p.childCycles
	}
	for _, t := range p.tasks {
		delete(k.tasks, t.TID)
	}
	delete(k.procs, p.TGID)
}

// cycles is the CPU time of the process's threads, the exited ones' too.
func (p *Process) cycles() uint64 {
	c := p.reapedCycles
	for _, t := range p.tasks {
		if t.CPUCycles != nil {
			c += t.CPUCycles()
		}
	}
	return c
}

// waitTarget reports whether child c is one wait's pid selects
// (kernel/exit.c eligible_pid and eligible_child's __WCLONE rule).
func waitTarget(p, c *Process, idtype int, id int, options uint64) bool {
	switch idtype {
	case pPID:
		if c.TGID != id {
			return false
		}
	case pPGID:
		if c.pgid != id {
			return false
		}
	}
	if options&wAll != 0 {
		return true
	}
	// A "clone" child is one whose exit signal is not SIGCHLD: only
	// __WCLONE waits for it, and __WCLONE only for those.
	return (c.exitSignal != SIGCHLD) == (options&wClone != 0)
}

// doWait finds a zombie child of t's process that the wait selects, and
// reaps it unless wNoWait. It returns the child (nil: none yet) or ECHILD
// when no child could ever match.
func (k *Kernel) doWait(t *Task, idtype, id int, options uint64) (*Process, syscall.Errno) {
	p := t.tg
	any := false
	for _, c := range p.children {
		if !waitTarget(p, c, idtype, id, options) {
			continue
		}
		any = true
		if c.state == procZombie {
			if options&wNoWait == 0 {
				k.reapProcess(c)
			}
			return c, 0
		}
	}
	if !any {
		return nil, syscall.ECHILD
	}
	return nil, 0
}

// waitBlocking runs doWait until a child is found, sleeping on the
// process's childExited queue; found writes the result (nil: WNOHANG
// and no child has exited).
func (k *Kernel) waitBlocking(t *Task, idtype, id int, options uint64, found func(c *Process) (uint64, Result)) (uint64, Result) {
	c, e := k.doWait(t, idtype, id, options)
	switch {
	case e != 0:
		return fail(e)
	case c != nil:
		return found(c)
	case options&wNoHang != 0:
		return found(nil)
	}
	return t.blockOnQueues([]*WaitQueue{&t.tg.childExited}, []EventMask{EventIn}, 0, func(t *Task, why wakeReason) (uint64, Result) {
		if why == wokenBySignal {
			return fail(errRestartSys)
		}
		return k.waitBlocking(t, idtype, id, options, found)
	})
}

// waitPID converts wait4's pid into waitid's idtype and id.
func waitPID(t *Task, pid int32) (idtype, id int) {
	switch {
	case pid == -1:
		return pAll, 0
	case pid < -1:
		return pPGID, int(-pid)
	case pid == 0:
		return pPGID, t.tg.pgid
	}
	return pPID, int(pid)
}

// sysWait4 is wait4(pid, wstatus, options, rusage).
func sysWait4(k *Kernel, t *Task, a Args) (uint64, Result) {
	options := a[2]
	if options&^(wNoHang|wUntraced|wContinued|wNoThread|wAll|wClone) != 0 {
		return fail(syscall.EINVAL)
	}
	if int32(a[0]) == -1<<31 {
		return fail(syscall.ESRCH) // INT_MIN cannot be negated
	}
	idtype, id := waitPID(t, int32(a[0]))
	statusAddr, ruAddr := a[1], a[3]
	return k.waitBlocking(t, idtype, id, options|wExited, func(c *Process) (uint64, Result) {
		if c == nil {
			return ok0() // WNOHANG: no child has exited
		}
		if statusAddr != 0 {
			b := newStruct(4)
			b.u32(0, c.exit.waitStatus())
			if e := k.writeBytes(statusAddr, b.b); e != 0 {
				return fail(e)
			}
		}
		if ruAddr != 0 {
			if e := k.writeRusage(ruAddr, c.exitCycles+c.childCycles, c.maxRSSPages()); e != 0 {
				return fail(e)
			}
		}
		return okv(uint64(c.TGID))
	})
}

// sysWaitpid is i386's waitpid(pid, wstatus, options): wait4 without
// rusage.
func sysWaitpid(k *Kernel, t *Task, a Args) (uint64, Result) {
	return sysWait4(k, t, Args{a[0], a[1], a[2], 0})
}

// sysWaitid is waitid(idtype, id, infop, options, rusage).
func sysWaitid(k *Kernel, t *Task, a Args) (uint64, Result) {
	idtype, id, infop, options, ruAddr := int(a[0]), int(int32(a[1])), a[2], a[3], a[4]
	if options&^(wNoHang|wUntraced|wExited|wContinued|wNoWait|wNoThread|wAll|wClone) != 0 ||
		options&(wExited|wUntraced|wContinued) == 0 {
		return fail(syscall.EINVAL)
	}
	switch idtype {
	case pAll:
		id = 0
	case pPID:
		if id <= 0 {
			return fail(syscall.EINVAL)
		}
	case pPGID:
		if id < 0 {
			return fail(syscall.EINVAL)
		}
		if id == 0 {
			id = t.tg.pgid
		}
	case pPIDFD:
		k.unsupportedDetail("waitid", "P_PIDFD")
		return fail(syscall.EINVAL)
	default:
		return fail(syscall.EINVAL)
	}
	if options&wExited == 0 {
		// Only stopped or continued children asked: none ever are (no
		// job control), so nothing to report but whether one exists.
		_, e := k.doWait(t, idtype, id, options|wNoWait)
		if e != 0 {
			return fail(e)
		}
		if options&wNoHang == 0 {
			k.unsupportedDetail("waitid", "stopped or continued only")
		}
		return k.writeWaitidInfo(infop, nil)
	}
	return k.waitBlocking(t, idtype, id, options, func(c *Process) (uint64, Result) {
		if ruAddr != 0 && c != nil {
			if e := k.writeRusage(ruAddr, c.exitCycles+c.childCycles, c.maxRSSPages()); e != 0 {
				return fail(e)
			}
		}
		return k.writeWaitidInfo(infop, c)
	})
}

// writeWaitidInfo writes waitid's siginfo: SIGCHLD with the child's pid,
// uid, si_code and status, or zeros when nothing was found (WNOHANG).
func (k *Kernel) writeWaitidInfo(infop uint64, c *Process) (uint64, Result) {
	if infop == 0 {
		return ok0()
	}
	w := &frameWriter{k: k, b: make([]byte, 128)}
	if c != nil {
		info := sigInfo{signo: SIGCHLD, code: cldExited, pid: int32(c.TGID), uid: int32(k.cfg.UID), status: int32(c.exit.Code)}
		if c.exit.Signal != 0 {
			info.code, info.status = cldKilled, int32(c.exit.Signal)
			if c.exit.Core {
				info.code = cldDumped
			}
		}
		k.putSiginfo(w, 0, info)
	}
	return okOrFault(k.writeBytes(infop, w.b))
}

// maxRSSPages is the peak resident set the process reached.
func (p *Process) maxRSSPages() uint64 {
	if p.mmStats.PeakRSSPages != 0 {
		return p.mmStats.PeakRSSPages
	}
	return p.mm.Stats().PeakRSSPages
}

// writeRusage writes struct rusage with cycles as ru_utime and maxRSS
// pages as ru_maxrss (KiB), the rest zero.
func (k *Kernel) writeRusage(addr, cycles, maxRSSPages uint64) syscall.Errno {
	ns := k.nanos(cycles)
	ws := k.cfg.Arch.wordSize()
	b := newStruct(2*2*ws + 14*ws)
	b.word(k.cfg.Arch, 0, ns/1e9)
	b.word(k.cfg.Arch, ws, ns%1e9/1000)
	b.word(k.cfg.Arch, 4*ws, maxRSSPages*4)
	return k.writeBytes(addr, b.b)
}
