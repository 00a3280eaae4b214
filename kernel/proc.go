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
}

func newProcess(tgid int, mm *mmu.AddressSpace) *Process {
	return &Process{TGID: tgid, mm: mm, timerSignals: map[int][]*procTimer{}, dumpable: 1,
		rlimNofile: [2]uint64{1024, 1048576}}
}

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
