package uc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newFenceRig runs `jmp slotAddr` at codeAddr; the slot page holds
// `mov eax, 7; jmp exitAddr`. Every block costs one instruction; queries
// records the blocks priced. After it, the TLB grants execution on the
// slot page.
const slotAddr = 0x41000

type fenceRig struct {
	e       *Engine
	c       *Counters
	queries []uint64
}

func newFenceRig(t *testing.T, accounting bool) *fenceRig {
	r := &fenceRig{e: newEngine(t, Mode64)}
	loadCode(t, r.e, jmpRel32(codeAddr, slotAddr))
	mapPage(t, r.e, slotAddr, ProtAll)
	hostWrite(t, r.e, slotAddr, cat(movEAX(7), jmpRel32(slotAddr+5, exitAddr)))
	if accounting {
		require.NoError(t, r.e.EnableAccounting(func(addr uint64, size uint32) (uint32, uint64) {
			r.queries = append(r.queries, addr)
			return 1, 256
		}))
		r.c = NewCounters()
		t.Cleanup(r.c.Free)
		r.e.SetCounters(r.c)
	}
	require.NoError(t, run(r.e))
	require.Equal(t, uint64(7), reg(t, r.e, RAX))
	return r
}

// revoke takes execute permission away from the slot page, as emu does
// (the address space's RevokeExec, then Protect).
func (r *fenceRig) revoke(t *testing.T) {
	require.NoError(t, r.e.FenceExec(slotAddr, slotAddr+pageSize))
	protectPage(t, r.e, slotAddr, ProtRead|ProtWrite)
}

// TestFencedBlockDoesNotRun: the TLB still grants execution on the slot
// page, so Unicorn would run its translated block; the fence stops it, the
// TLB is flushed, and the fetch faults against the page table.
func TestFencedBlockDoesNotRun(t *testing.T) {
	r := newFenceRig(t, true)
	r.revoke(t)
	assert.Equal(t, []uint64{slotAddr}, r.e.Fences())
	require.NoError(t, r.e.RegWrite(RAX, 0))
	insns, flushes := r.c.Insns(), r.e.VMStats().TLBFlushes

	err := run(r.e)
	assert.Equal(t, CodeException, ErrorCode(err))
	pf, ok := r.e.PageFault()
	require.True(t, ok)
	assert.Equal(t, PageFault{Page: slotAddr, Access: MemFetch, Mapped: true}, pf)
	assert.Equal(t, uint64(slotAddr), pc(t, r.e), "the PC is the fetch")
	assert.Equal(t, uint64(0), reg(t, r.e, RAX), "nothing of the fenced block ran")
	assert.Equal(t, uint64(1), r.c.Insns()-insns, "only the jmp was charged")
	assert.Equal(t, flushes+1, r.e.VMStats().TLBFlushes, "meeting the fence flushed the TLB")
	assert.Empty(t, r.e.Fences(), "and lifted every fence")
}

// TestExecBackKeepsTranslation: execute permission coming back lifts the
// fence, and the block translated before runs again, untranslated.
func TestExecBackKeepsTranslation(t *testing.T) {
	r := newFenceRig(t, true)
	r.revoke(t)
	// Against the contract (a host write must be followed by RemoveCache),
	// to show that the translation was kept: it still runs the old bytes.
	hostWrite(t, r.e, slotAddr+1, []byte{9})
	protectPage(t, r.e, slotAddr, ProtAll)
	assert.Empty(t, r.e.Fences())
	n := len(r.queries)
	require.NoError(t, run(r.e))
	assert.Equal(t, uint64(7), reg(t, r.e, RAX), "the translated block ran again")
	assert.Equal(t, []uint64{slotAddr}, r.queries[n:], "its cost was dropped with the fence and priced again")
}

// TestFenceWithoutAccountingFlushes: with no block hook to meet a fence,
// FenceExec flushes the TLB at once, and the fetch faults.
func TestFenceWithoutAccountingFlushes(t *testing.T) {
	r := newFenceRig(t, false)
	flushes := r.e.VMStats().TLBFlushes
	r.revoke(t)
	assert.Empty(t, r.e.Fences())
	assert.Greater(t, r.e.VMStats().TLBFlushes, flushes)
	assert.Equal(t, CodeException, ErrorCode(run(r.e)))
	pf, ok := r.e.PageFault()
	require.True(t, ok)
	assert.Equal(t, MemFetch, pf.Access)
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

	// A fence stop. Unicorn may call the code hooks of the first
	// instruction of a block its block hook stopped (emu's watches met it
	// with budget stops); such a call must see the stop.
	r.revoke(t)
	assert.Equal(t, CodeException, ErrorCode(run(r.e)))
	for i, s := range stopped[1:] {
		assert.True(t, s, "code hook call %d after the first", i+1)
	}
}

// TestFenceListFullFlushes: fencing more pages than the list holds flushes
// the TLB instead, which leaves no page to fence.
func TestFenceListFullFlushes(t *testing.T) {
	e := newEngine(t, Mode64)
	enableFakeAccounting(t)(e)
	loadCode(t, e, insNop)
	require.NoError(t, run(e))
	flushes := e.VMStats().TLBFlushes
	const n = 64 // PROBESIM_MAX_FENCES
	for i := uint64(0); i < n; i++ {
		require.NoError(t, e.FenceExec(0x100000+i*pageSize, 0x100000+(i+1)*pageSize))
	}
	require.Len(t, e.Fences(), n)
	require.NoError(t, e.FenceExec(0x100000+n*pageSize, 0x100000+(n+1)*pageSize))
	assert.Empty(t, e.Fences())
	assert.Equal(t, flushes+1, e.VMStats().TLBFlushes)
}

// TestProtectFencesOnlyExecRemoval: taking execute permission alone fences
// the page; taking write (or read) flushes the TLB; giving execute lifts
// the page's fence.
func TestProtectFencesOnlyExecRemoval(t *testing.T) {
	r := newFenceRig(t, true)
	flushes := r.e.VMStats().TLBFlushes
	protectPage(t, r.e, slotAddr, ProtRead|ProtWrite)
	assert.Equal(t, []uint64{slotAddr}, r.e.Fences())
	assert.Equal(t, flushes, r.e.VMStats().TLBFlushes)
	protectPage(t, r.e, slotAddr, ProtAll)
	assert.Empty(t, r.e.Fences())
	protectPage(t, r.e, slotAddr, ProtRead|ProtExec)
	assert.Equal(t, flushes+1, r.e.VMStats().TLBFlushes, "write taken away")
	// A page the table holds no entry for needs neither.
	require.NoError(t, r.e.ProtectPages(dataAddr+8*pageSize, dataAddr+9*pageSize, ProtRead))
	assert.Equal(t, flushes+1, r.e.VMStats().TLBFlushes)
}

// TestFenceOnExecutablePageRestartsTransparently: a fence left on a page
// that is executable (the list is only cleared by flushes) costs a TLB
// flush: Start resumes at the block, and every block is charged once.
func TestFenceOnExecutablePageRestartsTransparently(t *testing.T) {
	r := newFenceRig(t, true)
	require.NoError(t, r.e.FenceExec(slotAddr, slotAddr+pageSize))
	require.NoError(t, r.e.RegWrite(RAX, 0))
	insns := r.c.Insns()
	require.NoError(t, run(r.e))
	assert.Equal(t, uint64(7), reg(t, r.e, RAX))
	assert.Equal(t, uint64(2), r.c.Insns()-insns, "the jmp and the slot block, once each")
	assert.Empty(t, r.e.Fences())
}
