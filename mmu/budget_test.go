package mmu

import (
	"errors"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMaxMemory(t *testing.T) {
	as, _ := newSpace(t, Config{MaxMemory: 16 * pg})
	mustMmap(t, as, 0x400000, 8*pg, rw, anonPriv|MapFixed)
	_, e := as.Mmap(0, 9*pg, rw, anonPriv, "")
	assert.Equal(t, syscall.ENOMEM, e)
	// MAP_FIXED over existing memory counts only the new bytes.
	mustMmap(t, as, 0x404000, 12*pg, rw, anonPriv|MapFixed)
	assert.Equal(t, uint64(16*pg), as.Stats().MappedBytes)
	_, e = as.Mmap(0, pg, rw, anonPriv, "")
	assert.Equal(t, syscall.ENOMEM, e)
	// A refused MAP_FIXED leaves the old mapping alone.
	require.NoError(t, as.Write(0x400000, []byte{1}))
	_, e = as.Mmap(0x3ff000, 2*pg, rw, anonPriv|MapFixed, "")
	assert.Equal(t, syscall.ENOMEM, e)
	b := make([]byte, 1)
	require.NoError(t, as.Read(0x400000, b))
	assert.Equal(t, byte(1), b[0])

	err := as.MapFixed(0x500000, pg, rw, Anonymous|Private, "", 0)
	assert.True(t, errors.Is(err, syscall.ENOMEM))
	err = as.SetupStack(stackTop, pg)
	assert.True(t, errors.Is(err, syscall.ENOMEM))

	// Freeing makes room again; the stack grows until the budget is used.
	require.Zero(t, as.Munmap(0x400000, 14*pg))
	require.NoError(t, as.SetupStack(stackTop, pg))
	assert.True(t, as.GrowStack(stackTop-14*pg)) // 2 + 14 pages
	assert.False(t, as.GrowStack(stackTop-15*pg))
	st := as.Stats()
	assert.Equal(t, uint64(16*pg), st.MappedBytes)
	assert.Equal(t, uint64(16*pg), st.PeakMappedBytes)
	assert.Equal(t, uint64(1), st.StackGrowthRefusals)
}

func TestClose(t *testing.T) {
	as, err := NewChecked(Config{})
	require.NoError(t, err)
	fb := newFake()
	require.NoError(t, as.Attach(fb))
	mustMmap(t, as, 0x400000, 2*pg, rw, anonPriv|MapFixed)
	require.NoError(t, as.SetupStack(stackTop, pg))
	fb.takeCalls()
	require.NoError(t, as.Close())
	assert.Equal(t, []call{
		{"invalidate", 0x400000, 2 * pg, 0}, {"unmap", 0x400000, 2 * pg, 0},
		{"invalidate", stackTop - pg, pg, 0}, {"unmap", stackTop - pg, pg, 0},
	}, fb.takeCalls())
	st := as.Stats()
	assert.Equal(t, Stats{PeakMappedBytes: 3 * pg, Invalidations: 2}, st)
	require.NoError(t, as.Close(), "idempotent")

	_, e := as.Mmap(0, pg, rw, anonPriv, "")
	assert.Equal(t, syscall.ENOMEM, e)
	assert.Equal(t, syscall.ENOMEM, as.Mprotect(0x400000, pg, rw))
	assert.ErrorIs(t, as.MapFixed(0x400000, pg, rw, Anonymous|Private, "", 0), ErrClosed)
	assert.ErrorIs(t, as.SetupStack(stackTop, pg), ErrClosed)
	assert.ErrorIs(t, as.Read(0x400000, make([]byte, 1)), ErrClosed)
	assert.ErrorIs(t, as.Write(0x400000, []byte{1}), ErrClosed)
	assert.ErrorIs(t, as.WriteForce(0x400000, []byte{1}), ErrClosed)
	assert.ErrorIs(t, as.ReadForce(0x400000, make([]byte, 1)), ErrClosed)
	_, err = as.ReadString(0x400000, 1)
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, as.Attach(newFake()), ErrClosed)
	assert.ErrorIs(t, as.SetPageProt(0x400000, rw), ErrClosed)
	assert.ErrorIs(t, as.ExpandDown(VMA{}, 1), ErrClosed)
	assert.False(t, as.GrowStack(stackTop-2*pg))
	as.SetBrkBase(0x600000)
	assert.Equal(t, uint64(0x600000), as.Brk(0x700000))
}
