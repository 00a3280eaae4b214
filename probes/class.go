package probes

import (
	"fmt"

	"golang.org/x/arch/x86/x86asm"

	"github.com/probesim/probesim/emu/insn"
)

// Class is what an out-of-line step of an instruction needs fixed up
// afterwards. Classify returns the one class that decides the ip and
// return-address fixups; two orthogonal properties are asked separately:
// RIPRelative (the copy must be rewritten) and StackWriteBytes (room the
// copy must leave below the stack pointer).
type Class int

const (
	// ClassPlain needs only ip += original - copy.
	ClassPlain Class = iota
	// ClassRelJump is a jump relative to the next ip (jmp rel8/rel32, jcc,
	// loop/loope/loopne, jcxz/jecxz/jrcxz, xbegin): ip += original - copy,
	// whether or not it was taken.
	ClassRelJump
	// ClassRelCall is call rel32: ip += original - copy, and the pushed
	// return address += original - copy.
	ClassRelCall
	// ClassIndirectCall is a call whose target does not depend on ip (call
	// r/m, far call): ip is right; the pushed return address is fixed to
	// original + length.
	ClassIndirectCall
	// ClassRet is ret, ret imm16, far ret: ip is right, nothing to fix.
	ClassRet
	// ClassIndirectJump is jmp r/m or a far jmp: ip is right.
	ClassIndirectJump
	// ClassRIPRelative is a non-branch instruction with a RIP-relative memory
	// operand (64-bit only): the copy must address through a scratch
	// register, then ip += original - copy.
	ClassRIPRelative
	// ClassPushf is pushf/pushfd/pushfq: the pushed image carries the TF the
	// kernel set for the step and must be cleared unless the program had it.
	ClassPushf
	// ClassPopf is popf/popfd/popfq: the program's new flags replace TF; the
	// kernel must keep stepping and restore what the program asked for.
	ClassPopf
	// ClassStackWrite writes below the stack pointer (push, enter, pusha) and
	// is otherwise plain: the copy must sit below what it writes.
	ClassStackWrite
)

var classNames = [...]string{
	ClassPlain:        "plain",
	ClassRelJump:      "rel-jump",
	ClassRelCall:      "rel-call",
	ClassIndirectCall: "indirect-call",
	ClassRet:          "ret",
	ClassIndirectJump: "indirect-jump",
	ClassRIPRelative:  "rip-relative",
	ClassPushf:        "pushf",
	ClassPopf:         "popf",
	ClassStackWrite:   "stack-write",
}

// String names the class as reports print it.
func (c Class) String() string {
	if c >= 0 && int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// Classify returns inst's fixup class in mode 32 or 64. Branches come first
// (a call [rip+d] is ClassIndirectCall; RIPRelative tells the rest), then
// pushf/popf, then RIP-relative operands, then other stack writes.
func Classify(inst x86asm.Inst, mode int) Class {
	rel := hasRel(inst)
	switch inst.Op {
	case x86asm.CALL:
		if rel {
			return ClassRelCall
		}
		return ClassIndirectCall
	case x86asm.LCALL:
		return ClassIndirectCall
	case x86asm.JMP:
		if rel {
			return ClassRelJump
		}
		return ClassIndirectJump
	case x86asm.LJMP:
		return ClassIndirectJump
	case x86asm.RET, x86asm.LRET:
		return ClassRet
	case x86asm.PUSHF, x86asm.PUSHFD, x86asm.PUSHFQ:
		return ClassPushf
	case x86asm.POPF, x86asm.POPFD, x86asm.POPFQ:
		return ClassPopf
	}
	if rel {
		return ClassRelJump // jcc, loop*, j*cxz, xbegin
	}
	if RIPRelative(inst, mode) {
		return ClassRIPRelative
	}
	if StackWriteBytes(inst, mode) > 0 {
		return ClassStackWrite
	}
	return ClassPlain
}

// hasRel reports an ip-relative branch target.
func hasRel(inst x86asm.Inst) bool {
	for _, a := range inst.Args {
		if _, ok := a.(x86asm.Rel); ok {
			return true
		}
	}
	return false
}

// RIPRelative reports whether inst has a memory operand addressed from the
// instruction pointer, which exists only in 64-bit mode ([rip+d32], or
// [eip+d32] with an address-size prefix).
func RIPRelative(inst x86asm.Inst, mode int) bool {
	if mode != 64 {
		return false
	}
	for _, a := range inst.Args {
		if m, ok := a.(x86asm.Mem); ok && (m.Base == x86asm.RIP || m.Base == x86asm.EIP) {
			return true
		}
	}
	return false
}

// StackWriteBytes is how many bytes below the stack pointer inst writes
// implicitly: push, call (near and far), pushf, pusha, enter. An explicit
// store through rsp-relative addressing is not counted.
func StackWriteBytes(inst x86asm.Inst, mode int) int {
	word := insn.StackWord(&inst, mode)
	switch inst.Op {
	case x86asm.PUSH, x86asm.PUSHF, x86asm.PUSHFD, x86asm.PUSHFQ:
		return word
	case x86asm.CALL:
		return word // 8 in long mode whatever the operand size (insn.StackWord)
	case x86asm.LCALL:
		return 2 * insn.FarWord(&inst) // selector slot and offset, each an operand-size word
	case x86asm.PUSHA, x86asm.PUSHAD:
		return 8 * word
	case x86asm.ENTER:
		// enter size, level pushes the frame pointer, level-1 outer frame
		// pointers and, for level > 0, the new frame pointer: level+1
		// words; the size part only moves the stack pointer. The level is
		// taken modulo 32 (Intel SDM vol. 2A, ENTER).
		level := 0
		if imm, ok := inst.Args[1].(x86asm.Imm); ok {
			level = int(imm) % 32
		}
		return word * (level + 1)
	}
	return 0
}
