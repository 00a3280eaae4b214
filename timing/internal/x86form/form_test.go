package x86form

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/arch/x86/x86asm"
)

func TestForms(t *testing.T) {
	cases := []struct {
		code []byte
		mode int
		op   x86asm.Op
		form string
	}{
		{[]byte{0x01, 0xc8}, 64, x86asm.ADD, "r32,r32"},                                  // add eax, ecx
		{[]byte{0x48, 0x03, 0x58, 0x08}, 64, x86asm.ADD, "r64,m64"},                      // add rbx, [rax+8]
		{[]byte{0x83, 0xc0, 0x01}, 64, x86asm.ADD, "r32,i"},                              // add eax, 1
		{[]byte{0xf0, 0x0f, 0xb1, 0x0f}, 64, x86asm.CMPXCHG, "lock m32,r32"},             // lock cmpxchg [rdi], ecx
		{[]byte{0xf3, 0x48, 0xab}, 64, x86asm.STOSQ, "rep m,r64"},                        // rep stosq
		{[]byte{0xf2, 0xae}, 64, x86asm.SCASB, "repne r8,m"},                             // repne scasb
		{[]byte{0xf3, 0x0f, 0x7e, 0xc1}, 64, x86asm.MOVQ, "x,x"},                         // movq xmm0, xmm1: F3 is mandatory
		{[]byte{0xf3, 0xc3}, 64, x86asm.RET, ""},                                         // rep ret: not a string op
		{[]byte{0x8d, 0x44, 0x8b, 0x08}, 64, x86asm.LEA, "r32,mc"},                       // lea eax, [rbx+rcx*4+8]
		{[]byte{0x8d, 0x43, 0x08}, 64, x86asm.LEA, "r32,m"},                              // lea eax, [rbx+8]
		{[]byte{0x75, 0x02}, 64, x86asm.JNE, "rel"},                                      // jnz
		{[]byte{0xd3, 0xe0}, 64, x86asm.SHL, "r32,r8"},                                   // shl eax, cl
		{[]byte{0xde, 0xc1}, 64, x86asm.FADDP, "st,st"},                                  // faddp st1, st0
		{[]byte{0x0f, 0xef, 0xc1}, 64, x86asm.PXOR, "mm,mm"},                             // pxor mm0, mm1
		{[]byte{0x53}, 32, x86asm.PUSH, "r32"},                                           // push ebx
		{[]byte{0x8e, 0xd8}, 32, x86asm.MOV, "seg,r32"},                                  // mov ds, eax
		{[]byte{0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0}, 64, x86asm.MOV, "r64,m64"}, // mov rax, fs:0x28
	}
	for _, c := range cases {
		inst, err := x86asm.Decode(c.code, c.mode)
		require.NoError(t, err, "% x", c.code)
		assert.Equal(t, c.op, inst.Op, "% x", c.code)
		assert.Equal(t, c.form, String(&inst), "% x", c.code)
	}
}

func TestAppendDoesNotAllocate(t *testing.T) {
	inst, err := x86asm.Decode([]byte{0xf0, 0x0f, 0xb1, 0x0f}, 64)
	require.NoError(t, err)
	var buf [64]byte
	allocs := testing.AllocsPerRun(100, func() { Append(buf[:0], &inst) })
	assert.Zero(t, allocs)
}
