package timing

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func repeat(b []byte, n int) []byte {
	var out []byte
	for i := 0; i < n; i++ {
		out = append(out, b...)
	}
	return out
}

// typical64 is a function prologue as gcc emits it for a static glibc build:
//
//	f3 0f 1e fa             endbr64
//	55                      push   rbp
//	48 89 e5                mov    rbp,rsp
//	48 83 ec 20             sub    rsp,0x20
//	48 89 7d f8             mov    QWORD PTR [rbp-0x8],rdi
//	64 48 8b 04 25 28 00 00 00   mov rax,QWORD PTR fs:0x28
//	31 c0                   xor    eax,eax
//	48 8d 15 34 12 00 00    lea    rdx,[rip+0x1234]
//	48 39 d7                cmp    rdi,rdx
//	74 10                   je     .+0x12
var typical64 = []byte{
	0xf3, 0x0f, 0x1e, 0xfa,
	0x55,
	0x48, 0x89, 0xe5,
	0x48, 0x83, 0xec, 0x20,
	0x48, 0x89, 0x7d, 0xf8,
	0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00,
	0x31, 0xc0,
	0x48, 0x8d, 0x15, 0x34, 0x12, 0x00, 0x00,
	0x48, 0x39, 0xd7,
	0x74, 0x10,
}

// typical32 is i386 PIC code around an int 0x80 system call:
//
//	55                      push   ebp
//	89 e5                   mov    ebp,esp
//	53                      push   ebx
//	e8 00 00 00 00          call   .+5
//	81 c3 34 12 00 00       add    ebx,0x1234
//	83 ec 14                sub    esp,0x14
//	8b 45 08                mov    eax,DWORD PTR [ebp+0x8]
//	cd 80                   int    0x80
var typical32 = []byte{
	0x55,
	0x89, 0xe5,
	0x53,
	0xe8, 0x00, 0x00, 0x00, 0x00,
	0x81, 0xc3, 0x34, 0x12, 0x00, 0x00,
	0x83, 0xec, 0x14,
	0x8b, 0x45, 0x08,
	0xcd, 0x80,
}

var (
	addEAX1   = []byte{0x83, 0xc0, 0x01}       // add eax, 1
	decECX    = []byte{0xff, 0xc9}             // dec ecx
	jnzBack   = []byte{0x75, 0xf9}             // jnz .-5
	imulEAX   = []byte{0x0f, 0xaf, 0xc0}       // imul eax, eax
	movRAXmem = []byte{0x48, 0x8b, 0x00}       // mov rax, [rax]
	addRBXmem = []byte{0x48, 0x03, 0x58, 0x08} // add rbx, [rax+8]
	xorEAX    = []byte{0x31, 0xc0}             // xor eax, eax
	endbr64   = []byte{0xf3, 0x0f, 0x1e, 0xfa}
	nop1      = []byte{0x90}
)

// eightIndependentAdds: add eax,1; add ecx,1; add edx,1; add ebx,1; add esi,1; add edi,1;
// add r8d,1; add r9d,1.
var eightIndependentAdds = []byte{
	0x83, 0xc0, 0x01, 0x83, 0xc1, 0x01, 0x83, 0xc2, 0x01, 0x83, 0xc3, 0x01,
	0x83, 0xc6, 0x01, 0x83, 0xc7, 0x01, 0x41, 0x83, 0xc0, 0x01, 0x41, 0x83, 0xc1, 0x01,
}

func cycles(bc BlockCost) float64 { return float64(bc.CostFP) / fpOne }

func TestCountedLoopMatchesLLVMMCA(t *testing.T) {
	// llvm-mca-14 -mcpu=skylake: 100 iterations in 104 cycles (timing-sources.md).
	bc := Default().CostBlock(cat(addEAX1, decECX, jnzBack), 0, 64)
	assert.Equal(t, uint32(3), bc.Insns)
	assert.Equal(t, uint64(256), bc.CostFP, "1 cycle: the eax and ecx self-dependencies")
	assert.InEpsilon(t, 1.04, cycles(bc), 0.15)
	// dec and jnz macro-fuse: 2 fused-domain uops over 4.
	assert.Equal(t, uint64(2*256/4), bc.IssueFP)
	assert.Equal(t, uint64(256), bc.LoopFP)
	assert.Equal(t, uint64(2*256), bc.PathFP, "dec then jnz on its flags")
}

func TestDependentImulChain(t *testing.T) {
	bc := Default().CostBlock(repeat(imulEAX, 4), 0, 64)
	assert.Equal(t, uint32(4), bc.Insns)
	assert.Equal(t, uint64(12*256), bc.CostFP, "4 x latency 3")
	assert.Equal(t, uint64(4*256), bc.PortsFP, "imul runs on port 1 only")
}

func TestIndependentAddsAreIssueBound(t *testing.T) {
	p := Default()
	bc := p.CostBlock(eightIndependentAdds, 0, 64)
	assert.Equal(t, uint32(8), bc.Insns)
	assert.Equal(t, uint64(2*256), bc.CostFP, "8 uops / 4 per cycle")
	assert.Equal(t, uint64(2*256), bc.IssueFP)
	assert.Equal(t, uint64(256), bc.LoopFP)

	require.NoError(t, p.Set("issue_width", "6"))
	bc = p.CostBlock(eightIndependentAdds, 0, 64)
	assert.Equal(t, uint64(8*256/6), bc.IssueFP)
	assert.Equal(t, uint64(2*256), bc.CostFP, "now the four ALU ports bind: 8 uops / 4 ports")
}

func TestLoadChain(t *testing.T) {
	// mov rax,[rax]; add rbx,[rax+8]; mov rax,[rax]: two dependent 5-cycle loads per
	// iteration; llvm-mca-14 gives 1004 cycles for 100 iterations.
	block := cat(movRAXmem, addRBXmem, movRAXmem)
	p := Default()
	bc := p.CostBlock(block, 0, 64)
	assert.Equal(t, uint32(3), bc.Insns)
	assert.Equal(t, uint64(10*256), bc.CostFP)
	assert.Equal(t, uint64(11*256), bc.PathFP, "load (5) then add with its load (6)")

	require.NoError(t, p.Set("chain", ChainCriticalPath))
	assert.Equal(t, uint64(11*256), p.CostBlock(block, 0, 64).CostFP)

	require.NoError(t, p.Set("chain", ChainLoopCarried))
	require.NoError(t, p.Set("load_latency", "4"))
	assert.Equal(t, uint64(8*256), p.CostBlock(block, 0, 64).CostFP, "two 4-cycle loads")
}

func TestLoopCarriedCycleAcrossRegisters(t *testing.T) {
	// mov rcx,rax; mov rax,rbx; mov rbx,rcx: rax -> rbx takes 2 cycles, rbx -> rax 1, so the
	// cycle rax -> rbx -> rax needs 3 cycles per 2 iterations. llvm-mca-14: 1503 cycles for
	// 1000 iterations.
	block := []byte{0x48, 0x89, 0xc1, 0x48, 0x89, 0xd8, 0x48, 0x89, 0xcb}
	bc := Default().CostBlock(block, 0, 64)
	assert.Equal(t, uint64(384), bc.LoopFP)
	assert.Equal(t, uint64(384), bc.CostFP)
}

func TestZeroIdiomBreaksTheChain(t *testing.T) {
	// xor eax,eax; add eax,1: eax does not depend on the previous iteration.
	bc := Default().CostBlock(cat(xorEAX, addEAX1), 0, 64)
	assert.Equal(t, uint64(0), bc.LoopFP)
	assert.Equal(t, uint64(256), bc.PathFP)
	assert.Equal(t, uint64(2*256/4), bc.CostFP, "two uops issued; the xor uses no port")
	assert.Equal(t, uint64(256/4), bc.PortsFP)
}

func TestPartialRegisterWriteMerges(t *testing.T) {
	// mov al, [rdi] keeps rax's upper bits, so it depends on rax: a loop of it is a chain of
	// loads' data merges; movzx eax, byte [rdi] does not.
	p := Default()
	movALmem := []byte{0x8a, 0x07}          // mov al, [rdi]
	movzxEAXmem := []byte{0x0f, 0xb6, 0x07} // movzx eax, byte ptr [rdi]
	assert.NotZero(t, p.CostBlock(movALmem, 0, 64).LoopFP)
	assert.Zero(t, p.CostBlock(movzxEAXmem, 0, 64).LoopFP)
}

func TestEndbrIsAFourByteNop(t *testing.T) {
	p := Default()
	bc := p.CostBlock(endbr64, 0, 64)
	assert.Equal(t, BlockCost{Insns: 1, CostFP: 256 / 4, IssueFP: 256 / 4, PathFP: 256}, bc,
		"llvm-mca's nop: one uop, no port, latency 1")

	bc = p.CostBlock(cat(endbr64, nop1), 0, 64)
	assert.Equal(t, uint32(2), bc.Insns)
	assert.Zero(t, bc.Undecoded)

	endbr32 := []byte{0xf3, 0x0f, 0x1e, 0xfb}
	bc = p.CostBlock(cat(endbr32, nop1), 0, 32)
	assert.Equal(t, uint32(2), bc.Insns)
	assert.Zero(t, bc.Undecoded)
	assert.Zero(t, bc.Untabled)
}

func TestRealBlocksCountExactly(t *testing.T) {
	p := Default()
	bc := p.CostBlock(typical64, 0x401000, 64)
	assert.Equal(t, uint32(10), bc.Insns)
	assert.Zero(t, bc.Undecoded)
	assert.Zero(t, bc.Untabled)
	// 12 unfused uops (push 3, the rest 1; xor's uop issues without a
	// port), 11 in the fused domain (cmp and je macro-fuse) over 4.
	assert.Equal(t, uint64(11*256/4), bc.IssueFP)
	assert.Equal(t, bc.IssueFP, bc.CostFP)

	bc = p.CostBlock(typical32, 0x8049000, 32)
	assert.Equal(t, uint32(8), bc.Insns)
	assert.Zero(t, bc.Undecoded)
	assert.Zero(t, bc.Untabled, "push ebx takes push r64's row")
}

func TestUndecodableTail(t *testing.T) {
	p := Default()
	bc := p.CostBlock([]byte{0x90, 0xff, 0xff, 0x90}, 0, 64) // nop; (ff ff is invalid) ...
	assert.Equal(t, uint32(2), bc.Insns, "the nop and one undecoded instruction")
	assert.Equal(t, 3, bc.Undecoded)
	assert.Equal(t, uint64(2*256/4), bc.IssueFP)

	bc = p.CostBlock([]byte{0x90, 0x48, 0x8b}, 0, 64) // nop; truncated mov
	assert.Equal(t, uint32(2), bc.Insns)
	assert.Equal(t, 2, bc.Undecoded)

	bc = p.CostBlock([]byte{0x62}, 0, 32) // a lone prefix byte: x86asm returns no op
	assert.Equal(t, uint32(1), bc.Insns)
	assert.Equal(t, 1, bc.Undecoded)

	bc = p.CostBlock(typical32, 0, 16) // unsupported mode
	assert.Equal(t, uint32(1), bc.Insns)
	assert.Equal(t, len(typical32), bc.Undecoded)

	assert.Equal(t, BlockCost{}, p.CostBlock(nil, 0, 64))
}

func TestUntabledInstructionGetsTheDefault(t *testing.T) {
	bc := Default().CostBlock([]byte{0xd7}, 0, 64) // xlatb: not in the table
	assert.Equal(t, uint32(1), bc.Insns)
	assert.Equal(t, uint32(1), bc.Untabled)
	assert.Equal(t, uint64(256/4), bc.IssueFP, "one uop")
	assert.Equal(t, uint64(256/4), bc.PortsFP, "on any of the four ALU ports")
	assert.Equal(t, uint64(256), bc.PathFP, "latency 1")
}

func TestRepStringIsChargedOneIteration(t *testing.T) {
	p := Default()
	rep := p.CostBlock([]byte{0xf3, 0x48, 0xab}, 0, 64) // rep stosq
	once := p.CostBlock([]byte{0x48, 0xab}, 0, 64)      // stosq
	assert.Equal(t, once.IssueFP, rep.IssueFP)
	assert.Equal(t, once.PortsFP, rep.PortsFP)
	assert.Equal(t, uint64(2*256), rep.LoopFP, "rdi advances with stos's latency 2 per iteration")
	assert.Equal(t, once.LoopFP, rep.LoopFP)
	movsb := p.CostBlock([]byte{0xf3, 0xa4}, 0, 64) // rep movsb
	assert.Zero(t, movsb.Untabled)
	assert.Less(t, movsb.CostFP, uint64(10*256), "not llvm-mca's placeholder latency 100")
}

func TestCPUIDSerializes(t *testing.T) {
	p := Default()
	bc := p.CostBlock([]byte{0x0f, 0xa2}, 0, 64)
	assert.Equal(t, uint64(250*256), bc.SerialFP)
	assert.Equal(t, bc.SerialFP+max(bc.IssueFP, bc.PortsFP, bc.LoopFP), bc.CostFP)
	require.NoError(t, p.Set("cpuid_cycles", "0"))
	assert.Zero(t, p.CostBlock([]byte{0x0f, 0xa2}, 0, 64).SerialFP)
}

func TestMemoryFormFallbackAddsALoad(t *testing.T) {
	p := Default()
	reg := p.CostBlock([]byte{0xf2, 0x0f, 0x70, 0xc1, 0x03}, 0, 64) // pshuflw xmm0, xmm1, 3
	mem := p.CostBlock([]byte{0xf2, 0x0f, 0x70, 0x07, 0x03}, 0, 64) // pshuflw xmm0, [rdi], 3
	require.Zero(t, reg.Untabled)
	require.Zero(t, mem.Untabled)
	assert.Equal(t, reg.IssueFP, mem.IssueFP, "one more uop, micro-fused with the shuffle")
	assert.Greater(t, mem.PortsFP+mem.PathFP, reg.PortsFP+reg.PathFP)
	assert.Equal(t, reg.PathFP+5*256, mem.PathFP, "plus the load latency")
}

func TestDividerBound(t *testing.T) {
	// divsd xmm0, xmm1 x2 with independent destinations: divsd xmm0,xmm1; divsd xmm2,xmm1.
	block := []byte{0xf2, 0x0f, 0x5e, 0xc1, 0xf2, 0x0f, 0x5e, 0xd1}
	bc := Default().CostBlock(block, 0, 64)
	assert.Equal(t, uint64(2*3*256), bc.DividerFP, "FP divider busy 3 cycles per divsd")
	assert.Equal(t, uint64(14*256), bc.CostFP, "each divsd depends on its own destination")
}

func TestCostIsDeterministic(t *testing.T) {
	p := Default()
	first := p.CostBlock(typical64, 0, 64)
	for i := 0; i < 20; i++ {
		require.Equal(t, first, p.CostBlock(typical64, 0, 64))
	}
}

func BenchmarkCostBlockTypical10(b *testing.B) {
	p := Default()
	b.ReportAllocs()
	for b.Loop() {
		p.CostBlock(typical64, 0x401000, 64)
	}
}

func TestZeroProfileDoesNotPanic(t *testing.T) {
	bc := (&Profile{}).CostBlock(typical64, 0, 64)
	assert.Equal(t, uint32(10), bc.Insns)
	assert.Equal(t, uint32(10), bc.Untabled, "no table: every instruction gets the default")
}
