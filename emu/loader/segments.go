package loader

import (
	"debug/elf"
	"math/bits"
	"strconv"
)

// planSegments validates the PT_LOAD, PT_PHDR, PT_TLS and PT_GNU_STACK
// headers and fills the load plan of im (Bias, Entry, Segments, BrkStart,
// PhdrAddr, TLS, stack flags). It checks that the file ranges lie in the
// file but reads none of them: readSegments does, once the plan is whole.
func planSegments(f *fileReader, h header, phdrs []prog, im *Image, asInterp bool) error {
	path := f.path
	arch := h.arch
	mask := arch.wordMask()

	var loads []int // indexes of PT_LOAD headers
	for i, p := range phdrs {
		if p.typ == elf.PT_LOAD {
			loads = append(loads, i)
		}
	}
	if len(loads) == 0 {
		return corrupt(path, "no PT_LOAD segment")
	}

	// fs/binfmt_elf.c: for an ET_DYN the bias is chosen once, from the first
	// PT_LOAD: load_bias = ELF_PAGESTART(base - vaddr).
	// An interpreter is planned at bias 0 and placed later (Rebase), where
	// the address space's mmap placement puts it (load_elf_interp).
	if h.typ == elf.ET_DYN && !asInterp {
		im.Bias = pageDown((arch.DynBase() - phdrs[loads[0]].vaddr) & mask)
	}
	reloc := func(v uint64) uint64 { return (v + im.Bias) & mask }

	var total, prevPageEnd uint64
	prevIdx := -1
	for _, i := range loads {
		p := phdrs[i]
		what := "PT_LOAD[" + strconv.Itoa(i) + "]"
		if p.filesz > p.memsz {
			return corrupt(path, "%s p_filesz 0x%x > p_memsz 0x%x", what, p.filesz, p.memsz)
		}
		if err := f.check(what, p.off, p.filesz); err != nil {
			return err
		}
		if p.memsz == 0 {
			// Maps nothing; the kernel's elf_load skips it the same way.
			continue
		}
		// elf_map maps the file at ELF_PAGESTART(offset) to
		// ELF_PAGESTART(vaddr): the two must agree within a page or mmap
		// fails with EINVAL.
		if p.vaddr%PageSize != p.off%PageSize {
			return corrupt(path, "%s p_vaddr 0x%x and p_offset 0x%x differ modulo the page size", what, p.vaddr, p.off)
		}
		v := reloc(p.vaddr)
		end, carry := bits.Add64(v, p.memsz, 0)
		if carry != 0 || end > arch.TaskSize() {
			return corrupt(path, "%s [0x%x, +0x%x) is outside the %v user address space (which ends at 0x%x)", what, v, p.memsz, arch, arch.TaskSize())
		}
		// Deviation: Linux lets a privileged process map below
		// vm.mmap_min_addr; probesim never does, so NULL stays unmapped.
		if v < MinAddr && !asInterp {
			return corrupt(path, "%s at 0x%x is below the lowest mappable address 0x%x (vm.mmap_min_addr)", what, v, MinAddr)
		}
		pageEnd, _ := pageUp(end) // cannot overflow: end <= TaskSize, page aligned
		if prevIdx >= 0 {
			prev := phdrs[prevIdx]
			if v < reloc(prev.vaddr) {
				return corrupt(path, "PT_LOAD segments are not sorted by address (%s at 0x%x follows PT_LOAD[%d] at 0x%x)", what, v, prevIdx, reloc(prev.vaddr))
			}
			// Deviation: Linux maps overlapping segments one over the other
			// (MAP_FIXED) and the later one wins; probesim refuses them so
			// every page has exactly one owner and one permission.
			if pageDown(v) < prevPageEnd {
				return corrupt(path, "%s [0x%x, 0x%x) overlaps the pages of PT_LOAD[%d] (which end at 0x%x)", what, v, end, prevIdx, prevPageEnd)
			}
		}
		total += pageEnd - pageDown(v)
		if total > MaxMemory {
			return corrupt(path, "PT_LOAD segments need more than %d MiB of memory", MaxMemory>>20)
		}
		im.Segments = append(im.Segments, Segment{
			Vaddr:   v,
			Memsz:   p.memsz,
			Filesz:  p.filesz,
			FileOff: p.off,
			Align:   p.align,
			Read:    p.flags&elf.PF_R != 0,
			Write:   p.flags&elf.PF_W != 0,
			Exec:    p.flags&elf.PF_X != 0,
		})
		prevIdx, prevPageEnd = i, pageEnd
		im.BrkStart = pageEnd
	}
	if len(im.Segments) == 0 {
		return corrupt(path, "every PT_LOAD segment is empty")
	}

	im.Entry = reloc(h.entry)
	if !inExecSegment(im.Segments, im.Entry) {
		return corrupt(path, "entry point 0x%x is not inside an executable PT_LOAD segment", im.Entry)
	}

	if err := findPhdr(path, h, phdrs, im); err != nil {
		return err
	}

	for i, p := range phdrs {
		switch p.typ {
		case elf.PT_TLS:
			if err := planTLS(f, i, p, im); err != nil {
				return err
			}
		case elf.PT_GNU_STACK:
			// load_elf_binary keeps the last PT_GNU_STACK it meets.
			im.HasGNUStack = true
			im.ExecStack = p.flags&elf.PF_X != 0
		}
	}
	if !im.HasGNUStack {
		// elf_read_implies_exec: an ia32 program without PT_GNU_STACK gets
		// READ_IMPLIES_EXEC (and so an executable stack); since Linux 5.8 a
		// 64-bit one gets neither.
		im.ReadImpliesExec = arch == ArchI386
		im.ExecStack = arch == ArchI386
	}
	return nil
}

func inExecSegment(segs []Segment, addr uint64) bool {
	for _, s := range segs {
		if s.Exec && s.Contains(addr) {
			return true
		}
	}
	return false
}

// findPhdr sets im.PhdrAddr. PT_PHDR wins when present (what glibc's and
// musl's startup code expect); otherwise, as load_elf_binary has done since
// Linux 5.18, the address comes from the PT_LOAD whose file range holds
// e_phoff (the kernel keeps the last such segment; so does this).
func findPhdr(path string, h header, phdrs []prog, im *Image) error {
	size := uint64(h.phnum) * uint64(h.phentsize)
	for i, p := range phdrs {
		if p.typ != elf.PT_PHDR {
			continue
		}
		v := (p.vaddr + im.Bias) & im.Arch.wordMask()
		for _, s := range im.Segments {
			if s.Contains(v) && size <= s.End()-v {
				im.PhdrAddr = v
				return nil
			}
		}
		return corrupt(path, "PT_PHDR[%d] at 0x%x is not inside a PT_LOAD segment", i, v)
	}
	for _, p := range phdrs {
		if p.typ == elf.PT_LOAD && p.memsz > 0 && p.off <= h.phoff && h.phoff-p.off < p.filesz {
			im.PhdrAddr = (h.phoff - p.off + p.vaddr + im.Bias) & im.Arch.wordMask()
		}
	}
	return nil
}

func planTLS(f *fileReader, i int, p prog, im *Image) error {
	path := f.path
	what := "PT_TLS[" + strconv.Itoa(i) + "]"
	if p.filesz > p.memsz {
		return corrupt(path, "%s p_filesz 0x%x > p_memsz 0x%x", what, p.filesz, p.memsz)
	}
	if p.memsz > MaxMemory {
		return corrupt(path, "%s p_memsz 0x%x is larger than %d MiB", what, p.memsz, MaxMemory>>20)
	}
	if p.align > 1 && p.align&(p.align-1) != 0 {
		return corrupt(path, "%s p_align 0x%x is not a power of two", what, p.align)
	}
	if err := f.check(what, p.off, p.filesz); err != nil {
		return err
	}
	im.TLS = &Segment{
		Vaddr:   (p.vaddr + im.Bias) & im.Arch.wordMask(),
		Memsz:   p.memsz,
		Filesz:  p.filesz,
		FileOff: p.off,
		Align:   p.align,
		Read:    p.flags&elf.PF_R != 0,
		Write:   p.flags&elf.PF_W != 0,
		Exec:    p.flags&elf.PF_X != 0,
	}
	return nil
}
