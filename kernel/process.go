package kernel

import (
	"syscall"
)

func sysExit(k *Kernel, t *Task, a Args) (uint64, Result) {
	return 0, Result{Outcome: ExitThread, Status: int(a[0] & 0xff)}
}

func sysExitGroup(k *Kernel, t *Task, a Args) (uint64, Result) {
	return 0, Result{Outcome: ExitGroup, Status: int(a[0] & 0xff)}
}

// ExitTask ends task t with status (exit(2), or the end of its process):
// its CLONE_CHILD_CLEARTID word is cleared and woken, as mm_release does,
// and its references to shared objects are dropped. When it was the last
// live task of its process, the process exits (exitProcess: its parent is
// told, its children reparented). It reports whether t was the last.
func (k *Kernel) ExitTask(t *Task, status int) bool {
	k.cur = t
	if t.state == TaskExited {
		return false
	}
	if b := t.blocked; b != nil && !b.woken && b.cancel != nil {
		b.cancel() // killed in its sleep: off the queues it waits on
	}
	t.blocked = nil
	t.state = TaskExited
	t.exitStatus = status
	t.tg.live--
	k.exitRobustList(t)
	if a := t.ClearChildTID; a != 0 {
		if k.writeBytes(a, []byte{0, 0, 0, 0}) == 0 {
			k.futexWake(a, 1, futexBitsetAll)
		}
	}
	t.timer.Disarm()
	k.reap(t)
	if t.tg.live == 0 {
		k.exitProcess(t.tg, t)
		return true
	}
	return false
}

// reap forgets an exited task (release_task): it leaves the task table and
// its thread group, so that a guest creating and joining threads forever
// holds only its live ones. The group leader stays, as its pid names the
// process, until the process is reaped.
func (k *Kernel) reap(t *Task) {
	if t.TID == t.tg.TGID {
		return
	}
	delete(k.tasks, t.TID)
	for i, o := range t.tg.tasks {
		if o == t {
			t.tg.tasks = append(t.tg.tasks[:i], t.tg.tasks[i+1:]...)
			break
		}
	}
	if t.CPUCycles != nil {
		t.tg.reapedCycles += t.CPUCycles()
	}
	k.releaseTask(t)
}

// releaseTask drops t's references to its descriptor table, fs context
// and signal handlers (exit_files, exit_fs, __exit_sighand).
func (k *Kernel) releaseTask(t *Task) {
	if t.released {
		return
	}
	t.released = true
	t.files.decRef()
	t.sighand.decRef()
	t.fsc.refs--
}

func sysGetpid(k *Kernel, t *Task, a Args) (uint64, Result) { return okv(uint64(t.tg.TGID)) }
func sysGettid(k *Kernel, t *Task, a Args) (uint64, Result) { return okv(uint64(t.TID)) }

// ParentPID is the first process's parent as it sees it: the modelled
// init, outside the simulation. The real parent, probesim, is outside the
// guest's view; a process whose parent went away is reparented to init,
// so 1 is what such a process sees on Linux, and it is the same on every
// host.
const ParentPID = 1

func sysGetppid(k *Kernel, t *Task, a Args) (uint64, Result) { return okv(uint64(t.tg.PPID())) }
func sysGetuid(k *Kernel, t *Task, a Args) (uint64, Result)  { return okv(uint64(k.cfg.UID)) }

// Process groups and sessions: the first process leads its own group and
// session, as a program a shell started in the foreground leads its job's
// group, whatever group probesim itself is in on the host; children
// inherit their parent's, and setpgid and setsid move them
// (kernel/sys.c).

// process returns the live or zombie process pid (0: t's own).
func (k *Kernel) process(t *Task, pid int64) *Process {
	if pid == 0 {
		return t.tg
	}
	if pid < 0 || pid > 1<<30 {
		return nil
	}
	return k.procs[int(pid)]
}

func sysGetpgrp(k *Kernel, t *Task, a Args) (uint64, Result) { return okv(uint64(t.tg.pgid)) }

func sysGetpgid(k *Kernel, t *Task, a Args) (uint64, Result) {
	p := k.process(t, int64(int32(a[0])))
	if p == nil {
		return fail(syscall.ESRCH)
	}
	return okv(uint64(p.pgid))
}

func sysGetsid(k *Kernel, t *Task, a Args) (uint64, Result) {
	p := k.process(t, int64(int32(a[0])))
	if p == nil {
		return fail(syscall.ESRCH)
	}
	return okv(uint64(p.sid))
}

// sysSetpgid is setpgid(pid, pgid): pid is the caller or one of its
// children that has not exec'd (probesim's children never do), in the
// caller's session; pgid is its own pid (a new group) or a group of that
// session; a session leader cannot move.
func sysSetpgid(k *Kernel, t *Task, a Args) (uint64, Result) {
	pid, pgid := int64(int32(a[0])), int64(int32(a[1]))
	if pgid < 0 {
		return fail(syscall.EINVAL)
	}
	p := k.process(t, pid)
	if p == nil || p.state != procLive || p != t.tg && p.parent != t.tg {
		return fail(syscall.ESRCH)
	}
	if p.sid != t.tg.sid {
		return fail(syscall.EPERM)
	}
	if p.sid == p.TGID {
		return fail(syscall.EPERM) // a session leader
	}
	if pgid == 0 {
		pgid = int64(p.TGID)
	}
	if int(pgid) != p.TGID {
		found := false
		for _, o := range k.procs {
			if o.pgid == int(pgid) && o.sid == t.tg.sid && o.state == procLive {
				found = true
				break
			}
		}
		if !found {
			return fail(syscall.EPERM)
		}
	}
	p.pgid = int(pgid)
	return ok0()
}

// sysSetsid makes the caller the leader of a new session and group; a
// group leader cannot (EPERM).
func sysSetsid(k *Kernel, t *Task, a Args) (uint64, Result) {
	p := t.tg
	for _, o := range k.procs {
		if o.pgid == p.TGID && o.state == procLive {
			return fail(syscall.EPERM)
		}
	}
	p.pgid, p.sid = p.TGID, p.TGID
	return okv(uint64(p.TGID))
}

// sysFork is fork(): clone with SIGCHLD.
func sysFork(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.clone(t, "fork", cloneArgs{exitSignal: SIGCHLD})
}

// sysVfork is vfork(): clone(CLONE_VM | CLONE_VFORK | SIGCHLD).
func sysVfork(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.clone(t, "vfork", cloneArgs{flags: cloneVM | cloneVFork, exitSignal: SIGCHLD})
}

func sysSetTidAddress(k *Kernel, t *Task, a Args) (uint64, Result) {
	t.ClearChildTID = a[0]
	return okv(uint64(t.TID))
}

func sysSetRobustList(k *Kernel, t *Task, a Args) (uint64, Result) {
	// struct robust_list_head is 3 words.
	if a[1] != uint64(3*k.cfg.Arch.wordSize()) {
		return fail(syscall.EINVAL)
	}
	t.RobustList = a[0]
	return ok0()
}

func sysENOSYS(k *Kernel, t *Task, a Args) (uint64, Result) { return fail(syscall.ENOSYS) }

// utsname fields, each 65 bytes (__NEW_UTS_LEN + 1).
// The machine field is filled in per ABI.
var utsname = [6]string{"Linux", "probesim", "6.1.0-probesim", "#1 SMP PREEMPT_DYNAMIC probesim", "", "(none)"}

func sysUname(k *Kernel, t *Task, a Args) (uint64, Result) {
	f := utsname
	f[4] = "x86_64"
	if k.cfg.Arch == I386 {
		// What an ia32 process sees on an x86-64 kernel under linux32 is
		// i686; without personality(PER_LINUX32) it would be x86_64. Guests
		// built for i386 expect i686, so that is what probesim reports.
		f[4] = "i686"
	}
	b := make([]byte, 6*65)
	for i, s := range f {
		copy(b[i*65:i*65+64], s)
	}
	if e := k.writeBytes(a[0], b); e != 0 {
		return fail(e)
	}
	return ok0()
}

// Resource limits. Only RLIMIT_STACK is modelled (it bounds stack growth);
// RLIMIT_NPROC reports the simulation's process limit (Config.MaxProcesses;
// setrlimit does not change it); the others report the defaults of a
// Debian 12 login shell.
const (
	rlimitStack  = 3
	rlimitNofile = 7
	rlimNlimits  = 16
	rlimInfinity = ^uint64(0)
)

func (k *Kernel) getRlimit(res uint64) (cur, max uint64) {
	switch res {
	case rlimitStack:
		return k.mm().StackLimit(), rlimInfinity
	case rlimitNofile:
		return k.self().rlimNofile[0], k.self().rlimNofile[1]
	case 8: // RLIMIT_MEMLOCK
		return 8 << 20, 8 << 20
	case 4: // RLIMIT_CORE
		return 0, rlimInfinity
	case 6: // RLIMIT_NPROC: the simulation's process limit
		n := uint64(k.maxProcesses())
		return n, n
	case 11: // RLIMIT_SIGPENDING
		return 95000, 95000
	case 12: // RLIMIT_MSGQUEUE
		return 819200, 819200
	case 14, 13: // RLIMIT_RTPRIO, RLIMIT_NICE
		return 0, 0
	}
	return rlimInfinity, rlimInfinity
}

// sysPrlimit64 is prlimit64(pid, resource, new, old) with 64-bit rlimits.
func sysPrlimit64(k *Kernel, t *Task, a Args) (uint64, Result) {
	if a[0] != 0 && a[0] != uint64(k.cfg.PID) {
		return fail(syscall.ESRCH)
	}
	if a[1] >= rlimNlimits {
		return fail(syscall.EINVAL)
	}
	cur, max := k.getRlimit(a[1])
	if a[2] != 0 {
		nc, e := k.readU64(a[2])
		if e != 0 {
			return fail(e)
		}
		nm, e := k.readU64(a[2] + 8)
		if e != 0 {
			return fail(e)
		}
		if nc > nm {
			return fail(syscall.EINVAL)
		}
		if nm > max {
			return fail(syscall.EPERM)
		}
		switch a[1] {
		case rlimitStack:
			k.mm().SetStackLimit(nc)
		case rlimitNofile:
			k.self().rlimNofile = [2]uint64{nc, nm}
		}
	}
	if a[3] != 0 {
		b := newStruct(16)
		b.u64(0, cur)
		b.u64(8, max)
		if e := k.writeBytes(a[3], b.b); e != 0 {
			return fail(e)
		}
	}
	return ok0()
}

// sysGetrlimit is getrlimit with the ABI's struct rlimit of two longs
// (ugetrlimit on i386), with infinity clamped to COMPAT_RLIM_INFINITY as
// compat_sys_getrlimit (kernel/sys.c) does.
func sysGetrlimit(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.getrlimit32(a, 0xffffffff)
}

// sysOldGetrlimit is i386 getrlimit (number 76), which is old_getrlimit:
// kernel/sys.c clamps both values to 0x7fffffff there, the RLIM_INFINITY
// of the old ABI.
func sysOldGetrlimit(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.getrlimit32(a, 0x7fffffff)
}

// getrlimit32 writes struct rlimit, clamping each value to clamp when the
// ABI's long is 32 bits wide.
func (k *Kernel) getrlimit32(a Args, clamp uint64) (uint64, Result) {
	if a[0] >= rlimNlimits {
		return fail(syscall.EINVAL)
	}
	cur, max := k.getRlimit(a[0])
	ws := k.cfg.Arch.wordSize()
	b := newStruct(2 * ws)
	if ws == 4 {
		cur, max = min(cur, clamp), min(max, clamp)
	}
	b.word(k.cfg.Arch, 0, cur)
	b.word(k.cfg.Arch, ws, max)
	if e := k.writeBytes(a[1], b.b); e != 0 {
		return fail(e)
	}
	return ok0()
}

// sysGetrandom fills the buffer from the seeded generator: a run's random
// bytes are an input of the run, never the host's entropy.
func sysGetrandom(k *Kernel, t *Task, a Args) (uint64, Result) {
	const grndNonblock, grndRandom, grndInsecure = 1, 2, 4
	if a[2]&^uint64(grndNonblock|grndRandom|grndInsecure) != 0 {
		return fail(syscall.EINVAL)
	}
	// drivers/char/random.c: insecure and blocking randomness at once
	// makes no sense.
	if a[2]&(grndRandom|grndInsecure) == grndRandom|grndInsecure {
		return fail(syscall.EINVAL)
	}
	n := min(a[1], 1<<25) // getrandom returns at most 32 MiB per call
	buf := make([]byte, n)
	for i := range buf {
		buf[i] = byte(k.rng.Uint32())
	}
	if e := k.writeBytes(a[0], buf); e != 0 {
		return fail(e)
	}
	return okv(n)
}

// sysGetRobustList is get_robust_list(pid, head_ptr, len_ptr): the robust
// list head a task registered (pid 0: the caller).
func sysGetRobustList(k *Kernel, t *Task, a Args) (uint64, Result) {
	target := t
	if pid := int(int32(a[0])); pid != 0 {
		if target = k.tasks[pid]; target == nil || target.state == TaskExited {
			return fail(syscall.ESRCH)
		}
	}
	ws := k.cfg.Arch.wordSize()
	b := newStruct(ws)
	b.word(k.cfg.Arch, 0, target.RobustList)
	if e := k.writeBytes(a[1], b.b); e != 0 {
		return fail(e)
	}
	b.word(k.cfg.Arch, 0, uint64(3*ws))
	return okOrFault(k.writeBytes(a[2], b.b))
}
