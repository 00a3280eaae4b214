package uc

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The binding's share of an out-of-line probe hit (probes' ssol-stack
// strategy), without the mmu, machine and probe engine above it: a guest
// loop whose int3 traps into a Go interrupt hook that copies the original
// instruction to a stack page, makes the page executable and single-steps
// the copy; the #DB hook moves the ip back and makes the page
// non-executable again.
//
// Run with: go test -run '^$' -bench 'SSOLHit|Retranslate|StartStop' ./emu/uc/

const hitLoopN = 20_000

// imulEDI is `imul edi, edi, 0x9e3779b1` (69 ff imm32), the fixture's probed
// instruction.
var imulEDI = []byte{0x69, 0xff, 0xb1, 0x79, 0x37, 0x9e}

// hitLoop: mov ecx, N; l: int3 <5 bytes of the imul>; dec ecx; jnz l.
// The int3 stands for the probe; the bytes after it never run in place.
func hitLoop() (code []byte, probe uint64) {
	probe = codeAddr + 5
	body := cat(insInt3, imulEDI[1:], insDecECX)
	end := probe + uint64(len(body))
	return cat(movECX(hitLoopN), body, jnzRel8(end, probe)), probe
}

// benchSSOLHit runs the loop. With fence, the page is fenced when it loses
// EXEC and the copy is written once (what emu and mmu do: an unchanged copy
// is not rewritten); without, every hit writes the copy and drops the
// page's translations and costs, so the copy is translated again on every
// hit.
func benchSSOLHit(b *testing.B, fence bool) {
	e := newEngine(b, Mode64)
	code, probe := hitLoop()
	loadCode(b, e, code)
	enableFakeAccounting(b)(e)
	slot := uint64(stackAddr)
	resume := probe + uint64(len(imulEDI))
	slotMem := hostBytes(b, e, slot, len(imulEDI))
	var hookErr error
	note := func(err error) {
		if err != nil && hookErr == nil {
			hookErr = err
		}
	}
	_, err := e.HookInterrupt(func(intno uint32) {
		switch intno {
		case 3:
			if !fence {
				copy(slotMem, imulEDI)
				note(e.RemoveCache(slot, slot+uint64(len(imulEDI))))
				e.InvalidateCosts(slot, slot+uint64(len(imulEDI)))
			}
			protectPage(b, e, stackAddr, ProtAll)
			note(e.RegWrite(RIP, slot))
			_, err := e.RegUpdate(EFLAGS, 0, 1<<8)
			note(err)
		case 1:
			note(e.RegWrite(RIP, resume))
			if fence {
				note(e.FenceExec(stackAddr, stackAddr+pageSize))
			} else {
				note(e.RemoveCache(stackAddr, stackAddr+pageSize))
				e.InvalidateCosts(stackAddr, stackAddr+pageSize)
			}
			protectPage(b, e, stackAddr, ProtRead|ProtWrite)
			_, err := e.RegUpdate(EFLAGS, 1<<8, 0)
			note(err)
		}
	})
	require.NoError(b, err)
	copy(slotMem, imulEDI)
	require.NoError(b, run(e))
	require.NoError(b, hookErr)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := run(e); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	require.NoError(b, hookErr)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*hitLoopN)/1000, "us/hit")
}

func BenchmarkSSOLHit(b *testing.B) {
	b.Run("drop", func(b *testing.B) { benchSSOLHit(b, false) })
	b.Run("fence", func(b *testing.B) { benchSSOLHit(b, true) })
}

// BenchmarkRetranslate: dropping and translating again one block (an
// imul and the jmp to the exit), plus a Start. Compare with
// BenchmarkStartStop: translating is the expensive part, whatever hooks
// are installed.
func BenchmarkRetranslate(b *testing.B) {
	e := newEngine(b, Mode64)
	loadCode(b, e, imulEDI)
	enableFakeAccounting(b)(e)
	require.NoError(b, run(e))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.RemoveCache(codeAddr, codeAddr+1); err != nil {
			b.Fatal(err)
		}
		// Reaching until also translates the exit block anew (Unicorn
		// drops the translation at until-1 after every run).
		if err := run(e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStartStop: a Start that runs one translated block and stops in
// an interrupt hook, never reaching until: the fixed cost of resuming a
// vCPU.
func BenchmarkStartStop(b *testing.B) {
	e := newEngine(b, Mode64)
	loadCode(b, e, cat(insNop, insInt3, insNop))
	enableFakeAccounting(b)(e)
	_, err := e.HookInterrupt(func(uint32) { e.Stop() })
	require.NoError(b, err)
	require.NoError(b, run(e))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := run(e); err != nil {
			b.Fatal(err)
		}
	}
}
