package mmu

import (
	"slices"
	"sync"
)

// The page cache (mm/filemap.c reduced to what mappings need).
//
// A PageCache holds one physical page per (file, page index) that some
// mapping maps, on a Phys shared by every address space that uses it:
// two mappings of one file, in one address space or in several, map the
// same physical page, so the file's bytes are in host memory once and
// counted once against the machine's memory. A page is read from the
// file when first mapped and lives while any address space maps it
// (cachePage.maps); then a dirty page is written back to the file and
// the page goes. Deviation: Linux keeps clean pages cached after the last
// unmap until memory is short; here the next mapping reads the file
// again, which the guest can only tell by timing, and file reads are not
// timed.
//
// The cache's pages are the truth for the bytes they hold: read(2) and
// write(2) of a regular file go through ReadAt and WriteAt, which
// overlay and update the cached pages, so a write(2) is seen by every
// mapping whose page is the cache's (MAP_SHARED, and MAP_PRIVATE pages
// not yet written), and a store through a MAP_SHARED mapping is seen by
// read(2) at once. Dirty pages reach the file (the overlay, or the host
// through an rw mount) at Writeback (msync, fsync, the exit of the
// process) and when their last mapping goes.
//
// A file is identified by its File value: equal values (==) are one
// file, so a File must be comparable and name its file (the kernel's is
// the view's node). The cache's mutex is taken with an address space's
// held (lock order: address space, cache, Phys); the cache never calls
// into an address space.
type PageCache struct {
	mu    sync.Mutex
	phys  *Phys
	pages map[cacheKey]*cachePage
	stats CacheStats
}

type cacheKey struct {
	f     File
	index uint64 // file offset / PageSize
}

// cachePage is one page of a file in the cache.
type cachePage struct {
	key   cacheKey
	paddr uint64
	host  []byte // PageSize bytes of an arena
	maps  int    // pages of address spaces mapping it
	// dirty: a writable MAP_SHARED translation of it was given out, or
	// a host-side write went through a shared mapping. It stays set
	// while the page is cached: a translation given out stays writable
	// after a write-back (Linux write-protects every mapping of the page
	// at write-back, page_mkclean, so that the next store faults and
	// dirties it again; the cache has no reverse map to do that), so
	// every write-back compares the page with the file instead.
	dirty bool
}

// CacheStats are a page cache's counters.
type CacheStats struct {
	Pages      uint64 // pages cached now
	PeakPages  uint64 // highest Pages so far
	Reads      uint64 // pages read from their file
	Writebacks uint64 // dirty pages written back to their file
}

// NewPageCache is an empty page cache whose pages come from phys.
func NewPageCache(phys *Phys) *PageCache {
	return &PageCache{phys: phys, pages: map[cacheKey]*cachePage{}}
}

// Stats returns the counters.
func (c *PageCache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Pages = uint64(len(c.pages))
	return s
}

// get returns the page of f at index, reading it on a miss, and counts a
// mapping of it.
func (c *PageCache) get(f File, index uint64) (*cachePage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := cacheKey{f, index}
	if cp := c.pages[k]; cp != nil {
		cp.maps++
		return cp, nil
	}
	if err := c.phys.takePages(1); err != nil {
		return nil, err
	}
	paddr, host, err := c.phys.pageAlloc()
	if err != nil {
		c.phys.givePages(1)
		return nil, err
	}
	f.ReadAt(host, int64(index*PageSize))
	cp := &cachePage{key: k, paddr: paddr, host: host, maps: 1}
	c.pages[k] = cp
	c.stats.Reads++
	c.stats.PeakPages = max(c.stats.PeakPages, uint64(len(c.pages)))
	return cp, nil
}

// adopt makes a page of f at index holding src's bytes, mapped once: a
// private page that a fork shares copy-on-write (fork.go), under a file
// of its own that no read or write(2) reaches.
func (c *PageCache) adopt(f File, index uint64, src []byte) (*cachePage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.phys.takePages(1); err != nil {
		return nil, err
	}
	paddr, host, err := c.phys.pageAlloc()
	if err != nil {
		c.phys.givePages(1)
		return nil, err
	}
	copy(host, src)
	k := cacheKey{f, index}
	cp := &cachePage{key: k, paddr: paddr, host: host, maps: 1}
	c.pages[k] = cp
	c.stats.PeakPages = max(c.stats.PeakPages, uint64(len(c.pages)))
	return cp, nil
}

// put drops a mapping of cp; the last one writes it back if dirty and
// frees it.
func (c *PageCache) put(cp *cachePage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cp.maps--; cp.maps > 0 {
		return
	}
	c.writebackLocked(cp)
	delete(c.pages, cp.key)
	c.phys.pageFree(cp.paddr, cp.host)
	c.phys.givePages(1)
}

// markDirty records that cp may have been written through a shared
// mapping.
func (c *PageCache) markDirty(cp *cachePage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp.dirty = true
}

// writebackLocked writes a dirty page's bytes within the file's size to
// the file when they differ from it, so a page mapped writable and never
// changed, or unchanged since its last write-back, does not touch the
// file.
func (c *PageCache) writebackLocked(cp *cachePage) {
	if !cp.dirty {
		return
	}
	w, ok := cp.key.f.(WritableFile)
	if !ok {
		return
	}
	off := int64(cp.key.index * PageSize)
	size := w.Size()
	if off >= size {
		return
	}
	n := min(int64(PageSize), size-off)
	var file [PageSize]byte
	got := cp.key.f.ReadAt(file[:n], off)
	if int64(got) == n && string(file[:n]) == string(cp.host[:n]) {
		return
	}
	w.WriteAt(cp.host[:n], off)
	c.stats.Writebacks++
}

// Writeback writes the dirty pages of f back (all files when f is nil),
// in file and page order (fsync, msync, the end of a process).
func (c *PageCache) Writeback(f File) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cp := range c.sortedLocked(f) {
		c.writebackLocked(cp)
	}
}

// writebackRange writes back the dirty pages of f in [first, last].
func (c *PageCache) writebackRange(f File, first, last uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := first; i <= last; i++ {
		if cp := c.pages[cacheKey{f, i}]; cp != nil {
			c.writebackLocked(cp)
		}
	}
}

// sortedLocked lists the cached pages of f (every file when nil) by
// index; several files keep the order of their first pages' physical
// addresses, which the allocation order makes deterministic.
func (c *PageCache) sortedLocked(f File) []*cachePage {
	var out []*cachePage
	for k, cp := range c.pages {
		if f == nil || k.f == f {
			out = append(out, cp)
		}
	}
	slices.SortFunc(out, func(a, b *cachePage) int {
		if a.key.f == b.key.f {
			return int(int64(a.key.index) - int64(b.key.index))
		}
		return int(int64(a.paddr) - int64(b.paddr))
	})
	return out
}

// ReadAt overlays the cached pages of f on p, which the caller filled
// from the file at off (read(2) of a file some mapping maps): the cache
// holds the latest bytes of the pages it has.
func (c *PageCache) ReadAt(f File, p []byte, off int64) {
	c.forPages(f, len(p), off, func(cp *cachePage, po, bo, n int) {
		copy(p[bo:bo+n], cp.host[po:po+n])
	})
}

// WriteAt copies p, which the caller wrote to the file at off, into the
// cached pages of f (write(2)): mappings of them see it. It returns the
// file's page indexes changed, so the caller can drop translated code of
// executable mappings of them (FileChanged).
func (c *PageCache) WriteAt(f File, p []byte, off int64) (changed []uint64) {
	c.forPages(f, len(p), off, func(cp *cachePage, po, bo, n int) {
		if string(cp.host[po:po+n]) != string(p[bo:bo+n]) {
			copy(cp.host[po:po+n], p[bo:bo+n])
			changed = append(changed, cp.key.index)
		}
	})
	return changed
}

// Truncate zeroes the cached bytes of f at and past size, as
// truncate_pagecache does for the partial page (mappings of whole pages
// past the end would get SIGBUS on Linux; here they read zeros).
func (c *PageCache) Truncate(f File, size int64) (changed []uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cp := range c.sortedLocked(f) {
		start := int64(cp.key.index * PageSize)
		if start+PageSize <= size {
			continue
		}
		from := max(0, size-start)
		clear(cp.host[from:])
		changed = append(changed, cp.key.index)
	}
	return changed
}

// forPages calls fn for each cached page of f meeting [off, off+n): the
// page, the offset in it, the offset in the caller's buffer, the length.
func (c *PageCache) forPages(f File, n int, off int64, fn func(cp *cachePage, po, bo, n int)) {
	if n <= 0 || off < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pages) == 0 {
		return
	}
	end := off + int64(n)
	for i := uint64(off) / PageSize; int64(i*PageSize) < end; i++ {
		cp := c.pages[cacheKey{f, i}]
		if cp == nil {
			continue
		}
		ps := int64(i * PageSize)
		lo, hi := max(off, ps), min(end, ps+PageSize)
		fn(cp, int(lo-ps), int(lo-off), int(hi-lo))
	}
}
