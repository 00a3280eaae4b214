package mmu

import "fmt"

// Page-table permission overrides. The probe engine sometimes needs a page's
// hardware permissions to differ from its VMA for a moment (for example
// clearing NX on one stack page to single-step an out-of-line copy there).
// An override changes what the backends enforce for one page; the VMA, and
// so MapsText and the kernel's access checks, are unchanged. Overrides are
// dropped when the page is unmapped and when mprotect changes the VMA's
// permissions (the page table is rewritten, change_protection in
// mm/mprotect.c).

// SetPageProt sets the page-table permissions of the page containing addr
// to p on every backend. Setting the VMA's own permissions removes the
// override. Removing execute permission drops the page's translations.
func (as *AddressSpace) SetPageProt(addr uint64, p Prot) error {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.dead != nil {
		return as.dead
	}
	if p&^ProtAll != 0 {
		return fmt.Errorf("mmu: invalid protection %#x", uint8(p))
	}
	page := pageAlignDown(addr)
	i, ok := as.findVMA(page)
	if !ok {
		return fmt.Errorf("mmu: page %#x is not mapped", page)
	}
	v := as.vmas[i]
	old := as.effectiveProt(v, page)
	if p == v.Prot {
		delete(as.pageProt, page)
	} else {
		as.pageProt[page] = p
	}
	if old == p {
		return nil
	}
	err := as.protectOnBackends(page, page+PageSize, p, old&ProtExec != 0 && p&ProtExec == 0)
	if p&ProtWrite != 0 && (v.File != nil || as.filePages[page] != nil) {
		as.fileWritableLocked(page, page+PageSize)
	}
	return err
}

// PageProt returns the page-table permissions of the page containing addr
// (its override, else its VMA's permissions), before HardwareProt; false if
// the page is not mapped.
func (as *AddressSpace) PageProt(addr uint64) (Prot, bool) {
	as.mu.Lock()
	defer as.mu.Unlock()
	i, ok := as.findVMA(addr)
	if !ok {
		return 0, false
	}
	return as.effectiveProt(as.vmas[i], addr), true
}
