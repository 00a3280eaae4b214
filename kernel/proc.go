package kernel

import (
	"github.com/probesim/probesim/mmu"
)

// Process is a thread group: the tasks that share a PID, with what Linux
// keeps per process in the signal_struct and the mm (gVisor's
// ThreadGroup): the address space, the process-directed pending signals,
// the interval and POSIX timers, the resource limits and prctl flags, the
// process tree (parent, children, process group, session) and the exit
// state a parent's wait collects. The first process's PID is Config.PID;
// its parent is init (ParentPID), outside the simulation.
type Process struct {
	TGID  int
	tasks []*Task // in creation order
	live  int     // tasks not exited
	// pending are the process-directed signals not yet taken.
	pending sigPending

	mm *mmu.AddressSpace

	itimers      [3]*procTimer        // ITIMER_REAL, VIRTUAL, PROF
	posixTimers  []*procTimer         // by timer id
	timerSignals map[int][]*procTimer // timers whose signal is queued, by signal

	rlimNofile [2]uint64 // RLIMIT_NOFILE soft and hard limits
	dumpable   int       // prctl(PR_GET_DUMPABLE)
	noNewPrivs bool      // prctl(PR_SET_NO_NEW_PRIVS)

	// The process tree (fork.go, exit.go). parent is nil for a child of
	// init (the first process, and orphans).
	parent     *Process
	creator    int        // the pid of the process that forked it (ParentPID: the first's)
	children   []*Process // live and zombie, in creation order
	pgid, sid  int
	exitSignal int  // sent to the parent at exit (0: none)
	subreaper  bool // PR_SET_CHILD_SUBREAPER
	// childExited is notified when a child becomes a zombie (wait).
	childExited WaitQueue
	// vforkParent sleeps in vfork until this process execs or exits.
	vforkParent *Task

	state        procState
	exiting      bool     // GroupExit or the last thread's exit decided exit
	exit         ExitInfo // how it ended
	exitCycles   uint64   // its threads' cycles at its exit
	reapedCycles uint64   // cycles of its threads already reaped
	childCycles  uint64   // its reaped children's (RUSAGE_CHILDREN)
	mmStats      mmu.Stats

	// What it runs, for the report and /proc: the program and its
	// arguments, and the name (comm) of its threads.
	exe        string
	argv, envp []string
	comm       string
}

func newProcess(tgid int, mm *mmu.AddressSpace) *Process {
	return &Process{TGID: tgid, mm: mm, timerSignals: map[int][]*procTimer{}, dumpable: 1,
		rlimNofile: [2]uint64{1024, 1048576}, pgid: tgid, sid: tgid, exitSignal: SIGCHLD}
}

// PID is the process id (its thread group id).
func (tg *Process) PID() int { return tg.TGID }

// PPID is the parent's pid as the process sees it (1: init).
func (tg *Process) PPID() int {
	if tg.parent == nil {
		return ParentPID
	}
	return tg.parent.TGID
}

// CreatorPID is the pid of the process that created it (ParentPID for
// the first), whoever its parent is now.
func (tg *Process) CreatorPID() int {
	if tg.creator == 0 {
		return ParentPID
	}
	return tg.creator
}

// Exe and Argv are the program the process runs and its arguments.
func (tg *Process) Exe() string    { return tg.exe }
func (tg *Process) Argv() []string { return tg.argv }

// Exit is how the process ended; ok is false while it runs.
func (tg *Process) Exit() (ExitInfo, bool) { return tg.exit, tg.state != procLive }

// Exiting reports whether the process has begun to end (GroupExit).
func (tg *Process) Exiting() bool { return tg.exiting }

// Cycles is the CPU time of all its threads, exited ones included.
func (tg *Process) Cycles() uint64 {
	if tg.state != procLive {
		return tg.exitCycles
	}
	return tg.cycles()
}

// Tasks are the threads of the process not yet reaped, in creation order.
func (tg *Process) Tasks() []*Task { return append([]*Task(nil), tg.tasks...) }

// Processes returns every process the simulation created, in creation
// order, reaped ones included.
func (k *Kernel) Processes() []*Process { return append([]*Process(nil), k.procOrder...) }

// LiveProcesses is the number of processes whose threads have not all
// exited (zombies are not live).
func (k *Kernel) LiveProcesses() int { return k.live }

// OnProcessExit sets a function called when a process's last thread has
// exited (the machine ends the run when none is left).
func (k *Kernel) OnProcessExit(fn func(*Process)) { k.onProcessExit = fn }

func (tg *Process) add(t *Task) {
	tg.tasks = append(tg.tasks, t)
	tg.live++
}

// Live is the number of tasks of the group that have not exited.
func (tg *Process) Live() int { return tg.live }

// MM is the process's address space.
func (tg *Process) MM() *mmu.AddressSpace { return tg.mm }

// self is the process of the task being served (the first process
// outside a syscall).
func (k *Kernel) self() *Process {
	if k.cur != nil {
		return k.cur.tg
	}
	return k.init
}

// mm is the address space of the task being served: where the syscall's
// pointers point.
func (k *Kernel) mm() *mmu.AddressSpace { return k.self().mm }
