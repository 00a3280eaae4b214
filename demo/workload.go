package demo

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/probesim/probesim/internal/inputfile"
)

// The workload is fixtures/src/c/threads.c built with musl: static, about
// 55 KB (the glibc build is ten times that), not stripped so the probe
// symbol "probed" resolves. The build is reproducible (no -g, no build
// path inside; the symbol table keeps only the base name threads.c), and
// TestWorkloadReproducible rebuilds it and compares bytes, so the source
// and the binary cannot drift. Rebuild with `go generate ./demo/` or
// `make demo-workload` after changing the source.
//
//go:generate musl-gcc -static -O2 -o workload/threads-x86_64.elf ../fixtures/src/c/threads.c
//go:embed workload/threads-x86_64.elf
var workloadELF []byte

// Workload is the program the demo runs.
type Workload struct {
	// Name is the name shown for the program.
	Name string
	// Path is the path the guest sees (argv[0], AT_EXECFN); Image is the
	// program itself, run from memory.
	Path  string
	Image []byte
	Args  []string
	Probe string
	// Threads and Calls are the embedded workload's: its threads each
	// call probed() Calls times and it prints its own count
	// ("calls=N"), which the demo checks against the executions. 0 for
	// any other program.
	Threads, Calls int
}

// DefaultWorkload is what the demo runs: 4 threads x 1,000 calls takes
// well under a second per run and still misses thousands of times inline
// on 4 vCPUs.
var DefaultWorkload = Workload{Name: "threads", Path: GuestPath, Image: workloadELF,
	Args: []string{"4", "1000"}, Probe: "probed", Threads: 4, Calls: 1000}

// MaxProgramBytes bounds a program the demo reads into memory.
const MaxProgramBytes = 1 << 30

// ProgramWorkload is a workload of the static program at path, with args
// and a probe at spec. The guest sees it as /probesim/demo/NAME, so the
// numbers do not depend on where it lies.
func ProgramWorkload(path string, args []string, spec string) (Workload, error) {
	st, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return Workload{}, fmt.Errorf("%s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return Workload{}, fmt.Errorf("%s: not a regular file", path)
	}
	image, err := inputfile.Read(path, MaxProgramBytes, "a program")
	if err != nil {
		return Workload{}, fmt.Errorf("%s: %w", path, err)
	}
	name := filepath.Base(path)
	return Workload{Name: name, Path: "/probesim/demo/" + name, Image: image, Args: append([]string{}, args...), Probe: spec}, nil
}

// builtin says whether w counts its own calls (the embedded workload).
func (w Workload) builtin() bool { return w.Calls > 0 }

// CommandLine is how the demo shows the run: "threads 4 1000".
func (w Workload) CommandLine() string {
	return strings.Join(append([]string{w.Name}, w.Args...), " ")
}

// ELF returns the embedded executable (a copy: callers may not change the
// embedded bytes).
func ELF() []byte { return append([]byte(nil), workloadELF...) }

// GuestPath is the path the guest sees for the embedded program (argv[0],
// AT_EXECFN): fixed, so that the demo's numbers do not depend on where it
// runs (the path's length moves the initial stack, and with it a few
// cycles of every run).
const GuestPath = "/probesim/demo/threads"
