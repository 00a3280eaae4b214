package kernel

import (
	"syscall"

	"github.com/probesim/probesim/mmu"
)

// mremap (mm/mremap.c), for private anonymous memory: what glibc's realloc
// of an mmapped chunk and the C++ and Go allocators ask for. A shrink
// unmaps the tail; a growth extends the mapping in place when the pages
// after it are free, else, with MREMAP_MAYMOVE, moves it: a new mapping of
// the same protection, the bytes copied, the old one unmapped (Linux moves
// the page tables; the guest sees the same bytes at the new address).
// Deviations, each counted: MREMAP_FIXED and MREMAP_DONTUNMAP are EINVAL,
// and a file or shared mapping is ENOSYS, as without the syscall (glibc
// falls back to copying).
const (
	mremapMaymove   = 1
	mremapFixed     = 2
	mremapDontunmap = 4
)

func sysMremap(k *Kernel, t *Task, a Args) (uint64, Result) {
	old, oldSize, newSize, flags := a[0], a[1], a[2], a[3]
	if flags&^uint64(mremapMaymove|mremapFixed|mremapDontunmap) != 0 || old&(mmu.PageSize-1) != 0 {
		return fail(syscall.EINVAL)
	}
	if flags&(mremapFixed|mremapDontunmap) != 0 {
		if flags&mremapMaymove == 0 {
			return fail(syscall.EINVAL)
		}
		k.unsupportedDetail("mremap", "MREMAP_FIXED or MREMAP_DONTUNMAP")
		return fail(syscall.EINVAL)
	}
	pageUp := func(n uint64) uint64 { return (n + mmu.PageSize - 1) &^ (mmu.PageSize - 1) }
	oldSize, newSize = pageUp(oldSize), pageUp(newSize)
	if newSize == 0 || old+oldSize < old {
		return fail(syscall.EINVAL)
	}
	mm := k.mm()
	v, ok := mm.FindVMA(old)
	if !ok || old+oldSize > v.End || oldSize == 0 {
		return fail(syscall.EFAULT) // vma_to_resize: not one mapping
	}
	if v.Flags&mmu.Anonymous == 0 || v.Flags&mmu.Shared != 0 || v.Flags&(mmu.Stack|mmu.Heap|mmu.GrowsDown) != 0 {
		k.unsupportedDetail("mremap", "file, shared, stack or heap mapping")
		return fail(syscall.ENOSYS)
	}
	switch {
	case newSize == oldSize:
		return okv(old)
	case newSize < oldSize:
		if e := mm.Munmap(old+newSize, oldSize-newSize); e != 0 {
			return fail(e)
		}
		k.sched.TLBShootdown()
		return okv(old)
	}
	mflags := uint32(mmu.MapPrivate | mmu.MapAnonymous)
	if v.Flags&mmu.NoReserve != 0 {
		mflags |= 0x4000 // MAP_NORESERVE
	}
	// In place, when the pages after the mapping are free and the range
	// ends where the mapping does (a middle part cannot grow).
	if old+oldSize == v.End {
		if _, e := mm.Mmap(v.End, newSize-oldSize, v.Prot, mflags|mmu.MapFixedNoReplace, v.Name); e == 0 {
			return okv(old)
		}
	}
	if flags&mremapMaymove == 0 {
		return fail(syscall.ENOMEM)
	}
	dst, e := mm.Mmap(0, newSize, v.Prot, mflags, v.Name)
	if e != 0 {
		return fail(e)
	}
	buf := make([]byte, min(oldSize, 1<<20))
	for off := uint64(0); off < oldSize; off += uint64(len(buf)) {
		n := min(uint64(len(buf)), oldSize-off)
		if err := mm.ReadForce(old+off, buf[:n]); err != nil {
			_ = mm.Munmap(dst, newSize)
			return fail(syscall.EFAULT)
		}
		if err := mm.WriteForce(dst+off, buf[:n]); err != nil {
			_ = mm.Munmap(dst, newSize)
			return fail(syscall.EFAULT)
		}
	}
	if e := mm.Munmap(old, oldSize); e != 0 {
		return fail(e)
	}
	k.sched.TLBShootdown()
	return okv(dst)
}
