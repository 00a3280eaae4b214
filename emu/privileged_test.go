package emu

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/kernel"
)

// TestTSCIsTheCycleClock: rdtsc and rdtscp at CPL 3 answer the vCPU's
// cycle clock (CR4.TSD makes them fault and the Core answers), not the
// host's TSC, and they do so every time.
func TestTSCIsTheCycleClock(t *testing.T) {
	code := []byte{
		0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, // mov rax, -1
		0x48, 0x89, 0xc2, // mov rdx, rax
		0x48, 0x89, 0xc1, // mov rcx, rax
		0x0f, 0x01, 0xf9, // rdtscp
		0x49, 0x89, 0xc0, // mov r8, rax
		0x49, 0x89, 0xd1, // mov r9, rdx
		0x49, 0x89, 0xca, // mov r10, rcx
		0x0f, 0x31, // rdtsc
		0x48, 0x89, 0xc3, // mov rbx, rax
		0x0f, 0x31, // rdtsc
		0x48, 0x89, 0xc6, // mov rsi, rax
		0x0f, 0x01, 0xf9, // rdtscp
		0x48, 0x89, 0xc5, // mov rbp, rax
	}
	code = append(code, exitWith(0)...)
	tc := newTestCore(t, code)
	ev, err := tc.Run(codeAddr)
	require.NoError(t, err)
	require.Equal(t, EventExitGroup, ev.Kind, "fault %+v", ev.Fault)
	regs := []uc.Reg{uc.RBX, uc.RSI, uc.RBP}
	vals := make([]uint64, 3)
	require.NoError(t, tc.Engine().RegReadBatch(regs, vals))
	// Each read is the clock of the block it ran in: a handful of cycles,
	// never the host's TSC (billions), in order, and the same every run.
	assert.Greater(t, vals[0], uint64(0))
	assert.LessOrEqual(t, vals[0], vals[1])
	assert.LessOrEqual(t, vals[1], vals[2])
	assert.Less(t, vals[2], tc.cnt.Cycles()+1)
	// The upper halves are cleared, as the CPU zero-extends EAX, EDX, ECX.
	var high [3]uint64
	require.NoError(t, tc.Engine().RegReadBatch([]uc.Reg{uc.R8, uc.R9, uc.R10}, high[:]))
	assert.Less(t, high[0], uint64(1)<<32, "rax")
	assert.Equal(t, uint64(0), high[1], "rdx: a few cycles in, the high word is 0")
	assert.Equal(t, uint64(0), high[2], "rcx: TSC_AUX")
	again := newTestCore(t, code)
	_, err = again.Run(codeAddr)
	require.NoError(t, err)
	vals2 := make([]uint64, 3)
	require.NoError(t, again.Engine().RegReadBatch(regs, vals2))
	assert.Equal(t, vals, vals2, "deterministic")
}

// TestPortIOIsRefused: in and out at CPL 3 are a general protection fault,
// as on the CPU (Unicorn would run them).
func TestPortIOIsRefused(t *testing.T) {
	for _, insn := range [][]byte{{0xe4, 0x60}, {0xe6, 0x80}, {0xec}, {0xee}} { // in al,0x60; out 0x80,al; in al,dx; out dx,al
		tc := newTestCore(t, append(append([]byte{0x90}, insn...), exitWith(0)...))
		ev, err := tc.Run(codeAddr)
		require.NoError(t, err)
		require.Equal(t, EventFault, ev.Kind, "% x", insn)
		assert.Equal(t, kernel.SIGSEGV, ev.Signal)
		assert.Equal(t, "general protection", ev.Fault.Kind)
		assert.Equal(t, uint64(codeAddr+1), ev.Fault.RIP)
	}
}
