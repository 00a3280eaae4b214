// Package x86form names the operand form of a decoded x86 instruction, the key under which
// the timing package's instruction tables store costs. It is shared by the cost model and by
// the table generator (timing/cmd/mkinsntable) so that a row is looked up under exactly the
// key it was generated for.
//
// A form is the comma-separated list of operand kinds in Intel (destination-first) order:
//
//	r8 r16 r32 r64   general-purpose register of that width
//	x                XMM register
//	mm               MMX register
//	st               x87 stack register
//	seg / sys        segment / any other register (control, debug, ...)
//	m8 ... m128 m    memory operand of that many bits; "m" when the size is unknown (LEA)
//	mc               LEA address with base, index and displacement (slow "3-component" LEA)
//	i                immediate
//	rel              branch displacement
//
// prefixed by "lock " for LOCK and by "rep " or "repne " on string instructions.
// Example: `lock cmpxchg [rdi], ecx` has form "lock m32,r32".
package x86form

import (
	"strconv"

	"golang.org/x/arch/x86/x86asm"
)

// Append appends the form of inst to dst and returns the extended slice. It does not allocate
// when dst has room for the form (32 bytes covers every form in practice).
func Append(dst []byte, inst *x86asm.Inst) []byte {
	if p, ok := RepPrefix(inst); ok {
		if p == x86asm.PrefixREPN {
			dst = append(dst, "repne "...)
		} else {
			dst = append(dst, "rep "...)
		}
	}
	if HasLock(inst) {
		dst = append(dst, "lock "...)
	}
	for i, a := range inst.Args {
		if a == nil {
			break
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendArg(dst, inst, a)
	}
	return dst
}

// String returns the form of inst (allocates; for tools and tests).
func String(inst *x86asm.Inst) string { return string(Append(nil, inst)) }

func appendArg(dst []byte, inst *x86asm.Inst, a x86asm.Arg) []byte {
	switch a := a.(type) {
	case x86asm.Reg:
		return append(dst, RegKind(a)...)
	case x86asm.Mem:
		if inst.Op == x86asm.LEA && a.Base != 0 && a.Index != 0 && a.Disp != 0 {
			return append(dst, "mc"...)
		}
		dst = append(dst, 'm')
		if inst.MemBytes > 0 {
			dst = strconv.AppendInt(dst, int64(inst.MemBytes)*8, 10)
		}
		return dst
	case x86asm.Imm:
		return append(dst, 'i')
	case x86asm.Rel:
		return append(dst, "rel"...)
	}
	return append(dst, '?')
}

// RegKind is the form token of a register operand.
func RegKind(r x86asm.Reg) string {
	switch {
	case r >= x86asm.AL && r <= x86asm.R15B:
		return "r8"
	case r >= x86asm.AX && r <= x86asm.R15W:
		return "r16"
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return "r32"
	case r >= x86asm.RAX && r <= x86asm.R15:
		return "r64"
	case r >= x86asm.X0 && r <= x86asm.X31:
		return "x"
	case r >= x86asm.M0 && r <= x86asm.M7:
		return "mm"
	case r >= x86asm.F0 && r <= x86asm.F7:
		return "st"
	case r >= x86asm.ES && r <= x86asm.GS:
		return "seg"
	}
	return "sys"
}

// IsString reports whether op is a string instruction (the only ones REP/REPNE repeat).
func IsString(op x86asm.Op) bool {
	switch op {
	case x86asm.MOVSB, x86asm.MOVSW, x86asm.MOVSD, x86asm.MOVSQ,
		x86asm.STOSB, x86asm.STOSW, x86asm.STOSD, x86asm.STOSQ,
		x86asm.LODSB, x86asm.LODSW, x86asm.LODSD, x86asm.LODSQ,
		x86asm.CMPSB, x86asm.CMPSW, x86asm.CMPSD, x86asm.CMPSQ,
		x86asm.SCASB, x86asm.SCASW, x86asm.SCASD, x86asm.SCASQ:
		return true
	}
	return false
}

// RepPrefix returns the REP (0xF3) or REPNE (0xF2) prefix of a string instruction. Mandatory
// prefixes of SSE instructions (F3 0F 7E movq, ...) are not repeats and are not reported.
func RepPrefix(inst *x86asm.Inst) (x86asm.Prefix, bool) {
	if !IsString(inst.Op) {
		return 0, false
	}
	for _, p := range inst.Prefix {
		if p == 0 {
			break
		}
		if p&(x86asm.PrefixImplicit|x86asm.PrefixIgnored|x86asm.PrefixInvalid) != 0 {
			continue
		}
		switch p & 0xFF {
		case x86asm.PrefixREP:
			return x86asm.PrefixREP, true
		case x86asm.PrefixREPN:
			return x86asm.PrefixREPN, true
		}
	}
	return 0, false
}

// HasLock reports whether inst carries an effective LOCK prefix.
func HasLock(inst *x86asm.Inst) bool {
	for _, p := range inst.Prefix {
		if p == 0 {
			break
		}
		if p&(x86asm.PrefixIgnored|x86asm.PrefixInvalid) == 0 && p&0xFF == x86asm.PrefixLOCK {
			return true
		}
	}
	return false
}
