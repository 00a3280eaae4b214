package probes

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
)

// buildDynamic compiles testdata/dynmalloc.c with gcc as a dynamically
// linked program (gcc-multilib for i386: make deps).
func buildDynamic(t *testing.T, arch string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "dynmalloc")
	flag := "-m64"
	if arch == fixtures.ArchI386 {
		flag = "-m32"
	}
	msg, err := exec.Command("gcc", flag, "-O2", "-pthread", "-o", out, filepath.Join("testdata", "dynmalloc.c")).CombinedOutput()
	require.NoError(t, err, "%s", msg)
	return out
}

// TestLibraryProbeOnMalloc: probes on libc's malloc and free in a
// dynamically linked multi-threaded program, libc mapped by ld.so from the
// guest's view: hits + misses = executions for every strategy on 1 and 4
// vCPUs, the same executions everywhere, and the program's own calls are
// all in them (executions grow by exactly the calls added). Real Linux
// counts the same: 801 mallocs and 824 frees for 4 threads x 200 on Debian
// 12, both arches (perf probe -x libc.so.6 malloc, perf stat -e). Inline
// misses on 4 vCPUs, the others never.
func TestLibraryProbeOnMalloc(t *testing.T) {
	for _, lc := range libcs {
		t.Run(lc.arch, func(t *testing.T) {
			prog := buildDynamic(t, lc.arch)
			specs := []string{lc.path + ":malloc", "uprobe:" + lc.path + ":free"}
			var base []uint64
			for _, s := range Strategies {
				for _, cpus := range []int{1, 4} {
					run := runFileProbes(t, prog, []string{"4", "200"}, cpus, s, specs...)
					assert.Equal(t, "mallocs=800\n", run.stdout)
					var got []uint64
					for _, res := range run.results {
						assert.Equal(t, res.Executions, res.Hits+res.Misses, "%s %s %d", res.Spec, s, cpus)
						assert.NotZero(t, res.Mappings, res.Spec)
						if s != Inline {
							assert.Zero(t, res.Misses, "%s %s %d", res.Spec, s, cpus)
						} else if cpus > 1 {
							assert.NotZero(t, res.Misses, "%s %s %d", res.Spec, s, cpus)
						}
						got = append(got, res.Executions)
					}
					if base == nil {
						base = got
					}
					assert.Equal(t, base, got, "%s on %d vCPUs: the same executions", s, cpus)
				}
			}
			assert.Equal(t, []uint64{801, 824}, base, "what real Linux counts")
			more := runFileProbes(t, prog, []string{"4", "300"}, 2, XOL, specs...)
			for i, res := range more.results {
				assert.Equal(t, base[i]+400, res.Executions, fmt.Sprintf("%s: 400 more calls", res.Spec))
			}
		})
	}
}

// TestLibraryProbeOnIFUNC: strlen is a GNU IFUNC, so a probe on it is on
// its resolver, which ld.so runs once (with perf's warning as the note),
// and the calls go to the implementation it chose for the CPU, found in
// libc6-dbg's build-id debug file: __strlen_sse2 on the emulated CPU
// (no AVX). Debian's /bin/echo with an empty environment calls it 53
// times, what real Linux counts on this host's choice (__strlen_evex;
// perf probe -x libc.so.6 __strlen_evex, env -i perf stat -e).
func TestLibraryProbeOnIFUNC(t *testing.T) {
	libc := libcs[0].path
	run := runFileProbes(t, "/bin/echo", []string{"hello"}, 1, XOL, libc+":strlen", libc+":__strlen_sse2", libc+":__strlen_avx2")
	assert.Equal(t, "hello\n", run.stdout)
	res := run.results
	assert.Equal(t, uint64(1), res[0].Executions, "the resolver runs once, at relocation")
	assert.Equal(t, uint64(53), res[1].Executions, "the implementation chosen")
	assert.Zero(t, res[2].Executions, "not chosen without AVX2")
	for _, r := range res {
		assert.Equal(t, r.Executions, r.Hits)
	}
}
