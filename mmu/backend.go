package mmu

import (
	"fmt"
	"unsafe"
)

// Backend is an emulator engine whose view of guest memory the address space
// keeps coherent. Every mapping change is repeated on every attached backend
// while the address space's lock is held, so a backend must not call back
// into the AddressSpace from these methods.
//
// Contract (what the address space guarantees to a backend):
//   - addresses and sizes are page aligned and sizes are non-zero;
//   - MapHost is only called on a range the backend has no mapping in;
//     host points to at least size bytes of anonymous host memory that stays
//     valid until the range is unmapped (it never moves);
//   - Unmap and Protect are only called on ranges the backend has fully
//     mapped, but such a range may span, or cover parts of, several earlier
//     MapHost ranges (Unicorn splits map_ptr regions for this);
//   - the Prot passed is already HardwareProt (never write- or exec-only);
//   - InvalidateCode is called while the range is still mapped (before an
//     Unmap): Unicorn 2.0.1's uc_ctl_remove_cache resolves the range through
//     the engine's own mapping, and does nothing for unmapped addresses. The
//     range may span several MapHost regions; an engine whose invalidation
//     assumes one contiguous host region must split it;
//   - RevokeExec is called, on a mapped range, right before the Protect that
//     removes its execute permission. Until the range is executable again
//     (a later Protect with ProtExec) or InvalidateCode covers it, every
//     host-side write that changes bytes in it is reported with
//     InvalidateCode, as for executable memory.
//
// What a backend must guarantee in return: none of its translations of a
// range runs after InvalidateCode covered it, nor while the range's execute
// permission is revoked (mmu invariant 6).
type Backend interface {
	// MapHost maps [addr, addr+size) onto host memory (uc_mem_map_ptr).
	MapHost(addr, size uint64, p Prot, host unsafe.Pointer) error
	// Unmap removes [addr, addr+size).
	Unmap(addr, size uint64) error
	// Protect changes the permissions of [addr, addr+size).
	Protect(addr, size uint64, p Prot) error
	// InvalidateCode drops cached translations (and anything derived from
	// them) that overlap [addr, addr+size).
	InvalidateCode(addr, size uint64)
	// RevokeExec makes sure no translation overlapping [addr, addr+size)
	// runs while the range is not executable: it drops them (as
	// InvalidateCode), or keeps them unable to run until a Protect gives
	// the range execute permission back, when they may run again since the
	// bytes under them did not change (changes are reported, see above).
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

// mapOnBackends maps [start,end) on every backend. If one fails, the
// backends that already mapped it unmap it again, so the range is absent
// everywhere and the caller can give up cleanly.
func (as *AddressSpace) mapOnBackends(start, end uint64, p Prot, host unsafe.Pointer) error {
	hw := HardwareProt(p)
	for i, b := range as.backends {
		if err := b.MapHost(start, end-start, hw, host); err != nil {
			for _, done := range as.backends[:i] {
				if uerr := done.Unmap(start, end-start); uerr != nil {
					as.noteFailure(fmt.Errorf("mmu: backend Unmap [%#x,%#x) while undoing a failed map: %w", start, end, uerr))
				}
			}
			return fmt.Errorf("mmu: backend MapHost [%#x,%#x): %w", start, end, err)
		}
	}
	return nil
}

// unmapOnBackends drops translations of [start,end) and then unmaps it on
// every backend (in that order: see the Backend contract).
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
