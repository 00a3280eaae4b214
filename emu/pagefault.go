package emu

import (
	"github.com/probesim/probesim/emu/insn"
	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/kernel"
)

// Page faults.
//
// With the virtual TLB, an access the page table refuses ends the run with
// the CPU state of the faulting instruction (Unicorn restores it before it
// raises the fault), but Unicorn hands the page table only the page, not
// the address. The address is the first byte of the instruction's access
// inside that page, which emu/insn computes from the exact ip and the
// registers (insn.FaultAddress), as CR2 would hold it.

// faultRegs64 and faultRegs32 list the GPRs in x86asm order.
var (
	faultRegs64 = []uc.Reg{uc.RAX, uc.RCX, uc.RDX, uc.RBX, uc.RSP, uc.RBP, uc.RSI, uc.RDI,
		uc.R8, uc.R9, uc.R10, uc.R11, uc.R12, uc.R13, uc.R14, uc.R15, uc.FS_BASE, uc.GS_BASE}
	faultRegs32 = []uc.Reg{uc.EAX, uc.ECX, uc.EDX, uc.EBX, uc.ESP, uc.EBP, uc.ESI, uc.EDI, uc.GS}
)

// maxInsnLen is the longest x86 instruction.
const maxInsnLen = 15

// pageFaultEvent is the SIGSEGV of an access the page table refused, as
// arch/x86/mm/fault.c reports it: the faulting address and the error code
// (present/protection, write, user, instruction fetch).
func (c *Core) pageFaultEvent(pf uc.PageFault) Event {
	rip := c.PC()
	code := uint64(pfUser)
	if pf.Mapped {
		code |= pfProt
	}
	var addr uint64
	switch pf.Access {
	case uc.MemFetch:
		code |= pfInstr
		// The fetch faults at the ip, or where the instruction runs
		// into the refused page.
		addr = max(rip, pf.Page)
	case uc.MemWrite:
		code |= pfWrite
		addr = c.dataFaultAddr(rip, pf.Page)
	default:
		addr = c.dataFaultAddr(rip, pf.Page)
	}
	return c.faultEvent(kernel.SIGSEGV, "segfault", addr, rip, code)
}

// dataFaultAddr is the address a data access of the instruction at rip
// faulted at in page, or page when it cannot be worked out.
func (c *Core) dataFaultAddr(rip, page uint64) uint64 {
	code := make([]byte, maxInsnLen)
	n := c.readCode(rip, code)
	if n == 0 {
		return page
	}
	var regs insn.Regs
	if c.arch == kernel.I386 {
		vals := make([]uint64, len(faultRegs32))
		if c.eng.RegReadBatch(faultRegs32, vals) != nil {
			return page
		}
		copy(regs.GPR[:8], vals[:8])
		regs.GSBase = c.gsBase32(vals[8])
	} else {
		vals := make([]uint64, len(faultRegs64))
		if c.eng.RegReadBatch(faultRegs64, vals) != nil {
			return page
		}
		copy(regs.GPR[:], vals[:16])
		regs.FSBase, regs.GSBase = vals[16], vals[17]
	}
	if addr, ok := insn.FaultAddress(code[:n], rip, c.modeBits(), regs, page); ok {
		return addr
	}
	return page
}

// readCode reads as many bytes at addr as are mapped, up to len(buf).
func (c *Core) readCode(addr uint64, buf []byte) int {
	for n := len(buf); n > 0; n-- {
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
	if c.thread == nil || idx < kernel.TLSEntryMin || idx >= kernel.TLSEntryMin+kernel.TLSEntries {
		return 0
	}
	d := c.thread.TLS[idx-kernel.TLSEntryMin].Desc
	return (d>>16)&0xffffff | (d>>56)<<24
}
