package mmu

import (
	"slices"
	"syscall"
)

// File-backed mappings (mmap of a file, mm/filemap.c and the
// copy-on-write half of mm/memory.c reduced).
//
// A page of a file mapping is, at its first touch, the page cache's page
// of that file and index (pagecache.go): every mapping of the file, in
// this address space or another on the same cache, maps the same
// physical page.
//
//   - MAP_SHARED: the page stays the cache's. A writable translation of
//     it marks it dirty; stores through it are the file's bytes (read(2)
//     sees them at once), written back at Msync, at Writeback and when the
//     last mapping of the page goes.
//   - MAP_PRIVATE: the page is the cache's, translated without write
//     permission, until the address space writes it (do_wp_page): the
//     write fault (Translate with write set) or a host-side write (Write,
//     WriteForce: a uprobe's int3, ptrace) copies it into a page of the
//     address space's own (a COW break), and from then on the file's
//     changes are not seen there, as on Linux. Backends lose their
//     translation of the page at the break, so each takes the new physical
//     page at its next access (mmu invariant 4).
//
// The rest of a page past the end of the file reads zeros, as
// filemap_fault gives. MADV_DONTNEED on a private file mapping drops its
// own copies: the next touch maps the cache's page again.
//
// Frames: an address space's own pages are pages of the 64 KiB frame of
// their virtual window, so a file page cannot be one of them (two
// mappings of a file page sit in different windows, at different page
// positions). Page-cache pages are single 4 KiB pages of frames the Phys
// splits for them (Phys.pageAlloc), and a mapped file page is a
// translation to that page: sharing is per page, and a window's frame is
// only for the address space's own pages.

// File is what a file mapping reads its pages from. Equal File values
// are the same file (the page cache's key), so File implementations must
// be comparable.
type File interface {
	// ReadAt reads len(p) bytes at off, or as many as the file has; it
	// never fails in a way the mapping can report (a short read leaves
	// zeros).
	ReadAt(p []byte, off int64) int
}

// FileID is a mapped file's identity as /proc/self/maps shows it and as
// uprobes key a probe: the device (a Linux dev_t, new_encode_dev's layout)
// and the inode number.
type FileID struct{ Dev, Ino uint64 }

// IsZero reports whether id names no file.
func (id FileID) IsZero() bool { return id == FileID{} }

// Identified is a File that knows its identity; MmapFile records it in the
// VMA.
type Identified interface {
	FileID() FileID
}

// WritableFile is a File that a writable MAP_SHARED mapping writes back
// to.
type WritableFile interface {
	File
	// WriteAt writes p at off (never past Size: the cache writes back
	// only the file's bytes).
	WriteAt(p []byte, off int64) int
	// Size is the file's size now.
	Size() int64
}

// MmapFile is mmap(2) of a file: Mmap's placement and checks, with a
// FileBacked VMA named name whose pages come from f at offset off (page
// aligned). A writable MAP_SHARED mapping needs a WritableFile (else
// EACCES); mayWrite is VM_MAYWRITE, whether the file was opened for
// writing: a shared mapping without it cannot be made writable later
// (mprotect: EACCES).
func (as *AddressSpace) MmapFile(addr, length uint64, prot Prot, flags uint32, f File, off uint64, name string, mayWrite bool) (uint64, syscall.Errno) {
	if off&pageMask != 0 {
		return 0, syscall.EINVAL
	}
	if f == nil {
		return 0, syscall.EBADF
	}
	defer as.deliverFileEvents()
	shared := flags&MapType == MapShared || flags&MapType == MapSharedValidate
	if shared {
		if _, ok := f.(WritableFile); !ok {
			mayWrite = false
		}
		if prot&ProtWrite != 0 && !mayWrite {
			return 0, syscall.EACCES
		}
		if flags&MapType == MapSharedValidate {
			flags = flags&^MapType | MapShared
		}
	}
	if off/PageSize+pageAlignUp(length)/PageSize < off/PageSize {
		return 0, syscall.EOVERFLOW
	}
	var extra Flags
	if shared && !mayWrite {
		extra = NoMayWrite
	}
	return as.mmap(addr, length, prot, flags, name, f, off, extra)
}

// fileAt reports whether the mapped page at addr has a file behind it.
func (as *AddressSpace) fileAt(addr uint64) bool {
	i, ok := as.findVMA(addr)
	return ok && as.vmas[i].File != nil
}

// mapCachePageLocked maps the page cache's page for addr in the file VMA
// v.
func (as *AddressSpace) mapCachePageLocked(v VMA, addr uint64) (*cachePage, error) {
	cp, err := as.cache.get(v.File, (v.Offset+addr-v.Start)/PageSize)
	if err != nil {
		return nil, err
	}
	as.filePages[addr] = cp
	as.cacheRefs[cp]++
	as.notePeakLocked()
	return cp, nil
}

// unmapCachePageLocked forgets that addr maps a cache page (the caller
// dropped the translations).
func (as *AddressSpace) unmapCachePageLocked(addr uint64, cp *cachePage) {
	delete(as.filePages, addr)
	if as.cacheRefs[cp]--; as.cacheRefs[cp] == 0 {
		delete(as.cacheRefs, cp)
	}
	as.cache.put(cp)
}

// releaseFilePagesLocked unmaps the cache pages of [start,end) (their
// translations are gone): by walking the range when it has fewer pages
// than the table, else the table, in address order either way.
func (as *AddressSpace) releaseFilePagesLocked(start, end uint64) {
	if len(as.filePages) == 0 || end <= start {
		return
	}
	for _, a := range as.filePagesIn(start, end) {
		as.unmapCachePageLocked(a, as.filePages[a])
	}
}

// filePagesIn lists, in address order, the pages of [start,end) mapping
// cache pages.
func (as *AddressSpace) filePagesIn(start, end uint64) []uint64 {
	var out []uint64
	if (end-start)/PageSize <= uint64(len(as.filePages)) {
		for a := pageAlignDown(start); a < end; a += PageSize {
			if as.filePages[a] != nil {
				out = append(out, a)
			}
		}
		return out
	}
	for a := range as.filePages {
		if a >= start && a < end {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// cowPage reports whether the page at addr maps a cache page privately:
// it must not be written in place.
func (as *AddressSpace) cowPage(v VMA, addr uint64) bool {
	return v.Flags&Private != 0 && as.filePages[addr] != nil
}

// sharesCachePages reports whether a private page of [start,end) is
// still the cache's: a write there copies it even when it changes no
// byte, as the write fault would (the page stops seeing the file).
func (as *AddressSpace) sharesCachePages(start, end uint64) bool {
	for _, a := range as.filePagesIn(start, end) {
		if i, ok := as.findVMA(a); ok && as.vmas[i].Flags&Private != 0 {
			return true
		}
	}
	return false
}

// breakCOWLocked gives the private file page at addr a page of the
// address space's own holding the cache page's bytes (wp_page_copy). The
// translations of the page are dropped on every backend first; inFault
// is set when a backend's own translation miss asked for it (Translate),
// where translated code is left alone: it stays valid for the cache's
// page, and the new page is reached through a new translation only.
func (as *AddressSpace) breakCOWLocked(addr uint64, inFault bool) ([]byte, error) {
	cp := as.filePages[addr]
	var err error
	if inFault {
		for _, b := range as.backends {
			if e := b.Unmap(addr, PageSize); e != nil && err == nil {
				err = as.noteFailure(e)
			}
		}
	} else {
		err = as.unmapOnBackends(addr, addr+PageSize)
	}
	delete(as.filePages, addr) // so populateOwnLocked takes a page of its own
	host, perr := as.populateOwnLocked(addr)
	if perr != nil {
		as.filePages[addr] = cp
		return nil, perr
	}
	copy(host, cp.host)
	as.filePages[addr] = cp
	as.unmapCachePageLocked(addr, cp)
	as.stats.COWBreaks++
	return host, err
}

// pageHostForWrite is the host memory a host-side write to the present or
// absent page at addr goes to: a private file page is copied first, a
// shared one marked dirty.
func (as *AddressSpace) pageHostForWrite(addr uint64) ([]byte, error) {
	host, err := as.populateLocked(addr)
	if err != nil {
		return nil, err
	}
	cp := as.filePages[addr]
	if cp == nil {
		return host, nil
	}
	i, _ := as.findVMA(addr)
	if as.vmas[i].Flags&Shared != 0 {
		as.cache.markDirty(cp)
		return host, nil
	}
	return as.breakCOWLocked(addr, false)
}

// dropFilePagesLocked depopulates the touched pages of a private file
// range: translations go first, then the pages, so the next touch maps
// the cache's page again.
func (as *AddressSpace) dropFilePagesLocked(start, end uint64) {
	if err := as.unmapOnBackends(start, end); err != nil {
		as.noteFailure(err)
	}
	as.releaseLocked(start, end)
}

// fileWritableLocked is called when the page-table permissions of the
// mapped file range [start,end) come to include write (mprotect,
// SetPageProt), after the backends were told: a private page still the
// cache's loses its translations, so that Translate gives it again
// without write and its first write breaks the sharing; a shared one is
// dirty from now on, as a writable translation of it exists.
func (as *AddressSpace) fileWritableLocked(start, end uint64) {
	for _, a := range as.filePagesIn(start, end) {
		i, ok := as.findVMA(a)
		if !ok {
			continue
		}
		if as.vmas[i].Flags&Shared != 0 {
			as.cache.markDirty(as.filePages[a])
			continue
		}
		for _, b := range as.backends {
			if err := b.Unmap(a, PageSize); err != nil {
				as.noteFailure(err)
			}
		}
	}
}

// Msync is msync(2) (mm/msync.c): flags must be a subset of MS_ASYNC,
// MS_INVALIDATE and MS_SYNC without both MS_ASYNC and MS_SYNC, addr page
// aligned (EINVAL); the range's dirty shared file pages are written back
// to their files (for MS_ASYNC too: the write-back is immediate here);
// an unmapped page in the range makes the result ENOMEM, after the
// mapped parts were synced.
func (as *AddressSpace) Msync(addr, length uint64, flags int) syscall.Errno {
	const msAsync, msInvalidate, msSync = 1, 2, 4
	if flags&^(msAsync|msInvalidate|msSync) != 0 || addr&pageMask != 0 ||
		flags&msAsync != 0 && flags&msSync != 0 {
		return syscall.EINVAL
	}
	size, ok := pageAlignLen(length)
	end := addr + size
	if !ok || end < addr {
		return syscall.ENOMEM
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	if end == addr {
		return 0
	}
	var hole syscall.Errno
	next := addr
	for i := as.vmaIndex(addr); i < len(as.vmas) && as.vmas[i].Start < end; i++ {
		v := as.vmas[i]
		lo, hi := max(v.Start, addr), min(v.End, end)
		if lo > next {
			hole = syscall.ENOMEM
		}
		next = hi
		if v.File != nil && v.Flags&Shared != 0 {
			first := (v.Offset + lo - v.Start) / PageSize
			as.cache.writebackRange(v.File, first, first+(hi-lo)/PageSize-1)
		}
	}
	if next < end {
		hole = syscall.ENOMEM
	}
	return hole
}

// FileChanged drops the translated code of the executable pages mapping
// pages of f whose bytes changed (the indexes PageCache.WriteAt or
// Truncate returned), as the hardware would see the new bytes. Pages
// privately copied are not the file's and keep theirs.
func (as *AddressSpace) FileChanged(f File, indexes []uint64) {
	if len(indexes) == 0 {
		return
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	for _, v := range as.vmas {
		if v.File != f {
			continue
		}
		for _, idx := range indexes {
			off := idx * PageSize
			if off < v.Offset || off >= v.Offset+v.Size() {
				continue
			}
			a := v.Start + off - v.Offset
			if as.filePages[a] != nil && (as.effectiveProt(v, a)&ProtExec != 0 || as.revokedOverlaps(a, a+PageSize)) {
				as.invalidate(a, a+PageSize)
			}
		}
	}
}
