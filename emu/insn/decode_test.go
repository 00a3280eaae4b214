package insn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/arch/x86/x86asm"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		mode    int
		code    []byte
		wantOp  x86asm.Op
		wantLen int
	}{
		// f3 0f 1e fa    endbr64
		{"endbr64 64-bit", 64, []byte{0xf3, 0x0f, 0x1e, 0xfa, 0x55}, x86asm.NOP, 4},
		// f3 0f 1e fb    endbr32
		{"endbr32 32-bit", 32, []byte{0xf3, 0x0f, 0x1e, 0xfb}, x86asm.NOP, 4},
		// f3 0f 1e fa    endbr64 (same bytes in 32-bit mode)
		{"endbr64 32-bit", 32, []byte{0xf3, 0x0f, 0x1e, 0xfa}, x86asm.NOP, 4},
		// 48 89 e5       mov rbp, rsp
		{"mov", 64, []byte{0x48, 0x89, 0xe5, 0xc3}, x86asm.MOV, 3},
		// f3 aa          rep stosb
		{"rep stosb", 64, []byte{0xf3, 0xaa}, x86asm.STOSB, 2},
		// f3 c3          repz ret (the prefix is part of the instruction)
		{"rep ret", 64, []byte{0xf3, 0xc3}, x86asm.RET, 2},
		// 65 a1 14 00 00 00   mov eax, gs:[0x14]
		{"gs moffs 32-bit", 32, []byte{0x65, 0xa1, 0x14, 0x00, 0x00, 0x00}, x86asm.MOV, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst, err := Decode(tt.code, tt.mode)
			require.NoError(t, err)
			assert.Equal(t, tt.wantOp, inst.Op)
			assert.Equal(t, tt.wantLen, inst.Len)
			assert.Equal(t, tt.mode, inst.Mode)
			n, err := Len(tt.code, tt.mode)
			require.NoError(t, err)
			assert.Equal(t, tt.wantLen, n)
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		mode    int
		code    []byte
		wantErr string
	}{
		{"empty", 64, nil, "insn: no instruction bytes"},
		{"16-bit mode", 16, []byte{0x90}, "insn: unsupported mode 16 (want 32 or 64)"},
		// f3             a lone rep prefix (x86asm: Op 0)
		{"lone prefix", 64, []byte{0xf3}, "insn: undecodable instruction f3: unknown or truncated instruction"},
		// 48 8b          mov r64, r/m64 cut before its ModRM byte
		{"truncated", 64, []byte{0x48, 0x8b}, "insn: undecodable instruction 48 8b: unknown or truncated instruction"},
		// f3 0f 1e       endbr64 cut short
		{"truncated endbr", 64, []byte{0xf3, 0x0f, 0x1e}, "insn: undecodable instruction f3 0f 1e: unknown or truncated instruction"},
		// 0f 04          not an opcode
		{"invalid opcode", 64, []byte{0x0f, 0x04, 0x90}, "insn: undecodable instruction 0f 04 90: unrecognized instruction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.code, tt.mode)
			require.EqualError(t, err, tt.wantErr)
			n, err := Len(tt.code, tt.mode)
			require.Error(t, err)
			assert.Zero(t, n)
		})
	}
}
