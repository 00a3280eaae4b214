package probes

import (
	"golang.org/x/arch/x86/x86asm"

	"github.com/probesim/probesim/emu/insn"
	"github.com/probesim/probesim/emu/uc"
)

// RIP-relative operands out of line.
//
// A copy stepped on the stack is far more than 2 GB from the text, so a
// RIP-relative operand of the copy would address the wrong memory (and a
// store through it could be disastrous). As Linux does
// (arch/x86/kernel/uprobes.c, riprel_analyze), the copy's ModRM is rewritten
// to address off a scratch register with the same displacement, and the
// scratch register holds the address of the instruction after the original
// for the step; its own value is restored afterwards. The scratch register
// is rsi, else rdi, else rbx: the first one the instruction does not use.

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

// ripRewrite returns the copy of a RIP-relative instruction that addresses
// off a scratch register instead, and that register; ok is false when no
// rewrite is found (the probe then falls back to inline stepping).
func ripRewrite(s Spec) (code []byte, scratch uc.Reg, ok bool) {
	var mem x86asm.Mem
	for _, a := range s.Insn.Args {
		if m, isMem := a.(x86asm.Mem); isMem && m.Base == x86asm.RIP {
			mem = m
		}
	}
	for _, c := range scratchCandidates {
		if usesReg(s.Insn, c.fam) {
			continue
		}
		for k := 0; k+5 <= len(s.Bytes); k++ {
			if s.Bytes[k]&0xc7 != 0x05 { // mod 00, rm 101: disp32(%rip)
				continue
			}
			b := append([]byte(nil), s.Bytes...)
			b[k] = s.Bytes[k]&0x38 | 0x80 | c.low3 // mod 10, rm = scratch
			for i := 0; i < k; i++ {
				if b[i]&0xf0 == 0x40 { // REX: B would extend rm to r8-r15
					b[i] &^= 0x01
				}
			}
			inst, err := x86asm.Decode(b, 64)
			if err != nil || inst.Op != s.Insn.Op || inst.Len != s.Len {
				continue
			}
			for _, a := range inst.Args {
				if m, isMem := a.(x86asm.Mem); isMem && m.Base == c.fam && m.Disp == mem.Disp && m.Index == 0 {
					return b, c.reg, true
				}
			}
		}
	}
	return nil, 0, false
}
