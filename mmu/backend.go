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
//     Unmap or a Protect that removes execute permission): Unicorn 2.0.1's
//     uc_ctl_remove_cache resolves the range through the engine's own
//     mapping, and does nothing for unmapped addresses. The range may span
//     several MapHost regions; an engine whose invalidation assumes one
//     contiguous host region must split it.
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
// When execute permission goes away, translations are dropped first.
func (as *AddressSpace) protectOnBackends(start, end uint64, p Prot, dropsExec bool) error {
	if dropsExec {
		as.invalidate(start, end)
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

// invalidate drops translations of [start,end) on every backend.
func (as *AddressSpace) invalidate(start, end uint64) {
	as.stats.Invalidations++
	for _, b := range as.backends {
		b.InvalidateCode(start, end-start)
	}
}
