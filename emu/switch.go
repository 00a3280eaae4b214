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
