package mmu

import (
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAttachGivesArenas(t *testing.T) {
	as, fb := newSpace(t, Config{})
	require.NoError(t, as.SetupStack(stackTop, 4*pg))
	require.True(t, as.GrowStack(stackTop-6*pg))
	require.NoError(t, as.MapFixed(0x400000, 2*pg, rx, FileBacked|Private, "/p", 0))
	mustMmap(t, as, 0x402000, 2*pg, rw, anonPriv|MapFixed)
	require.Zero(t, as.Mprotect(0x403000, pg, ro))
	require.NoError(t, as.SetPageProt(stackTop-pg, rwx))
	require.NoError(t, as.Write(0x402000, []byte("shared")))
	assert.Equal(t, 1, as.Stats().Arenas)

	// A late backend gets the arenas, no translations: it asks for them.
	late, err := attachFake(as)
	require.NoError(t, err)
	assert.Equal(t, []fakePhys{{PhysBase, ArenaSize, late.phys[0].host}}, late.phys)
	assert.Empty(t, late.pages)
	got, err := late.peek(0x402000, 6)
	require.NoError(t, err)
	assert.Equal(t, []byte("shared"), got)
	p, err := late.touch(stackTop-pg, true)
	require.NoError(t, err)
	assert.Equal(t, rwx, p.prot, "the page-table override")
	p, err = late.touch(0x403000, true)
	require.NoError(t, err)
	assert.Equal(t, ro, p.prot)
	requireInvariants(t, as, fb, late)

	// From now on both see every change.
	mustMmap(t, as, 0x500000, pg, rw, anonPriv|MapFixed)
	require.Zero(t, as.Munmap(0x400000, 3*pg))
	requireInvariants(t, as, fb, late)
	assert.NotContains(t, late.pages, uint64(0x402000), "the unmapped page's translation went")
	assert.Equal(t, 2, as.Stats().Backends)

	assert.ErrorContains(t, as.Attach(late), "already attached")
	require.NoError(t, as.Detach(late))
	assert.ErrorContains(t, as.Detach(late), "not attached")
	assert.ErrorContains(t, as.Attach(nil), "nil backend")
	assert.ErrorContains(t, as.Attach(valueBackend{}), "not comparable")
	// A detached backend no longer hears about changes.
	late.takeCalls()
	mustMmap(t, as, 0x600000, pg, rw, anonPriv|MapFixed)
	require.Zero(t, as.Munmap(0x600000, pg))
	assert.Empty(t, late.takeCalls())
}

// valueBackend is a non-comparable Backend (it holds a slice by value).
type valueBackend struct{ _ []int }

func (valueBackend) MapPhys(uint64, uint64, unsafe.Pointer) error { return nil }
func (valueBackend) Unmap(uint64, uint64) error                   { return nil }
func (valueBackend) Protect(uint64, uint64, Prot) error           { return nil }
func (valueBackend) InvalidateCode(uint64, uint64)                {}
func (valueBackend) RevokeExec(uint64, uint64)                    {}

func TestAttachFailure(t *testing.T) {
	as, _ := newSpace(t, Config{})
	mustMmap(t, as, 0x400000, pg, rw, anonPriv|MapFixed)
	require.NoError(t, as.Write(0x400000, []byte{1})) // the first arena
	bad := newFake()
	bad.failPhysAt = 1
	assert.ErrorContains(t, as.Attach(bad), "giving the arena at 0x100000000")
	assert.Equal(t, 1, as.Stats().Backends)
}

// TestArenaFailureIsOutOfMemory: a backend refusing a new arena leaves the
// page unpopulated, the failure kept, and the write failing.
func TestArenaFailureIsOutOfMemory(t *testing.T) {
	as, fb := newSpace(t, Config{})
	second, err := attachFake(as)
	require.NoError(t, err)
	second.failPhysAt = 1
	mustMmap(t, as, 0x400000, pg, rw, anonPriv|MapFixed)
	assert.ErrorIs(t, as.Write(0x400000, []byte{1}), syscall.EFAULT)
	assert.True(t, as.OutOfMemory())
	require.ErrorContains(t, as.Err(), "MapPhys")
	assert.Zero(t, as.Stats().ResidentPages)
	requireInvariants(t, as, fb, second)
	require.NoError(t, as.Detach(second))
	as.failure = nil // the failure was the test's point; Close reports it otherwise
}

// failingBackend refuses Unmap and Protect, as a broken engine would.
type failingBackend struct{ *fakeBackend }

func (failingBackend) Unmap(uint64, uint64) error { return syscall.EIO }
func (failingBackend) Protect(uint64, uint64, Prot) error {
	return syscall.EIO
}

func TestBackendFailureIsSticky(t *testing.T) {
	as, err := NewChecked(Config{})
	require.NoError(t, err)
	fb := newFake()
	fb.as = as
	require.NoError(t, as.Attach(&failingBackend{fb}))
	mustMmap(t, as, 0x400000, 2*pg, rw, anonPriv|MapFixed)
	assert.Equal(t, syscall.ENOMEM, as.Mprotect(0x400000, pg, ro))
	require.ErrorContains(t, as.Err(), "backend Protect [0x400000,0x401000)")
	assert.Equal(t, syscall.ENOMEM, as.Munmap(0x400000, pg))
	// The bookkeeping went ahead; the first failure is kept.
	assert.Equal(t, []VMA{anonVMA(0x401000, 0x402000, rw)}, as.VMAs())
	require.ErrorContains(t, as.Err(), "backend Protect")
	assert.Error(t, as.Close())
}
