package uc

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// Virtual memory (vm.c).
//
// An engine opened with a translator (Options.Translate) runs with
// Unicorn 2.1's virtual TLB: Unicorn's memory map holds only physical
// regions (MapPhys: a few large host-backed ranges the caller owns), and
// every guest virtual page is translated by a page table in C. The table
// is a cache, filled on a TLB miss by asking the translator, which may
// create the translation (demand paging, stack growth) or refuse it (a
// fault: Start fails and PageFault says why). The caller keeps the cache
// right: DropPages when a translation goes away, ProtectPages when its
// permissions change.
//
// Unicorn's soft TLB caches translations too. Giving permissions needs
// nothing (a missing permission is a TLB miss, which refills from the
// table); taking any away flushes the TLB, except execute permission
// alone, which is fenced instead (fence.go) so that a probe's NX flip
// around every out-of-line step costs no flush and no retranslation.
//
// Translated blocks are kept by physical page. RemoveCache removes them
// page by page through the table, so it must come before DropPages of the
// same range, and physical pages must not be reused for other code before
// their blocks were removed.

// PageSize is the x86 page size.
const PageSize = 4096

const pageSize = PageSize

// Memory accesses as a translator sees them (uc_mem_type).
const (
	MemRead  = MemAccess(C.UC_MEM_READ)
	MemWrite = MemAccess(C.UC_MEM_WRITE)
	MemFetch = MemAccess(C.UC_MEM_FETCH)
)

// TranslateFunc translates the virtual page at page (page aligned) for an
// access the TLB missed. It returns the physical page (inside a region
// given to MapPhys) and the page's permissions, or ok = false when the
// page is not mapped. The access is then checked against the permissions
// by the caller, in C. A translator may change the address space (grow a
// stack), and call DropPages and ProtectPages, but not Start or Close.
type TranslateFunc func(page uint64, access MemAccess) (paddr uint64, p Prot, ok bool)

var errNoVM = errors.New("unicorn: the engine has no virtual TLB (open it with Options.Translate)")

func (e *Engine) installVM(fn TranslateFunc) error {
	handle := register(&callback{eng: e, fn: fn})
	vm := C.probesim_vm_new(C.uintptr_t(handle))
	if vm == nil {
		unregister(handle)
		return errors.New("unicorn: out of C memory for the page table")
	}
	if err := check("hook_add(tlb fill)", C.probesim_vm_install(e.uc, vm)); err != nil {
		C.probesim_vm_free(vm)
		unregister(handle)
		return err
	}
	e.vm, e.translateHandle = vm, handle
	if e.acct != nil {
		vm.acct = e.acct
	}
	return nil
}

// Virtual reports whether the engine translates through a page table.
func (e *Engine) Virtual() bool { return e.alive() == nil && e.vm != nil }

// MapPhys maps host memory as the physical range [paddr, paddr+size),
// readable, writable and executable (the page table decides what the guest
// may do). host must not be Go-heap memory and must outlive the engine.
func (e *Engine) MapPhys(paddr, size uint64, host unsafe.Pointer) error {
	if err := e.alive(); err != nil {
		return err
	}
	if e.vm == nil {
		return errNoVM
	}
	return e.MapPtr(paddr, size, ProtAll, host)
}

func (e *Engine) checkPages(op string, begin, end uint64) error {
	if err := e.alive(); err != nil {
		return err
	}
	if e.vm == nil {
		return errNoVM
	}
	if begin%PageSize != 0 || end%PageSize != 0 || end < begin {
		return fmt.Errorf("unicorn: %s: [%#x, %#x) is not a page-aligned range", op, begin, end)
	}
	return nil
}

// DropPages forgets the translations of [begin, end) (the address space
// unmapped or moved them); the next access asks the translator again. The
// TLB is flushed if any was held. Remove the range's translated blocks
// first (RemoveCache).
func (e *Engine) DropPages(begin, end uint64) error {
	if err := e.checkPages("drop pages", begin, end); err != nil {
		return err
	}
	if C.probesim_vm_drop(e.vm, C.uint64_t(begin), C.uint64_t(end)) == 0 {
		return nil // nothing held, so nothing in the TLB either
	}
	return e.FlushTLB()
}

// ProtectPages gives the held translations of [begin, end) the
// permissions p. Taking away read or write flushes the TLB; taking away
// only execute fences the pages instead (their blocks cannot run until
// the next flush, see fence.go); giving execute back lifts their fences.
func (e *Engine) ProtectPages(begin, end uint64, p Prot) error {
	if err := e.checkPages("protect pages", begin, end); err != nil {
		return err
	}
	removed := Prot(C.probesim_vm_protect(e.vm, C.uint64_t(begin), C.uint64_t(end), C.uint32_t(p&ProtAll)))
	switch {
	case removed&^ProtExec != 0:
		return e.FlushTLB()
	case removed&ProtExec != 0:
		return e.FenceExec(begin, end)
	}
	if p&ProtExec != 0 && e.acct != nil {
		C.probesim_unfence_pages(e.acct, C.uint64_t(begin), C.uint64_t(end))
	}
	return nil
}

// PTE returns the page table's entry for the page holding vaddr: the
// physical page and permissions, ok = false when it holds none.
func (e *Engine) PTE(vaddr uint64) (paddr uint64, p Prot, ok bool) {
	if e.alive() != nil || e.vm == nil {
		return 0, 0, false
	}
	pte := uint64(C.probesim_vm_pte(e.vm, C.uint64_t(vaddr)))
	if pte&C.PROBESIM_PTE_PRESENT == 0 {
		return 0, 0, false
	}
	return pte &^ (PageSize - 1), Prot(pte & C.PROBESIM_PTE_PERMS), true
}

// FlushTLB flushes Unicorn's soft TLB (UC_CTL_TLB_FLUSH): every later access
// is translated from the page table again. It lifts every fence, whose
// point was a TLB entry that might still grant execution.
func (e *Engine) FlushTLB() error {
	if err := e.alive(); err != nil {
		return err
	}
	if e.vm != nil {
		e.vm.tlb_flushes++
	}
	if e.acct != nil {
		C.probesim_fence_clear(e.acct)
	}
	return check("ctl_flush_tlb", C.probesim_flush_tlb(e.uc))
}

// PageFault is an access the page table refused.
type PageFault struct {
	Page   uint64    // the page (Unicorn passes page-aligned addresses only)
	Access MemAccess // MemRead, MemWrite or MemFetch
	Mapped bool      // the page is mapped: a protection fault
}

// PageFault returns the access that ended the last Start, if the page
// table refused one. The PC is the faulting instruction's (Unicorn
// restores the CPU state before it raises the fault), and the general
// registers are those before it.
func (e *Engine) PageFault() (PageFault, bool) {
	if e.alive() != nil || e.vm == nil || e.vm.fault.pending == 0 {
		return PageFault{}, false
	}
	f := e.vm.fault
	return PageFault{Page: uint64(f.page), Access: MemAccess(f._type), Mapped: f.mapped != 0}, true
}

// VMStats are a virtual engine's page-table counters.
type VMStats struct {
	Entries      uint64 // translations held
	Nodes        uint64 // page-table nodes (4 KiB each)
	Fills        uint64 // TLB misses served
	Translations uint64 // translator calls
	TLBFlushes   uint64
}

// VMStats returns the page-table counters (zero without a virtual TLB).
func (e *Engine) VMStats() VMStats {
	if e.alive() != nil || e.vm == nil {
		return VMStats{}
	}
	v := e.vm
	return VMStats{Entries: uint64(v.pt.entries), Nodes: uint64(v.pt.nodes), Fills: uint64(v.fills),
		Translations: uint64(v.translations), TLBFlushes: uint64(v.tlb_flushes)}
}

// setPermsWithoutFlush changes the table's permissions of [begin, end)
// and nothing else: the tests use it to show what the TLB keeps.
func (e *Engine) setPermsWithoutFlush(begin, end uint64, p Prot) {
	C.probesim_vm_protect(e.vm, C.uint64_t(begin), C.uint64_t(end), C.uint32_t(p))
}
