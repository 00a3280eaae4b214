package uc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newFenceRig runs `jmp slotAddr` at codeAddr; the slot page holds
// `mov eax, 7; jmp exitAddr`. Every block costs one instruction; queries
// records the blocks priced. (slotAddr and codeAddr must differ in their
// low 16 bits, or their blocks would share a cost-cache slot.)
const slotAddr = 0x41000

type fenceRig struct {
	e       *Engine
	c       *Counters
	queries []uint64
	faults  []MemAccess
}

func newFenceRig(t *testing.T, accounting bool) *fenceRig {
	r := &fenceRig{e: newEngine(t, Mode64)}
	loadCode(t, r.e, jmpRel32(codeAddr, slotAddr))
	require.NoError(t, r.e.Map(slotAddr, pageSize, ProtAll))
	require.NoError(t, r.e.MemWrite(slotAddr, cat(movEAX(7), jmpRel32(slotAddr+5, exitAddr))))
	if accounting {
		require.NoError(t, r.e.EnableAccounting(func(addr uint64, size uint32) (uint32, uint64) {
			r.queries = append(r.queries, addr)
			return 1, 256
		}))
		r.c = NewCounters()
		t.Cleanup(r.c.Free)
		r.e.SetCounters(r.c)
	}
	_, err := r.e.HookMemFault(func(access MemAccess, addr uint64, size int, value int64) bool {
		r.faults = append(r.faults, access)
		return false
	})
	require.NoError(t, err)
	require.NoError(t, run(r.e))
	require.Equal(t, uint64(7), reg(t, r.e, RAX))
	return r
}

// revoke fences the slot page and removes its EXEC, as emu does when a
// page loses execute permission.
func (r *fenceRig) revoke(t *testing.T) {
	require.NoError(t, r.e.FenceExec(slotAddr, slotAddr+pageSize))
	require.NoError(t, r.e.Protect(slotAddr, pageSize, ProtRead|ProtWrite))
}

func TestFencedTranslationDoesNotRun(t *testing.T) {
	r := newFenceRig(t, true)
	r.revoke(t)
	assert.Equal(t, [][2]uint64{{slotAddr, slotAddr + pageSize}}, r.e.Fences())
	require.NoError(t, r.e.RegWrite(RAX, 0))
	insns := r.c.Insns()

	err := run(r.e)
	assert.Equal(t, CodeFetchProt, ErrorCode(err), "the kept translation was dropped and the fetch checked")
	assert.Equal(t, []MemAccess{MemFetchProt}, r.faults)
	assert.Equal(t, uint64(0), reg(t, r.e, RAX), "nothing of the fenced block ran")
	assert.Equal(t, uint64(1), r.c.Insns()-insns, "only the jmp was charged")
	assert.Empty(t, r.e.Fences())
}

func TestProtectLiftsFenceAndKeepsTranslation(t *testing.T) {
	r := newFenceRig(t, true)
	r.revoke(t)
	// Against the contract (a host write must be followed by RemoveCache),
	// to show that the translation was kept: it still runs the old bytes.
	require.NoError(t, r.e.MemWrite(slotAddr+1, []byte{9}))
	require.NoError(t, r.e.Protect(slotAddr, pageSize, ProtAll))
	assert.Empty(t, r.e.Fences())
	n := len(r.queries)
	require.NoError(t, run(r.e))
	assert.Equal(t, uint64(7), reg(t, r.e, RAX), "the fenced translation ran again")
	assert.Equal(t, []uint64{slotAddr}, r.queries[n:], "its cost was dropped with the fence and priced again")
	assert.Empty(t, r.faults)
}

func TestFenceWithoutAccountingDropsTranslations(t *testing.T) {
	r := newFenceRig(t, false)
	r.revoke(t)
	assert.Empty(t, r.e.Fences())
	require.NoError(t, r.e.MemWrite(slotAddr+1, []byte{9}))
	require.NoError(t, r.e.Protect(slotAddr, pageSize, ProtAll))
	require.NoError(t, run(r.e))
	assert.Equal(t, uint64(9), reg(t, r.e, RAX), "dropped, so the new bytes run")
}

func TestFenceBeforeAnyRunIsANoOp(t *testing.T) {
	e := newEngine(t, Mode64)
	enableFakeAccounting(t)(e)
	require.NoError(t, e.FenceExec(slotAddr, slotAddr+pageSize))
	assert.Empty(t, e.Fences())
}

func TestStoppedBeforeBlock(t *testing.T) {
	r := newFenceRig(t, true)
	var stopped []bool
	_, err := r.e.HookCode(slotAddr, slotAddr, func(uint64, uint32) {
		stopped = append(stopped, r.e.StoppedBeforeBlock())
	})
	require.NoError(t, err)
	require.NoError(t, run(r.e))
	assert.Equal(t, []bool{false}, stopped)
	assert.False(t, r.e.StoppedBeforeBlock())

	// A budget stop before the slot block: true until the next Start.
	r.c.SetStopAt(r.c.CyclesFP() + 1)
	require.NoError(t, run(r.e))
	assert.True(t, r.c.BudgetHit())
	assert.True(t, r.e.StoppedBeforeBlock())
	assert.Equal(t, uint64(slotAddr), pc(t, r.e))
	r.c.SetStopAt(^uint64(0))

	// A fence stop. 2.0.1 may call the code hooks of the first
	// instruction of a block its block hook stopped (emu's watches met it
	// with budget stops); such a call must see the stop.
	r.revoke(t)
	assert.Equal(t, CodeFetchProt, ErrorCode(run(r.e)))
	for i, s := range stopped[1:] {
		assert.True(t, s, "code hook call %d after the first", i+1)
	}
}

func TestFenceTableEvictsOldest(t *testing.T) {
	e := newEngine(t, Mode64)
	enableFakeAccounting(t)(e)
	loadCode(t, e, insNop)
	require.NoError(t, run(e))
	const n = 65 // one more than PROBESIM_MAX_FENCES
	for i := uint64(0); i < n; i++ {
		require.NoError(t, e.FenceExec(0x100000+i*pageSize, 0x100000+(i+1)*pageSize))
	}
	f := e.Fences()
	require.Len(t, f, n-1)
	assert.Equal(t, [2]uint64{0x100000 + pageSize, 0x100000 + 2*pageSize}, f[0], "the oldest went")
	assert.Equal(t, [2]uint64{0x100000 + 64*pageSize, 0x100000 + 65*pageSize}, f[n-2])
}

func TestRemoveCacheAndProtectLiftFences(t *testing.T) {
	r := newFenceRig(t, true)
	require.NoError(t, r.e.Map(slotAddr+pageSize, 2*pageSize, ProtAll))
	require.NoError(t, r.e.FenceExec(slotAddr, slotAddr+pageSize))
	require.NoError(t, r.e.FenceExec(slotAddr+pageSize, slotAddr+3*pageSize))
	// Only the fence RemoveCache covers whole is lifted.
	require.NoError(t, r.e.RemoveCache(slotAddr, slotAddr+2*pageSize))
	assert.Equal(t, [][2]uint64{{slotAddr + pageSize, slotAddr + 3*pageSize}}, r.e.Fences())
	// Protect with EXEC on part of a fence drops it (and its translations).
	require.NoError(t, r.e.Protect(slotAddr+pageSize, pageSize, ProtAll))
	assert.Empty(t, r.e.Fences())
	// Protect without EXEC leaves fences alone.
	require.NoError(t, r.e.FenceExec(slotAddr, slotAddr+pageSize))
	require.NoError(t, r.e.Protect(slotAddr, pageSize, ProtRead))
	assert.Len(t, r.e.Fences(), 1)
}

// TestFenceOnExecutableRangeRestartsTransparently: a fence left on code that
// is executable (mmu may leave one on a range mapped anew) only costs a
// retranslation: Start drops it, resumes at the block, and every block is
// charged once.
func TestFenceOnExecutableRangeRestartsTransparently(t *testing.T) {
	r := newFenceRig(t, true)
	require.NoError(t, r.e.FenceExec(slotAddr, slotAddr+pageSize))
	require.NoError(t, r.e.MemWrite(slotAddr+1, []byte{5}))
	require.NoError(t, r.e.RegWrite(RAX, 0))
	insns := r.c.Insns()
	require.NoError(t, run(r.e))
	assert.Equal(t, uint64(5), reg(t, r.e, RAX), "retranslated from the current bytes")
	assert.Equal(t, uint64(2), r.c.Insns()-insns, "the jmp and the slot block, once each")
	assert.Empty(t, r.e.Fences())
	assert.Empty(t, r.faults)
}
