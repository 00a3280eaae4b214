package mmu

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPageProtOverride(t *testing.T) {
	as, fb := newSpace(t, Config{})
	require.NoError(t, as.SetupStack(stackTop, 4*pg))
	page := uint64(stackTop - 2*pg)
	fb.takeCalls()

	// Clear NX on one stack page: only the backends see it.
	require.NoError(t, as.SetPageProt(page+0x123, rwx))
	assert.Equal(t, []call{{"protect", page, pg, rwx}}, fb.takeCalls())
	p, ok := as.PageProt(page + 8)
	require.True(t, ok)
	assert.Equal(t, rwx, p)
	v, _ := as.FindVMA(page)
	assert.Equal(t, rw, v.Prot, "the VMA is unchanged")
	assert.Len(t, as.VMAs(), 1)
	assert.Equal(t, 1, as.Stats().PageProtOverrides)
	requireInvariants(t, as, fb)

	// Restoring it removes the override and revokes execution of
	// translations made there.
	require.NoError(t, as.SetPageProt(page, rw))
	assert.Equal(t, []call{{"revoke", page, pg, 0}, {"protect", page, pg, rw}}, fb.takeCalls())
	assert.Equal(t, 0, as.Stats().PageProtOverrides)
	// Setting what is already there does nothing.
	require.NoError(t, as.SetPageProt(page, rw))
	assert.Empty(t, fb.takeCalls())

	// Errors.
	assert.ErrorContains(t, as.SetPageProt(0x1000, rw), "not mapped")
	assert.ErrorContains(t, as.SetPageProt(page, 0x10), "invalid protection")
	_, ok = as.PageProt(0x1000)
	assert.False(t, ok)
}

func TestPageProtOverrideLifetime(t *testing.T) {
	const a = 0x400000
	as, fb := newSpace(t, Config{})
	mustMmap(t, as, a, 4*pg, rw, anonPriv|MapFixed)
	require.NoError(t, as.SetPageProt(a+pg, rwx))
	require.NoError(t, as.SetPageProt(a+2*pg, rwx))

	// mprotect to the same permissions leaves the page table alone
	// (mprotect_fixup returns early).
	require.Zero(t, as.Mprotect(a, 4*pg, rw))
	assert.Equal(t, 2, as.Stats().PageProtOverrides)
	requireInvariants(t, as, fb)

	// A real change rewrites the page table: overrides go, execution of
	// translations of the formerly executable page is revoked.
	fb.takeCalls()
	require.Zero(t, as.Mprotect(a+pg, pg, ro))
	assert.Equal(t, []call{{"revoke", a + pg, pg, 0}, {"protect", a + pg, pg, ro}}, fb.takeCalls())
	assert.Equal(t, 1, as.Stats().PageProtOverrides)
	requireInvariants(t, as, fb)

	// Unmapping forgets the override.
	require.Zero(t, as.Munmap(a+2*pg, pg))
	assert.Equal(t, 0, as.Stats().PageProtOverrides)
	mustMmap(t, as, a+2*pg, pg, rw, anonPriv|MapFixed)
	p, _ := as.PageProt(a + 2*pg)
	assert.Equal(t, rw, p)
}
