// Package loader reads static Linux executables for probesim and turns them
// into a pure load plan, the program's symbols and the initial stack image.
//
// # What it owns
//
// Parsing and validating i386 (ELFCLASS32, EM_386) and x86-64 (ELFCLASS64,
// EM_X86_64) executables: ET_EXEC, and ET_DYN without PT_INTERP
// (static-pie), which is relocated to Arch.DynBase(). It never touches guest
// memory: another package maps Image.Segments into the address space, zeroes
// each bss tail, sets the break at Image.BrkStart and writes the BuildStack
// image at [sp, Top). Segment permissions are the file's PF_R/PF_W/PF_X;
// when Image.ReadImpliesExec is set, readable mappings must also be made
// executable (READ_IMPLIES_EXEC).
//
// # Errors
//
// Load and Parse return only *Error, one line each, whose Kind tells a front
// end which exit status to use: NotExist (127 in a shell) and, for "cannot
// run this program" (126), Unreadable, NotELF, Unsupported, Dynamic and
// Corrupt. NotExist and Unreadable unwrap to the os error. Nothing panics on
// any input; FuzzParse checks that.
//
// # Invariants of an Image returned by Parse
//
//   - Arch is ArchI386 or ArchX8664; Phent is 32 or 56 accordingly.
//   - Segments is non-empty, sorted by Vaddr, every Memsz > 0, every
//     Filesz <= Memsz and len(Data) == Filesz; page ranges
//     [PageStart, PageEnd) are pairwise disjoint, at or above MinAddr and
//     at or below Arch.TaskSize(); their total is at most MaxMemory.
//   - Entry lies in a segment with Exec set.
//   - BrkStart is page aligned and equals the PageEnd of the last segment.
//   - Bias is 0 unless StaticPIE; all addresses (segments, Entry, PhdrAddr,
//     TLS, symbols) are already relocated, modulo 2^32 on i386.
//   - PhdrAddr, when non-zero, lies inside a segment.
//   - Symbols are sorted by (Value, Name, ...) without exact duplicates.
//   - An Image shares no memory with the byte slice given to Parse.
//
// # Stack
//
// BuildStack is a pure function producing the SysV initial stack like
// fs/binfmt_elf.c create_elf_tables with randomisation disabled; its
// documentation lists the exact layout and auxv order. The returned sp is
// 16-byte aligned on both architectures and points at argc.
//
// # Deviations from Linux
//
// Each is documented where it is implemented: static-pie base
// (Arch.DynBase), EI_OSABI checking (parseHeader), refusing overlapping or
// unsorted PT_LOADs and maps below vm.mmap_min_addr (planSegments),
// preferring PT_PHDR for AT_PHDR (findPhdr), requiring the entry point to be
// in an executable segment, and the missing vDSO entries (BuildStack).
// Load does not check the file's execute permission bits.
//
// # Locking
//
// None is needed: an Image is immutable after Parse returns, so Lookup,
// SymbolAt and SegmentAt may be called from any number of goroutines. Do not
// modify an Image's slices while others read it.
package loader
