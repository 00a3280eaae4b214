package probes

import "github.com/probesim/probesim/mmu"

// Per-thread probe state, in the shape of Linux's struct uprobe_task
// (include/linux/uprobes.h): everything the engine knows about one thread
// lives in one object, made on the thread's first hit (get_utask) and
// found by its tid.

// utaskState is where a thread is in a hit (Linux's enum uprobe_task_state).
type utaskState uint8

const (
	// utaskRunning: no hit in progress.
	utaskRunning utaskState = iota
	// utaskSStep: single-stepping the active probe's instruction, in
	// place or out of line (step says which); the #DB ends it.
	utaskSStep
	// utaskWaitSlot: asleep in the kernel for a free XOL slot
	// (xol_get_insn_slot's wait_event), the active probe's handler done;
	// the thread's next trap at the probe resumes the hit.
	utaskWaitSlot
	// utaskSpinLock: spinning for ssol-stack-2006's global lock at the
	// int3, before the handler (seedlock.go).
	utaskSpinLock
)

// uprobeTask is one thread's probe state.
type uprobeTask struct {
	tid   int
	state utaskState
	// active is the probe being stepped (utask->active_uprobe).
	active *probe
	// step is how the step in progress ends: the strategy that started
	// it (inline, or out of line at a place).
	step stepper
	// vaddr is the probed address and xolVaddr where the instruction is
	// stepped: its slot out of line, vaddr itself in place (utask->vaddr,
	// utask->xol_vaddr).
	vaddr, xolVaddr uint64
	// savedScratch is the RIP-relative scratch register's value before
	// the step (autask.saved_scratch_register).
	savedScratch uint64
	// savedTF: the program had TF set itself at the hit (autask.saved_tf).
	savedTF bool
	// hitNo is the step's hit number (ssol-stack-2005's reports).
	hitNo uint64
	// The stack page of an ssol-stack slot: its protection before the
	// step, and whether NX was cleared for it.
	slotPage    uint64
	slotRestore mmu.Prot
	slotFlipped bool
	// restarted is the probe whose trap was undone (undoBreakpoint): the
	// thread's next watched execution of it is the one already counted.
	restarted *probe
	// returns is the thread's stack of armed return probes, the most
	// recent last (utask->return_instances; uretprobe.go).
	returns []returnInstance
}

// task returns tid's uprobeTask, making it on first use.
func (e *Engine) task(tid int) *uprobeTask {
	t := e.tasks[tid]
	if t == nil {
		t = &uprobeTask{tid: tid}
		e.tasks[tid] = t
	}
	return t
}

// stepping is tid's task when it is single-stepping, else nil.
func (e *Engine) stepping(tid int) *uprobeTask {
	if t := e.tasks[tid]; t != nil && t.state == utaskSStep {
		return t
	}
	return nil
}

// startStep records that t steps p's instruction at xolVaddr, ended by s.
func (e *Engine) startStep(t *uprobeTask, p *probe, s stepper, xolVaddr uint64) {
	e.stats.Stepped++
	t.startStep(p, s, xolVaddr)
}

// startStep is the task's part of Engine.startStep.
func (t *uprobeTask) startStep(p *probe, s stepper, xolVaddr uint64) {
	t.state, t.active, t.step = utaskSStep, p, s
	t.vaddr, t.xolVaddr = p.spec.Addr, xolVaddr
}

// endStep returns t to running.
func (t *uprobeTask) endStep() {
	t.state, t.active, t.step = utaskRunning, nil, nil
	t.slotFlipped = false
}
