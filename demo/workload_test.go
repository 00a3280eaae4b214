package demo

import (
	"bytes"
	"debug/elf"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/internal/rebuildtest"
)

// The embedded workload is fixtures/src/c/threads.c built by the
// go:generate line of workload.go: rebuilding it gives the same bytes, so
// the binary cannot drift from its source.
func TestWorkloadReproducible(t *testing.T) {
	rebuildtest.MuslStatic(t, "../fixtures/src/c/threads.c", workloadELF, "go generate ./demo/` (or `make demo-workload")
}

// The workload is a static x86-64 executable whose symbol table has the
// probe's symbol.
func TestWorkloadELF(t *testing.T) {
	f, err := elf.NewFile(bytes.NewReader(ELF()))
	require.NoError(t, err)
	require.Equal(t, elf.EM_X86_64, f.Machine)
	require.Equal(t, elf.ET_EXEC, f.Type)
	for _, p := range f.Progs {
		require.NotEqual(t, elf.PT_INTERP, p.Type, "the workload must be static")
	}
	syms, err := f.Symbols()
	require.NoError(t, err)
	found := false
	for _, s := range syms {
		if s.Name == DefaultWorkload.Probe && elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			found = true
		}
	}
	require.True(t, found, "no function symbol %q in the workload", DefaultWorkload.Probe)
	// ELF returns a copy.
	b := ELF()
	b[0] = 0
	require.Equal(t, byte(0x7f), workloadELF[0])
}

// TestRunReadsNoFile: the demo runs the embedded bytes under a fixed guest
// path, so its output is the same in any directory and with any TMPDIR.
func TestRunReadsNoFile(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("TMPDIR", "/nonexistent")
	d, err := Run(DefaultWorkload)
	require.NoError(t, err)
	require.Len(t, d.Trials, 4)
	require.Equal(t, "threads", d.Trials[0].Report.Program)
}
