package mmu

// SetBrkBase sets mm->start_brk and mm->brk to start rounded up to a page,
// as load_elf_binary does at the end of the loaded image (no brk
// randomisation). The heap VMA appears with the first growth.
func (as *AddressSpace) SetBrkBase(start uint64) {
	as.mu.Lock()
	defer as.mu.Unlock()
	b := pageAlignUp(start)
	if b < start { // wrapped: nothing can grow there
		b = pageAlignDown(start)
	}
	as.startBrk, as.brk, as.brkSet = b, b, true
}

// BrkRange returns mm->start_brk and mm->brk.
func (as *AddressSpace) BrkRange() (start, cur uint64) {
	as.mu.Lock()
	defer as.mu.Unlock()
	return as.startBrk, as.brk
}

// Brk is brk(2) following SYSCALL_DEFINE1(brk) in mm/mmap.c. It returns the
// new break on success and the current one on failure (so brk(0) reads it):
//
//   - below start_brk: failure; before SetBrkBase every call fails;
//   - within the same page as the current break: success, nothing mapped;
//   - shrinking: the pages [PAGE_ALIGN(new), PAGE_ALIGN(old)) are unmapped
//     (whatever is mapped there), failing if nothing is mapped there;
//   - growing: the new pages plus one guard page must end below the start
//     gap of the next VMA, fit below TaskSize and the memory budget; the
//     pages join the heap VMA ([heap], anonymous, private, accounted as
//     do_brk_flags always does, read-write, plus exec under
//     ReadImpliesExec).
func (as *AddressSpace) Brk(newBrk uint64) uint64 {
	as.mu.Lock()
	defer as.mu.Unlock()
	orig := as.brk
	if as.dead != nil || !as.brkSet || newBrk < as.startBrk {
		return orig
	}
	newEnd, oldEnd := pageAlignUp(newBrk), pageAlignUp(as.brk)
	if newEnd < newBrk {
		return orig // PAGE_ALIGN wrapped
	}
	if newEnd == oldEnd {
		as.brk = newBrk
		return newBrk
	}
	if newBrk <= as.brk {
		if as.mappedBytesIn(newEnd, oldEnd) == 0 {
			return orig
		}
		as.brk = newBrk
		if err := as.unmapLocked(newEnd, oldEnd); err != nil {
			// The backend failure is recorded (Err); the pages are gone
			// from the bookkeeping either way.
			return as.brk
		}
		return newBrk
	}
	// Growing: check_brk_limits and the "next" test of brk().
	if newEnd > as.cfg.TaskSize {
		return orig
	}
	if i := as.vmaIndex(oldEnd); i < len(as.vmas) && newEnd+PageSize > as.startGap(as.vmas[i]) {
		return orig
	}
	if !as.budgetAllows(newEnd - oldEnd) {
		return orig
	}
	prot := ProtRead | ProtWrite
	if as.cfg.ReadImpliesExec {
		prot |= ProtExec
	}
	v := VMA{Start: oldEnd, End: newEnd, Prot: prot, Flags: Anonymous | Private | Heap | Accounted, Name: "[heap]"}
	as.installLocked(v)
	as.brk = newBrk
	return newBrk
}
