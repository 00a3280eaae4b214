package probes

import (
	"golang.org/x/arch/x86/x86asm"

	"github.com/probesim/probesim/emu/insn"
	"github.com/probesim/probesim/emu/uc"
)

// RIP-relative operands out of line.
//
// A copy stepped on the stack or in the XOL page is far more than 2 GB
// from the text, so a RIP-relative operand of the copy would address the
// wrong memory (and a store through it could be disastrous). As Linux does
// (arch/x86/kernel/uprobes.c, riprel_analyze), the copy's ModRM is
// rewritten to address off a scratch register with the same displacement
// (mod 00 rm 101, "disp32(%rip)", becomes mod 10 rm scratch), and the
// scratch register holds the address of the instruction after the
// original for the step; its own value is restored afterwards. The
// scratch register is rsi, else rdi, else rbx: the first one the
// instruction does not name (Linux looks at ModRM.reg and VEX.vvvv, which
// are the registers an instruction with a RIP-relative operand can name
// besides implicit ones; of those, only cmpxchg8b/16b uses bx, and si is
// tried first). With the address-size prefix (67), [eip+disp32] becomes
// [esi+disp32]: the same 32-bit truncation of the same sum.
//
// The ModRM byte is found from the instruction's layout, never guessed:
// legacy prefixes, then a REX byte (whose B bit is cleared: it would
// extend rm to r8-r15) or a VEX prefix (whose inverted B bit, in the
// 3-byte form, is set to 1 for the same reason; the 2-byte form has
// none), then the opcode in its map (one byte; 0f xx; 0f 38 xx; 0f 3a xx;
// for VEX the map is in the prefix), then ModRM. The rewrite is checked by
// decoding it: the same operation and length, the memory operand now the
// scratch register plus the same displacement.

var scratchCandidates = []struct {
	reg  uc.Reg
	low3 byte
	fam  x86asm.Reg
}{{uc.RSI, 6, x86asm.RSI}, {uc.RDI, 7, x86asm.RDI}, {uc.RBX, 3, x86asm.RBX}}

// usesReg reports whether inst names any width of the 64-bit register r.
func usesReg(inst x86asm.Inst, r x86asm.Reg) bool {
	same := func(a x86asm.Reg) bool { return a != 0 && insn.RegFamily(a) == r }
	for _, a := range inst.Args {
		switch a := a.(type) {
		case x86asm.Reg:
			if same(a) {
				return true
			}
		case x86asm.Mem:
			if same(a.Base) || same(a.Index) {
				return true
			}
		}
	}
	return false
}

// modrmLayout is where a 64-bit instruction's REX or VEX B bit and its
// ModRM byte are.
type modrmLayout struct {
	rex   int // index of the REX byte, or -1
	vex3  int // index of a 3-byte VEX prefix (c4), or -1
	modrm int // index of ModRM, or -1 when the layout is not understood
}

// layoutOf finds the REX/VEX prefix and ModRM of a 64-bit instruction.
func layoutOf(b []byte) modrmLayout {
	l := modrmLayout{rex: -1, vex3: -1, modrm: -1}
	i := 0
	for i < len(b) {
		switch b[i] {
		case 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67:
			i++
			continue
		}
		break
	}
	if i < len(b) && b[i]&0xf0 == 0x40 {
		l.rex = i
		i++
	}
	if i >= len(b) {
		return l
	}
	switch {
	case b[i] == 0xc4 && l.rex < 0 && i+3 < len(b):
		l.vex3 = i
		switch b[i+1] & 0x1f { // the map: 1 = 0f, 2 = 0f 38, 3 = 0f 3a
		case 1, 2, 3:
			l.modrm = i + 4
		}
	case b[i] == 0xc5 && l.rex < 0 && i+2 < len(b):
		l.modrm = i + 3
	case b[i] == 0x0f && i+1 < len(b):
		switch b[i+1] {
		case 0x38, 0x3a:
			l.modrm = i + 3
		case 0x0f:
			// 3DNow!: its opcode follows the operands; x86asm does not
			// decode it, so it never comes here.
		default:
			l.modrm = i + 2
		}
	default:
		l.modrm = i + 1
	}
	if l.modrm >= len(b) || b[l.modrm]&0xc7 != 0x05 {
		l.modrm = -1 // not mod 00 rm 101
	}
	return l
}

// ripRewrite returns the copy of a RIP-relative instruction that addresses
// off a scratch register instead, and that register; ok is false when no
// rewrite is found (the probe then steps in place).
func ripRewrite(s Spec) (code []byte, scratch uc.Reg, ok bool) {
	var mem x86asm.Mem
	for _, a := range s.Insn.Args {
		if m, isMem := a.(x86asm.Mem); isMem && (m.Base == x86asm.RIP || m.Base == x86asm.EIP) {
			mem = m
		}
	}
	l := layoutOf(s.Bytes)
	if mem.Base == 0 || l.modrm < 0 {
		return nil, 0, false
	}
	for _, c := range scratchCandidates {
		if usesReg(s.Insn, c.fam) {
			continue
		}
		b := append([]byte(nil), s.Bytes...)
		b[l.modrm] = s.Bytes[l.modrm]&0x38 | 0x80 | c.low3 // mod 10, rm = scratch
		if l.rex >= 0 {
			b[l.rex] &^= 0x01 // REX.B
		}
		if l.vex3 >= 0 {
			b[l.vex3+1] |= 0x20 // VEX.B, inverted
		}
		inst, err := x86asm.Decode(b, 64)
		if err != nil || inst.Op != s.Insn.Op || inst.Len != s.Len {
			continue
		}
		for _, a := range inst.Args {
			if m, isMem := a.(x86asm.Mem); isMem && m.Base != 0 && insn.RegFamily(m.Base) == c.fam && m.Disp == mem.Disp && m.Index == 0 {
				return b, c.reg, true
			}
		}
	}
	return nil, 0, false
}
