package mmu

import "syscall"

// File-backed mappings (mmap of a file, mm/filemap.c reduced).
//
// MmapFile maps a File privately (or shared, read-only): its pages are
// populated on first touch like anonymous memory, and populating a page
// copies the file's bytes at the page's file offset into it (the rest of
// a page past the end of the file reads zeros, as filemap_fault gives).
// A private page the guest writes is its own from then on: there is no
// page cache, so the copy made at the first touch is the copy-on-write
// copy, and later changes to the file are not seen by pages already
// touched (Linux would show them until the page is written; see the
// package docs of kernel for the file side). MADV_DONTNEED drops the
// touched pages, and the next touch reads the file again.

// File is what a file mapping reads its pages from.
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

// MmapFile is mmap(2) of a file: Mmap's placement and checks, with a
// FileBacked VMA named name whose pages come from f at offset off (page
// aligned). MAP_SHARED is taken only without PROT_WRITE (the caller
// refuses writable shared mappings, which would need a page cache).
func (as *AddressSpace) MmapFile(addr, length uint64, prot Prot, flags uint32, f File, off uint64, name string) (uint64, syscall.Errno) {
	if off&pageMask != 0 {
		return 0, syscall.EINVAL
	}
	if f == nil {
		return 0, syscall.EBADF
	}
	defer as.deliverFileEvents()
	return as.mmap(addr, length, prot, flags, name, f, off)
}

// fileAt reports whether the mapped page at addr has a file behind it.
func (as *AddressSpace) fileAt(addr uint64) bool {
	i, ok := as.findVMA(addr)
	return ok && as.vmas[i].File != nil
}

// fillFromFile reads the file page of a newly populated page.
func (as *AddressSpace) fillFromFile(addr uint64, page []byte) {
	i, ok := as.findVMA(addr)
	if !ok || as.vmas[i].File == nil {
		return
	}
	v := as.vmas[i]
	v.File.ReadAt(page, int64(v.Offset+addr-v.Start))
}

// dropFilePagesLocked depopulates the touched pages of a private file
// range: translations go first, then the pages, so the next touch reads
// the file again.
func (as *AddressSpace) dropFilePagesLocked(start, end uint64) {
	if err := as.unmapOnBackends(start, end); err != nil {
		as.noteFailure(err)
	}
	as.releaseLocked(start, end)
}
