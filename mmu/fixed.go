package mmu

import (
	"errors"
	"fmt"
)

// MapFixed maps [addr, addr+size) with MAP_FIXED semantics for the ELF
// loader and the kernel: whatever overlaps is unmapped, the new memory is
// zeroed, and it merges with identical neighbours. size is rounded up to
// pages. f must hold exactly one of Private and Shared and exactly one of
// Anonymous and FileBacked; offset is the file offset of addr (it must be 0
// for anonymous memory). A private writable mapping without NoReserve is
// made Accounted, as mmap_region does; Accounted may also be passed for
// memory the kernel charges regardless (vm_brk_flags), but never with
// Shared or NoReserve. Contents are then written with WriteForce, or use
// MapFixedData.
func (as *AddressSpace) MapFixed(addr, size uint64, p Prot, f Flags, name string, offset uint64) error {
	return as.MapFixedData(addr, size, p, f, name, offset, nil)
}

// MapFixedFile is MapFixed for the loader's file-backed segments: the VMA
// is named name and carries the file's identity id, its contents written
// by the caller.
func (as *AddressSpace) MapFixedFile(addr, size uint64, p Prot, f Flags, name string, offset uint64, id FileID) error {
	defer as.deliverFileEvents()
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.dead != nil {
		return as.dead
	}
	v, err := as.checkFixed(addr, size, p, f, name, offset)
	if err != nil {
		return err
	}
	v.ID = id
	return as.mapFixedLocked(v, nil)
}

// MapFixedData is MapFixed with data copied to the start of the new memory
// before any backend can see it (no translation can exist yet, so nothing
// needs invalidating). len(data) must not exceed size.
func (as *AddressSpace) MapFixedData(addr, size uint64, p Prot, f Flags, name string, offset uint64, data []byte) error {
	defer as.deliverFileEvents()
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.dead != nil {
		return as.dead
	}
	v, err := as.checkFixed(addr, size, p, f, name, offset)
	if err != nil {
		return err
	}
	if uint64(len(data)) > v.Size() {
		return fmt.Errorf("mmu: %d bytes of contents do not fit a %#x-byte mapping at %#x", len(data), v.Size(), addr)
	}
	return as.mapFixedLocked(v, data)
}

// checkFixed validates a kernel-internal fixed mapping request.
func (as *AddressSpace) checkFixed(addr, size uint64, p Prot, f Flags, name string, offset uint64) (VMA, error) {
	if addr&pageMask != 0 {
		return VMA{}, fmt.Errorf("mmu: mapping address %#x is not page aligned", addr)
	}
	if size == 0 {
		return VMA{}, fmt.Errorf("mmu: mapping at %#x has zero size", addr)
	}
	size, ok := pageAlignLen(size)
	if !ok || size > as.cfg.TaskSize || addr > as.cfg.TaskSize-size {
		return VMA{}, fmt.Errorf("mmu: mapping [%#x,+%#x) does not fit below the task size %#x", addr, size, as.cfg.TaskSize)
	}
	if p&^ProtAll != 0 {
		return VMA{}, fmt.Errorf("mmu: invalid protection %#x", uint8(p))
	}
	if err := checkFlags(f); err != nil {
		return VMA{}, err
	}
	if f&Anonymous != 0 && offset != 0 {
		return VMA{}, fmt.Errorf("mmu: anonymous mapping at %#x has a file offset %#x", addr, offset)
	}
	if offset&pageMask != 0 {
		return VMA{}, fmt.Errorf("mmu: file offset %#x is not page aligned", offset)
	}
	return VMA{Start: addr, End: addr + size, Prot: p, Flags: withAccount(f, p), Name: name, Offset: offset}, nil
}

func checkFlags(f Flags) error {
	const known = GrowsDown | Stack | Anonymous | FileBacked | Heap | Private | Shared | Accounted | NoReserve
	switch {
	case f&^known != 0:
		return fmt.Errorf("mmu: unknown VMA flags %v", f&^known)
	case f&Accounted != 0 && f&(Shared|NoReserve) != 0:
		return fmt.Errorf("mmu: flags %v: only private reserved memory is Accounted", f)
	case (f&Private != 0) == (f&Shared != 0):
		return errors.New("mmu: a mapping must be exactly one of Private and Shared")
	case (f&Anonymous != 0) == (f&FileBacked != 0):
		return errors.New("mmu: a mapping must be exactly one of Anonymous and FileBacked")
	}
	return nil
}
