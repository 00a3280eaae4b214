// Package kernel is probesim's model of the Linux system-call layer for one
// guest process: the i386 (int $0x80) and x86-64 (syscall) ABIs, the file
// descriptors the guest may use, the recorded signal state, and the
// deterministic clock and randomness the guest observes.
//
// The package has no cgo and knows nothing of Unicorn. A caller (package emu)
// reads the syscall number and arguments out of the vCPU registers, calls
// Kernel.Syscall, writes the return value back, and acts on the Result
// (continue, end the thread, end the process, or kill it with a signal).
// Whatever a syscall does to a thread's CPU state beyond the return value
// (the FS base, a GDT descriptor) goes through the CPU interface.
//
// # Determinism
//
// Nothing here reads the host: time comes from the simulated cycle clock
// (Config.Clock and Config.FreqHz, starting at Epoch), randomness from a
// generator seeded with Config.Seed, identities are fixed (PID, UID), and no
// host file is ever opened. A guest that asks for a path other than the few
// synthetic /proc files gets ENOENT. The same inputs therefore produce the
// same syscall results on every host.
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
//   - Any syscall without a handler returns ENOSYS and is counted in
//     Unsupported, so a report shows exactly what the guest missed.
//
// # Locking
//
// A Kernel is not safe for concurrent use. The machine (package smp) runs
// one vCPU at a time and calls Syscall from that single goroutine.
package kernel
