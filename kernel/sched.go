package kernel

import "syscall"

// Scheduler is the machine that runs the tasks on vCPUs and orders their
// events in simulated time (package smp). The kernel decides what tasks do;
// the scheduler decides where and when they run. Every call happens on the
// machine's goroutine, during a syscall or a timer of the running vCPU.
type Scheduler interface {
	// NowFP is the running vCPU's clock in fixed-point cycles (cycles
	// << 8), the time at which the syscall being served happens.
	NowFP() uint64
	// Wake makes the blocked task t runnable, ready at fixed-point cycle
	// at.
	Wake(t *Task, atFP uint64)
	// Clone gives child, created by the running task's clone, its CPU
	// state: the parent's registers at the syscall, 0 in the return
	// register, stack as its stack pointer (0 keeps the parent's) and its
	// FSBase (x86-64) or TLS slots (i386). The kernel then makes it
	// runnable with Wake.
	Clone(child *Task, stack uint64) error
	// Waiting reports whether a runnable task waits for a vCPU.
	Waiting() bool
	// CPUs is the number of vCPUs.
	CPUs() int
	// TLBShootdown charges the running vCPU a TLB shootdown of the
	// process's address space (the syscall changed page tables that other
	// vCPUs may cache), as flush_tlb_mm_range does.
	TLBShootdown()
	// TimerArmed says a timer now expires at fixed-point cycle at: a
	// running vCPU's slice must not go past it, or the timer would fire
	// late (a timer armed while a task runs: timer_settime, setitimer).
	TimerArmed(atFP uint64)
	// CurrentCPU is the vCPU the running task is on.
	CurrentCPU() int
}

// uniprocessor is the Scheduler of a kernel without a machine (tests of
// single syscalls): one vCPU whose clock is Config.Clock, no other task to
// run, nothing to shoot down. A task that blocks never wakes.
type uniprocessor struct{ k *Kernel }

func (u *uniprocessor) NowFP() uint64                     { return u.k.cfg.Clock() << 8 }
func (u *uniprocessor) Wake(*Task, uint64)                {}
func (u *uniprocessor) Clone(child *Task, _ uint64) error { return syscall.ENOSYS }
func (u *uniprocessor) Waiting() bool                     { return false }
func (u *uniprocessor) CPUs() int                         { return 1 }
func (u *uniprocessor) TLBShootdown()                     {}
func (u *uniprocessor) TimerArmed(uint64)                 {}
func (u *uniprocessor) CurrentCPU() int                   { return 0 }
