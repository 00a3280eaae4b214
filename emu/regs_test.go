package emu

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/kernel"
)

// TestSyscallSeesAndSetsFullRegisters: inside a syscall the kernel reads
// the task's registers with the ip after the syscall instruction (as
// pt_regs has it), and a syscall that sets them (as sigreturn does) makes
// the task resume there with them, the return register included, and
// nothing written over them.
func TestSyscallSeesAndSetsFullRegisters(t *testing.T) {
	code := []byte{
		0xbb, 0x05, 0, 0, 0, // mov ebx, 5
		0xb8, 39, 0, 0, 0, // mov eax, 39 (getpid)
		0x0f, 0x05, // syscall
	}
	after := uint64(codeAddr + len(code))
	code = append(code, exitWith(1)...) // not reached
	target := uint64(codeAddr + 0x100)
	code = append(code, make([]byte, 0x100-len(code))...)
	code = append(code, 0x89, 0xdf)                     // mov edi, ebx
	code = append(code, 0xb8, 231, 0, 0, 0, 0x0f, 0x05) // exit_group(edi)
	tc := newTestCore(t, code)
	var seen kernel.Regs
	tc.kernel.Register("getpid", func(k *kernel.Kernel, task *kernel.Task, a kernel.Args) (uint64, kernel.Result) {
		cpu := task.CPU.(kernel.RegsCPU)
		r, err := cpu.Regs()
		require.NoError(t, err)
		seen = r
		r.BX, r.IP, r.AX = 42, target, 1234
		require.NoError(t, cpu.SetRegs(&r))
		return 0, kernel.Result{RegsSet: true}
	})
	ev, err := tc.Run(codeAddr)
	require.NoError(t, err)
	assert.Equal(t, after, seen.IP, "the ip after the syscall instruction")
	assert.Equal(t, uint64(5), seen.BX)
	assert.Equal(t, uint64(39), seen.AX)
	require.Equal(t, EventExitGroup, ev.Kind)
	assert.Equal(t, 42, ev.Status, "resumed at the new ip with the new rbx")
}
