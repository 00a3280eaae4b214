// Tests of programs made of several processes under probesim (issue 11):
// the pre-forking server probed with every strategy on 1, 2 and 4 vCPUs,
// fast and lockstep, the determinism of process runs, the fork bomb's
// EAGAIN at the process limit, shootdowns kept to their address space and
// probes that follow exec. The native comparisons of every process fixture
// and of the shells are in processes_native_test.go.
package probesim_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/report"
)

// processCount is the program's own count from a line "LABEL=N".
func processCount(t *testing.T, stdout, label string) uint64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(label) + `=(\d+)$`).FindStringSubmatch(stdout)
	require.NotNil(t, m, "no %q line in %q", label, stdout)
	n, err := strconv.ParseUint(m[1], 10, 64)
	require.NoError(t, err)
	return n
}

// preforkedWorkers, preforkedItems: the catalogue's preforked run.
const preforkedWorkers, preforkedItems = 4, 1000

// inlineRestoreVisibleAcrossProcesses says whether an inline window opened
// in one process (the original byte written back while one vCPU
// single-steps it) is seen by another process that maps the same file.
// On Linux a uprobe's breakpoint is written into a private anonymous copy
// of the text page in each MM (kernel/events/uprobes.c,
// uprobe_write_opcode, __replace_page), so a restore in one MM is not
// visible in another, and single-threaded workers of a pre-forking server
// cannot run through each other's windows: false. The process-model work
// decides and documents this (issue 11, point 3); if it models the
// RFC's shared page instead, set it to true and the test expects misses.
const inlineRestoreVisibleAcrossProcesses = false

// TestPreforkedProbeEveryStrategy is issue 11's acceptance test for
// uprobes across processes: a probe on work_item in preforked, whose 4
// forked workers call it 1000 times each and report their own counts, on
// 1, 2 and 4 vCPUs with every strategy and both arches, fast and
// lockstep: hits + misses = executions = the workers' total; ssol-stack
// and xol miss nothing; inline misses only if a restore is visible across
// processes. Real uprobes count the same 4000 (fixtures/README.md,
// counted system-wide).
func TestPreforkedProbeEveryStrategy(t *testing.T) {
	for _, arch := range []string{fixtures.ArchI386, fixtures.ArchAMD64} {
		for _, s := range probesim.Strategies {
			for _, cpus := range []int{1, 2, 4} {
				for _, lockstep := range []bool{false, true} {
					name := fmt.Sprintf("%s/%s/cpus%d", arch, s, cpus)
					if lockstep {
						name += "/lockstep"
					}
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						path, err := fixtures.Path(arch, "preforked")
						require.NoError(t, err, "make fixtures")
						args := []string{fmt.Sprint(preforkedWorkers), fmt.Sprint(preforkedItems)}
						native, _, status, err := fixtures.RunNative(path, args, nil, nil)
						require.NoError(t, err)
						require.Equal(t, 0, status)
						res, err := probesim.Run(t.Context(), probesim.Config{Program: path, Args: args,
							CPUs: cpus, Seed: 1, Lockstep: lockstep, Probes: []string{"work_item"}, Strategy: s})
						require.NoError(t, err)
						rep := res.Report
						require.Equal(t, 0, rep.ExitStatus, "stderr %q", rep.Stderr)
						assert.Equal(t, string(native), rep.Stdout)
						assert.Empty(t, rep.UnsupportedSyscalls)
						total := processCount(t, rep.Stdout, "calls")
						require.Equal(t, uint64(preforkedWorkers*preforkedItems), total)
						require.Len(t, rep.Probes, 1)
						p := rep.Probes[0]
						assert.Equal(t, total, p.Executions, "executions = the workers' own total")
						assert.Equal(t, p.Executions, p.Hits+p.Misses, "hits + misses = executions")
						switch {
						case s != probesim.Inline:
							assert.Zero(t, p.Misses, "out-of-line strategies never miss")
						case cpus == 1 || !inlineRestoreVisibleAcrossProcesses:
							// One vCPU runs one worker at a time; on several,
							// each worker's window is in its own copy of the page.
							assert.Zero(t, p.Misses, "inline across single-threaded processes")
						default:
							assert.Positive(t, p.Misses, "inline on %d vCPUs, the text page shared", cpus)
						}
						// Per process: each worker's executions are its own
						// count (the parent calls work_item 0 times), and they
						// sum to the totals.
						var sum report.ProbeProcess
						require.Len(t, p.PerProcess, preforkedWorkers, "the workers (the parent never calls it)")
						for i, pp := range p.PerProcess {
							assert.Equal(t, pp.Executions, pp.Hits+pp.Misses)
							own := regexp.MustCompile(fmt.Sprintf(`(?m)^worker %d: work_item=(\d+) `, i)).FindStringSubmatch(rep.Stdout)
							require.NotNil(t, own, "worker %d's line", i)
							assert.Equal(t, own[1], strconv.FormatUint(pp.Executions, 10), "worker %d (pid %d): its own count", i, pp.PID)
							sum.Executions += pp.Executions
							sum.Hits += pp.Hits
							sum.Misses += pp.Misses
						}
						assert.Equal(t, report.ProbeProcess{Executions: p.Executions, Hits: p.Hits, Misses: p.Misses}, sum)
					})
				}
			}
		}
	}
}

// TestPreforkedFastAndLockstepAgree: the fast mode and the lockstep
// reference give the same output and the same counts for the
// out-of-line strategies (no miss either way), and the same executions
// for inline.
func TestPreforkedFastAndLockstepAgree(t *testing.T) {
	for _, arch := range []string{fixtures.ArchI386, fixtures.ArchAMD64} {
		for _, s := range probesim.Strategies {
			t.Run(arch+"/"+string(s), func(t *testing.T) {
				t.Parallel()
				path, err := fixtures.Path(arch, "preforked")
				require.NoError(t, err, "make fixtures")
				run := func(lockstep bool) *probesim.Result {
					res, err := probesim.Run(t.Context(), probesim.Config{Program: path, Args: []string{"4", "500"},
						CPUs: 4, Seed: 2, Lockstep: lockstep, Probes: []string{"work_item"}, Strategy: s})
					require.NoError(t, err)
					return res
				}
				fast, ref := run(false).Report, run(true).Report
				assert.Equal(t, ref.Stdout, fast.Stdout)
				assert.Equal(t, ref.Stderr, fast.Stderr)
				assert.Equal(t, ref.ExitStatus, fast.ExitStatus)
				require.Len(t, fast.Probes, 1)
				require.Len(t, ref.Probes, 1)
				assert.Equal(t, ref.Probes[0].Executions, fast.Probes[0].Executions)
				assert.Equal(t, uint64(2000), fast.Probes[0].Executions)
				if s != probesim.Inline {
					assert.Equal(t, ref.Probes[0].Hits, fast.Probes[0].Hits)
					assert.Zero(t, fast.Probes[0].Misses+ref.Probes[0].Misses)
				}
			})
		}
	}
}

// TestProcessRunsAreDeterministic: the same seed gives byte-identical
// report JSON (outside the host section) for runs of several processes.
func TestProcessRunsAreDeterministic(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		cfg  probesim.Config
	}{
		{"preforked", []string{"4", "300"}, probesim.Config{CPUs: 4, Probes: []string{"work_item"}, Strategy: probesim.Inline}},
		{"preforked", []string{"4", "300"}, probesim.Config{CPUs: 2, Probes: []string{"work_item"}, Strategy: probesim.XOL}},
		{"forkwait", nil, probesim.Config{CPUs: 4}},
		{"pipefork", []string{"2000"}, probesim.Config{CPUs: 4}},
	} {
		for _, arch := range []string{fixtures.ArchI386, fixtures.ArchAMD64} {
			t.Run(fmt.Sprintf("%s/%s/%s/cpus%d", arch, c.name, c.cfg.Strategy, c.cfg.CPUs), func(t *testing.T) {
				t.Parallel()
				path, err := fixtures.Path(arch, c.name)
				require.NoError(t, err, "make fixtures")
				encode := func() []byte {
					cfg := c.cfg
					cfg.Program, cfg.Args, cfg.Seed = path, c.args, 7
					res, err := probesim.Run(t.Context(), cfg)
					require.NoError(t, err)
					require.Equal(t, 0, res.Report.ExitStatus, "stderr %q", res.Report.Stderr)
					res.Report.Host = nil
					b, err := json.Marshal(res.Report)
					require.NoError(t, err)
					return b
				}
				a, b := encode(), encode()
				assert.Equal(t, string(a), string(b))
			})
		}
	}
}

// forkbombWant is what forkbomb prints when fork fails with EAGAIN after
// some forks and it reaps every child.
const forkbombWant = "fork failed with EAGAIN after some forks (N>0)\n" +
	"reaped all children: yes\n" +
	"then waitpid fails with ECHILD\n"

// TestForkBombEndsWithEAGAIN: a guest that forks until fork fails meets
// probesim's process limit (default 4096, as the issue states) as EAGAIN
// in the guest, and the run ends with the guest's own exit, not a host
// failure. The native half (as nobody under RLIMIT_NPROC) is
// fixtures.TestForkbombEndsWithEAGAINUnderRLIMIT_NPROC.
func TestForkBombEndsWithEAGAIN(t *testing.T) {
	for _, arch := range []string{fixtures.ArchI386, fixtures.ArchAMD64} {
		t.Run(arch, func(t *testing.T) {
			path, err := fixtures.Path(arch, "forkbomb")
			require.NoError(t, err, "make fixtures")
			res, err := probesim.Run(t.Context(), probesim.Config{Program: path, Args: []string{"10000"}, CPUs: 2, Seed: 1})
			require.NoError(t, err)
			rep := res.Report
			assert.Equal(t, "exit", rep.StopReason)
			assert.Equal(t, 0, rep.ExitStatus, "stdout %q stderr %q", rep.Stdout, rep.Stderr)
			assert.Equal(t, forkbombWant, rep.Stdout)
			assert.Empty(t, rep.UnsupportedSyscalls)
		})
	}
}

// TestShootdownsStayInTheirAddressSpace: two malloc fixtures run at once
// by busybox sh on two vCPUs, each shrinking and freeing its mappings: a
// TLB shootdown interrupts only the vCPUs running the initiator's address
// space (Linux's mm_cpumask), so with two single-threaded processes no
// vCPU receives an IPI, where interrupting every busy vCPU gave each
// several.
func TestShootdownsStayInTheirAddressSpace(t *testing.T) {
	m, err := fixtures.Path(fixtures.ArchAMD64, "malloc")
	require.NoError(t, err, "make fixtures")
	res, err := probesim.Run(t.Context(), probesim.Config{Program: busybox, Seed: 1, CPUs: 2,
		Args: []string{"sh", "-c", m + " >/dev/null & " + m + " >/dev/null; wait"}})
	require.NoError(t, err)
	rep := res.Report
	require.Equal(t, 0, rep.ExitStatus, "stderr %q", rep.Stderr)
	var shootdowns, ipis uint64
	for _, v := range rep.VCPUs {
		shootdowns += v.TLBShootdowns
		ipis += v.IPIsReceived
	}
	assert.Greater(t, shootdowns, uint64(4), "both processes munmap")
	assert.Zero(t, ipis, "no shootdown reaches a vCPU of another process")
	assert.Len(t, rep.Processes, 3, "the shell and its two children")
}

// TestFileProbeFollowsExec: a probe on libc's malloc is armed in every
// process that maps libc (uprobe_mmap after exec): under /bin/sh running
// /bin/echo twice, each echo counts what a lone /bin/echo counts, and the
// per-process counts add up to the probe's totals.
func TestFileProbeFollowsExec(t *testing.T) {
	const libc = "/lib/x86_64-linux-gnu/libc.so.6:malloc"
	lone, err := probesim.Run(t.Context(), probesim.Config{Program: "/bin/echo", Args: []string{"a"}, Seed: 1,
		Probes: []string{libc}, Strategy: probesim.XOL})
	require.NoError(t, err)
	require.Len(t, lone.Report.Probes, 1)
	each := lone.Report.Probes[0].Executions
	require.Positive(t, each)
	res, err := probesim.Run(t.Context(), probesim.Config{Program: "/bin/sh", Args: []string{"-c", "/bin/echo a; /bin/echo b"},
		Seed: 1, CPUs: 2, Probes: []string{libc}, Strategy: probesim.XOL})
	require.NoError(t, err)
	rep := res.Report
	require.Equal(t, 0, rep.ExitStatus, "stderr %q", rep.Stderr)
	assert.Equal(t, "a\nb\n", rep.Stdout)
	require.Len(t, rep.Probes, 1)
	p := rep.Probes[0]
	require.Len(t, p.PerProcess, 3, "the shell and the two echos")
	var sum uint64
	for i, pp := range p.PerProcess {
		if i > 0 {
			assert.Equal(t, each, pp.Executions, "echo pid %d", pp.PID)
		}
		assert.Equal(t, pp.Executions, pp.Hits, "xol misses nothing")
		sum += pp.Executions
	}
	assert.Equal(t, p.Executions, sum)
	assert.Equal(t, p.Executions, p.Hits+p.Misses)
}

// TestProgramProbeFollowsExec: forkexec calls check() once per line it
// prints "ok" or "FAILED", in the parent and in the child that execs
// forkexec itself in --check mode: a probe on check counts every such
// line, the exec'd copy's too (uprobe_mmap in the new address space), with
// every strategy. (On i386 the run's status is 1: its /bin/sh cases fail,
// see processes_native_test.go; the probe's count is still every line.)
func TestProgramProbeFollowsExec(t *testing.T) {
	line := regexp.MustCompile(`(?m)\s(ok|FAILED)$`)
	for _, arch := range []string{fixtures.ArchI386, fixtures.ArchAMD64} {
		for _, s := range []probesim.Strategy{probesim.Inline, probesim.SSOLStack, probesim.XOL} {
			t.Run(fmt.Sprintf("%s/%s", arch, s), func(t *testing.T) {
				path, err := fixtures.Path(arch, "forkexec")
				require.NoError(t, err, "make fixtures")
				res, err := probesim.Run(t.Context(), probesim.Config{Program: path, Seed: 1, CPUs: 2,
					Probes: []string{"check"}, Strategy: s})
				require.NoError(t, err)
				rep := res.Report
				require.Len(t, rep.Probes, 1)
				p := rep.Probes[0]
				lines := uint64(len(line.FindAllString(rep.Stdout, -1)))
				assert.Equal(t, lines, p.Executions, "one execution per check line")
				assert.Equal(t, p.Executions, p.Hits+p.Misses)
				assert.Len(t, p.PerProcess, 2, "the parent and its exec'd --check child")
			})
		}
	}
}
