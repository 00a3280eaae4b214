package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/report"
)

// TestFixturesMatchNative runs every fixture natively and under probesim
// with the catalogue's arguments and environment: the guest must write the
// same bytes and exit with the same status. Multi-threaded fixtures run on
// one and on four vCPUs.
func TestFixturesMatchNative(t *testing.T) {
	ran := 0
	for _, f := range fixtures.All() {
		cpuCounts := []string{"1"}
		if !f.SingleThreaded {
			cpuCounts = []string{"1", "4"}
		}
		for _, arch := range f.Arches {
			for _, cpus := range cpuCounts {
				ran++
				name := arch + "/" + f.Name
				if !f.SingleThreaded {
					name += "/cpus" + cpus
				}
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					path := fixturePath(t, arch, f.Name)
					want := native(t, path, f.Args, f.Env)
					require.Equal(t, f.ExitStatus, want.status, "native status (stderr %q)", want.stderr)

					flags := append([]string{"run", "--cpus", cpus}, envFlags(f.Env)...)
					got := cli(t, append(append(flags, path), f.Args...)...)
					assert.Equal(t, want.status, got.status, "status (stderr %q)", got.stderr)
					if !f.Deterministic {
						// nx prints a stack address, which differs between the
						// native (ASLR) and emulated stacks: TestNXFault checks it.
						return
					}
					assert.Equal(t, string(want.stdout), string(got.stdout), "stdout")
					assert.Equal(t, string(want.stderr), string(got.stderr), "stderr")
				})
			}
		}
	}
	// 32 fixtures, 29 of them on both arches; the twelve multi-threaded
	// ones (threads, parallel, pipes, poll, signals, timers, condvar,
	// condvar_musl, sockets, goprog, gonet, mapexec) on 1 and 4 vCPUs.
	require.Equal(t, 84, ran)
}

// nxFaultLine is the line probesim prints for nx's fault, after the
// "probesim: " prefix, modelled on the kernel's show_signal_msg().
var nxFaultLine = regexp.MustCompile(`^probesim: nx\[1000\]: segfault at ([0-9a-f]+) ip ([0-9a-f]+) sp ([0-9a-f]+) error 15 in \[stack\]`)

// TestNXFault runs nx, which jumps to code it copied onto the
// non-executable stack: the fetch must fault at exactly the address it
// printed, as on Linux.
func TestNXFault(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			path := fixturePath(t, arch, "nx")
			nat := native(t, path, nil, nil)
			assert.Equal(t, fixtures.StatusSIGSEGV, nat.status, "native status")

			res, rep, _, _ := runReport(t, nil, path)
			require.Equal(t, 139, res.status, "stderr %q", res.stderr)
			require.Equal(t, string(res.stdout), rep.Stdout)

			// nx prints its buffer's address as 16 (x86_64) or 8 (i386) hex digits.
			digits := map[string]int{fixtures.ArchAMD64: 16, fixtures.ArchI386: 8}[arch]
			printed := strings.TrimSuffix(string(res.stdout), "\n")
			require.Len(t, printed, digits, "stdout %q", res.stdout)
			addr, err := strconv.ParseUint(printed, 16, 64)
			require.NoError(t, err)
			require.NotZero(t, addr)

			// stderr: the fault line, then the line saying how probesim's
			// guest ended.
			lines := outputLines(res.stderr)
			require.Len(t, lines, 2, "stderr %q", res.stderr)
			line := nxFaultLine.FindStringSubmatch(lines[0])
			require.NotNil(t, line, "fault line %q", lines[0])
			for i, what := range []string{"segfault at", "ip", "sp"} {
				v, err := strconv.ParseUint(line[i+1], 16, 64)
				require.NoError(t, err, what)
				// The payload runs where the stack pointer was when nx
				// jumped there, so all three are the printed address.
				assert.Equal(t, addr, v, "%s in %q", what, line[0])
			}
			assert.Equal(t, "probesim: "+path+" killed by SIGSEGV", lines[1])

			assert.Equal(t, "fault", rep.StopReason)
			assert.Equal(t, 139, rep.ExitStatus)
			require.NotNil(t, rep.Signal)
			assert.Equal(t, "SIGSEGV", *rep.Signal)
			require.NotNil(t, rep.Fault)
			assert.Equal(t, "SIGSEGV", rep.Fault.Signal)
			assert.Equal(t, "segfault", rep.Fault.Kind)
			assert.Equal(t, addr, rep.Fault.Address)
			assert.Equal(t, addr, rep.Fault.RIP)
			assert.Equal(t, addr, rep.Fault.SP)
			// Protection violation (1) by a user (4) instruction fetch (16).
			assert.Equal(t, uint64(0x15), rep.Fault.ErrorCode)
			assert.Equal(t, "[stack]", rep.Fault.VMA)
			assert.Equal(t, lines[0], "probesim: "+rep.Fault.Message)
		})
	}
}

// TestStackGrowth checks the growsdown stack and RLIMIT_STACK.
func TestStackGrowth(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			path := fixturePath(t, arch, "stackgrow")

			// Default: 2048 KiB of growth, 4 KiB at a time.
			nat := native(t, path, nil, nil)
			require.Equal(t, 0, nat.status)
			res, rep, _, _ := runReport(t, nil, path)
			require.Equal(t, 0, res.status, "stderr %q", res.stderr)
			assert.Equal(t, string(nat.stdout), string(res.stdout))
			assert.Equal(t, "stack grew 2048 KiB\n", string(res.stdout))
			assert.Equal(t, string(nat.stderr), string(res.stderr))
			assert.Greater(t, rep.Memory.StackGrowths, uint64(0))
			assert.Greater(t, rep.Memory.StackBytes, uint64(1<<20))
			assert.Equal(t, uint64(8<<20), rep.Limits.StackLimit)

			// The initial stack plus 2 MiB does not fit under 2 MiB (nor
			// 1 MiB), and fits under 3 MiB.
			for _, limit := range []string{"1M", "2M"} {
				res, rep, _, _ = runReport(t, []string{"--stack-limit", limit}, path)
				assert.Equal(t, 139, res.status, "--stack-limit %s: stderr %q", limit, res.stderr)
				assert.Empty(t, res.stdout)
				checkStackOverflow(t, res, rep, path)
			}
			res, rep, _, _ = runReport(t, []string{"--stack-limit", "3M"}, path)
			assert.Equal(t, 0, res.status, "stderr %q", res.stderr)
			assert.Equal(t, "stack grew 2048 KiB\n", string(res.stdout))
			assert.Equal(t, uint64(3<<20), rep.Limits.StackLimit)
			assert.LessOrEqual(t, rep.Memory.StackBytes, uint64(3<<20))
		})
	}
}

// TestSmallStackLimitsMatchNative: under the smallest stack limits (64K,
// the documented minimum, up to just over the 132K Linux's exec wants
// without a limit), programs start, grow their stack and overflow it as
// they do natively under prlimit: setup_arg_pages clamps the initial stack
// to the limit (emu/load.go).
func TestSmallStackLimitsMatchNative(t *testing.T) {
	for _, limit := range []string{"65536", "98304", "135168"} {
		for _, arch := range arches {
			for _, c := range []struct {
				name string
				args []string
			}{{"qsort", nil}, {"stdio", nil}, {"stackgrow", []string{"16"}}, {"stackgrow", []string{"100"}}} {
				t.Run(fmt.Sprintf("%s/%s/%s%v", limit, arch, c.name, c.args), func(t *testing.T) {
					t.Parallel()
					path := fixturePath(t, arch, c.name)
					want := native(t, "/usr/bin/prlimit", append([]string{"--stack=" + limit, path}, c.args...), nil)
					got := cli(t, append([]string{"run", "-q", "--stack-limit", limit, path}, c.args...)...)
					assert.Equal(t, want.status, got.status)
					assert.Equal(t, string(want.stdout), string(got.stdout))
				})
			}
		}
	}
}

// checkStackOverflow checks how a run ended that outgrew RLIMIT_STACK.
func checkStackOverflow(t *testing.T, res result, rep report.Run, path string) {
	t.Helper()
	assert.Equal(t, "fault", rep.StopReason)
	require.NotNil(t, rep.Signal)
	assert.Equal(t, "SIGSEGV", *rep.Signal)
	require.NotNil(t, rep.Fault)
	assert.Equal(t, "SIGSEGV", rep.Fault.Signal)
	assert.Equal(t, "segfault", rep.Fault.Kind)
	// A user-mode write (4|2) to a page that is not mapped.
	assert.Equal(t, uint64(6), rep.Fault.ErrorCode)
	assert.Equal(t, rep.Fault.SP, rep.Fault.Address, "stackgrow stores at its stack pointer")
	assert.LessOrEqual(t, rep.Memory.StackBytes, rep.Limits.StackLimit)
	assert.Contains(t, string(res.stderr), "probesim: "+rep.Fault.Message+"\n")
	assert.Contains(t, string(res.stderr), "probesim: "+path+" killed by SIGSEGV\n")
}

// largeGrowthDeadline bounds each run of TestStackGrowthLarge. Natively a
// 16 MiB growth takes milliseconds; the deadline is there so that a
// super-linear cost per growth fails here in bounded time instead of
// stalling the package (it is not a speed measurement).
const largeGrowthDeadline = 20 * time.Second

// TestStackGrowthLarge grows the stack by 16 MiB, 4 KiB at a time: past the
// default 8 MiB RLIMIT_STACK it faults, under 32 MiB it succeeds.
func TestStackGrowthLarge(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			path := fixturePath(t, arch, "stackgrow")

			res, rep := runReportWithin(t, largeGrowthDeadline, nil, path, "16384")
			assert.Equal(t, 139, res.status, "stderr %q", res.stderr)
			assert.Empty(t, res.stdout)
			assert.Equal(t, uint64(8<<20), rep.Limits.StackLimit)
			checkStackOverflow(t, res, rep, path)

			res, rep = runReportWithin(t, largeGrowthDeadline, []string{"--stack-limit", "32M"}, path, "16384")
			assert.Equal(t, 0, res.status, "stderr %q", res.stderr)
			assert.Equal(t, "stack grew 16384 KiB\n", string(res.stdout))
			assert.Equal(t, uint64(32<<20), rep.Limits.StackLimit)
			assert.Greater(t, rep.Memory.StackBytes, uint64(16<<20))
			assert.LessOrEqual(t, rep.Memory.StackBytes, uint64(32<<20))
			assert.GreaterOrEqual(t, rep.Memory.StackGrowths, uint64(1))
		})
	}
}
