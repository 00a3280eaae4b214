package mmu

import (
	"bytes"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memFile is a File over a byte slice that counts its reads.
type memFile struct {
	data  []byte
	reads int
}

func (f *memFile) ReadAt(p []byte, off int64) int {
	f.reads++
	if off >= int64(len(f.data)) {
		return 0
	}
	return copy(p, f.data[off:])
}

// TestFileMappingPopulatesFromTheFile: the pages of a private file
// mapping hold the file's bytes at their offset from the first touch on
// (zeros past the end of the file), each page is read once, a write is the
// mapping's own, and MADV_DONTNEED brings the file's bytes back.
func TestFileMappingPopulatesFromTheFile(t *testing.T) {
	as, _ := newSpace(t, Config{TaskSize: TaskSize64})
	content := bytes.Repeat([]byte("0123456789abcdef"), 3*pg/16+8) // 3 pages and 128 bytes
	f := &memFile{data: content}
	addr, e := as.MmapFile(0, 4*pg, rw, MapPrivate, f, pg, "/data/file", false)
	require.Zero(t, e)
	assert.Zero(t, f.reads, "nothing read before a touch")

	got := make([]byte, 2*pg)
	require.NoError(t, as.Read(addr+pg, got))
	assert.Equal(t, content[2*pg:], got[:len(content)-2*pg], "the file at offset 2 pages")
	assert.Equal(t, make([]byte, 2*pg-(len(content)-2*pg)), got[len(content)-2*pg:], "zeros past the end")
	assert.Equal(t, 2, f.reads, "one read per page touched")
	require.NoError(t, as.Read(addr+pg, got))
	assert.Equal(t, 2, f.reads, "touched pages are not read again")

	require.NoError(t, as.Write(addr, []byte("XY")))
	one := make([]byte, 4)
	require.NoError(t, as.Read(addr, one))
	assert.Equal(t, "XY23", string(one), "the page was read from the file, then written")
	assert.Equal(t, byte('0'), content[pg], "the file is not written")

	require.Zero(t, as.Madvise(addr, pg, MadvDontNeed))
	require.NoError(t, as.Read(addr, one))
	assert.Equal(t, "0123", string(one), "DONTNEED drops the private copy")

	v, ok := as.FindVMA(addr)
	require.True(t, ok)
	assert.Equal(t, uint64(pg), v.Offset)
	assert.Equal(t, "/data/file", v.Name)
	assert.Contains(t, as.MapsText(), "/data/file")

	_, e = as.MmapFile(0, pg, rw, MapPrivate, f, 123, "x", false)
	assert.Equal(t, syscall.EINVAL, e, "unaligned offset")
	// Two mappings of the same file at consecutive offsets merge; of
	// different files they do not.
	a2, e := as.MmapFile(addr+4*pg, pg, rw, MapPrivate|MapFixed, f, 5*pg, "/data/file", false)
	require.Zero(t, e)
	v, _ = as.FindVMA(a2)
	assert.Equal(t, addr, v.Start, "merged with the mapping below")
	g := &memFile{data: content}
	a3, e := as.MmapFile(a2+pg, pg, rw, MapPrivate|MapFixed, g, 6*pg, "/data/file", false)
	require.Zero(t, e)
	v, _ = as.FindVMA(a3)
	assert.Equal(t, a3, v.Start, "another file does not merge")
}
