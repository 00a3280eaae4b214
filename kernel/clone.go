package kernel

import (
	"encoding/binary"
	"syscall"
)

// Clone flags (include/uapi/linux/sched.h).
const (
	cloneVM            = 0x00000100
	cloneFS            = 0x00000200
	cloneFiles         = 0x00000400
	cloneSighand       = 0x00000800
	cloneVFork         = 0x00004000
	cloneThread        = 0x00010000
	cloneSysvsem       = 0x00040000
	cloneSettls        = 0x00080000
	cloneParentSettid  = 0x00100000
	cloneChildCleartid = 0x00200000
	cloneChildSettid   = 0x01000000
)

// maxThreads bounds the guest's live threads (RLIMIT_NPROC-like).
const maxThreads = 4096

// cloneArgs is struct clone_args, reduced to what probesim uses.
type cloneArgs struct {
	flags, childTID, parentTID, stack, tls uint64
	exitSignal                             uint64 // the signal the parent gets at the child's exit
}

// cloneUnmodelled are flags whose effect is not modelled: namespaces,
// pidfds, CLONE_PARENT, CLONE_PTRACE,
// the other namespaces (CLONE_UNTRACED and CLONE_IO change nothing here).
const cloneUnmodelled = 0x00001000 | 0x00002000 | 0x00008000 |
	0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000

func sysClone(k *Kernel, t *Task, a Args) (uint64, Result) {
	ca := cloneArgs{flags: a[0], stack: a[1], parentTID: a[2]}
	if k.cfg.Arch == I386 {
		// i386 passes tls before child_tid (CONFIG_CLONE_BACKWARDS).
		ca.tls, ca.childTID = a[3], a[4]
	} else {
		ca.childTID, ca.tls = a[3], a[4]
	}
	ca.exitSignal = ca.flags & 0xff // CSIGNAL
	ca.flags &^= 0xff
	return k.clone(t, "clone", ca)
}

// sysClone3 is clone3(struct clone_args *, size).
func sysClone3(k *Kernel, t *Task, a Args) (uint64, Result) {
	const sizeVer0 = 64
	if a[1] < sizeVer0 || a[1] > 4096 {
		return fail(syscall.EINVAL)
	}
	b, e := k.readBytes(a[0], sizeVer0)
	if e != 0 {
		return fail(e)
	}
	f := func(i int) uint64 { return binary.LittleEndian.Uint64(b[8*i:]) }
	ca := cloneArgs{flags: f(0), childTID: f(2), parentTID: f(3), tls: f(7)}
	if stack, size := f(5), f(6); stack != 0 {
		ca.stack = stack + size
	}
	ca.exitSignal = f(4)
	if ca.exitSignal != 0 && ca.flags&cloneThread != 0 || ca.exitSignal > numSignals { // a thread has none
		return fail(syscall.EINVAL)
	}
	return k.clone(t, "clone3", ca)
}

// clone creates a thread: a new task in the caller's thread group, sharing
// its address space and signal handlers, and its descriptor table with
// CLONE_FILES (a copy without); without CLONE_THREAD, a process (fork.go:
// fork, vfork, posix_spawn's CLONE_VM|CLONE_VFORK).
func (k *Kernel) clone(parent *Task, name string, ca cloneArgs) (uint64, Result) {
	switch {
	case ca.flags&cloneThread != 0 && ca.flags&cloneSighand == 0,
		ca.flags&cloneSighand != 0 && ca.flags&cloneVM == 0:
		return fail(syscall.EINVAL) // as copy_process refuses them
	case ca.flags&cloneThread == 0:
		if ca.flags&cloneUnmodelled != 0 {
			k.unsupportedDetail(name, "namespace or pidfd flags")
			return fail(syscall.EINVAL)
		}
		return k.fork(parent, name, ca)
	}
	if t := parent.tg; t.live >= maxThreads {
		return fail(syscall.EAGAIN) // RLIMIT_NPROC counts live threads
	}
	tid := k.nextTID
	child := &Task{TID: tid, CPU: parent.CPU, k: k, tg: parent.tg, sighand: parent.sighand}
	child.TLS = parent.TLS
	child.SigMask = parent.SigMask
	child.FSBase, child.GSBase = parent.FSBase, parent.GSBase
	if ca.flags&cloneSettls != 0 {
		if k.cfg.Arch == I386 {
			if e := k.SetThreadArea(child, ca.tls); e != 0 {
				return fail(e)
			}
		} else {
			if ca.tls >= userTop {
				return fail(syscall.EPERM)
			}
			child.FSBase = ca.tls
		}
	}
	var tidBytes [4]byte
	binary.LittleEndian.PutUint32(tidBytes[:], uint32(tid))
	if ca.flags&cloneParentSettid != 0 {
		if e := k.writeBytes(ca.parentTID, tidBytes[:]); e != 0 {
			return fail(e)
		}
	}
	if ca.flags&cloneChildSettid != 0 {
		if e := k.writeBytes(ca.childTID, tidBytes[:]); e != 0 {
			return fail(e)
		}
	}
	if ca.flags&cloneChildCleartid != 0 {
		child.ClearChildTID = ca.childTID
	}
	if err := k.sched.Clone(child, ca.stack); err != nil {
		return fail(syscall.ENOMEM)
	}
	k.nextTID++
	child.sighand.incRef()
	if ca.flags&cloneFiles != 0 {
		child.files = parent.files.incRef()
	} else {
		child.files = parent.files.fork()
	}
	if ca.flags&cloneFS != 0 {
		child.fsc = parent.fsc.incRef()
	} else {
		child.fsc = parent.fsc.fork()
	}
	k.addTask(child)
	k.sched.Wake(child, k.nowFP())
	return okv(uint64(tid))
}

// sysSchedYield ends the slice; the task goes to the back of the run
// queue if another one waits (the Block outcome on a still-runnable task).
func sysSchedYield(k *Kernel, t *Task, a Args) (uint64, Result) {
	if !k.sched.Waiting() {
		return ok0()
	}
	return 0, Result{Outcome: Block}
}

// sysSchedGetaffinity reports every vCPU; the mask is as long as Linux's
// cpumask for that many CPUs (a multiple of the ABI's long).
func sysSchedGetaffinity(k *Kernel, t *Task, a Args) (uint64, Result) {
	word := uint64(k.cfg.Arch.wordSize())
	cpus := uint64(k.sched.CPUs())
	size := (cpus + 8*word - 1) / (8 * word) * word
	if a[1] < size || a[1]%word != 0 {
		return fail(syscall.EINVAL)
	}
	if a[0] != 0 && k.tasks[int(a[0])] == nil {
		return fail(syscall.ESRCH)
	}
	mask := make([]byte, size)
	for i := uint64(0); i < cpus; i++ {
		mask[i/8] |= 1 << (i % 8)
	}
	if e := k.writeBytes(a[2], mask); e != 0 {
		return fail(e)
	}
	return okv(size)
}
