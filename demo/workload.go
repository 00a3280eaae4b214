package demo

import (
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
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
	// Name is the stable name shown for the program (argv[0] is a
	// temporary file, see Materialize).
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

// materializedPathLen is the length of every path Materialize returns when
// the temporary directory allows it. The guest sees the path as argv[0]
// and in AT_EXECFN, so its length moves the initial stack and with it a
// few cycles of every run: a fixed length keeps the demo's numbers the
// same whatever the random part of the name is.
const materializedPathLen = 96

// Materialize writes the embedded program to a new private directory as
// an executable file named w.Name and returns its path and a function
// that removes it. probesim.Config.Program is a path, hence the file.
//
// The directory name is padded with random hex digits so that the path
// always has materializedPathLen bytes; only when $TMPDIR is too long for
// that does the length vary (and with it the run's cycle counts, by a few
// cycles per run).
func (w Workload) Materialize() (path string, cleanup func(), err error) {
	base, err := filepath.Abs(os.TempDir()) // cleaned, and as the guest will see it
	if err != nil {
		return "", nil, fmt.Errorf("demo: temporary directory: %w", err)
	}
	const prefix = "probesim-demo-"
	fixed := len(base) + 1 + len(prefix) + 1 + len(w.Name)
	digits := max(16, materializedPathLen-fixed)
	var dir string
	for range 100 {
		b := make([]byte, (digits+1)/2)
		for i := range b {
			b[i] = byte(rand.Uint32())
		}
		dir = filepath.Join(base, prefix+hex.EncodeToString(b)[:digits])
		// Mkdir fails on an existing name (or symlink), so the directory
		// is ours alone.
		if err = os.Mkdir(dir, 0o700); err == nil || !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return "", nil, fmt.Errorf("demo: temporary directory for the workload: %w", err)
	}
	cleanup = func() { os.RemoveAll(dir) }
	path = filepath.Join(dir, w.Name)
	if err := os.WriteFile(path, workloadELF, 0o755); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("demo: writing the workload: %w", err)
	}
	return path, cleanup, nil
}
