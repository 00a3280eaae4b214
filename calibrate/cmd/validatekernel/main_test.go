package main

import (
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each missing prerequisite is one line, found before anything runs.
func TestPreflight(t *testing.T) {
	dir := t.TempDir()
	pmu := filepath.Join(dir, "type")
	require.NoError(t, os.WriteFile(pmu, []byte("8\n"), 0o644))
	perf := func(string) (string, error) { return "/usr/bin/perf", nil }
	noPerf := func(string) (string, error) { return "", errors.New("not found") }
	assert.Equal(t, "needs root: perf probe writes the kernel's uprobe_events", preflight(1000, perf, pmu))
	assert.Equal(t, "no perf on PATH (Debian: apt-get install linux-perf)", preflight(0, noPerf, pmu))
	none := filepath.Join(dir, "none")
	assert.Equal(t, "no uprobe PMU ("+none+" does not exist): the kernel lacks CONFIG_UPROBE_EVENTS", preflight(0, perf, none))
	assert.Equal(t, "", preflight(0, perf, pmu))
}

func TestUsage(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, 2, run(nil, &out, &errb))
	assert.Equal(t, "validatekernel: usage: validatekernel -host FILE -ptrace FILE [-plot FILE] [-repeat N] [-seeds N]\n", errb.String())
	errb.Reset()
	assert.Equal(t, 2, run([]string{"-nosuchflag"}, &out, &errb))
	assert.Contains(t, errb.String(), "flag provided but not defined: -nosuchflag")
}

func TestParseStatCount(t *testing.T) {
	text := "# started on Tue Dec  1 10:00:00 2026\n\n4000,,probesim_vk1:c0,1234567,100.00,,\n"
	n, err := parseStatCount(text, "probesim_vk1:c0")
	require.NoError(t, err)
	assert.Equal(t, uint64(4000), n)
	_, err = parseStatCount(text, "probesim_vk1:c1")
	assert.EqualError(t, err, `perf stat: no count for probesim_vk1:c1 in "# started on Tue Dec  1 10:00:00 2026"`)
	_, err = parseStatCount("<not counted>,,e,0,0,,\n", "e")
	assert.EqualError(t, err, `perf stat: e counted "<not counted>"`)
}

func TestWorkLabel(t *testing.T) {
	for w, want := range map[int]string{0: "0", 1000: "1k", 300000: "300k", 1000000: "1M", 1500: "1500"} {
		assert.Equal(t, want, workLabel(w))
	}
}

func TestMedian(t *testing.T) {
	assert.Equal(t, 2.0, median([]float64{3, 1, 2}))
	assert.Equal(t, 2.5, median([]float64{4, 1, 2, 3}))
	assert.Equal(t, 0.0, median(nil))
}

// fileOffset finds the function's first bytes in the file: the bytes there
// are the ones the ELF section holding the symbol has at its address.
func TestFileOffset(t *testing.T) {
	bin := filepath.Join("..", "..", "..", "fixtures", "bin", "x86_64", "qsort")
	off, err := fileOffset(bin, "compare_ints")
	require.NoError(t, err, "make fixtures builds the fixture")
	f, err := elf.Open(bin)
	require.NoError(t, err)
	defer f.Close()
	syms, err := f.Symbols()
	require.NoError(t, err)
	var addr uint64
	for _, s := range syms {
		if s.Name == "compare_ints" {
			addr = s.Value
		}
	}
	text := f.Section(".text")
	data, err := text.Data()
	require.NoError(t, err)
	want := data[addr-text.Addr : addr-text.Addr+8]
	raw, err := os.ReadFile(bin)
	require.NoError(t, err)
	assert.Equal(t, want, raw[off:off+8])
	_, err = fileOffset(bin, "no_such_function")
	assert.ErrorContains(t, err, "no function symbol no_such_function")
}
