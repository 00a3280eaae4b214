package kernel

import (
	"encoding/binary"
	"syscall"

	"github.com/probesim/probesim/mmu"
)

// Processes (fork, vfork, clone without CLONE_THREAD), in the shape of
// kernel/fork.c's copy_process: the child is a new thread group with a
// copy of the parent's address space (mmu's Fork, dup_mmap) unless
// CLONE_VM shares it, a copy of the descriptor table, the fs context and
// the signal dispositions unless CLONE_FILES, CLONE_FS and CLONE_SIGHAND
// share them, the parent's signal mask and TLS, no pending signals, no
// timers, and exit_signal as the signal its parent gets at its exit. Its
// one thread returns 0 from the syscall on its own (the scheduler copies
// the parent's registers at the syscall, Scheduler.Clone).

// DefaultMaxProcesses bounds the processes of a simulation (Config.
// MaxProcesses 0): a fork past it is EAGAIN, as copy_process refuses a
// fork past RLIMIT_NPROC. 4096 is the bound the issue states; Linux's
// default RLIMIT_NPROC is threads-max / 2 of the machine.
const DefaultMaxProcesses = 4096

// MMScheduler is the part of the machine that runs address spaces: a
// forked child's address space is attached to the machine's engine before
// its first thread runs, and released after its last user is gone.
type MMScheduler interface {
	AttachMM(mm *mmu.AddressSpace) error
	ReleaseMM(mm *mmu.AddressSpace)
}

// maxProcesses is the process limit in force.
func (k *Kernel) maxProcesses() int {
	if k.cfg.MaxProcesses > 0 {
		return k.cfg.MaxProcesses
	}
	return DefaultMaxProcesses
}

// fork creates a new process from parent's clone(2) or clone3(2) with
// ca (no CLONE_THREAD); name is the syscall, for the counts.
func (k *Kernel) fork(parent *Task, name string, ca cloneArgs) (uint64, Result) {
	if k.processes >= k.maxProcesses() {
		return fail(syscall.EAGAIN) // RLIMIT_NPROC: nr_processes of the user
	}
	mms, ok := k.sched.(MMScheduler)
	if !ok {
		k.unsupportedDetail(name, "new process without a machine")
		return fail(syscall.ENOSYS)
	}
	pp := parent.tg
	mm := pp.mm
	if ca.flags&cloneVM == 0 {
		var e syscall.Errno
		if mm, e = pp.mm.Fork(); e != 0 {
			return fail(e)
		}
		if err := mms.AttachMM(mm); err != nil {
			_ = mm.Close()
			return fail(syscall.ENOMEM)
		}
		k.mmUsers[mm] = 0
	}
	pid := k.nextTID
	child := newProcess(pid, mm)
	child.rlimNofile, child.dumpable, child.noNewPrivs = pp.rlimNofile, pp.dumpable, pp.noNewPrivs
	child.pgid, child.sid = pp.pgid, pp.sid
	child.exitSignal = int(ca.exitSignal)
	child.exe, child.argv, child.envp = pp.exe, pp.argv, pp.envp
	child.parent, child.creator = pp, pp.TGID
	child.comm = pp.comm

	t := &Task{TID: pid, CPU: parent.CPU, k: k, tg: child}
	t.TLS = parent.TLS
	t.SigMask = parent.SigMask
	t.FSBase, t.GSBase = parent.FSBase, parent.GSBase
	t.comm = parent.comm
	t.altStack = parent.altStack
	if ca.flags&cloneSettls != 0 {
		if k.cfg.Arch == I386 {
			if e := k.SetThreadArea(t, ca.tls); e != 0 {
				k.dropForkedMM(mm, pp.mm, mms)
				return fail(e)
			}
		} else {
			if ca.tls >= userTop {
				k.dropForkedMM(mm, pp.mm, mms)
				return fail(syscall.EPERM)
			}
			t.FSBase = ca.tls
		}
	}
	var tidBytes [4]byte
	binary.LittleEndian.PutUint32(tidBytes[:], uint32(pid))
	if ca.flags&cloneParentSettid != 0 {
		if e := k.writeBytes(ca.parentTID, tidBytes[:]); e != 0 {
			k.dropForkedMM(mm, pp.mm, mms)
			return fail(e)
		}
	}
	if ca.flags&cloneChildSettid != 0 {
		// In the child's memory (a copy: the parent's does not change).
		if err := mm.Write(ca.childTID, tidBytes[:]); err != nil {
			k.dropForkedMM(mm, pp.mm, mms)
			return fail(syscall.EFAULT)
		}
	}
	if ca.flags&cloneChildCleartid != 0 {
		t.ClearChildTID = ca.childTID
	}
	if err := k.sched.Clone(t, ca.stack); err != nil {
		k.dropForkedMM(mm, pp.mm, mms)
		return fail(syscall.ENOMEM)
	}
	k.nextTID++
	k.processes++
	k.live++
	k.mmUsers[mm]++
	if ca.flags&cloneSighand != 0 {
		t.sighand = parent.sighand.incRef()
	} else {
		t.sighand = parent.sighand.fork()
	}
	if ca.flags&cloneFiles != 0 {
		t.files = parent.files.incRef()
	} else {
		t.files = parent.files.fork()
	}
	if ca.flags&cloneFS != 0 {
		t.fsc = parent.fsc.incRef()
	} else {
		t.fsc = parent.fsc.fork()
	}
	pp.children = append(pp.children, child)
	k.procs[pid] = child
	k.procOrder = append(k.procOrder, child)
	k.addTask(t)
	k.sched.Wake(t, k.nowFP())
	if ca.flags&cloneVFork != 0 {
		// The parent sleeps until the child execs or exits
		// (wait_for_vfork_done), and a signal does not end the wait
		// early here: Linux's is killable only.
		child.vforkParent = parent
		parent.vforkWait = true
		var resume func(*Task, wakeReason) (uint64, Result)
		resume = func(*Task, wakeReason) (uint64, Result) {
			if parent.vforkWait {
				// Woken by a signal while the child still runs in
				// its memory: sleep on.
				return parent.block(0, nil, resume)
			}
			return okv(uint64(pid))
		}
		return parent.block(0, nil, resume)
	}
	return okv(uint64(pid))
}

// dropForkedMM undoes a fork's copy of the address space.
func (k *Kernel) dropForkedMM(mm, parentMM *mmu.AddressSpace, mms MMScheduler) {
	if mm == parentMM {
		return
	}
	delete(k.mmUsers, mm)
	mms.ReleaseMM(mm)
	_ = mm.Close()
}

// vforkDone wakes the parent sleeping in vfork for p (the child exited;
// exec would too: mm_release's complete_vfork_done).
func (k *Kernel) vforkDone(p *Process) {
	pt := p.vforkParent
	if pt == nil {
		return
	}
	p.vforkParent = nil
	pt.vforkWait = false
	pt.wake(wokenByEvent, k.nowFP())
}
