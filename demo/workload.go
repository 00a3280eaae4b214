package demo

import (
	_ "embed"
	"strconv"
	"strings"
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
	Name    string
	Threads int // threads calling probed()
	Calls   int // calls of probed() per thread
	Probe   string
	Seed    uint64
}

// DefaultWorkload is what the demo runs: 4 threads x 1,000 calls takes
// well under a second per run and still misses thousands of times inline
// on 4 vCPUs.
var DefaultWorkload = Workload{Name: "threads", Threads: 4, Calls: 1000, Probe: "probed", Seed: 1}

// Args is the program's argv[1:].
func (w Workload) Args() []string {
	return []string{strconv.Itoa(w.Threads), strconv.Itoa(w.Calls)}
}

// CommandLine is how the demo shows the run: "threads 4 1000".
func (w Workload) CommandLine() string {
	return w.Name + " " + strings.Join(w.Args(), " ")
}

// ELF returns the embedded executable (a copy: callers may not change the
// embedded bytes).
func ELF() []byte { return append([]byte(nil), workloadELF...) }

// GuestPath is the path the guest sees for the embedded program (argv[0],
// AT_EXECFN): fixed, so that the demo's numbers do not depend on where it
// runs (the path's length moves the initial stack, and with it a few
// cycles of every run).
const GuestPath = "/probesim/demo/threads"
