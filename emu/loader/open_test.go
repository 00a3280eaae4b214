package loader

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
)

// loadWithin is Load under a watchdog: Load must refuse a FIFO at once,
// not block in open(2) waiting for a writer.
func loadWithin(t *testing.T, path string) (*Image, error) {
	t.Helper()
	type result struct {
		im  *Image
		err error
	}
	done := make(chan result, 1)
	go func() {
		im, err := Load(path)
		done <- result{im, err}
	}()
	select {
	case r := <-done:
		return r.im, r.err
	case <-time.After(time.Minute):
		t.Fatalf("Load(%s) blocked", path)
		return nil, nil
	}
}

// TestLoadRefusesNonRegularFiles: Load stats the program first and refuses
// anything execve refuses with EACCES, in one line, before reading a byte.
// Before, /dev/zero was read up to the size limit and a FIFO blocked Load
// forever.
func TestLoadRefusesNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	files, closeFiles, err := fixtures.NotPrograms(dir)
	require.NoError(t, err)
	defer closeFiles()
	for _, c := range files {
		im, err := loadWithin(t, c.Path)
		require.Nil(t, im)
		le := requireKind(t, err, Unreadable, c.Path+": not a regular file ("+c.What+"): only regular files can be run")
		assert.ErrorIs(t, le, fs.ErrPermission, "execve's EACCES")
	}
	// A symbolic link to a program is followed, as execve follows it.
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(buildProg(t, "tiny64"), link))
	im, err := Load(link)
	require.NoError(t, err)
	require.NoError(t, im.Close())
}

// TestLoadReadsOnlyTheLoadPlan: a program followed by gigabytes it never
// maps loads (Linux runs it), because Load reads headers and segments
// only. Before, Load read whole files and refused ones over 1 GiB.
func TestLoadReadsOnlyTheLoadPlan(t *testing.T) {
	data := readProg(t, "tiny64")
	path := filepath.Join(t.TempDir(), "big")
	require.NoError(t, os.WriteFile(path, data, 0o755))
	require.NoError(t, os.Truncate(path, 4<<30)) // sparse: no disk space
	im, err := Load(path)
	require.NoError(t, err)
	defer im.Close()
	checkInvariants(t, im)
	_, ok := im.Lookup("_start")
	assert.True(t, ok, "the section headers are still where they were")
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.ReaderAt
	n int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n += int64(n)
	return n, err
}

// TestParseReadsBounded: parse reads the ELF header, the program header
// table and each segment's file bytes once, nothing else (no section
// headers, no padding), until Symbols asks for the symbols.
func TestParseReadsBounded(t *testing.T) {
	for _, v := range []string{"tiny64", "tiny32", "x64", "i386", "musl"} {
		data := readProg(t, v)
		r := &countingReader{r: bytes.NewReader(data)}
		im, err := parse("p", r, int64(len(data)), false)
		require.NoError(t, err, v)
		want := int64(ehdr64Size + im.Phnum*im.Phent)
		for _, s := range im.Segments {
			want += int64(s.Filesz)
		}
		if im.TLS != nil {
			want += int64(im.TLS.Filesz)
		}
		assert.Equal(t, want, r.n, v)
		assert.Less(t, r.n, int64(len(data)), v)
	}
}
