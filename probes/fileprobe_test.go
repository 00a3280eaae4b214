package probes

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/kernel/vfs"
	"github.com/probesim/probesim/smp"
)

// libraryCopy copies the mapexec fixture to a file of its own, which the
// fixture maps and runs code from: a file other than the program.
func libraryCopy(t *testing.T, arch string) (prog, lib string) {
	t.Helper()
	prog, err := fixtures.Path(arch, "mapexec")
	require.NoError(t, err)
	data, err := os.ReadFile(prog)
	require.NoError(t, err)
	lib = filepath.Join(t.TempDir(), "libmapexec.so")
	require.NoError(t, os.WriteFile(lib, data, 0o755))
	return prog, lib
}

// fileRun is a run of mapexec with probes on a file.
type fileRun struct {
	stdout  string
	results []Result
	handled int
}

// runFileProbes runs prog with args and specs (resolved in the machine's
// view, as the command line does) with strategy s.
func runFileProbes(t *testing.T, prog string, args []string, cpus int, s Strategy, specs ...string) fileRun {
	t.Helper()
	m, err := smp.New(smp.Config{Program: prog, Args: args, CPUs: cpus, Seed: 1})
	require.NoError(t, err)
	defer m.Close()
	r := &Resolver{Image: m.Image(), Files: ViewFiles(m.Kernel().FS())}
	resolved, err := r.ParseList(specs)
	require.NoError(t, err)
	var run fileRun
	e, err := Attach(m, resolved, s, func(Hit) { run.handled++ })
	require.NoError(t, err)
	rep, err := m.Run()
	require.NoError(t, err)
	require.NoError(t, e.Err())
	require.Equal(t, "exit", rep.StopReason, "stderr %q fault %+v", rep.Stderr, rep.Fault)
	run.stdout, run.results = rep.Stdout, e.Results()
	return run
}

// mappedCalls is the program's own count of the calls it made through
// its mappings.
func mappedCalls(t *testing.T, stdout string) uint64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^mapped_calls=(\d+)$`).FindStringSubmatch(stdout)
	require.NotNil(t, m, stdout)
	n, err := strconv.ParseUint(m[1], 10, 64)
	require.NoError(t, err)
	return n
}

// TestFileProbeArmedByMappings: a probe on a file's function is armed by
// each mapping of the file that may execute and gone with it: mapexec maps
// its copy three times (at two addresses) and calls the mapped function
// from two threads, and the probe's executions are the program's own count
// of those calls for every strategy on 1 and 4 vCPUs, hits + misses =
// executions; the calls the program makes through its own text (another
// file) or through a mapping made executable by mprotect (which Linux does
// not arm) are not counted. Real Linux counts the same 3,000 (perf probe -x
// on the copy, perf stat -e). Inline misses on 4 vCPUs, the others never;
// the output is the native one.
func TestFileProbeArmedByMappings(t *testing.T) {
	args := func(lib string) []string { return []string{lib, "3", "2", "500"} }
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		prog, lib := libraryCopy(t, arch)
		native, _, _, err := fixtures.RunNative(prog, args(lib), nil, nil)
		require.NoError(t, err)
		for _, s := range Strategies {
			for _, cpus := range []int{1, 4} {
				t.Run(fmt.Sprintf("%s/%s/%dcpu", arch, s, cpus), func(t *testing.T) {
					run := runFileProbes(t, prog, args(lib), cpus, s, lib+":mapped_work")
					assert.Equal(t, string(native), run.stdout)
					want := mappedCalls(t, run.stdout)
					require.Equal(t, uint64(3000), want)
					res := run.results[0]
					assert.Equal(t, want, res.Executions, "executions = the program's count of calls through the mappings")
					assert.Equal(t, res.Executions, res.Hits+res.Misses)
					assert.Equal(t, uint64(run.handled), res.Hits, "the handler ran once per hit")
					assert.Len(t, res.MissList, int(res.Misses))
					var sum uint64
					for _, c := range res.PerCPU {
						assert.Equal(t, c.Executions, c.Hits+c.Misses)
						sum += c.Executions
					}
					assert.Equal(t, res.Executions, sum)
					assert.Equal(t, uint64(3), res.Mappings, "armed by each of the three mappings, not by the mprotect one")
					assert.NotZero(t, res.Address)
					switch {
					case s != Inline:
						assert.Zero(t, res.Misses, "int3 never leaves the text")
					case cpus > 1:
						assert.NotZero(t, res.Misses, "inline on 4 vCPUs misses (seed 1)")
					default:
						assert.Zero(t, res.Misses)
					}
				})
			}
		}
	}
}

// TestFileProbeEntryAndReturn: an entry and a return probe on one file
// offset share each mapping's breakpoint, and each counts every call.
func TestFileProbeEntryAndReturn(t *testing.T) {
	prog, lib := libraryCopy(t, fixtures.ArchAMD64)
	run := runFileProbes(t, prog, []string{lib, "2", "2", "300"}, 2, XOL, lib+":mapped_work", "uretprobe:"+lib+":mapped_work")
	want := mappedCalls(t, run.stdout)
	require.Len(t, run.results, 2)
	for _, res := range run.results {
		assert.Equal(t, want, res.Executions, res.Spec)
		assert.Equal(t, want, res.Hits, res.Spec)
		assert.Equal(t, uint64(2), res.Mappings, res.Spec)
	}
	assert.True(t, run.results[1].Return)
	assert.Zero(t, run.results[1].ReturnsPending)
}

// TestFileProbeNotMapped: a probe on a file the program never maps is
// never armed: no executions, no address. mapexec then maps itself
// (/proc/self/exe), another file than the probe's.
func TestFileProbeNotMapped(t *testing.T) {
	prog, lib := libraryCopy(t, fixtures.ArchI386)
	run := runFileProbes(t, prog, []string{"/proc/self/exe", "2", "1", "100"}, 1, SSOLStack, lib+":mapped_work")
	assert.Equal(t, uint64(200), mappedCalls(t, run.stdout))
	res := run.results[0]
	assert.Zero(t, res.Executions)
	assert.Zero(t, res.Mappings)
	assert.Zero(t, res.Address)
}

// TestFileProbeInTheGuestView: the file a spec names is looked up in the
// guest's view, not on the host: a host directory mounted at /opt/probes
// gives the guest /opt/probes/libmapexec.so, which the host has not, and
// the probe on it counts the calls through its mappings; a path only the
// host has is no file to the guest.
func TestFileProbeInTheGuestView(t *testing.T) {
	prog, lib := libraryCopy(t, fixtures.ArchAMD64)
	m, err := smp.New(smp.Config{Program: prog, Args: []string{"/opt/probes/libmapexec.so", "2", "2", "100"}, CPUs: 2, Seed: 1,
		Mounts: []vfs.Mount{{Host: filepath.Dir(lib), Guest: "/opt/probes"}}})
	require.NoError(t, err)
	defer m.Close()
	r := &Resolver{Image: m.Image(), Files: ViewFiles(m.Kernel().FS())}
	_, err = r.Resolve("/opt/probes/libmapexec.so:mapped_work")
	require.NoError(t, err)
	_, err = os.Stat("/opt/probes/libmapexec.so")
	require.Error(t, err, "the host has no such file")
	specs, err := r.ParseList([]string{"/opt/probes/libmapexec.so:mapped_work"})
	require.NoError(t, err)
	e, err := Attach(m, specs, XOL, nil)
	require.NoError(t, err)
	rep, err := m.Run()
	require.NoError(t, err)
	require.Equal(t, "exit", rep.StopReason, rep.Stderr)
	res := e.Results()[0]
	assert.Equal(t, mappedCalls(t, rep.Stdout), res.Executions)
	assert.Equal(t, uint64(400), res.Hits)

	m2, err := smp.New(smp.Config{Program: prog, Root: t.TempDir()})
	require.NoError(t, err)
	defer m2.Close()
	_, err = (&Resolver{Image: m2.Image(), Files: ViewFiles(m2.Kernel().FS())}).Resolve(lib + ":mapped_work")
	assert.EqualError(t, err, fmt.Sprintf("probe %q: %s: no such file in the guest's view", lib+":mapped_work", lib))
}

// TestProgramProbeFollowsItsFile: a probe on the program's own symbol is
// a probe on the program's file, as Linux's uprobe on its inode is: run
// from its host path (the loader's mapping identified in the view),
// mapexec maps itself (/proc/self/exe) and the probe counts the calls
// through those mappings with the calls from its text: 500 + 3,000, what
// real Linux counts (perf probe -x mapexec mapped_work, perf stat -e);
// the address reported stays the program's.
func TestProgramProbeFollowsItsFile(t *testing.T) {
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		prog, err := fixtures.Path(arch, "mapexec")
		require.NoError(t, err)
		for _, s := range []Strategy{Inline, XOL} {
			run := runFileProbes(t, prog, nil, 4, s, "mapped_work")
			res := run.results[0]
			assert.Equal(t, uint64(3500), res.Executions, "%s %s", arch, s)
			assert.Equal(t, res.Executions, res.Hits+res.Misses)
			assert.Equal(t, uint64(3), res.Mappings)
			assert.Equal(t, elfSymbol(t, prog, "mapped_work"), res.Address)
		}
		run := runFileProbes(t, prog, nil, 2, XOL, "mapped_work", "mapped_work%return")
		for _, res := range run.results {
			assert.Equal(t, uint64(3500), res.Executions, "%s %s: the entry and the return probe share each mapping's breakpoint", arch, res.Spec)
			assert.Equal(t, res.Executions, res.Hits)
		}
	}
}
