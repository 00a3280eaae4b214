package mmu

import (
	"fmt"
	"syscall"
)

// SetupStack maps the main-thread stack [top-initialSize, top): read-write
// (plus exec under ReadImpliesExec), GrowsDown|Stack|Anonymous|Private|
// Accounted (VM_STACK_FLAGS includes VM_ACCOUNT), named "[stack]", as
// setup_arg_pages (fs/exec.c) leaves it. The range must be free, page
// aligned, below TaskSize and no larger than StackLimit.
func (as *AddressSpace) SetupStack(top, initialSize uint64) error {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.dead != nil {
		return as.dead
	}
	switch {
	case top&pageMask != 0 || initialSize&pageMask != 0:
		return fmt.Errorf("mmu: stack top %#x and size %#x must be page aligned", top, initialSize)
	case initialSize == 0 || initialSize > top:
		return fmt.Errorf("mmu: stack size %#x does not fit below top %#x", initialSize, top)
	case top > as.cfg.TaskSize:
		return fmt.Errorf("mmu: stack top %#x is above the task size %#x", top, as.cfg.TaskSize)
	case initialSize > as.cfg.StackLimit:
		return fmt.Errorf("mmu: stack size %#x exceeds the stack limit %#x", initialSize, as.cfg.StackLimit)
	}
	start := top - initialSize
	if as.mappedBytesIn(start, top) != 0 {
		return fmt.Errorf("mmu: stack [%#x,%#x) overlaps an existing mapping", start, top)
	}
	if !as.budgetAllows(initialSize) {
		return fmt.Errorf("mmu: stack of %#x bytes exceeds the memory budget of %#x bytes: %w", initialSize, as.cfg.MaxMemory, syscall.ENOMEM)
	}
	prot := ProtRead | ProtWrite
	if as.cfg.ReadImpliesExec {
		prot |= ProtExec
	}
	v := VMA{Start: start, End: top, Prot: prot, Flags: GrowsDown | Stack | Anonymous | Private | Accounted, Name: "[stack]"}
	as.installLocked(v)
	return nil
}

// GrowStack handles an access to the unmapped address addr the way the page
// fault path does (lock_mm_and_find_vma -> expand_stack): if the first VMA
// above addr grows down, it is extended down to addr's page, subject to
// expand_downwards and acct_stack_growth (mm/mmap.c):
//
//   - the page must not be below MinAddr;
//   - the VMA's new size (its end minus the page) must not exceed
//     StackLimit; like Linux this measures the growing VMA only, so a stack
//     split by mprotect is limited by its lowest piece;
//   - the page must lie at least GuardGap above the end of the VMA below,
//     unless that VMA grows down too or is PROT_NONE (vma_is_accessible);
//   - the memory budget must allow the new pages.
//
// It returns true if the access can be retried: the stack grew, or addr
// already lies in a growsdown VMA (another vCPU grew it first). Otherwise
// the access is a segmentation fault. Linux no longer checks the distance
// to the stack pointer (removed in 4.20), and neither does this.
func (as *AddressSpace) GrowStack(addr uint64) bool {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.dead != nil {
		return false
	}
	if i, ok := as.findVMA(addr); ok {
		return as.vmas[i].Flags&GrowsDown != 0
	}
	return as.growStackLocked(addr) == nil
}

// ExpandDown grows the growsdown VMA v (identified by its start) by pages
// pages, under the limits GrowStack applies, for callers that grow a stack
// deliberately. The pages below v must be unmapped.
func (as *AddressSpace) ExpandDown(v VMA, pages int) error {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.dead != nil {
		return as.dead
	}
	i, ok := as.findVMA(v.Start)
	if !ok || as.vmas[i].Start != v.Start {
		return fmt.Errorf("mmu: no VMA starts at %#x", v.Start)
	}
	if pages <= 0 {
		return fmt.Errorf("mmu: cannot grow a stack by %d pages", pages)
	}
	grow := uint64(pages) * PageSize
	if grow/PageSize != uint64(pages) || grow > v.Start {
		return fmt.Errorf("mmu: growing %#x by %d pages goes below address 0", v.Start, pages)
	}
	return as.expandDownLocked(i, v.Start-grow)
}

// growStackLocked grows the growsdown VMA above the unmapped addr to cover
// it.
func (as *AddressSpace) growStackLocked(addr uint64) error {
	i := as.vmaIndex(addr)
	if i == len(as.vmas) || as.vmas[i].Flags&GrowsDown == 0 {
		return fmt.Errorf("mmu: %#x is not below a growsdown mapping: %w", addr, syscall.EFAULT)
	}
	return as.expandDownLocked(i, pageAlignDown(addr))
}

// expandDownLocked is expand_downwards: extend the growsdown VMA i so that it
// starts at newStart. Refusals are counted in Stats.StackGrowthRefusals.
// Deviation: expand_downwards never merges, so on Linux a growsdown VMA
// that grows into contact with an identical one below stays a VMA of its
// own; here the two merge, keeping invariant 2 (doc.go).
func (as *AddressSpace) expandDownLocked(i int, newStart uint64) error {
	v := as.vmas[i]
	if v.Flags&GrowsDown == 0 {
		return fmt.Errorf("mmu: VMA [%#x,%#x) does not grow down", v.Start, v.End)
	}
	if newStart >= v.Start {
		return nil
	}
	refuse := func(format string, args ...any) error {
		as.stats.StackGrowthRefusals++
		return fmt.Errorf("mmu: growing the stack at [%#x,%#x) down to %#x: "+format+": %w",
			append(append([]any{v.Start, v.End, newStart}, args...), syscall.ENOMEM)...)
	}
	if newStart < as.cfg.MinAddr {
		return refuse("below the minimum address %#x", as.cfg.MinAddr)
	}
	if i > 0 {
		prev := as.vmas[i-1]
		if prev.End > newStart {
			return refuse("overlaps [%#x,%#x)", prev.Start, prev.End)
		}
		if prev.Flags&GrowsDown == 0 && prev.Prot != 0 && newStart-prev.End < as.cfg.GuardGap {
			return refuse("within the guard gap of %#x bytes above [%#x,%#x)", as.cfg.GuardGap, prev.Start, prev.End)
		}
	}
	if v.End-newStart > as.cfg.StackLimit {
		return refuse("exceeds the stack limit of %#x bytes", as.cfg.StackLimit)
	}
	grow := v.Start - newStart
	if !as.budgetAllows(grow) {
		return refuse("exceeds the memory budget of %#x bytes", as.cfg.MaxMemory)
	}
	if v.Flags&FileBacked != 0 && v.Offset < grow {
		return refuse("file offset %#x would go negative", v.Offset)
	}
	as.vmas[i].Start = newStart
	if v.Flags&FileBacked != 0 {
		as.vmas[i].Offset -= grow
	}
	as.addMapped(grow)
	as.stats.StackGrowths++
	as.mergeWindow(newStart, newStart)
	return nil
}
