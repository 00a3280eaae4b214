package mmu

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	rw  = ProtRead | ProtWrite
	rx  = ProtRead | ProtExec
	rwx = ProtRead | ProtWrite | ProtExec
	ro  = ProtRead

	anonPriv = MapAnonymous | MapPrivate
	base64   = 0x7ffff7fff000 // DefaultMmapBase for TaskSize64, 8 MiB stack
	base32   = 0xf7ffe000     // DefaultMmapBase for TaskSize32
	pg       = PageSize
)

// newSpace returns an address space with one fake backend attached; at the
// end of the test the invariants are checked and the space is closed.
func newSpace(t testing.TB, cfg Config) (*AddressSpace, *fakeBackend) {
	t.Helper()
	as, err := NewChecked(cfg)
	require.NoError(t, err)
	fb, err := attachFake(as)
	require.NoError(t, err)
	t.Cleanup(func() {
		if err := checkInvariants(as, fb); err != nil {
			t.Errorf("invariant broken at the end of the test: %v", err)
		}
		if err := as.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if len(fb.pages) != 0 {
			t.Errorf("backend still maps %d pages after Close", len(fb.pages))
		}
	})
	return as, fb
}

// mustMmap maps anonymous private memory and fails the test on error.
func mustMmap(t testing.TB, as *AddressSpace, addr, length uint64, p Prot, flags uint32) uint64 {
	t.Helper()
	got, e := as.Mmap(addr, length, p, flags, "")
	require.Equal(t, syscall.Errno(0), e, "mmap(%#x, %#x, %v, %#x)", addr, length, p, flags)
	return got
}

// anonVMA builds the VMA an anonymous private mapping made with permissions
// p produces: Accounted when p is writable (mm/mmap.c accountable_mapping).
func anonVMA(start, end uint64, p Prot) VMA {
	return VMA{Start: start, End: end, Prot: p, Flags: withAccount(Anonymous|Private, p)}
}

// acctVMA builds an anonymous private VMA that was writable at some point:
// it keeps VM_ACCOUNT whatever its permissions are now. On Linux that holds
// once the memory has been written (mprotect_fixup drops VM_ACCOUNT from a
// never-written anonymous VMA made read-only), so the tests using it write
// the memory first.
func acctVMA(start, end uint64, p Prot) VMA {
	return VMA{Start: start, End: end, Prot: p, Flags: Anonymous | Private | Accounted}
}
