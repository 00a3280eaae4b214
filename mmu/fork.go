package mmu

import (
	"slices"
	"syscall"
)

// Fork returns the address space of a child process forked from as
// (dup_mmap, kernel/fork.c), on the same Phys and PageCache: every VMA but
// the DontCopy ones, with its page-table overrides, the brk, the stack
// limit and the vsyscall page. A file page the parent maps from the page
// cache (not privately written) is the cache's in the child too, whether
// the mapping is private or shared, so the child sees the file and the
// parent's later shared stores as Linux's child does.
//
// Deviation: the parent's own pages (private anonymous memory, private
// file pages it wrote, and the pages of MAP_SHARED|MAP_ANONYMOUS
// mappings) are copied into the child at once, where copy_page_range
// shares them write-protected and copies each at its first write
// (do_wp_page). What either process reads is the same as on Linux (each
// sees the memory as it was at the fork, then its own writes), except for
// shared anonymous mappings, which Linux keeps shared (shmem) and which
// here become private copies; host memory is the parent's touched pages
// once more. The child has no backend attached and no FileMapObserver:
// the caller attaches them (uprobe_dup_mmap has nothing to install either,
// as the breakpoints are in the copied bytes).
//
// It fails with ENOMEM when the machine's memory cannot hold the copies.
func (as *AddressSpace) Fork() (*AddressSpace, syscall.Errno) {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.dead != nil {
		return nil, syscall.ENOMEM
	}
	cfg := as.cfg
	cfg.Phys, cfg.PageCache = as.phys, as.cache
	child, err := NewChecked(cfg)
	if err != nil {
		return nil, syscall.ENOMEM
	}
	child.vsyscallPage = as.vsyscallPage
	child.startBrk, child.brk, child.brkSet = as.startBrk, as.brk, as.brkSet
	for _, v := range as.vmas {
		if v.Flags&DontCopy != 0 {
			continue
		}
		child.vmas = append(child.vmas, v)
		child.addMapped(v.Size())
	}
	for page, p := range as.pageProt {
		if _, ok := child.findVMA(page); ok {
			child.pageProt[page] = p
		}
	}
	// File pages first, in address order (the cache's counts are the
	// same either way; the order keeps the bookkeeping reproducible).
	filePages := make([]uint64, 0, len(as.filePages))
	for addr := range as.filePages {
		filePages = append(filePages, addr)
	}
	slices.Sort(filePages)
	for _, addr := range filePages {
		if _, ok := child.findVMA(addr); !ok {
			continue
		}
		cp := as.filePages[addr]
		as.cache.mu.Lock()
		cp.maps++
		as.cache.mu.Unlock()
		child.filePages[addr] = cp
		child.cacheRefs[cp]++
	}
	windows := make([]uint64, 0, len(as.windows))
	for wn := range as.windows {
		windows = append(windows, wn)
	}
	slices.Sort(windows)
	for _, wn := range windows {
		w := as.windows[wn]
		for i := uint64(0); i < windowSize/PageSize; i++ {
			if w.present&(1<<i) == 0 {
				continue
			}
			addr := wn<<windowShift + i*PageSize
			if _, ok := child.findVMA(addr); !ok {
				continue
			}
			dst, err := child.populateOwnLocked(addr)
			if err != nil {
				_ = child.Close()
				return nil, syscall.ENOMEM
			}
			copy(dst, w.page(i))
		}
	}
	child.notePeakLocked()
	return child, 0
}

// setDontCopyLocked is madvise(MADV_DONTFORK) (on) and MADV_DOFORK (off)
// over the mapped parts of [start, end): the VMAs are split at the range's
// ends and merged again around it (madvise_update_vma). An unmapped page
// in the range is ENOMEM, after the mapped parts were changed.
func (as *AddressSpace) setDontCopyLocked(start, end uint64, on bool) syscall.Errno {
	as.splitVMAAt(start)
	as.splitVMAAt(end)
	var hole syscall.Errno
	next := start
	for i := as.vmaIndex(start); i < len(as.vmas) && as.vmas[i].Start < end; i++ {
		if as.vmas[i].Start > next {
			hole = syscall.ENOMEM
		}
		next = as.vmas[i].End
		if on {
			as.vmas[i].Flags |= DontCopy
		} else {
			as.vmas[i].Flags &^= DontCopy
		}
	}
	if next < end {
		hole = syscall.ENOMEM
	}
	as.mergeWindow(start, end)
	return hole
}
