package mmu

import (
	"strconv"
	"strings"
)

// Prot is a set of page permissions. The bits have the values of the Linux
// PROT_READ/PROT_WRITE/PROT_EXEC constants (include/uapi/asm-generic/
// mman-common.h) and of Unicorn's UC_PROT_READ/WRITE/EXEC, so a Prot converts
// to either without translation.
type Prot uint8

// Permission bits.
const (
	ProtNone  Prot = 0
	ProtRead  Prot = 1
	ProtWrite Prot = 2
	ProtExec  Prot = 4
	// ProtAll is every permission bit a VMA can carry.
	ProtAll = ProtRead | ProtWrite | ProtExec
)

// String renders p the way /proc/self/maps does, e.g. "r-x".
func (p Prot) String() string {
	b := []byte("---")
	if p&ProtRead != 0 {
		b[0] = 'r'
	}
	if p&ProtWrite != 0 {
		b[1] = 'w'
	}
	if p&ProtExec != 0 {
		b[2] = 'x'
	}
	return string(b)
}

// HardwareProt is the access an x86 page-table entry for a VMA with
// permissions p grants, and therefore what is handed to backends: x86 pages
// cannot be write-only or execute-only, so every accessible protection also
// allows reads (arch/x86/mm/pgprot.c protection_map: PROT_WRITE alone maps to
// PAGE_COPY, PROT_EXEC alone to PAGE_READONLY_EXEC; execute-only needs
// protection keys, which the emulated CPU does not have). PROT_NONE stays
// inaccessible.
func HardwareProt(p Prot) Prot {
	p &= ProtAll
	if p != 0 {
		p |= ProtRead
	}
	return p
}

// Flags describe what a VMA is, beyond its permissions. Two adjacent VMAs
// merge only when their flags are equal (mm/mmap.c is_mergeable_vma compares
// vm_flags).
type Flags uint32

// VMA flags.
const (
	// GrowsDown is VM_GROWSDOWN: the VMA extends downwards on faults just
	// below it (the main stack, MAP_GROWSDOWN mappings).
	GrowsDown Flags = 1 << iota
	// Stack marks the main-thread stack ("[stack]" in /proc/self/maps).
	Stack
	// Anonymous memory is zero-filled and has no file behind it.
	Anonymous
	// FileBacked memory came from a file; Offset is the file offset of Start.
	FileBacked
	// Heap marks the brk area ("[heap]").
	Heap
	// Private is MAP_PRIVATE (copy-on-write), shown as 'p'.
	Private
	// Shared is MAP_SHARED, shown as 's'.
	Shared
	// Accounted is VM_ACCOUNT: private memory charged against the commit
	// limit. Linux sets it on a private writable mapping when it is
	// created without MAP_NORESERVE (mm/mmap.c accountable_mapping), on
	// every brk extension (do_brk_flags) and on the main stack
	// (VM_STACK_FLAGS, fs/exec.c), and mprotect adds it when it makes a
	// private mapping without VM_WRITE, VM_ACCOUNT or VM_NORESERVE writable
	// (mm/mprotect.c mprotect_fixup). It stays when the mapping becomes
	// read-only again, so a RELRO area that glibc makes read-only does not
	// merge with the read-only file mapping before it. Deviation:
	// mprotect_fixup drops it again when an anonymous VMA that has no
	// anon_vma yet (none of its pages was ever written) becomes
	// non-writable; the emulator cannot see guest writes, so it assumes
	// the memory was written and keeps the flag.
	Accounted
	// NoReserve is VM_NORESERVE: a mapping made with MAP_NORESERVE (do_mmap
	// honours it under the default heuristic overcommit). It is never
	// accounted, not even when mprotect makes it writable, and it keeps
	// the VMA from merging with ordinary neighbours.
	NoReserve
	// NoMayWrite is a MAP_SHARED file mapping without VM_MAYWRITE (the
	// file is not open for writing): mprotect cannot make it writable.
	NoMayWrite
	// DontCopy is VM_DONTCOPY: Fork leaves the VMA out of the child
	// (madvise MADV_DONTFORK, and the probes' XOL area, as uprobes maps
	// its [uprobes] page with VM_DONTCOPY in xol_add_vma).
	DontCopy
)

// withAccount adds Accounted to the flags of a new mapping that Linux
// charges (mm/mmap.c accountable_mapping: VM_WRITE without VM_SHARED or
// VM_NORESERVE).
func withAccount(f Flags, p Prot) Flags {
	if f&(Private|NoReserve) == Private && p&ProtWrite != 0 {
		return f | Accounted
	}
	return f
}

var flagNames = []struct {
	f    Flags
	name string
}{
	{GrowsDown, "GrowsDown"}, {Stack, "Stack"}, {Anonymous, "Anonymous"},
	{FileBacked, "FileBacked"}, {Heap, "Heap"}, {Private, "Private"}, {Shared, "Shared"},
	{Accounted, "Accounted"}, {NoReserve, "NoReserve"}, {NoMayWrite, "NoMayWrite"},
}

// String lists the set flags, e.g. "Anonymous|Private".
func (f Flags) String() string {
	var parts []string
	for _, n := range flagNames {
		if f&n.f != 0 {
			parts = append(parts, n.name)
			f &^= n.f
		}
	}
	if f != 0 || len(parts) == 0 {
		parts = append(parts, "0x"+strconv.FormatUint(uint64(f), 16))
	}
	return strings.Join(parts, "|")
}
