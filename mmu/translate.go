package mmu

import (
	"errors"
	"fmt"
)

// Translation is what a backend needs to run an access to a page: the
// physical page behind it and the permissions the page table grants.
type Translation struct {
	Phys uint64
	Prot Prot // HardwareProt of the page's effective permissions
	// Grew is set when the access grew a stack to reach the page (a page
	// fault the kernel handled, which the caller may charge).
	Grew bool
}

// ErrNotMapped is Translate's answer for an address no VMA holds (after a
// stack growth was tried, if allowed): the access is a segmentation fault.
var ErrNotMapped = errors.New("mmu: address not mapped")

// ErrOutOfMemory is Translate's answer when the page cannot be populated
// because the machine's physical memory is used up (OutOfMemory).
var ErrOutOfMemory = errOutOfMemory

// Translate is the page-fault path for a backend that holds no
// translation for the page at addr: the guest is about to access it
// (handle_mm_fault). If no VMA holds addr and grow is set (a data access;
// Linux grows stacks from data faults only), a growsdown VMA above it is
// extended (GrowStack). The page is then populated (demand paging) and
// its physical page and effective permissions returned; the backend
// checks the access against them, so a protection fault is a Translation
// whose Prot lacks the access, not an error.
func (as *AddressSpace) Translate(addr uint64, grow bool) (Translation, error) {
	return as.TranslateAccess(addr, grow, false)
}

// TranslateAccess is Translate for an access that writes when write is
// set: a backend asks again when a write meets a page it holds without
// write permission, and a private file page still shared with the page
// cache is then copied (do_wp_page, file.go) and translated writable; any
// other page answers as for Translate, and the write is a protection
// fault. A private file page not written yet is translated without write
// permission, so that its first write comes here.
func (as *AddressSpace) TranslateAccess(addr uint64, grow, write bool) (Translation, error) {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.dead != nil {
		return Translation{}, as.dead
	}
	var t Translation
	addr = pageAlignDown(addr)
	i, ok := as.findVMA(addr)
	if !ok {
		if !grow || as.growStackLocked(addr) != nil {
			return Translation{}, ErrNotMapped
		}
		t.Grew = true
		if i, ok = as.findVMA(addr); !ok {
			return Translation{}, fmt.Errorf("mmu: %#x not mapped after growing the stack", addr)
		}
	}
	if _, err := as.populateLocked(addr); err != nil {
		return Translation{}, err
	}
	v := as.vmas[i]
	prot := as.effectiveProt(v, addr)
	if cp := as.filePages[addr]; cp != nil && prot&ProtWrite != 0 {
		switch {
		case v.Flags&Shared != 0:
			as.cache.markDirty(cp)
		case write:
			if _, err := as.breakCOWLocked(addr, true); err != nil {
				return Translation{}, err
			}
		default:
			prot &^= ProtWrite
		}
	}
	t.Phys, _ = as.pagePhys(addr)
	t.Prot = HardwareProt(prot)
	return t, nil
}

// OutOfMemory reports whether a page could not be populated because the
// machine's physical memory (Config.PhysMemory) was used up: on Linux the
// OOM killer would have ended the process.
func (as *AddressSpace) OutOfMemory() bool {
	as.mu.Lock()
	defer as.mu.Unlock()
	return as.oom
}
