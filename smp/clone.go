package smp

import (
	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/kernel"
	"github.com/probesim/probesim/mmu"
)

// schedAdapter is the kernel's view of the machine (kernel.Scheduler).
type schedAdapter struct{ m *Machine }

func (s schedAdapter) NowFP() uint64 { return s.m.curV.clockFP() }
func (s schedAdapter) Wake(kt *kernel.Task, at uint64) {
	s.m.makeRunnable(s.m.byTID[kt.TID], at)
}
func (s schedAdapter) Clone(child *kernel.Task, stack uint64) error {
	return s.m.startClone(child, stack)
}
func (s schedAdapter) Waiting() bool { return len(s.m.runq) > 0 }
func (s schedAdapter) CPUs() int     { return s.m.cfg.CPUs }
func (s schedAdapter) TLBShootdown() { s.m.shootdown() }

// AttachMM gives a forked child's address space to the engine, with the
// probe engine's observer of file mappings (uprobe_mmap in the child).
func (s schedAdapter) AttachMM(mm *mmu.AddressSpace) error {
	if o := s.m.fileObserver; o != nil {
		mm.SetFileMapObserver(o)
	}
	return s.m.core.AttachMM(mm)
}

// ReleaseMM takes a dead process's address space off the engine; if the
// engine translates through it (its last thread just exited), it goes
// back to the first process's, which stays attached to the end.
func (s schedAdapter) ReleaseMM(mm *mmu.AddressSpace) { s.m.releaseMM(mm) }

func (m *Machine) releaseMM(mm *mmu.AddressSpace) {
	if m.core.MM() == mm {
		_, _ = m.core.SwitchMM(m.as)
	}
	for _, v := range m.vcpus {
		if v.mm == mm {
			v.mm = nil // lazy TLB mode on a dead mm: the next switch is free
		}
	}
	_ = m.core.DetachMM(mm)
}

// mmNow is the address space of the thread the engine holds.
func (m *Machine) mmNow() *mmu.AddressSpace { return m.core.MM() }

// startClone gives a task the running thread's clone created its
// registers, as copy_thread does: a copy of the parent's at the syscall,
// with 0 in the return register and its own stack and TLS.
func (m *Machine) startClone(child *kernel.Task, stack uint64) error {
	ctx, err := m.core.NewContext()
	if err != nil {
		return err
	}
	t := m.addThread(child, ctx)
	t.setPending(m.core.RetReg(), 0)
	if m.arch == kernel.I386 {
		if stack != 0 {
			t.setPending(uc.ESP, stack)
		}
		return nil
	}
	// The child resumes after the syscall, with rcx/r11 as sysret leaves
	// them.
	next := m.core.SyscallNextPC()
	flags, _ := m.core.ReadReg(uc.EFLAGS)
	t.setPending(uc.RIP, next)
	t.setPending(uc.RCX, next)
	t.setPending(uc.R11, flags)
	t.setPending(uc.FS_BASE, child.FSBase)
	if stack != 0 {
		t.setPending(uc.RSP, stack)
	}
	return nil
}

func (s schedAdapter) TimerArmed(at uint64) { s.m.timerArmed(at) }

func (s schedAdapter) CurrentCPU() int { return s.m.curV.id }
