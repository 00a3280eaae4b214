package mmu

import (
	"fmt"
	"unsafe"
)

// Backend is an emulator engine whose view of guest memory the address space
// keeps coherent. A backend holds physical memory (the arenas, given to it
// once each with MapPhys) and a cache of translations from guest pages to
// physical pages, which it fills itself by calling Translate when the guest
// touches a page it has none for. Every change that makes a translation
// wrong is repeated on every attached backend while the address space's
// lock is held, so a backend must not call back into the AddressSpace from
// these methods.
//
// Contract (what the address space guarantees to a backend):
//   - addresses and sizes are page aligned and sizes are non-zero;
//   - MapPhys gives host memory that stays valid until the address space
//     is closed (it never moves);
//   - Unmap (the translations of a range go: unmapped, or its pages
//     released) and Protect (the permissions of a range change) may cover
//     pages the backend holds no translation for, which it ignores;
//   - the Prot passed is already HardwareProt (never write- or exec-only);
//   - InvalidateCode is called while the backend may still hold the
//     range's translations (before an Unmap), and before a physical page
//     that held code is reused: a backend that finds its translated code by
//     physical address (Unicorn) looks it up through them;
//   - Unmap may come from inside the backend's own translation miss
//     (Translate or TranslateAccess, at a copy-on-write break: every
//     backend loses the page, the faulting one included, whose fill then
//     takes the answer) and without InvalidateCode first: the page's bytes
//     move unchanged to another physical page, so translated code found
//     by physical address stays right for the old page, and the new
//     translation reaches none of it;
//   - RevokeExec is called right before the Protect that removes a range's
//     execute permission. Until the range is executable again (a later
//     Protect with ProtExec) or InvalidateCode covers it, every host-side
//     write that changes bytes in it is reported with InvalidateCode, as
//     for executable memory.
//
// What a backend must guarantee in return: it uses no translation after
// Unmap covered it, none with permissions other than the last Protect
// gave, and none of its translated code runs after InvalidateCode covered
// it, nor while the range's execute permission is revoked (mmu invariant
// 6).
type Backend interface {
	// MapPhys maps host memory as the physical range [paddr, paddr+size).
	MapPhys(paddr, size uint64, host unsafe.Pointer) error
	// Unmap drops the translations of [addr, addr+size).
	Unmap(addr, size uint64) error
	// Protect changes the permissions of the translations of
	// [addr, addr+size).
	Protect(addr, size uint64, p Prot) error
	// InvalidateCode drops translated code (and anything derived from
	// it) that overlaps [addr, addr+size).
	InvalidateCode(addr, size uint64)
	// RevokeExec makes sure no translated code overlapping
	// [addr, addr+size) runs while the range is not executable: it drops
	// it (as InvalidateCode), or keeps it unable to run until a Protect
	// gives the range execute permission back, when it may run again
	// since the bytes under it did not change (changes are reported, see
	// above).
	RevokeExec(addr, size uint64)
}

// noteFailure records the first backend failure: after it, the engines and
// the bookkeeping may disagree and the machine should stop (see Err).
func (as *AddressSpace) noteFailure(err error) error {
	if as.failure == nil {
		as.failure = err
	}
	return err
}

// unmapOnBackends drops translated code of [start,end) and then the
// translations on every backend (in that order: see the Backend contract).
func (as *AddressSpace) unmapOnBackends(start, end uint64) error {
	as.invalidate(start, end)
	var first error
	for _, b := range as.backends {
		if err := b.Unmap(start, end-start); err != nil && first == nil {
			first = as.noteFailure(fmt.Errorf("mmu: backend Unmap [%#x,%#x): %w", start, end, err))
		}
	}
	return first
}

// protectOnBackends changes the permissions of [start,end) on every backend.
// When execute permission goes away, the backends are told first
// (RevokeExec); when it comes back, the range stops being revoked (its
// writes are reported anyway, as it is executable).
func (as *AddressSpace) protectOnBackends(start, end uint64, p Prot, dropsExec bool) error {
	if dropsExec {
		as.revokeLocked(start, end)
	} else if p&ProtExec != 0 {
		as.revoked = cutRange(as.revoked, start, end)
	}
	hw := HardwareProt(p)
	var first error
	for _, b := range as.backends {
		if err := b.Protect(start, end-start, hw); err != nil && first == nil {
			first = as.noteFailure(fmt.Errorf("mmu: backend Protect [%#x,%#x) %v: %w", start, end, hw, err))
		}
	}
	return first
}

// invalidate drops translations of [start,end) on every backend; the range
// is no longer revoked (nothing of it is left translated).
func (as *AddressSpace) invalidate(start, end uint64) {
	as.stats.Invalidations++
	as.revoked = cutRange(as.revoked, start, end)
	for _, b := range as.backends {
		b.InvalidateCode(start, end-start)
	}
}
