package uc

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The accounting loop: mov ecx, N; l: dec ecx; jnz l; jmp exit.
// Translated blocks (measured with HookBlock, see TestBlockHookReportsBlocks):
//
//	A = [codeAddr, +9):    mov, dec, jnz   (3 insns) runs once
//	B = [codeAddr+5, +4):  dec, jnz        (2 insns) runs N-1 times
//	C = [codeAddr+9, +5):  jmp exit        (1 insn)  runs once
const loopN = 1000

var (
	blockA = blockKey{codeAddr, 9}
	blockB = blockKey{codeAddr + 5, 4}
	blockC = blockKey{codeAddr + 9, 5}
)

type blockKey struct {
	addr uint64
	size uint32
}

type blockCost struct {
	insns  uint32
	costFP uint64
}

// Costs with distinct fractional parts so that any miscount shows.
var loopCosts = map[blockKey]blockCost{
	blockA: {3, 3*256 + 10},
	blockB: {2, 2*256 + 7},
	blockC: {1, 1*256 + 1},
}

const (
	loopInsns  = 3 + 2*(loopN-1) + 1
	loopCostFP = 3*256 + 10 + (loopN-1)*(2*256+7) + 256 + 1
)

// fakeCost prices blocks from loopCosts and records every query.
type fakeCost struct {
	queries []blockKey
}

func (f *fakeCost) cost(addr uint64, size uint32) (uint32, uint64) {
	k := blockKey{addr, size}
	f.queries = append(f.queries, k)
	c := loopCosts[k]
	return c.insns, c.costFP
}

func loopEngine(t *testing.T) (*Engine, *fakeCost, *Counters) {
	e := newEngine(t, Mode64)
	loadCode(t, e, cat(movECX(loopN), insDecECX, jnzRel8(codeAddr+7, codeAddr+5)))
	f := &fakeCost{}
	require.NoError(t, e.EnableAccounting(f.cost))
	c := NewCounters()
	t.Cleanup(c.Free)
	e.SetCounters(c)
	return e, f, c
}

func TestAccountingLoopTotals(t *testing.T) {
	e, f, c := loopEngine(t)
	require.NoError(t, run(e))
	assert.Equal(t, uint64(loopInsns), c.Insns())
	assert.Equal(t, uint64(loopCostFP), c.CyclesFP())
	assert.Equal(t, uint64(loopCostFP>>8), c.Cycles())
	assert.False(t, c.BudgetHit())
	assert.Equal(t, []blockKey{blockA, blockB, blockC}, f.queries, "one query per distinct block")
	assert.Equal(t, uint64(3), e.CostCacheMisses())

	// A second run hits the cache for every block.
	require.NoError(t, run(e))
	assert.Equal(t, uint64(2*loopInsns), c.Insns())
	assert.Equal(t, uint64(2*loopCostFP), c.CyclesFP())
	assert.Len(t, f.queries, 3)
}

func TestAccountingBudgetStopsBeforeNextBlock(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stopAt  uint64
		bRuns   uint64 // how many times block B ran before the stop
		comment string
	}{
		{"exact", 3*256 + 10 + 5*(2*256+7), 5, "budget reached exactly after the 5th B"},
		{"crossed", 3*256 + 10 + 5*(2*256+7) - 1, 5, "the 5th B crosses the budget and still runs whole"},
		{"after first block", 3*256 + 10 + 1, 1, "A leaves 1 unit; the first B crosses"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _, c := loopEngine(t)
			c.SetStopAt(tc.stopAt)
			assert.Equal(t, tc.stopAt, c.StopAt())
			require.NoError(t, run(e), "a budget stop is not an error")
			assert.True(t, c.BudgetHit())
			// The stopped block did not run and was not charged: Start
			// returned at its first instruction.
			assert.Equal(t, uint64(codeAddr+5), pc(t, e), tc.comment)
			assert.Equal(t, uint64(loopN-1-tc.bRuns), reg(t, e, RCX), tc.comment)
			assert.Equal(t, 3+2*tc.bRuns, c.Insns())
			assert.Equal(t, 3*256+10+tc.bRuns*(2*256+7), c.CyclesFP())
			assert.GreaterOrEqual(t, c.CyclesFP(), tc.stopAt)

			// Resuming with the budget lifted completes the loop with exact
			// totals: nothing was charged twice.
			c.ResetBudgetHit()
			assert.False(t, c.BudgetHit())
			c.SetStopAt(math.MaxUint64)
			require.NoError(t, e.Start(pc(t, e), exitAddr, 0, 0))
			assert.Equal(t, uint64(loopInsns), c.Insns())
			assert.Equal(t, uint64(loopCostFP), c.CyclesFP())
			assert.False(t, c.BudgetHit())
		})
	}
}

// TestSkipSurvivesSetStopAt: a skip set before the budget still applies
// (the fast path's single limit must not lose it), applies once, and the
// blocks after it are charged through the fast path again.
func TestSkipSurvivesSetStopAt(t *testing.T) {
	e, _, c := loopEngine(t)
	require.NoError(t, run(e)) // every block cached
	base := c.Insns()
	c.SkipNextBlockAt(codeAddr)
	c.SetStopAt(math.MaxUint64 - 1)
	require.NoError(t, run(e))
	assert.Equal(t, base+loopInsns-3, c.Insns(), "block A skipped once, the rest charged")
	assert.Equal(t, uint64(2*loopCostFP-(3*256+10)), c.CyclesFP())
	// With the skip consumed, a budget set now stops the run as usual.
	c.SetStopAt(c.CyclesFP() + 3*256 + 10)
	require.NoError(t, run(e))
	assert.True(t, c.BudgetHit())
	assert.Equal(t, base+loopInsns-3+3, c.Insns(), "A charged, the first B stopped")
}

func TestAccountingBudgetAlreadyExhaustedMakesNoProgress(t *testing.T) {
	e, _, c := loopEngine(t)
	c.Add(0, 100)
	c.SetStopAt(100)
	require.NoError(t, run(e))
	assert.True(t, c.BudgetHit())
	assert.Equal(t, uint64(codeAddr), pc(t, e), "the first block did not run")
	assert.Equal(t, uint64(0), c.Insns())
}

func TestInvalidateCostsRequeriesOverlappingBlocks(t *testing.T) {
	e, f, c := loopEngine(t)
	require.NoError(t, run(e))
	require.Len(t, f.queries, 3)

	// One byte inside the jnz: A and B contain it, C does not.
	e.InvalidateCosts(codeAddr+7, codeAddr+8)
	require.NoError(t, run(e))
	assert.Equal(t, []blockKey{blockA, blockB}, f.queries[3:])

	// C alone.
	e.InvalidateCosts(codeAddr+9, codeAddr+10)
	require.NoError(t, run(e))
	assert.Equal(t, []blockKey{blockC}, f.queries[5:])

	// Ranges that miss every block, and an empty range.
	e.InvalidateCosts(codeAddr+14, codeAddr+0x100)
	e.InvalidateCosts(0, codeAddr)
	e.InvalidateCosts(codeAddr+5, codeAddr+5)
	// A huge range takes the full-table path.
	require.NoError(t, run(e))
	assert.Len(t, f.queries, 6)
	e.InvalidateCosts(0, math.MaxUint64)
	require.NoError(t, run(e))
	assert.Equal(t, []blockKey{blockA, blockB, blockC}, f.queries[6:])
	assert.Equal(t, uint64(5*loopInsns), c.Insns(), "re-pricing does not change the totals")
}

// TestInvalidateCostsIsExact: a range drops exactly the blocks that
// overlap it, whatever its size, even in their own page, and a block that
// starts in the page before and runs into the range.
func TestInvalidateCostsIsExact(t *testing.T) {
	e, f, c := loopEngine(t)
	require.NoError(t, run(e))
	require.Len(t, f.queries, 3)
	e.InvalidateCosts(codeAddr+0x400, codeAddr+0x800)
	require.NoError(t, run(e))
	assert.Len(t, f.queries, 3, "1 KiB after the loop, in its page: nothing of the loop")
	e.InvalidateCosts(codeAddr+0x400, codeAddr+64*pageSize)
	require.NoError(t, run(e))
	assert.Len(t, f.queries, 3, "256 KiB from there: still nothing")
	e.InvalidateCosts(codeAddr+13, codeAddr+64*pageSize)
	require.NoError(t, run(e))
	assert.Equal(t, []blockKey{blockC}, f.queries[3:], "the last byte of C")
	assert.Equal(t, uint64(4*loopInsns), c.Insns())

	// A block across a page boundary: [cross, cross+15) holds
	// mov eax, 1; mov ecx, 2; jmp exit and ends in the next page.
	const cross = 0x60ffa
	mapPage(t, e, 0x60000, ProtAll)
	mapPage(t, e, 0x61000, ProtAll)
	code := cat(movEAX(1), movECX(2), jmpRel32(cross+10, exitAddr))
	hostWrite(t, e, cross, code[:6])
	hostWrite(t, e, 0x61000, code[6:])
	require.NoError(t, e.Start(cross, exitAddr, 0, 0))
	crossBlock := blockKey{cross, 15}
	assert.Equal(t, []blockKey{crossBlock}, f.queries[4:])
	e.InvalidateCosts(0x62000, 0x63000)
	require.NoError(t, e.Start(cross, exitAddr, 0, 0))
	assert.Len(t, f.queries, 5, "a page it does not touch")
	e.InvalidateCosts(0x61000, 0x62000)
	require.NoError(t, e.Start(cross, exitAddr, 0, 0))
	assert.Equal(t, []blockKey{crossBlock, crossBlock}, f.queries[4:], "its last page")
	e.InvalidateCosts(0x60000, 0x61000)
	require.NoError(t, e.Start(cross, exitAddr, 0, 0))
	assert.Equal(t, []blockKey{crossBlock, crossBlock, crossBlock}, f.queries[4:], "its first page")
	e.InvalidateCosts(0, 1<<47)
	require.NoError(t, e.Start(cross, exitAddr, 0, 0))
	assert.Equal(t, []blockKey{crossBlock, crossBlock, crossBlock, crossBlock}, f.queries[4:], "everything")
}

// TestCostCacheKeepsAliasedBlocks: blocks whose addresses share their low
// 16 bits (a direct-mapped table on them thrashed: every execution of a
// pair 64 KiB apart was a miss) are each priced once.
func TestCostCacheKeepsAliasedBlocks(t *testing.T) {
	e, f, _ := loopEngine(t)
	// Eight pages, 64 KiB apart, each `mov eax, i; jmp` to the next, the
	// last back to the loop head, 200 times.
	const n = 8
	var heads []uint64
	for i := uint64(0); i < n; i++ {
		heads = append(heads, 0x100000+i<<16)
	}
	for i, h := range heads {
		mapPage(t, e, h, ProtAll)
		next := uint64(exitAddr)
		if i+1 < n {
			next = heads[i+1]
		}
		hostWrite(t, e, h, cat(movEAX(uint32(i)), jmpRel32(h+5, next)))
	}
	for i := 0; i < 200; i++ {
		require.NoError(t, e.Start(heads[0], exitAddr, 0, 0))
	}
	assert.Len(t, f.queries, n, "each block priced once")
	assert.Equal(t, uint64(n), e.CostCacheMisses())
}

func TestEnableAccountingTwiceReplacesCostFunction(t *testing.T) {
	e, f, c := loopEngine(t)
	require.NoError(t, run(e))
	double := 0
	require.NoError(t, e.EnableAccounting(func(addr uint64, size uint32) (uint32, uint64) {
		double++
		n, fp := f.cost(addr, size)
		return n, 2 * fp
	}))
	require.NoError(t, run(e))
	assert.Equal(t, 3, double, "the cache was emptied")
	assert.Equal(t, uint64(3*loopCostFP), c.CyclesFP())
}

func TestSetCountersSwitchesAndDetaches(t *testing.T) {
	e, _, c1 := loopEngine(t)
	require.NoError(t, run(e))

	c2 := NewCounters()
	defer c2.Free()
	e.SetCounters(c2)
	assert.Same(t, c2, e.Counters())
	require.NoError(t, run(e))
	require.NoError(t, run(e))
	assert.Equal(t, uint64(loopInsns), c1.Insns())
	assert.Equal(t, uint64(2*loopInsns), c2.Insns())

	e.SetCounters(nil)
	require.NoError(t, run(e))
	assert.Equal(t, uint64(loopInsns), c1.Insns(), "nil counters: nothing charged")
	assert.Equal(t, uint64(2*loopInsns), c2.Insns())
}

func TestCountersBeforeEnableAccounting(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, cat(movECX(loopN), insDecECX, jnzRel8(codeAddr+7, codeAddr+5)))
	c := NewCounters()
	defer c.Free()
	e.SetCounters(c) // before the hook exists
	f := &fakeCost{}
	require.NoError(t, e.EnableAccounting(f.cost))
	require.NoError(t, run(e))
	assert.Equal(t, uint64(loopInsns), c.Insns())
}

func TestCountersAddAndFree(t *testing.T) {
	c := NewCounters()
	assert.Equal(t, uint64(math.MaxUint64), c.StopAt(), "no budget by default")
	c.Add(4, 10*256+128)
	assert.Equal(t, uint64(4), c.Insns())
	assert.Equal(t, uint64(10*256+128), c.CyclesFP())
	assert.Equal(t, uint64(10), c.Cycles())
	c.Free()
	c.Free()
	assert.Equal(t, uint64(0), c.Insns(), "freed counters read as zero")
	c.Add(1, 1) // ignored
	c.SetStopAt(5)
	assert.False(t, c.BudgetHit())

	var nilCounters *Counters
	assert.Equal(t, uint64(0), nilCounters.CyclesFP())
	nilCounters.Free()
}

func TestFreeWhileAttachedIsDeferred(t *testing.T) {
	e, _, c := loopEngine(t)
	c.Free() // still attached: memory stays valid for the C hook
	require.NoError(t, run(e))
	assert.Equal(t, uint64(0), c.Insns(), "freed counters read as zero")
	e.SetCounters(nil) // last detach releases the memory
	require.NoError(t, run(e))
}

func TestCostFunctionPanicStopsRun(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, cat(movECX(loopN), insDecECX, jnzRel8(codeAddr+7, codeAddr+5)))
	require.NoError(t, e.EnableAccounting(func(uint64, uint32) (uint32, uint64) { panic("no cost") }))
	c := NewCounters()
	defer c.Free()
	e.SetCounters(c)
	var p *CallbackPanic
	require.ErrorAs(t, run(e), &p)
	assert.Equal(t, "no cost", p.Value)
	assert.Equal(t, uint64(0), c.Insns(), "nothing charged for an unpriced block")
}

func TestCostFunctionRejectsHugeInsnCount(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, insNop)
	require.NoError(t, e.EnableAccounting(func(uint64, uint32) (uint32, uint64) { return 1 << 31, 0 }))
	err := run(e)
	require.Error(t, err)
	assert.Equal(t, "unicorn: cost function: block 0x10000+6: 2147483648 instructions exceeds 2147483647", err.Error())
}
