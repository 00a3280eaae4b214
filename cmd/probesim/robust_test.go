package main

// The robustness suite: hostile inputs an attacker or a careless user
// gives (extreme numbers, files that are not programs, damaged section
// headers, files another sweep is writing), a few hundred ELF files mutated
// from a seed, and sweeps interrupted by every signal then resumed. Each
// must end with one line and a documented exit status, never a Go panic, a
// cgo crash or a hang (execute's deadline fails the test).

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/sweep"
)

// mutantSeed draws TestMutatedELFs' mutations; another seed explores
// others: go test ./cmd/probesim -run MutatedELFs -args -mutant-seed=7
var mutantSeed = flag.Uint64("mutant-seed", 15, "seed of TestMutatedELFs' mutations")

// requireOneLine checks that res failed with status and one line on
// stderr, probesim's, holding every one of msgs.
func requireOneLine(t *testing.T, res result, status int, msgs ...string) {
	t.Helper()
	requireNoCrash(t, res)
	assert.Equal(t, status, res.status, "stderr %q", res.stderr)
	lines := outputLines(res.stderr)
	require.Len(t, lines, 1, "stderr %q", res.stderr)
	assert.True(t, strings.HasPrefix(lines[0], "probesim: "), "stderr %q", res.stderr)
	for _, m := range msgs {
		assert.Contains(t, lines[0], m)
	}
}

// requireNoCrash checks that nothing on stderr is the Go runtime's: a
// panic or a fatal signal in probesim itself (cgo included).
func requireNoCrash(t *testing.T, res result) {
	t.Helper()
	for _, s := range []string{"panic:", "goroutine ", "fatal error:", "[signal ", "SIGSEGV: segmentation violation"} {
		require.NotContains(t, string(res.stderr), s, "probesim crashed (status %d)", res.status)
	}
}

// shell runs a shell command line with "$0" the probesim binary under test
// and "$@" args, for redirections exec.Cmd cannot make (<&-).
func shell(t *testing.T, line string, args ...string) result {
	t.Helper()
	return execute(t, "", runTimeout, "/bin/sh", append([]string{"-c", line, probesimBin}, args...)...)
}

// TestHostileInputs: the cases issue 15 found, each a regression test of
// its fix.
func TestHostileInputs(t *testing.T) {
	dir := t.TempDir()
	threads := fixturePath(t, fixtures.ArchAMD64, "threads")
	exit42 := fixturePath(t, fixtures.ArchAMD64, "exit42")

	t.Run("quantum past the clock's range", func(t *testing.T) {
		t.Parallel()
		// It hung at 100% CPU, and --max-cycles did not stop it.
		for _, q := range []string{"18446744073709551615", "9223372036854775808", "72057594037927936"} {
			res := cli(t, "run", "--cpus", "2", "--quantum", q, "--max-cycles", "1000000", threads, "2", "5")
			requireNoCrash(t, res)
			assert.Contains(t, []int{0, 128 + 24}, res.status, "quantum %s: stderr %q", q, res.stderr)
			// In lockstep exit42 ended with a fake segfault at the boot stub.
			res = cli(t, "run", "--lockstep", "--quantum", q, exit42)
			assert.Equal(t, 42, res.status, "quantum %s: stderr %q", q, res.stderr)
			assert.Empty(t, res.stderr)
		}
		// A budget past the clock's range is no budget, not a tiny one.
		res := cli(t, "run", "--max-cycles", "72057594037927936", exit42)
		assert.Equal(t, 42, res.status, "stderr %q", res.stderr)
	})

	t.Run("quantum past the clock's range in a sweep", func(t *testing.T) {
		t.Parallel()
		cfg := sweepConfig(t, "quantum: [18446744073709551615]\nmax_cycles: 1_000_000\n")
		out := filepath.Join(t.TempDir(), "q.csv")
		res := cli(t, "sweep", cfg, "--out", out, "-q")
		requireNoCrash(t, res)
		assert.Contains(t, []int{0, 1}, res.status, "stderr %q", res.stderr)
		rows, err := sweep.ReadFile(out)
		require.NoError(t, err)
		assert.Len(t, rows, 8)
	})

	t.Run("files that are not programs", func(t *testing.T) {
		t.Parallel()
		files, closeFiles, err := fixtures.NotPrograms(t.TempDir())
		require.NoError(t, err)
		defer closeFiles()
		// /dev/zero was read for seconds up to 1 GiB; a FIFO blocked for ever.
		fifo := files[0].Path
		for _, c := range files {
			res := cli(t, "run", c.Path)
			requireOneLine(t, res, exitCannotRun, c.Path+": not a regular file ("+c.What+")")
		}
		cfg := sweepConfigIn(t, t.TempDir(), "")
		text, err := os.ReadFile(cfg)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(cfg, bytes.Replace(text, []byte(threads), []byte(fifo), 1), 0o644))
		res := cli(t, "sweep", cfg, "--out", filepath.Join(dir, "fifo.csv"))
		requireOneLine(t, res, exitUsage, "not a regular file (a FIFO)")
	})

	t.Run("inputs that never end", func(t *testing.T) {
		t.Parallel()
		res := cli(t, "sweep", "/dev/zero", "--out", filepath.Join(t.TempDir(), "z.csv"))
		requireOneLine(t, res, exitUsage, "/dev/zero: more than 16 MiB: too large for a sweep config")
		res = cli(t, "run", "--profile", "/dev/zero", exit42)
		requireOneLine(t, res, exitUsage, "--profile", "more than 1 MiB")
		zero := filepath.Join(t.TempDir(), "zero.csv")
		require.NoError(t, os.Symlink("/dev/zero", zero))
		res = cli(t, "merge", filepath.Join(t.TempDir(), "m.csv"), zero)
		requireOneLine(t, res, exitUsage, zero+": a row longer than 4 MiB (not a sweep results file)")
	})

	t.Run("section headers Linux ignores", func(t *testing.T) {
		t.Parallel()
		// A bad e_shstrndx or an e_shoff past the end exited 126 even
		// without --probe; Linux runs such programs.
		want := cli(t, "run", threads, "2", "5")
		require.Equal(t, 0, want.status)
		data, err := os.ReadFile(threads)
		require.NoError(t, err)
		shstrndx := append([]byte(nil), data...)
		binary.LittleEndian.PutUint16(shstrndx[62:], 0xfeff)
		shoff := append([]byte(nil), data...)
		binary.LittleEndian.PutUint64(shoff[40:], uint64(len(data))+64)
		for name, d := range map[string][]byte{"shstrndx": shstrndx, "shoff": shoff} {
			p := writeFile(t, t.TempDir(), name, d, 0o755)
			res := cli(t, "run", p, "2", "5")
			assert.Equal(t, 0, res.status, "%s: stderr %q", name, res.stderr)
			assert.Equal(t, string(want.stdout), string(res.stdout), name)
			res = cli(t, "run", "--probe", "probed", p, "2", "5")
			requireOneLine(t, res, exitCannotRun, p+`: cannot resolve probe "probed": section headers corrupt: `)
		}
	})

	t.Run("stdin closed and stdout full", func(t *testing.T) {
		t.Parallel()
		prog := compileC(t, "stdfds.c", fixtures.ArchAMD64, false)
		// The guest read end of file with stdin closed, and got EPIPE on
		// /dev/full: natively the same program gets EBADF and ENOSPC.
		for _, redir := range []string{"<&-", "</dev/null >/dev/full", "<&- >/dev/null"} {
			nat := execute(t, "", runTimeout, "/bin/sh", "-c", `exec "$0" `+redir, prog)
			require.Equal(t, 0, nat.status, "native %s: %q", redir, nat.stderr)
			emu := shell(t, `exec "$0" run "$1" `+redir, prog)
			assert.Equal(t, 0, emu.status, "%s: %q", redir, emu.stderr)
			assert.Equal(t, string(nat.stderr), string(emu.stderr), redir)
		}
	})

	t.Run("bad flags and configs", func(t *testing.T) {
		t.Parallel()
		res := cli(t, "run", "--strategy", "", "--probe", "probed", threads, "2", "2")
		requireOneLine(t, res, exitUsage, `--strategy: unknown strategy ""`)
		// A stack limit of a terabyte made each pthread_create take 45 s
		// on Unicorn 2.0.1 (each thread's stack that size); now pages are
		// populated when touched.
		res = cli(t, "run", "--stack-limit", "1099511627776", threads, "2", "5")
		assert.Equal(t, 0, res.status, "a terabyte: stderr %q", res.stderr)
		res = cli(t, "run", "--stack-limit", "18446744073709551615", threads, "2", "5")
		assert.Equal(t, 0, res.status, "unlimited: stderr %q", res.stderr)
		res = cli(t, "run", "--memory-limit", "1", exit42)
		requireOneLine(t, res, exitUsage, "--memory-limit 1: too small to load the program")
		two := sweepConfig(t, "---\nprogram: /bin/true\n")
		res = cli(t, "sweep", two, "--out", filepath.Join(t.TempDir(), "t.csv"))
		requireOneLine(t, res, exitUsage, two+":7: a second YAML document")
		// The error named the temporary file (.m.csv.tmp185861927).
		missing := filepath.Join(t.TempDir(), "none", "m.csv")
		res = cli(t, "sweep", sweepConfig(t, ""), "--out", missing)
		requireOneLine(t, res, exitUsage, "--out "+missing+": directory "+filepath.Dir(missing)+" does not exist")
		res = cli(t, "merge", missing, writeRows(t, fullSweepRows(t)))
		requireOneLine(t, res, exitUsage, missing)
		assert.NotContains(t, string(res.stderr), ".tmp")
	})

	t.Run("rows that contradict themselves", func(t *testing.T) {
		t.Parallel()
		rows := fullSweepRows(t)
		cfg := sweepConfig(t, "")
		// check accepted an index or configs out of range; resume kept
		// hits > executions.
		for _, tc := range []struct {
			edit func(r *sweep.Row)
			msg  string
		}{
			{func(r *sweep.Row) { r.Index = 8 }, "row 1: index 8 is not in 0..7"},
			{func(r *sweep.Row) { r.Configs = 99; r.Index = 50 }, "row 1: \"cpus=1 strategy=inline seed=1 quantum=10000 profile=skylake\" is configuration 0 of 8"},
			{func(r *sweep.Row) { r.Hits = r.Executions + 1 }, "row 1: hits 201 + misses 0 is not executions 200"},
		} {
			bad := append([]sweep.Row(nil), rows...)
			tc.edit(&bad[0])
			base := writeRows(t, bad)
			res := cli(t, "check", cfg, "--baseline", base)
			requireOneLine(t, res, exitUsage, "--baseline "+base+": "+tc.msg)
			if bad[0].Configs == 8 {
				res = cli(t, "sweep", cfg, "--out", base)
				requireOneLine(t, res, exitUsage, "--out "+base+": "+tc.msg)
			}
		}
	})
}

// fullSweepRows are the rows of the test sweep.
func fullSweepRows(t *testing.T) []sweep.Row {
	t.Helper()
	rows, err := sweep.ReadCSV(bytes.NewReader(fullSweep(t)))
	require.NoError(t, err)
	return rows
}

// writeRows writes rows as a CSV file of its own.
func writeRows(t *testing.T, rows []sweep.Row) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rows.csv")
	require.NoError(t, sweep.WriteFile(p, rows))
	return p
}

// startSweep starts `probesim sweep CFG --out OUT ARGS...` and waits until
// OUT holds at least n rows (the sweep is running and has saved).
func startSweep(t *testing.T, cfg, out string, n int, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(probesimBin, append([]string{"sweep", cfg, "--out", out}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	deadline := time.Now().Add(runTimeout)
	for {
		rows, err := sweep.ReadFile(out)
		if err == nil && len(rows) >= n {
			return cmd, &stderr
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no %d rows saved within %s (stderr %q)", n, runTimeout, stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// exitStatus is the status a shell would see of a finished command.
func exitStatus(t *testing.T, cmd *exec.Cmd, err error) int {
	t.Helper()
	var ee *exec.ExitError
	if err != nil {
		require.ErrorAs(t, err, &ee)
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// longSweep is a sweep of 24 configurations of 0.15 s each (about 2 s on
// two cores): long enough to be interrupted after its first checkpoint
// (1 s in), short enough to run whole.
func longSweep(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "long.yaml")
	require.NoError(t, os.WriteFile(p, []byte("program: "+fixturePath(t, fixtures.ArchAMD64, "loop")+
		"\nargs: [60000000]\nprobes: [_start]\ncpus: [1, 2]\nstrategies: [inline, ssol-stack]\nseeds: {from: 1, to: 6}\n"), 0o644))
	return p
}

// TestSweepOutIsExclusive: a second sweep on an --out a sweep is writing
// fails at once naming the first's pid (both exited 0 before, and the file
// held one sweep's rows); merge and check cannot write it either; the
// first sweep goes on unharmed.
func TestSweepOutIsExclusive(t *testing.T) {
	dir := t.TempDir()
	cfg := longSweep(t, dir)
	out := filepath.Join(dir, "out.csv")
	slots <- struct{}{}
	first, stderr := startSweep(t, cfg, out, 1, "-j", "1")
	second := cli(t, "sweep", cfg, "--out", out)
	requireOneLine(t, second, exitUsage, fmt.Sprintf("--out %s is being written by another probesim (pid %d)", out, first.Process.Pid))
	merge := cli(t, "merge", "--partial", out, out)
	requireOneLine(t, merge, exitUsage, fmt.Sprintf("pid %d", first.Process.Pid))
	status := exitStatus(t, first, first.Wait())
	<-slots
	want := filepath.Join(dir, "want.csv")
	res := cli(t, "sweep", cfg, "--out", want, "-q")
	assert.Equal(t, res.status, status, "stderr %q", stderr.String())
	assert.NoFileExists(t, filepath.Join(dir, ".out.csv.lock"))
	assert.Equal(t, string(readFile(t, want)), string(readFile(t, out)))
}

// TestInterruptedSweepsResume: a sweep stopped by SIGINT, SIGTERM, two
// SIGINTs or SIGKILL, at a seeded point, then run again, writes the bytes
// of a sweep never interrupted.
func TestInterruptedSweepsResume(t *testing.T) {
	dir := t.TempDir()
	cfg := longSweep(t, dir)
	want := filepath.Join(dir, "want.csv")
	ref := cli(t, "sweep", cfg, "--out", want, "-q", "-j", "2")
	requireNoCrash(t, ref)
	r := rand.New(rand.NewPCG(*mutantSeed, 2))
	for _, tc := range []struct {
		name    string
		signals []syscall.Signal
		status  int
	}{
		{"SIGINT", []syscall.Signal{syscall.SIGINT}, 130},
		{"SIGTERM", []syscall.Signal{syscall.SIGTERM}, 143},
		{"SIGINT twice", []syscall.Signal{syscall.SIGINT, syscall.SIGINT}, 130},
		{"SIGKILL", []syscall.Signal{syscall.SIGKILL}, 137},
	} {
		out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".csv")
		slots <- struct{}{}
		cmd, stderr := startSweep(t, cfg, out, 1+r.IntN(4), "-j", "2")
		for _, s := range tc.signals {
			require.NoError(t, cmd.Process.Signal(s))
			time.Sleep(time.Millisecond)
		}
		status := exitStatus(t, cmd, cmd.Wait())
		<-slots
		assert.Equal(t, tc.status, status, "%s: stderr %q", tc.name, stderr.String())
		rows, err := sweep.ReadFile(out)
		require.NoError(t, err, "%s: the file is whole", tc.name)
		res := cli(t, "sweep", cfg, "--out", out, "-j", "2")
		assert.Equal(t, ref.status, res.status, "%s: resume: stderr %q", tc.name, res.stderr)
		assert.Contains(t, string(res.stderr), fmt.Sprintf("%d kept", len(rows)), tc.name)
		assert.Equal(t, string(readFile(t, want)), string(readFile(t, out)), "%s: byte-identical", tc.name)
	}
}

// mutant is one mutated program and how it was made.
type mutant struct {
	name string
	data []byte
}

// mutateHeaders damages what Linux reads: the ELF header, the program
// headers, or anything, with flipped bytes, extreme words and truncation.
func mutateHeaders(r *rand.Rand, orig []byte) []byte {
	d := append([]byte(nil), orig...)
	extremes := []uint64{0, 1, 1 << 31, 1 << 32, 1 << 63, 1<<64 - 1, uint64(len(d)), 0x1000}
	for range 1 + r.IntN(3) {
		switch r.IntN(5) {
		case 0, 1: // a byte of the first 512 (ELF and program headers)
			d[r.IntN(min(512, len(d)))] ^= byte(1 + r.IntN(255))
		case 2: // an extreme word in the headers
			off := r.IntN(min(512, len(d)) - 8)
			binary.LittleEndian.PutUint64(d[off:], extremes[r.IntN(len(extremes))])
		case 3: // a byte anywhere
			d[r.IntN(len(d))] ^= byte(1 + r.IntN(255))
		case 4: // cut short
			d = d[:r.IntN(len(d))]
			if len(d) < 520 {
				return d
			}
		}
	}
	return d
}

// mutateSections damages only the section headers' fields of the ELF
// header and the section header table, bytes no PT_LOAD maps: Linux runs
// the program as it was.
func mutateSections(r *rand.Rand, orig []byte) []byte {
	f, err := elf.NewFile(bytes.NewReader(orig))
	if err != nil {
		panic(err)
	}
	shoff, shentsize := int(binary.LittleEndian.Uint64(orig[40:])), 64
	fields := []int{40, 58, 60, 62} // e_shoff, e_shentsize, e_shnum, e_shstrndx
	if f.Class == elf.ELFCLASS32 {
		shoff, shentsize = int(binary.LittleEndian.Uint32(orig[32:])), 40
		fields = []int{32, 46, 48, 50}
	}
	table := len(f.Sections) * shentsize
	loaded := func(off int) bool {
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && uint64(off) >= p.Off && uint64(off) < p.Off+p.Filesz {
				return true
			}
		}
		return false
	}
	d := append([]byte(nil), orig...)
	for range 1 + r.IntN(3) {
		var off int
		if r.IntN(4) == 0 {
			off = fields[r.IntN(len(fields))] + r.IntN(2)
		} else {
			off = shoff + r.IntN(table)
		}
		if !loaded(off) {
			d[off] ^= byte(1 + r.IntN(255))
		}
	}
	return d
}

// TestMutatedELFs runs a few hundred programs mutated from a seed
// (-mutant-seed): each ends with a documented status and, when probesim
// refuses it, one line; none crashes probesim or hangs it. Mutants whose
// damage is confined to the section headers run exactly as the original
// (Linux ignores section headers), and with a probe either resolve it or
// say the section headers are corrupt.
func TestMutatedELFs(t *testing.T) {
	r := rand.New(rand.NewPCG(*mutantSeed, 1))
	type program struct {
		path string
		args []string
	}
	var progs []program
	for _, arch := range arches {
		for _, name := range []string{"exit42", "hello_asm", "stdio", "threads"} {
			args := []string(nil)
			if name == "threads" {
				args = []string{"2", "5"}
			}
			progs = append(progs, program{fixturePath(t, arch, name), args})
		}
	}
	dir := t.TempDir()
	const headerMutants, sectionMutants = 240, 40
	t.Run("headers", func(t *testing.T) {
		var refused, ran int
		for i := range headerMutants {
			p := progs[r.IntN(len(progs))]
			orig, err := os.ReadFile(p.path)
			require.NoError(t, err)
			path := writeFile(t, dir, fmt.Sprintf("h%03d-%s", i, filepath.Base(p.path)), mutateHeaders(r, orig), 0o755)
			res := cli(t, append([]string{"run", "--max-cycles", "20000000", path}, p.args...)...)
			requireNoCrash(t, res)
			var probesimLines []string
			for _, l := range outputLines(res.stderr) {
				if strings.HasPrefix(l, "probesim: ") {
					probesimLines = append(probesimLines, l)
				}
			}
			switch {
			case res.status == exitCannotRun || res.status == exitNotFound || res.status == exitUsage:
				refused++
				require.Len(t, outputLines(res.stderr), 1, "%s: status %d, stderr %q", path, res.status, res.stderr)
				require.Len(t, probesimLines, 1, "%s", path)
			case res.status > 128:
				ran++
				require.NotEmpty(t, probesimLines, "%s: status %d says why", path, res.status)
				assert.Contains(t, probesimLines[len(probesimLines)-1], "killed by SIG", "%s", path)
			default:
				ran++ // the guest's own exit status
				assert.Empty(t, probesimLines, "%s: status %d, stderr %q", path, res.status, res.stderr)
			}
		}
		t.Logf("seed %d: %d mutants refused, %d ran", *mutantSeed, refused, ran)
		assert.Positive(t, refused)
		assert.Positive(t, ran)
	})
	t.Run("section headers", func(t *testing.T) {
		for _, arch := range arches {
			orig, err := os.ReadFile(fixturePath(t, arch, "threads"))
			require.NoError(t, err)
			// The original under a name as long as the mutants': argv[0]
			// is on the stack, and its length moves what the program does.
			threads := writeFile(t, dir, "s999-"+arch, orig, 0o755)
			want, wantRep := runReportWithin(t, runTimeout, nil, threads, "2", "5")
			require.Equal(t, 0, want.status)
			wantProbe := cli(t, "run", "--probe", "probed", threads, "2", "5")
			require.Equal(t, 0, wantProbe.status)
			for i := range sectionMutants / 2 {
				path := writeFile(t, dir, fmt.Sprintf("s%03d-%s", i, arch), mutateSections(r, orig), 0o755)
				res, rep := runReportWithin(t, runTimeout, nil, path, "2", "5")
				assert.Equal(t, 0, res.status, "%s: stderr %q", path, res.stderr)
				assert.Equal(t, string(want.stdout), string(res.stdout), path)
				assert.Equal(t, wantRep.Cycles, rep.Cycles, path)
				assert.Equal(t, wantRep.Instructions, rep.Instructions, path)
				res = cli(t, "run", "--probe", "probed", path, "2", "5")
				if res.status == 0 {
					assert.Equal(t, string(wantProbe.stdout), string(res.stdout), path)
					continue
				}
				requireNoCrash(t, res)
				require.Len(t, outputLines(res.stderr), 1, "%s: stderr %q", path, res.stderr)
				assert.Contains(t, []int{exitCannotRun, exitUsage}, res.status, "%s: stderr %q", path, res.stderr)
				if res.status == exitCannotRun {
					assert.Contains(t, string(res.stderr), `cannot resolve probe "probed": section headers corrupt: `, path)
				}
			}
		}
	})
}
