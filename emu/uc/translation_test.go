package uc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStaleTranslationAfterHostWrite pins 2.1.1: code bytes changed from
// the host side do not invalidate the engine's translation; RemoveCache
// does.
func TestStaleTranslationAfterHostWrite(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, movEAX(1))
	require.NoError(t, run(e))
	require.Equal(t, uint64(1), reg(t, e, RAX))

	hostWrite(t, e, codeAddr, movEAX(2))
	require.NoError(t, run(e))
	assert.Equal(t, uint64(1), reg(t, e, RAX), "the stale block still runs")

	require.NoError(t, e.RemoveCache(codeAddr, codeAddr+5))
	require.NoError(t, run(e))
	assert.Equal(t, uint64(2), reg(t, e, RAX), "the new code runs after RemoveCache")

	assert.Error(t, e.RemoveCache(codeAddr, codeAddr), "empty range")
}

// TestFlushTranslations: UC_CTL_TB_FLUSH drops every translated block.
func TestFlushTranslations(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, movEAX(1))
	require.NoError(t, run(e))
	hostWrite(t, e, codeAddr, movEAX(3))
	require.NoError(t, e.FlushTranslations())
	require.NoError(t, run(e))
	assert.Equal(t, uint64(3), reg(t, e, RAX))
}

// TestTranslationsFollowThePhysicalPage: Unicorn keeps translated blocks by
// physical page. The same code mapped at a second virtual address runs
// from its own translation; RemoveCache through either address drops the
// blocks of the physical page.
func TestTranslationsFollowThePhysicalPage(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, movEAX(1))
	require.NoError(t, run(e))
	sp := spaces[e]
	const alias = 0x90000
	sp.pages[alias] = sp.pages[codeAddr]
	require.NoError(t, e.Start(alias, alias+0x800, 0, 0))
	assert.Equal(t, uint64(1), reg(t, e, RAX))
	hostWrite(t, e, codeAddr, movEAX(4))
	require.NoError(t, e.RemoveCache(alias, alias+5))
	require.NoError(t, run(e))
	assert.Equal(t, uint64(4), reg(t, e, RAX), "dropped through the alias")
}

// TestPhysicalPageReuseNeedsRemoveCache: a physical page given to another
// virtual page keeps the blocks translated from it unless they were
// removed first, as the address space does before it frees a page.
func TestPhysicalPageReuseNeedsRemoveCache(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, movEAX(1))
	require.NoError(t, run(e))
	unmapPage(t, e, codeAddr) // RemoveCache, then the entry goes
	sp := spaces[e]
	sp.pages[codeAddr] = spacePage{phys: 0, prot: ProtAll} // the same page again
	hostWrite(t, e, codeAddr, withExit(movEAX(5)))
	require.NoError(t, run(e))
	assert.Equal(t, uint64(5), reg(t, e, RAX))
}

// TestSelfModifyingCodeInsideEngine: guest stores into its own code are seen
// (Unicorn tracks writes to translated pages itself).
func TestSelfModifyingCodeInsideEngine(t *testing.T) {
	e := newEngine(t, Mode64)
	// 0x00: mov byte [rel +N], 2   -> patches the imm of the mov below
	// 0x07: mov eax, 1
	patch := []byte{0xc6, 0x05, 0x01, 0x00, 0x00, 0x00, 0x02} // mov byte [rip+1], 2
	loadCode(t, e, cat(patch, movEAX(1)))
	require.NoError(t, run(e))
	assert.Equal(t, uint64(2), reg(t, e, RAX))
}

// TestRemoveCacheSkipsPagesWithoutEntries: RemoveCache of a huge range
// visits only the pages the table holds (resolving any other would fault
// outside the emulation).
func TestRemoveCacheSkipsPagesWithoutEntries(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, movEAX(1))
	require.NoError(t, run(e))
	hostWrite(t, e, codeAddr, movEAX(2))
	require.NoError(t, e.RemoveCache(0, 1<<47))
	require.NoError(t, run(e))
	assert.Equal(t, uint64(2), reg(t, e, RAX))
	require.NoError(t, e.RemoveCache(0x7000000, 0x7001000), "a range without entries is a no-op")
}

// TestRemoveCachePhysicalEngine: without a virtual TLB, Unicorn's
// remove_cache silently ignores a range whose first page is unmapped;
// RemoveCache clips the range to the mapped regions so it still works.
func TestRemoveCachePhysicalEngine(t *testing.T) {
	e := newPhysEngine(t, Mode64)
	loadCode(t, e, movEAX(1))
	require.NoError(t, run(e))
	require.NoError(t, e.MemWrite(codeAddr, movEAX(2)))
	require.NoError(t, e.RemoveCache(0, 1<<40))
	require.NoError(t, run(e))
	assert.Equal(t, uint64(2), reg(t, e, RAX))
}

// TestTranslationTimeHooksApplyToTranslatedCode: code and block hooks (and
// accounting) are compiled into translated code;
// adding them after code ran drops the stale translations so they apply.
func TestTranslationTimeHooksApplyToTranslatedCode(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, cat(insNop, movEAX(1)))
	require.NoError(t, run(e))

	var codeCalls, blockCalls int
	_, err := e.HookCode(codeAddr+1, codeAddr+1, func(uint64, uint32) { codeCalls++ })
	require.NoError(t, err)
	_, err = e.HookBlock(1, 0, func(uint64, uint32) { blockCalls++ })
	require.NoError(t, err)
	c := NewCounters()
	defer c.Free()
	e.SetCounters(c)
	require.NoError(t, e.EnableAccounting(func(uint64, uint32) (uint32, uint64) { return 3, 3 * 256 }))
	require.NoError(t, run(e))
	assert.Equal(t, 1, codeCalls)
	assert.Equal(t, 1, blockCalls)
	assert.Equal(t, uint64(3), c.Insns())
}

// TestRuntimeHooksApplyToTranslatedCode: interrupt, syscall and cpuid hooks
// are looked up when the event happens, so adding them late just works.
func TestRuntimeHooksApplyToTranslatedCode(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, cat(insSyscall, insCPUID, insInt3))
	// Without any hook, syscall and int3 end Start with CodeException; no-op
	// hooks let the first run translate all of the code.
	_, err := e.HookSyscall(func() {})
	require.NoError(t, err)
	_, err = e.HookInterrupt(func(uint32) {})
	require.NoError(t, err)
	require.NoError(t, run(e))
	var calls []string
	_, err = e.HookSyscall(func() { calls = append(calls, "syscall") })
	require.NoError(t, err)
	_, err = e.HookCPUID(func() bool { calls = append(calls, "cpuid"); return false })
	require.NoError(t, err)
	_, err = e.HookInterrupt(func(uint32) { calls = append(calls, "int3") })
	require.NoError(t, err)
	require.NoError(t, run(e))
	assert.Equal(t, []string{"syscall", "cpuid", "int3"}, calls)
}
