package smp

import (
	"encoding/binary"
	"syscall"

	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/kernel"
)

// Clone flags (include/uapi/linux/sched.h).
const (
	cloneVM            = 0x00000100
	cloneFS            = 0x00000200
	cloneFiles         = 0x00000400
	cloneSighand       = 0x00000800
	cloneThread        = 0x00010000
	cloneSysvsem       = 0x00040000
	cloneSettls        = 0x00080000
	cloneParentSettid  = 0x00100000
	cloneChildCleartid = 0x00200000
	cloneChildSettid   = 0x01000000
)

// cloneArgs is struct clone_args, reduced to what threads use.
type cloneArgs struct {
	flags, childTID, parentTID, stack, tls uint64
}

func (m *Machine) sysClone(k *kernel.Kernel, lt *kernel.Thread, a kernel.Args) (uint64, kernel.Result) {
	ca := cloneArgs{flags: a[0], stack: a[1], parentTID: a[2]}
	if m.arch == kernel.I386 {
		// i386 passes tls before child_tid (CONFIG_CLONE_BACKWARDS).
		ca.tls, ca.childTID = a[3], a[4]
	} else {
		ca.childTID, ca.tls = a[3], a[4]
	}
	ca.flags &^= 0xff // the exit signal
	return m.clone(lt, ca)
}

// sysClone3 is clone3(struct clone_args *, size).
func (m *Machine) sysClone3(k *kernel.Kernel, lt *kernel.Thread, a kernel.Args) (uint64, kernel.Result) {
	const sizeVer0 = 64
	if a[1] < sizeVer0 || a[1] > 4096 {
		return kernel.Errno(syscall.EINVAL), kernel.Result{}
	}
	var b [sizeVer0]byte
	if err := m.as.Read(a[0], b[:]); err != nil {
		return kernel.Errno(syscall.EFAULT), kernel.Result{}
	}
	f := func(i int) uint64 { return binary.LittleEndian.Uint64(b[8*i:]) }
	ca := cloneArgs{flags: f(0), childTID: f(2), parentTID: f(3), tls: f(7)}
	if stack, size := f(5), f(6); stack != 0 {
		ca.stack = stack + size
	}
	if f(4) != 0 { // exit_signal: a thread has none
		return kernel.Errno(syscall.EINVAL), kernel.Result{}
	}
	return m.clone(lt, ca)
}

// clone creates a thread: a new task sharing everything with its parent.
// Creating a process (no CLONE_VM) is not modelled and fails with ENOSYS.
func (m *Machine) clone(plt *kernel.Thread, ca cloneArgs) (uint64, kernel.Result) {
	fail := func(e syscall.Errno) (uint64, kernel.Result) { return kernel.Errno(e), kernel.Result{} }
	const threadFlags = cloneVM | cloneThread | cloneSighand
	if ca.flags&threadFlags != threadFlags {
		if ca.flags&cloneVM == 0 {
			return fail(syscall.ENOSYS)
		}
		return fail(syscall.EINVAL)
	}
	if len(m.threads) >= maxThreads {
		return fail(syscall.EAGAIN)
	}
	tid := m.nextTID
	child := kernel.NewThread(tid, m.core)
	child.TLS = plt.TLS
	child.SigMask = plt.SigMask
	child.FSBase, child.GSBase = plt.FSBase, plt.GSBase
	if ca.flags&cloneSettls != 0 {
		if m.arch == kernel.I386 {
			if e := m.kernel.SetThreadArea(child, ca.tls); e != 0 {
				return fail(e)
			}
		} else {
			if ca.tls >= 0x7ffffffff000 {
				return fail(syscall.EPERM)
			}
			child.FSBase = ca.tls
		}
	}
	var tidBytes [4]byte
	binary.LittleEndian.PutUint32(tidBytes[:], uint32(tid))
	if ca.flags&cloneParentSettid != 0 {
		if err := m.as.Write(ca.parentTID, tidBytes[:]); err != nil {
			return fail(syscall.EFAULT)
		}
	}
	if ca.flags&cloneChildSettid != 0 {
		if err := m.as.Write(ca.childTID, tidBytes[:]); err != nil {
			return fail(syscall.EFAULT)
		}
	}
	if ca.flags&cloneChildCleartid != 0 {
		child.ClearChildTID = ca.childTID
	}
	// The child starts as a copy of the parent's registers at the syscall,
	// with 0 in the return register and its own stack and TLS.
	ctx, err := m.core.NewContext()
	if err != nil {
		return fail(syscall.ENOMEM)
	}
	m.nextTID++
	t := m.addThread(child, ctx)
	t.setPending(m.core.RetReg(), 0)
	if m.arch == kernel.I386 {
		if ca.stack != 0 {
			t.setPending(uc.ESP, ca.stack)
		}
	} else {
		// The child resumes after the syscall, with rcx/r11 as sysret
		// leaves them.
		next := m.core.SyscallNextPC()
		flags, _ := m.core.ReadReg(uc.EFLAGS)
		t.setPending(uc.RIP, next)
		t.setPending(uc.RCX, next)
		t.setPending(uc.R11, flags)
		t.setPending(uc.FS_BASE, child.FSBase)
		if ca.stack != 0 {
			t.setPending(uc.RSP, ca.stack)
		}
	}
	m.makeRunnable(t, m.curV.clockFP())
	return uint64(tid), kernel.Result{}
}

// sysSchedYield ends the slice; the thread goes to the back of the run
// queue if another one waits (the Block outcome on a still-runnable thread).
func (m *Machine) sysSchedYield(k *kernel.Kernel, lt *kernel.Thread, a kernel.Args) (uint64, kernel.Result) {
	if len(m.runq) == 0 {
		return 0, kernel.Result{}
	}
	return 0, kernel.Result{Outcome: kernel.Block}
}

// sysSchedGetaffinity reports every vCPU; the mask is as long as Linux's
// cpumask for that many CPUs (a multiple of the ABI's long).
func (m *Machine) sysSchedGetaffinity(k *kernel.Kernel, lt *kernel.Thread, a kernel.Args) (uint64, kernel.Result) {
	word := uint64(8)
	if m.arch == kernel.I386 {
		word = 4
	}
	size := (uint64(len(m.vcpus)) + 8*word - 1) / (8 * word) * word
	if a[1] < size || a[1]%word != 0 {
		return kernel.Errno(syscall.EINVAL), kernel.Result{}
	}
	if a[0] != 0 && m.byTID[int(a[0])] == nil {
		return kernel.Errno(syscall.ESRCH), kernel.Result{}
	}
	mask := make([]byte, size)
	for i := range m.vcpus {
		mask[i/8] |= 1 << (i % 8)
	}
	if err := m.as.Write(a[2], mask); err != nil {
		return kernel.Errno(syscall.EFAULT), kernel.Result{}
	}
	return size, kernel.Result{}
}
