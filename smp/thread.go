package smp

import (
	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/kernel"
	"github.com/probesim/probesim/mmu"
)

// thread is a kernel task as the machine schedules it: its saved
// registers, where it may run and what it ran. The task itself (its state,
// its kernel objects) is the kernel's.
type thread struct {
	kt  *kernel.Task
	ctx *uc.Context // its registers while it is not loaded in the engine
	// pending are register writes to apply when the thread next runs: a new
	// clone's return value and stack.
	pending []regWrite
	// readyAt is the cycle (fixed point) at which it last became runnable;
	// a vCPU that picks it up cannot run it earlier.
	readyAt uint64
	// Accounting.
	cyclesFP uint64 // cycles it ran, for CLOCK_THREAD_CPUTIME_ID
	insns    uint64 // instructions it retired
	vcpus    uint64 // bit i set: it ran on vCPU i (ids < 64)
	// syscallPending: a syscall stopped at the gate waits in the registers.
	syscallPending bool
	// trapPending: an int3 (3) or #DB (1) waits for its ordered turn.
	trapPending uint32
	// kernelSleep: blocked by a trap handler's SleepInKernel or
	// SpinInKernel (ksleep.go); kernelSpin: the latter.
	kernelSleep, kernelSpin bool
	// kernelStepping: a trap handler set TF on it (SetTrapFlag) and the
	// single-step has not ended. Its time slice does not end meanwhile:
	// kprobes' handler runs the step with preemption disabled
	// (preempt_disable in kprobe_handler, enabled again in
	// post_kprobe_handler), which is why the seed finds inline stepping
	// misses no hit on a uniprocessor.
	kernelStepping bool
	// kernelEvents counts its jittered kernel costs (jitter.go).
	kernelEvents uint64
}

func (t *thread) exited() bool { return t.kt.State() == kernel.TaskExited }

// mm is the address space the thread runs in.
func (t *thread) mm() *mmu.AddressSpace { return t.kt.Process().MM() }

type regWrite struct {
	reg uc.Reg
	val uint64
}

func (t *thread) setPending(reg uc.Reg, v uint64) {
	for i := range t.pending {
		if t.pending[i].reg == reg {
			t.pending[i].val = v
			return
		}
	}
	t.pending = append(t.pending, regWrite{reg, v})
}

// vcpu is one virtual CPU: its clock lives in C counters charged by the
// block hook while it runs.
type vcpu struct {
	id       int
	counters *uc.Counters
	cur      *thread // nil: idle
	last     *thread // the thread it ran last (a different one costs a context switch)
	// sliceStartFP is when cur got the vCPU (for time slicing).
	sliceStartFP    uint64
	idleFP          uint64
	contextSwitches uint64
	ipisReceived    uint64
	shootdowns      uint64 // TLB shootdowns it initiated
	// mm is the address space whose page tables the vCPU has loaded: its
	// thread's, or the last one's while idle (lazy TLB mode). It is in
	// that mm's mm_cpumask (tlb.go).
	mm         *mmu.AddressSpace
	mmSwitches uint64 // loads of another mm's page tables
	prio       int    // tie-break rank, a permutation drawn from the seed
	// spinning: its thread spins in the kernel with interrupts off
	// (SpinInKernel): the vCPU is neither run nor given away, and the
	// other vCPUs do not wait for it.
	spinning bool
}

func (v *vcpu) clockFP() uint64 { return v.counters.CyclesFP() }

// advanceTo moves an idle vCPU's clock forward to fp: the time it spent
// with nothing to run.
func (v *vcpu) advanceTo(fp uint64) {
	if now := v.clockFP(); fp > now {
		v.counters.Add(0, fp-now)
		v.idleFP += fp - now
	}
}
