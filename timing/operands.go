package timing

import (
	"github.com/probesim/probesim/timing/internal/x86form"
	"golang.org/x/arch/x86/x86asm"
)

// Dependency slots: the architectural values the chain model tracks. Sub-registers share
// their full register's slot (al, ax, eax, rax -> rax); all arithmetic flags are one slot;
// the x87 stack is one slot (x87 is rare in static glibc code, and tracking the stack top
// would need the x87 TOS, which a block cost cannot know).
const (
	slotRAX   = 0 // slots 0..15: rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15
	slotRCX   = 1
	slotRDX   = 2
	slotRBX   = 3
	slotRSP   = 4
	slotRBP   = 5
	slotRSI   = 6
	slotRDI   = 7
	slotR8    = 8
	slotR9    = 9
	slotR10   = 10
	slotR11   = 11
	slotXMM0  = 16 // 16..31
	slotMM0   = 32 // 32..39
	slotX87   = 40
	slotFlags = 41
	nSlots    = 42
)

// regSlot maps a register to its slot. partial reports an 8- or 16-bit general register,
// whose write merges into the old value (Skylake renames neither separately; llvm-mca
// models the same merge). ok is false for registers the model does not track (rip,
// segment, control registers).
func regSlot(r x86asm.Reg) (slot int, partial, ok bool) {
	switch {
	case r >= x86asm.AL && r <= x86asm.R15B:
		i := int(r - x86asm.AL) // al cl dl bl ah ch dh bh spb bpb sib dib r8b..r15b
		if i >= 4 {
			i -= 4 // ah..bh alias rax..rbx; spb.. alias rsp..
		}
		return i, true, true
	case r >= x86asm.AX && r <= x86asm.R15W:
		return int(r - x86asm.AX), true, true
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return int(r - x86asm.EAX), false, true
	case r >= x86asm.RAX && r <= x86asm.R15:
		return int(r - x86asm.RAX), false, true
	case r >= x86asm.X0 && r <= x86asm.X31:
		return slotXMM0 + int(r-x86asm.X0)%16, false, true
	case r >= x86asm.M0 && r <= x86asm.M7:
		return slotMM0 + int(r-x86asm.M0), false, true
	case r >= x86asm.F0 && r <= x86asm.F7:
		return slotX87, false, true
	}
	return 0, false, false
}

// opClass says how an op uses its explicit operands and the flags.
type opClass uint16

const (
	// Default: Args[0] is read and written, the other operands are read.
	clsWriteOnly opClass = 1 << iota // Args[0] is written without being read (mov, lea, setcc, ...)
	clsNoWrite                       // no operand is written (cmp, test, push, jmp, ...)
	clsBothWrite                     // every register operand is read and written (xchg, xadd)
	clsFlagsW                        // writes the arithmetic flags
	clsFlagsR                        // reads the arithmetic flags
	clsZeroIdiom                     // with two equal registers: no input, no execution (xor eax,eax)
	clsDepBreak                      // with two equal registers: no input (pcmpeqb x,x)
	clsX87                           // reads and writes the x87 stack
	clsX87Load                       // writes the x87 stack without reading it (fld, fild, fldz)
	clsStack                         // moves rsp by the stack engine (push, pop, call, ret, leave)
)

var opClasses = map[x86asm.Op]opClass{}

func init() {
	set := func(c opClass, ops ...x86asm.Op) {
		for _, op := range ops {
			opClasses[op] |= c
		}
	}
	set(clsWriteOnly, x86asm.MOV, x86asm.MOVZX, x86asm.MOVSX, x86asm.MOVSXD, x86asm.LEA, x86asm.POP,
		x86asm.MOVD, x86asm.MOVQ, x86asm.MOVDQA, x86asm.MOVDQU, x86asm.MOVAPS, x86asm.MOVUPS,
		x86asm.MOVAPD, x86asm.MOVUPD, x86asm.LDDQU, x86asm.MOVNTDQ, x86asm.MOVNTPS, x86asm.MOVNTI,
		x86asm.PMOVMSKB, x86asm.MOVMSKPS, x86asm.MOVMSKPD, x86asm.PSHUFD, x86asm.PSHUFLW, x86asm.PSHUFHW,
		x86asm.PMOVZXBW, x86asm.PMOVZXWD, x86asm.PMOVSXBW, x86asm.PEXTRW, x86asm.PEXTRB, x86asm.PEXTRD,
		x86asm.PEXTRQ, x86asm.BSF, x86asm.BSR, x86asm.TZCNT, x86asm.LZCNT, x86asm.POPCNT,
		x86asm.CVTSI2SD, x86asm.CVTSI2SS, x86asm.CVTTSD2SI, x86asm.CVTSD2SI, x86asm.CVTTSS2SI,
		x86asm.CVTSS2SI, x86asm.CVTDQ2PD, x86asm.CVTDQ2PS, x86asm.CVTTPS2DQ, x86asm.CVTPS2DQ,
		x86asm.CVTPS2PD, x86asm.CVTPD2PS, x86asm.CVTTPD2DQ, x86asm.SQRTPD, x86asm.SQRTPS,
		x86asm.RCPPS, x86asm.RSQRTPS, x86asm.STMXCSR, x86asm.FNSTCW, x86asm.FNSTSW,
		x86asm.ANDN, x86asm.BZHI, x86asm.SARX, x86asm.SHLX, x86asm.SHRX, x86asm.RORX, x86asm.PDEP,
		x86asm.PEXT, x86asm.BLSR, x86asm.BLSMSK, x86asm.BLSI, x86asm.MOVBE)
	set(clsNoWrite, x86asm.CMP, x86asm.TEST, x86asm.BT, x86asm.UCOMISD, x86asm.UCOMISS, x86asm.COMISD,
		x86asm.COMISS, x86asm.PTEST, x86asm.PUSH, x86asm.JMP, x86asm.CALL, x86asm.NOP,
		x86asm.PREFETCHT0, x86asm.PREFETCHT1, x86asm.PREFETCHT2, x86asm.PREFETCHNTA, x86asm.PREFETCHW, x86asm.INT, x86asm.RET, x86asm.LDMXCSR, x86asm.FLDCW,
		x86asm.PCMPISTRI, x86asm.PCMPESTRI, x86asm.PCMPISTRM, x86asm.FUCOMIP, x86asm.FCOMIP,
		x86asm.FUCOMI, x86asm.FCOMI, x86asm.JRCXZ, x86asm.JECXZ, x86asm.LOOP,
		x86asm.SCASB, x86asm.SCASW, x86asm.SCASD, x86asm.SCASQ, x86asm.CMPSB, x86asm.CMPSW,
		x86asm.CMPSD, x86asm.CMPSQ, x86asm.STOSB, x86asm.STOSW, x86asm.STOSD, x86asm.STOSQ,
		x86asm.MOVSB, x86asm.MOVSW, x86asm.MOVSD, x86asm.MOVSQ)
	set(clsBothWrite, x86asm.XCHG, x86asm.XADD)
	set(clsFlagsW, x86asm.ADD, x86asm.ADC, x86asm.SUB, x86asm.SBB, x86asm.AND, x86asm.OR, x86asm.XOR,
		x86asm.CMP, x86asm.TEST, x86asm.INC, x86asm.DEC, x86asm.NEG, x86asm.SHL, x86asm.SHR, x86asm.SAR,
		x86asm.ROL, x86asm.ROR, x86asm.RCL, x86asm.RCR, x86asm.SHLD, x86asm.SHRD, x86asm.IMUL, x86asm.MUL,
		x86asm.DIV, x86asm.IDIV, x86asm.BT, x86asm.BTS, x86asm.BTR, x86asm.BTC, x86asm.BSF, x86asm.BSR,
		x86asm.TZCNT, x86asm.LZCNT, x86asm.POPCNT, x86asm.CMPXCHG, x86asm.CMPXCHG8B, x86asm.CMPXCHG16B,
		x86asm.XADD, x86asm.UCOMISD, x86asm.UCOMISS, x86asm.COMISD, x86asm.COMISS, x86asm.PTEST,
		x86asm.PCMPISTRI, x86asm.PCMPESTRI, x86asm.PCMPISTRM, x86asm.SAHF, x86asm.POPF, x86asm.POPFQ,
		x86asm.FUCOMIP, x86asm.FCOMIP, x86asm.FUCOMI, x86asm.FCOMI, x86asm.CLC, x86asm.STC, x86asm.CMC,
		x86asm.SCASB, x86asm.SCASW, x86asm.SCASD, x86asm.SCASQ, x86asm.CMPSB, x86asm.CMPSW, x86asm.CMPSD,
		x86asm.CMPSQ, x86asm.ANDN, x86asm.BZHI, x86asm.BLSR, x86asm.BLSMSK, x86asm.BLSI)
	set(clsFlagsR, x86asm.ADC, x86asm.SBB, x86asm.RCL, x86asm.RCR, x86asm.LAHF, x86asm.PUSHF,
		x86asm.PUSHFQ, x86asm.CMC,
		x86asm.JO, x86asm.JNO, x86asm.JB, x86asm.JAE, x86asm.JE, x86asm.JNE, x86asm.JBE, x86asm.JA,
		x86asm.JS, x86asm.JNS, x86asm.JP, x86asm.JNP, x86asm.JL, x86asm.JGE, x86asm.JLE, x86asm.JG,
		x86asm.CMOVO, x86asm.CMOVNO, x86asm.CMOVB, x86asm.CMOVAE, x86asm.CMOVE, x86asm.CMOVNE,
		x86asm.CMOVBE, x86asm.CMOVA, x86asm.CMOVS, x86asm.CMOVNS, x86asm.CMOVP, x86asm.CMOVNP,
		x86asm.CMOVL, x86asm.CMOVGE, x86asm.CMOVLE, x86asm.CMOVG,
		x86asm.SETO, x86asm.SETNO, x86asm.SETB, x86asm.SETAE, x86asm.SETE, x86asm.SETNE, x86asm.SETBE,
		x86asm.SETA, x86asm.SETS, x86asm.SETNS, x86asm.SETP, x86asm.SETNP, x86asm.SETL, x86asm.SETGE,
		x86asm.SETLE, x86asm.SETG)
	set(clsWriteOnly, x86asm.SETO, x86asm.SETNO, x86asm.SETB, x86asm.SETAE, x86asm.SETE, x86asm.SETNE,
		x86asm.SETBE, x86asm.SETA, x86asm.SETS, x86asm.SETNS, x86asm.SETP, x86asm.SETNP, x86asm.SETL,
		x86asm.SETGE, x86asm.SETLE, x86asm.SETG)
	// Zero idioms and dependency-breaking idioms recognised by Skylake's renamer and by
	// LLVM's Skylake model (X86SchedSkylakeClient.td, IsZeroIdiomFunction / IsDepBreakingFunction).
	set(clsZeroIdiom, x86asm.XOR, x86asm.SUB, x86asm.PXOR, x86asm.XORPS, x86asm.XORPD,
		x86asm.PSUBB, x86asm.PSUBW, x86asm.PSUBD, x86asm.PSUBQ, x86asm.PCMPGTB, x86asm.PCMPGTW,
		x86asm.PCMPGTD, x86asm.PANDN, x86asm.ANDNPS, x86asm.ANDNPD)
	set(clsDepBreak, x86asm.PCMPEQB, x86asm.PCMPEQW, x86asm.PCMPEQD, x86asm.PCMPEQQ)
	set(clsX87, x86asm.FST, x86asm.FSTP, x86asm.FIST, x86asm.FISTP, x86asm.FISTTP, x86asm.FXCH,
		x86asm.FCHS, x86asm.FABS, x86asm.FSQRT, x86asm.FUCOMIP, x86asm.FCOMIP, x86asm.FUCOMI,
		x86asm.FCOMI, x86asm.FADD, x86asm.FADDP, x86asm.FSUB, x86asm.FSUBP, x86asm.FSUBR,
		x86asm.FSUBRP, x86asm.FMUL, x86asm.FMULP, x86asm.FDIV, x86asm.FDIVP, x86asm.FDIVR,
		x86asm.FDIVRP, x86asm.FRNDINT, x86asm.FPREM, x86asm.FSCALE)
	set(clsX87Load, x86asm.FLD, x86asm.FILD, x86asm.FLDZ, x86asm.FLD1)
	set(clsStack, x86asm.PUSH, x86asm.POP, x86asm.CALL, x86asm.RET, x86asm.LEAVE, x86asm.PUSHF,
		x86asm.PUSHFQ, x86asm.POPF, x86asm.POPFQ)
}

// implicitRegs are the registers an op reads or writes without naming them.
type implicitRegs struct{ reads, writes []int }

var implicitByOp = map[x86asm.Op]implicitRegs{
	x86asm.CDQ:        {[]int{slotRAX}, []int{slotRDX}},
	x86asm.CQO:        {[]int{slotRAX}, []int{slotRDX}},
	x86asm.CWD:        {[]int{slotRAX}, []int{slotRDX}},
	x86asm.CDQE:       {[]int{slotRAX}, []int{slotRAX}},
	x86asm.CWDE:       {[]int{slotRAX}, []int{slotRAX}},
	x86asm.CBW:        {[]int{slotRAX}, []int{slotRAX}},
	x86asm.LAHF:       {nil, []int{slotRAX}},
	x86asm.SAHF:       {[]int{slotRAX}, nil},
	x86asm.CMPXCHG:    {[]int{slotRAX}, []int{slotRAX}},
	x86asm.CMPXCHG8B:  {[]int{slotRAX, slotRDX, slotRBX, slotRCX}, []int{slotRAX, slotRDX}},
	x86asm.CMPXCHG16B: {[]int{slotRAX, slotRDX, slotRBX, slotRCX}, []int{slotRAX, slotRDX}},
	x86asm.CPUID:      {[]int{slotRAX, slotRCX}, []int{slotRAX, slotRBX, slotRCX, slotRDX}},
	x86asm.RDTSC:      {nil, []int{slotRAX, slotRDX}},
	x86asm.RDTSCP:     {nil, []int{slotRAX, slotRDX, slotRCX}},
	x86asm.XGETBV:     {[]int{slotRCX}, []int{slotRAX, slotRDX}},
	x86asm.SYSCALL: {[]int{slotRAX, slotRDI, slotRSI, slotRDX, slotR10, slotR8, slotR9},
		[]int{slotRAX, slotRCX, slotR11}},
	x86asm.INT:       {[]int{slotRAX, slotRBX, slotRCX, slotRDX, slotRSI, slotRDI}, []int{slotRAX}},
	x86asm.LEAVE:     {[]int{slotRBP}, []int{slotRBP}},
	x86asm.JRCXZ:     {[]int{slotRCX}, nil},
	x86asm.JECXZ:     {[]int{slotRCX}, nil},
	x86asm.LOOP:      {[]int{slotRCX}, []int{slotRCX}},
	x86asm.PCMPISTRI: {nil, []int{slotRCX}},
	x86asm.PCMPESTRI: {[]int{slotRAX, slotRDX}, []int{slotRCX}},
	x86asm.PCMPISTRM: {nil, []int{slotXMM0}},
	x86asm.FNSTSW:    {[]int{slotX87}, nil},
}

// stringPointers are the pointer registers each string op advances.
func stringPointers(op x86asm.Op) []int {
	switch op {
	case x86asm.MOVSB, x86asm.MOVSW, x86asm.MOVSD, x86asm.MOVSQ,
		x86asm.CMPSB, x86asm.CMPSW, x86asm.CMPSD, x86asm.CMPSQ:
		return []int{slotRSI, slotRDI}
	case x86asm.LODSB, x86asm.LODSW, x86asm.LODSD, x86asm.LODSQ:
		return []int{slotRSI}
	}
	return []int{slotRDI}
}

// access is what one instruction reads and writes.
type access struct {
	reads     [16]read
	nReads    int
	writes    [8]int8
	nWrites   int
	zeroIdiom bool // executes nowhere and has latency 0
}

type read struct {
	slot int8
	addr bool // an address register of a load: waits the full load-to-use latency
}

func (a *access) read(slot int, addr bool) {
	if a.nReads < len(a.reads) {
		a.reads[a.nReads] = read{int8(slot), addr}
		a.nReads++
	}
}

func (a *access) write(slot int) {
	if a.nWrites < len(a.writes) {
		a.writes[a.nWrites] = int8(slot)
		a.nWrites++
	}
}

// analyze derives the slots inst reads and writes from its x86asm operands plus the op's
// implicit registers. rep says whether a REP/REPNE prefix repeats a string op.
func analyze(inst *x86asm.Inst, rep bool) access {
	var a access
	op := inst.Op
	cls := opClasses[op]
	nargs := 0
	for nargs < len(inst.Args) && inst.Args[nargs] != nil {
		nargs++
	}
	// One-operand mul/imul/div/idiv: the operand is a source; rdx:rax is implicit.
	if (op == x86asm.MUL || op == x86asm.IMUL || op == x86asm.DIV || op == x86asm.IDIV) && nargs == 1 {
		cls |= clsNoWrite
		byteOp := false
		if r, ok := inst.Args[0].(x86asm.Reg); ok {
			byteOp = r >= x86asm.AL && r <= x86asm.R15B
		} else {
			byteOp = inst.MemBytes == 1
		}
		a.read(slotRAX, false)
		a.write(slotRAX)
		if !byteOp {
			if op == x86asm.DIV || op == x86asm.IDIV {
				a.read(slotRDX, false)
			}
			a.write(slotRDX)
		}
	}
	if op == x86asm.IMUL && nargs == 3 {
		cls |= clsWriteOnly
	}
	// movss/movsd from memory zero the upper lanes; between registers they merge.
	if op == x86asm.MOVSS || op == x86asm.MOVSD_XMM {
		if _, ok := inst.Args[1].(x86asm.Mem); ok {
			cls |= clsWriteOnly
		}
	}
	sameRegs := nargs == 2 && inst.Args[0] == inst.Args[1]
	if _, isReg := inst.Args[0].(x86asm.Reg); !isReg {
		sameRegs = false
	}
	a.zeroIdiom = sameRegs && cls&clsZeroIdiom != 0
	breaksDeps := sameRegs && cls&(clsZeroIdiom|clsDepBreak) != 0

	for i := 0; i < nargs; i++ {
		switch arg := inst.Args[i].(type) {
		case x86asm.Reg:
			slot, partial, ok := regSlot(arg)
			if !ok {
				continue
			}
			dst := i == 0 && cls&clsNoWrite == 0
			switch {
			case cls&clsBothWrite != 0:
				a.read(slot, false)
				a.write(slot)
			case dst:
				if !breaksDeps && (cls&clsWriteOnly == 0 || partial) {
					a.read(slot, false)
				}
				a.write(slot)
			case !breaksDeps:
				a.read(slot, false)
			}
		case x86asm.Mem:
			if op == x86asm.NOP {
				continue // a multi-byte nop's operand is never accessed
			}
			for _, r := range []x86asm.Reg{arg.Base, arg.Index} {
				if slot, _, ok := regSlot(r); ok {
					a.read(slot, op != x86asm.LEA)
				}
			}
		}
	}
	if cls&clsStack != 0 && op != x86asm.PUSH && op != x86asm.CALL {
		// pop, ret, leave load through rsp; the rsp update itself is done by the stack
		// engine at rename, so rsp is not written here (Intel optimization manual, "stack
		// pointer tracker").
		a.read(slotRSP, true)
	}
	if imp, ok := implicitByOp[op]; ok {
		for _, s := range imp.reads {
			a.read(s, false)
		}
		for _, s := range imp.writes {
			a.write(s)
		}
	}
	if x86form.IsString(op) {
		for _, s := range stringPointers(op) {
			a.read(s, false)
			a.write(s)
		}
		if rep {
			a.read(slotRCX, false)
			a.write(slotRCX)
		}
	}
	if cls&clsX87 != 0 {
		a.read(slotX87, false)
		a.write(slotX87)
	}
	if cls&clsX87Load != 0 {
		a.write(slotX87)
	}
	if cls&clsFlagsR != 0 {
		a.read(slotFlags, false)
	}
	if cls&clsFlagsW != 0 {
		a.write(slotFlags)
	}
	return a
}
