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

func TestFetchFromNonExecPage(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, insNop)
	require.NoError(t, e.Map(0x60000, pageSize, ProtRead|ProtWrite))
	require.NoError(t, e.MemWrite(0x60000, insNop))
	type fault struct {
		access MemAccess
		addr   uint64
		rip    uint64
	}
	var faults []fault
	_, err := e.HookMemFault(func(access MemAccess, addr uint64, size int, value int64) bool {
		faults = append(faults, fault{access, addr, pc(t, e)})
		return false
	})
	require.NoError(t, err)
	err = e.Start(0x60000, exitAddr, 0, 0)
	require.Error(t, err)
	assert.Equal(t, CodeFetchProt, ErrorCode(err))
	assert.Equal(t, "unicorn: emu_start: Fetch from non-executable memory (UC_ERR_FETCH_PROT)", err.Error())
	assert.Equal(t, []fault{{MemFetchProt, 0x60000, 0x60000}}, faults)
	assert.Equal(t, "fetch-prot", MemFetchProt.String())
}

func TestFetchFromUnmappedPage(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, cat(insNop, jmpRel32(codeAddr+1, 0x70000)))
	var accesses []MemAccess
	var addrs, rips []uint64
	_, err := e.HookMemFault(func(access MemAccess, addr uint64, size int, value int64) bool {
		accesses = append(accesses, access)
		addrs = append(addrs, addr)
		rips = append(rips, pc(t, e))
		return false
	})
	require.NoError(t, err)
	assert.Equal(t, CodeFetchUnmapped, ErrorCode(run(e)))
	assert.Equal(t, []MemAccess{MemFetchUnmapped}, accesses)
	assert.Equal(t, []uint64{0x70000}, addrs)
	assert.Equal(t, []uint64{0x70000}, rips, "RIP is the fetched address")
	assert.Equal(t, uint64(0x70000), pc(t, e))
}

func TestUnmappedReadMappedInHookRetries(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, cat(insNop, movRAXAbs(0x50000)))
	var accesses []MemAccess
	var sizes []int
	_, err := e.HookMemFault(func(access MemAccess, addr uint64, size int, value int64) bool {
		accesses = append(accesses, access)
		sizes = append(sizes, size)
		require.NoError(t, e.Map(addr&^(pageSize-1), pageSize, ProtRead))
		require.NoError(t, e.MemWrite(addr, []byte{1, 2, 3, 4, 5, 6, 7, 8}))
		return true
	})
	require.NoError(t, err)
	require.NoError(t, run(e))
	assert.Equal(t, []MemAccess{MemReadUnmapped}, accesses)
	assert.Equal(t, []int{8}, sizes)
	assert.Equal(t, uint64(0x0807060504030201), reg(t, e, RAX))
}

// TestRIPInMemFaultHook pins what RIP reads during and after a data fault in
// the middle of a translated block: the START of the block, not the faulting
// instruction (2.0.1 syncs the PC only at block starts). General registers
// do reflect the instructions before the fault; EFLAGS does not (it comes out
// wrong). EnablePreciseFaultPC makes RIP exact.
func TestRIPInMemFaultHook(t *testing.T) {
	// mov eax, 5; add eax, eax; nop; mov rax, [0x50000] (faults); nop
	code := cat(movEAX(5), []byte{0x01, 0xc0}, insNop, movRAXAbs(0x50000), insNop)
	const faulting = codeAddr + 8
	for _, tc := range []struct {
		name    string
		precise bool
		wantRIP uint64
	}{
		{"default", false, codeAddr},
		{"precise", true, faulting},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, Mode64)
			loadCode(t, e, code)
			require.NoError(t, e.Map(0x50000, pageSize, ProtRead))
			require.NoError(t, run(e), "translate the block before EnablePreciseFaultPC")
			require.NoError(t, e.Unmap(0x50000, pageSize))
			require.NoError(t, e.RegWrite(RAX, 0))
			if tc.precise {
				require.NoError(t, e.EnablePreciseFaultPC())
				require.NoError(t, e.EnablePreciseFaultPC(), "idempotent")
			}
			var hookRIP, hookRAX uint64
			_, err := e.HookMemFault(func(access MemAccess, addr uint64, size int, value int64) bool {
				hookRIP, hookRAX = pc(t, e), reg(t, e, RAX)
				return false
			})
			require.NoError(t, err)
			err = run(e)
			assert.Equal(t, CodeReadUnmapped, ErrorCode(err))
			assert.Equal(t, tc.wantRIP, hookRIP, "RIP inside the hook")
			assert.Equal(t, tc.wantRIP, pc(t, e), "RIP after Start fails")
			assert.Equal(t, uint64(10), hookRAX, "earlier instructions of the block ran")
			assert.Equal(t, uint64(10), reg(t, e, RAX))
			// After `add eax, eax` (5+5) the real EFLAGS is 0x6 (PF); 2.0.1
			// reports a stale lazy-flags computation instead.
			assert.Equal(t, uint64(0x7), reg(t, e, EFLAGS))
		})
	}
}

func TestWriteFaultReportsValue(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, cat(movEAX(0x1234), movAbsRAX(0x50008)))
	var values []int64
	var accesses []MemAccess
	_, err := e.HookMemFault(func(access MemAccess, addr uint64, size int, value int64) bool {
		accesses = append(accesses, access)
		values = append(values, value)
		require.NoError(t, e.Map(0x50000, pageSize, ProtRead|ProtWrite))
		return true
	})
	require.NoError(t, err)
	require.NoError(t, run(e))
	assert.Equal(t, []MemAccess{MemWriteUnmapped}, accesses)
	assert.Equal(t, []int64{0x1234}, values)
	buf := make([]byte, 2)
	require.NoError(t, e.MemRead(0x50008, buf))
	assert.Equal(t, []byte{0x34, 0x12}, buf, "the retried store landed")
}

func TestWriteToReadOnlyPage(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, movAbsRAX(dataAddr))
	require.NoError(t, e.Protect(dataAddr, pageSize, ProtRead))
	var accesses []MemAccess
	_, err := e.HookMemFault(func(access MemAccess, addr uint64, size int, value int64) bool {
		accesses = append(accesses, access)
		return false
	})
	require.NoError(t, err)
	assert.Equal(t, CodeWriteProt, ErrorCode(run(e)))
	assert.Equal(t, []MemAccess{MemWriteProt}, accesses)
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
			// Returning true ends Start without error and WITHOUT running
			// further: the caller resumes from RIP.
			require.NoError(t, run(e))
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
			// The native cpuid ran with the hook's EAX (leaf 0): qemu64's
			// vendor string "AuthenticAMD" in ebx, edx, ecx.
			assert.Equal(t, []uint64{0x68747541, 0x444d4163, 0x69746e65}, got)
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
	_, err = e.HookMemFault(nil)
	assert.Error(t, err)
	assert.Error(t, e.EnableAccounting(nil))
}

func TestHookDelFromOtherEngine(t *testing.T) {
	a := newEngine(t, Mode64)
	b := newEngine(t, Mode64)
	h, err := a.HookInterrupt(func(uint32) {})
	require.NoError(t, err)
	assert.Error(t, b.HookDel(h))
	require.NoError(t, a.HookDel(h))
}
