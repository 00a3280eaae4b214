package uc

import (
	"encoding/binary"
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

// TestWriteToReadOnlyPageAsksAgain pins the copy-on-write path of the
// page-table fill: a write meeting a page the table holds read-only asks
// the translator again, which may drop the entry (every backend loses a
// shared page at a COW break, the faulting one included, from inside its
// own fill) and answer a new physical page with write permission; the
// write lands there, the shared page and the other page mapping it keep
// their bytes, and the next write needs no translator. A read-only page
// the translator keeps read-only still faults.
func TestWriteToReadOnlyPageAsksAgain(t *testing.T) {
	e := newEngine(t, Mode64)
	const other = dataAddr + 0x1000
	loadCode(t, e, cat(movAbsRAX(dataAddr), movRAXAbs(other)))
	sp := spaces[e]
	shared := sp.pages[dataAddr]
	shared.prot = ProtRead
	sp.pages[dataAddr] = shared
	sp.pages[other] = shared
	hostWrite(t, e, dataAddr, le64(0x1111))
	var breaks int
	sp.onWrite = func(page uint64) {
		p := sp.pages[page]
		if page != dataAddr || p.prot&ProtWrite != 0 {
			return
		}
		breaks++
		mapPage(t, e, page, ProtRead|ProtWrite)
		copy(sp.host[sp.pages[page].phys*pageSize:][:pageSize], sp.host[p.phys*pageSize:][:pageSize])
		require.NoError(t, e.DropPages(page, page+pageSize))
	}
	require.NoError(t, e.RegWrite(RAX, 0x2222))
	require.NoError(t, run(e))
	assert.Equal(t, 1, breaks)
	assert.Equal(t, uint64(0x1111), reg(t, e, RAX), "the other page still reads the shared bytes")
	paddr, p, ok := e.PTE(dataAddr)
	require.True(t, ok)
	assert.Equal(t, physBase+sp.pages[dataAddr].phys*pageSize, paddr, "the entry is the copy")
	assert.Equal(t, ProtRead|ProtWrite, p)
	assert.Equal(t, le64(0x2222), sp.host[sp.pages[dataAddr].phys*pageSize:][:8])
	assert.Equal(t, le64(0x1111), sp.host[shared.phys*pageSize:][:8])

	require.NoError(t, e.RegWrite(RAX, 0x3333))
	before := len(sp.translations)
	require.NoError(t, run(e))
	assert.Equal(t, 1, breaks)
	assert.Equal(t, before, len(sp.translations), "the copy is writable: no fill")

	ro := newEngine(t, Mode64)
	loadCode(t, ro, movAbsRAX(dataAddr))
	protectPage(t, ro, dataAddr, ProtRead)
	asked := 0
	spaces[ro].onWrite = func(uint64) { asked++ }
	assert.Equal(t, CodeException, ErrorCode(run(ro)), "a page kept read-only refuses the write")
	assert.Equal(t, 1, asked)
	pf, ok := ro.PageFault()
	require.True(t, ok)
	assert.Equal(t, PageFault{Page: dataAddr, Access: MemWrite, Mapped: true}, pf)
}

func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
