package probes

import (
	"bytes"
	"encoding/binary"

	"golang.org/x/arch/x86/x86asm"

	"github.com/probesim/probesim/emu/uc"
)

// Instructions run in the kernel without a step: mainline's emulation
// (arch/x86/kernel/uprobes.c: branch_setup_xol_ops with branch_emulate_op,
// push_setup_xol_ops with push_emulate_op; arch_uprobe_skip_sstep).
//
// The xol strategy, as Linux, emulates at the hit what it can instead of
// stepping it: a hit then costs one trap and its handler, no slot, no copy,
// no #DB (the BPF selftests' uprobe-nop against uprobe-ret, 0.33 us
// against 0.91 us on an i7-1165G7, shows the difference on bare metal).
// The emulation's own work is a few register operations inside the trap's
// exception_entry_exit, whose source is that uprobe-nop rate (one trap
// plus handler, timing/doc.go); a push or call writes its word on the
// stack with a copy_to_user, charged per byte (kernel_write_byte) and
// booked to the step phase. The seed's strategies, inline and ssol-stack,
// step everything.
//
// Emulated, as Linux selects them:
//
//   - the kernel's nops, x86_nops[len] of a 64-bit kernel (the P6 nops of
//     1 to 8 bytes: 90, 66 90, 0f 1f 00, ... 0f 1f 84 00 00 00 00 00), and
//     opcode 90 after any prefixes (so pause too): the ip moves past them;
//   - jmp rel8 and rel32; jcc rel8 and rel32 (the condition read from the
//     flags, check_jmp_cond); call rel32, which pushes the return address
//     (if that write fails the call is stepped instead, as Linux's
//     fallback does, and faults as the original would);
//   - push of a register (50-57; 41 50-57 for r8-r15 in 64-bit mode):
//     its value pushed with the stack's word.
//
// A program that had TF set gets the SIGTRAP its own step would have
// raised (arch_uprobe_skip_sstep).
//
// Deviation: Linux's decoder keeps REX apart from the opcode, so it also
// emulates 41 90 and 49 90 as nops, which are xchg with r8; probesim does
// not emulate 90 after a REX.B prefix (it steps it). 66-prefixed branches,
// which Linux refuses here, Check refuses for every strategy.

// x86Nops are the 64-bit kernel's nops by length (arch/x86/include/asm/
// nops.h, BYTES_NOP1..8; ASM_NOP_MAX is 8).
var x86Nops = [...][]byte{
	1: {0x90},
	2: {0x66, 0x90},
	3: {0x0f, 0x1f, 0x00},
	4: {0x0f, 0x1f, 0x40, 0x00},
	5: {0x0f, 0x1f, 0x44, 0x00, 0x00},
	6: {0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
	7: {0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
	8: {0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
}

// branchKind is what branchOps emulates.
type branchKind uint8

const (
	branchNop branchKind = iota
	branchJmp
	branchJcc
	branchCall
)

// branchOps are Linux's branch_xol_ops: jmp, jcc, call and the nops.
// Stepped (by a strategy that does not emulate, or a call whose push
// failed), they are default ops.
type branchOps struct {
	defaultOps
	kind branchKind
	cond byte   // jcc: the short form's opcode (70-7f), whose low bit negates
	offs int64  // the relative displacement
	ilen uint64 // the instruction's length
}

// pushOps are Linux's push_xol_ops: push of a register.
type pushOps struct {
	defaultOps
	reg  uc.Reg
	ilen uint64
}

// emulatedOps returns the emulating ops for the instruction s, or nil.
func emulatedOps(s Spec, mode int) xolOps {
	b, n := s.Bytes, uint64(s.Len)
	if s.Len < len(x86Nops) && bytes.Equal(b, x86Nops[s.Len]) {
		return branchOps{kind: branchNop, ilen: n}
	}
	pre := 0 // legacy prefixes, then REX
	for pre < len(b) && isLegacyPrefix(b[pre]) {
		pre++
	}
	rex := byte(0)
	if mode == 64 && pre < len(b) && b[pre]&0xf0 == 0x40 {
		rex = b[pre]
		pre++
	}
	if pre >= len(b) {
		return nil
	}
	op := b[pre]
	if op == 0x90 && pre == len(b)-1 {
		if rex&0x01 != 0 {
			return nil // xchg with r8 (see above)
		}
		return branchOps{kind: branchNop, ilen: n}
	}
	if op >= 0x50 && op <= 0x57 {
		// push_setup_xol_ops: one byte, or 41 and the opcode.
		switch {
		case s.Len == 1:
			return pushOps{reg: pushRegs(mode)[op-0x50], ilen: n}
		case s.Len == 2 && mode == 64 && b[0] == 0x41:
			return pushOps{reg: pushRegs(mode)[8+op-0x50], ilen: n}
		}
		return nil
	}
	var rel int64
	for _, a := range s.Insn.Args {
		if r, ok := a.(x86asm.Rel); ok {
			rel = int64(r)
		}
	}
	switch {
	case op == 0xeb || op == 0xe9:
		return branchOps{kind: branchJmp, offs: rel, ilen: n}
	case op == 0xe8:
		return branchOps{kind: branchCall, offs: rel, ilen: n}
	case op >= 0x70 && op <= 0x7f:
		return branchOps{kind: branchJcc, cond: op, offs: rel, ilen: n}
	case op == 0x0f && pre+1 < len(b) && b[pre+1] >= 0x80 && b[pre+1] <= 0x8f:
		return branchOps{kind: branchJcc, cond: b[pre+1] - 0x10, offs: rel, ilen: n}
	}
	return nil
}

func isLegacyPrefix(c byte) bool {
	switch c {
	case 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3:
		return true
	}
	return false
}

// pushRegs are the registers push 50+r (and 41 50+r) names, in opcode
// order.
func pushRegs(mode int) []uc.Reg {
	if mode == 32 {
		return []uc.Reg{uc.EAX, uc.ECX, uc.EDX, uc.EBX, uc.ESP, uc.EBP, uc.ESI, uc.EDI}
	}
	return []uc.Reg{uc.RAX, uc.RCX, uc.RDX, uc.RBX, uc.RSP, uc.RBP, uc.RSI, uc.RDI,
		uc.R8, uc.R9, uc.R10, uc.R11, uc.R12, uc.R13, uc.R14, uc.R15}
}

// emulate is branch_emulate_op.
func (o branchOps) emulate(e *Engine, t *uprobeTask) (bool, error) {
	next := t.vaddr + o.ilen
	target := next
	switch o.kind {
	case branchJmp:
		target = next + uint64(o.offs)
	case branchJcc:
		fl, err := e.m.Flags()
		if err != nil {
			return false, err
		}
		if jccTaken(o.cond, fl) {
			target = next + uint64(o.offs)
		}
	case branchCall:
		if !e.pushStack(t, next) {
			return false, nil // stepped instead (branch_emulate_op's fallback)
		}
		target = next + uint64(o.offs)
	}
	if e.mode() == 32 {
		target = uint64(uint32(target))
	}
	return true, e.m.SetPC(target)
}

// emulate is push_emulate_op.
func (o pushOps) emulate(e *Engine, t *uprobeTask) (bool, error) {
	v, err := e.m.Reg(o.reg)
	if err != nil {
		return false, err
	}
	if !e.pushStack(t, v) {
		return false, nil
	}
	return true, e.m.SetPC(t.vaddr + o.ilen)
}

// pushStack pushes v with the stack's word, as emulate_push_stack does: a
// copy_to_user below sp (its bytes booked to the step phase), then sp
// moves. It reports false when the stack cannot be written there.
func (e *Engine) pushStack(t *uprobeTask, v uint64) bool {
	n := e.wordSize()
	sp := e.m.SP() - n
	if e.mode() == 32 {
		sp = uint64(uint32(sp))
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	c, err := e.m.KernelCopyToUser(sp, b[:n])
	if err != nil {
		return false
	}
	t.active.cost.kernel(&t.active.cost.step, c)
	spReg := uc.RSP
	if n == 4 {
		spReg = uc.ESP
	}
	return e.m.SetReg(spReg, sp) == nil
}

// jccTaken is check_jmp_cond: whether the jcc whose short opcode is cond
// jumps with flags fl.
func jccTaken(cond byte, fl uint64) bool {
	f := func(bit uint) bool { return fl&(1<<bit) != 0 }
	cf, pf, zf, sf, of := f(0), f(2), f(6), f(7), f(11)
	var taken bool
	switch cond &^ 1 {
	case 0x70:
		taken = of
	case 0x72:
		taken = cf
	case 0x74:
		taken = zf
	case 0x76:
		taken = cf || zf
	case 0x78:
		taken = sf
	case 0x7a:
		taken = pf
	case 0x7c:
		taken = sf != of
	case 0x7e:
		taken = zf || sf != of
	}
	return taken != (cond&1 != 0)
}
