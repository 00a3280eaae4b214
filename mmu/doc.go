// Package mmu owns the one guest address space that all vCPUs of a machine
// share: the VMAs with Linux semantics (mmap, munmap, mprotect, brk,
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
// and documents its deviations. File mappings are the caller's business
// (Mmap refuses them); the ELF loader uses MapFixed/MapFixedData.
//
// # Host memory
//
// Guest memory lives in host memory from syscall.Mmap (anonymous,
// MAP_NORESERVE, outside the Go heap), so its address may be handed to C
// (uc_mem_map_ptr) and never moves. A host chunk stands for a fixed guest
// range; a stack or heap grows into unused room of its chunk. A chunk is
// unmapped when no guest page uses it any more; pages released from a chunk
// still in use are returned with MADV_DONTNEED and read as zeros.
//
// # Invariants (checked by the tests and FuzzOps after every operation)
//
//  1. VMAs are sorted, non-overlapping, page aligned, non-empty and below
//     TaskSize.
//  2. No two adjacent VMAs could merge (canMerge: equal permissions, flags
//     and name, consecutive file offsets): every operation merges around
//     the range it changed, as vma_merge does.
//  3. Host segments are sorted, non-overlapping and cover exactly the
//     union of the VMAs; each guest page has one host byte range, inside its
//     chunk at a fixed offset.
//  4. Every attached backend maps exactly the mapped pages, each onto the
//     host memory of that page, with HardwareProt of the page's effective
//     permissions (its page-table override, else its VMA's).
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
// whole duration, backend calls included. A machine drives its address
// space from one scheduler goroutine at a time, so the lock is not
// contended; it exists so that misuse is a clean serialisation, not a data
// race, and sweeps that run many machines concurrently are safe because
// each machine has its own AddressSpace (nothing is shared between them).
// Backends are called with the lock held and must not call back into the
// AddressSpace. GrowStack may be called from inside an engine's memory-fault
// hook: it then maps the new pages on every backend, including the engine
// that is running the hook, which Unicorn allows.
//
// If a backend fails or host memory cannot be released, the error is
// returned and kept (Err): bookkeeping stays self-consistent, but engines
// may then disagree with it and the machine should stop.
package mmu
