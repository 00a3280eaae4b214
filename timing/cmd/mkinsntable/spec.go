package main

import (
	"fmt"
	"strings"
)

// The probe instructions, in Intel syntax (GNU as and llvm-mca both accept
// ".intel_syntax noprefix"). Each line becomes one table row keyed by how x86asm decodes its
// bytes. When two lines decode to the same key, the first wins, so the common variant of a
// form is listed first (e.g. "shl r, imm" before "shl r, 1").
//
// Register choice avoids zero idioms (never the same register twice) and keeps the
// destination distinct from address registers.

var conditions = []string{"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"}

var (
	dstReg = map[int]string{8: "al", 16: "ax", 32: "eax", 64: "rax"}
	srcReg = map[int]string{8: "cl", 16: "cx", 32: "ecx", 64: "rcx"}
	auxReg = map[int]string{8: "dl", 16: "dx", 32: "edx", 64: "rdx"}
	memPtr = map[int]string{8: "byte ptr [rdi+8]", 16: "word ptr [rdi+8]", 32: "dword ptr [rdi+8]",
		64: "qword ptr [rdi+8]", 80: "tbyte ptr [rdi+8]", 128: "xmmword ptr [rdi+16]"}
)

var allSizes = []int{8, 16, 32, 64}
var wideSizes = []int{16, 32, 64}

// expand fills a pattern for each mnemonic and size. Tokens: R destination register,
// S source register, D third register, M memory of the size, I an immediate, CL the CL
// register, ONE the constant 1.
func expand(mnems []string, sizes []int, patterns ...string) []string {
	var out []string
	for _, mn := range mnems {
		for _, sz := range sizes {
			for _, p := range patterns {
				r := strings.NewReplacer("R", dstReg[sz], "S", srcReg[sz], "D", auxReg[sz],
					"M", memPtr[sz], "I", "3", "CL", "cl", "ONE", "1")
				prefix, pat := "", p
				if rest, ok := strings.CutPrefix(p, "lock "); ok {
					prefix, pat = "lock ", rest
				}
				if pat == "" {
					out = append(out, prefix+mn)
				} else {
					out = append(out, prefix+mn+" "+r.Replace(pat))
				}
			}
		}
	}
	return out
}

func withCond(format string) []string {
	var out []string
	for _, c := range conditions {
		out = append(out, strings.ReplaceAll(format, "{cc}", c))
	}
	return out
}

func lines(ls ...string) []string { return ls }

// sse2op lists "op xmm, xmm" and "op xmm, m" for each mnemonic, with a memory operand of
// memBits bits.
func sse2op(memBits int, mnems ...string) []string {
	var out []string
	for _, mn := range mnems {
		out = append(out, mn+" xmm0, xmm1", mn+" xmm0, "+memPtr[memBits])
	}
	return out
}

func probeLines() []string {
	var ls []string
	add := func(more ...[]string) {
		for _, m := range more {
			ls = append(ls, m...)
		}
	}
	// Short-range branches come first: their target .Lnear is the start of the file.
	add(lines("jrcxz .Lnear", "jecxz .Lnear", "loop .Lnear"))
	// Integer ALU.
	add(expand([]string{"add", "sub", "and", "or", "xor", "cmp", "adc", "sbb"}, allSizes,
		"R, S", "R, M", "M, S", "R, I", "M, I"))
	add(expand([]string{"test"}, allSizes, "R, S", "M, S", "R, I", "M, I"))
	add(expand([]string{"mov"}, allSizes, "R, S", "R, M", "M, S", "R, I", "M, I"))
	add(lines("mov rax, 0x123456789", "mov eax, fs:[0x28]", "mov rax, qword ptr fs:[0x28]"))
	add(expand([]string{"inc", "dec", "neg", "not"}, allSizes, "R", "M"))
	add(expand([]string{"mul", "div", "idiv", "imul"}, allSizes, "S", "M"))
	add(expand([]string{"imul"}, wideSizes, "R, S", "R, M", "R, S, I", "R, M, I"))
	add(expand([]string{"shl", "shr", "sar", "rol", "ror", "rcl", "rcr"}, allSizes,
		"R, I", "R, ONE", "R, CL", "M, I", "M, ONE", "M, CL"))
	add(expand([]string{"shld", "shrd"}, wideSizes, "R, S, I", "R, S, CL", "M, S, I"))
	add(expand([]string{"bsf", "bsr", "tzcnt", "lzcnt", "popcnt"}, wideSizes, "R, S", "R, M"))
	add(expand([]string{"bt", "bts", "btr", "btc"}, wideSizes, "R, S", "R, I", "M, I", "M, S"))
	add(expand([]string{"xchg"}, allSizes, "R, S", "M, S"))
	add(expand([]string{"xadd", "cmpxchg"}, allSizes, "R, S", "M, S", "lock M, S"))
	for _, op := range []string{"add", "sub", "and", "or", "xor"} {
		add(expand([]string{"lock " + op}, allSizes, "M, S", "M, I"))
	}
	add(expand([]string{"lock inc", "lock dec"}, allSizes, "M"))
	add(lines("lock cmpxchg8b qword ptr [rdi+8]", "lock cmpxchg16b xmmword ptr [rdi+16]"))
	add(expand([]string{"bswap"}, []int{32, 64}, "R"))
	// Moves with extension, LEA.
	add(lines(
		"movzx eax, cl", "movzx eax, cx", "movzx eax, byte ptr [rdi+8]", "movzx eax, word ptr [rdi+8]",
		"movzx rax, cl", "movzx rax, cx", "movzx rax, byte ptr [rdi+8]", "movzx rax, word ptr [rdi+8]",
		"movzx ax, cl", "movzx ax, byte ptr [rdi+8]",
		"movsx eax, cl", "movsx eax, cx", "movsx eax, byte ptr [rdi+8]", "movsx eax, word ptr [rdi+8]",
		"movsx rax, cl", "movsx rax, cx", "movsx rax, byte ptr [rdi+8]", "movsx rax, word ptr [rdi+8]",
		"movsx ax, cl", "movsx ax, byte ptr [rdi+8]",
		"movsxd rax, ecx", "movsxd rax, dword ptr [rdi+8]",
		"lea eax, [rbx+8]", "lea rax, [rbx+8]", "lea ax, [rbx+8]",
		"lea eax, [rbx+rcx*4+8]", "lea rax, [rbx+rcx*4+8]",
		"cdq", "cqo", "cwd", "cdqe", "cwde", "cbw", "sahf", "lahf", "cld", "std", "clc", "stc", "cmc",
	))
	add(withCond("cmov{cc} eax, ecx"), withCond("cmov{cc} rax, rcx"), withCond("cmov{cc} ax, cx"),
		withCond("cmov{cc} eax, dword ptr [rdi+8]"), withCond("cmov{cc} rax, qword ptr [rdi+8]"),
		withCond("set{cc} cl"), withCond("set{cc} byte ptr [rdi+8]"), withCond("j{cc} .Lend"))
	// Stack and control flow.
	add(lines(
		"push rcx", "push qword ptr [rdi+8]", "push 3", "push cx", "pop rcx", "pop qword ptr [rdi+8]", "pop cx",
		"pushfq", "popfq", "leave",
		"call .Lend", "call rcx", "call qword ptr [rdi+8]", "ret", "ret 8",
		"jmp .Lend", "jmp rcx", "jmp qword ptr [rdi+8]",
		"nop", "nop dword ptr [rax+rax]", "nop word ptr [rax+rax]", "pause",
		"lfence", "mfence", "sfence", "prefetcht0 byte ptr [rdi+8]", "prefetcht1 byte ptr [rdi+8]",
		"prefetcht2 byte ptr [rdi+8]", "prefetchnta byte ptr [rdi+8]", "prefetchw byte ptr [rdi+8]",
	))
	// BMI1/BMI2 and movbe, used by glibc's *_avx2 / *_evex string variants and x86-64-v3 code.
	for _, sz := range []int{32, 64} {
		r, s, d := dstReg[sz], srcReg[sz], auxReg[sz]
		add(lines("andn "+r+", "+s+", "+d, "bzhi "+r+", "+s+", "+d, "sarx "+r+", "+s+", "+d,
			"shlx "+r+", "+s+", "+d, "shrx "+r+", "+s+", "+d, "rorx "+r+", "+s+", 3",
			"pdep "+r+", "+s+", "+d, "pext "+r+", "+s+", "+d,
			"blsr "+r+", "+s, "blsmsk "+r+", "+s, "blsi "+r+", "+s,
			"movbe "+r+", "+memPtr[sz], "movbe "+memPtr[sz]+", "+s))
	}
	// System instructions. llvm-mca has no real model for traps; see overrides.go.
	add(lines("cpuid", "rdtsc", "rdtscp", "xgetbv", "syscall", "int 0x80", "int3", "ud2", "hlt"))
	// String instructions, plain and repeated.
	for _, s := range []string{"b", "w", "d", "q"} {
		add(lines("movs"+s, "rep movs"+s, "stos"+s, "rep stos"+s, "lods"+s, "rep lods"+s,
			"cmps"+s, "repe cmps"+s, "repne cmps"+s, "scas"+s, "repe scas"+s, "repne scas"+s))
	}
	// SSE moves.
	for _, mn := range []string{"movdqa", "movdqu", "movaps", "movups", "movapd", "movupd"} {
		add(lines(mn+" xmm0, xmm1", mn+" xmm0, "+memPtr[128], mn+" "+memPtr[128]+", xmm0"))
	}
	add(lines("lddqu xmm0, "+memPtr[128], "movntdq "+memPtr[128]+", xmm0", "movntps "+memPtr[128]+", xmm0",
		"movnti dword ptr [rdi+8], ecx", "movnti qword ptr [rdi+8], rcx",
		"movd xmm0, ecx", "movd ecx, xmm0", "movd xmm0, dword ptr [rdi+8]", "movd dword ptr [rdi+8], xmm0",
		"movq xmm0, rcx", "movq rcx, xmm0", "movq xmm0, qword ptr [rdi+8]", "movq qword ptr [rdi+8], xmm0",
		"movq xmm0, xmm1",
		"movsd xmm0, xmm1", "movsd xmm0, qword ptr [rdi+8]", "movsd qword ptr [rdi+8], xmm0",
		"movss xmm0, xmm1", "movss xmm0, dword ptr [rdi+8]", "movss dword ptr [rdi+8], xmm0",
		"movhps xmm0, qword ptr [rdi+8]", "movhps qword ptr [rdi+8], xmm0",
		"movlps xmm0, qword ptr [rdi+8]", "movlps qword ptr [rdi+8], xmm0",
		"movhpd xmm0, qword ptr [rdi+8]", "movhpd qword ptr [rdi+8], xmm0",
		"movlpd xmm0, qword ptr [rdi+8]", "movlpd qword ptr [rdi+8], xmm0",
		"movlhps xmm0, xmm1", "movhlps xmm0, xmm1",
		"pmovmskb eax, xmm1", "movmskps eax, xmm1", "movmskpd eax, xmm1",
	))
	// SSE integer.
	add(sse2op(128, "pxor", "por", "pand", "pandn", "pcmpeqb", "pcmpeqw", "pcmpeqd", "pcmpeqq",
		"pcmpgtb", "pcmpgtw", "pcmpgtd", "pminub", "pmaxub", "pminud", "pmaxud", "pminsw", "pmaxsw",
		"psubb", "psubw", "psubd", "psubq", "paddb", "paddw", "paddd", "paddq", "psubusb", "paddusb",
		"punpcklbw", "punpcklwd", "punpckldq", "punpcklqdq", "punpckhbw", "punpckhwd", "punpckhdq",
		"punpckhqdq", "pshufb", "packuswb", "packsswb", "pavgb", "psadbw", "pmullw", "pmulld",
		"pmuludq", "pmaddwd", "ptest",
		"psllw", "pslld", "psllq", "psrlw", "psrld", "psrlq", "psraw", "psrad"))
	add(lines(
		"pshufd xmm0, xmm1, 3", "pshufd xmm0, "+memPtr[128]+", 3",
		"pshuflw xmm0, xmm1, 3", "pshufhw xmm0, xmm1, 3",
		"palignr xmm0, xmm1, 3", "palignr xmm0, "+memPtr[128]+", 3",
		"pcmpistri xmm0, xmm1, 3", "pcmpistri xmm0, "+memPtr[128]+", 3",
		"pcmpistrm xmm0, xmm1, 3", "pcmpestri xmm0, xmm1, 3",
		"pslldq xmm0, 3", "psrldq xmm0, 3", "psllq xmm0, 3", "psrlq xmm0, 3", "pslld xmm0, 3",
		"psrld xmm0, 3", "psllw xmm0, 3", "psrlw xmm0, 3", "psrad xmm0, 3", "psraw xmm0, 3",
		"pinsrw xmm0, ecx, 3", "pextrw eax, xmm1, 3", "pinsrd xmm0, ecx, 3", "pextrd eax, xmm1, 3",
		"pmovzxbw xmm0, xmm1", "pmovzxbw xmm0, qword ptr [rdi+8]", "pmovzxwd xmm0, xmm1", "pmovsxbw xmm0, xmm1",
		"pinsrq xmm0, rcx, 3", "pextrq rax, xmm1, 3", "pinsrb xmm0, ecx, 3", "pextrb eax, xmm1, 3",
	))
	// SSE floating point.
	add(sse2op(64, "addsd", "subsd", "mulsd", "divsd", "sqrtsd", "minsd", "maxsd", "ucomisd", "comisd",
		"cvtsd2ss"))
	add(sse2op(32, "addss", "subss", "mulss", "divss", "sqrtss", "minss", "maxss", "ucomiss", "comiss",
		"cvtss2sd"))
	add(sse2op(128, "addpd", "subpd", "mulpd", "divpd", "sqrtpd", "minpd", "maxpd",
		"addps", "subps", "mulps", "divps", "sqrtps", "minps", "maxps", "rcpps", "rsqrtps",
		"xorps", "andps", "andnps", "orps", "xorpd", "andpd", "andnpd", "orpd",
		"unpcklps", "unpcklpd", "unpckhps", "unpckhpd",
		"cvtdq2ps", "cvttps2dq", "cvtps2dq", "cvtpd2ps", "cvttpd2dq"))
	add(sse2op(64, "cvtdq2pd", "cvtps2pd"))
	add(lines(
		"shufps xmm0, xmm1, 3", "shufpd xmm0, xmm1, 3", "roundsd xmm0, xmm1, 3", "roundss xmm0, xmm1, 3",
		"cmpsd xmm0, xmm1, 3", "cmpss xmm0, xmm1, 3", "cmpps xmm0, xmm1, 3", "cmppd xmm0, xmm1, 3",
		"cvtsi2sd xmm0, ecx", "cvtsi2sd xmm0, rcx", "cvtsi2sd xmm0, dword ptr [rdi+8]", "cvtsi2sd xmm0, qword ptr [rdi+8]",
		"cvtsi2ss xmm0, ecx", "cvtsi2ss xmm0, rcx", "cvtsi2ss xmm0, dword ptr [rdi+8]", "cvtsi2ss xmm0, qword ptr [rdi+8]",
		"cvttsd2si eax, xmm1", "cvttsd2si rax, xmm1", "cvttsd2si eax, qword ptr [rdi+8]",
		"cvtsd2si eax, xmm1", "cvtsd2si rax, xmm1",
		"cvttss2si eax, xmm1", "cvttss2si rax, xmm1", "cvtss2si eax, xmm1",
		"ldmxcsr dword ptr [rdi+8]", "stmxcsr dword ptr [rdi+8]",
	))
	// x87 basics.
	add(lines(
		"fld dword ptr [rdi+8]", "fld qword ptr [rdi+8]", "fld tbyte ptr [rdi+8]", "fld st(1)",
		"fst dword ptr [rdi+8]", "fst qword ptr [rdi+8]", "fst st(1)",
		"fstp dword ptr [rdi+8]", "fstp qword ptr [rdi+8]", "fstp tbyte ptr [rdi+8]", "fstp st(1)",
		"fild word ptr [rdi+8]", "fild dword ptr [rdi+8]", "fild qword ptr [rdi+8]",
		"fistp word ptr [rdi+8]", "fistp dword ptr [rdi+8]", "fistp qword ptr [rdi+8]",
		"fisttp dword ptr [rdi+8]", "fisttp qword ptr [rdi+8]",
		"fxch st(1)", "fchs", "fabs", "fsqrt", "fldz", "fld1",
		"fucomip st, st(1)", "fcomip st, st(1)", "fucomi st, st(1)", "fcomi st, st(1)",
		"fnstcw word ptr [rdi+8]", "fldcw word ptr [rdi+8]", "fnstsw ax", "fwait",
	))
	for _, op := range []string{"fadd", "fsub", "fsubr", "fmul", "fdiv", "fdivr"} {
		add(lines(op+" dword ptr [rdi+8]", op+" qword ptr [rdi+8]", op+" st, st(1)", op+" st(1), st",
			op+"p st(1), st"))
	}
	return ls
}

// checkProbes rejects duplicate lines, which would only hide a typo.
func checkProbes(ls []string) error {
	seen := map[string]bool{}
	for _, l := range ls {
		if seen[l] {
			return fmt.Errorf("probe %q listed twice", l)
		}
		seen[l] = true
	}
	return nil
}
