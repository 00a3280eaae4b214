package mmu

import (
	"fmt"
	"slices"
	"syscall"
)

// The primitives below keep the three views (VMAs, populated pages,
// backends' translations) in step; every public operation is built from
// them. All run with as.mu held.

// unmapLocked removes every mapping in [start,end) (do_vmi_munmap in
// mm/mmap.c): translations are dropped and the range is unmapped from every
// backend, VMAs are split at the ends, populated pages are released and
// page-table overrides forgotten. The bookkeeping is updated even when a
// backend fails; the failure is returned and kept (Err).
func (as *AddressSpace) unmapLocked(start, end uint64) error {
	runs := as.mappedRuns(start, end)
	if len(runs) == 0 {
		return nil
	}
	as.noteFileUnmapped(start, end)
	var first error
	for _, r := range runs {
		if err := as.unmapOnBackends(r.start, r.end); err != nil && first == nil {
			first = err
		}
	}
	as.splitVMAAt(start)
	as.splitVMAAt(end)
	i := as.vmaIndex(start)
	j := i
	for ; j < len(as.vmas) && as.vmas[j].Start < end; j++ {
		as.mapped -= as.vmas[j].Size()
	}
	as.vmas = slices.Delete(as.vmas, i, j)
	as.releaseLocked(start, end)
	as.dropPageProt(start, end)
	return first
}

// installLocked records v on the free range it names. Its pages are
// populated when first touched; backends learn of them then (Translate).
func (as *AddressSpace) installLocked(v VMA) {
	as.noteFileMapped(v)
	as.insertVMA(v)
	as.addMapped(v.Size())
}

// mapFixedLocked is mmap_region with MAP_FIXED semantics: whatever overlaps v
// is unmapped and v is mapped with fresh zeroed memory, data copied to its
// start (populating those pages). The budget is checked first, counting the
// bytes being replaced; if the data's pages cannot be populated, v is
// unmapped again and the error returned.
func (as *AddressSpace) mapFixedLocked(v VMA, data []byte) error {
	size := v.Size()
	if !as.budgetAllows(size - as.mappedBytesIn(v.Start, v.End)) {
		return fmt.Errorf("mmu: mapping %#x bytes at %#x exceeds the memory budget of %#x bytes: %w",
			size, v.Start, as.cfg.MaxMemory, syscall.ENOMEM)
	}
	if uint64(len(data)) > size {
		return fmt.Errorf("mmu: %#x bytes of data do not fit a mapping of %#x bytes", len(data), size)
	}
	if err := as.unmapLocked(v.Start, v.End); err != nil {
		return err
	}
	events := len(as.fileEvents)
	as.installLocked(v)
	if err := as.fillLocked(v.Start, data); err != nil {
		as.unmapLocked(v.Start, v.End)
		as.fileEvents = as.fileEvents[:events] // it was never there
		return fmt.Errorf("mmu: mapping %#x bytes at %#x: %w", size, v.Start, syscall.ENOMEM)
	}
	return nil
}

// fillLocked copies data to the mapped range at addr, populating its pages.
func (as *AddressSpace) fillLocked(addr uint64, data []byte) error {
	for len(data) > 0 {
		h, err := as.populateLocked(pageAlignDown(addr))
		if err != nil {
			return err
		}
		n := copy(h[addr&pageMask:], data)
		data = data[n:]
		addr += uint64(n)
	}
	return nil
}

// protectLocked gives the mapped range [start,end) (no holes) permissions p
// (mprotect_fixup in mm/mprotect.c). VMAs whose permissions already equal p
// are left alone, page-table overrides included, as mprotect_fixup returns
// early when the flags do not change; elsewhere overrides are dropped, the
// backends get the new permissions, and translations are dropped first
// wherever execute permission goes away. A private VMA made writable
// becomes Accounted. Neighbours that became identical merge.
func (as *AddressSpace) protectLocked(start, end uint64, p Prot) error {
	as.splitVMAAt(start)
	as.splitVMAAt(end)
	var first error
	for i := as.vmaIndex(start); i < len(as.vmas) && as.vmas[i].Start < end; i++ {
		v := as.vmas[i]
		if v.Prot == p {
			continue
		}
		overrides := as.overridePages(v.Start, v.End)
		wasExec := v.Prot&ProtExec != 0
		for _, page := range overrides {
			wasExec = wasExec || as.pageProt[page]&ProtExec != 0
		}
		if err := as.protectOnBackends(v.Start, v.End, p, wasExec && p&ProtExec == 0); err != nil && first == nil {
			first = err
		}
		if p&ProtWrite != 0 && (v.File != nil || as.hasFilePagesLocked(v.Start, v.End)) {
			// Private cache pages (a file's, or pages shared copy-on-write
			// since a fork) must not become writable in place;
			// shared ones may now be written through their translations.
			as.fileWritableLocked(v.Start, v.End)
		}
		as.dropPageProt(v.Start, v.End)
		as.vmas[i].Prot = p
		// A private mapping that becomes writable is charged from now
		// on, and stays charged (see Accounted).
		if p&ProtWrite != 0 && v.Prot&ProtWrite == 0 && v.Flags&(Shared|Accounted|NoReserve) == 0 {
			as.vmas[i].Flags |= Accounted
		}
	}
	as.mergeWindow(start, end)
	return first
}

// overridePages lists, sorted, the pages in [start,end) with a page-table
// override.
func (as *AddressSpace) overridePages(start, end uint64) []uint64 {
	if len(as.pageProt) == 0 {
		return nil
	}
	var pages []uint64
	for page := range as.pageProt {
		if page >= start && page < end {
			pages = append(pages, page)
		}
	}
	slices.Sort(pages)
	return pages
}

func (as *AddressSpace) dropPageProt(start, end uint64) {
	for _, page := range as.overridePages(start, end) {
		delete(as.pageProt, page)
	}
}

// effectiveProt is what the page table grants for the page at addr inside
// VMA v: its override if any, else the VMA's permissions.
func (as *AddressSpace) effectiveProt(v VMA, addr uint64) Prot {
	if p, ok := as.pageProt[pageAlignDown(addr)]; ok {
		return p
	}
	return v.Prot
}

// anyExec reports whether any page of [start,end), which must be mapped,
// is executable in the page table.
func (as *AddressSpace) anyExec(start, end uint64) bool {
	for i := as.vmaIndex(start); i < len(as.vmas) && as.vmas[i].Start < end; i++ {
		if as.vmas[i].Prot&ProtExec != 0 {
			return true
		}
	}
	// Look the range's pages up when there are fewer of them than
	// overrides (a write of a few bytes), else scan the overrides.
	first := pageAlignDown(start)
	if (end-first)/PageSize <= uint64(len(as.pageProt)) {
		for page := first; page < end; page += PageSize {
			if as.pageProt[page]&ProtExec != 0 {
				return true
			}
		}
		return false
	}
	for page, p := range as.pageProt {
		if page >= first && page < end && p&ProtExec != 0 {
			return true
		}
	}
	return false
}
