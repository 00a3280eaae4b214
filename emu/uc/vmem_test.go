package uc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPageTableRangesCrossNodes: DropPages and ProtectPages reach exactly
// the entries of their range, also where it crosses the boundaries of the
// table's nodes (2 MiB, 1 GiB and 512 GiB of address space).
func TestPageTableRangesCrossNodes(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, insNop)
	require.NoError(t, run(e))
	pages := []uint64{
		0x1ff000, 0x200000, // across a 2 MiB node
		0x3ffff000, 0x40000000, // across a 1 GiB node
		0x7ffffffff000, 0x8000000000 - pageSize, 0x8000000000, // across a 512 GiB node
	}
	for _, p := range pages {
		mapPage(t, e, p, ProtRead|ProtWrite)
	}
	// The translator fills the table on the first access; here through
	// Start at each page, which faults on the fetch (not executable) after
	// the entry is made.
	for _, p := range pages {
		hostWrite(t, e, p, insNop)
		_ = e.Start(p, exitAddr, 0, 0)
		_, prot, ok := e.PTE(p)
		require.True(t, ok, "page %#x", p)
		require.Equal(t, ProtRead|ProtWrite, prot)
	}
	before := e.VMStats().Entries
	require.NoError(t, e.ProtectPages(0x1ff000, 0x201000, ProtRead))
	require.NoError(t, e.ProtectPages(0x3ffff000, 0x40001000, ProtRead))
	require.NoError(t, e.ProtectPages(0x8000000000-pageSize, 0x8000001000, ProtRead))
	for _, p := range pages {
		_, prot, ok := e.PTE(p)
		require.True(t, ok)
		want := ProtRead
		if p == 0x7ffffffff000 {
			want = ProtRead | ProtWrite
		}
		assert.Equal(t, want, prot, "page %#x", p)
	}
	require.NoError(t, e.DropPages(0x200000, 0x40000000))
	for _, p := range pages {
		_, _, ok := e.PTE(p)
		assert.Equal(t, p < 0x200000 || p >= 0x40000000, ok, "page %#x", p)
	}
	assert.Equal(t, before-2, e.VMStats().Entries)
	require.NoError(t, e.DropPages(0, 1<<47))
	assert.Zero(t, e.VMStats().Entries)
}
