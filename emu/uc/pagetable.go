package uc

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
)

// Page tables of several address spaces on one engine.
//
// An engine with a virtual TLB translates through one page table at a
// time, as a CPU through the table CR3 names. Each address space (a
// process's mm) has its own (NewPageTable); switching to another is a CR3
// write without PCID, which flushes the soft TLB (SwitchPageTable). The
// tables of inactive address spaces are edited in place (DropPagesIn,
// ProtectPagesIn): their translations are in no TLB, so nothing is flushed
// or fenced. Translated blocks are kept by physical page and shared by
// every table that maps the page; removing those of an inactive table's
// range resolves its pages through that table (RemoveCacheIn switches to
// it and back for the removal).

// PageTable is one address space's translations on an engine.
type PageTable struct {
	eng *Engine
	pt  *C.probesim_pt
}

var errForeignTable = errors.New("unicorn: the page table belongs to another engine")

// BasePageTable is the table the engine was opened with (nil without a
// virtual TLB). It is freed with the engine.
func (e *Engine) BasePageTable() *PageTable {
	if e.alive() != nil || e.vm == nil {
		return nil
	}
	if e.basePT == nil {
		e.basePT = &PageTable{eng: e, pt: &e.vm.base}
	}
	return e.basePT
}

// NewPageTable makes an empty page table for another address space.
func (e *Engine) NewPageTable() (*PageTable, error) {
	if err := e.alive(); err != nil {
		return nil, err
	}
	if e.vm == nil {
		return nil, errNoVM
	}
	pt := C.probesim_pt_new()
	if pt == nil {
		return nil, errors.New("unicorn: out of C memory for a page table")
	}
	e.tables++
	return &PageTable{eng: e, pt: pt}, nil
}

// FreePageTable releases a table made by NewPageTable. The active table and
// the base table cannot be freed.
func (e *Engine) FreePageTable(t *PageTable) error {
	if t == nil || t.pt == nil {
		return nil
	}
	if t.eng != e {
		return errForeignTable
	}
	if e.vm != nil && (t.pt == e.vm.pt || t.pt == &e.vm.base) {
		return fmt.Errorf("unicorn: freeing the active or the base page table")
	}
	C.probesim_pt_free(t.pt)
	t.pt = nil
	e.tables--
	return nil
}

// ActivePageTable reports whether t is the table the engine translates
// through now.
func (e *Engine) ActivePageTable(t *PageTable) bool {
	return t != nil && e.vm != nil && t.pt != nil && t.pt == e.vm.pt
}

// SwitchPageTable makes t the active table (a CR3 write): Unicorn's soft
// TLB is flushed, so every later access translates through t.
func (e *Engine) SwitchPageTable(t *PageTable) error {
	if err := e.alive(); err != nil {
		return err
	}
	if e.vm == nil {
		return errNoVM
	}
	if t == nil || t.pt == nil || t.eng != e {
		return errForeignTable
	}
	if t.pt == e.vm.pt {
		return nil
	}
	e.vm.pt = t.pt
	e.tableSwitches++
	return e.FlushTLB()
}

// DropPagesIn is DropPages on table t, which need not be active.
func (e *Engine) DropPagesIn(t *PageTable, begin, end uint64) error {
	if t == nil || e.ActivePageTable(t) {
		return e.DropPages(begin, end)
	}
	if err := e.checkPages("drop pages", begin, end); err != nil {
		return err
	}
	C.probesim_pt_drop(t.pt, C.uint64_t(begin), C.uint64_t(end))
	return nil
}

// ProtectPagesIn is ProtectPages on table t, which need not be active.
func (e *Engine) ProtectPagesIn(t *PageTable, begin, end uint64, p Prot) error {
	if t == nil || e.ActivePageTable(t) {
		return e.ProtectPages(begin, end, p)
	}
	if err := e.checkPages("protect pages", begin, end); err != nil {
		return err
	}
	C.probesim_pt_protect(t.pt, C.uint64_t(begin), C.uint64_t(end), C.uint32_t(p&ProtAll))
	return nil
}

// RemoveCacheIn is RemoveCache for the pages table t maps: an inactive
// table is made active for the removal and the active one restored (two
// TLB flushes).
func (e *Engine) RemoveCacheIn(t *PageTable, begin, end uint64) error {
	if t == nil || e.ActivePageTable(t) {
		return e.RemoveCache(begin, end)
	}
	if err := e.alive(); err != nil {
		return err
	}
	if e.vm == nil {
		return errNoVM
	}
	if !e.started || C.probesim_pt_drop_count(t.pt, C.uint64_t(begin), C.uint64_t(end)) == 0 {
		return nil // nothing translated, or nothing held in the range
	}
	active := e.vm.pt
	e.vm.pt = t.pt
	err := e.FlushTLB()
	if err == nil {
		err = e.RemoveCache(begin, end)
	}
	e.vm.pt = active
	return errors.Join(err, e.FlushTLB())
}

// PTEIn is PTE in table t.
func (e *Engine) PTEIn(t *PageTable, vaddr uint64) (paddr uint64, p Prot, ok bool) {
	if t == nil || t.pt == nil || e.alive() != nil {
		return 0, 0, false
	}
	pte := uint64(C.probesim_pt_pte(t.pt, C.uint64_t(vaddr)))
	if pte&C.PROBESIM_PTE_PRESENT == 0 {
		return 0, 0, false
	}
	return pte &^ (PageSize - 1), Prot(pte & C.PROBESIM_PTE_PERMS), true
}

// Entries is the number of translations t holds.
func (t *PageTable) Entries() uint64 {
	if t == nil || t.pt == nil {
		return 0
	}
	return uint64(t.pt.entries)
}

// Nodes is the number of 4 KiB nodes t allocated.
func (t *PageTable) Nodes() uint64 {
	if t == nil || t.pt == nil {
		return 0
	}
	return uint64(t.pt.nodes)
}

// TableSwitches is how many times SwitchPageTable changed the active
// table.
func (e *Engine) TableSwitches() uint64 { return e.tableSwitches }
