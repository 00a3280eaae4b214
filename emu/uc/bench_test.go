package uc

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Run with: go test -run '^$' -bench . -benchtime 3x ./emu/uc/
//
// Each benchmark iteration runs a whole guest loop; ns/insn divides the
// elapsed time by the guest instructions executed.

const (
	regLoopIters = 20_000_000 // 5 insns each: ~100M instructions per run
	memLoopIters = 2_000_000  // 3 insns each
)

// regLoop: mov ecx, N; l: add rax, rbx; xor rdx, rax; inc rbx; dec rcx; jnz l
func regLoop() (code []byte, insns uint64) {
	body := []byte{
		0x48, 0x01, 0xd8, // add rax, rbx
		0x48, 0x31, 0xc2, // xor rdx, rax
		0x48, 0xff, 0xc3, // inc rbx
		0x48, 0xff, 0xc9, // dec rcx
	}
	code = cat(movECX(regLoopIters), body, jnzRel8(codeAddr+5+uint64(len(body)), codeAddr+5))
	return code, 1 + 5*regLoopIters + 1
}

// memLoop: mov ecx, N; l: <access>; dec rcx; jnz l
func memLoop(access []byte) (code []byte, insns uint64) {
	body := cat(access, []byte{0x48, 0xff, 0xc9}) // dec rcx
	code = cat(movECX(memLoopIters), body, jnzRel8(codeAddr+5+uint64(len(body)), codeAddr+5))
	return code, 1 + 3*memLoopIters + 1
}

func benchLoop(b *testing.B, code []byte, insns uint64, setup func(e *Engine)) {
	benchLoopOn(b, newEngine(b, Mode64), code, insns, setup)
}

func benchLoopOn(b *testing.B, e *Engine, code []byte, insns uint64, setup func(e *Engine)) {
	loadCode(b, e, code)
	if setup != nil {
		setup(e)
	}
	require.NoError(b, run(e)) // translate once outside the timed part
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := run(e); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(uint64(b.N)*insns), "ns/insn")
}

func enableFakeAccounting(b testing.TB) func(e *Engine) {
	return func(e *Engine) {
		require.NoError(b, e.EnableAccounting(func(addr uint64, size uint32) (uint32, uint64) {
			return size / 3, uint64(size) * 256
		}))
		c := NewCounters()
		b.Cleanup(c.Free)
		e.SetCounters(c)
	}
}

func BenchmarkRawLoop(b *testing.B) {
	code, n := regLoop()
	benchLoop(b, code, n, nil)
}

func BenchmarkAccountedLoop(b *testing.B) {
	code, n := regLoop()
	benchLoop(b, code, n, enableFakeAccounting(b))
}

// BenchmarkLoadLoop: one 8-byte load per 3 instructions.
func BenchmarkLoadLoop(b *testing.B) {
	code, n := memLoop(movRAXAbs(dataAddr))
	benchLoop(b, code, n, nil)
}

// BenchmarkStoreLoop: one 8-byte store per 3 instructions, to a data page
// that holds no code. (In 2.0.1 every guest store took the softmmu slow
// path, notdirty_write; 2.1 fixed it.)
func BenchmarkStoreLoop(b *testing.B) {
	code, n := memLoop(movAbsRAX(dataAddr + 8))
	benchLoop(b, code, n, nil)
}

// BenchmarkStoreLoopPhysical: the same on an engine without a virtual TLB,
// the anchor for what the page table costs.
func BenchmarkStoreLoopPhysical(b *testing.B) {
	code, n := memLoop(movAbsRAX(dataAddr + 8))
	benchLoopOn(b, newPhysEngine(b, Mode64), code, n, nil)
}

// BenchmarkRawLoopPhysical: the register loop without a virtual TLB.
func BenchmarkRawLoopPhysical(b *testing.B) {
	code, n := regLoop()
	benchLoopOn(b, newPhysEngine(b, Mode64), code, n, nil)
}

// BenchmarkNoopBlockHookLoop: the register loop with a C block hook that
// only counts, the floor of any per-block accounting (BenchmarkAccountedLoop
// against it is the accounting's own work).
func BenchmarkNoopBlockHookLoop(b *testing.B) {
	code, n := regLoop()
	benchLoop(b, code, n, func(e *Engine) {
		_, free, err := e.hookNoopBlock()
		require.NoError(b, err)
		b.Cleanup(free)
		require.NoError(b, e.removeTranslations(0, ^uint64(0)))
	})
}

// BenchmarkGoBlockHookLoop: the register loop with a no-op Go block hook,
// i.e. one Go callback per 5 instructions (reports ns per callback too).
func BenchmarkGoBlockHookLoop(b *testing.B) {
	code, n := regLoop()
	benchLoop(b, code, n, func(e *Engine) {
		_, err := e.HookBlock(1, 0, func(uint64, uint32) {})
		require.NoError(b, err)
	})
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(uint64(b.N)*(regLoopIters+2)), "ns/callback")
}

// BenchmarkInvalidateCostsPage: dropping the costs of one 4 KiB code page
// (the contiguous-slot path), as done when a probe is written.
func BenchmarkInvalidateCostsPage(b *testing.B) {
	e := newEngine(b, Mode64)
	enableFakeAccounting(b)(e)
	for i := 0; i < b.N; i++ {
		e.InvalidateCosts(0x400000, 0x401000)
	}
}

// BenchmarkInvalidateCostsProbe: dropping the costs around a 5-byte probe.
func BenchmarkInvalidateCostsProbe(b *testing.B) {
	e := newEngine(b, Mode64)
	enableFakeAccounting(b)(e)
	code, _ := regLoop()
	loadCode(b, e, code)
	require.NoError(b, run(e)) // max cached block size is now known
	for i := 0; i < b.N; i++ {
		e.InvalidateCosts(codeAddr+8, codeAddr+13)
	}
}

// BenchmarkRemoveCacheProbe: dropping the translations around a 5-byte
// probe (one page-table lookup and one uc_ctl_remove_cache).
func BenchmarkRemoveCacheProbe(b *testing.B) {
	e := newEngine(b, Mode64)
	code, _ := regLoop()
	loadCode(b, e, code)
	require.NoError(b, run(e))
	for i := 0; i < b.N; i++ {
		if err := e.RemoveCache(codeAddr+8, codeAddr+13); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSetCounters: the per-vCPU-switch cost of SetCounters.
func BenchmarkSetCounters(b *testing.B) {
	e := newEngine(b, Mode64)
	enableFakeAccounting(b)(e)
	c1, c2 := NewCounters(), NewCounters()
	defer c1.Free()
	defer c2.Free()
	for i := 0; i < b.N; i++ {
		e.SetCounters(c1)
		e.SetCounters(c2)
	}
	e.SetCounters(nil)
}
