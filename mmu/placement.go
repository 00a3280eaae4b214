package mmu

import "syscall"

// roundHintToMin is round_hint_to_min (mm/mmap.c): a non-zero hint below
// MinAddr is raised to it.
func (as *AddressSpace) roundHintToMin(hint uint64) uint64 {
	hint = pageAlignDown(hint)
	if hint != 0 && hint < as.cfg.MinAddr {
		return as.cfg.MinAddr
	}
	return hint
}

// getUnmappedArea is get_unmapped_area (mm/mmap.c) with the x86 top-down
// allocator.
func (as *AddressSpace) getUnmappedArea(addr, size uint64, flags uint32) (uint64, syscall.Errno) {
	task := as.cfg.TaskSize
	if size > task {
		return 0, syscall.ENOMEM
	}
	if flags&MapFixed == 0 {
		var ok bool
		if flags&Map32Bit != 0 && task > 1<<32 {
			// find_start_end: MAP_32BIT only matters to 64-bit tasks.
			addr, ok = as.bottomUp(addr, size, map32BitLow, map32BitHigh)
		} else {
			addr, ok = as.topDown(addr, size)
		}
		if !ok {
			return 0, syscall.ENOMEM
		}
	}
	if addr > task-size {
		return 0, syscall.ENOMEM
	}
	if addr&pageMask != 0 {
		return 0, syscall.EINVAL
	}
	if addr < as.cfg.MinAddr {
		return 0, syscall.EPERM // security_mmap_addr without CAP_SYS_RAWIO
	}
	return addr, 0
}

// hintFree is the hint check of arch_get_unmapped_area_topdown: the range
// fits below the task size and ends below the start gap of the next VMA.
func (as *AddressSpace) hintFree(hint, size, limit uint64) bool {
	if hint == 0 || hint > limit || limit-hint < size {
		return false
	}
	i := as.vmaIndex(hint)
	return i == len(as.vmas) || hint+size <= as.startGap(as.vmas[i])
}

// topDown is arch_get_unmapped_area_topdown: the hint if free, else the
// highest gap below MmapBase (vm_unmapped_area with
// VM_UNMAPPED_AREA_TOPDOWN), else the bottom-up search.
func (as *AddressSpace) topDown(hint, size uint64) (uint64, bool) {
	if as.hintFree(hint, size, as.cfg.TaskSize) {
		return hint, true
	}
	// A gap is the room between one VMA's end and the next VMA's start
	// gap, clipped to [low, high); take the top of the highest that fits.
	low := max(PageSize, as.cfg.MinAddr)
	high := as.cfg.MmapBase
	for i := len(as.vmas); i >= 0; i-- {
		gapEnd := high
		if i < len(as.vmas) {
			gapEnd = min(gapEnd, as.startGap(as.vmas[i]))
		}
		gapStart := low
		if i > 0 {
			gapStart = max(gapStart, as.vmas[i-1].End)
		}
		if gapEnd > gapStart && gapEnd-gapStart >= size {
			return gapEnd - size, true
		}
	}
	return as.bottomUp(0, size, pageAlignUp(as.cfg.TaskSize/3), as.cfg.TaskSize)
}

// bottomUp is arch_get_unmapped_area: the hint if free, else the lowest gap
// in [low, high).
func (as *AddressSpace) bottomUp(hint, size, low, high uint64) (uint64, bool) {
	if as.hintFree(hint, size, as.cfg.TaskSize) {
		return hint, true
	}
	low = max(low, as.cfg.MinAddr)
	for i := 0; i <= len(as.vmas); i++ {
		gapStart := low
		if i > 0 {
			gapStart = max(gapStart, as.vmas[i-1].End)
		}
		gapEnd := high
		if i < len(as.vmas) {
			if as.vmas[i].End <= low {
				continue
			}
			gapEnd = min(gapEnd, as.startGap(as.vmas[i]))
		}
		if gapStart >= high {
			break
		}
		if gapEnd > gapStart && gapEnd-gapStart >= size {
			return gapStart, true
		}
	}
	return 0, false
}
