package timing

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/arch/x86/x86asm"
)

// accessOf decodes code and returns the slots it reads (with address flags) and writes.
func accessOf(t *testing.T, code []byte, mode int) (reads []read, writes []int) {
	t.Helper()
	inst, ok := decodeOne(code, mode)
	require.True(t, ok, "% x", code)
	a := analyze(&inst, false)
	for _, r := range a.reads[:a.nReads] {
		reads = append(reads, r)
	}
	for _, w := range a.writes[:a.nWrites] {
		writes = append(writes, int(w))
	}
	return reads, writes
}

func TestAnalyzeOperands(t *testing.T) {
	cases := []struct {
		label  string
		code   []byte
		reads  []read
		writes []int
	}{
		{"add eax, ecx", []byte{0x01, 0xc8},
			[]read{{slotRAX, false}, {slotRCX, false}}, []int{slotRAX, slotFlags}},
		{"mov eax, ecx", []byte{0x89, 0xc8}, []read{{slotRCX, false}}, []int{slotRAX}},
		{"mov al, cl merges", []byte{0x88, 0xc8},
			[]read{{slotRAX, false}, {slotRCX, false}}, []int{slotRAX}},
		{"movzx eax, cl", []byte{0x0f, 0xb6, 0xc1}, []read{{slotRCX, false}}, []int{slotRAX}},
		{"add rbx, [rax+8]", []byte{0x48, 0x03, 0x58, 0x08},
			[]read{{slotRBX, false}, {slotRAX, true}}, []int{slotRBX, slotFlags}},
		{"mov [rdi], rsi", []byte{0x48, 0x89, 0x37},
			[]read{{slotRDI, true}, {slotRSI, false}}, nil},
		{"lea rax, [rbx+rcx*4]", []byte{0x48, 0x8d, 0x04, 0x8b},
			[]read{{slotRBX, false}, {slotRCX, false}}, []int{slotRAX}},
		{"cmp rdi, rdx", []byte{0x48, 0x39, 0xd7},
			[]read{{slotRDI, false}, {slotRDX, false}}, []int{slotFlags}},
		{"jnz", []byte{0x75, 0x02}, []read{{slotFlags, false}}, nil},
		{"cmovne eax, ecx", []byte{0x0f, 0x45, 0xc1},
			[]read{{slotRAX, false}, {slotRCX, false}, {slotFlags, false}}, []int{slotRAX}},
		{"xor eax, eax", []byte{0x31, 0xc0}, nil, []int{slotRAX, slotFlags}},
		{"pcmpeqb xmm1, xmm1", []byte{0x66, 0x0f, 0x74, 0xc9}, nil, []int{slotXMM0 + 1}},
		{"mul rcx", []byte{0x48, 0xf7, 0xe1},
			[]read{{slotRAX, false}, {slotRCX, false}}, []int{slotRAX, slotRDX, slotFlags}},
		{"div rcx", []byte{0x48, 0xf7, 0xf1},
			[]read{{slotRAX, false}, {slotRDX, false}, {slotRCX, false}}, []int{slotRAX, slotRDX, slotFlags}},
		{"imul eax, ecx, 3", []byte{0x6b, 0xc1, 0x03}, []read{{slotRCX, false}}, []int{slotRAX, slotFlags}},
		{"push rbp", []byte{0x55}, []read{{slotRBP, false}}, nil},
		{"pop rbp", []byte{0x5d}, []read{{slotRSP, true}}, []int{slotRBP}},
		{"xchg ecx, eax", []byte{0x91},
			[]read{{slotRCX, false}, {slotRAX, false}}, []int{slotRCX, slotRAX}},
		{"lock cmpxchg [rdi], ecx", []byte{0xf0, 0x0f, 0xb1, 0x0f},
			[]read{{slotRDI, true}, {slotRCX, false}, {slotRAX, false}}, []int{slotRAX, slotFlags}},
		{"stosq", []byte{0x48, 0xab},
			[]read{{slotRDI, true}, {slotRAX, false}, {slotRDI, false}}, []int{slotRDI}},
		{"cpuid", []byte{0x0f, 0xa2},
			[]read{{slotRAX, false}, {slotRCX, false}}, []int{slotRAX, slotRBX, slotRCX, slotRDX}},
		{"movd eax, xmm0", []byte{0x66, 0x0f, 0x7e, 0xc0}, []read{{slotXMM0, false}}, []int{slotRAX}},
		{"faddp st1, st0", []byte{0xde, 0xc1},
			[]read{{slotX87, false}, {slotX87, false}, {slotX87, false}}, []int{slotX87, slotX87}},
	}
	for _, c := range cases {
		reads, writes := accessOf(t, c.code, 64)
		assert.Equal(t, c.reads, reads, c.label+" reads")
		assert.Equal(t, c.writes, writes, c.label+" writes")
	}
}

func TestRegSlot(t *testing.T) {
	cases := []struct {
		reg     x86asm.Reg
		slot    int
		partial bool
	}{
		{x86asm.AL, slotRAX, true}, {x86asm.AH, slotRAX, true}, {x86asm.BH, slotRBX, true},
		{x86asm.SPB, slotRSP, true}, {x86asm.SIB, slotRSI, true}, {x86asm.R8B, slotR8, true},
		{x86asm.R15B, 15, true}, {x86asm.CX, slotRCX, true}, {x86asm.R11W, slotR11, true},
		{x86asm.EDI, slotRDI, false}, {x86asm.R9L, slotR9, false}, {x86asm.RSP, slotRSP, false},
		{x86asm.R15, 15, false}, {x86asm.X0, slotXMM0, false}, {x86asm.X15, slotXMM0 + 15, false},
		{x86asm.M3, slotMM0 + 3, false}, {x86asm.F5, slotX87, false},
	}
	for _, c := range cases {
		slot, partial, ok := regSlot(c.reg)
		require.True(t, ok, c.reg.String())
		assert.Equal(t, c.slot, slot, c.reg.String())
		assert.Equal(t, c.partial, partial, c.reg.String())
	}
	for _, r := range []x86asm.Reg{0, x86asm.RIP, x86asm.FS, x86asm.CR0} {
		_, _, ok := regSlot(r)
		assert.False(t, ok, r.String())
	}
}
