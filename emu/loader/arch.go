package loader

import "fmt"

// Arch is the guest instruction set of an executable. The zero value is not a
// valid architecture, so a forgotten field is caught instead of silently
// meaning i386.
type Arch int

const (
	// ArchI386 is 32-bit x86 (ELFCLASS32, EM_386), run like an ia32 program
	// on an x86-64 Linux kernel (compat mode).
	ArchI386 Arch = iota + 1
	// ArchX8664 is 64-bit x86 (ELFCLASS64, EM_X86_64).
	ArchX8664
)

// String returns the name Linux's uname(2) uses for the architecture.
func (a Arch) String() string {
	switch a {
	case ArchI386:
		return "i386"
	case ArchX8664:
		return "x86_64"
	}
	return fmt.Sprintf("Arch(%d)", int(a))
}

// Valid reports whether a is one of the supported architectures.
func (a Arch) Valid() bool { return a == ArchI386 || a == ArchX8664 }

// WordSize is the size in bytes of a pointer, of long and of an auxv field.
func (a Arch) WordSize() uint64 {
	if a == ArchI386 {
		return 4
	}
	return 8
}

// wordMask keeps an address inside the architecture's address width, so
// that bias arithmetic on i386 wraps at 2^32 exactly as the kernel's 32-bit
// unsigned long does for a compat task.
func (a Arch) wordMask() uint64 {
	if a == ArchI386 {
		return 0xFFFF_FFFF
	}
	return ^uint64(0)
}

// TaskSize is the end (exclusive) of the user address space. For i386 it is
// IA32_PAGE_OFFSET (arch/x86/include/asm/page_64_types.h: a compat task on an
// x86-64 kernel may use up to 0xFFFFE000); for x86-64 it is TASK_SIZE_MAX with
// 4-level paging, (1<<47) - PAGE_SIZE.
func (a Arch) TaskSize() uint64 {
	if a == ArchI386 {
		return 0xFFFF_E000
	}
	return 0x7FFF_FFFF_F000
}

// StackTop is where Linux puts the top of the initial stack when address
// space randomisation is off (STACK_TOP in arch/x86/include/asm/processor.h
// is TASK_SIZE_LOW for 64-bit tasks and IA32_PAGE_OFFSET for compat tasks).
func (a Arch) StackTop() uint64 { return a.TaskSize() }

// DynBase is the fixed load address chosen for a static-pie executable: the
// value ELF_ET_DYN_BASE gives a PIE with randomisation disabled
// (`setarch -R`), 0x555555554000 for x86-64 and 0x56555000 for i386.
//
// Deviation: fs/binfmt_elf.c load_elf_binary loads an ET_DYN *without*
// PT_INTERP (which it treats as "a loader") into the mmap region instead
// (load_bias 0, no MAP_FIXED), near the stack. probesim prefers the
// well-known PIE base so that addresses in reports look like ordinary PIE
// addresses and stay far from the stack and future mmaps.
func (a Arch) DynBase() uint64 {
	if a == ArchI386 {
		return 0x5655_5000
	}
	return 0x5555_5555_4000
}

// Platform is the AT_PLATFORM string Linux gives the architecture:
// ELF_PLATFORM (utsname machine, "x86_64") for 64-bit tasks and
// COMPAT_ELF_PLATFORM ("i686") for ia32 tasks (arch/x86/include/asm/elf.h).
func (a Arch) Platform() string {
	if a == ArchI386 {
		return "i686"
	}
	return "x86_64"
}

// PageSize is the x86 page size (ELF_MIN_ALIGN, ELF_EXEC_PAGESIZE).
const PageSize = 4096

// MinAddr is the lowest address a segment may map: the default
// vm.mmap_min_addr (65536 on Debian and most distributions). Keeping the low
// pages unmapped makes NULL dereferences in guests fault as they do on Linux.
const MinAddr = 0x10000

// MaxMemory caps the total page-rounded memory size of the PT_LOAD segments
// (and so the bytes Load reads for them) and the size of the PT_TLS
// template. Anything larger is treated as a corrupt or hostile file rather
// than a program probesim should emulate. The file itself may be of any
// size: only the ranges the headers locate are read.
const MaxMemory = 1 << 30

func pageDown(v uint64) uint64 { return v &^ (PageSize - 1) }

// pageUp rounds v up to a page boundary; ok is false if that overflows.
func pageUp(v uint64) (r uint64, ok bool) {
	r = (v + PageSize - 1) &^ (PageSize - 1)
	return r, r >= v
}
