package probes

import (
	"slices"

	"github.com/probesim/probesim/report"
)

// Per-process counts: a uprobe is keyed by file and offset, so it counts in
// every process that executes the probed instruction (forked workers, exec'd
// programs mapping the file). Every execution is logged as a hit or a miss
// (record), which is where each is also counted for the executing thread's
// process: the per-process counts sum to the probe's totals.

// procCounts are one probe's counts in one process.
type procCounts struct{ executions, hits, misses uint64 }

// countProcess counts the execution r logged for its thread's process.
func (e *Engine) countProcess(r eventRecord) {
	pid := e.m.PIDOf(int(r.tid))
	if e.perProcess == nil {
		e.perProcess = map[uint32]map[int]*procCounts{}
	}
	byPID := e.perProcess[r.probe]
	if byPID == nil {
		byPID = map[int]*procCounts{}
		e.perProcess[r.probe] = byPID
	}
	c := byPID[pid]
	if c == nil {
		c = &procCounts{}
		byPID[pid] = c
	}
	c.executions++
	if r.kind == kindHit {
		c.hits++
	} else {
		c.misses++
	}
}

// processReport is probe index i's per-process counts, in pid order.
func (e *Engine) processReport(i uint32) []report.ProbeProcess {
	out := []report.ProbeProcess{}
	byPID := e.perProcess[i]
	pids := make([]int, 0, len(byPID))
	for pid := range byPID {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	for _, pid := range pids {
		c := byPID[pid]
		out = append(out, report.ProbeProcess{PID: pid, Executions: c.executions, Hits: c.hits, Misses: c.misses})
	}
	return out
}
