package probesim_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/fixtures"
)

// runFilemap runs the filemap fixture under probesim with its files in a
// fresh directory of the view (read-only on the host: the guest's files
// go to the overlay, and the test checks the host directory stays empty).
func runFilemap(t *testing.T, arch string, ram uint64, args ...string) (string, *probesim.Result) {
	t.Helper()
	path, err := fixtures.Path(arch, "filemap")
	require.NoError(t, err)
	img, err := os.ReadFile(path)
	require.NoError(t, err)
	dir := t.TempDir()
	var out bytes.Buffer
	res, err := probesim.Run(t.Context(), probesim.Config{Program: "/filemap", Image: img,
		Args: append([]string{args[0], dir}, args[1:]...), Stdout: &out, RAM: ram})
	require.NoError(t, err)
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, left, "the host is not written")
	return out.String(), res
}

// TestFileMappingsMatchLinux: MAP_PRIVATE copy on write, MAP_SHARED
// stores seen by read(2), pwrite seen by the mappings whose page is not
// yet their own, msync and the refusals, as the same binary sees them
// natively.
func TestFileMappingsMatchLinux(t *testing.T) {
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		t.Run(arch, func(t *testing.T) {
			path, err := fixtures.Path(arch, "filemap")
			require.NoError(t, err)
			native, stderr, status, err := fixtures.RunNative(path, []string{"cow", t.TempDir()}, nil, nil)
			require.NoError(t, err)
			require.Equal(t, 0, status, "native stderr %q", stderr)
			got, res := runFilemap(t, arch, 0, "cow")
			assert.Equal(t, 0, res.Report.ExitStatus)
			assert.Equal(t, string(native), got)
		})
	}
}

// TestMappingsOfOneFileShareMemory: sixteen private mappings of one 4 MiB
// file, every byte read, fit a machine of 16 MiB, because they map the
// page cache's pages (64 MiB of copies would not fit: the guest would be
// killed as out of memory); VmRSS still counts each mapping's pages, as
// Linux does, and the sums are native's.
func TestMappingsOfOneFileShareMemory(t *testing.T) {
	path, err := fixtures.Path(fixtures.ArchAMD64, "filemap")
	require.NoError(t, err)
	native, stderr, status, err := fixtures.RunNative(path, []string{"share", t.TempDir(), "4", "16"}, nil, nil)
	require.NoError(t, err)
	require.Equal(t, 0, status, "native stderr %q", stderr)
	got, res := runFilemap(t, fixtures.ArchAMD64, 16<<20, "share", "4", "16")
	require.Equal(t, 0, res.Report.ExitStatus, "stop %q fault %v", res.Report.StopReason, res.Report.Fault)
	assert.Equal(t, string(native), got)
	assert.Contains(t, got, "VmRSS grew by K*MIB MiB: yes")
}
