// Command probesim-bench measures probesim's emulation overhead. It runs
// the loop fixture (200M iterations of a register-only loop, no system call
// until exit_group) and the storeloop fixture (50M iterations of two stores
// and a load) on a bare Unicorn engine and under probesim, and prints both
// speeds and their ratio (targets: probesim/raw <= 2.0 on loop, 1.5 on
// storeloop). Then programs side by side, natively, under qemu-user and
// under bin/probesim (programs.go: the fixtures' workloads, qsort of 2M
// ints, busybox md5sum and gzip of 27 MB, a bash loop; target: within 3x
// of qemu-user); pipe and socket syscalls per second against native and
// qemu-user (pipes.go); the mapping cost at two sizes (mappings.go); host time per
// guest instruction of the threaded fixture on 1, 4 and 16 vCPUs (smp.go;
// target: 16 within 1.5x of 1) and the cost of the lockstep reference mode
// against the fast mode; fork+exit+wait round trips per second and a
// busybox sh pipeline against native and qemu-user (processes.go).
//
//	go run ./cmd/probesim-bench [-arch x86_64|i386|both] [-reps N] [-json FILE]
//	    [-probesim bin/probesim] [-qemu qemu-x86_64]
//
// The raw run (raw.go) maps the same ELF segments directly into Unicorn with
// a single hook that stops at the exit system call; the probesim run is
// smp.New + Run with the default configuration (C cycle accounting on). Only
// execution is timed (Start, Run); loading is not. Runs are interleaved
// (raw, probesim, raw, ...) so load changes on the host hit both alike, and
// the best (minimum) time of each is kept. Both runs execute the same
// instructions; the count is the one probesim reports.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/probesim/probesim/emu/loader"
	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/smp"
)

// engineFixtures are the engine table's workloads and the overhead against
// raw Unicorn probesim aims to stay within on each.
var engineFixtures = []struct {
	name   string
	target float64
}{{"loop", 2.0}, {"storeloop", 1.5}}

// result is one architecture's measurement (best of the repetitions).
type result struct {
	Fixture      string  `json:"fixture"`
	Arch         string  `json:"arch"`
	Instructions uint64  `json:"instructions"`
	Cycles       uint64  `json:"cycles"`
	IPC          float64 `json:"ipc"`
	RawSeconds   float64 `json:"raw_seconds"`
	RawMIPS      float64 `json:"raw_mips"`
	ProbesimSecs float64 `json:"probesim_seconds"`
	ProbesimMIPS float64 `json:"probesim_mips"`
	Ratio        float64 `json:"ratio"` // probesim seconds / raw seconds
	TargetRatio  float64 `json:"target_ratio"`
	ExitStatus   int     `json:"exit_status"`
	Repetitions  int     `json:"repetitions"`
	Statistic    string  `json:"statistic"` // how the repetitions' times were combined
}

type output struct {
	Host     hostInfo     `json:"host"`
	Results  []result     `json:"results"`
	Programs []programRow `json:"programs"`
	Pipes    []pipeRow    `json:"pipes"`
	Mappings []scaleRow   `json:"mappings"`
	Scaling  []scalingRow `json:"smp_scaling"`
	Lockstep lockstepRow  `json:"lockstep"`
	// Processes is the processes section (absent when -only leaves it out).
	Processes []processRow `json:"processes,omitempty"`
}

func main() {
	err := run(os.Args[1:], os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "probesim-bench: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("probesim-bench", flag.ContinueOnError)
	archFlag := fs.String("arch", "both", "guest architecture: x86_64, i386 or both")
	reps := fs.Int("reps", 3, "repetitions of each run; the minimum time is kept")
	jsonPath := fs.String("json", "", "also write the results as JSON to this file")
	probesimBin := fs.String("probesim", "bin/probesim", "the probesim binary the programs table runs")
	qemuBin := fs.String("qemu", "qemu-x86_64", "the qemu-user binary the programs table runs")
	only := fs.String("only", "", "run only these comma-separated sections: engine, programs, pipes, mappings, smp, processes")
	writeInputTo := fs.String("write-input", "", "write the programs table's generated 27 MB input to this file and exit (to time the same runs by other means)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *reps < 1 {
		return fmt.Errorf("-reps must be at least 1, got %d", *reps)
	}
	if *writeInputTo != "" {
		return writeInputFile(*writeInputTo)
	}
	sections := map[string]bool{"engine": true, "programs": true, "pipes": true, "mappings": true, "smp": true, "processes": true}
	if *only != "" {
		for s := range sections {
			sections[s] = false
		}
		for _, s := range strings.Split(*only, ",") {
			if _, ok := sections[s]; !ok {
				return fmt.Errorf("-only: unknown section %q (engine, programs, pipes, mappings, smp, processes)", s)
			}
			sections[s] = true
		}
	}
	var arches []string
	switch *archFlag {
	case "both":
		arches = []string{fixtures.ArchAMD64, fixtures.ArchI386}
	case fixtures.ArchAMD64, fixtures.ArchI386:
		arches = []string{*archFlag}
	default:
		return fmt.Errorf("-arch must be x86_64, i386 or both, got %q", *archFlag)
	}

	// Open the JSON file first: a bad path should not cost a whole run.
	var jsonFile *os.File
	if *jsonPath != "" {
		f, err := os.Create(*jsonPath)
		if err != nil {
			return err
		}
		defer f.Close()
		jsonFile = f
	}

	out := output{Host: newHostInfo()}
	fmt.Fprintf(w, "host: %s (%d CPUs), %s, load average at start %s\n",
		out.Host.CPU, out.Host.CPUs, out.Host.GoVersion, out.Host.LoadAtStart)
	if sections["engine"] {
		fmt.Fprintf(w, "engine: raw Unicorn against probesim, fixtures without arguments, best of %d interleaved runs each; execution only\n\n", *reps)
		for _, fx := range engineFixtures {
			for _, arch := range arches {
				r, err := measure(fx.name, arch, *reps)
				if err != nil {
					return fmt.Errorf("%s/%s: %w", arch, fx.name, err)
				}
				r.TargetRatio = fx.target
				out.Results = append(out.Results, r)
			}
		}
		printTable(w, out.Results)
	}
	var err error
	if sections["programs"] {
		if out.Programs, err = measurePrograms(w, *probesimBin, *qemuBin, *reps); err != nil {
			return fmt.Errorf("programs: %w", err)
		}
	}
	if sections["pipes"] {
		if out.Pipes, err = measurePipes(w, *probesimBin, arches, *reps); err != nil {
			return fmt.Errorf("pipes: %w", err)
		}
	}
	if sections["mappings"] {
		if out.Mappings, err = measureMappings(w, *reps); err != nil {
			return fmt.Errorf("mappings: %w", err)
		}
	}
	if sections["smp"] {
		if out.Scaling, err = measureScaling(w, *reps); err != nil {
			return fmt.Errorf("smp scaling: %w", err)
		}
		if out.Lockstep, err = measureLockstep(w, *reps); err != nil {
			return fmt.Errorf("lockstep: %w", err)
		}
	}
	if sections["processes"] {
		if out.Processes, err = measureProcesses(w, *probesimBin, arches, *reps); err != nil {
			return fmt.Errorf("processes: %w", err)
		}
	}
	out.Host.LoadAtEnd = loadAverage()
	fmt.Fprintf(w, "\nload average at end %s\n", out.Host.LoadAtEnd)

	if jsonFile == nil {
		return nil
	}
	enc := json.NewEncoder(jsonFile)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	return jsonFile.Close()
}

// measure runs a fixture reps times raw and under probesim, interleaved,
// and keeps the fastest of each.
func measure(name, arch string, reps int) (result, error) {
	path, err := fixtures.Path(arch, name)
	if err != nil {
		return result{}, err
	}
	im, err := loader.Load(path)
	if err != nil {
		return result{}, err
	}
	r := result{Fixture: name, Arch: arch, Repetitions: reps, Statistic: "min"}
	var bestRaw, bestSim time.Duration
	for i := 0; i < reps; i++ {
		raw, err := runRaw(im)
		if err != nil {
			return result{}, err
		}
		sim, err := runProbesim(path)
		if err != nil {
			return result{}, err
		}
		if raw.status != sim.ExitStatus {
			return result{}, fmt.Errorf("raw run exited %d, probesim %d: not the same program run", raw.status, sim.ExitStatus)
		}
		if i == 0 || raw.wall < bestRaw {
			bestRaw = raw.wall
		}
		if i == 0 || sim.wall < bestSim {
			bestSim = sim.wall
		}
		// Deterministic: every probesim run reports the same counts.
		r.Instructions, r.Cycles, r.ExitStatus = sim.Instructions, sim.Cycles, sim.ExitStatus
	}
	r.RawSeconds, r.ProbesimSecs = bestRaw.Seconds(), bestSim.Seconds()
	r.RawMIPS = mips(r.Instructions, r.RawSeconds)
	r.ProbesimMIPS = mips(r.Instructions, r.ProbesimSecs)
	r.Ratio = r.ProbesimSecs / r.RawSeconds
	if r.Cycles > 0 {
		r.IPC = float64(r.Instructions) / float64(r.Cycles)
	}
	return r, nil
}

// simResult is one probesim run.
type simResult struct {
	wall         time.Duration // Run only: smp.New (loading) excluded
	Instructions uint64
	Cycles       uint64
	ExitStatus   int
}

func runProbesim(path string) (simResult, error) {
	m, err := smp.New(smp.Config{Program: path})
	if err != nil {
		return simResult{}, err
	}
	defer m.Close()
	began := time.Now()
	rep, err := m.Run()
	wall := time.Since(began)
	if err != nil {
		return simResult{}, fmt.Errorf("probesim run: %w", err)
	}
	if rep.StopReason != "exit" {
		return simResult{}, fmt.Errorf("probesim run ended by %s (status %d), want exit", rep.StopReason, rep.ExitStatus)
	}
	return simResult{wall: wall, Instructions: rep.Instructions, Cycles: rep.Cycles, ExitStatus: rep.ExitStatus}, nil
}

func mips(insns uint64, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(insns) / secs / 1e6
}

func printTable(w io.Writer, rs []result) {
	fmt.Fprintf(w, "%-10s %-7s %14s %9s %9s %9s %9s %7s %14s %6s\n",
		"fixture", "arch", "guest insns", "raw s", "raw MIPS", "sim s", "sim MIPS", "ratio", "sim cycles", "IPC")
	for _, r := range rs {
		verdict := ""
		if r.Ratio > r.TargetRatio {
			verdict = fmt.Sprintf("  (over the %.1fx target)", r.TargetRatio)
		}
		fmt.Fprintf(w, "%-10s %-7s %14d %9.3f %9.0f %9.3f %9.0f %6.2fx %14d %6.2f%s\n",
			r.Fixture, r.Arch, r.Instructions, r.RawSeconds, r.RawMIPS, r.ProbesimSecs, r.ProbesimMIPS,
			r.Ratio, r.Cycles, r.IPC, verdict)
	}
}
