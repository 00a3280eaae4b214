package mmu

import "syscall"

// mmap(2) flag bits (include/uapi/asm-generic/mman-common.h and
// arch/x86/include/uapi/asm/mman.h).
const (
	MapShared          = 0x01
	MapPrivate         = 0x02
	MapSharedValidate  = 0x03
	MapType            = 0x0f
	MapFixed           = 0x10
	MapAnonymous       = 0x20
	Map32Bit           = 0x40
	MapGrowsDown       = 0x100
	MapDenyWrite       = 0x800
	MapExecutable      = 0x1000
	MapLocked          = 0x2000
	MapNoReserve       = 0x4000
	MapPopulate        = 0x8000
	MapNonBlock        = 0x10000
	MapStack           = 0x20000
	MapHugeTLB         = 0x40000
	MapSync            = 0x80000
	MapFixedNoReplace  = 0x100000
	map32BitLow        = 0x40000000 // MAP_32BIT window, arch/x86/kernel/sys_x86_64.c find_start_end
	map32BitHigh       = 0x80000000
	maxMappingsAllowed = defaultMaxMapCount
)

// Mmap is mmap(2) for anonymous memory, following do_mmap and
// get_unmapped_area (mm/mmap.c) and arch_get_unmapped_area_topdown
// (arch/x86/kernel/sys_x86_64.c), in their order of checks:
//
//   - no MAP_ANONYMOUS: ENODEV (file mappings are the caller's business);
//     MAP_HUGETLB: ENOMEM (no huge pages are reserved, as on a default
//     system);
//   - length 0: EINVAL; length overflowing when page aligned: ENOMEM;
//   - more than vm.max_map_count mappings: ENOMEM;
//   - placement: a MAP_FIXED address is taken as is; otherwise a non-zero
//     hint (raised to MinAddr) is used when the range and the guard gap of a
//     growsdown VMA above it are free, else the highest free range below
//     MmapBase (no randomisation), falling back to a bottom-up search from
//     TaskSize/3; MAP_32BIT on a 64-bit task searches [1 GiB, 2 GiB)
//     bottom-up. No room: ENOMEM;
//   - the range must end within TaskSize (ENOMEM), a fixed address must be
//     page aligned (EINVAL) and not below MinAddr (EPERM);
//   - MAP_FIXED_NOREPLACE over an existing mapping: EEXIST;
//   - neither MAP_SHARED nor MAP_PRIVATE (MAP_SHARED_VALIDATE included, as
//     for anonymous memory): EINVAL; MAP_SHARED|MAP_GROWSDOWN: EINVAL;
//   - the memory budget (MaxMemory) counting the bytes a MAP_FIXED mapping
//     replaces: ENOMEM.
//
// A MAP_FIXED mapping replaces what it overlaps. The new VMA merges with
// identical neighbours. name labels the VMA in MapsText ("" for plain
// anonymous memory). Bits of prot beyond ProtAll are ignored, as do_mmap
// ignores them. A private writable mapping is Accounted; MAP_NORESERVE
// gives NoReserve instead (the default heuristic overcommit honours it).
// MAP_POPULATE, MAP_LOCKED, MAP_STACK and the other hints are accepted and
// have no further effect.
func (as *AddressSpace) Mmap(addr, length uint64, prot Prot, flags uint32, name string) (uint64, syscall.Errno) {
	if flags&MapAnonymous == 0 {
		return 0, syscall.ENODEV
	}
	defer as.deliverFileEvents() // a MAP_FIXED mapping may replace a file's
	return as.mmap(addr, length, prot, flags, name, nil, 0, 0)
}

// mmap is do_mmap for anonymous memory (file nil) and files.
func (as *AddressSpace) mmap(addr, length uint64, prot Prot, flags uint32, name string, file File, off uint64, extra Flags) (uint64, syscall.Errno) {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.dead != nil {
		return 0, syscall.ENOMEM
	}
	if flags&MapHugeTLB != 0 {
		return 0, syscall.ENOMEM
	}
	if length == 0 {
		return 0, syscall.EINVAL
	}
	prot &= ProtAll
	if as.cfg.ReadImpliesExec && prot&ProtRead != 0 {
		prot |= ProtExec
	}
	if flags&MapFixedNoReplace != 0 {
		flags |= MapFixed
	}
	fixed := flags&MapFixed != 0
	if !fixed {
		addr = as.roundHintToMin(addr)
	}
	size, ok := pageAlignLen(length)
	if !ok {
		return 0, syscall.ENOMEM
	}
	if len(as.vmas) > maxMappingsAllowed {
		return 0, syscall.ENOMEM
	}
	addr, errno := as.getUnmappedArea(addr, size, flags)
	if errno != 0 {
		return 0, errno
	}
	if flags&MapFixedNoReplace != 0 && as.mappedBytesIn(addr, addr+size) != 0 {
		return 0, syscall.EEXIST
	}
	f := Anonymous | extra
	if file != nil {
		f = FileBacked | extra
	}
	switch flags & MapType {
	case MapShared:
		if flags&MapGrowsDown != 0 {
			return 0, syscall.EINVAL
		}
		f |= Shared
	case MapPrivate:
		f |= Private
	default:
		return 0, syscall.EINVAL
	}
	if flags&MapGrowsDown != 0 {
		f |= GrowsDown
	}
	if flags&MapNoReserve != 0 {
		f |= NoReserve
	}
	v := VMA{Start: addr, End: addr + size, Prot: prot, Flags: withAccount(f, prot), Name: name, File: file, Offset: off}
	if id, ok := file.(Identified); ok {
		v.ID = id.FileID()
	}
	if err := as.mapFixedLocked(v, nil); err != nil {
		return 0, syscall.ENOMEM
	}
	return addr, 0
}

// Munmap is munmap(2) (do_vmi_munmap in mm/mmap.c): EINVAL for an
// unaligned address, a range beyond TaskSize or a zero length; unmapping
// nothing succeeds. Partially covered VMAs are split. Translations of every
// unmapped page are dropped first.
func (as *AddressSpace) Munmap(addr, length uint64) syscall.Errno {
	defer as.deliverFileEvents()
	as.mu.Lock()
	defer as.mu.Unlock()
	if addr&pageMask != 0 || addr > as.cfg.TaskSize || length > as.cfg.TaskSize-addr {
		return syscall.EINVAL
	}
	size, _ := pageAlignLen(length)
	if size == 0 {
		return syscall.EINVAL
	}
	if err := as.unmapLocked(addr, addr+size); err != nil {
		return syscall.ENOMEM
	}
	return 0
}
