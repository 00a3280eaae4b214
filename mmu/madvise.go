package mmu

import "syscall"

// madvise(2) advice values (include/uapi/asm-generic/mman-common.h).
const (
	MadvNormal         = 0
	MadvRandom         = 1
	MadvSequential     = 2
	MadvWillNeed       = 3
	MadvDontNeed       = 4
	MadvFree           = 8
	MadvRemove         = 9
	MadvDontFork       = 10
	MadvDoFork         = 11
	MadvMergeable      = 12
	MadvUnmergeable    = 13
	MadvHugePage       = 14
	MadvNoHugePage     = 15
	MadvDontDump       = 16
	MadvDoDump         = 17
	MadvWipeOnFork     = 18
	MadvKeepOnFork     = 19
	MadvCold           = 20
	MadvPageOut        = 21
	MadvPopulateRead   = 22
	MadvPopulateWrite  = 23
	MadvDontNeedLocked = 24
	MadvCollapse       = 25
	MadvHWPoison       = 100
	MadvSoftOffline    = 101
)

func madviseValid(advice int) bool {
	switch {
	case advice >= MadvNormal && advice <= MadvWillNeed:
		return true
	case advice == MadvDontNeed:
		return true
	case advice >= MadvFree && advice <= MadvCollapse:
		return true
	case advice == MadvHWPoison || advice == MadvSoftOffline:
		return true
	}
	return false
}

// Madvise is madvise(2) following do_madvise and madvise_walk_vmas
// (mm/madvise.c):
//
//   - unknown advice, an unaligned address, or a length that wraps:
//     EINVAL; an empty range: success; MADV_HWPOISON/MADV_SOFT_OFFLINE:
//     EPERM (they need CAP_SYS_ADMIN);
//   - the advice is applied to the mapped parts; any unmapped page in the
//     range makes the result ENOMEM afterwards;
//   - MADV_DONTNEED (and _LOCKED) zeroes private anonymous memory; shared
//     anonymous memory keeps its contents (they live in shmem). Deviation:
//     private file-backed memory also keeps its contents, where Linux would
//     re-read the file;
//   - MADV_REMOVE zeroes shared anonymous memory and is EINVAL elsewhere;
//   - MADV_FREE is EINVAL on memory that is not private anonymous and keeps
//     the contents otherwise (Linux may free them lazily; keeping them is
//     one of its valid outcomes);
//   - every other advice is accepted without effect.
//
// Zeroing executable pages drops their translations.
func (as *AddressSpace) Madvise(addr, length uint64, advice int) syscall.Errno {
	as.mu.Lock()
	defer as.mu.Unlock()
	if !madviseValid(advice) || addr&pageMask != 0 {
		return syscall.EINVAL
	}
	size, ok := pageAlignLen(length)
	if !ok {
		return syscall.EINVAL
	}
	end := addr + size
	if end < addr {
		return syscall.EINVAL
	}
	if end == addr {
		return 0
	}
	if advice == MadvHWPoison || advice == MadvSoftOffline {
		return syscall.EPERM
	}
	if advice == MadvDontFork || advice == MadvDoFork {
		return as.setDontCopyLocked(addr, end, advice == MadvDontFork)
	}
	var hole syscall.Errno
	next := addr
	for i := as.vmaIndex(addr); i < len(as.vmas) && as.vmas[i].Start < end; i++ {
		v := as.vmas[i]
		lo, hi := max(v.Start, addr), min(v.End, end)
		if lo > next {
			hole = syscall.ENOMEM
		}
		next = hi
		privateAnon := v.Flags&(Anonymous|Private) == Anonymous|Private
		sharedAnon := v.Flags&(Anonymous|Shared) == Anonymous|Shared
		switch advice {
		case MadvDontNeed, MadvDontNeedLocked:
			switch {
			case privateAnon:
				if as.hasFilePagesLocked(lo, hi) {
					// Pages shared copy-on-write since a fork: this
					// process's mapping of them goes (the other keeps
					// its bytes); the next touch is a zero page.
					as.dropFilePagesLocked(lo, hi)
				}
				as.zeroLocked(lo, hi)
			case v.File != nil && v.Flags&Private != 0:
				// The private copies go; the next touch reads the file.
				as.dropFilePagesLocked(lo, hi)
			}
		case MadvRemove:
			if !sharedAnon {
				return syscall.EINVAL
			}
			as.zeroLocked(lo, hi)
		case MadvFree:
			if !privateAnon {
				return syscall.EINVAL
			}
		}
	}
	if next < end {
		hole = syscall.ENOMEM
	}
	return hole
}

// zeroLocked zeroes the mapped range [start,end), dropping translations if
// any page in it is executable or revoked (revoke.go).
func (as *AddressSpace) zeroLocked(start, end uint64) {
	exec := as.anyExec(start, end) || as.revokedOverlaps(start, end)
	as.zeroPagesLocked(start, end)
	if exec {
		as.invalidate(start, end)
	}
}
