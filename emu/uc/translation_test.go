package uc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStaleTranslationAfterHostWrite pins 2.0.1: code bytes changed by
// MemWrite (or the host, or another engine) do not invalidate this engine's
// translation; RemoveCache does.
func TestStaleTranslationAfterHostWrite(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, movEAX(1))
	require.NoError(t, run(e))
	require.Equal(t, uint64(1), reg(t, e, RAX))

	require.NoError(t, e.MemWrite(codeAddr, movEAX(2)))
	require.NoError(t, run(e))
	assert.Equal(t, uint64(1), reg(t, e, RAX), "the stale block still runs")

	require.NoError(t, e.RemoveCache(codeAddr, codeAddr+5))
	require.NoError(t, run(e))
	assert.Equal(t, uint64(2), reg(t, e, RAX), "the new code runs after RemoveCache")

	assert.Error(t, e.RemoveCache(codeAddr, codeAddr), "empty range")
}

// TestFlushTranslations: uc_ctl_flush_tlb drops every translated block in
// 2.0.1. It is slow (the first call on an engine took ~1.9 s on the 2-vCPU
// VM, later ones ~40 ms): never on a hot path.
func TestFlushTranslations(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, movEAX(1))
	require.NoError(t, run(e))
	require.NoError(t, e.MemWrite(codeAddr, movEAX(3)))
	require.NoError(t, e.FlushTranslations())
	require.NoError(t, run(e))
	assert.Equal(t, uint64(3), reg(t, e, RAX))
}

// TestProtectNeedsRemoveCache pins 2.0.1: removing EXEC does not stop code
// that is already translated until RemoveCache drops it.
func TestProtectNeedsRemoveCache(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, movEAX(1))
	require.NoError(t, run(e))

	var faults []MemAccess
	_, err := e.HookMemFault(func(access MemAccess, addr uint64, size int, value int64) bool {
		faults = append(faults, access)
		return false
	})
	require.NoError(t, err)

	require.NoError(t, e.Protect(codeAddr, pageSize, ProtRead|ProtWrite))
	require.NoError(t, e.RegWrite(RAX, 0))
	require.NoError(t, run(e))
	assert.Equal(t, uint64(1), reg(t, e, RAX), "translated code still runs without EXEC")
	assert.Empty(t, faults)

	require.NoError(t, e.RemoveCache(codeAddr, codeAddr+pageSize))
	err = run(e)
	assert.Equal(t, CodeFetchProt, ErrorCode(err))
	assert.Equal(t, []MemAccess{MemFetchProt}, faults)
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

// TestRemoveCacheRangeStartingUnmapped: Unicorn's remove_cache silently
// ignores a range whose first page is unmapped; RemoveCache clips the range
// to the mapped regions so it still works.
func TestRemoveCacheRangeStartingUnmapped(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, movEAX(1))
	require.NoError(t, run(e))
	require.NoError(t, e.MemWrite(codeAddr, movEAX(2)))
	require.NoError(t, e.RemoveCache(0, 1<<40))
	require.NoError(t, run(e))
	assert.Equal(t, uint64(2), reg(t, e, RAX))

	require.NoError(t, e.RemoveCache(0x7000000, 0x7001000), "a fully unmapped range is a no-op")
}

// TestTranslationTimeHooksApplyToTranslatedCode: code and block hooks (and
// accounting, and the precise-PC hook) are compiled into translated code;
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
