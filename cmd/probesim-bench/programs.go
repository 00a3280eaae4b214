package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/probesim/probesim/fixtures"
)

// Programs side by side: whole processes, natively, under Debian's
// qemu-user and under bin/probesim, on the same inputs, interleaved
// (native, qemu, probesim, native, ...) and best of the repetitions. Each
// run's output is hashed; a row whose three outputs differ is an error,
// not a number. The ratios are what the targets are stated in:
// probesim within 3x of qemu-user on qsort, md5sum and gzip.

// programTarget is the most probesim may take, in multiples of qemu-user's
// time, on the rows that have a target.
const programTarget = 3.0

// inputSize is the generated input of the busybox rows: 27 MB of text.
const inputSize = 27 << 20

// Third-party programs, from Debian's busybox-static and bash-static
// (make bench installs them).
const (
	busyboxPath = "/bin/busybox"
	bashPath    = "/bin/bash-static"
)

type programRow struct {
	Name         string   `json:"name"`
	Argv         []string `json:"argv"`  // program and arguments
	Input        string   `json:"input"` // what stdin is: "none" or the generated text
	NativeSecs   float64  `json:"native_seconds"`
	QemuSecs     float64  `json:"qemu_seconds"`
	ProbesimSecs float64  `json:"probesim_seconds"`
	VsQemu       float64  `json:"probesim_vs_qemu"`
	VsNative     float64  `json:"probesim_vs_native"`
	Target       float64  `json:"target_vs_qemu,omitempty"` // 0: no target
	ExitStatus   int      `json:"exit_status"`
	OutputSHA256 string   `json:"output_sha256"` // stdout, the same for all three
}

type programCase struct {
	name   string
	argv   []string
	input  bool // stdin is the generated text
	target float64
}

// programCases are the rows: the fixtures' benchmark workloads, then the
// third-party programs of the issue that measured them.
func programCases() ([]programCase, error) {
	fx := func(name string) (string, error) { return fixtures.Path(fixtures.ArchAMD64, name) }
	loop, err := fx("loop")
	if err != nil {
		return nil, err
	}
	store, err := fx("storeloop")
	if err != nil {
		return nil, err
	}
	qsort, err := fx("qsort")
	if err != nil {
		return nil, err
	}
	for _, p := range []string{busyboxPath, bashPath} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%s: %w (install busybox-static and bash-static: make bench does)", p, err)
		}
	}
	return []programCase{
		{name: "loop (200M iterations)", argv: []string{loop}},
		{name: "storeloop (50M iterations)", argv: []string{store}},
		{name: "qsort of 2M ints", argv: []string{qsort, "2000000"}, target: programTarget},
		{name: "busybox md5sum, 27 MB stdin", argv: []string{busyboxPath, "md5sum"}, input: true, target: programTarget},
		{name: "busybox gzip -c, 27 MB stdin", argv: []string{busyboxPath, "gzip", "-c"}, input: true, target: programTarget},
		{name: "bash arithmetic loop, 200k", argv: []string{bashPath, "-c",
			"i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo $i"}},
		// Dynamically linked Debian programs: ld.so's start-up (the
		// loader, libc's relocations, the mmaps) is most of /bin/true.
		{name: "dynamic /bin/true start-up", argv: []string{"/bin/true"}},
		{name: "dynamic /bin/ls -lgG /usr/bin", argv: []string{"/bin/ls", "-lgG", "--time-style=+", "/usr/bin"}},
		{name: "python3 sum(range(10**6))", argv: []string{"/usr/bin/python3", "-c", "print(sum(range(10**6)))"}},
	}, nil
}

// measurePrograms prints and returns the side-by-side table.
func measurePrograms(w io.Writer, probesimBin, qemuBin string, reps int) ([]programRow, error) {
	qemu, err := exec.LookPath(qemuBin)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (install qemu-user: make bench does)", qemuBin, err)
	}
	if _, err := os.Stat(probesimBin); err != nil {
		return nil, fmt.Errorf("%s: %w (make build)", probesimBin, err)
	}
	cases, err := programCases()
	if err != nil {
		return nil, err
	}
	input, err := writeInput()
	if err != nil {
		return nil, err
	}
	defer os.Remove(input)

	fmt.Fprintf(w, "\nprograms (x86_64), whole process, best of %d interleaved runs; outputs compared\n", reps)
	fmt.Fprintf(w, "%-30s %9s %9s %9s %9s %9s %s\n", "program", "native s", "qemu s", "probesim", "vs qemu", "vs native", "target")
	var rows []programRow
	for _, c := range cases {
		row := programRow{Name: c.name, Argv: c.argv, Input: "none", Target: c.target}
		stdin := ""
		if c.input {
			row.Input = fmt.Sprintf("%d bytes of generated text", inputSize)
			stdin = input
		}
		first, err := timeInterleaved(c.name, reps, stdin, []timedRunner{
			{&row.NativeSecs, c.argv},
			{&row.QemuSecs, append([]string{qemu}, c.argv...)},
			{&row.ProbesimSecs, append([]string{probesimBin, "run"}, c.argv...)},
		})
		if err != nil {
			return nil, err
		}
		row.ExitStatus, row.OutputSHA256 = first.status, first.sha256
		row.VsQemu = row.ProbesimSecs / row.QemuSecs
		row.VsNative = row.ProbesimSecs / row.NativeSecs
		target := "-"
		if c.target > 0 {
			target = fmt.Sprintf("<= %.1fx qemu", c.target)
			if row.VsQemu > c.target {
				target += " (missed)"
			}
		}
		fmt.Fprintf(w, "%-30s %9.3f %9.3f %9.3f %8.2fx %8.1fx %s\n",
			c.name, row.NativeSecs, row.QemuSecs, row.ProbesimSecs, row.VsQemu, row.VsNative, target)
		rows = append(rows, row)
	}
	return rows, nil
}

// timedRunner is one way to run a row's program: its command line and
// where its best time goes.
type timedRunner struct {
	best *float64
	argv []string
}

// timeInterleaved runs the runners in turn reps times (native, qemu,
// probesim, native, ...), keeps each one's best time, and checks that every
// run exits and writes as the first one did, which it returns.
func timeInterleaved(name string, reps int, stdin string, runners []timedRunner) (commandResult, error) {
	var first commandResult
	for i := 0; i < reps; i++ {
		for j, r := range runners {
			res, err := timeCommand(r.argv, stdin)
			if err != nil {
				return first, fmt.Errorf("%s: %w", name, err)
			}
			if i == 0 && j == 0 {
				first = res
			} else if res.status != first.status || res.sha256 != first.sha256 {
				return first, fmt.Errorf("%s: %s exited %d with output %.12s, natively %d with %.12s: not the same run",
					name, r.argv[0], res.status, res.sha256, first.status, first.sha256)
			}
			if i == 0 || res.secs < *r.best {
				*r.best = res.secs
			}
		}
	}
	return first, nil
}

type commandResult struct {
	secs       float64
	status     int
	sha256     string
	stderrLine string // the first non-empty line of stderr: a failing run's reason
}

// timeCommand runs argv with stdin from the file at stdin ("" for none)
// and returns its wall time, exit status, the sha256 of its stdout and the
// first line of its stderr.
func timeCommand(argv []string, stdin string) (commandResult, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{}
	if stdin != "" {
		f, err := os.Open(stdin)
		if err != nil {
			return commandResult{}, err
		}
		defer f.Close()
		cmd.Stdin = f
	}
	h := sha256.New()
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = h, &stderr
	began := time.Now()
	err := cmd.Run()
	secs := time.Since(began).Seconds()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return commandResult{}, err
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	status := ws.ExitStatus()
	if ws.Signaled() {
		status = 128 + int(ws.Signal())
	}
	return commandResult{secs: secs, status: status, sha256: fmt.Sprintf("%x", h.Sum(nil)), stderrLine: oneLine(stderr.String())}, nil
}

// writeInput writes the generated input to a temporary file and returns
// its name.
func writeInput() (string, error) {
	f, err := os.CreateTemp("", "probesim-bench-input-")
	if err != nil {
		return "", err
	}
	if err := fillInput(f); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// writeInputFile writes the generated input to path.
func writeInputFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return fillInput(f)
}

// fillInput writes inputSize bytes of text to f and closes it: words of a
// fixed vocabulary in lines of up to 12, drawn by a fixed xorshift
// generator, so every run compresses and hashes the same bytes.
func fillInput(f *os.File) error {
	words := []string{"probe", "uprobe", "int3", "single", "step", "out", "of", "line", "stack",
		"page", "vma", "growsdown", "fixup", "trap", "kernel", "user", "space", "cpu", "smp",
		"miss", "hit", "window", "cycle", "instruction", "copy", "slot", "xol", "breakpoint",
		"the", "a", "and", "to", "in", "is", "on", "for", "with", "at"}
	bw := bufio.NewWriterSize(f, 1<<20)
	state := uint64(0x9e3779b97f4a7c15)
	next := func() uint64 {
		state ^= state << 13
		state ^= state >> 7
		state ^= state << 17
		return state
	}
	n := 0
	for n < inputSize {
		line := 1 + int(next()%12)
		for i := 0; i < line && n < inputSize; i++ {
			word := words[next()%uint64(len(words))]
			sep := byte(' ')
			if i == line-1 {
				sep = '\n'
			}
			if n+len(word)+1 > inputSize {
				word = word[:max(0, inputSize-n-1)]
			}
			bw.WriteString(word)
			bw.WriteByte(sep)
			n += len(word) + 1
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
