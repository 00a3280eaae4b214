package mmu

import (
	"bytes"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rwFile is a WritableFile over a byte slice.
type rwFile struct {
	memFile
	writes int
}

func (f *rwFile) WriteAt(p []byte, off int64) int {
	f.writes++
	return copy(f.data[off:], p)
}

func (f *rwFile) Size() int64 { return int64(len(f.data)) }

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/PageSize)
	}
	return b
}

// TestPrivateMappingsShareTheCacheUntilWritten: two private mappings of
// one file translate to the same physical pages, read once from the file
// and counted once as resident; a store through one copies its page
// (only that page, only that mapping), and the other still sees the file.
func TestPrivateMappingsShareTheCacheUntilWritten(t *testing.T) {
	as, fb := newSpace(t, Config{TaskSize: TaskSize64})
	f := &memFile{data: pattern(4 * pg)}
	a, e := as.MmapFile(0, 4*pg, rw, MapPrivate, f, 0, "/f", false)
	require.Zero(t, e)
	b, e := as.MmapFile(0, 4*pg, ro, MapPrivate, f, 0, "/f", false)
	require.Zero(t, e)
	for off := uint64(0); off < 4*pg; off += pg {
		pa, err := fb.touch(a+off, false)
		require.NoError(t, err)
		pb, err := fb.touch(b+off, false)
		require.NoError(t, err)
		assert.Equal(t, pa.phys, pb.phys, "page %d is one physical page", off/pg)
		assert.Equal(t, ro, pa.prot, "a private file page is read-only until written")
	}
	assert.Equal(t, 4, f.reads, "each file page read once")
	st := as.Stats()
	assert.Equal(t, uint64(4), st.ResidentPages, "shared pages count once")
	assert.Equal(t, uint64(8), st.RSSPages, "Linux's RSS counts each mapping's pages")
	assert.Equal(t, uint64(8), st.FilePTEs)
	assert.Equal(t, uint64(4), as.Phys().UsedPages())
	requireInvariants(t, as, fb)

	require.NoError(t, fb.store(a+pg+10, []byte("COW")))
	requireInvariants(t, as, fb)
	got, err := fb.peek(a+pg+8, 6)
	require.NoError(t, err)
	assert.Equal(t, append(f.data[pg+8:pg+10:pg+10], "COW"...), got[:5])
	other, err := fb.peek(b+pg+10, 3)
	require.NoError(t, err)
	assert.Equal(t, f.data[pg+10:pg+13], other, "the other mapping still sees the file")
	pa, _ := fb.touch(a+pg, false)
	pb, _ := fb.touch(b+pg, false)
	assert.NotEqual(t, pa.phys, pb.phys, "the written page is the mapping's own")
	assert.Equal(t, rw, pa.prot)
	pa0, _ := fb.touch(a, false)
	pb0, _ := fb.touch(b, false)
	assert.Equal(t, pa0.phys, pb0.phys, "the other pages stay shared")
	assert.Equal(t, uint64(5), as.Stats().ResidentPages)
	assert.Equal(t, uint64(1), as.Stats().COWBreaks)

	// A write to a read-only private mapping is a protection fault, not
	// a copy.
	assert.Error(t, fb.store(b, []byte{1}))

	// A host-side write (a uprobe's int3) copies too.
	require.NoError(t, as.WriteForce(b+2*pg, []byte{0xcc}))
	requireInvariants(t, as, fb)
	pb2, _ := fb.touch(b+2*pg, false)
	pa2, _ := fb.touch(a+2*pg, false)
	assert.NotEqual(t, pa2.phys, pb2.phys)
	x, _ := fb.peek(a+2*pg, 1)
	assert.Equal(t, f.data[2*pg], x[0], "the file's page is untouched")

	require.Zero(t, as.Munmap(a, 4*pg))
	require.Zero(t, as.Munmap(b, 4*pg))
	assert.Zero(t, as.Stats().ResidentPages)
	assert.Zero(t, as.PageCache().Stats().Pages, "the last unmap frees the cache pages")
	assert.Zero(t, as.Phys().UsedPages())
}

// TestFileWritesReachUnbrokenPages: write(2) (PageCache.WriteAt) changes
// what a shared mapping and a private page not yet written see, not a
// private page already copied (as on Linux); executable pages that see
// the change drop their translated code.
func TestFileWritesReachUnbrokenPages(t *testing.T) {
	as, fb := newSpace(t, Config{TaskSize: TaskSize64})
	f := &rwFile{memFile: memFile{data: pattern(2 * pg)}}
	priv, e := as.MmapFile(0, 2*pg, rwx, MapPrivate, f, 0, "/f", true)
	require.Zero(t, e)
	shared, e := as.MmapFile(0, 2*pg, ro, MapShared, f, 0, "/f", true)
	require.Zero(t, e)
	_, _ = fb.touch(priv, false)
	_, _ = fb.touch(priv+pg, false)
	_, _ = fb.touch(shared, false)
	require.NoError(t, fb.store(priv+pg, []byte{0}))
	fb.takeCalls()

	data := []byte("new bytes")
	copy(f.data[100:], data)
	changed := as.PageCache().WriteAt(f, data, 100)
	copy(f.data[pg+100:], data)
	changed = append(changed, as.PageCache().WriteAt(f, data, pg+100)...)
	assert.Equal(t, []uint64{0}, changed, "page 1 left the cache when its only mapping copied it")
	as.FileChanged(f, changed)
	got, _ := fb.peek(priv+100, len(data))
	assert.Equal(t, data, got, "an unwritten private page sees write(2)")
	got, _ = fb.peek(shared+100, len(data))
	assert.Equal(t, data, got, "a shared page sees write(2)")
	got, _ = fb.peek(priv+pg+100, len(data))
	assert.NotEqual(t, data, got, "a copied page does not")
	var inv []uint64
	for _, c := range invalidations(fb.takeCalls()) {
		inv = append(inv, c.Addr)
	}
	assert.Equal(t, []uint64{priv}, inv, "the executable page sharing the change drops its code")
	requireInvariants(t, as, fb)
}

// TestSharedWritableMapping: a store through a MAP_SHARED mapping is seen
// by the file's readers through the cache at once and by another mapping,
// reaches the file at msync and at the last unmap, and only where bytes
// changed; a shared mapping of a file not open for writing cannot be made
// writable.
func TestSharedWritableMapping(t *testing.T) {
	as, fb := newSpace(t, Config{TaskSize: TaskSize64})
	orig := pattern(2*pg - 100)
	f := &rwFile{memFile: memFile{data: bytes.Clone(orig)}}
	a, e := as.MmapFile(0, 2*pg, rw, MapShared, f, 0, "/f", true)
	require.Zero(t, e)
	b, e := as.MmapFile(0, 2*pg, ro, MapShared, f, 0, "/f", true)
	require.Zero(t, e)
	require.NoError(t, fb.store(a+pg+5, []byte("shared")))
	got, _ := fb.peek(b+pg+5, 6)
	assert.Equal(t, "shared", string(got), "the other mapping sees the store")
	buf := bytes.Clone(f.data)
	as.PageCache().ReadAt(f, buf, 0)
	assert.Equal(t, "shared", string(buf[pg+5:pg+11]), "read(2) through the cache sees it")
	assert.Equal(t, orig, f.data, "not written back yet")

	assert.Equal(t, syscall.EINVAL, as.Msync(a, pg, 1|4))
	assert.Equal(t, syscall.EINVAL, as.Msync(a+1, pg, 4))
	require.Zero(t, as.Msync(a, 2*pg, 4))
	assert.Equal(t, "shared", string(f.data[pg+5:pg+11]))
	assert.Equal(t, 1, f.writes, "the clean page and the bytes past EOF are not written")
	require.Zero(t, as.Msync(a, 2*pg, 4))
	assert.Equal(t, 1, f.writes, "nothing dirty any more")

	_, _ = fb.touch(b, false)
	require.NoError(t, as.Write(a+7, []byte("host")))
	require.Zero(t, as.Munmap(a, 2*pg))
	assert.Equal(t, 1, f.writes, "b still maps the page")
	require.Zero(t, as.Munmap(b, 2*pg))
	assert.Equal(t, "host", string(f.data[7:11]), "the last unmap writes back")
	assert.Equal(t, syscall.ENOMEM, as.Msync(a, pg, 4), "unmapped")

	ro1, e := as.MmapFile(0, pg, ro, MapShared, f, 0, "/f", false)
	require.Zero(t, e)
	assert.Equal(t, syscall.EACCES, as.Mprotect(ro1, pg, rw), "no VM_MAYWRITE")
	_, e = as.MmapFile(0, pg, rw, MapShared, f, 0, "/f", false)
	assert.Equal(t, syscall.EACCES, e)
	_, e = as.MmapFile(0, pg, rw, MapShared, &memFile{data: orig}, 0, "/g", true)
	assert.Equal(t, syscall.EACCES, e, "a file that cannot be written back")
	requireInvariants(t, as, fb)
}

// TestMprotectWritableKeepsCOW: making a private file mapping writable
// does not make its shared pages writable in place.
func TestMprotectWritableKeepsCOW(t *testing.T) {
	as, fb := newSpace(t, Config{TaskSize: TaskSize64})
	f := &memFile{data: pattern(pg)}
	a, _ := as.MmapFile(0, pg, ro, MapPrivate, f, 0, "/f", false)
	b, _ := as.MmapFile(0, pg, ro, MapPrivate, f, 0, "/f", false)
	_, _ = fb.touch(a, false)
	_, _ = fb.touch(b, false)
	require.Zero(t, as.Mprotect(a, pg, rw))
	requireInvariants(t, as, fb)
	require.NoError(t, fb.store(a, []byte{0xff}))
	x, _ := fb.peek(b, 1)
	assert.Equal(t, f.data[0], x[0])
	requireInvariants(t, as, fb)
}

// TestSharedPhysBetweenSpaces: two address spaces on one Phys and one
// page cache (two processes) map one physical page for one file page, and
// the machine's memory counts it once.
func TestSharedPhysBetweenSpaces(t *testing.T) {
	phys, err := NewPhys(1 << 30)
	require.NoError(t, err)
	cache := NewPageCache(phys)
	f := &memFile{data: pattern(pg)}
	var pages []fakePage
	var spaces []*AddressSpace
	for range 2 {
		as, err := NewChecked(Config{Phys: phys, PageCache: cache})
		require.NoError(t, err)
		fb, err := attachFake(as)
		require.NoError(t, err)
		a, e := as.MmapFile(0, pg, ro, MapPrivate, f, 0, "/f", false)
		require.Zero(t, e)
		p, err := fb.touch(a, false)
		require.NoError(t, err)
		pages = append(pages, p)
		spaces = append(spaces, as)
		requireInvariants(t, as, fb)
	}
	assert.Equal(t, pages[0].phys, pages[1].phys)
	assert.Equal(t, uint64(1), phys.UsedPages())
	for _, as := range spaces {
		require.NoError(t, as.Close())
	}
	assert.Zero(t, phys.UsedPages())
	require.NoError(t, phys.Close())
}

// TestPhysBoundCountsCachePages: the machine's memory bounds own and cache
// pages together.
func TestPhysBoundCountsCachePages(t *testing.T) {
	as, fb := newSpace(t, Config{TaskSize: TaskSize64, PhysMemory: 64 << 10})
	f := &memFile{data: pattern(32 * pg)}
	a, _ := as.MmapFile(0, 32*pg, ro, MapPrivate, f, 0, "/f", false)
	b, _ := as.MmapFile(0, 32*pg, ro, MapPrivate, f, 0, "/f", false)
	for i := uint64(0); i < 16; i++ {
		_, err := fb.touch(a+i*pg, false)
		require.NoError(t, err)
		_, err = fb.touch(b+i*pg, false)
		require.NoError(t, err, "the second mapping takes no memory")
	}
	_, err := fb.touch(a+16*pg, false)
	assert.ErrorIs(t, err, ErrOutOfMemory)
	assert.True(t, as.OutOfMemory())
}
