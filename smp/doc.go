// Package smp is the machine: the vCPUs, the guest threads that run on
// them, the run loop that orders them in simulated time, and the budgets
// that end a runaway guest.
//
// This version runs one vCPU (the threads, the scheduler across several
// vCPUs and the global cycle order come with the SMP issue). The structure
// is already the final one: all vCPUs share one emu.Core and one
// mmu.AddressSpace; each vCPU has its own C counters that the block hook
// charges while that vCPU runs.
//
// # Invariants
//
//   - The machine runs on one goroutine; nothing in a run depends on host
//     timing, goroutine order or map order, so Run is a pure function of
//     Config (Host fields of the report aside).
//   - Every cycle a vCPU spends is charged to its counters: guest blocks by
//     the C hook, kernel events (syscalls, faults) by emu at the event.
//
// # Locking
//
// A Machine is not safe for concurrent use. Many machines may run in
// parallel (sweeps): they share nothing.
package smp
