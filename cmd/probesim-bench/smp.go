package main

import (
	"fmt"
	"io"
	"time"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/smp"
)

// SMP benchmarks: how host time per guest instruction changes with the
// number of vCPUs (target: 16 vCPUs within 1.5x of 1), and what the
// lockstep reference mode costs against the fast mode.

const scalingTarget = 1.5

type scalingRow struct {
	CPUs         int     `json:"cpus"`
	Instructions uint64  `json:"instructions"`
	Cycles       uint64  `json:"cycles"`
	Seconds      float64 `json:"seconds"`
	NsPerInsn    float64 `json:"ns_per_insn"`
	VsOneCPU     float64 `json:"vs_one_cpu"`
}

type lockstepRow struct {
	CPUs         int     `json:"cpus"`
	FastSeconds  float64 `json:"fast_seconds"`
	LockSeconds  float64 `json:"lockstep_seconds"`
	Ratio        float64 `json:"ratio"`
	Instructions uint64  `json:"instructions"`
	SameCounts   bool    `json:"same_counts"`
}

// timedRun runs cfg reps times and keeps the fastest execution (load
// excluded), with the report of that run.
func timedRun(cfg smp.Config, reps int) (float64, uint64, uint64, []uint64, error) {
	best := 0.0
	var insns, cycles uint64
	var perCPU []uint64
	for i := 0; i < reps; i++ {
		m, err := smp.New(cfg)
		if err != nil {
			return 0, 0, 0, nil, err
		}
		start := time.Now()
		r, err := m.Run()
		secs := time.Since(start).Seconds()
		m.Close()
		if err != nil {
			return 0, 0, 0, nil, err
		}
		if r.ExitStatus != 0 {
			return 0, 0, 0, nil, fmt.Errorf("%s exited with status %d", cfg.Program, r.ExitStatus)
		}
		if best == 0 || secs < best {
			best = secs
		}
		insns, cycles = r.Instructions, r.Cycles
		perCPU = perCPU[:0]
		for _, v := range r.VCPUs {
			perCPU = append(perCPU, v.Instructions)
		}
	}
	return best, insns, cycles, perCPU, nil
}

func measureScaling(w io.Writer, reps int) ([]scalingRow, error) {
	prog, err := fixtures.Path(fixtures.ArchAMD64, "threads")
	if err != nil {
		return nil, err
	}
	args := []string{"16", "20000"}
	var rows []scalingRow
	for _, cpus := range []int{1, 4, 16} {
		secs, insns, cycles, _, err := timedRun(smp.Config{Program: prog, Args: args, CPUs: cpus, Seed: 1}, reps)
		if err != nil {
			return nil, err
		}
		r := scalingRow{CPUs: cpus, Instructions: insns, Cycles: cycles, Seconds: secs, NsPerInsn: secs * 1e9 / float64(insns)}
		r.VsOneCPU = r.NsPerInsn / rowsFirst(rows, r).NsPerInsn
		rows = append(rows, r)
	}
	fmt.Fprintf(w, "\nSMP scaling: threads 16 20000 (x86_64), default quantum, best of %d\n", reps)
	fmt.Fprintf(w, "%5s %14s %12s %9s %10s %10s\n", "vCPUs", "guest insns", "sim cycles", "host s", "ns/insn", "vs 1 vCPU")
	for _, r := range rows {
		mark := ""
		if r.VsOneCPU > scalingTarget {
			mark = fmt.Sprintf("  (over the %.1fx target)", scalingTarget)
		}
		fmt.Fprintf(w, "%5d %14d %12d %9.3f %10.2f %9.2fx%s\n", r.CPUs, r.Instructions, r.Cycles, r.Seconds, r.NsPerInsn, r.VsOneCPU, mark)
	}
	return rows, nil
}

func rowsFirst(rows []scalingRow, r scalingRow) scalingRow {
	if len(rows) == 0 {
		return r
	}
	return rows[0]
}

func measureLockstep(w io.Writer, reps int) (lockstepRow, error) {
	prog, err := fixtures.Path(fixtures.ArchAMD64, "parallel")
	if err != nil {
		return lockstepRow{}, err
	}
	cfg := smp.Config{Program: prog, Args: []string{"4", "20000"}, CPUs: 4, Seed: 1}
	fast, insns, _, fastCPU, err := timedRun(cfg, reps)
	if err != nil {
		return lockstepRow{}, err
	}
	cfg.Lockstep = true
	lock, _, _, lockCPU, err := timedRun(cfg, reps)
	if err != nil {
		return lockstepRow{}, err
	}
	same := len(fastCPU) == len(lockCPU)
	for i := range fastCPU {
		same = same && fastCPU[i] == lockCPU[i]
	}
	r := lockstepRow{CPUs: 4, FastSeconds: fast, LockSeconds: lock, Ratio: lock / fast, Instructions: insns, SameCounts: same}
	fmt.Fprintf(w, "\nlockstep: parallel 4 20000 (x86_64) on 4 vCPUs, best of %d: fast %.3f s, lockstep %.3f s (%.1fx slower); per-vCPU instruction counts equal: %v\n",
		reps, r.FastSeconds, r.LockSeconds, r.Ratio, r.SameCounts)
	return r, nil
}
