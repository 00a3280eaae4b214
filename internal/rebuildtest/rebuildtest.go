// Package rebuildtest checks, in tests, that an embedded binary is its
// committed source rebuilt: the demo's workload and calibrate's helper are
// built with musl-gcc -static -O2, which is reproducible (no -g, no build
// path inside), so the bytes cannot drift from the source.
package rebuildtest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// MuslStatic rebuilds src with musl-gcc -static -O2 and requires the
// result to equal embedded; regenerate is the command that rebuilds it,
// named in the failure.
func MuslStatic(t *testing.T, src string, embedded []byte, regenerate string) {
	t.Helper()
	cc, err := exec.LookPath("musl-gcc")
	require.NoError(t, err, "musl-gcc rebuilds the embedded binary: `make deps` installs it (Debian package musl-tools)")
	out := filepath.Join(t.TempDir(), "rebuilt.elf")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	msg, err := exec.CommandContext(ctx, cc, "-static", "-O2", "-o", out, src).CombinedOutput()
	require.NoError(t, err, "musl-gcc: %s", msg)
	rebuilt, err := os.ReadFile(out)
	require.NoError(t, err)
	require.True(t, bytes.Equal(rebuilt, embedded),
		"the embedded binary is not %s built with musl-gcc -static -O2 (%d bytes rebuilt, %d embedded): run `%s` and commit it",
		src, len(rebuilt), len(embedded), regenerate)
}
