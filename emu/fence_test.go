package emu

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/kernel"
	"github.com/probesim/probesim/mmu"
)

// TestNXFlipKeepsTranslations follows a probe's out-of-line step page: the
// page is made executable, its code runs, execute permission goes away
// (the page is fenced, its translated blocks kept) and comes back.
func TestNXFlipKeepsTranslations(t *testing.T) {
	const page = codeAddr + 0x11000
	tc := newTestCore(t, []byte{0xe9, 0xfb, 0x0f, 0x01, 0x00}) // jmp page
	require.NoError(t, tc.as.MapFixed(page, 0x1000, mmu.ProtRead|mmu.ProtWrite, mmu.Anonymous|mmu.Private, "data", 0))
	require.NoError(t, tc.as.WriteForce(page, exitWith(3)))
	rwx := mmu.ProtRead | mmu.ProtWrite | mmu.ProtExec
	rw := mmu.ProtRead | mmu.ProtWrite

	require.NoError(t, tc.as.SetPageProt(page, rwx))
	ev, err := tc.Run(codeAddr)
	require.NoError(t, err)
	require.Equal(t, 3, ev.Status)

	// Not executable: the kept translation must not run.
	require.NoError(t, tc.as.SetPageProt(page, rw))
	require.Len(t, tc.eng.Fences(), 1)
	ev, err = tc.Run(codeAddr)
	require.NoError(t, err)
	require.Equal(t, EventFault, ev.Kind)
	require.Equal(t, uint64(page), ev.Fault.Addr)
	require.Equal(t, uint64(pfProt|pfUser|pfInstr), ev.Fault.ErrorCode)

	// Again, and this time the page becomes executable before anything
	// runs there: the same translation runs, priced again.
	require.NoError(t, tc.as.SetPageProt(page, rwx))
	_, err = tc.Run(codeAddr)
	require.NoError(t, err)
	require.NoError(t, tc.as.SetPageProt(page, rw))
	costed := tc.BlocksCosted()
	require.NoError(t, tc.as.SetPageProt(page, rwx))
	require.Empty(t, tc.eng.Fences())
	insns := tc.cnt.Insns()
	ev, err = tc.Run(codeAddr)
	require.NoError(t, err)
	require.Equal(t, 3, ev.Status)
	require.Equal(t, uint64(4), tc.cnt.Insns()-insns, "jmp + the three instructions, each once")
	require.Equal(t, costed+1, tc.BlocksCosted(), "the page's block lost its cost with its exec permission")

	// Bytes changed by the host while the page is not executable are
	// reported, and the new bytes run.
	require.NoError(t, tc.as.SetPageProt(page, rw))
	require.NoError(t, tc.as.Write(page+1, []byte{4}))
	require.NoError(t, tc.as.SetPageProt(page, rwx))
	ev, err = tc.Run(codeAddr)
	require.NoError(t, err)
	require.Equal(t, 4, ev.Status, "a stale translation ran")
}

// TestTrapGateRegisters: inside a trap gate the ip, sp and TF the gate sees
// and sets are those of the thread, whichever way it reads them.
func TestTrapGateRegisters(t *testing.T) {
	code := append([]byte{0xcc, 0x90}, exitWith(1)...) // int3; nop; exit(1)
	code = append(code, exitWith(2)...)
	tc := newTestCore(t, code)
	skipTo := uint64(codeAddr + 2 + len(exitWith(1)))
	type seen struct {
		intno   uint32
		pc, sp  uint64
		tf      bool
		readPC  uint64
		readErr error
	}
	var got []seen
	tc.SetTrapGate(func(intno uint32) TrapAction {
		s := seen{intno: intno, pc: tc.PC(), sp: tc.SP()}
		switch intno {
		case 3:
			require.NoError(t, tc.SetPC(skipTo))
			require.NoError(t, tc.SetTrapFlag(true))
		case 1:
			require.NoError(t, tc.SetTrapFlag(false))
		}
		fl, err := tc.ReadReg(uc.EFLAGS)
		s.tf, s.readErr = fl&eflagsTF != 0, err
		s.readPC, _ = tc.ReadReg(uc.RIP)
		got = append(got, s)
		return TrapHandled
	})
	ev, err := tc.Run(codeAddr)
	require.NoError(t, err)
	require.Equal(t, EventExitGroup, ev.Kind)
	require.Equal(t, 2, ev.Status, "the ip set by the gate was used")
	sp := uint64(stackTop - 64)
	require.Equal(t, []seen{
		{intno: 3, pc: codeAddr + 1, sp: sp, tf: true, readPC: skipTo},
		// TF set: #DB after the first instruction at skipTo (mov edi, 2).
		{intno: 1, pc: skipTo + 5, sp: sp, tf: false, readPC: skipTo + 5},
	}, got)
	// Outside a gate the engine is read directly.
	fl, err := tc.ReadReg(uc.EFLAGS)
	require.NoError(t, err)
	require.Zero(t, fl&eflagsTF)
	require.Equal(t, kernel.X8664, tc.Arch())
}
