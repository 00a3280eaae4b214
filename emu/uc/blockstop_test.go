package uc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The loop `l: mov eax, 0x80000000; cpuid; nop; jmp l` is one translated
// block at codeAddr. cpuid's translation stores its own address into RIP
// (the helper needs it), so RIP holds codeAddr+5 whenever the loop jumps
// back through the chained jmp, which stores nothing.
func cpuidLoop() []byte {
	body := cat(movEAX(0x80000000), insCPUID, insNop)
	return cat(body, jmpRel32(codeAddr+uint64(len(body)), codeAddr))
}

// TestBlockStopPCWithUnrelatedCodeHook pins the bug Start repairs (2.0.1,
// still in 2.1.1):
// with any code hook installed (here on an address never executed), a stop
// from a block hook leaves a stale RIP (cpu_tb_exec skips its PC restore
// when a code hook exists). Every budget stop must report the block the
// accounting hook refused to run: the loop head.
func TestBlockStopPCWithUnrelatedCodeHook(t *testing.T) {
	for _, withCode := range []bool{false, true} {
		e := newEngine(t, Mode64)
		loadCode(t, e, cpuidLoop())
		require.NoError(t, e.EnableAccounting(func(uint64, uint32) (uint32, uint64) { return 4, 300 << 8 }))
		cnt := NewCounters()
		t.Cleanup(cnt.Free)
		e.SetCounters(cnt)
		if withCode {
			_, err := e.HookCode(0x5000, 0x5000, func(uint64, uint32) {})
			require.NoError(t, err)
		}
		start := uint64(codeAddr)
		var rips []uint64
		for i := 0; i < 6; i++ {
			cnt.ResetBudgetHit()
			cnt.SetStopAt(cnt.CyclesFP() + 100<<8)
			require.NoError(t, e.Start(start, exitAddr, 0, 0))
			require.True(t, cnt.BudgetHit())
			start = pc(t, e)
			rips = append(rips, start)
		}
		assert.Equal(t, []uint64{codeAddr, codeAddr, codeAddr, codeAddr, codeAddr, codeAddr}, rips, "code hook %v", withCode)
		// One block charged per Start: nothing ran twice or was skipped.
		assert.Equal(t, uint64(6*4), cnt.Insns())
		assert.Equal(t, uint64(0x80000008), reg(t, e, RAX)) // cpuid 0x80000000: skylake-client's max extended leaf
	}
}

// TestGoBlockHookStopPCWithUnrelatedCodeHook: the same repair for a stop
// from a Go block hook.
func TestGoBlockHookStopPCWithUnrelatedCodeHook(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, cpuidLoop())
	_, err := e.HookCode(0x5000, 0x5000, func(uint64, uint32) {})
	require.NoError(t, err)
	calls := 0
	_, err = e.HookBlock(1, 0, func(uint64, uint32) {
		calls++
		if calls%2 == 0 {
			require.NoError(t, e.Stop())
		}
	})
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		require.NoError(t, e.Start(pc(t, e)|codeAddr, exitAddr, 0, 0))
		assert.Equal(t, uint64(codeAddr), pc(t, e), "start %d", i)
	}
	assert.Equal(t, 6, calls)
}

// TestCodeHookStopPCUnchanged: a stop from a code hook keeps its exact PC
// (the instruction hooked), which Start must not overwrite.
func TestCodeHookStopPCUnchanged(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, cpuidLoop())
	require.NoError(t, e.EnableAccounting(func(uint64, uint32) (uint32, uint64) { return 4, 300 << 8 }))
	cnt := NewCounters()
	t.Cleanup(cnt.Free)
	e.SetCounters(cnt)
	_, err := e.HookCode(codeAddr+7, codeAddr+7, func(uint64, uint32) { require.NoError(t, e.Stop()) })
	require.NoError(t, err)
	require.NoError(t, run(e))
	assert.Equal(t, uint64(codeAddr+7), pc(t, e))
	assert.False(t, cnt.BudgetHit())
}
