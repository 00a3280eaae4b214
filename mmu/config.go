package mmu

import "fmt"

// PageSize is the guest page size (x86 4 KiB pages).
const PageSize = 4096

const pageMask = PageSize - 1

// Task sizes of the two guest ABIs.
const (
	// TaskSize32 is TASK_SIZE of an ia32 task on an x86-64 kernel
	// (IA32_PAGE_OFFSET, arch/x86/include/asm/page_64_types.h): such tasks
	// get almost the full 4 GiB, not the 3 GiB of a 32-bit kernel.
	TaskSize32 uint64 = 0xFFFFE000
	// TaskSize64 is TASK_SIZE_MAX with 4-level paging (47-bit user space).
	TaskSize64 uint64 = 0x7FFFFFFFF000
)

// Defaults applied by New to zero-valued Config fields.
const (
	DefaultStackLimit uint64 = 8 << 20 // RLIMIT_STACK of a login shell
	DefaultGuardGap   uint64 = 256 * PageSize
	DefaultMinAddr    uint64 = 65536 // vm.mmap_min_addr
	// defaultMaxMapCount is sysctl_max_map_count (DEFAULT_MAX_MAP_COUNT).
	defaultMaxMapCount = 65530
)

// Config sets the shape and the limits of an address space. Zero fields take
// the defaults documented on each field.
type Config struct {
	// TaskSize is the end of user space (0: TaskSize64). Use TaskSize32 for
	// i386 guests.
	TaskSize uint64
	// MmapBase is where top-down mmap placement starts (mm->mmap_base).
	// 0: DefaultMmapBase(TaskSize, StackLimit, GuardGap), the value Linux
	// computes without address-space randomisation.
	MmapBase uint64
	// StackLimit is RLIMIT_STACK: the largest a growsdown VMA may become by
	// growing (0: DefaultStackLimit).
	StackLimit uint64
	// GuardGap is stack_guard_gap (0: DefaultGuardGap, 256 pages): the room
	// kept free below a growsdown VMA.
	GuardGap uint64
	// MaxMemory bounds the bytes of all mapped guest memory, like
	// RLIMIT_AS; exceeding it fails with ENOMEM. 0: unlimited.
	MaxMemory uint64
	// MinAddr is vm.mmap_min_addr (0: DefaultMinAddr): nothing is mapped
	// by mmap below it.
	MinAddr uint64
	// PhysMemory is the memory of the modelled machine for guest pages
	// (0: DefaultPhysMemory). A guest touching more pages is out of
	// memory (AddressSpace.OutOfMemory). Rounded down to pages.
	PhysMemory uint64
	// Phys is the machine's physical memory when several address spaces
	// share it (nil: the address space has its own, of PhysMemory bytes,
	// closed with it). With Phys set, PhysMemory is ignored.
	Phys *Phys
	// PageCache is the page cache file mappings share (nil: one of the
	// address space's own, on its Phys). It must be on Phys.
	PageCache *PageCache
	// ReadImpliesExec models the READ_IMPLIES_EXEC personality: PROT_READ
	// in mmap/mprotect also grants PROT_EXEC, and the heap and stack are
	// executable.
	ReadImpliesExec bool
}

// DefaultMmapBase is mmap_base() of arch/x86/mm/mmap.c with randomisation
// off: the stack limit plus the guard gap, clamped to [128 MiB, 5/6 of the
// task size], below the task size. For TaskSize64 and an 8 MiB stack this is
// 0x7ffff7fff000, for TaskSize32 0xf7ffe000, the addresses seen under
// `setarch -R`.
func DefaultMmapBase(taskSize, stackLimit, guardGap uint64) uint64 {
	gap := stackLimit
	if gap+guardGap > gap {
		gap += guardGap
	}
	const gapMin = 128 << 20
	gapMax := taskSize / 6 * 5
	if gap < gapMin {
		gap = gapMin
	} else if gap > gapMax {
		gap = gapMax
	}
	return pageAlignUp(taskSize - gap)
}

// withDefaults fills zero fields and validates the result.
func (c Config) withDefaults() (Config, error) {
	if c.TaskSize == 0 {
		c.TaskSize = TaskSize64
	}
	if c.StackLimit == 0 {
		c.StackLimit = DefaultStackLimit
	}
	if c.GuardGap == 0 {
		c.GuardGap = DefaultGuardGap
	}
	if c.MinAddr == 0 {
		c.MinAddr = DefaultMinAddr
	}
	if c.PhysMemory == 0 {
		c.PhysMemory = DefaultPhysMemory
	}
	c.PhysMemory = pageAlignDown(c.PhysMemory)
	if c.MmapBase == 0 {
		c.MmapBase = DefaultMmapBase(c.TaskSize, c.StackLimit, c.GuardGap)
	}
	switch {
	case c.TaskSize&pageMask != 0:
		return c, fmt.Errorf("mmu: task size %#x is not page aligned", c.TaskSize)
	case c.TaskSize > 1<<63:
		return c, fmt.Errorf("mmu: task size %#x is too large", c.TaskSize)
	case c.MinAddr&pageMask != 0 || c.MinAddr >= c.TaskSize:
		return c, fmt.Errorf("mmu: min address %#x must be page aligned and below the task size %#x", c.MinAddr, c.TaskSize)
	case c.MmapBase&pageMask != 0 || c.MmapBase > c.TaskSize || c.MmapBase <= c.MinAddr:
		return c, fmt.Errorf("mmu: mmap base %#x must be page aligned and within (%#x, %#x]", c.MmapBase, c.MinAddr, c.TaskSize)
	case c.PhysMemory < windowSize || c.PhysMemory > 1<<46:
		return c, fmt.Errorf("mmu: physical memory %#x must be between 64 KiB and 64 TiB", c.PhysMemory)
	case c.GuardGap&pageMask != 0:
		return c, fmt.Errorf("mmu: guard gap %#x is not page aligned", c.GuardGap)
	}
	return c, nil
}

func pageAlignUp(v uint64) uint64 { return (v + pageMask) &^ pageMask }

func pageAlignDown(v uint64) uint64 { return v &^ pageMask }

// pageAlignLen rounds a length up to pages; ok is false when that overflows
// (PAGE_ALIGN(len) == 0 for a huge len).
func pageAlignLen(n uint64) (uint64, bool) {
	a := pageAlignUp(n)
	return a, a >= n
}
