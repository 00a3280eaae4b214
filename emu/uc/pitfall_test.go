package uc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStopKeptWhenHookAlsoWritesRIP pins the fix (2.1.0) of a 2.0.1 bug:
// writing RIP and calling Stop in the same hook lost the stop. Now the run
// stops, with RIP where the hook put it.
func TestStopKeptWhenHookAlsoWritesRIP(t *testing.T) {
	e := newEngine(t, Mode64)
	// int3; mov eax, 1; mov ecx, 2
	loadCode(t, e, cat(insInt3, movEAX(1), movECX(2)))
	_, err := e.HookInterrupt(func(uint32) {
		require.NoError(t, e.RegWrite(RIP, codeAddr+6))
		require.NoError(t, e.Stop())
	})
	require.NoError(t, err)
	require.NoError(t, run(e))
	assert.Equal(t, uint64(codeAddr+6), pc(t, e), "the stop was kept")
	assert.Equal(t, uint64(0), reg(t, e, RCX), "nothing ran after the hook")
	assert.Equal(t, uint64(0), reg(t, e, RAX))
}

// TestStopInInterruptHook: without a RIP write, Stop from an interrupt hook
// ends the run right after the int3.
func TestStopInInterruptHook(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, cat(insInt3, movEAX(1)))
	_, err := e.HookInterrupt(func(uint32) { require.NoError(t, e.Stop()) })
	require.NoError(t, err)
	require.NoError(t, run(e))
	assert.Equal(t, uint64(codeAddr+1), pc(t, e))
	assert.Equal(t, uint64(0), reg(t, e, RAX))
}

// TestStopInCodeHook: Stop from a code hook returns before that instruction.
func TestStopInCodeHook(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, cat(movEAX(1), movECX(2)))
	_, err := e.HookCode(codeAddr+5, codeAddr+5, func(uint64, uint32) { require.NoError(t, e.Stop()) })
	require.NoError(t, err)
	require.NoError(t, run(e))
	assert.Equal(t, uint64(codeAddr+5), pc(t, e))
	assert.Equal(t, uint64(1), reg(t, e, RAX))
	assert.Equal(t, uint64(0), reg(t, e, RCX))
}

// TestStopInSyscallHook: Stop from the syscall hook returns after the
// syscall, RIP past it.
func TestStopInSyscallHook(t *testing.T) {
	e := newEngine(t, Mode64)
	loadCode(t, e, cat(insSyscall, movEAX(1)))
	_, err := e.HookSyscall(func() { require.NoError(t, e.Stop()) })
	require.NoError(t, err)
	require.NoError(t, run(e))
	assert.Equal(t, uint64(codeAddr+2), pc(t, e))
	assert.Equal(t, uint64(0), reg(t, e, RAX))
}
