// Package ptraceinline is the seed's inline single-step mechanism in user
// space: a ptrace tracer that plants int3 at one address of a program, and
// on every hit restores the original byte, single-steps the hitting thread
// in place with PTRACE_SINGLESTEP and writes int3 again, while the
// program's other threads keep running. This is GDB's non-stop mode
// without displaced stepping, and the 2005 RFC's first patch ("There is a
// small window in which other processor will not be able to see the
// breakpoint if we are single step inline"): another thread that executes
// the instruction while the byte is back runs it without a trap, and the
// hit is missed, on a real SMP kernel.
//
// # What it owns, invariants
//
// Run starts the program as a traced child (PTRACE_TRACEME, then
// PTRACE_O_TRACECLONE so every thread is traced, and PTRACE_O_EXITKILL so
// the program dies with the tracer), and serves every stop from one
// goroutine locked to its OS thread, as ptrace requires. Invariants:
//
//   - at most one thread steps at a time (the byte is either int3 or, during
//     that one step, the original): a thread that trapped on int3 while
//     another steps waits, stopped, and steps after it, as the trap it took
//     was a hit all the same;
//   - a hit is a SIGTRAP stop whose ip is the probe address plus one: the
//     int3 executed, so the handler (the tracer) saw that execution; every
//     other execution of the instruction (during someone's step) is a miss.
//     The tracer cannot see misses: the caller counts executions another
//     way (the threads fixture prints its calls) and misses = executions -
//     hits;
//   - a window is the time from the end of the write that restores the
//     original byte to the end of the write that puts int3 back, read from
//     CLOCK_MONOTONIC in the tracer;
//   - the program never outlives the tracer (PTRACE_O_EXITKILL and
//     Pdeathsig) and Run kills and reaps it on every error and on ctx's end.
//
// # Locking
//
// None: a Run is one goroutine. Separate Runs trace separate programs.
//
// Linux only, x86-64 only (the tracee's ip is regs.Rip).
package ptraceinline
