package loader

// Segment is one part of the load plan: a PT_LOAD (or the PT_TLS template).
// Addresses are already relocated by Image.Bias.
type Segment struct {
	Vaddr   uint64 // first byte in guest memory (not page aligned in general)
	Memsz   uint64 // bytes of guest memory; [Vaddr+Filesz, Vaddr+Memsz) is zero (bss)
	Filesz  uint64 // bytes copied from the file
	FileOff uint64 // p_offset, for reports
	Align   uint64 // p_align as in the file
	// Data holds exactly Filesz bytes: a private copy of the file range
	// [FileOff, FileOff+Filesz), so the Image does not alias Parse's input.
	Data              []byte
	Read, Write, Exec bool // PF_R, PF_W, PF_X as in the file
}

// End is the first address after the segment's memory.
func (s Segment) End() uint64 { return s.Vaddr + s.Memsz }

// PageStart is the first page the segment touches.
func (s Segment) PageStart() uint64 { return pageDown(s.Vaddr) }

// PageEnd is the end of the last page the segment touches. Parse guarantees
// it does not overflow for a segment of an accepted Image.
func (s Segment) PageEnd() uint64 {
	e, _ := pageUp(s.End())
	return e
}

// Contains reports whether addr lies in [Vaddr, Vaddr+Memsz).
func (s Segment) Contains(addr uint64) bool {
	return addr >= s.Vaddr && addr-s.Vaddr < s.Memsz
}

// Image is a validated executable (or interpreter) and the pure plan to load it: what
// to map where with which permissions. It never touches guest memory.
type Image struct {
	Path string
	Arch Arch
	// StaticPIE is true for an ET_DYN without PT_INTERP. For every ET_DYN
	// program Bias is Arch.DynBase() minus the first PT_LOAD's page; for
	// ET_EXEC, 0; for an interpreter, where Rebase put it.
	StaticPIE bool
	// Interp is the program interpreter named by PT_INTERP (the dynamic
	// loader, e.g. /lib64/ld-linux-x86-64.so.2), or "" for a static program.
	Interp string
	// Bias was added (modulo 2^32 on i386, 2^64 on x86-64) to every address
	// of the file: segments, entry, PT_PHDR, symbols.
	Bias  uint64
	Entry uint64 // relocated e_entry; inside an Exec segment
	// PhdrAddr is the guest address of the program header table (AT_PHDR):
	// PT_PHDR's address when present, else derived from the PT_LOAD whose
	// file range holds e_phoff; 0 if the table is not loaded at all.
	PhdrAddr uint64
	Phent    uint64 // e_phentsize (AT_PHENT): 32 on i386, 56 on x86-64
	Phnum    uint64 // e_phnum (AT_PHNUM)
	// Segments are the PT_LOADs with Memsz > 0, in address order, their page
	// ranges [PageStart, PageEnd) disjoint.
	Segments []Segment
	// BrkStart is the page-aligned end of the highest segment: where the
	// program break starts (mm->start_brk without randomisation).
	BrkStart uint64
	// TLS is the PT_TLS template (Data = .tdata, Memsz includes .tbss) or nil.
	TLS *Segment
	// HasGNUStack tells whether the file has a PT_GNU_STACK header.
	HasGNUStack bool
	// ExecStack is whether Linux would make the stack executable:
	// PT_GNU_STACK's PF_X when present; without it, yes for i386 and no for
	// x86-64 (arch/x86/include/asm/elf.h, elf_read_implies_exec table).
	ExecStack bool
	// ReadImpliesExec is set for an i386 program without PT_GNU_STACK: Linux
	// then gives it the READ_IMPLIES_EXEC personality, so every readable
	// mapping (including these Segments) is also executable.
	ReadImpliesExec bool

	// symtab reads the symbols on first use (Symbols); nil for a
	// hand-built Image, which has none.
	symtab *symbolTable
}

// SegmentAt returns the segment containing addr.
func (im *Image) SegmentAt(addr uint64) (Segment, bool) {
	for _, s := range im.Segments {
		if s.Contains(addr) {
			return s, true
		}
	}
	return Segment{}, false
}
