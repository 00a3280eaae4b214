package mmu

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRevokedPageWritesAreReported: a page whose execute permission was
// revoked may still hold (fenced) translations, so host writes into it are
// reported like writes into code until its translations are dropped or it
// is executable again.
func TestRevokedPageWritesAreReported(t *testing.T) {
	const a = 0x400000
	as, fb := newSpace(t, Config{})
	mustMmap(t, as, a, 4*pg, rw, anonPriv|MapFixed)
	fb.takeCalls()
	// A data page that was never executable: nothing to report.
	require.NoError(t, as.Write(a, []byte{1}))
	assert.Empty(t, fb.takeCalls())

	// The probes' NX flip: executable for a moment, then revoked.
	require.NoError(t, as.SetPageProt(a+pg, rwx))
	require.NoError(t, as.SetPageProt(a+pg, rw))
	assert.Equal(t, []call{{"protect", a + pg, pg, rwx}, {"revoke", a + pg, pg, 0}, {"protect", a + pg, pg, rw}},
		fb.takeCalls())
	assert.Equal(t, uint64(1), as.Stats().ExecRevocations)

	// A write that changes bytes is reported, one that changes nothing is
	// not; a write next to the page is not either.
	require.NoError(t, as.Write(a+pg+8, []byte{7}))
	assert.Equal(t, []call{{"invalidate", a + pg + 8, 1, 0}}, fb.takeCalls())
	require.NoError(t, as.Write(a+2*pg, []byte{7}))
	assert.Empty(t, fb.takeCalls())

	// The invalidation dropped the translations of that byte only: the
	// rest of the page is still revoked.
	require.NoError(t, as.Write(a+pg+16, []byte{7}))
	assert.Equal(t, []call{{"invalidate", a + pg + 16, 1, 0}}, fb.takeCalls())
	// Rewriting what is there changes nothing.
	require.NoError(t, as.Write(a+pg+16, []byte{7}))
	assert.Empty(t, fb.takeCalls())

	// MADV_DONTNEED zeroing counts as a write, and dropping the whole page
	// ends the revocation.
	require.Zero(t, as.Madvise(a+pg, pg, MadvDontNeed))
	assert.Equal(t, []call{{"invalidate", a + pg, pg, 0}}, fb.takeCalls())
	require.NoError(t, as.Write(a+pg+8, []byte{9}))
	assert.Empty(t, fb.takeCalls())

	// Execute permission coming back ends it too (the page is code again,
	// reported as such); losing it again starts a new one.
	require.NoError(t, as.SetPageProt(a+3*pg, rwx))
	require.NoError(t, as.SetPageProt(a+3*pg, rw))
	require.NoError(t, as.SetPageProt(a+3*pg, rwx))
	fb.takeCalls()
	require.NoError(t, as.Write(a+3*pg, []byte{3}))
	assert.Equal(t, []call{{"invalidate", a + 3*pg, 1, 0}}, fb.takeCalls())
	// mprotect rewrites the page table: the override goes, exec too.
	require.Zero(t, as.Mprotect(a+3*pg, pg, ro))
	require.NoError(t, as.WriteForce(a+3*pg, []byte{4}))
	assert.Equal(t, []call{{"revoke", a + 3*pg, pg, 0}, {"protect", a + 3*pg, pg, ro}, {"invalidate", a + 3*pg, 1, 0}},
		fb.takeCalls())

	// Unmapping drops the translations: nothing is revoked afterwards.
	require.Zero(t, as.Munmap(a+3*pg, pg))
	mustMmap(t, as, a+3*pg, pg, rw, anonPriv|MapFixed)
	fb.takeCalls()
	require.NoError(t, as.Write(a+3*pg, []byte{5}))
	assert.Empty(t, fb.takeCalls())
}

func TestRangeSet(t *testing.T) {
	var rs []addrRange
	rs = addRange(rs, 0x3000, 0x4000)
	rs = addRange(rs, 0x1000, 0x2000)
	rs = addRange(rs, 0x6000, 0x7000)
	assert.Equal(t, []addrRange{{0x1000, 0x2000}, {0x3000, 0x4000}, {0x6000, 0x7000}}, rs)
	// Adjacent and overlapping ranges merge.
	rs = addRange(rs, 0x2000, 0x3000)
	assert.Equal(t, []addrRange{{0x1000, 0x4000}, {0x6000, 0x7000}}, rs)
	rs = addRange(rs, 0x3800, 0x6800)
	assert.Equal(t, []addrRange{{0x1000, 0x7000}}, rs)
	// Cutting splits, trims and removes.
	rs = cutRange(rs, 0x2000, 0x3000)
	assert.Equal(t, []addrRange{{0x1000, 0x2000}, {0x3000, 0x7000}}, rs)
	rs = cutRange(rs, 0x800, 0x1800)
	assert.Equal(t, []addrRange{{0x1800, 0x2000}, {0x3000, 0x7000}}, rs)
	rs = cutRange(rs, 0x6000, 0x9000)
	assert.Equal(t, []addrRange{{0x1800, 0x2000}, {0x3000, 0x6000}}, rs)
	rs = cutRange(rs, 0x9000, 0xa000)
	assert.Equal(t, []addrRange{{0x1800, 0x2000}, {0x3000, 0x6000}}, rs)
	rs = cutRange(rs, 0, 0x10000)
	assert.Empty(t, rs)

	as := &AddressSpace{revoked: []addrRange{{0x1000, 0x2000}, {0x5000, 0x6000}}}
	for _, tc := range []struct {
		start, end uint64
		want       bool
	}{
		{0, 0x1000, false}, {0, 0x1001, true}, {0x1fff, 0x2000, true}, {0x2000, 0x5000, false},
		{0x4000, 0x8000, true}, {0x6000, 0x7000, false},
	} {
		assert.Equal(t, tc.want, as.revokedOverlaps(tc.start, tc.end), "[%#x,%#x)", tc.start, tc.end)
	}
}

// TestRevokedTranslationsStayFenced drives the translating fake of the fuzz
// test through the NX flip: translations made while the page was
// executable survive the revocation fenced, run again once it is
// executable, and are dropped by a host write in between.
func TestRevokedTranslationsStayFenced(t *testing.T) {
	const a = 0x400000
	as, err := NewChecked(Config{})
	require.NoError(t, err)
	f := newTranslatingFake(as)
	require.NoError(t, as.Attach(f))
	mustMmap(t, as, a, pg, rw, anonPriv|MapFixed)

	require.NoError(t, as.SetPageProt(a, rwx))
	f.execute(a)
	require.NoError(t, as.SetPageProt(a, rw))
	require.NoError(t, f.checkTranslations())
	require.Contains(t, f.translated, uint64(a))
	assert.True(t, f.fenced[a])
	require.NoError(t, as.SetPageProt(a, rwx))
	assert.False(t, f.fenced[a], "executable again: the translation runs")
	assert.True(t, f.translated[a].tlbExec)

	require.NoError(t, as.SetPageProt(a, rw))
	require.NoError(t, as.WriteForce(a, []byte{0x90}))
	require.NoError(t, f.checkTranslations())
	assert.NotContains(t, f.translated, uint64(a), "a changed byte dropped it")
	require.NoError(t, as.Close())
}
