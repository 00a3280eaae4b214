package probes

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/emu/uc"
)

func TestRIPRewrite(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in, out []byte
		scratch uc.Reg
	}{
		// mov rax, [rip+0x2010] -> mov rax, [rsi+0x2010]
		{"load", []byte{0x48, 0x8b, 0x05, 0x10, 0x20, 0, 0}, []byte{0x48, 0x8b, 0x86, 0x10, 0x20, 0, 0}, uc.RSI},
		// mov [rip+0x2010], rsi -> mov [rdi+0x2010], rsi (rsi is in use)
		{"store of rsi", []byte{0x48, 0x89, 0x35, 0x10, 0x20, 0, 0}, []byte{0x48, 0x89, 0xb7, 0x10, 0x20, 0, 0}, uc.RDI},
		// mov r8, [rip+0x2010]: REX.R stays, rm becomes rsi
		{"rex.r", []byte{0x4c, 0x8b, 0x05, 0x10, 0x20, 0, 0}, []byte{0x4c, 0x8b, 0x86, 0x10, 0x20, 0, 0}, uc.RSI},
		// cmp dword [rip+0x10], 7: an immediate after the displacement
		{"imm after disp", []byte{0x83, 0x3d, 0x10, 0, 0, 0, 0x07}, []byte{0x83, 0xbe, 0x10, 0, 0, 0, 0x07}, uc.RSI},
		// Opcode bytes 41-4f are not REX: cmovne eax, [rip] keeps 0f 45,
		// and cmovno r8, [rip] clears only the REX's B.
		{"cmovne", []byte{0x0f, 0x45, 0x05, 0x10, 0, 0, 0}, []byte{0x0f, 0x45, 0x86, 0x10, 0, 0, 0}, uc.RSI},
		{"rex cmovno", []byte{0x4c, 0x0f, 0x41, 0x05, 0x10, 0, 0, 0}, []byte{0x4c, 0x0f, 0x41, 0x86, 0x10, 0, 0, 0}, uc.RSI},
		{"0f 38 41 phminposuw", []byte{0x66, 0x0f, 0x38, 0x41, 0x05, 0x10, 0, 0, 0}, []byte{0x66, 0x0f, 0x38, 0x41, 0x86, 0x10, 0, 0, 0}, uc.RSI},
		{"0f 3a 41 dppd", []byte{0x66, 0x0f, 0x3a, 0x41, 0x05, 0x10, 0, 0, 0, 0x31}, []byte{0x66, 0x0f, 0x3a, 0x41, 0x86, 0x10, 0, 0, 0, 0x31}, uc.RSI},
		// REX.B set (it means nothing with rip) is cleared so rm is rsi.
		{"rex.b", []byte{0x49, 0x8b, 0x05, 0x10, 0, 0, 0}, []byte{0x48, 0x8b, 0x86, 0x10, 0, 0, 0}, uc.RSI},
		// The address-size prefix: [eip+d] becomes [esi+d].
		{"67 mov eax, [eip]", []byte{0x67, 0x8b, 0x05, 0x10, 0, 0, 0}, []byte{0x67, 0x8b, 0x86, 0x10, 0, 0, 0}, uc.RSI},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst, err := Check(tc.in, 64)
			require.NoError(t, err)
			require.True(t, RIPRelative(inst, 64))
			code, reg, ok := ripRewrite(Spec{Insn: inst, Bytes: tc.in, Len: inst.Len})
			require.True(t, ok)
			require.Equal(t, tc.out, code)
			require.Equal(t, tc.scratch, reg)
		})
	}
}
