package mmu

import "syscall"

// mprotect(2) extra bits.
const (
	ProtSem       = 0x8        // PROT_SEM: accepted and ignored
	ProtGrowsDown = 0x01000000 // PROT_GROWSDOWN
	ProtGrowsUp   = 0x02000000 // PROT_GROWSUP
)

// Mprotect is mprotect(2) with a Prot; see MprotectRaw.
func (as *AddressSpace) Mprotect(addr, length uint64, prot Prot) syscall.Errno {
	return as.MprotectRaw(addr, length, uint32(prot))
}

// MprotectRaw is mprotect(2) taking the raw prot argument, following
// do_mprotect_pkey (mm/mprotect.c):
//
//   - both PROT_GROWSDOWN and PROT_GROWSUP, an unaligned address, or bits
//     other than PROT_READ/WRITE/EXEC/SEM: EINVAL; length 0: success;
//     a range wrapping around: ENOMEM;
//   - no VMA at the start of the range: ENOMEM. With PROT_GROWSDOWN the
//     range starts instead at the start of the first VMA it meets (EINVAL
//     unless that VMA grows down); PROT_GROWSUP is EINVAL (x86 has no
//     growsup VMAs);
//   - a hole inside the range: the VMAs before the hole are changed, then
//     ENOMEM, as Linux does;
//   - adding PROT_WRITE to a shared file mapping of a file not open for
//     writing (NoMayWrite): the VMAs before it are changed, then EACCES.
//
// Removing PROT_EXEC drops translations of the affected pages.
func (as *AddressSpace) MprotectRaw(addr, length uint64, prot uint32) syscall.Errno {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.dead != nil {
		return syscall.ENOMEM
	}
	grows := prot & (ProtGrowsDown | ProtGrowsUp)
	prot &^= grows
	if grows == ProtGrowsDown|ProtGrowsUp || addr&pageMask != 0 {
		return syscall.EINVAL
	}
	if length == 0 {
		return 0
	}
	size := pageAlignUp(length)
	end := addr + size
	if end <= addr {
		return syscall.ENOMEM
	}
	if prot&^uint32(ProtAll|ProtSem) != 0 {
		return syscall.EINVAL
	}
	p := Prot(prot) & ProtAll
	if as.cfg.ReadImpliesExec && p&ProtRead != 0 {
		p |= ProtExec // every VMA here has VM_MAYEXEC
	}
	i := as.vmaIndex(addr)
	if i == len(as.vmas) {
		return syscall.ENOMEM
	}
	v := as.vmas[i]
	switch {
	case grows == ProtGrowsDown:
		if v.Start >= end {
			return syscall.ENOMEM
		}
		addr = v.Start
		if v.Flags&GrowsDown == 0 {
			return syscall.EINVAL
		}
	case v.Start > addr:
		return syscall.ENOMEM
	case grows == ProtGrowsUp:
		return syscall.EINVAL
	}
	mappedEnd := addr
	for _, r := range as.mappedRuns(addr, end) {
		if r.start != mappedEnd {
			break
		}
		mappedEnd = r.end
	}
	// A shared file mapping without VM_MAYWRITE stops a change adding
	// write there, the VMAs before it changed (do_mprotect_pkey).
	var denied bool
	if p&ProtWrite != 0 {
		for j := i; j < len(as.vmas) && as.vmas[j].Start < mappedEnd; j++ {
			if as.vmas[j].Flags&NoMayWrite != 0 {
				mappedEnd, denied = max(addr, as.vmas[j].Start), true
				break
			}
		}
	}
	if mappedEnd > addr {
		if err := as.protectLocked(addr, mappedEnd, p); err != nil {
			return syscall.ENOMEM
		}
	}
	if denied {
		return syscall.EACCES
	}
	if mappedEnd < end {
		return syscall.ENOMEM
	}
	return 0
}
