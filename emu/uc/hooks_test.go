package uc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// movRAXAbs encodes `mov rax, [disp32]` (48 8b 04 25 disp32).
func movRAXAbs(addr uint32) []byte {
	return append([]byte{0x48, 0x8b, 0x04, 0x25}, le32(0, addr)[1:]...)
}

// movAbsRAX encodes `mov [disp32], rax` (48 89 04 25 disp32).
func movAbsRAX(addr uint32) []byte {
	return append([]byte{0x48, 0x89, 0x04, 0x25}, le32(0, addr)[1:]...)
}

func TestInt3InterruptHook(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, cat(insNop, insInt3, movEAX(5)))
	var intnos []uint32
	var rips []uint64
	_, err := e.HookInterrupt(func(intno uint32) {
		intnos = append(intnos, intno)
		rips = append(rips, pc(t, e))
	})
	require.NoError(t, err)
	require.NoError(t, run(e))
	assert.Equal(t, []uint32{3}, intnos)
	assert.Equal(t, []uint64{codeAddr + 2}, rips, "RIP is already past the int3")
	assert.Equal(t, uint64(5), reg(t, e, RAX), "execution continues after the int3")
}

func TestInterruptHookRIPWriteRedirects(t *testing.T) {
	e := newEngine(t, Mode64)
	// int3; mov eax, 1; mov eax, 2
	loadCode(t, e, cat(insInt3, movEAX(1), movEAX(2)))
	_, err := e.HookInterrupt(func(uint32) { require.NoError(t, e.RegWrite(RIP, codeAddr+6)) })
	require.NoError(t, err)
	require.NoError(t, run(e))
	assert.Equal(t, uint64(2), reg(t, e, RAX), "execution resumes exactly at the RIP written")
}

func TestSyscallHook(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, cat(movEAX(60), insSyscall, movECX(7)))
	var rips, raxs []uint64
	_, err := e.HookSyscall(func() {
		rips = append(rips, pc(t, e))
		raxs = append(raxs, reg(t, e, RAX))
	})
	require.NoError(t, err)
	require.NoError(t, run(e))
	assert.Equal(t, []uint64{codeAddr + 5}, rips, "RIP is the address OF the syscall instruction")
	assert.Equal(t, []uint64{60}, raxs)
	assert.Equal(t, uint64(7), reg(t, e, RCX), "after the hook execution continues past the syscall")
}

func TestSyscallHookRIPWriteGetsInsnLengthAdded(t *testing.T) {
	e := newEngine(t, Mode64)
	// mov eax, 60; syscall; mov eax, 1; mov eax, 2
	loadCode(t, e, cat(movEAX(60), insSyscall, movEAX(1), movEAX(2)))
	const target = codeAddr + 12 // mov eax, 2
	_, err := e.HookSyscall(func() { require.NoError(t, e.RegWrite(RIP, target-2)) })
	require.NoError(t, err)
	require.NoError(t, run(e))
	assert.Equal(t, uint64(2), reg(t, e, RAX), "Unicorn adds the 2-byte syscall length to the RIP the hook wrote")
}

func TestI386Int80IsInterrupt0x80(t *testing.T) {
	e := newEngine(t, Mode32)
	loadCode(t, e, cat(movEAX(1), insInt80, movECX(3)))
	var intnos []uint32
	var eips []uint64
	_, err := e.HookInterrupt(func(intno uint32) {
		intnos = append(intnos, intno)
		eips = append(eips, pc(t, e))
	})
	require.NoError(t, err)
	require.NoError(t, run(e))
	assert.Equal(t, []uint32{0x80}, intnos)
	assert.Equal(t, []uint64{codeAddr + 7}, eips, "EIP is past the int 0x80")
	assert.Equal(t, uint64(3), reg(t, e, ECX))
}

func TestCodeHookRange(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, cat(insNop, insNop, movEAX(1), insNop, insNop))
	type step struct {
		addr uint64
		size uint32
	}
	var steps []step
	// Unicorn ranges are inclusive: [codeAddr+1, codeAddr+7].
	h, err := e.HookCode(codeAddr+1, codeAddr+7, func(addr uint64, size uint32) { steps = append(steps, step{addr, size}) })
	require.NoError(t, err)
	require.NoError(t, run(e))
	assert.Equal(t, []step{{codeAddr + 1, 1}, {codeAddr + 2, 5}, {codeAddr + 7, 1}}, steps)

	require.NoError(t, e.HookDel(h))
	steps = nil
	require.NoError(t, e.RemoveCache(codeAddr, codeAddr+pageSize))
	require.NoError(t, run(e))
	assert.Empty(t, steps, "deleted hook is not called")
	assert.Error(t, e.HookDel(h), "double delete")
	assert.Error(t, e.HookDel(Hook{}))
}

func TestBlockHookReportsBlocks(t *testing.T) {
	e := newEngine(t, Mode64)
	// mov ecx, 3; l: dec ecx; jnz l
	loadCode(t, e, cat(movECX(3), insDecECX, jnzRel8(codeAddr+7, codeAddr+5)))
	type block struct {
		addr uint64
		size uint32
	}
	var blocks []block
	_, err := e.HookBlock(1, 0, func(addr uint64, size uint32) { blocks = append(blocks, block{addr, size}) })
	require.NoError(t, err)
	require.NoError(t, run(e))
	// The block at until (exitAddr) is never reported: Start returns first.
	assert.Equal(t, []block{{codeAddr, 9}, {codeAddr + 5, 4}, {codeAddr + 5, 4}, {codeAddr + 9, 5}}, blocks)
}

// TestStopInBlockHookSkipsTheBlock pins the 2.0.1 behaviour the accounting
// hook relies on: Stop from a block hook returns BEFORE that block runs, with
// RIP at the block's address.
func TestStopInBlockHookSkipsTheBlock(t *testing.T) {
	e := newEngine(t, Mode64)
	// mov ecx, 10; l: dec ecx; jnz l
	loadCode(t, e, cat(movECX(10), insDecECX, jnzRel8(codeAddr+7, codeAddr+5)))
	calls := 0
	_, err := e.HookBlock(1, 0, func(uint64, uint32) {
		calls++
		if calls == 3 {
			require.NoError(t, e.Stop())
		}
	})
	require.NoError(t, err)
	require.NoError(t, run(e))
	// Block 1 decremented to 9, block 2 to 8; block 3 was stopped.
	assert.Equal(t, uint64(8), reg(t, e, RCX))
	assert.Equal(t, uint64(codeAddr+5), pc(t, e))
}

// The page faults of a virtual engine (vm.c): an access the page table
// refuses ends Start with CodeException, PageFault describes it, and the PC
// is the faulting instruction's.

func TestFetchFromNonExecPage(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, insNop)
	mapPage(t, e, 0x60000, ProtRead|ProtWrite)
	hostWrite(t, e, 0x60000, insNop)
	err := e.Start(0x60000, exitAddr, 0, 0)
	assert.Equal(t, CodeException, ErrorCode(err))
	assert.Equal(t, "unicorn: emu_start: Unhandled CPU exception (UC_ERR_EXCEPTION)", err.Error())
	pf, ok := e.PageFault()
	require.True(t, ok)
	assert.Equal(t, PageFault{Page: 0x60000, Access: MemFetch, Mapped: true}, pf)
	assert.Equal(t, uint64(0x60000), pc(t, e))
	assert.Equal(t, "fetch", MemFetch.String())
}

func TestFetchFromUnmappedPage(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, cat(insNop, jmpRel32(codeAddr+1, 0x70000)))
	assert.Equal(t, CodeException, ErrorCode(run(e)))
	pf, ok := e.PageFault()
	require.True(t, ok)
	assert.Equal(t, PageFault{Page: 0x70000, Access: MemFetch}, pf)
	assert.Equal(t, uint64(0x70000), pc(t, e), "the PC is the fetched address")
	// The next Start forgets the fault.
	require.NoError(t, e.Start(codeAddr+6, exitAddr, 0, 0))
	_, ok = e.PageFault()
	assert.False(t, ok)
}

// TestTranslatorMapsOnMiss: a page the table lacks is asked of the
// translator, which may map it there and then (demand paging, stack
// growth); the access goes on without leaving the block. Later accesses
// use the table, not the translator.
func TestTranslatorMapsOnMiss(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, cat(insNop, movRAXAbs(0x50000), movRAXAbs(0x50008)))
	sp := spaces[e]
	sp.onMiss = func(page uint64) {
		if page == 0x50000 {
			mapPage(t, e, page, ProtRead)
			hostWrite(t, e, page, []byte{1, 2, 3, 4, 5, 6, 7, 8})
		}
	}
	require.NoError(t, run(e))
	assert.Equal(t, uint64(0), reg(t, e, RAX), "the second load read zeros")
	assert.Equal(t, []uint64{codeAddr, 0x50000}, sp.translations, "one miss per page")
	paddr, p, ok := e.PTE(0x50008)
	require.True(t, ok)
	assert.Equal(t, ProtRead, p)
	assert.Equal(t, uint64(physBase+sp.pages[0x50000].phys*pageSize), paddr)
	assert.Equal(t, uint64(2), e.VMStats().Entries)
}

// TestPageFaultStateIsExact pins what 2.1.1 leaves after a data fault in
// the middle of a translated block: the PC is the faulting instruction
// (Unicorn restores the CPU state before raising it; 2.0.1 left the block
// start), and the registers and EFLAGS are those after the instructions
// before it.
func TestPageFaultStateIsExact(t *testing.T) {
	// mov eax, 5; add eax, eax; nop; mov rax, [0x50000] (faults); nop
	code := cat(movEAX(5), []byte{0x01, 0xc0}, insNop, movRAXAbs(0x50000), insNop)
	const faulting = codeAddr + 8
	e := newEngine(t, Mode64)
	loadCode(t, e, code)
	assert.Equal(t, CodeException, ErrorCode(run(e)))
	pf, ok := e.PageFault()
	require.True(t, ok)
	assert.Equal(t, PageFault{Page: 0x50000, Access: MemRead}, pf)
	assert.Equal(t, uint64(faulting), pc(t, e))
	assert.Equal(t, uint64(10), reg(t, e, RAX), "earlier instructions of the block ran")
	// After `add eax, eax` (5+5): PF set, the reserved bit 1.
	assert.Equal(t, uint64(0x6), reg(t, e, EFLAGS)&0xfff)
}

func TestWriteFaultRetriesAfterMapping(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, cat(movEAX(0x1234), movAbsRAX(0x50008)))
	spaces[e].onMiss = func(page uint64) { mapPage(t, e, page, ProtRead|ProtWrite) }
	require.NoError(t, run(e))
	assert.Equal(t, []byte{0x34, 0x12}, hostBytes(t, e, 0x50008, 2), "the store landed")
}

func TestWriteToReadOnlyPage(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, movAbsRAX(dataAddr))
	protectPage(t, e, dataAddr, ProtRead)
	assert.Equal(t, CodeException, ErrorCode(run(e)))
	pf, ok := e.PageFault()
	require.True(t, ok)
	assert.Equal(t, PageFault{Page: dataAddr, Access: MemWrite, Mapped: true}, pf)
	assert.Equal(t, uint64(codeAddr), pc(t, e))
}

// TestPermissionsNeedAFlushToShrink pins why ProtectPages flushes the TLB:
// a permission the page table takes away is still granted by Unicorn's
// soft TLB until a flush. Giving one needs nothing (a missing permission
// is a TLB miss, which refills from the table).
func TestPermissionsNeedAFlushToShrink(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, movAbsRAX(dataAddr))
	require.NoError(t, run(e))
	// The translator agrees (a write refused by the table asks it again,
	// for copy on write).
	sp := spaces[e]
	p := sp.pages[dataAddr]
	p.prot = ProtRead
	sp.pages[dataAddr] = p
	e.setPermsWithoutFlush(dataAddr, dataAddr+pageSize, ProtRead)
	assert.NoError(t, run(e), "the stale TLB entry still grants the write")
	require.NoError(t, e.FlushTLB())
	assert.Equal(t, CodeException, ErrorCode(run(e)))
	protectPage(t, e, dataAddr, ProtRead|ProtWrite)
	assert.NoError(t, run(e), "write given back without a flush")
	protectPage(t, e, dataAddr, ProtRead)
	assert.Equal(t, CodeException, ErrorCode(run(e)), "ProtectPages flushed")
}

func TestInvalidInstructionHook(t *testing.T) {
	for _, tc := range []struct {
		name string
		insn []byte
	}{{"ud2", insUD2}, {"0f ff", insUD0}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, Mode64)
			loadCode(t, e, cat(insNop, tc.insn, movEAX(7)))
			var rips []uint64
			_, err := e.HookInvalidInsn(func() bool {
				rips = append(rips, pc(t, e))
				require.NoError(t, e.RegWrite(RIP, pc(t, e)+2))
				return true
			})
			require.NoError(t, err)
			// Returning true ends Start WITHOUT running further, and (in
			// 2.1.1; 2.0.1 returned no error) with CodeException: the
			// caller resumes from RIP.
			assert.Equal(t, CodeException, ErrorCode(run(e)))
			assert.Equal(t, []uint64{codeAddr + 1}, rips, "RIP is the invalid instruction")
			assert.Equal(t, uint64(codeAddr+3), pc(t, e))
			assert.Equal(t, uint64(0), reg(t, e, RAX), "nothing ran after the hook")

			require.NoError(t, e.Start(pc(t, e), exitAddr, 0, 0))
			assert.Equal(t, uint64(7), reg(t, e, RAX))
		})
	}
	t.Run("unhandled", func(t *testing.T) {
		e := newEngine(t, Mode64)
		loadCode(t, e, cat(insNop, insUD2))
		calls := 0
		_, err := e.HookInvalidInsn(func() bool { calls++; return false })
		require.NoError(t, err)
		err = run(e)
		assert.Equal(t, CodeInsnInvalid, ErrorCode(err))
		assert.Equal(t, "unicorn: emu_start: Invalid instruction (UC_ERR_INSN_INVALID)", err.Error())
		assert.Equal(t, 1, calls)
		assert.Equal(t, uint64(codeAddr+1), pc(t, e))
	})
}

func TestDivideByZeroIsInterrupt0(t *testing.T) {
	e := newEngine(t, Mode64)
	// nop; xor ecx, ecx; div ecx
	loadCode(t, e, cat(insNop, []byte{0x31, 0xc9, 0xf7, 0xf1}))
	var intnos []uint32
	var rips []uint64
	_, err := e.HookInterrupt(func(intno uint32) {
		intnos = append(intnos, intno)
		rips = append(rips, pc(t, e))
		// A fault re-executes the instruction on return: stop instead.
		require.NoError(t, e.Stop())
	})
	require.NoError(t, err)
	require.NoError(t, run(e))
	assert.Equal(t, []uint32{0}, intnos)
	assert.Equal(t, []uint64{codeAddr + 3}, rips, "RIP is the faulting div")

	e2 := newEngine(t, Mode64)
	loadCode(t, e2, cat(insNop, []byte{0x31, 0xc9, 0xf7, 0xf1}))
	err = run(e2)
	assert.Equal(t, CodeException, ErrorCode(err), "without a hook the exception ends Start")
	assert.Equal(t, uint64(codeAddr+3), pc(t, e2))
}

// TestCPUIDHook pins the hook's return value: true skips the native cpuid
// (the registers the hook wrote are the result), false runs it after the hook.
func TestCPUIDHook(t *testing.T) {
	for _, skip := range []bool{false, true} {
		e := newEngine(t, Mode64)
		// The guest asks for leaf 1; the hook switches it to leaf 0.
		loadCode(t, e, cat(movEAX(1), insCPUID))
		var rips []uint64
		_, err := e.HookCPUID(func() bool {
			rips = append(rips, pc(t, e))
			require.NoError(t, e.RegWriteBatch([]Reg{RAX, RBX, RCX, RDX}, []uint64{0, 0x11111111, 0x22222222, 0x33333333}))
			return skip
		})
		require.NoError(t, err)
		require.NoError(t, run(e))
		assert.Equal(t, []uint64{codeAddr + 5}, rips, "RIP is the cpuid instruction")
		got := make([]uint64, 3)
		require.NoError(t, e.RegReadBatch([]Reg{RBX, RCX, RDX}, got))
		if skip {
			assert.Equal(t, []uint64{0x11111111, 0x22222222, 0x33333333}, got)
		} else {
			// The native cpuid ran with the hook's EAX (leaf 0): the
			// skylake-client model's vendor string "GenuineIntel" in ebx,
			// edx, ecx.
			assert.Equal(t, []uint64{0x756e6547, 0x6c65746e, 0x49656e69}, got)
		}
	}
}

func TestCallbackPanicBecomesError(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, cat(insInt3, movEAX(1)))
	_, err := e.HookInterrupt(func(uint32) { panic("boom") })
	require.NoError(t, err)
	err = run(e)
	var p *CallbackPanic
	require.ErrorAs(t, err, &p)
	assert.Equal(t, "boom", p.Value)
	assert.Equal(t, "unicorn: Go callback panicked: boom", err.Error())
	assert.NotEmpty(t, p.Stack)
	assert.Equal(t, uint64(0), reg(t, e, RAX), "the engine stopped")
}

func TestNilCallbacksRejected(t *testing.T) {
	e := newEngine(t, Mode64)
	_, err := e.HookInterrupt(nil)
	assert.Error(t, err)
	_, err = e.HookCode(1, 0, nil)
	assert.Error(t, err)
	_, err = e.HookInvalidInsn(nil)
	assert.Error(t, err)
	assert.Error(t, e.EnableAccounting(nil))
	_, err = OpenWith(Mode64, Options{CPUModel: CPUModel(999)})
	assert.Error(t, err, "an unknown CPU model")
}

func TestHookDelFromOtherEngine(t *testing.T) {
	a := newEngine(t, Mode64)
	b := newEngine(t, Mode64)
	h, err := a.HookInterrupt(func(uint32) {})
	require.NoError(t, err)
	assert.Error(t, b.HookDel(h))
	require.NoError(t, a.HookDel(h))
}
