package kernel

// CPU is the part of a vCPU's state that syscalls change beyond the return
// register. Package emu implements it over the Unicorn engine; its methods
// act on the task the engine holds now, which is the task in the syscall.
type CPU interface {
	// SetFSBase sets the FS segment base (x86-64 TLS, arch_prctl).
	SetFSBase(base uint64) error
	// SetGSBase sets the GS segment base (arch_prctl ARCH_SET_GS).
	SetGSBase(base uint64) error
	// WriteGDTEntry installs the 8-byte descriptor at GDT index idx so that a
	// later segment load by the guest sees it (i386 TLS, set_thread_area).
	WriteGDTEntry(idx int, desc uint64) error
}

// TaskState is where a task is in its life, as the kernel sees it; where it
// runs (a vCPU, a run queue) is the scheduler's business.
type TaskState int

const (
	TaskRunnable TaskState = iota // running or waiting for a vCPU
	TaskBlocked                   // asleep in a syscall (Task.block)
	TaskExited                    // exit(2) or the end of the process
)

// Task is one thread of execution (a task_struct, reduced to what probesim
// models). The objects it points at are shared with other tasks or its
// own, as the CLONE_* flags of its creation said (clone.go): the thread
// group, the address space (MM), the descriptor table, the filesystem
// context and the signal handlers.
//
// A Task's fields are read and written only from the machine's goroutine,
// during a syscall of that task or at one of its kernel events.
type Task struct {
	TID int
	CPU CPU

	k       *Kernel
	tg      *Process
	files   *FDTable
	fsc     *FSContext
	sighand *SignalHandlers

	// ClearChildTID is the set_tid_address / CLONE_CHILD_CLEARTID word,
	// cleared and futex-woken when the task exits.
	ClearChildTID uint64
	RobustList    uint64
	SigMask       uint64
	FSBase        uint64
	GSBase        uint64
	// TLS holds the three i386 TLS descriptors (GDT_ENTRY_TLS_MIN ..
	// GDT_ENTRY_TLS_MAX), which the scheduler must reinstall in the GDT when
	// it switches tasks, as switch_to() does with load_TLS().
	TLS [TLSEntries]TLSDesc
	// CPUCycles returns the cycles this task has run (CLOCK_THREAD_CPUTIME_ID);
	// the scheduler sets it.
	CPUCycles func() uint64

	// Signals (signal.go, deliver.go): pending for the task itself, the
	// alternate stack, and the mask to restore after a sigsuspend-like
	// wait (savedMask, valid while restoreMask).
	pending     sigPending
	altStack    altStack
	savedMask   uint64
	restoreMask bool
	// Syscall restart (restart.go): the number of the syscall being
	// returned from, and whether it returned an ERESTART* code.
	syscallNr      uint64
	restartPending bool

	comm      string // prctl(PR_SET_NAME); "" = the program's name
	pdeathsig int
	nice      int

	state      TaskState
	exitStatus int
	// released: its descriptors, fs context and handlers were dropped
	// (releaseTask).
	released bool
	// vforkWait: it sleeps in vfork until its child execs or exits.
	vforkWait bool
	// blocked is the syscall the task sleeps in (block.go); nil otherwise.
	blocked *blocker
	// fifoWait is a FIFO open waiting for its other end (fifo.go).
	fifoWait *fifoWait
	// timer is the task's own timeout timer (futex, nanosleep), created
	// with the task so that simultaneous timeouts fire in task creation
	// order.
	timer *Timer
}

// name is the task's comm: its PR_SET_NAME, else the program's.
func (t *Task) name() string {
	if t.comm != "" {
		return t.comm
	}
	if t.tg.comm != "" {
		return t.tg.comm
	}
	return t.k.comm()
}

// State is the task's state.
func (t *Task) State() TaskState { return t.state }

// ExitStatus is the status the task exited with (TaskExited only).
func (t *Task) ExitStatus() int { return t.exitStatus }

// Process is the task's process.
func (t *Task) Process() *Process { return t.tg }

// Kernel is the kernel the task belongs to.
func (t *Task) Kernel() *Kernel { return t.k }

// NewTask adds a task with the given id to the process, sharing its
// descriptor table and signal handlers, as the process's first thread or
// as a test's extra thread. Threads the guest creates come from clone.
func (k *Kernel) NewTask(tid int, cpu CPU) *Task {
	t := &Task{TID: tid, CPU: cpu, k: k, tg: k.self(), files: k.initFiles.incRef(), fsc: k.initFS.incRef(),
		sighand: k.initSighand.incRef()}
	k.addTask(t)
	return t
}

// addTask registers t with the kernel and its thread group.
func (k *Kernel) addTask(t *Task) {
	t.timer = k.timers.newTimer(t.fireTimeout)
	k.tasks[t.TID] = t
	t.tg.add(t)
}

// TaskByTID returns the live or exited-but-not-reaped task tid, or nil.
func (k *Kernel) TaskByTID(tid int) *Task { return k.tasks[tid] }
