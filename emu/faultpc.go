package emu

import (
	"github.com/probesim/probesim/emu/insn"
	"github.com/probesim/probesim/emu/linux"
	"github.com/probesim/probesim/emu/uc"
)

// Unicorn 2.0.1 reports the start of the translated block as the pc of a
// data fault (measured; see emu/uc/doc.go), while the general registers
// already hold their values at the faulting instruction. Making every load
// and store record its pc would cost 5-10x on memory access, so instead a
// fatal data fault, which happens at most once per run, decodes its block
// and takes the first instruction whose access covers the fault address
// (emu/insn.FindFaulting).

// faultRegs64 and faultRegs32 list the GPRs in x86asm order.
var (
	faultRegs64 = []uc.Reg{uc.RAX, uc.RCX, uc.RDX, uc.RBX, uc.RSP, uc.RBP, uc.RSI, uc.RDI,
		uc.R8, uc.R9, uc.R10, uc.R11, uc.R12, uc.R13, uc.R14, uc.R15, uc.FS_BASE, uc.GS_BASE}
	faultRegs32 = []uc.Reg{uc.EAX, uc.ECX, uc.EDX, uc.EBX, uc.ESP, uc.EBP, uc.ESI, uc.EDI, uc.GS}
)

// maxBlockScan bounds how much of the faulting block is decoded. QEMU ends a
// translation block well before this (at most one page crossing).
const maxBlockScan = 512

// faultingPC returns the instruction of the block at blockStart that caused
// a data fault at addr, or blockStart when none can be identified.
func (c *Core) faultingPC(blockStart, addr uint64) uint64 {
	code := make([]byte, maxBlockScan)
	n := c.readCode(blockStart, code)
	if n == 0 {
		return blockStart
	}
	var regs insn.Regs
	if c.arch == linux.I386 {
		vals := make([]uint64, len(faultRegs32))
		if c.eng.RegReadBatch(faultRegs32, vals) != nil {
			return blockStart
		}
		copy(regs.GPR[:8], vals[:8])
		regs.GSBase = c.gsBase32(vals[8])
	} else {
		vals := make([]uint64, len(faultRegs64))
		if c.eng.RegReadBatch(faultRegs64, vals) != nil {
			return blockStart
		}
		copy(regs.GPR[:], vals[:16])
		regs.FSBase, regs.GSBase = vals[16], vals[17]
	}
	if pc, ok := insn.FindFaulting(code[:n], blockStart, c.modeBits(), regs, addr); ok {
		return pc
	}
	return blockStart
}

// readCode reads as many bytes at addr as are mapped, up to len(buf).
func (c *Core) readCode(addr uint64, buf []byte) int {
	for n := len(buf); n > 0; n -= 64 {
		if c.as.ReadForce(addr, buf[:n]) == nil {
			return n
		}
	}
	return 0
}

// gsBase32 is the base of the descriptor an i386 GS selector names: one of
// the running thread's TLS slots, which is all a guest can load.
func (c *Core) gsBase32(sel uint64) uint64 {
	idx := int(sel >> 3)
	if c.thread == nil || idx < linux.TLSEntryMin || idx >= linux.TLSEntryMin+linux.TLSEntries {
		return 0
	}
	d := c.thread.TLS[idx-linux.TLSEntryMin].Desc
	return (d>>16)&0xffffff | (d>>56)<<24
}
