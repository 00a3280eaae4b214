package mmu

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMadviseDontNeed(t *testing.T) {
	as, fb := newSpace(t, Config{})
	priv := mustMmap(t, as, 0x400000, 3*pg, rw, anonPriv|MapFixed)
	shared := mustMmap(t, as, 0x500000, pg, rw, MapAnonymous|MapShared|MapFixed)
	code := mustMmap(t, as, 0x600000, pg, rwx, anonPriv|MapFixed)
	require.NoError(t, as.MapFixedData(0x700000, pg, rw, FileBacked|Private, "/f", 0, []byte{5}))
	for _, a := range []uint64{priv, priv + pg, priv + 2*pg, shared, code} {
		require.NoError(t, as.Write(a, []byte{9}))
	}
	fb.takeCalls()

	require.Zero(t, as.Madvise(priv+pg, 2*pg, MadvDontNeed))
	require.Zero(t, as.Madvise(shared, pg, MadvDontNeed))
	require.Zero(t, as.Madvise(0x700000, pg, MadvDontNeed))
	assert.Empty(t, fb.takeCalls(), "zeroing data pages needs no invalidation")
	require.Zero(t, as.Madvise(code, pg, MadvDontNeed))
	assert.Equal(t, []call{{"invalidate", code, pg, 0}}, fb.takeCalls())

	read := func(a uint64) byte {
		b, err := fb.peek(a, 1)
		require.NoError(t, err)
		return b[0]
	}
	assert.Equal(t, byte(9), read(priv), "outside the range")
	assert.Equal(t, byte(0), read(priv+pg))
	assert.Equal(t, byte(0), read(priv+2*pg))
	assert.Equal(t, byte(9), read(shared), "shared anonymous memory lives on in shmem")
	assert.Equal(t, byte(0), read(code))
	assert.Equal(t, byte(5), read(0x700000), "file-backed: kept (documented deviation)")
	// The zeroed pages still work.
	require.NoError(t, as.Write(priv+pg, []byte{3}))
	assert.Equal(t, byte(3), read(priv+pg))
}

func TestMadviseErrors(t *testing.T) {
	as, _ := newSpace(t, Config{})
	a := mustMmap(t, as, 0x400000, 2*pg, rw, anonPriv|MapFixed)
	s := mustMmap(t, as, 0x500000, pg, rw, MapAnonymous|MapShared|MapFixed)
	require.NoError(t, as.Write(a, []byte{9}))
	require.NoError(t, as.Write(s, []byte{9}))
	for _, tc := range []struct {
		name      string
		addr, len uint64
		advice    int
		want      syscall.Errno
	}{
		{"unknown advice", a, pg, 5, syscall.EINVAL},
		{"unknown large advice", a, pg, 1000, syscall.EINVAL},
		{"unaligned", a + 1, pg, MadvDontNeed, syscall.EINVAL},
		{"length wraps when aligned", a, ^uint64(0), MadvDontNeed, syscall.EINVAL},
		{"range wraps", a, ^uint64(0) - 2*pg, MadvNormal, syscall.EINVAL},
		{"empty range", a, 0, MadvDontNeed, 0},
		{"empty range of an unmapped address", 0x900000, 0, MadvDontNeed, 0},
		{"unmapped", 0x900000, pg, MadvWillNeed, syscall.ENOMEM},
		{"hole after the mapping", a, 3 * pg, MadvNormal, syscall.ENOMEM},
		{"hwpoison needs privilege", a, pg, MadvHWPoison, syscall.EPERM},
		{"remove on private memory", a, pg, MadvRemove, syscall.EINVAL},
		{"free on shared memory", s, pg, MadvFree, syscall.EINVAL},
		{"free on private memory", a, pg, MadvFree, 0},
		{"hints", a, 2 * pg, MadvHugePage, 0},
	} {
		assert.Equal(t, tc.want, as.Madvise(tc.addr, tc.len, tc.advice), tc.name)
	}
	b := make([]byte, 1)
	require.NoError(t, as.Read(a, b))
	assert.Equal(t, byte(9), b[0], "MADV_FREE keeps the contents")

	// MADV_REMOVE punches a hole in shared memory.
	require.Zero(t, as.Madvise(s, pg, MadvRemove))
	require.NoError(t, as.Read(s, b))
	assert.Equal(t, byte(0), b[0])
	// The advice still applies to the mapped part before a hole.
	require.Zero(t, as.Madvise(a, pg, MadvNormal))
	assert.Equal(t, syscall.ENOMEM, as.Madvise(a-pg, 2*pg, MadvDontNeed))
	require.NoError(t, as.Read(a, b))
	assert.Equal(t, byte(0), b[0])
}
