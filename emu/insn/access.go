package insn

import "golang.org/x/arch/x86/x86asm"

// access is one memory access of an instruction: size bytes starting at the
// linear address addr (wrapping at the mode's address mask).
type access struct {
	addr, size uint64
}

// covers reports whether fault is one of a's bytes, modulo mask.
func (a access) covers(fault, mask uint64) bool {
	return (fault-a.addr)&mask < a.size
}

// noAccess lists ops whose memory operand is not accessed, or not accessed
// from user mode: address arithmetic (LEA), hints (NOP, PREFETCH*), ops that
// raise #UD first (UD0, UD1) and privileged ops that raise #GP at CPL 3
// before touching memory.
var noAccess = map[x86asm.Op]bool{
	x86asm.LEA: true, x86asm.NOP: true, x86asm.UD0: true, x86asm.UD1: true,
	x86asm.PREFETCHNTA: true, x86asm.PREFETCHT0: true, x86asm.PREFETCHT1: true,
	x86asm.PREFETCHT2: true, x86asm.PREFETCHW: true,
	x86asm.INVLPG: true, x86asm.INVPCID: true, x86asm.LGDT: true, x86asm.LIDT: true,
	x86asm.LLDT: true, x86asm.LTR: true, x86asm.LMSW: true,
}

// xsaveAreaMax bounds an XSAVE-family area: the standard-format layout
// through the PKRU component (offset 2688, 8 bytes; Intel SDM vol. 1
// 13.4-13.5). The real extent depends on XCR0 and the requested mask, which
// are not known here; compacted forms are smaller.
const xsaveAreaMax = 2696

// accesses appends to out the accesses inst, at address ip, makes when run
// with regs in mode. Accesses whose address cannot be computed (a vector
// index register) are left out.
func accesses(inst *x86asm.Inst, ip uint64, mode int, regs *Regs, out []access) []access {
	nextIP := ip + uint64(inst.Len)
	out = explicitAccesses(inst, nextIP, mode, regs, out)
	return implicitAccesses(inst, mode, regs, out)
}

// explicitAccesses appends the accesses of inst's memory operands, including
// the string instructions' [rsi]/[rdi] and xlat's [rbx], which x86asm lists
// as operands.
func explicitAccesses(inst *x86asm.Inst, nextIP uint64, mode int, regs *Regs, out []access) []access {
	if noAccess[inst.Op] {
		return out
	}
	size := uint64(memSize(inst, mode))
	for _, arg := range inst.Args {
		mem, ok := arg.(x86asm.Mem)
		if !ok {
			continue
		}
		r := regs
		if inst.Op == x86asm.XLATB {
			// xlat reads [rbx + al]; x86asm lists only the [rbx] part.
			mem.Disp += int64(uint8(regs.GPR[0]))
		}
		if inst.Op == x86asm.POP && isSP(mem.Base) {
			// POP computes a destination based on the stack pointer after
			// incrementing it (Intel SDM vol. 2B, POP).
			popped := *regs
			popped.GPR[gprSP] += uint64(StackWord(inst, mode))
			r = &popped
		}
		addr, ok := effectiveAddr(mem, inst, nextIP, mode, r)
		if !ok {
			continue
		}
		out = append(out, access{addr, size})
	}
	return out
}

// isSP reports whether reg is SP, ESP or RSP.
func isSP(reg x86asm.Reg) bool {
	return reg == x86asm.SP || reg == x86asm.ESP || reg == x86asm.RSP
}

// effectiveAddr computes the linear address of mem: the offset
// base + index*scale + disp truncated to the address size, plus the FS or GS
// base for those segments (the other segments have base 0 in Linux user
// mode), wrapped to the mode.
func effectiveAddr(mem x86asm.Mem, inst *x86asm.Inst, nextIP uint64, mode int, regs *Regs) (uint64, bool) {
	var off uint64
	if mem.Base != 0 {
		v, ok := regs.value(mem.Base, nextIP)
		if !ok {
			return 0, false
		}
		off += v
	}
	if mem.Index != 0 && mem.Scale != 0 {
		v, ok := regs.value(mem.Index, nextIP)
		if !ok {
			return 0, false
		}
		off += v * uint64(mem.Scale)
	}
	off += uint64(mem.Disp)
	off &= widthMask(addrSize(inst, mem, mode))
	switch mem.Segment {
	case x86asm.FS:
		off += regs.FSBase
	case x86asm.GS:
		off += regs.GSBase
	}
	return off & modeMask(mode), true
}

// addrSize is the address size of mem in bits. x86asm leaves AddrSize at 0
// for VEX/EVEX instructions, where the width of the address registers tells
// it (x86asm names them by address size); a bare displacement uses the mode.
func addrSize(inst *x86asm.Inst, mem x86asm.Mem, mode int) int {
	switch inst.AddrSize {
	case 16, 32, 64:
		return inst.AddrSize
	}
	if w := regWidth(mem.Base); w != 0 {
		return w
	}
	if w := regWidth(mem.Index); w != 0 && mem.Scale != 0 {
		return w
	}
	return mode
}

// memSize is the size in bytes of inst's memory operand: x86asm's MemBytes,
// or for the operands it leaves at 0 the architectural size (Intel SDM
// vol. 2). An unknown size counts as 1 byte so that a fault at the operand's
// first byte still matches.
func memSize(inst *x86asm.Inst, mode int) int {
	if inst.MemBytes > 0 {
		return inst.MemBytes
	}
	switch inst.Op {
	case x86asm.MOVSB, x86asm.STOSB, x86asm.LODSB, x86asm.CMPSB, x86asm.SCASB,
		x86asm.INSB, x86asm.OUTSB, x86asm.XLATB, x86asm.CLFLUSH:
		return 1
	case x86asm.MOVSW, x86asm.STOSW, x86asm.LODSW, x86asm.CMPSW, x86asm.SCASW,
		x86asm.INSW, x86asm.OUTSW:
		return 2
	case x86asm.MOVSD, x86asm.STOSD, x86asm.LODSD, x86asm.CMPSD, x86asm.SCASD,
		x86asm.INSD, x86asm.OUTSD:
		return 4
	case x86asm.MOVSQ, x86asm.STOSQ, x86asm.LODSQ, x86asm.CMPSQ, x86asm.SCASQ:
		return 8
	case x86asm.FLD, x86asm.FSTP, x86asm.FBLD, x86asm.FBSTP:
		return 10 // m80: x86asm leaves only the 80-bit forms at 0
	case x86asm.FLDENV, x86asm.FNSTENV:
		if inst.DataSize == 16 {
			return 14
		}
		return 28
	case x86asm.FNSAVE, x86asm.FRSTOR:
		if inst.DataSize == 16 {
			return 94
		}
		return 108
	case x86asm.FXSAVE, x86asm.FXSAVE64, x86asm.FXRSTOR, x86asm.FXRSTOR64:
		return 512
	case x86asm.XSAVE, x86asm.XSAVE64, x86asm.XRSTOR, x86asm.XRSTOR64,
		x86asm.XSAVEOPT, x86asm.XSAVEOPT64, x86asm.XSAVEC, x86asm.XSAVEC64,
		x86asm.XSAVES, x86asm.XSAVES64, x86asm.XRSTORS, x86asm.XRSTORS64:
		return xsaveAreaMax
	case x86asm.SGDT, x86asm.SIDT:
		if mode == 64 {
			return 10
		}
		return 6
	case x86asm.LCALL, x86asm.LJMP, x86asm.LDS, x86asm.LES, x86asm.LFS, x86asm.LGS, x86asm.LSS:
		return FarWord(inst) + 2 // offset then 16-bit selector
	}
	return 1
}

// FarWord is the offset size of a far pointer or far transfer: the operand
// size, 32 bits by default even in 64-bit mode.
func FarWord(inst *x86asm.Inst) int {
	switch inst.DataSize {
	case 16:
		return 2
	case 64:
		return 8
	}
	return 4
}

// StackWord is the size of one stack slot pushed or popped by inst. Near
// call and ret always move 8 bytes in 64-bit mode; push, pop, pushf, popf,
// enter and leave move 8 unless an operand-size prefix makes them 2. In
// 32-bit mode it is the operand size.
func StackWord(inst *x86asm.Inst, mode int) int {
	if mode == 64 && (inst.Op == x86asm.CALL || inst.Op == x86asm.RET) {
		return 8
	}
	if inst.DataSize == 16 {
		return 2
	}
	if mode == 64 {
		return 8
	}
	return 4
}

// implicitAccesses appends the accesses inst makes without a memory operand:
// stack pushes and pops, and maskmov's store at rdi.
func implicitAccesses(inst *x86asm.Inst, mode int, regs *Regs, out []access) []access {
	mask := modeMask(mode)
	sp := regs.gpr(gprSP, mode)
	word := uint64(StackWord(inst, mode))
	below := func(n uint64) access { return access{(sp - n) & mask, n} }
	switch inst.Op {
	case x86asm.PUSH, x86asm.CALL, x86asm.PUSHF, x86asm.PUSHFD, x86asm.PUSHFQ:
		out = append(out, below(word))
	case x86asm.POP, x86asm.RET, x86asm.POPF, x86asm.POPFD, x86asm.POPFQ:
		out = append(out, access{sp, word})
	case x86asm.PUSHA, x86asm.PUSHAD:
		out = append(out, below(8*word))
	case x86asm.POPA, x86asm.POPAD:
		out = append(out, access{sp, 8 * word})
	case x86asm.LEAVE:
		// mov rsp,rbp; pop rbp: the read is at the frame pointer.
		out = append(out, access{regs.gpr(gprBP, mode), word})
	case x86asm.ENTER:
		out = enterAccesses(inst, mode, regs, word, out)
	case x86asm.LCALL:
		out = append(out, below(2*uint64(FarWord(inst))))
	case x86asm.LRET:
		out = append(out, access{sp, 2 * uint64(FarWord(inst))})
	case x86asm.IRET, x86asm.IRETD, x86asm.IRETQ:
		out = append(out, iretAccess(inst, mode, sp))
	case x86asm.MASKMOVQ:
		out = appendMaskmov(inst, mode, regs, 8, out)
	case x86asm.MASKMOVDQU, x86asm.VMASKMOVDQU:
		out = appendMaskmov(inst, mode, regs, 16, out)
	}
	return out
}

// enterAccesses models ENTER size, level (Intel SDM vol. 2A, ENTER): it
// pushes rbp, then for level > 1 copies level-1 frame pointers read below
// the old rbp, then (level > 0) pushes the new frame pointer: level+1 slots
// written below rsp in all, and the copied slots read below rbp.
func enterAccesses(inst *x86asm.Inst, mode int, regs *Regs, word uint64, out []access) []access {
	mask := modeMask(mode)
	level := uint64(0)
	if imm, ok := inst.Args[1].(x86asm.Imm); ok {
		level = uint64(imm) % 32 // the CPU uses the nesting level modulo 32
	}
	sp := regs.gpr(gprSP, mode)
	n := (level + 1) * word
	out = append(out, access{(sp - n) & mask, n})
	if level > 1 {
		bp := regs.gpr(gprBP, mode)
		m := (level - 1) * word
		out = append(out, access{(bp - m) & mask, m})
	}
	return out
}

// iretAccess is the frame IRET pops: RIP, CS, RFLAGS, RSP, SS in 64-bit
// mode; EIP, CS, EFLAGS for a same-privilege return in 32-bit mode, the only
// kind user code can make.
func iretAccess(inst *x86asm.Inst, mode int, sp uint64) access {
	word := uint64(4)
	switch inst.Op {
	case x86asm.IRET:
		word = 2
	case x86asm.IRETQ:
		word = 8
	}
	slots := uint64(3)
	if mode == 64 {
		slots = 5
	}
	return access{sp, slots * word}
}

// appendMaskmov appends maskmov's store of size bytes at [rdi] (DS, or the
// segment override), addressed at the instruction's address size.
func appendMaskmov(inst *x86asm.Inst, mode int, regs *Regs, size uint64, out []access) []access {
	bits := inst.AddrSize
	if bits != 16 && bits != 32 && bits != 64 {
		bits = mode
	}
	addr := regs.GPR[gprDI] & widthMask(bits)
	switch segmentOverride(inst) {
	case x86asm.FS:
		addr += regs.FSBase
	case x86asm.GS:
		addr += regs.GSBase
	}
	return append(out, access{addr & modeMask(mode), size})
}

// segmentOverride is the segment named by inst's effective segment prefix
// (x86asm marks earlier ones, and in 64-bit mode ES/CS/SS/DS, as ignored),
// or 0.
func segmentOverride(inst *x86asm.Inst) x86asm.Reg {
	seg := x86asm.Reg(0)
	for _, p := range inst.Prefix {
		if p == 0 {
			break
		}
		if p&x86asm.PrefixIgnored != 0 {
			continue
		}
		switch p & 0xFF {
		case 0x64:
			seg = x86asm.FS
		case 0x65:
			seg = x86asm.GS
		case 0x26, 0x2E, 0x36, 0x3E:
			seg = 0
		}
	}
	return seg
}

// Access is one memory access of an instruction: Size bytes from the
// linear address Addr.
type Access struct{ Addr, Size uint64 }

// Accesses returns the memory accesses inst, at ip, makes when run with
// regs in mode: its memory operands (string instructions' [rsi]/[rdi]
// included, a rep's first element only), then the implicit ones (stack
// pushes and pops, maskmov's store). An access whose address cannot be
// computed (a vector index) is left out. Tools use it to know which memory
// an instruction touches.
func Accesses(inst x86asm.Inst, ip uint64, mode int, regs Regs) []Access {
	var out []Access
	for _, a := range accesses(&inst, ip, mode, &regs, nil) {
		out = append(out, Access{Addr: a.addr, Size: a.size})
	}
	return out
}
