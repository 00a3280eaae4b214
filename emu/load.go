package emu

import (
	"fmt"

	"github.com/probesim/probesim/emu/loader"
	"github.com/probesim/probesim/mmu"
)

// initialStackSize is how much stack Linux maps before the program runs:
// setup_arg_pages expands the stack VMA by 128 KiB (stack_expand) below the
// argument pages, but no further than RLIMIT_STACK allows (initialStack).
// The rest comes from growth on demand.
const initialStackSize = 128 << 10

// initialStack is the size of the stack VMA setup_arg_pages (fs/exec.c)
// leaves for argument pages of argPages bytes under a stack limit:
//
//	rlim_stack = bprm->rlim_stack.rlim_cur & PAGE_MASK;
//	stack_expand = min(rlim_stack, stack_size + stack_expand);
//	stack_base = vma->vm_end - stack_expand;
//
// and never less than the argument pages themselves (expand_stack does not
// shrink). Argument pages beyond the limit are refused by the address space
// (Linux runs them, with a stack that cannot grow; bprm_stack_limits lets
// up to 128 KiB of arguments through whatever the limit).
func initialStack(argPages, limit uint64) uint64 {
	return max(argPages, min(limit&^(loader.PageSize-1), argPages+initialStackSize))
}

// Object is an ELF file to map: its load plan, the name its mappings show
// in /proc/self/maps (the resolved absolute path, as d_path gives it) and
// its identity there (zero when the file is not in the guest's view).
type Object struct {
	Image *loader.Image
	Name  string
	ID    mmu.FileID
}

// Start is where a loaded program begins.
type Start struct {
	PC, SP uint64
	Stack  loader.StackLayout
}

// LoadProgram maps im into as the way load_elf_binary does (segments with
// their ELF permissions, bss, the brk base, the main-thread stack with the
// SysV initial frame) and returns where to start.
//
// interp, when not nil, is the program's interpreter (PT_INTERP): it is
// placed as LoadInterp does and the program starts at its entry, with
// AT_BASE telling it where it is.
func LoadProgram(as *mmu.AddressSpace, prog Object, spec loader.StackSpec, interp *Object) (Start, error) {
	im := prog.Image
	for _, s := range im.Segments {
		if err := mapSegment(as, prog, s); err != nil {
			return Start{}, fmt.Errorf("%s: loading segment at %#x: %w", im.Path, s.Vaddr, err)
		}
	}
	as.SetBrkBase(im.BrkStart)
	pc := im.Entry
	if interp != nil {
		var err error
		if pc, err = LoadInterp(as, *interp, &spec); err != nil {
			return Start{}, err
		}
	}

	img, sp, layout, err := loader.BuildStack(spec)
	if err != nil {
		return Start{}, fmt.Errorf("%s: %w", im.Path, err)
	}
	top := layout.Top
	argPages := (top - sp + loader.PageSize - 1) &^ (loader.PageSize - 1)
	size := initialStack(argPages, as.StackLimit())
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
	return Start{PC: pc, SP: sp, Stack: layout}, nil
}

// LoadInterp places the program interpreter in as as load_elf_interp does:
// one mapping of its whole span where mmap would put it (top-down from the
// mmap base), then each segment at its offset in that range, the holes
// between them unmapped. An ET_EXEC interpreter stays where it was linked.
// spec gets
// AT_BASE, and the returned pc is where the program starts: the
// interpreter's entry.
func LoadInterp(as *mmu.AddressSpace, obj Object, spec *loader.StackSpec) (uint64, error) {
	interp := obj.Image
	if interp.Bias == 0 && interp.Segments[0].PageStart() == 0 {
		span := interp.Span()
		addr, e := as.Mmap(0, span, mmu.ProtNone, mmu.MapPrivate|mmu.MapAnonymous, "")
		if e != 0 {
			return 0, fmt.Errorf("%s: placing the interpreter (%d KiB): %w", interp.Path, span>>10, e)
		}
		if e := as.Munmap(addr, span); e != 0 {
			return 0, fmt.Errorf("%s: placing the interpreter: %w", interp.Path, e)
		}
		interp.Rebase(addr)
	}
	for _, s := range interp.Segments {
		if err := mapSegment(as, obj, s); err != nil {
			return 0, fmt.Errorf("%s: loading segment at %#x: %w", interp.Path, s.Vaddr, err)
		}
	}
	spec.InterpBase = interp.Bias
	return interp.Entry, nil
}

// mapSegment maps one PT_LOAD: the pages backed by the file are named after
// it, the pages past the file's end are anonymous bss, as elf_map and
// set_brk/vm_brk_flags produce them.
func mapSegment(as *mmu.AddressSpace, obj Object, s loader.Segment) error {
	im := obj.Image
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
		if err := as.MapFixedFile(start, fileEnd-start, prot, mmu.FileBacked|mmu.Private, obj.Name, off, obj.ID); err != nil {
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
