package emu

import (
	"errors"
	"unsafe"

	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/mmu"
)

// Address spaces on the one engine.
//
// Every process's address space (mm) is attached to the Core through an
// mmBackend of its own, which is the Core seen through that mm's page
// table: the engine translates through one table at a time, as a CPU
// through the table CR3 names, and SwitchMM is the CR3 write
// (switch_mm_irqs_off). Coherence requests of an mm that is not the active
// one only edit its table (no TLB flush: its translations are in no TLB);
// its translated code, found by physical page, is removed through its
// table. Physical memory (the arenas of the machine's Phys) is mapped into
// the engine once, whichever mm gives it first.

// mmBackend is the mmu.Backend of one address space on the Core.
type mmBackend struct {
	c  *Core
	as *mmu.AddressSpace
	pt *uc.PageTable
}

// MapPhys maps an arena into the engine the first time any mm gives it.
func (b *mmBackend) MapPhys(paddr, size uint64, host unsafe.Pointer) error {
	if b.c.physMapped[paddr] {
		return nil
	}
	if err := b.c.eng.MapPhys(paddr, size, host); err != nil {
		return err
	}
	b.c.physMapped[paddr] = true
	return nil
}

// Unmap drops the mm's translations of the range (a TLB flush if it is the
// active one and held any).
func (b *mmBackend) Unmap(addr, size uint64) error {
	return b.c.eng.DropPagesIn(b.pt, addr, addr+size)
}

// Protect changes the permissions of the mm's translations; a range that
// is executable again gets its fenced translations back (see RevokeExec).
func (b *mmBackend) Protect(addr, size uint64, p mmu.Prot) error {
	return b.c.eng.ProtectPagesIn(b.pt, addr, addr+size, uc.Prot(p))
}

// InvalidateCode drops translated blocks (found through the mm's table)
// and cached block costs that overlap [addr, addr+size); the cost cache
// also drops blocks that start before addr and run into the range.
func (b *mmBackend) InvalidateCode(addr, size uint64) {
	_ = b.c.eng.RemoveCacheIn(b.pt, addr, addr+size)
	b.c.eng.InvalidateCosts(addr, addr+size)
}

// RevokeExec is called before [addr, addr+size) loses execute permission.
// In the active mm the pages are fenced rather than flushed from the TLB
// (uc.Engine.FenceExec): none of their translated blocks can run while the
// range is not executable, and when it is again (Protect) they run without
// being translated anew, which is what makes a probe's NX flip around an
// out-of-line step cheap. The range's cached costs are dropped by the
// fence: guest stores may change the bytes while the range is not
// executable, and Unicorn then retranslates blocks of the same address and
// size, which the cost cache could not tell apart. An inactive mm's
// translations are in no TLB: its Protect is enough.
func (b *mmBackend) RevokeExec(addr, size uint64) {
	if !b.c.eng.ActivePageTable(b.pt) {
		b.c.eng.InvalidateCosts(addr, addr+size)
		return
	}
	// An error means a closed engine or a failed flush, which
	// InvalidateCode ignores as well.
	_ = b.c.eng.FenceExec(addr, addr+size)
}

// AttachMM attaches another address space (a forked child's) to the
// engine with a page table of its own.
func (c *Core) AttachMM(as *mmu.AddressSpace) error {
	if c.mms[as] != nil {
		return errors.New("emu: address space already attached")
	}
	pt, err := c.eng.NewPageTable()
	if err != nil {
		return err
	}
	b := &mmBackend{c: c, as: as, pt: pt}
	if err := as.Attach(b); err != nil {
		_ = c.eng.FreePageTable(pt)
		return err
	}
	c.mms[as] = b
	return nil
}

// DetachMM detaches an address space that is about to be closed (its
// process is gone) and frees its page table. The active one cannot be
// detached while another is attached: switch first.
func (c *Core) DetachMM(as *mmu.AddressSpace) error {
	b := c.mms[as]
	if b == nil {
		return errors.New("emu: address space not attached")
	}
	if b == c.mm && len(c.mms) > 1 {
		return errors.New("emu: detaching the active address space")
	}
	// The translated blocks of the pages its table holds go first: once
	// detached, its unmapping reaches no backend, and a physical page it
	// frees (a library's page-cache page, a copy-on-write copy) may be
	// given to another process's code, whose fetches must not find these
	// blocks (Unicorn keeps them by physical page).
	err := c.eng.RemoveCacheIn(b.pt, 0, as.Config().TaskSize)
	err = errors.Join(err, as.Detach(b))
	delete(c.mms, as)
	if b.pt != c.eng.BasePageTable() {
		err = errors.Join(err, c.eng.FreePageTable(b.pt))
	}
	return err
}

// SwitchMM makes as the address space the engine translates through (a
// CR3 write, which flushes the soft TLB) and reports whether it changed.
func (c *Core) SwitchMM(as *mmu.AddressSpace) (bool, error) {
	b := c.mms[as]
	if b == nil {
		return false, errors.New("emu: address space not attached")
	}
	if b == c.mm {
		return false, nil
	}
	if err := c.eng.SwitchPageTable(b.pt); err != nil {
		return false, err
	}
	c.mm, c.as = b, as
	return true, nil
}

// MM is the address space the engine translates through now.
func (c *Core) MM() *mmu.AddressSpace { return c.as }

// PageTableStats are the page tables' host memory: the number of tables
// and their 4 KiB nodes.
func (c *Core) PageTableStats() (tables int, nodes uint64) {
	for _, b := range c.mms {
		tables++
		nodes += b.pt.Nodes()
	}
	return tables, nodes
}
