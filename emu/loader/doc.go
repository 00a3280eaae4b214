// Package loader reads Linux executables and their program interpreters for
// probesim and turns them into pure load plans, symbols and the initial
// stack image.
//
// # What it owns
//
// Parsing and validating i386 (ELFCLASS32, EM_386) and x86-64 (ELFCLASS64,
// EM_X86_64) executables: ET_EXEC, and ET_DYN (a PIE, or a static-pie
// without PT_INTERP), which is relocated to Arch.DynBase(). A dynamic
// program names its interpreter in Image.Interp (the first PT_INTERP,
// checked as load_elf_binary checks it); ParseInterp reads that loader
// (ld.so) at bias 0 from any io.ReaderAt (the guest's view, not the
// host's path) and Rebase moves it to where the address space placed its
// span, as load_elf_interp does. It never touches guest
// memory: another package maps Image.Segments into the address space, zeroes
// each bss tail, sets the break at Image.BrkStart and writes the BuildStack
// image at [sp, Top). Segment permissions are the file's PF_R/PF_W/PF_X;
// when Image.ReadImpliesExec is set, readable mappings must also be made
// executable (READ_IMPLIES_EXEC).
//
// # What it reads
//
// What Linux reads to start a program (fs/binfmt_elf.c load_elf_binary):
// the ELF header, the program headers and the file ranges of the PT_LOAD
// and PT_TLS segments, each with one bounded read from an io.ReaderAt once
// the headers locating it are checked. Load stats the path first and opens
// nothing but a regular file (a FIFO would block, /dev/zero never end). The
// section headers and .symtab are read only when Symbols, Lookup or
// SymbolAt first need them (probes do), so damage there does not stop a
// program from running: Symbols reports it, with ErrSectionHeaders in the
// error's chain.
//
// # Errors
//
// Load and Parse return only *Error, one line each, whose Kind tells a front
// end which exit status to use: NotExist (127 in a shell) and, for "cannot
// run this program" (126), Unreadable, NotELF, Unsupported, Dynamic (an
// interpreter that itself names an interpreter) and Corrupt. NotExist and Unreadable unwrap to the os error (EACCES for a file
// that is not regular, as execve gives). Symbols' errors are *Error too.
// Nothing panics on any input; FuzzParse checks that.
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
//   - Bias is 0 for an ET_EXEC; all addresses (segments, Entry, PhdrAddr,
//     TLS, symbols) are already relocated, modulo 2^32 on i386.
//   - PhdrAddr, when non-zero, lies inside a segment.
//   - Symbols() are sorted by (Value, Name, ...) without exact duplicates.
//   - An Image shares no memory with the byte slice given to Parse.
//   - An Image from Load holds its file open, for the symbols, until Close.
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
// in an executable segment, the missing vDSO entries (BuildStack), and
// checking the execute permission bits after the file's contents (load).
//
// # Locking
//
// An Image is immutable after Parse returns but for its symbol table, which
// the first Symbols, Lookup or SymbolAt reads under a sync.Once; so all of
// them and SegmentAt may be called from any number of goroutines. Close
// must not race with them. Do not modify an Image's slices while others
// read it.
package loader
