package main

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
)

// extreme maps a fuzzed word to a flag's value: half the time one of the
// edges where fixed-point and byte arithmetic break, else the word itself.
func extreme(v uint64) uint64 {
	edges := []uint64{0, 1, 2, 255, 1 << 31, 1<<32 - 1, 1 << 32, 1 << 40, 1 << 55, 1 << 56, 1<<63 - 1, 1 << 63, 1<<64 - 1}
	if v&1 == 0 {
		return edges[(v>>1)%uint64(len(edges))]
	}
	return v >> 1
}

// hangTimeout is FuzzExtremeValues' watchdog: every run it makes takes
// well under a second, so one that takes this long hangs.
const hangTimeout = 2 * time.Minute

// FuzzExtremeValues drives the run flags and the sweep config with
// extreme values (0, 1, 2^32, 2^56, 2^63, 2^64-1, ...) and runs every
// configuration probesim accepts, in this process, on small programs that
// end. It fails on a panic, on a run that does not end (a watchdog panics
// after hangTimeout: the scheduler spun on an overflowed quantum before),
// on an error of more than one line, and on an exit status probesim does
// not document.
func FuzzExtremeValues(f *testing.F) {
	// A word v<<1|1 is v itself; an even word 2*i is edge i of extreme's
	// table (18: 2^56, 24: 2^64-1). The cases first: quantum
	// 2^64-1 with a budget on threads, 2^56 in lockstep on exit42, and a
	// sweep with quantum 2^64-1.
	raw := func(v uint64) uint64 { return v<<1 | 1 }
	f.Add(false, uint16(1<<0|1<<1|1<<2|1<<10), raw(2), uint64(24), raw(1_000_000), uint64(0), uint64(0))
	f.Add(false, uint16(1<<1|1<<6), uint64(0), uint64(18), uint64(0), uint64(0), uint64(0))
	f.Add(true, uint16(0), raw(2), uint64(24), raw(1_000_000), raw(8<<20), raw(1))
	f.Add(false, uint16(0x3ff), uint64(0), uint64(2), uint64(4), uint64(6), uint64(8))
	f.Add(true, uint16(0xffff), uint64(20), uint64(22), uint64(24), uint64(0), uint64(10))
	f.Add(false, uint16(1<<1|1<<2|1<<4|1<<7|1<<10|1<<12), uint64(0), uint64(22), uint64(24), uint64(0), raw(1<<20))
	f.Fuzz(func(t *testing.T, sweepMode bool, sel uint16, a, b, c, d, e uint64) {
		dir := t.TempDir()
		var args []string
		if sweepMode {
			args = sweepArgs(t, dir, sel, a, b, c, d, e)
		} else {
			args = runArgs(t, sel, a, b, c, d, e)
		}
		watchdog := time.AfterFunc(hangTimeout, func() {
			panic(fmt.Sprintf("probesim %q did not end within %s", args, hangTimeout))
		})
		defer watchdog.Stop()
		cmd := newRootCmd()
		cmd.SetArgs(args)
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		err := cmd.Execute()
		if err == nil {
			return
		}
		var gs *guestStatus
		if errors.As(err, &gs) {
			require.True(t, gs.status > 0 && gs.status <= 255, "%q: guest status %d", args, gs.status)
			return
		}
		require.NotContains(t, err.Error(), "\n", "%q: one line", args)
		var ee *exitError
		status := exitUsage
		if errors.As(err, &ee) {
			status = ee.status
		}
		require.Contains(t, []int{1, exitUsage, exitCannotRun, exitNotFound}, status, "%q: %v", args, err)
	})
}

// fuzzProgram is the program sel picks, with its arguments.
func fuzzProgram(t *testing.T, sel uint16) []string {
	name := []string{"exit42", "threads", "hello_asm", "stackgrow"}[sel>>10&3]
	p, err := fixtures.Path(fixtures.ArchAMD64, name)
	require.NoError(t, err, "build the fixtures first: make fixtures")
	if name == "threads" {
		return []string{p, "2", "5"}
	}
	return []string{p}
}

// runArgs is a `probesim run` command line: sel picks the flags and the
// program, the words their values.
func runArgs(t *testing.T, sel uint16, a, b, c, d, e uint64) []string {
	args := []string{"run"}
	flag := func(bit uint, name string, v any) {
		if sel&(1<<bit) != 0 {
			args = append(args, "--"+name, fmt.Sprint(v))
		}
	}
	flag(0, "cpus", int64(extreme(a)%70)) // 0..69: both sides of 1..64
	flag(1, "quantum", extreme(b))
	flag(2, "max-cycles", extreme(c))
	flag(3, "stack-limit", extreme(d))
	flag(4, "memory-limit", extreme(e))
	flag(5, "seed", extreme(a^e))
	if sel&(1<<6) != 0 {
		args = append(args, "--lockstep")
	}
	flag(7, "param", "kernel.exception_entry_exit="+fmt.Sprint(extreme(c^d)))
	flag(8, "param", "freq_hz="+fmt.Sprint(extreme(d^e)))
	flag(9, "param", "kernel_jitter_percent="+fmt.Sprint(extreme(b^e)))
	prog := fuzzProgram(t, sel)
	if sel&(1<<12) != 0 && strings.HasSuffix(prog[0], "threads") {
		args = append(args, "--probe", "probed", "--strategy", []string{"inline", "ssol-stack", "xol", "xol"}[sel>>13&3])
	}
	return append(args, prog...)
}

// sweepArgs writes a sweep config of the words' values and returns its
// `probesim sweep` command line.
func sweepArgs(t *testing.T, dir string, sel uint16, a, b, c, d, e uint64) []string {
	from := extreme(e)
	yaml := fmt.Sprintf("program: %s\nargs: [2, 5]\nprobes: [probed]\ncpus: [%d]\nstrategies: [inline]\nseeds: {from: %d, to: %d}\nquantum: [%d]\nmax_cycles: %d\nstack_limit: %d\n",
		fuzzProgram(t, 1<<10)[0], extreme(a)%70, from, from+uint64(sel&1), extreme(b), extreme(c), extreme(d))
	if sel&2 != 0 {
		yaml += fmt.Sprintf("params: {kernel.exception_entry_exit: [%d], freq_hz: [%d]}\n", extreme(c^d), extreme(a^b))
	}
	cfg := filepath.Join(dir, "s.yaml")
	writeFile(t, dir, "s.yaml", []byte(yaml), 0o644)
	return []string{"sweep", cfg, "--out", filepath.Join(dir, "out.csv"), "-q", "-j", "1"}
}
