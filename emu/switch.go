package emu

import (
	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/kernel"
)

// Thread switching. All threads of a machine run on one Core; the machine
// switches them by saving the engine's register context into the outgoing
// thread's Context and restoring the incoming one's (about 90 ns a pair).

// NewContext returns a context holding the engine's current registers.
func (c *Core) NewContext() (*uc.Context, error) {
	if err := c.syncTrapRegs(); err != nil {
		return nil, err
	}
	return c.eng.ContextSave()
}

// SaveContext stores the engine's registers into ctx.
func (c *Core) SaveContext(ctx *uc.Context) error {
	if err := c.syncTrapRegs(); err != nil {
		return err
	}
	return c.eng.ContextSaveInto(ctx)
}

// RestoreContext loads ctx into the engine and, on i386, makes the thread's
// TLS descriptors current: switch_to() reloads the GDT's TLS slots
// (load_TLS), and the GS selector is reloaded so its hidden base follows.
func (c *Core) RestoreContext(ctx *uc.Context, t *kernel.Task) error {
	c.regs = trapRegs{}
	if err := c.eng.ContextRestore(ctx); err != nil {
		return err
	}
	if c.arch != kernel.I386 {
		return nil
	}
	for i, d := range t.TLS {
		if err := c.WriteGDTEntry(kernel.TLSEntryMin+i, d.Desc); err != nil {
			return err
		}
	}
	gs, err := c.eng.RegRead(uc.GS)
	if err != nil || gs>>3 < kernel.TLSEntryMin || gs>>3 >= kernel.TLSEntryMin+kernel.TLSEntries {
		return err
	}
	return c.eng.RegWrite(uc.GS, gs)
}

// WriteRegs sets registers of the loaded context.
func (c *Core) WriteRegs(regs []uc.Reg, vals []uint64) error {
	if err := c.dropTrapRegs(); err != nil {
		return err
	}
	return c.eng.RegWriteBatch(regs, vals)
}

// ReadReg reads one register of the loaded context.
func (c *Core) ReadReg(r uc.Reg) (uint64, error) {
	if err := c.syncTrapRegs(); err != nil {
		return 0, err
	}
	return c.eng.RegRead(r)
}

// RetReg is the syscall return register of the guest ABI.
func (c *Core) RetReg() uc.Reg { return c.abi.ret }

// Counters returns the counters the running vCPU charges.
func (c *Core) Counters() *uc.Counters { return c.counters }

// Thread returns the thread now running.
func (c *Core) Thread() *kernel.Task { return c.thread }

// kernel.RegsCPU for the loaded task.

var (
	userRegs64 = []uc.Reg{uc.RAX, uc.RBX, uc.RCX, uc.RDX, uc.RSI, uc.RDI, uc.RBP, uc.RSP,
		uc.R8, uc.R9, uc.R10, uc.R11, uc.R12, uc.R13, uc.R14, uc.R15, uc.RIP, uc.EFLAGS,
		uc.CS, uc.SS, uc.DS, uc.ES, uc.FS, uc.GS, uc.FS_BASE, uc.GS_BASE}
	userRegs32 = []uc.Reg{uc.EAX, uc.EBX, uc.ECX, uc.EDX, uc.ESI, uc.EDI, uc.EBP, uc.ESP,
		uc.EIP, uc.EFLAGS, uc.CS, uc.SS, uc.DS, uc.ES, uc.FS, uc.GS}
)

// Regs reads the loaded task's user registers. Inside the x86-64 syscall
// hook Unicorn still has rip on the syscall instruction; the kernel sees
// the address after it, as pt_regs holds it.
func (c *Core) Regs() (kernel.Regs, error) {
	if err := c.syncTrapRegs(); err != nil {
		return kernel.Regs{}, err
	}
	var r kernel.Regs
	if c.arch == kernel.I386 {
		v := make([]uint64, len(userRegs32))
		if err := c.eng.RegReadBatch(userRegs32, v); err != nil {
			return r, err
		}
		r.AX, r.BX, r.CX, r.DX, r.SI, r.DI, r.BP, r.SP = v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
		r.IP, r.Flags = v[8], v[9]
		r.CS, r.SS, r.DS, r.ES, r.FS, r.GS = v[10], v[11], v[12], v[13], v[14], v[15]
		return r, nil
	}
	v := make([]uint64, len(userRegs64))
	if err := c.eng.RegReadBatch(userRegs64, v); err != nil {
		return r, err
	}
	r.AX, r.BX, r.CX, r.DX, r.SI, r.DI, r.BP, r.SP = v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
	r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15 = v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]
	r.IP, r.Flags = v[16], v[17]
	r.CS, r.SS, r.DS, r.ES, r.FS, r.GS = v[18], v[19], v[20], v[21], v[22], v[23]
	r.FSBase, r.GSBase = v[24], v[25]
	if c.pcAtSyscall {
		r.IP += 2
	}
	return r, nil
}

// SetRegs writes the loaded task's general registers, ip and flags (and
// the FS/GS bases on x86-64); selectors are left alone. The task resumes
// at r.IP: inside the x86-64 syscall hook Unicorn adds the syscall
// instruction's length to rip when the hook returns, whatever the hook
// wrote (measured on 2.1.1), so the ip written there is r.IP-2.
func (c *Core) SetRegs(r *kernel.Regs) error {
	if err := c.dropTrapRegs(); err != nil {
		return err
	}
	ip := r.IP
	if c.pcAtSyscall {
		ip -= 2
	}
	if c.arch == kernel.I386 {
		return c.eng.RegWriteBatch(userRegs32[:10], []uint64{r.AX, r.BX, r.CX, r.DX, r.SI, r.DI, r.BP, r.SP, ip, r.Flags})
	}
	regs := append(append([]uc.Reg{}, userRegs64[:18]...), uc.FS_BASE, uc.GS_BASE)
	return c.eng.RegWriteBatch(regs, []uint64{r.AX, r.BX, r.CX, r.DX, r.SI, r.DI, r.BP, r.SP,
		r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15, ip, r.Flags, r.FSBase, r.GSBase})
}

// FPState reads the loaded task's x87 and SSE state (FXSAVE layout).
func (c *Core) FPState(s *kernel.FPState) error {
	return c.eng.FXSave((*[uc.FXSaveSize]byte)(s))
}

// SetFPState loads the loaded task's x87 and SSE state.
func (c *Core) SetFPState(s *kernel.FPState) error {
	return c.eng.FXRstor((*[uc.FXSaveSize]byte)(s))
}

// ExecSegments gives the loaded task the data segments of a new program
// (start_thread): on i386, DS and ES the user data selector and FS and GS
// null, since exec dropped the TLS descriptors a selector there named;
// x86-64 keeps its flat selectors (its bases are registers, reset by the
// kernel's SetRegs).
func (c *Core) ExecSegments() error {
	if c.arch != kernel.I386 {
		return nil
	}
	return c.eng.RegWriteBatch([]uc.Reg{uc.DS, uc.ES, uc.FS, uc.GS}, []uint64{userDS, userDS, 0, 0})
}
