package probes

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClassString(t *testing.T) {
	want := map[Class]string{
		ClassPlain: "plain", ClassRelJump: "rel-jump", ClassRelCall: "rel-call",
		ClassIndirectCall: "indirect-call", ClassRet: "ret", ClassIndirectJump: "indirect-jump",
		ClassRIPRelative: "rip-relative", ClassPushf: "pushf", ClassPopf: "popf",
		ClassStackWrite: "stack-write",
	}
	for c := ClassPlain; c <= ClassStackWrite; c++ {
		assert.Equal(t, want[c], c.String())
	}
	assert.Equal(t, "Class(42)", Class(42).String())
	assert.Equal(t, "Class(-1)", Class(-1).String())
}

func TestRIPRelative(t *testing.T) {
	cases := []struct {
		asm  string
		code []byte
		mode int
		want bool
	}{
		{"call [rip+0x0]", []byte{0xFF, 0x15, 0x00, 0x00, 0x00, 0x00}, 64, true},
		{"jmp [rip+0x0]", []byte{0xFF, 0x25, 0x00, 0x00, 0x00, 0x00}, 64, true},
		{"mov eax, [rip+0x0]", []byte{0x8B, 0x05, 0x00, 0x00, 0x00, 0x00}, 64, true},
		{"mov eax, [0x0] (same bytes, 32-bit: absolute)", []byte{0x8B, 0x05, 0x00, 0x00, 0x00, 0x00}, 32, false},
		{"mov eax, [rbx]", []byte{0x8B, 0x03}, 64, false},
		{"mov eax, [disp32] via sib (absolute in 64-bit)", []byte{0x8B, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00}, 64, false},
	}
	for _, tc := range cases {
		inst, err := Check(tc.code, tc.mode)
		require.NoError(t, err, tc.asm)
		assert.Equal(t, tc.want, RIPRelative(inst, tc.mode), tc.asm)
	}
}

func TestStackWriteBytes(t *testing.T) {
	cases := []struct {
		asm  string
		code []byte
		mode int
		want int
	}{
		{"push rbp", []byte{0x55}, 64, 8},
		{"push bp (66)", []byte{0x66, 0x55}, 64, 2},
		{"push ebp", []byte{0x55}, 32, 4},
		{"push bp (66, 32-bit)", []byte{0x66, 0x55}, 32, 2},
		{"push 0x1", []byte{0x6A, 0x01}, 64, 8},
		{"push qword ptr [rip]", []byte{0xFF, 0x35, 0x00, 0x00, 0x00, 0x00}, 64, 8},
		{"call rel32", []byte{0xE8, 0x00, 0x00, 0x00, 0x00}, 64, 8},
		{"call rel32", []byte{0xE8, 0x00, 0x00, 0x00, 0x00}, 32, 4},
		{"call rax", []byte{0xFF, 0xD0}, 64, 8},
		{"call far [eax]", []byte{0xFF, 0x18}, 32, 8},
		{"call far 0x605:0x4030201", []byte{0x9A, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06}, 32, 8},
		{"pushfq", []byte{0x9C}, 64, 8},
		{"pushfd", []byte{0x9C}, 32, 4},
		{"pushad", []byte{0x60}, 32, 32},
		{"pushaw (66)", []byte{0x66, 0x60}, 32, 16},
		{"enter 0x8, 0x0", []byte{0xC8, 0x08, 0x00, 0x00}, 64, 8},
		{"enter 0x8, 0x1", []byte{0xC8, 0x08, 0x00, 0x01}, 64, 16},
		{"enter 0x100, 0x3", []byte{0xC8, 0x00, 0x01, 0x03}, 32, 16},
		{"enter 0x0, 0x21 (level mod 32 = 1)", []byte{0xC8, 0x00, 0x00, 0x21}, 32, 8},
		{"mov [rsp-0x8], rax (explicit, not counted)", []byte{0x48, 0x89, 0x44, 0x24, 0xF8}, 64, 0},
		{"pop rbp", []byte{0x5D}, 64, 0},
		{"ret", []byte{0xC3}, 64, 0},
	}
	for _, tc := range cases {
		inst, err := Check(tc.code, tc.mode)
		require.NoError(t, err, tc.asm)
		assert.Equal(t, tc.want, StackWriteBytes(inst, tc.mode), "%s (mode %d)", tc.asm, tc.mode)
	}
}
