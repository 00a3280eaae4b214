package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/probesim/probesim/fixtures"
)

// The pipes table: syscalls per second through pipes, natively, under
// qemu-user and under bin/probesim, for testdata/pipebench.c (built here
// with gcc -static, for both arches): "rw" writes 64 bytes into a pipe
// and reads them back (2 syscalls a round, never blocking), "pingpong"
// passes a token between two threads through two pipes (4 syscalls a
// round, every read blocking until the other thread writes; probesim runs
// it on 2 vCPUs), and the same ping-pong over a loopback TCP connection
// ("tcp") and an AF_UNIX socketpair ("unix"): natively and under qemu-user
// through the host kernel's loopback, under probesim through its simulated
// one. Runs are interleaved and the best of the repetitions kept; the
// three outputs must agree.

type pipeRow struct {
	Name           string   `json:"name"`
	Arch           string   `json:"arch"`
	Argv           []string `json:"argv"`
	Syscalls       uint64   `json:"syscalls"`
	NativeSecs     float64  `json:"native_seconds"`
	QemuSecs       float64  `json:"qemu_seconds"`
	ProbesimSecs   float64  `json:"probesim_seconds"`
	NativePerSec   float64  `json:"native_syscalls_per_second"`
	QemuPerSec     float64  `json:"qemu_syscalls_per_second"`
	ProbesimPerSec float64  `json:"probesim_syscalls_per_second"`
	VsNative       float64  `json:"probesim_vs_native"` // probesim seconds / native seconds
	VsQemu         float64  `json:"probesim_vs_qemu"`   // probesim seconds / qemu-user seconds
}

// buildPipebench compiles testdata/pipebench.c for arch into dir.
func buildPipebench(dir, arch string) (string, error) {
	return buildTestdata(dir, "pipebench", arch, "-pthread")
}

// buildTestdata builds testdata/NAME.c statically with gcc for arch into
// dir, with the extra flags, and returns the binary's path.
func buildTestdata(dir, name, arch string, extra ...string) (string, error) {
	src := filepath.Join("cmd", "probesim-bench", "testdata", name+".c")
	if _, err := os.Stat(src); err != nil {
		src = filepath.Join("testdata", name+".c") // run from this directory
	}
	out := filepath.Join(dir, name+"-"+arch)
	args := append(append([]string{"-static", "-O2"}, extra...), "-o", out, src)
	if arch == fixtures.ArchI386 {
		args = append([]string{"-m32"}, args...)
	}
	if b, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("gcc %v: %w: %s", args, err, b)
	}
	return out, nil
}

// qemuUser finds Debian's qemu-user binary for arch.
func qemuUser(arch string) (string, error) {
	name := map[string]string{fixtures.ArchAMD64: "qemu-x86_64", fixtures.ArchI386: "qemu-i386"}[arch]
	qemu, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s: %w (install qemu-user: make bench does)", name, err)
	}
	return qemu, nil
}

// measurePipes prints and returns the pipes table.
func measurePipes(w io.Writer, probesimBin string, arches []string, reps int) ([]pipeRow, error) {
	dir, err := os.MkdirTemp("", "probesim-pipebench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(w, "\npipes: syscalls per second through pipes and sockets, whole process, best of %d interleaved runs; outputs compared\n", reps)
	fmt.Fprintf(w, "%-40s %-6s %10s %12s %12s %12s %9s %8s\n", "workload", "arch", "syscalls", "native/s", "qemu/s", "probesim/s", "vs native", "vs qemu")
	var rows []pipeRow
	for _, arch := range arches {
		bin, err := buildPipebench(dir, arch)
		if err != nil {
			return nil, err
		}
		qemu, err := qemuUser(arch)
		if err != nil {
			return nil, err
		}
		for _, c := range []struct {
			name, mode string
			rounds     uint64
			perRound   uint64
			cpus       string
		}{
			{"pipe write+read 64 B, 1 thread", "rw", 500_000, 2, "1"},
			{"pipe ping-pong, 2 threads", "pingpong", 50_000, 4, "2"},
			{"loopback TCP ping-pong, 2 threads", "tcp", 50_000, 4, "2"},
			{"AF_UNIX socketpair ping-pong, 2 threads", "unix", 50_000, 4, "2"},
		} {
			argv := []string{bin, c.mode, strconv.FormatUint(c.rounds, 10)}
			row := pipeRow{Name: c.name, Arch: arch, Argv: argv, Syscalls: c.rounds * c.perRound}
			first, err := timeInterleaved(c.name+" ("+arch+")", reps, "", []timedRunner{
				{&row.NativeSecs, argv},
				{&row.QemuSecs, append([]string{qemu}, argv...)},
				{&row.ProbesimSecs, append([]string{probesimBin, "run", "--cpus", c.cpus}, argv...)},
			})
			if err != nil {
				return nil, err
			}
			if first.status != 0 {
				return nil, fmt.Errorf("%s: exited %d natively", c.name, first.status)
			}
			n := float64(row.Syscalls)
			row.NativePerSec, row.QemuPerSec, row.ProbesimPerSec = n/row.NativeSecs, n/row.QemuSecs, n/row.ProbesimSecs
			row.VsNative = row.ProbesimSecs / row.NativeSecs
			row.VsQemu = row.ProbesimSecs / row.QemuSecs
			fmt.Fprintf(w, "%-40s %-6s %10d %12.0f %12.0f %12.0f %8.2fx %7.2fx\n",
				c.name, arch, row.Syscalls, row.NativePerSec, row.QemuPerSec, row.ProbesimPerSec, row.VsNative, row.VsQemu)
			rows = append(rows, row)
		}
	}
	return rows, nil
}
