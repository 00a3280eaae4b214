package probes

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/arch/x86/x86asm"

	"github.com/probesim/probesim/emu/insn"
)

// UnprobeableError says why an instruction cannot carry a probe. Text is the
// instruction's disassembly (Intel syntax) or, when it does not decode, its
// bytes.
type UnprobeableError struct {
	Text    string
	Decoded bool // Text is a disassembly rather than raw bytes
	Reason  string
}

func (e *UnprobeableError) Error() string {
	if e.Decoded {
		return fmt.Sprintf("unprobeable instruction %q: %s", e.Text, e.Reason)
	}
	return fmt.Sprintf("unprobeable instruction (bytes %s): %s", e.Text, e.Reason)
}

// Check decodes the instruction at the start of code in mode 32 or 64 and
// decides whether a probe may sit on it: whether it can be single-stepped in
// user mode, in place or out of line. A refusal is an *UnprobeableError
// naming the reason; the decoded instruction is returned with it when the
// bytes decode at all. Any other error (bad mode, no bytes) is plain.
// The policy, and how it differs from Linux's, is in the package doc.
func Check(code []byte, mode int) (x86asm.Inst, error) {
	if mode != 32 && mode != 64 {
		return x86asm.Inst{}, fmt.Errorf("probes: unsupported mode %d (want 32 or 64)", mode)
	}
	if len(code) == 0 {
		return x86asm.Inst{}, errors.New("probes: no instruction bytes")
	}
	inst, err := insn.Decode(code, mode)
	if err != nil {
		return x86asm.Inst{}, undecodable(code, mode, err)
	}
	if reason := refusal(inst, code[:inst.Len], mode); reason != "" {
		return inst, &UnprobeableError{Text: Disassemble(inst, 0), Decoded: true, Reason: reason}
	}
	return inst, nil
}

// Disassemble formats inst in Intel syntax, lower case (as objdump -M intel
// does), with relative targets resolved against pc, the instruction's
// address.
func Disassemble(inst x86asm.Inst, pc uint64) string {
	return x86asm.IntelSyntax(inst, pc, nil)
}

// undecodable explains bytes that do not decode. Opcodes that existed in
// 32-bit mode and were removed from long mode are named; the few refused
// opcodes x86asm does not know (getsec, vmread/vmwrite, syscall/sysret
// outside long mode) get their own reason.
func undecodable(code []byte, mode int, err error) error {
	n := min(len(code), 15)
	text := fmt.Sprintf("% x", code[:n])
	if errors.Is(err, x86asm.ErrTruncated) || truncated(code, mode) {
		return &UnprobeableError{Text: text, Reason: "truncated instruction (the code ends inside it)"}
	}
	p := scanPrefixes(code, mode)
	if p.escape && p.op2 != 0 {
		if r, ok := undecodedTwoByte[p.op2]; ok {
			return &UnprobeableError{Text: text, Reason: r}
		}
	}
	if mode == 64 && p.op1 == 0x62 && !p.escape {
		return &UnprobeableError{Text: text, Reason: reasonEVEX}
	}
	if mode == 64 && removedInLongMode[p.op1] && !p.escape {
		if inst32, err32 := insn.Decode(code, 32); err32 == nil {
			return &UnprobeableError{Text: fmt.Sprintf("% x", code[:inst32.Len]), Reason: fmt.Sprintf(
				"opcode invalid in 64-bit mode (%s in 32-bit mode)", Disassemble(inst32, 0))}
		}
	}
	return &UnprobeableError{Text: text, Reason: "invalid opcode: the CPU raises #UD"}
}

// truncated reports whether code is the start of a longer instruction:
// x86asm v0.33 reports a short read as an unknown op rather than
// ErrTruncated, so the bytes are completed with zeros and decoded again.
func truncated(code []byte, mode int) bool {
	if len(code) >= 15 {
		return false
	}
	padded := make([]byte, 15)
	copy(padded, code)
	inst, err := insn.Decode(padded, mode)
	return err == nil && inst.Len > len(code)
}

// removedInLongMode are the one-byte opcodes valid in 32-bit mode and
// invalid in 64-bit mode (Intel SDM vol. 2, appendix A; the same list as the
// zeros of Linux's good_insns_64 that are set in good_insns_32, plus 17, 1f,
// ce and d6, which both tables refuse). 40-4f (inc/dec) became REX and
// c4/c5 (les/lds) became VEX: they still decode, as something else.
var removedInLongMode = map[byte]bool{
	0x06: true, 0x07: true, 0x0E: true, 0x16: true, 0x17: true, 0x1E: true, 0x1F: true,
	0x27: true, 0x2F: true, 0x37: true, 0x3F: true, 0x60: true, 0x61: true, 0x62: true,
	0x82: true, 0x9A: true, 0xCE: true, 0xD4: true, 0xD5: true, 0xD6: true, 0xEA: true,
}

// undecodedTwoByte gives the reasons for refused 0f xx opcodes x86asm v0.33
// cannot decode (in some mode).
var undecodedTwoByte = map[byte]string{
	0x05: "syscall enters the kernel (and is #UD outside long mode on Intel)",
	0x07: "sysret is a privileged return from the kernel",
	0x37: "getsec is a privileged SMX instruction",
	0x78: "vmread is a privileged VMX instruction (or an SSE4a/AVX-512 form x86asm does not know)",
	0x79: "vmwrite is a privileged VMX instruction (or an SSE4a/AVX-512 form x86asm does not know)",
}

// Reasons shared by several opcodes.
const (
	reasonPortIO     = "port I/O is privileged (IOPL 0 in Linux user mode)"
	reasonSysEntry   = "system call entry: the kernel, not the program, would run under the single-step"
	reasonSysReturn  = "privileged return from the kernel"
	reasonUndefined  = "undefined instruction: raises #UD by design"
	reasonPrivileged = "privileged instruction (CPL 0 only): raises #GP in user mode"
	reasonIRET       = "iret reloads cs, flags and the stack pointer from memory; its flags image overrides the trap flag"
	reasonLoadSS     = "loading ss inhibits debug traps until the next instruction ends, so the single-step trap is lost"
	reasonGroup0F00  = "system group 0f 00 (sldt/str/lldt/ltr/verr/verw) is refused as a whole, as in Linux"
	reasonGroup0F01  = "system group 0f 01 (sgdt/sidt/lgdt/lidt/smsw/lmsw/invlpg and, with mod=11, swapgs, monitor/mwait, xgetbv, rdtscp, xend, ...) is refused as a whole, as in Linux"
	reasonGroup0FAE  = "group 0f ae (fxsave/fxrstor, ldmxcsr/stmxcsr, xsave/xrstor, clflush, lfence/mfence/sfence, rd/wr fs/gs base) is refused as a whole, as in Linux, although most of it runs in user mode"
	reasonEVEX       = "62 starts an EVEX (AVX-512) instruction in 64-bit mode, and these bytes are not one x86asm v0.33 knows"
	reasonBadLock    = "lock prefix without a lockable memory destination: raises #UD"
	reasonBranch66   = "operand-size prefix (66) on a near branch: in 64-bit mode Intel ignores it and AMD truncates the target to 16 bits, so no fixup suits both (and in 32-bit mode it truncates the target); Linux refuses 66-prefixed relative branches too (branch_setup_xol_ops)"
)

// nearBranches are the near jumps and calls whose operand size a 66 prefix
// changes (vendor-dependently in 64-bit mode): the ip they compute, and
// the return address a call pushes.
var nearBranches = map[x86asm.Op]bool{
	x86asm.CALL: true, x86asm.JMP: true, x86asm.LOOP: true, x86asm.LOOPE: true, x86asm.LOOPNE: true,
	x86asm.JCXZ: true, x86asm.JECXZ: true, x86asm.JRCXZ: true, x86asm.XBEGIN: true,
	x86asm.JA: true, x86asm.JAE: true, x86asm.JB: true, x86asm.JBE: true, x86asm.JE: true, x86asm.JG: true,
	x86asm.JGE: true, x86asm.JL: true, x86asm.JLE: true, x86asm.JNE: true, x86asm.JNO: true, x86asm.JNP: true,
	x86asm.JNS: true, x86asm.JO: true, x86asm.JP: true, x86asm.JS: true,
}

// refusedOps are refused whatever their operands; INT is handled apart to
// tell int3 from int N.
var refusedOps = map[x86asm.Op]string{
	x86asm.ICEBP:    "int1 (icebp) raises the debug trap the single-step itself uses",
	x86asm.INTO:     "into raises an overflow trap into the kernel",
	x86asm.IRET:     reasonIRET,
	x86asm.IRETD:    reasonIRET,
	x86asm.IRETQ:    reasonIRET,
	x86asm.HLT:      "hlt is privileged",
	x86asm.CLI:      "interrupt-flag change is privileged",
	x86asm.STI:      "interrupt-flag change is privileged",
	x86asm.IN:       reasonPortIO,
	x86asm.OUT:      reasonPortIO,
	x86asm.INSB:     reasonPortIO,
	x86asm.INSW:     reasonPortIO,
	x86asm.INSD:     reasonPortIO,
	x86asm.OUTSB:    reasonPortIO,
	x86asm.OUTSW:    reasonPortIO,
	x86asm.OUTSD:    reasonPortIO,
	x86asm.SYSCALL:  reasonSysEntry,
	x86asm.SYSENTER: reasonSysEntry,
	x86asm.SYSRET:   reasonSysReturn,
	x86asm.SYSEXIT:  reasonSysReturn,
	x86asm.UD0:      reasonUndefined,
	x86asm.UD1:      reasonUndefined,
	x86asm.UD2:      reasonUndefined,
	x86asm.CLTS:     reasonPrivileged,
	x86asm.INVD:     reasonPrivileged,
	x86asm.WBINVD:   reasonPrivileged,
	x86asm.WRMSR:    reasonPrivileged,
	x86asm.RDMSR:    reasonPrivileged,
	x86asm.INVPCID:  reasonPrivileged,
	x86asm.RSM:      "rsm is valid only in system-management mode",
}

// lockable are the instructions that accept a LOCK prefix, with a memory
// destination (Intel SDM vol. 2A, LOCK).
var lockable = map[x86asm.Op]bool{
	x86asm.ADD: true, x86asm.ADC: true, x86asm.AND: true, x86asm.BTC: true,
	x86asm.BTR: true, x86asm.BTS: true, x86asm.CMPXCHG: true, x86asm.CMPXCHG8B: true,
	x86asm.CMPXCHG16B: true, x86asm.DEC: true, x86asm.INC: true, x86asm.NEG: true,
	x86asm.NOT: true, x86asm.OR: true, x86asm.SBB: true, x86asm.SUB: true,
	x86asm.XOR: true, x86asm.XADD: true, x86asm.XCHG: true,
}

// refusal returns why inst (whose bytes are code) cannot be probed, or "".
func refusal(inst x86asm.Inst, code []byte, mode int) string {
	p := scanPrefixes(code, mode)
	if inst.Op == x86asm.INT {
		if !p.escape && p.op1 == 0xCC {
			return "int3 is the breakpoint instruction itself"
		}
		return "a software interrupt (int N) enters the kernel"
	}
	if r, ok := refusedOps[inst.Op]; ok {
		return r
	}
	if p.escape {
		switch p.op2 {
		case 0x00:
			return reasonGroup0F00
		case 0x01:
			return reasonGroup0F01
		case 0xAE:
			return reasonGroup0FAE
		}
	}
	if loadsSS(inst) {
		return reasonLoadSS
	}
	if usesControlOrDebugReg(inst) {
		return reasonPrivileged
	}
	if p.lock && !lockableForm(inst) {
		return reasonBadLock
	}
	if p.opsize && nearBranches[inst.Op] {
		return reasonBranch66
	}
	return ""
}

// loadsSS reports mov ss, r/m and pop ss: the two instructions that inhibit
// interrupts and debug exceptions for one instruction (Intel SDM vol. 3A
// 6.8.3). Linux checks the same pair (insn_masking_exception). lss does not
// inhibit and is accepted.
func loadsSS(inst x86asm.Inst) bool {
	return (inst.Op == x86asm.MOV || inst.Op == x86asm.POP) && inst.Args[0] == x86asm.SS
}

// usesControlOrDebugReg reports mov to or from CRn or DRn.
func usesControlOrDebugReg(inst x86asm.Inst) bool {
	if inst.Op != x86asm.MOV {
		return false
	}
	for _, a := range inst.Args {
		if r, ok := a.(x86asm.Reg); ok && ((r >= x86asm.CR0 && r <= x86asm.CR15) || (r >= x86asm.DR0 && r <= x86asm.DR15)) {
			return true
		}
	}
	return false
}

// lockableForm reports whether a LOCK prefix on inst is legal: a lockable
// op with a memory operand (the destination, or either operand of xchg).
func lockableForm(inst x86asm.Inst) bool {
	for _, pf := range inst.Prefix {
		if pf&0xFF == x86asm.PrefixLOCK && pf&x86asm.PrefixInvalid != 0 {
			return false
		}
	}
	if !lockable[inst.Op] {
		return false
	}
	for _, a := range inst.Args {
		if _, ok := a.(x86asm.Mem); ok {
			return true
		}
	}
	return false
}

// prefixes is what scanPrefixes found in front of an instruction's opcode.
type prefixes struct {
	lock     bool   // F0
	opsize   bool   // 66
	segments []byte // ES/CS/SS/DS overrides (26/2E/36/3E), in order
	op1      byte   // first opcode byte
	escape   bool   // op1 is 0F
	op2      byte   // the byte after 0F; 0 if absent
}

// scanPrefixes walks the legacy prefixes (and, in 64-bit mode, REX) of code.
// Only bytes are looked at: x86asm's Prefix list folds branch hints and
// notrack into other names, and Linux's table is defined on bytes.
func scanPrefixes(code []byte, mode int) prefixes {
	var p prefixes
	i := 0
	for ; i < len(code) && i < 15; i++ {
		b := code[i]
		switch b {
		case 0xF0:
			p.lock = true
			continue
		case 0x26, 0x2E, 0x36, 0x3E:
			p.segments = append(p.segments, b)
			continue
		case 0x66:
			p.opsize = true
			continue
		case 0x64, 0x65, 0x67, 0xF2, 0xF3:
			continue
		}
		if mode == 64 && b&0xF0 == 0x40 {
			continue // REX; only meaningful right before the opcode, harmless here
		}
		break
	}
	if i >= len(code) {
		return p
	}
	p.op1 = code[i]
	if p.op1 == 0x0F {
		p.escape = true
		if i+1 < len(code) {
			p.op2 = code[i+1]
		}
	}
	return p
}

// LinuxRefusal returns why Linux's uprobes would refuse the instruction at
// the start of code although Check accepts it, or "" when the two agree.
// These are the probes the seed's policy allows and mainline does not:
// LOCK prefixes, ES/CS/SS/DS segment-override prefixes (which include the
// 3e "notrack" and 2e/3e branch-hint encodings) and, in 32-bit mode,
// pop es / pop ds (arch/x86/kernel/uprobes.c: is_prefix_bad, good_insns_32).
func LinuxRefusal(code []byte, mode int) string {
	p := scanPrefixes(code, mode)
	var why []string
	if p.lock {
		why = append(why, "lock prefix")
	}
	for _, s := range p.segments {
		why = append(why, fmt.Sprintf("%s segment-override prefix (%02x)", segmentName[s], s))
	}
	if mode == 32 && !p.escape && (p.op1 == 0x07 || p.op1 == 0x1F) {
		why = append(why, "pop es/ds")
	}
	if len(why) == 0 {
		return ""
	}
	return "Linux uprobes refuses " + strings.Join(why, ", ")
}

var segmentName = map[byte]string{0x26: "es", 0x2E: "cs", 0x36: "ss", 0x3E: "ds"}
