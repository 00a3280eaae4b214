package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/probesim/probesim/fixtures"
)

// The processes table (-only processes alone): fork+exit+wait
// round trips per second of host time for testdata/forkbench.c (built
// here with gcc -static, both arches), and a busybox sh pipeline's time,
// natively, under qemu-user and under bin/probesim, interleaved, best of
// the repetitions, outputs compared. The pipeline's shell finds its
// applets through PATH, a temporary directory of links to busybox.
// qemu-user translates the program it starts and the children it forks,
// but not what they execve (without binfmt_misc, qemu-user's execve runs
// the new program on the host): the pipeline's qemu column is the shell
// translated and its applets native. A probesim run that fails or
// disagrees with the native one does not stop the table: its column is
// the one-line reason, and the next row runs.

type processRow struct {
	Name           string   `json:"name"`
	Arch           string   `json:"arch"`
	Argv           []string `json:"argv"`
	Rounds         uint64   `json:"rounds,omitempty"` // fork+exit+wait round trips; 0 for the pipeline
	NativeSecs     float64  `json:"native_seconds"`
	QemuSecs       float64  `json:"qemu_seconds"`
	ProbesimSecs   float64  `json:"probesim_seconds,omitempty"`
	NativePerSec   float64  `json:"native_rounds_per_second,omitempty"`
	QemuPerSec     float64  `json:"qemu_rounds_per_second,omitempty"`
	ProbesimPerSec float64  `json:"probesim_rounds_per_second,omitempty"`
	VsNative       float64  `json:"probesim_vs_native,omitempty"` // probesim seconds / native seconds
	VsQemu         float64  `json:"probesim_vs_qemu,omitempty"`   // probesim seconds / qemu-user seconds
	ProbesimError  string   `json:"probesim_error,omitempty"`     // why there is no probesim time
}

// forkbenchRounds is the round trips of one forkbench run.
const forkbenchRounds = 1000

// pipelineScript is the busybox sh row ("busybox sh pipeline"): three
// applets in a pipeline.
const pipelineScript = "seq 1 20000 | sort -rn | head -3"

// buildForkbench compiles testdata/forkbench.c for arch into dir.
func buildForkbench(dir, arch string) (string, error) {
	return buildTestdata(dir, "forkbench", arch)
}

// appletLinks makes dir/bin, links to busybox named after the pipeline's
// applets, and returns it.
func appletLinks(dir string) (string, error) {
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		return "", err
	}
	for _, a := range []string{"seq", "sort", "head"} {
		if err := os.Symlink(busyboxPath, filepath.Join(bin, a)); err != nil {
			return "", err
		}
	}
	return bin, nil
}

// measureProcesses prints and returns the processes table.
func measureProcesses(w io.Writer, probesimBin string, arches []string, reps int) ([]processRow, error) {
	dir, err := os.MkdirTemp("", "probesim-forkbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if _, err := os.Stat(busyboxPath); err != nil {
		return nil, fmt.Errorf("%s: %w (install busybox-static: make bench does)", busyboxPath, err)
	}
	bin, err := appletLinks(dir)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "\nprocesses: fork+exit+wait round trips and a busybox sh pipeline, whole process, best of %d interleaved runs; outputs compared\n", reps)
	fmt.Fprintf(w, "%-36s %-6s %10s %10s %10s %12s %9s %8s\n", "workload", "arch", "native s", "qemu s", "probesim s", "probesim/s", "vs native", "vs qemu")
	var rows []processRow
	for _, arch := range arches {
		fb, err := buildForkbench(dir, arch)
		if err != nil {
			return nil, err
		}
		qemu, err := qemuUser(arch)
		if err != nil {
			return nil, err
		}
		cases := []struct {
			name   string
			argv   []string
			rounds uint64
		}{{"fork+exit+wait", []string{fb, strconv.Itoa(forkbenchRounds)}, forkbenchRounds}}
		if arch == fixtures.ArchAMD64 { // Debian's busybox-static is x86_64
			cases = append(cases, struct {
				name   string
				argv   []string
				rounds uint64
			}{"busybox sh pipeline (3 applets)", []string{busyboxPath, "sh", "-c", "PATH=" + bin + "; " + pipelineScript}, 0})
		}
		for _, c := range cases {
			row, err := measureProcessRow(c.name, arch, c.argv, c.rounds, qemu, probesimBin, reps)
			if err != nil {
				return nil, err
			}
			printProcessRow(w, row)
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// measureProcessRow times argv natively and under qemu-user (which must
// agree), then under probesim, whose failure is recorded, not returned.
func measureProcessRow(name, arch string, argv []string, rounds uint64, qemu, probesimBin string, reps int) (processRow, error) {
	row := processRow{Name: name, Arch: arch, Argv: argv, Rounds: rounds}
	first, err := timeInterleaved(name+" ("+arch+")", reps, "", []timedRunner{
		{&row.NativeSecs, argv},
		{&row.QemuSecs, append([]string{qemu}, argv...)},
	})
	if err != nil {
		return row, err
	}
	if first.status != 0 {
		return row, fmt.Errorf("%s: exited %d natively", name, first.status)
	}
	simArgv := append([]string{probesimBin, "run", "--cpus", "2"}, argv...)
	for i := 0; i < reps; i++ {
		res, err := timeCommand(simArgv, "")
		errLine := res.stderrLine
		switch {
		case err != nil:
			row.ProbesimError = oneLine(err.Error())
		case res.status != first.status || res.sha256 != first.sha256:
			row.ProbesimError = fmt.Sprintf("exited %d with output %.12s, natively %d with %.12s: %s",
				res.status, res.sha256, first.status, first.sha256, errLine)
		}
		if row.ProbesimError != "" {
			row.ProbesimSecs = 0
			break
		}
		if i == 0 || res.secs < row.ProbesimSecs {
			row.ProbesimSecs = res.secs
		}
	}
	if rounds > 0 {
		n := float64(rounds)
		row.NativePerSec, row.QemuPerSec = n/row.NativeSecs, n/row.QemuSecs
	}
	if row.ProbesimError == "" {
		row.VsNative, row.VsQemu = row.ProbesimSecs/row.NativeSecs, row.ProbesimSecs/row.QemuSecs
		if rounds > 0 {
			row.ProbesimPerSec = float64(rounds) / row.ProbesimSecs
		}
	}
	return row, nil
}

func printProcessRow(w io.Writer, r processRow) {
	fmt.Fprintf(w, "%-36s %-6s %10.3f %10.3f ", r.Name, r.Arch, r.NativeSecs, r.QemuSecs)
	if r.ProbesimError != "" {
		fmt.Fprintf(w, "probesim failed: %s\n", r.ProbesimError)
	} else {
		rate := "-"
		if r.Rounds > 0 {
			rate = fmt.Sprintf("%.0f", r.ProbesimPerSec)
		}
		fmt.Fprintf(w, "%10.3f %12s %8.2fx %7.2fx\n", r.ProbesimSecs, rate, r.VsNative, r.VsQemu)
	}
	if r.Rounds > 0 {
		fmt.Fprintf(w, "%-36s %-6s %10.0f %10.0f   (round trips per second)\n", "", "", r.NativePerSec, r.QemuPerSec)
	}
}

// oneLine is the first non-empty line of s, trimmed.
func oneLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return "(no message)"
}
