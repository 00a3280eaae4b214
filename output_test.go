package probesim_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/report"
)

// TestGigabyteOfStdoutIsStreamed: a guest writing 1 GiB to stdout costs
// the host a bounded amount of memory (the report keeps 2*OutputKeep
// bytes of it), and the report gives its size, sha256, head and tail.
func TestGigabyteOfStdoutIsStreamed(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bigwrite")
	out, err := exec.Command("gcc", "-static", "-O2", "-o", bin, "testdata/bigwrite.c").CombinedOutput()
	require.NoError(t, err, "%s", out)
	img, err := os.ReadFile(bin)
	require.NoError(t, err)

	// What the guest writes, MiB after MiB.
	mib := make([]byte, 1<<20)
	for i := range mib {
		mib[i] = byte('a' + i%26)
	}
	const n = 1024
	sum := sha256.New()
	for i := 0; i < n; i++ {
		sum.Write(mib)
	}

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res, err := probesim.Run(t.Context(), probesim.Config{Program: "/probesim/bigwrite", Image: img, Args: []string{"1024"}})
	require.NoError(t, err)
	runtime.ReadMemStats(&after)
	rep := res.Report
	require.Equal(t, 0, rep.ExitStatus, "stderr %q", rep.Stderr)
	tr := rep.StdoutTruncated
	require.NotNil(t, tr)
	assert.Equal(t, uint64(n<<20), tr.Bytes)
	assert.Equal(t, hex.EncodeToString(sum.Sum(nil)), tr.SHA256)
	assert.Equal(t, string(mib[:report.OutputKeep]), rep.Stdout)
	assert.Equal(t, string(mib[len(mib)-report.OutputKeep:]), tr.Tail)
	assert.Equal(t, uint64(n<<20-2*report.OutputKeep), tr.Omitted)
	assert.False(t, strings.Contains(rep.Stdout, "\x00"))
	// The heap the run took from the OS: the guest's 1 MiB buffer, the
	// engine's translations and the capture, nowhere near the gigabyte.
	grew := int64(after.HeapSys) - int64(before.HeapSys)
	t.Logf("heap grew by %d MiB for 1 GiB of output", grew>>20)
	assert.Less(t, grew, int64(128<<20))
}
