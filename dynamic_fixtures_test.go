// Tests of the dynamically linked fixtures under probesim (issue 12): the
// dynamic loader (PT_INTERP, ld.so, AT_BASE) and probes keyed by file and
// offset.
package probesim_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/fixtures"
)

// Debian 12's glibc as the dynamic fixtures load it: libc6's, and
// gcc-multilib's libc6-i386 (ldd names /lib32/libc.so.6).
var dynamicLibc = map[string]string{
	fixtures.ArchAMD64: "/lib/x86_64-linux-gnu/libc.so.6",
	fixtures.ArchI386:  "/lib32/libc.so.6",
}

// TestDynamicFixturesMatchNative runs every dynamically linked fixture
// natively and under probesim with the catalogue's arguments: the same
// bytes out, the same status; the multi-threaded ones on 1 and 4 vCPUs.
func TestDynamicFixturesMatchNative(t *testing.T) {
	ran := 0
	for _, f := range fixtures.Dynamic() {
		cpuCounts := []int{1}
		if !f.SingleThreaded {
			cpuCounts = []int{1, 4}
		}
		for _, arch := range f.Arches {
			for _, cpus := range cpuCounts {
				ran++
				t.Run(fmt.Sprintf("%s/%s/cpus%d", arch, f.Name, cpus), func(t *testing.T) {
					t.Parallel()
					path, err := fixtures.Path(arch, f.Name)
					require.NoError(t, err, "make fixtures")
					stdout, stderr, status, err := fixtures.RunNative(path, f.Args, f.Env, nil)
					require.NoError(t, err)
					require.Equal(t, f.ExitStatus, status, "native status (stderr %q)", stderr)
					res, err := probesim.Run(t.Context(), probesim.Config{Program: path, Args: f.Args, Env: f.Env, CPUs: cpus, Seed: 1})
					require.NoError(t, err)
					rep := res.Report
					assert.Equal(t, status, rep.ExitStatus, "status (stderr %q)", rep.Stderr)
					assert.Equal(t, string(stdout), rep.Stdout, "stdout")
					assert.Equal(t, string(stderr), rep.Stderr, "stderr")
					assert.Empty(t, rep.UnsupportedSyscalls, "syscalls answered ENOSYS")
				})
			}
		}
	}
	// hello_dyn, stdio_dyn (single-threaded), threads_dyn, mallocthreads_dyn
	// (on 1 and 4 vCPUs), both arches.
	require.Equal(t, 12, ran)
}

// programCount is the program's own count of calls, from a line "LABEL=N".
func programCount(t *testing.T, stdout, label string) uint64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(label) + `=(\d+)$`).FindStringSubmatch(stdout)
	require.NotNil(t, m, "no %q line in %q", label, stdout)
	n, err := strconv.ParseUint(m[1], 10, 64)
	require.NoError(t, err)
	return n
}

// TestDynamicProbeOnLibcMallocEveryStrategy is issue 12's acceptance test:
// a probe on libc.so.6's malloc (and free, and the main program's
// fill_block, in a PIE) in mallocthreads_dyn, whose 4 threads count their
// own calls, on 4 vCPUs with every strategy and both arches: hits + misses
// = executions = the program's count; inline misses, the out-of-line
// strategies never do. The counts are the ones make validate-uprobes
// measures with real uprobes (docs/validate-uprobes.md).
func TestDynamicProbeOnLibcMallocEveryStrategy(t *testing.T) {
	for _, arch := range []string{fixtures.ArchI386, fixtures.ArchAMD64} {
		for _, s := range probesim.Strategies {
			t.Run(arch+"/"+string(s), func(t *testing.T) {
				t.Parallel()
				path, err := fixtures.Path(arch, "mallocthreads_dyn")
				require.NoError(t, err, "make fixtures")
				lib := dynamicLibc[arch]
				specs := []string{lib + ":malloc", "uprobe:" + lib + ":free", "fill_block"}
				labels := []string{"malloc calls", "free calls", "fill_block calls"}
				res, err := probesim.Run(t.Context(), probesim.Config{Program: path, Args: []string{"4", "1000"},
					CPUs: 4, Seed: 1, Probes: specs, Strategy: s})
				require.NoError(t, err)
				rep := res.Report
				require.Equal(t, 0, rep.ExitStatus, "stderr %q", rep.Stderr)
				require.Len(t, rep.Probes, len(specs))
				for i, p := range rep.Probes {
					want := programCount(t, rep.Stdout, labels[i])
					assert.Equal(t, uint64(4000), want, labels[i])
					assert.Equal(t, want, p.Executions, specs[i])
					assert.Equal(t, p.Executions, p.Hits+p.Misses, specs[i])
					if s == probesim.Inline {
						// Four threads calling malloc back to back on 4
						// vCPUs: some run through the restored byte.
						if i == 0 {
							assert.Positive(t, p.Misses, "inline on 4 vCPUs misses")
						}
					} else {
						assert.Zero(t, p.Misses, "%s: out-of-line strategies never miss", specs[i])
					}
				}
				assert.True(t, strings.HasSuffix(rep.Probes[0].Spec, ":malloc"), rep.Probes[0].Spec)
			})
		}
	}
}
