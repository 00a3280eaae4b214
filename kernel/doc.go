// Package kernel is probesim's model of the Linux kernel for one guest
// process, in the shape of Linux's own objects (and of gVisor's
// pkg/sentry/kernel, whose structure it follows at a much smaller scale):
//
//   - Task (task.go): one thread of execution, with its signal mask, TLS,
//     clear-child-tid word and the objects it shares or owns;
//   - ThreadGroup (threadgroup.go): the process, whose TGID is Config.PID;
//   - the address space, mmu.AddressSpace (Config.Mem), shared by every
//     task (only CLONE_VM threads exist);
//   - FDTable (fdtable.go) of reference-counted FileDescriptions (file.go),
//     each pointing at a FileImpl: what a descriptor is (a standard stream,
//     a snapshot procfs file, ...), and where pipes and sockets plug in;
//   - SignalHandlers (signals.go): the dispositions, shared per
//     CLONE_SIGHAND;
//   - timers in simulated time (timer.go), futex queues (futex.go), and
//     blocking with wake-up (block.go).
//
// clone (clone.go) shares or copies each object as its CLONE_* flags say.
//
// # How a syscall runs
//
// The package has no cgo and knows nothing of Unicorn. A caller (package
// emu) reads the syscall number and arguments out of the vCPU registers,
// calls Kernel.Syscall, writes the return value back, and acts on the
// Result (continue, block, end the task, end the process, or kill it with a
// signal). Syscall looks the number up in the ABI's table (table.go), whose
// entries carry a support level and a note; a number without an entry is
// ENOSYS and counted in Unsupported, so a report shows exactly what the
// guest missed. Whatever a syscall does to a task's CPU state beyond the
// return value (the FS base, a GDT descriptor) goes through the CPU
// interface.
//
// A syscall that must wait blocks the task (block.go): it records how to
// finish and returns Outcome Block. Wakers (a futex wake, a timer) make the
// task runnable through the Scheduler (sched.go), which package smp
// implements; when the machine loads the task again it calls Resume, and
// the syscall finishes then, in global cycle order.
//
// # Determinism
//
// Nothing here reads the host: time comes from the simulated cycle clock
// (Config.Clock and Config.FreqHz, starting at Epoch), randomness from a
// generator seeded with Config.Seed, identities are fixed (PID, UID), and no
// host file is ever opened. A guest that asks for a path other than the few
// synthetic /proc files gets ENOENT. Timers due at the same cycle fire in
// creation order and futex waiters wake FIFO. The same inputs therefore
// produce the same syscall results on every host.
//
// # Deviations from Linux
//
//   - Files: only /proc/self/maps (and /proc/<pid>/maps for the guest's own
//     pid) can be opened; its text is snapshotted at open time, as
//     fs/proc/task_mmu.c effectively does for a single read.
//   - Standard descriptors 0, 1 and 2 always stat as pipes (S_IFIFO), so a
//     glibc or musl guest picks the same stdio buffering whether or not
//     probesim itself runs on a terminal. ioctl on them returns ENOTTY.
//   - Signals are recorded, not delivered: rt_sigaction and rt_sigprocmask
//     keep the state; a signal a process sends itself (kill, tkill, tgkill)
//     whose disposition is the default ends the process with that signal,
//     as kernel/signal.c would. Delivery to a handler is not modelled yet and
//     is reported as an error result.
//   - Only threads: clone without CLONE_VM (a new process) is ENOSYS.
//
// # Locking
//
// A Kernel is not safe for concurrent use. The machine (package smp) runs
// one vCPU at a time and calls into the kernel from that single goroutine.
package kernel
