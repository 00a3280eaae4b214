package probes

import (
	"bytes"
	"errors"

	"golang.org/x/arch/x86/x86asm"

	"github.com/probesim/probesim/emu/insn"
	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/smp"
)

// Instruction analysis at registration, in the shape of Linux's
// struct arch_uprobe (arch/x86/include/asm/uprobes.h) and
// arch_uprobe_analyze_insn (arch/x86/kernel/uprobes.c).
//
// A probe's instruction is analysed once, when the probe is registered,
// never on a hit: the result is the copy that an out-of-line step runs
// (Linux's ixol: the instruction, RIP-relative operands rewritten to a
// scratch register), the fixups its step needs, and its ops, the four
// operations of Linux's struct uprobe_xol_ops:
//
//   - emulate: run the instruction in the kernel with no step at all
//     (Linux's branch and push ops); nil when the instruction must be
//     stepped;
//   - preXOL: prepare the registers for the step of the copy (the
//     RIP-relative scratch register);
//   - postXOL: after the step's #DB, make the state what the original
//     instruction would have left (ip, a call's pushed return address, TF
//     in pushed flags, the scratch register back);
//   - abort: the step was abandoned (its copy faulted): undo what preXOL
//     did.
//
// Which strategies consult emulate is the strategy's business
// (strategy.go): the seed's inline and stack strategies step everything.

// fixups are what defaultOps.postXOL does after a step out of line
// (Linux's defparam.fixups, UPROBE_FIX_*).
type fixups uint8

const (
	// fixIP: ip += original - copy (UPROBE_FIX_IP).
	fixIP fixups = 1 << iota
	// fixCall: the return address the stepped call pushed is the copy's
	// next ip; it becomes the original's (UPROBE_FIX_CALL).
	fixCall
	// fixPushfTF: the flags image a stepped pushf stored carries the TF
	// the kernel set for the step; it is cleared (unless the program had
	// TF itself), as 2.6-era kprobes did (arch/i386/kernel/kprobes.c:
	// resume_execution). Mainline uprobes has no such fixup.
	fixPushfTF
	// fixSetF: a stepped popf loaded the program's own TF, which the end
	// of the step must leave alone (UPROBE_FIX_SETF).
	fixSetF
)

// archProbe is a probe's instruction as registration analysed it.
type archProbe struct {
	ops  xolOps
	ilen uint64
	// ixol is the out-of-line copy (RIP-relative operands rewritten);
	// nil when no rewrite exists, and the instruction can then be
	// stepped only in place.
	ixol []byte
	// scratch is the register a RIP-relative copy addresses through
	// (riprel.go); 0 for none.
	scratch uc.Reg
	fixups  fixups
	// window is what an inline step puts back at the probe address for
	// its window: the original first byte (the rest of the instruction is
	// in the text), or for pause a nop's first bytes (pauseRep).
	window []byte
	// retWord is the size of the return address a call pushes (fixCall):
	// the stack word for a near call, the operand size for a far one,
	// whose selector slot above it is left alone.
	retWord uint64
	// inPlaceFP and ixolFP are what the block hook charges for the
	// instruction stepped in place and for its out-of-line copy, 24.8
	// fixed point.
	inPlaceFP, ixolFP uint64
}

// xolOps are the operations on one analysed instruction (Linux's struct
// uprobe_xol_ops). The task t is the trapping thread, which is the one
// the machine is handling; t.active is the probe.
type xolOps interface {
	// emulate runs the instruction for t without a step and reports
	// whether it did; false means it must be stepped.
	emulate(e *Engine, t *uprobeTask) (bool, error)
	// preXOL prepares t's registers for the step of the copy at
	// t.xolVaddr.
	preXOL(e *Engine, t *uprobeTask) error
	// postXOL fixes t's state after the step's #DB.
	postXOL(e *Engine, t *uprobeTask) error
	// abort undoes preXOL when the step is abandoned.
	abort(e *Engine, t *uprobeTask) error
}

// analyze works out p's archProbe for an engine on m (mode 32 or 64),
// pricing both ways of stepping the instruction as the block hook will
// (timing.Profile.CostBlock of the one instruction: a block stepped with
// TF set holds exactly one). outOfLine is false for a strategy that never
// steps a copy, which then needs no copy priced.
func analyze(s Spec, m *smp.Machine, mode int, outOfLine bool) archProbe {
	prof := m.Profile()
	a := archProbe{ilen: uint64(s.Len), ixol: s.Bytes}
	a.inPlaceFP = prof.CostBlock(s.Bytes, s.Addr, mode).CostFP
	if s.Class == ClassRIPRelative || RIPRelative(s.Insn, mode) {
		code, scratch, ok := ripRewrite(s)
		a.ixol, a.scratch = nil, 0
		if ok {
			a.ixol, a.scratch = code, scratch
		}
	}
	a.window = s.Bytes[:1]
	if k := pauseRep(s.Bytes); k >= 0 {
		// The engine drops the #DB after a stepped pause (emu/uc/doc.go):
		// what is stepped is a nop of the same length, which pause is
		// architecturally (a spin-wait hint): the copy out of line, and in
		// place the instruction with its rep prefixes up to the last one
		// turned into 66, so an inline window puts back that nop's first
		// bytes instead of the original one.
		a.ixol = sameLengthNop(s.Len)
		a.window = a.ixol[:k+1]
	}
	if outOfLine && a.ixol != nil {
		a.ixolFP = prof.CostBlock(a.ixol, s.Addr, mode).CostFP
	}
	switch s.Class {
	case ClassRet, ClassIndirectJump:
		// The ip is where the instruction sent it.
	case ClassIndirectCall:
		a.fixups = fixCall
	case ClassRelCall:
		a.fixups = fixCall | fixIP
	case ClassPushf:
		a.fixups = fixPushfTF | fixIP
	case ClassPopf:
		a.fixups = fixSetF | fixIP
	default:
		a.fixups = fixIP
	}
	switch s.Insn.Op {
	case x86asm.CALL:
		a.retWord = uint64(insn.StackWord(&s.Insn, mode))
	case x86asm.LCALL:
		a.retWord = uint64(insn.FarWord(&s.Insn))
	}
	a.ops = defaultOps{}
	if ops := emulatedOps(s, mode); ops != nil {
		a.ops = ops
	}
	return a
}

// defaultOps are Linux's default_xol_ops: no emulation; the scratch
// register of a RIP-relative copy around the step; the fixups after it.
type defaultOps struct{}

func (defaultOps) emulate(*Engine, *uprobeTask) (bool, error) { return false, nil }

// preXOL saves the scratch register and loads it with the address after
// the original instruction (riprel_pre_xol).
func (defaultOps) preXOL(e *Engine, t *uprobeTask) error {
	a := &t.active.arch
	if a.scratch == 0 {
		return nil
	}
	saved, err := e.m.Reg(a.scratch)
	if err != nil {
		return err
	}
	t.savedScratch = saved
	return e.m.SetReg(a.scratch, t.vaddr+a.ilen)
}

// postXOL is default_post_xol_op: the stack fixups (each a costed copy to
// the user stack), the ip, then the scratch register back.
func (d defaultOps) postXOL(e *Engine, t *uprobeTask) error {
	p := t.active
	a := &p.arch
	ip := e.m.PC()
	if a.fixups&fixCall != 0 {
		if err := e.fixReturnAddress(p, t.xolVaddr+a.ilen, t.vaddr+a.ilen); err != nil {
			return err
		}
	}
	if a.fixups&fixPushfTF != 0 && !t.savedTF {
		if err := e.clearPushedTF(p); err != nil {
			return err
		}
	}
	if a.fixups&fixIP != 0 {
		ip = t.vaddr + (ip - t.xolVaddr)
	}
	if err := e.m.SetPC(ip); err != nil {
		return err
	}
	return d.abort(e, t)
}

// abort puts the scratch register back (riprel_post_xol, as
// default_abort_op does).
func (defaultOps) abort(e *Engine, t *uprobeTask) error {
	if r := t.active.arch.scratch; r != 0 {
		return e.m.SetReg(r, t.savedScratch)
	}
	return nil
}

// pauseRep returns, for a pause (legacy prefixes, the last rep prefix f3,
// then 90), the index of its last rep prefix; -1 for anything else. With a
// REX prefix, 90 is xchg with r8, whatever x86asm calls it.
func pauseRep(b []byte) int {
	last := -1
	for i, c := range b[:len(b)-1] {
		switch c {
		case 0xf2, 0xf3:
			last = i
		case 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0:
		default:
			return -1 // REX or anything else
		}
	}
	if b[len(b)-1] != 0x90 || last < 0 || b[last] != 0xf3 {
		return -1
	}
	return last
}

// sameLengthNop is an n-byte nop: 66 prefixes on 90 (xchg ax, ax is nop
// with any number of them).
func sameLengthNop(n int) []byte {
	return append(bytes.Repeat([]byte{0x66}, n-1), 0x90)
}

// trapFlag is EFLAGS.TF.
const trapFlag = 1 << 8

// endStepTF ends the kernel's step of t as arch_uprobe_post_xol does: TF
// is cleared unless the program had it before the hit (saved_tf) or a
// stepped popf loaded the program's own (fixSetF). A program that had TF
// gets the SIGTRAP its own single-step would have raised after the
// instruction (errProgramTrap).
func (e *Engine) endStepTF(t *uprobeTask) error {
	if t.savedTF || t.active.arch.fixups&fixSetF != 0 {
		e.m.EndKernelStep()
	} else if err := e.m.SetTrapFlag(false); err != nil {
		return err
	}
	if t.savedTF {
		return errProgramTrap
	}
	return nil
}

// errProgramTrap: the instruction ran, and the program, which had TF set
// itself, gets its SIGTRAP (the trap handler declines, so the machine
// reports it at the fixed-up ip).
var errProgramTrap = errors.New("the program's own single-step trap")
