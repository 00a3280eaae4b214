package mmu

import (
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAttachReplays(t *testing.T) {
	as, fb := newSpace(t, Config{})
	require.NoError(t, as.SetupStack(stackTop, 4*pg))
	require.True(t, as.GrowStack(stackTop-6*pg)) // a second MapHost region in the same VMA
	require.NoError(t, as.MapFixed(0x400000, 2*pg, rx, FileBacked|Private, "/p", 0))
	mustMmap(t, as, 0x402000, 2*pg, rw, anonPriv|MapFixed)
	require.Zero(t, as.Mprotect(0x403000, pg, ro))
	require.NoError(t, as.SetPageProt(stackTop-pg, rwx))
	require.NoError(t, as.Write(0x402000, []byte("shared")))

	late := newFake()
	require.NoError(t, as.Attach(late))
	assert.Equal(t, []call{
		{"map", 0x400000, 2 * pg, rx},
		{"map", 0x402000, pg, rw},
		{"map", 0x403000, pg, ro},
		{"map", stackTop - 6*pg, 6 * pg, rw},
		{"protect", stackTop - pg, pg, rwx},
	}, late.takeCalls())
	requireInvariants(t, as, fb, late)
	got, err := late.peek(0x402000, 6)
	require.NoError(t, err)
	assert.Equal(t, []byte("shared"), got)

	// From now on both see every change.
	mustMmap(t, as, 0x500000, pg, rw, anonPriv|MapFixed)
	require.Zero(t, as.Munmap(0x400000, pg))
	requireInvariants(t, as, fb, late)
	assert.Equal(t, 2, as.Stats().Backends)

	assert.ErrorContains(t, as.Attach(late), "already attached")
	require.NoError(t, as.Detach(late))
	assert.ErrorContains(t, as.Detach(late), "not attached")
	assert.ErrorContains(t, as.Attach(nil), "nil backend")
	assert.ErrorContains(t, as.Attach(valueBackend{}), "not comparable")
	// A detached backend no longer hears about changes.
	late.takeCalls()
	mustMmap(t, as, 0x600000, pg, rw, anonPriv|MapFixed)
	assert.Empty(t, late.takeCalls())
}

// valueBackend is a non-comparable Backend (it holds a slice by value).
type valueBackend struct{ _ []int }

func (valueBackend) MapHost(uint64, uint64, Prot, unsafe.Pointer) error { return nil }
func (valueBackend) Unmap(uint64, uint64) error                         { return nil }
func (valueBackend) Protect(uint64, uint64, Prot) error                 { return nil }
func (valueBackend) InvalidateCode(uint64, uint64)                      {}
func (valueBackend) RevokeExec(uint64, uint64)                          {}

func TestAttachReplayFailure(t *testing.T) {
	as, _ := newSpace(t, Config{})
	mustMmap(t, as, 0x400000, pg, rw, anonPriv|MapFixed)
	mustMmap(t, as, 0x500000, pg, rw, anonPriv|MapFixed)
	bad := newFake()
	bad.failMapAt = 2
	assert.ErrorContains(t, as.Attach(bad), "replaying [0x500000,0x501000)")
	assert.Equal(t, 1, as.Stats().Backends)
}

func TestBackendMapFailureRollsBack(t *testing.T) {
	as, fb := newSpace(t, Config{})
	second := newFake()
	require.NoError(t, as.Attach(second))
	second.failMapAt = 1
	fb.takeCalls()
	_, e := as.Mmap(0x400000, pg, rw, anonPriv|MapFixed, "")
	assert.Equal(t, syscall.ENOMEM, e)
	assert.Empty(t, as.VMAs())
	assert.Equal(t, []call{{"map", 0x400000, pg, rw}, {"unmap", 0x400000, pg, 0}}, fb.takeCalls())
	assert.Equal(t, 0, as.Stats().HostChunks)
	requireInvariants(t, as, fb, second)
	require.NoError(t, as.Err(), "a refused map is not a coherence failure")

	// Stack growth and brk fail cleanly the same way.
	second.failMapAt = 0
	require.NoError(t, as.SetupStack(stackTop, pg))
	second.failMapAt = second.mapCalls + 1
	assert.False(t, as.GrowStack(stackTop-2*pg))
	as.SetBrkBase(0x600000)
	second.failMapAt = second.mapCalls + 1
	assert.Equal(t, uint64(0x600000), as.Brk(0x601000))
	requireInvariants(t, as, fb, second)
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
