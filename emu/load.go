package emu

import (
	"fmt"

	"github.com/probesim/probesim/emu/loader"
	"github.com/probesim/probesim/mmu"
)

// initialStackSize is how much stack Linux maps before the program runs:
// setup_arg_pages expands the stack VMA to 128 KiB (stack_expand) below the
// argument pages. The rest comes from growth on demand.
const initialStackSize = 128 << 10

// Start is where a loaded program begins.
type Start struct {
	PC, SP uint64
	Stack  loader.StackLayout
}

// LoadProgram maps im into as the way load_elf_binary does (segments with
// their ELF permissions, bss, the brk base, the main-thread stack with the
// SysV initial frame) and returns where to start. exe names the file-backed
// mappings, as the absolute path does in /proc/self/maps.
func LoadProgram(as *mmu.AddressSpace, im *loader.Image, spec loader.StackSpec, exe string) (Start, error) {
	for _, s := range im.Segments {
		if err := mapSegment(as, im, s, exe); err != nil {
			return Start{}, fmt.Errorf("%s: loading segment at %#x: %w", im.Path, s.Vaddr, err)
		}
	}
	as.SetBrkBase(im.BrkStart)

	img, sp, layout, err := loader.BuildStack(spec)
	if err != nil {
		return Start{}, fmt.Errorf("%s: %w", im.Path, err)
	}
	top := layout.Top
	size := (top - sp + initialStackSize + loader.PageSize - 1) &^ (loader.PageSize - 1)
	if err := as.SetupStack(top, size); err != nil {
		return Start{}, fmt.Errorf("%s: setting up the stack: %w", im.Path, err)
	}
	if im.ExecStack {
		// PT_GNU_STACK with PF_X (or an i386 program without it): the stack
		// is executable, as VM_STACK_DEFAULT_FLAGS|VM_EXEC makes it.
		if e := as.Mprotect(top-size, size, mmu.ProtRead|mmu.ProtWrite|mmu.ProtExec); e != 0 {
			return Start{}, fmt.Errorf("%s: making the stack executable: %w", im.Path, e)
		}
	}
	if err := as.WriteForce(sp, img); err != nil {
		return Start{}, fmt.Errorf("%s: writing the initial stack: %w", im.Path, err)
	}
	return Start{PC: im.Entry, SP: sp, Stack: layout}, nil
}

// mapSegment maps one PT_LOAD: the pages backed by the file are named after
// it, the pages past the file's end are anonymous bss, as elf_map and
// set_brk/vm_brk_flags produce them.
func mapSegment(as *mmu.AddressSpace, im *loader.Image, s loader.Segment, exe string) error {
	prot := mmu.Prot(0)
	if s.Read {
		prot |= mmu.ProtRead
	}
	if s.Write {
		prot |= mmu.ProtWrite
	}
	if s.Exec || (im.ReadImpliesExec && s.Read) {
		prot |= mmu.ProtExec
	}
	start := s.PageStart()
	fileEnd := (s.Vaddr + s.Filesz + loader.PageSize - 1) &^ (loader.PageSize - 1)
	end := s.PageEnd()
	if s.Filesz > 0 {
		off := s.FileOff - (s.Vaddr - start)
		if err := as.MapFixed(start, fileEnd-start, prot, mmu.FileBacked|mmu.Private, exe, off); err != nil {
			return err
		}
	} else {
		fileEnd = start
	}
	if end > fileEnd {
		if err := as.MapFixed(fileEnd, end-fileEnd, prot, mmu.Anonymous|mmu.Private, "", 0); err != nil {
			return err
		}
	}
	if s.Filesz > 0 {
		return as.WriteForce(s.Vaddr, s.Data)
	}
	return nil
}

// InitRegisters sets up the first Run: user mode, pc, sp (see boot.go).
func (c *Core) InitRegisters(st Start) error { return c.enterUserMode(st) }
