// Package smp is the machine: the vCPUs, the scheduler that runs the
// kernel's tasks (package kernel) on them and orders their events in
// simulated time, and the budgets that end a runaway guest. The kernel owns
// the tasks and everything they share (threads, futexes, sleeps, timers);
// smp owns where and when they run, their saved registers, and the cycle
// accounting, and implements kernel.Scheduler for the kernel.
//
// All vCPUs share one emu.Core (one Unicorn engine, so one translation
// cache, kept by physical page) and every process's mmu.AddressSpace, each
// with its own page table on the engine (emu.Core.SwitchMM, a CR3 write).
// Each vCPU has its own C counters, which the block hook charges while
// that vCPU runs; a vCPU's clock is its counters' cycle count. Threads are
// switched on the engine by saving and restoring register contexts, and
// the engine's page table follows the loaded thread's address space.
//
// # Processes (process.go, exec.go, script.go)
//
// The threads of every process share the vCPUs under one scheduler. A
// vCPU keeps the address space it last ran (lazy TLB mode) and pays the
// profile's address_space_switch when it loads another's; TLB shootdowns
// interrupt only the vCPUs running the initiator's address space
// (mm_cpumask, tlb.go). A process ends as a whole at exit_group, a fatal
// signal or a fault (endProcess); the run ends when no process is left
// running (the first process and every other still alive, orphans
// included, whose reaper is init outside the simulation), and reports the
// first process's status. execve's program is loaded into a new address
// space by the machine (kernel.ExecScheduler) with the probe engine's
// FileMapObserver, so file probes arm the new mappings.
//
// # Scheduling (sched.go, order.go)
//
// The loop always runs the running vCPU with the lowest clock; ties go to a
// rank drawn from the seed, and each vCPU's clock starts at a small
// seed-drawn skew, so that seeds explore interleavings. While another vCPU
// runs, a vCPU runs at most Config.Quantum cycles before the next decision,
// so ordinary memory accesses of different vCPUs are ordered to within a
// quantum; a vCPU running alone goes on until a thread wakes, a timer is
// due, its time slice ends or checkCycles pass (sliceEnd), which keeps
// single-threaded runs at a few engine starts per second. Scheduling
// decisions are where Interrupt and Config.Progress act (interrupt.go).
// Syscalls and
// executions of watched addresses are ordered exactly: they happen only
// when no other running vCPU is behind (emu stops before them otherwise).
// In lockstep mode a vCPU runs only while no other running vCPU is behind
// it, so every block executes in global cycle order.
//
// Threads map 1:1 to vCPUs while there are enough; extra runnable threads
// wait in a FIFO run queue and are time-sliced (Config.Timeslice), and a
// vCPU that switches between different threads pays the profile's
// context-switch cost. A vCPU with nothing to run idles: its clock jumps to
// the time the next thread becomes ready for it. The kernel's timers
// (futex and sleep timeouts) fire once every running vCPU has reached
// them, and bound a lone vCPU's slice.
//
// # Invariants
//
//   - Run is a pure function of Config (the report's Host aside): nothing
//     depends on host timing, goroutine order or map order.
//   - Every cycle is charged to exactly one vCPU, and clocks only grow.
//   - The engine holds the registers of Machine.loaded and translates
//     through its address space; every other live thread's registers are
//     in its saved context plus its pending register writes.
//
// Quanta, budgets, time slices and timeouts come from users and guests and
// may be anything up to 2^64-1: their conversions to fixed point and their
// sums with a clock saturate (cycles.go), and a timer past neverFP (2^55
// cycles) never fires.
//
// TLB shootdowns (tlb.go) charge the initiator and steal cycles from the
// other running vCPUs; the IPI lands in the target's current quantum.
//
// # Signals (signal.go)
//
// Every slice starts with the thread's return to user mode
// (emu.Core.ExitToUser, kernel.Kernel.ExitToUser), where signals sent to
// it meanwhile are delivered; a syscall returns through the same point. A
// fault with a handler becomes the task's synchronous signal with
// Linux's si_code and si_addr, and the handler runs at once. A fault of
// the instruction a probe single-steps first ends the step through the
// probe engine's abort handler (SetStepAbortHandler,
// arch_uprobe_abort_xol), so it is reported and delivered at the probed
// address; while a probe steps a thread, signals stay pending
// (uprobe_deny_signal).
//
// # For the probe engine
//
// Besides traps and watches (trap.go, order.go) and the kernel's writes
// (kernel.go): work scheduled at a cycle of global time, run once every
// running vCPU reached it, slices stopping there (At, at.go: probes placed
// and removed while the program runs); a trap handler may put its thread
// to sleep in the kernel until another event wakes it, the vCPU running
// other threads meanwhile, or make it spin there with interrupts off, its
// vCPU busy and left out of the global order until the wake-up charges it
// the cycles spun (SleepInKernel, SpinInKernel, WakeFromKernel, ksleep.go:
// an XOL slot's wait queue, the 2006 repost's lock); and a fault of a
// stepped instruction first ends the step (SetStepAbortHandler,
// signal.go).
//
// # Locking
//
// A Machine is not safe for concurrent use. Many machines may run in
// parallel (sweeps): they share nothing.
package smp
