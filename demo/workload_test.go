package demo

import (
	"bytes"
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The embedded workload is fixtures/src/c/threads.c built by the
// go:generate line of workload.go: rebuilding it gives the same bytes, so
// the binary cannot drift from its source.
func TestWorkloadReproducible(t *testing.T) {
	cc, err := exec.LookPath("musl-gcc")
	require.NoError(t, err, "musl-gcc rebuilds the embedded workload: `make deps` installs it (Debian package musl-tools)")
	out := filepath.Join(t.TempDir(), "threads-x86_64.elf")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cc, "-static", "-O2", "-o", out, "../fixtures/src/c/threads.c")
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "musl-gcc: %s", msg)
	rebuilt, err := os.ReadFile(out)
	require.NoError(t, err)
	require.True(t, bytes.Equal(rebuilt, workloadELF),
		"demo/workload/threads-x86_64.elf is not fixtures/src/c/threads.c built with musl-gcc -static -O2 "+
			"(%d bytes rebuilt, %d embedded): run `go generate ./demo/` (or `make demo-workload`) and commit it",
		len(rebuilt), len(workloadELF))
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

func TestMaterialize(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	p1, clean1, err := DefaultWorkload.Materialize()
	require.NoError(t, err)
	p2, clean2, err := DefaultWorkload.Materialize()
	require.NoError(t, err)
	require.NotEqual(t, p1, p2)
	// The guest sees the path: its length is always the same.
	require.Len(t, p1, materializedPathLen)
	require.Len(t, p2, materializedPathLen)
	require.Equal(t, "threads", filepath.Base(p1))
	st, err := os.Stat(p1)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o755), st.Mode().Perm())
	got, err := os.ReadFile(p1)
	require.NoError(t, err)
	require.Equal(t, workloadELF, got)
	dir, err := os.Stat(filepath.Dir(p1))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), dir.Mode().Perm())
	clean1()
	clean2()
	_, err = os.Stat(filepath.Dir(p1))
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = os.Stat(filepath.Dir(p2))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestMaterializeUnwritable(t *testing.T) {
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	_, _, err := DefaultWorkload.Materialize()
	require.ErrorContains(t, err, "demo: temporary directory for the workload: ")
}
