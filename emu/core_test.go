package emu

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/kernel"
	"github.com/probesim/probesim/mmu"
	"github.com/probesim/probesim/timing"
)

const (
	codeAddr  = 0x400000
	stackTop  = 0x7ffffffff000
	stackSize = 0x20000
)

// testCore is a Core on an x86-64 address space with one code page and a
// stack, ready to run hand-assembled code.
type testCore struct {
	*Core
	as     *mmu.AddressSpace
	stdout bytes.Buffer
	cnt    *uc.Counters
}

func newTestCore(t *testing.T, code []byte) *testCore {
	t.Helper()
	as := mmu.New(mmu.Config{TaskSize: mmu.TaskSize64})
	c, err := NewCore(kernel.X8664, as, timing.Default())
	require.NoError(t, err)
	tc := &testCore{Core: c, as: as, cnt: uc.NewCounters()}
	t.Cleanup(func() {
		c.Close()
		tc.cnt.Free()
		as.Close()
	})
	require.NoError(t, as.MapFixed(codeAddr, 0x1000, mmu.ProtRead|mmu.ProtExec, mmu.Anonymous|mmu.Private, "code", 0))
	require.NoError(t, as.WriteForce(codeAddr, code))
	require.NoError(t, as.SetupStack(stackTop, stackSize))
	k := kernel.New(kernel.Config{Arch: kernel.X8664, Mem: as, Stdout: &tc.stdout, PID: 1000})
	c.SetKernel(k)
	c.SetRunning(k.NewTask(1000, c), tc.cnt)
	tc.cnt.SetStopAt(^uint64(0))
	require.NoError(t, c.InitRegisters(Start{PC: codeAddr, SP: stackTop - 64}))
	return tc
}

// exitWith is `mov edi, status; mov eax, 231; syscall` (exit_group).
func exitWith(status byte) []byte {
	return []byte{0xbf, status, 0, 0, 0, 0xb8, 231, 0, 0, 0, 0x0f, 0x05}
}

func TestRunExitStatusAndCounts(t *testing.T) {
	tc := newTestCore(t, exitWith(7))
	ev, err := tc.Run(codeAddr)
	require.NoError(t, err)
	require.Equal(t, EventExitGroup, ev.Kind)
	require.Equal(t, 7, ev.Status)
	// The boot iret is not counted: exactly the three guest instructions.
	require.Equal(t, uint64(3), tc.cnt.Insns())
	prof := timing.Default()
	require.GreaterOrEqual(t, tc.cnt.Cycles(), prof.Kernel.SyscallEntryExit)
}

// TestNoStaleTranslationAfterCodeWrite: code that already ran and was
// translated is rewritten from the host side; the new bytes must run.
func TestNoStaleTranslationAfterCodeWrite(t *testing.T) {
	tc := newTestCore(t, exitWith(1))
	ev, err := tc.Run(codeAddr)
	require.NoError(t, err)
	require.Equal(t, 1, ev.Status)

	require.NoError(t, tc.as.WriteForce(codeAddr+1, []byte{2}))
	ev, err = tc.Run(codeAddr)
	require.NoError(t, err)
	require.Equal(t, EventExitGroup, ev.Kind)
	require.Equal(t, 2, ev.Status, "the stale translation ran")
}

// TestNXAfterMprotect: removing exec from code that already ran makes the
// next fetch fault, with the kernel's error code for an instruction fetch
// from a present page.
func TestNXAfterMprotect(t *testing.T) {
	tc := newTestCore(t, exitWith(1))
	_, err := tc.Run(codeAddr)
	require.NoError(t, err)
	require.Zero(t, tc.as.Mprotect(codeAddr, 0x1000, mmu.ProtRead))
	ev, err := tc.Run(codeAddr)
	require.NoError(t, err)
	require.Equal(t, EventFault, ev.Kind)
	require.Equal(t, kernel.SIGSEGV, ev.Signal)
	require.Equal(t, uint64(codeAddr), ev.Fault.Addr)
	require.Equal(t, uint64(codeAddr), ev.Fault.RIP)
	require.Equal(t, uint64(pfProt|pfUser|pfInstr), ev.Fault.ErrorCode)
	require.Equal(t, "code", ev.Fault.VMA.Name)
}

// TestStackGrowsOnFault: a store 1 MiB below the stack grows the VMA.
func TestStackGrowsOnFault(t *testing.T) {
	code := append([]byte{
		0x48, 0x81, 0xec, 0x00, 0x00, 0x10, 0x00, // sub rsp, 0x100000
		0x89, 0x04, 0x24, // mov [rsp], eax
	}, exitWith(0)...)
	tc := newTestCore(t, code)
	ev, err := tc.Run(codeAddr)
	require.NoError(t, err)
	require.Equal(t, EventExitGroup, ev.Kind, "fault: %+v", ev.Fault)
	v, ok := tc.as.FindVMA(stackTop - 64 - 0x100000)
	require.True(t, ok)
	require.Equal(t, "[stack]", v.Name)
	require.Equal(t, uint64(stackTop), v.End)
}

// TestUnmappedAccessFaults: a load from an unmapped page far from the stack
// is SIGSEGV with error code 4 (user, read, not present).
func TestUnmappedAccessFaults(t *testing.T) {
	code := []byte{
		0x90,       // nop
		0x31, 0xc0, // xor eax, eax
		0x8b, 0x58, 0x10, // mov ebx, [rax+0x10]
	}
	tc := newTestCore(t, code)
	ev, err := tc.Run(codeAddr)
	require.NoError(t, err)
	require.Equal(t, EventFault, ev.Kind)
	require.Equal(t, "segfault", ev.Fault.Kind)
	require.Equal(t, uint64(0x10), ev.Fault.Addr)
	require.Equal(t, uint64(pfUser), ev.Fault.ErrorCode)
	// Unicorn reports the block start; the fault line must name the load.
	require.Equal(t, uint64(codeAddr+3), ev.Fault.RIP)
}

// TestPrivilegedInstructionFaults: the guest runs at CPL 3, so cli raises
// #GP and the process gets SIGSEGV, as on Linux.
func TestPrivilegedInstructionFaults(t *testing.T) {
	tc := newTestCore(t, []byte{0x90, 0xfa}) // nop; cli
	ev, err := tc.Run(codeAddr)
	require.NoError(t, err)
	require.Equal(t, EventFault, ev.Kind)
	require.Equal(t, kernel.SIGSEGV, ev.Signal)
	require.Equal(t, "general protection", ev.Fault.Kind)
	require.Equal(t, uint64(codeAddr+1), ev.Fault.RIP)
}

func TestTrapsBecomeSignals(t *testing.T) {
	for _, tt := range []struct {
		name string
		code []byte
		sig  int
		kind string
		rip  uint64
	}{
		{"int3", []byte{0x90, 0xcc}, kernel.SIGTRAP, "int3", codeAddr + 1},
		{"ud2", []byte{0x0f, 0x0b}, kernel.SIGILL, "invalid opcode", codeAddr},
		{"div0", []byte{0x31, 0xc9, 0xf7, 0xf1}, kernel.SIGFPE, "divide error", codeAddr + 2}, // xor ecx,ecx; div ecx
		{"hlt", []byte{0xf4}, kernel.SIGSEGV, "general protection", codeAddr},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tc := newTestCore(t, tt.code)
			ev, err := tc.Run(codeAddr)
			require.NoError(t, err)
			require.Equal(t, EventFault, ev.Kind)
			require.Equal(t, tt.sig, ev.Signal)
			require.Equal(t, tt.kind, ev.Fault.Kind)
			require.Equal(t, tt.rip, ev.Fault.RIP)
		})
	}
}

func TestCycleBudgetStops(t *testing.T) {
	tc := newTestCore(t, []byte{0xeb, 0xfe}) // jmp $
	tc.cnt.SetStopAt(1000 << 8)
	ev, err := tc.Run(codeAddr)
	require.NoError(t, err)
	require.Equal(t, EventBudget, ev.Kind)
	require.GreaterOrEqual(t, tc.cnt.Cycles(), uint64(1000))
	require.Less(t, tc.cnt.Cycles(), uint64(1010))
}

func TestFaultMessage(t *testing.T) {
	f := Fault{Signal: kernel.SIGSEGV, Kind: "segfault", Addr: 0x10, RIP: 0x401005, SP: 0x7ffffffde000,
		ErrorCode: 4, VMA: mmu.VMA{Start: 0x401000, End: 0x402000, Name: "/x/prog"}, InVMA: true}
	require.Equal(t, "prog[1000]: segfault at 10 ip 0000000000401005 sp 00007ffffffde000 error 4 in prog[401000+1000]",
		f.Message("prog", 1000, true))
	f = Fault{Signal: kernel.SIGILL, Kind: "invalid opcode", RIP: 0x8049000, SP: 0xffffd000}
	require.Equal(t, "traps: p[1000] trap invalid opcode ip:8049000 sp:ffffd000 error:0", f.Message("p", 1000, false))
	// warn_bad_vsyscall's line, with emulateVsyscall's registers.
	f = Fault{Signal: kernel.SIGSEGV, Kind: "vsyscall", RIP: VsyscallAddr + 0x3c,
		Detail: "misaligned vsyscall (exploit attempt or buggy program) -- look up the vsyscall kernel parameter if you need a workaround ip:ffffffffff60003c cs:33 sp:7fffffffe008 ax:0 si:0 di:0"}
	require.Equal(t, "mksh[1000] misaligned vsyscall (exploit attempt or buggy program) -- look up the vsyscall kernel parameter if you need a workaround ip:ffffffffff60003c cs:33 sp:7fffffffe008 ax:0 si:0 di:0",
		f.Message("mksh", 1000, true))
}
