package emu

import (
	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/kernel"
)

// The trapping thread's registers while a trap gate runs.
//
// A probe hit reads the ip and the stack pointer and writes the ip and
// EFLAGS.TF, on the int3 and again on the #DB: done one by one, that is
// eight cgo crossings of ~100 ns per hit (measured with
// BenchmarkSSOLHit-style runs). While the gate runs, the Core keeps the
// three registers here instead: one read when the gate starts, one write
// when it returns (if anything changed). The cache is coherent for every
// register access made through the Core (PC, SP, SetPC, SetTrapFlag,
// ReadReg, WriteRegs, contexts); Engine() writes the pending values back
// before handing the engine out, so reads through it see them too, but
// writing the ip, sp or flags through it inside a gate is not supported.

type trapRegs struct {
	valid      bool // the fields hold the engine's registers
	pc, sp, fl uint64
	dirtyPC    bool // pc must be written back
	dirtyFlags bool // fl must be written back
}

func (c *Core) trapRegNames() (pc, sp uc.Reg) {
	if c.arch == kernel.I386 {
		return uc.EIP, uc.ESP
	}
	return uc.RIP, uc.RSP
}

// loadTrapRegs fills the cache at the start of a trap gate. On failure the
// cache stays off and every access goes to the engine.
func (c *Core) loadTrapRegs() {
	pcReg, spReg := c.trapRegNames()
	v, err := c.eng.RegRead3(pcReg, spReg, uc.EFLAGS)
	if err != nil {
		return
	}
	c.regs = trapRegs{valid: true, pc: v[0], sp: v[1], fl: v[2]}
}

// syncTrapRegs writes back what a gate changed; the cache stays valid.
func (c *Core) syncTrapRegs() error {
	r := &c.regs
	if !r.valid || !(r.dirtyPC || r.dirtyFlags) {
		return nil
	}
	pcReg, _ := c.trapRegNames()
	var err error
	switch {
	case r.dirtyPC && r.dirtyFlags:
		err = c.eng.RegWrite2(pcReg, r.pc, uc.EFLAGS, r.fl)
	case r.dirtyPC:
		err = c.eng.RegWrite(pcReg, r.pc)
	default:
		err = c.eng.RegWrite(uc.EFLAGS, r.fl)
	}
	r.dirtyPC, r.dirtyFlags = false, false
	if err != nil {
		r.valid = false
	}
	return err
}

// dropTrapRegs writes back and turns the cache off (end of the gate, or a
// register access the cache does not model).
func (c *Core) dropTrapRegs() error {
	err := c.syncTrapRegs()
	c.regs.valid = false
	return err
}
