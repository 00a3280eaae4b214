package mmu

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestForkCopiesTheAddressSpace: the child has the parent's VMAs and
// bytes at the fork, shared copy-on-write, then each its own writes
// (MADV_DONTNEED in one leaves the other's bytes); file pages not written
// privately stay the page cache's in both (one cached page, read once); a
// MADV_DONTFORK range is not in the child, and MADV_DOFORK brings it back
// for the next fork.
func TestForkCopiesTheAddressSpace(t *testing.T) {
	phys, err := NewPhys(0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = phys.Close() })
	cache := NewPageCache(phys)
	cfg := Config{TaskSize: TaskSize64, Phys: phys, PageCache: cache}
	parent, _ := newSpace(t, cfg)
	anon := mustMmap(t, parent, 0, 2*pg, rw, MapPrivate|MapAnonymous)
	require.NoError(t, parent.Write(anon, []byte("parent")))
	f := &memFile{data: []byte("file bytes")}
	file, e := parent.MmapFile(0, pg, ProtRead, MapPrivate, f, 0, "/f", false)
	require.Zero(t, e)
	b := make([]byte, 4)
	require.NoError(t, parent.Read(file, b))
	dontfork := mustMmap(t, parent, 0, pg, rw, MapPrivate|MapAnonymous)
	require.Zero(t, parent.Madvise(dontfork, pg, MadvDontFork))

	child, e := parent.Fork()
	require.Zero(t, e)
	t.Cleanup(func() { _ = child.Close() })
	require.NoError(t, child.Read(anon, b))
	assert.Equal(t, "pare", string(b))
	require.NoError(t, child.Write(anon, []byte("child!")))
	require.NoError(t, parent.Read(anon, b))
	assert.Equal(t, "pare", string(b), "the child's write is its own")
	require.NoError(t, child.Read(anon, b))
	assert.Equal(t, "chil", string(b))
	grandchild, e := parent.Fork()
	require.Zero(t, e)
	t.Cleanup(func() { _ = grandchild.Close() })
	require.Zero(t, grandchild.Madvise(anon, pg, MadvDontNeed))
	require.NoError(t, grandchild.Read(anon, b))
	assert.Equal(t, []byte{0, 0, 0, 0}, b, "DONTNEED: a zero page")
	require.NoError(t, parent.Read(anon, b))
	assert.Equal(t, "pare", string(b), "the sharer keeps its bytes")

	require.NoError(t, child.Read(file, b))
	assert.Equal(t, "file", string(b))
	assert.Equal(t, 1, f.reads, "the file page is the cache's in both")
	assert.EqualValues(t, 2, cache.Stats().Pages, "the file's page and the anonymous page both share")

	_, ok := child.FindVMA(dontfork)
	assert.False(t, ok, "MADV_DONTFORK: not in the child")
	pv, ok := parent.FindVMA(dontfork)
	require.True(t, ok)
	assert.NotZero(t, pv.Flags&DontCopy)
	require.Zero(t, parent.Madvise(dontfork, pg, MadvDoFork))
	second, e := parent.Fork()
	require.Zero(t, e)
	t.Cleanup(func() { _ = second.Close() })
	_, ok = second.FindVMA(dontfork)
	assert.True(t, ok, "MADV_DOFORK: copied again")
	assert.Equal(t, len(parent.VMAs()), len(second.VMAs()))

	require.NoError(t, child.Close())
	require.NoError(t, parent.Read(file, b))
	assert.Equal(t, "file", string(b), "the child's exit leaves the parent's cache page")
}
