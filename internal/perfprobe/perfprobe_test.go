package perfprobe

import (
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
)

// Each missing prerequisite is one line, found before anything runs.
func TestPreflight(t *testing.T) {
	dir := t.TempDir()
	pmu := filepath.Join(dir, "type")
	require.NoError(t, os.WriteFile(pmu, []byte("8\n"), 0o644))
	perf := func(string) (string, error) { return "/usr/bin/perf", nil }
	noPerf := func(string) (string, error) { return "", errors.New("not found") }
	assert.Equal(t, "needs root: perf probe writes the kernel's uprobe_events", Preflight(1000, perf, pmu))
	assert.Equal(t, "no perf on PATH (Debian: apt-get install linux-perf)", Preflight(0, noPerf, pmu))
	none := filepath.Join(dir, "none")
	assert.Equal(t, "no uprobe PMU ("+none+" does not exist): the kernel lacks CONFIG_UPROBE_EVENTS", Preflight(0, perf, none))
	assert.Equal(t, "", Preflight(0, perf, pmu))
}

func TestParseStatCount(t *testing.T) {
	text := "# started on Tue Dec  1 10:00:00 2026\n\n4000,,probesim_vk1:c0,1234567,100.00,,\n"
	n, err := ParseStatCount(text, "probesim_vk1:c0")
	require.NoError(t, err)
	assert.Equal(t, uint64(4000), n)
	_, err = ParseStatCount(text, "probesim_vk1:c1")
	assert.EqualError(t, err, `perf stat: no count for probesim_vk1:c1 in "# started on Tue Dec  1 10:00:00 2026"`)
	_, err = ParseStatCount("<not counted>,,e,0,0,,\n", "e")
	assert.EqualError(t, err, `perf stat: e counted "<not counted>"`)
}

// symbolBytes reads n bytes at sym+off through the section holding it, the
// way a debugger would, to check Locate's file offset independently.
func symbolBytes(t *testing.T, path, sym string, off uint64, n int) []byte {
	f, err := elf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	syms, err := f.Symbols()
	if errors.Is(err, elf.ErrNoSymbols) {
		syms, err = f.DynamicSymbols()
	}
	require.NoError(t, err)
	for _, s := range syms {
		if s.Name == sym && s.Value != 0 {
			sec := f.Sections[s.Section]
			data, err := sec.Data()
			require.NoError(t, err)
			at := s.Value + off - sec.Addr
			return data[at : at+uint64(n)]
		}
	}
	t.Fatalf("%s: no %s", path, sym)
	return nil
}

// Locate's file offset holds the symbol's bytes, in static ET_EXEC
// fixtures, a PIE, and a stripped shared library (the host's glibc, which
// has only .dynsym), both classes.
func TestLocateFindsTheBytes(t *testing.T) {
	path := func(arch, name string) string {
		p, err := fixtures.Path(arch, name)
		require.NoError(t, err, "make fixtures builds it")
		return p
	}
	cases := []struct {
		path, sym string
		off       uint64
		bits      int
	}{
		{path(fixtures.ArchAMD64, "qsort"), "compare_ints", 0, 64},
		{path(fixtures.ArchAMD64, "threads"), "probed", 3, 64},
		{path(fixtures.ArchI386, "threads"), "probed", 0, 32},
		{path(fixtures.ArchAMD64, "mallocthreads_dyn"), "fill_block", 0, 64},
		{path(fixtures.ArchI386, "mallocthreads_dyn"), "fill_block", 1, 32},
		// Debian's libc6 and libc6-i386 (gcc-multilib), stripped.
		{"/lib/x86_64-linux-gnu/libc.so.6", "malloc", 0, 64},
		{"/lib32/libc.so.6", "free", 0, 32},
	}
	for _, c := range cases {
		p, err := Locate(c.path, c.sym, c.off)
		require.NoError(t, err, c.path)
		assert.Equal(t, c.bits, p.Bits, c.path)
		assert.NotZero(t, p.Size, c.path)
		raw, err := os.ReadFile(c.path)
		require.NoError(t, err)
		assert.Equal(t, symbolBytes(t, c.path, c.sym, c.off, 8), raw[p.FileOffset:p.FileOffset+8], "%s:%s+%d", c.path, c.sym, c.off)
	}
}

func TestLocateErrors(t *testing.T) {
	qsort, err := fixtures.Path(fixtures.ArchAMD64, "qsort")
	require.NoError(t, err)
	_, err = Locate(qsort, "no_such_function", 0)
	assert.EqualError(t, err, qsort+": no function symbol no_such_function")
	_, err = Locate(qsort, "compare_ints", 1<<20)
	assert.ErrorContains(t, err, "compare_ints+0x100000 is past the function's end")
	// An IFUNC: glibc picks memcpy's implementation at load time.
	_, err = Locate("/lib/x86_64-linux-gnu/libc.so.6", "memcpy", 0)
	assert.EqualError(t, err, "/lib/x86_64-linux-gnu/libc.so.6: memcpy is an IFUNC (its address is the resolver's): probe the implementation it selects")
	// A static program stripped (binutils' strip) has no symbols at all.
	dir := t.TempDir()
	stripped := filepath.Join(dir, "stripped")
	out, err := exec.Command("strip", "-o", stripped, qsort).CombinedOutput()
	require.NoError(t, err, "%s", out)
	_, err = Locate(stripped, "compare_ints", 0)
	assert.EqualError(t, err, stripped+": no symbol table (stripped): cannot find compare_ints")
	_, err = Locate(filepath.Join(dir, "absent"), "f", 0)
	assert.Error(t, err)
	notELF := filepath.Join(dir, "text")
	require.NoError(t, os.WriteFile(notELF, []byte("not an ELF file\n"), 0o644))
	_, err = Locate(notELF, "f", 0)
	assert.ErrorContains(t, err, "bad magic number")
}
