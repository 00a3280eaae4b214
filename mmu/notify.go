package mmu

// Notification of file mappings, for the probe engine.
//
// Linux's uprobes learn of a file's mappings from the mm: mmap_region calls
// uprobe_mmap once the new VMA is in place, which installs the breakpoints
// of every uprobe registered on the file's inode inside the VMA
// (kernel/events/uprobes.c: build_probe_list, install_breakpoint), and
// unmap_single_vma (mm/memory.c) calls uprobe_munmap, which writes nothing:
// the breakpoint was in the process's private copy of the page, which goes
// with the mapping. A FileMapObserver is told the same two things.
//
// Deviations: Linux also calls uprobe_mmap when a VMA is split or expanded
// (vma_complete in mm/vma.c), where it finds the breakpoints already
// installed (verify_opcode: nothing to do), so no event is sent for a split
// or a merge here; the pages and their bytes do not change. MADV_DONTNEED
// of a private file page drops the page, and its next touch reads the
// file again, breakpoint included only if the observer writes it again: no
// event is sent for it (Linux has the same hole: zap_page_range_single
// drops the breakpoint's page, and uprobe_munmap only marks the mm for a
// recount).
//
// Events are collected while the address space's lock is held and
// delivered after it is released, in the order they happened (the
// unmapping of what a MAP_FIXED mapping replaces before the new mapping),
// on the goroutine of the call that made them; the observer may call back
// into the address space (to write the breakpoints).

// FileMapObserver learns of the mappings of identified files (FileBacked
// VMAs with an ID: mmap of a view's file, the loader's segments of the
// program and its interpreter) that appear and go.
type FileMapObserver interface {
	// FileMapped: v, a new mapping of the file v.ID as it was made
	// (before any merge with its neighbours), is in the address space.
	FileMapped(v VMA)
	// FileUnmapped: [v.Start, v.End) of a mapping of the file v.ID, whose
	// file offset at v.Start is v.Offset, is gone.
	FileUnmapped(v VMA)
}

// fileEvent is a FileMapped (mapped) or FileUnmapped call to make.
type fileEvent struct {
	v      VMA
	mapped bool
}

// SetFileMapObserver makes o receive the file mappings made and removed
// from now on (nil: none). Mappings already there are not replayed: walk
// VMAs for them.
func (as *AddressSpace) SetFileMapObserver(o FileMapObserver) {
	as.mu.Lock()
	defer as.mu.Unlock()
	as.fileObserver = o
}

// identifiedFile reports whether v maps a file with an identity.
func identifiedFile(v VMA) bool { return v.Flags&FileBacked != 0 && !v.ID.IsZero() }

// noteFileMapped records the mapping of a file VMA, with as.mu held.
func (as *AddressSpace) noteFileMapped(v VMA) {
	if as.fileObserver != nil && identifiedFile(v) {
		as.fileEvents = append(as.fileEvents, fileEvent{v: v, mapped: true})
	}
}

// noteFileUnmapped records, with as.mu held, the parts of file VMAs in
// [start,end), which are about to be unmapped.
func (as *AddressSpace) noteFileUnmapped(start, end uint64) {
	if as.fileObserver == nil {
		return
	}
	for i := as.vmaIndex(start); i < len(as.vmas) && as.vmas[i].Start < end; i++ {
		v := as.vmas[i]
		if !identifiedFile(v) {
			continue
		}
		if v.Start < start {
			v.Offset += start - v.Start
			v.Start = start
		}
		v.End = min(v.End, end)
		as.fileEvents = append(as.fileEvents, fileEvent{v: v})
	}
}

// deliverFileEvents calls the observer for the events collected, with
// as.mu not held.
func (as *AddressSpace) deliverFileEvents() {
	as.mu.Lock()
	evs, o := as.fileEvents, as.fileObserver
	as.fileEvents = nil
	as.mu.Unlock()
	if o == nil {
		return
	}
	for _, ev := range evs {
		if ev.mapped {
			o.FileMapped(ev.v)
		} else {
			o.FileUnmapped(ev.v)
		}
	}
}
