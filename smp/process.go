package smp

import (
	"github.com/probesim/probesim/kernel"
	"github.com/probesim/probesim/mmu"
	"github.com/probesim/probesim/report"
)

// Processes on the machine.
//
// Every process's threads share the vCPUs under the one scheduler; the
// engine translates through the loaded thread's address space (load,
// emu.Core.SwitchMM). A process ends when its last thread exits, or all at
// once at exit_group, a fatal signal or a fault (endProcess takes its
// other threads off their vCPUs and out of the run queue).
//
// The run ends when no process is left running: the first process and
// every process still alive, orphans included (their reaper is the
// modelled init, outside the simulation, which would keep running them
// as Linux's init does). The report's exit status and stop reason are the
// first process's; a descendant still running after it ended keeps the
// run going until it exits, the cycle budget ends it, or every thread
// sleeps for ever (deadlock).

// endProcess takes down every thread of p (do_group_exit, or the fatal
// signal's zap_other_threads) after end decided how it ends.
func (m *Machine) endProcess(p *kernel.Process, end ending) {
	m.kernel.GroupExit(p, exitInfo(end))
	// Out of the run queue first, so that a vCPU it frees is not given
	// another of them (and charged a context switch for it).
	q := m.runq[:0]
	for _, th := range m.runq {
		if th.kt.Process() != p {
			q = append(q, th)
		}
	}
	m.runq = q
	for _, th := range m.threads {
		if th.kt.Process() != p || th.exited() {
			continue
		}
		m.takeOff(th)
		if m.loaded == th {
			m.loaded = nil
		}
		if th.ctx != nil {
			th.ctx.Free()
			th.ctx = nil
		}
		th.syscallPending, th.trapPending = false, 0
		th.kernelSleep, th.kernelSpin, th.kernelStepping = false, false, false
		m.kernel.ExitTask(th.kt, end.status)
	}
}

// takeOff removes th from the vCPU it runs on or the run queue.
func (m *Machine) takeOff(th *thread) {
	for _, v := range m.vcpus {
		if v.cur == th {
			v.spinning = false
			m.release(v)
			return
		}
	}
	for i, q := range m.runq {
		if q == th {
			m.runq = append(m.runq[:i], m.runq[i+1:]...)
			return
		}
	}
}

// exitInfo is the wait status of an ending: the code of an exit, else
// the signal (no core dump: RLIMIT_CORE is 0, so the core bit stays clear
// as on Linux without a dump).
func exitInfo(end ending) kernel.ExitInfo {
	if end.signal != 0 {
		return kernel.ExitInfo{Signal: end.signal}
	}
	return kernel.ExitInfo{Code: end.status}
}

// noteProcessExit records how a process ended, when the kernel saw its
// last thread go (the exit code of an exit(2) of the last thread, or the
// ending endProcess decided).
func (m *Machine) noteProcessExit(p *kernel.Process) {
	if _, ok := m.procEnds[p.PID()]; ok {
		return
	}
	e, _ := p.Exit()
	end := ending{reason: "exit", status: e.Code}
	if e.Signal != 0 {
		end = ending{reason: "signal", status: 128 + e.Signal, signal: e.Signal}
	}
	m.procEnds[p.PID()] = end
}

// processExited is called when p's last thread is gone, with how it
// ended. It reports whether the run is over, with the run's ending.
func (m *Machine) processExited(p *kernel.Process, end ending) (ending, bool) {
	m.procEnds[p.PID()] = end
	if p.PID() == PID && m.firstEnd == nil {
		e := end
		m.firstEnd = &e
	}
	if m.kernel.LiveProcesses() > 0 {
		return ending{}, false
	}
	if m.firstEnd != nil {
		return *m.firstEnd, true
	}
	return end, true
}

// SetFileMapObserver makes o the observer of file mappings of every
// address space of the machine: the first process's and every forked
// child's (the probe engine's uprobe_mmap).
func (m *Machine) SetFileMapObserver(o mmu.FileMapObserver) {
	m.fileObserver = o
	m.as.SetFileMapObserver(o)
}

// reportProcesses lists every process of the run in creation order, with
// how each ended (end, the run's, for those still running at its end).
func (m *Machine) reportProcesses(end ending) []report.Process {
	byProc := map[*kernel.Process][]*thread{}
	for _, th := range m.threads {
		p := th.kt.Process()
		byProc[p] = append(byProc[p], th)
	}
	var out []report.Process
	for _, p := range m.kernel.Processes() {
		prog := p.Exe()
		if prog == m.exe {
			prog = m.cfg.Program // as given, as the run's program field
		}
		rp := report.Process{PID: p.PID(), PPID: p.CreatorPID(), Program: prog, Args: []string{}}
		if argv := p.Argv(); len(argv) > 1 {
			rp.Args = append(rp.Args, argv[1:]...)
		}
		pe, ok := m.procEnds[p.PID()]
		if !ok {
			pe = end
		}
		rp.ExitStatus = pe.status
		if pe.signal != 0 {
			s := kernel.SignalName(pe.signal)
			rp.Signal = &s
		}
		rp.Threads = []int{}
		for _, th := range byProc[p] {
			rp.Threads = append(rp.Threads, th.kt.TID)
			rp.Cycles += th.cyclesFP >> 8
			rp.Instructions += th.insns
		}
		out = append(out, rp)
	}
	return out
}

// CurrentMM is the address space of the thread the engine holds: the
// trapping thread's during a trap handler.
func (m *Machine) CurrentMM() *mmu.AddressSpace { return m.core.MM() }

// mmPage is a page of one address space.
type mmPage struct {
	mm   *mmu.AddressSpace
	page uint64
}

// firstMM is the first process's address space now: the machine's first
// one, or the one its last exec made.
func (m *Machine) firstMM() *mmu.AddressSpace {
	if m.kernel == nil {
		return m.as
	}
	return m.kernel.Processes()[0].MM()
}

// PIDOf is the pid of the process thread tid belongs to (0: no such
// thread).
func (m *Machine) PIDOf(tid int) int {
	if t := m.byTID[tid]; t != nil {
		return t.kt.Process().PID()
	}
	return 0
}
