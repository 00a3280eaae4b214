// Package mmu owns a guest process's address space (each process has one;
// Fork copies one for a child, fork.go, sharing its pages copy-on-write):
// the VMAs with Linux semantics (mmap, munmap, mprotect, brk,
// madvise, the growsdown stack, /proc/self/maps), the host memory behind
// every guest page, and the coherence of every attached emulator engine
// (Backend) with both.
//
// # What it models
//
// The syscalls follow mm/mmap.c, mm/mprotect.c and mm/madvise.c of Linux
// 6.x and the x86 placement code of arch/x86/kernel/sys_x86_64.c and
// arch/x86/mm/mmap.c without randomisation, so placements are
// deterministic. Each exported method names the Linux functions it follows
// and documents its deviations. Mmap is for anonymous memory; MmapFile maps
// a File through the page cache (file.go, pagecache.go); the ELF loader
// uses MapFixed/MapFixedData.
//
// # Physical memory and translations
//
// Guest pages live in a few large host mappings, the arenas of a Phys
// (physmem.go), which every backend gets once as physical memory
// (Backend.MapPhys). A Phys may be shared by several address spaces (the
// processes of a machine), and so may a PageCache on it. Pages are
// populated on first touch, as demand paging does: a 64 KiB frame of an
// arena backs each 64 KiB window of guest addresses with touched pages of
// the address space's own; a touched file page not privately written is
// instead the page cache's single 4 KiB page for that file and index,
// which every mapping of it shares (a private one copies it at its first
// write: copy on write). A backend translates guest pages itself, asking
// Translate on its first access to each page (the page-fault path, which
// grows stacks and populates), and keeps the answers; the address space
// tells it whenever an answer goes stale (Unmap, Protect). So what the
// guest does with mmap, mprotect, stacks and threads never multiplies the
// backend's memory regions, and host memory is what the guest touched.
//
// # Invariants (checked by the tests and FuzzOps after every operation)
//
//  1. VMAs are sorted, non-overlapping, page aligned, non-empty and below
//     TaskSize.
//  2. No two adjacent VMAs could merge (canMerge: equal permissions, flags
//     and name, consecutive file offsets): every operation merges around
//     the range it changed, as vma_merge does.
//  3. Every populated page lies in a VMA; each window with populated pages
//     has one frame of an arena, no frame backs two windows, and the
//     resident count is the number of populated own pages. A page maps a
//     page-cache page of its VMA's file and index, or is its own, never
//     both; the Phys counts every own and every cached page once.
//  4. Every translation an attached backend holds is of a mapped,
//     populated page, to that page's physical page, with HardwareProt of
//     the page's effective permissions (its page-table override, else its
//     VMA's), less write for a private page still the cache's (its first
//     write asks again: TranslateAccess).
//  5. Stats.MappedBytes equals the sum of VMA sizes and never exceeds
//     Config.MaxMemory when that is set.
//  6. No backend can run a stale translation: translations are dropped
//     (Backend.InvalidateCode) for every range unmapped and for every
//     host-side write that changes bytes in an executable page, in a page
//     whose execute permission was revoked since its translations were
//     last dropped (Write, MADV_DONTNEED zeroing), or anywhere for a forced
//     write (WriteForce), while the range is still mapped in the backend;
//     every range losing execute permission is revoked first
//     (Backend.RevokeExec), and a backend runs none of its translations of
//     a revoked range until the range is executable again. A write that
//     leaves every byte as it was makes nothing stale and is not reported.
//  7. Accounted (VM_ACCOUNT) is on every private writable VMA without
//     NoReserve, on the heap and on the stack, and never on a Shared or
//     NoReserve VMA.
//
// # Locking
//
// One sync.Mutex guards all state; every exported method takes it for its
// whole duration, backend calls included. The PageCache's and the Phys's
// own mutexes are taken inside it (address space, then cache, then Phys),
// never the other way round. A machine drives its address
// space from one scheduler goroutine at a time, so the lock is not
// contended; it exists so that misuse is a clean serialisation, not a data
// race, and sweeps that run many machines concurrently are safe because
// each machine has its own AddressSpace, Phys and PageCache (nothing is
// shared between machines).
// Backends are called with the lock held and must not call back into the
// AddressSpace. Translate is called from inside an engine's TLB-fill hook,
// never from inside a backend method, so it may take the lock.
//
// If a backend fails or host memory cannot be had or released, the error is
// returned and kept (Err): bookkeeping stays self-consistent, but engines
// may then disagree with it and the machine should stop.
package mmu
