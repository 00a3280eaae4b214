package uc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPageTablesSwitch: two address spaces on one engine map the same
// code address to different physical pages with different code; each
// runs its own after a switch (the TLB flush and the translated blocks
// found by physical page), and the inactive table is edited without
// touching the active one.
func TestPageTablesSwitch(t *testing.T) {
	e := newEngine(t, Mode64)
	movEAX := func(v byte) []byte { return []byte{0xb8, v, 0, 0, 0} }
	loadCode(t, e, movEAX(1))
	sp := spaces[e]
	pagesA := sp.pages
	require.NoError(t, run(e))
	eax, err := e.RegRead(EAX)
	require.NoError(t, err)
	require.EqualValues(t, 1, eax)

	base := e.BasePageTable()
	second, err := e.NewPageTable()
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.FreePageTable(second) })
	pagesB := map[uint64]spacePage{}
	sp.pages = pagesB
	require.NoError(t, e.SwitchPageTable(second))
	assert.True(t, e.ActivePageTable(second))
	loadCode(t, e, movEAX(2)) // new physical pages at the same addresses
	require.NoError(t, run(e))
	eax, err = e.RegRead(EAX)
	require.NoError(t, err)
	assert.EqualValues(t, 2, eax, "the second table's code")
	assert.NotZero(t, second.Entries())

	_, _, ok := e.PTEIn(base, codeAddr)
	require.True(t, ok, "the base table keeps its entries while inactive")
	require.NoError(t, e.ProtectPagesIn(base, dataAddr, dataAddr+pageSize, ProtRead))
	_, p, ok := e.PTEIn(base, dataAddr)
	if ok {
		assert.Equal(t, ProtRead, p)
	}
	require.NoError(t, e.RemoveCacheIn(base, codeAddr, codeAddr+pageSize))

	sp.pages = pagesA
	require.NoError(t, e.SwitchPageTable(base))
	require.NoError(t, run(e))
	eax, err = e.RegRead(EAX)
	require.NoError(t, err)
	assert.EqualValues(t, 1, eax, "back on the first table: its own code")
	assert.EqualValues(t, 2, e.TableSwitches())
	require.Error(t, e.FreePageTable(base), "the base table is the engine's")
	require.NoError(t, e.DropPagesIn(second, 0, 1<<47))
	assert.Zero(t, second.Entries())
}
