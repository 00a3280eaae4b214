package kernel

// ThreadGroup is a process: the tasks that share a PID (a signal_struct
// and the thread-group links of task_struct, reduced). probesim runs one
// process, whose TGID is Config.PID.
type ThreadGroup struct {
	TGID  int
	tasks []*Task // in creation order
	live  int     // tasks not exited
	// pending are the process-directed signals not yet taken.
	pending sigPending
}

func (tg *ThreadGroup) add(t *Task) {
	tg.tasks = append(tg.tasks, t)
	tg.live++
}

// Live is the number of tasks of the group that have not exited.
func (tg *ThreadGroup) Live() int { return tg.live }
