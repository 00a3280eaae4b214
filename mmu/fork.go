package mmu

import (
	"errors"
	"slices"
	"syscall"
)

// Fork returns the address space of a child process forked from as
// (dup_mmap, kernel/fork.c), on the same Phys and PageCache: every VMA but
// the DontCopy ones, with its page-table overrides, the brk, the stack
// limit and the vsyscall page.
//
// Pages are shared copy-on-write, as copy_page_range leaves them: a file
// page the parent maps from the page cache (not privately written) is the
// cache's in the child too, whether the mapping is private or shared, so
// the child sees the file and the parent's later shared stores; a page of
// the parent's own in a private mapping (anonymous memory, a file page it
// wrote: the breakpoint bytes of an installed uprobe among them, as
// uprobe_dup_mmap relies on) becomes a page both map read-only, and the
// first write by either copies it (do_wp_page; TranslateAccess and the
// host-side writes break it as they break a private file page's sharing).
// Such a page lives in the page cache under a file of the fork's own
// (anonPages), which nothing reads or writes through; its bytes are
// copied there once, the parent's own page is freed, and later forks of
// either process share it further.
//
// Deviation: the pages of a MAP_SHARED|MAP_ANONYMOUS mapping are copied
// into the child at once (Linux keeps them shared, in shmem): each
// process then writes its own copy.
//
// The child has no backend attached and no FileMapObserver: the caller
// attaches them (uprobe_dup_mmap has nothing to install either, as the
// breakpoints are in the shared bytes). It fails with ENOMEM when the
// machine's memory cannot hold the pages.
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
	// The parent's own pages of private mappings become shared pages.
	anon := &anonPages{}
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
			ci, ok := child.findVMA(addr)
			if !ok {
				continue
			}
			if child.vmas[ci].Flags&Shared != 0 {
				dst, err := child.populateOwnLocked(addr)
				if err != nil {
					_ = child.Close()
					return nil, syscall.ENOMEM
				}
				copy(dst, w.page(i))
				continue
			}
			if err := as.shareOwnPageLocked(anon, addr); err != nil {
				_ = child.Close()
				return nil, syscall.ENOMEM
			}
		}
	}
	// Every page of the parent's file table is now shared with the
	// child, in address order (the cache's counts are the same either
	// way; the order keeps the bookkeeping reproducible).
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
	child.notePeakLocked()
	return child, 0
}

// anonPages is the file of the private pages one fork shares (fork.go):
// it has no bytes (nothing ever reads it: the pages are made by adopt) and
// no identity.
type anonPages struct{ _ byte }

func (*anonPages) ReadAt(p []byte, off int64) int { return 0 }

// shareOwnPageLocked moves the parent's own page at addr into the page
// cache under anon, where the parent maps it read-only from now on (the
// child maps it too, Fork). The backends lose their translation of the
// old physical page first, and its translated code when it may hold code,
// since the page is freed and may back other code later.
func (as *AddressSpace) shareOwnPageLocked(anon *anonPages, addr uint64) error {
	wn, i := addr>>windowShift, (addr&(windowSize-1))/PageSize
	w := as.windows[wn]
	cp, err := as.cache.adopt(anon, addr/PageSize, w.page(i))
	if err != nil {
		as.oom = as.oom || errors.Is(err, errOutOfMemory)
		return err
	}
	if as.anyExec(addr, addr+PageSize) || as.revokedOverlaps(addr, addr+PageSize) {
		if err := as.unmapOnBackends(addr, addr+PageSize); err != nil {
			as.noteFailure(err)
		}
	} else {
		for _, b := range as.backends {
			if err := b.Unmap(addr, PageSize); err != nil {
				as.noteFailure(err)
			}
		}
	}
	w.present &^= 1 << i
	as.resident--
	zeroHost(w.page(i))
	as.phys.givePages(1)
	if w.present == 0 {
		as.phys.frameFree(w.paddr)
		delete(as.windows, wn)
	}
	as.filePages[addr] = cp
	as.cacheRefs[cp]++
	as.notePeakLocked()
	return nil
}

// hasFilePagesLocked reports whether [start, end) maps any page-cache
// page.
func (as *AddressSpace) hasFilePagesLocked(start, end uint64) bool {
	return len(as.filePages) > 0 && len(as.filePagesIn(start, end)) > 0
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
