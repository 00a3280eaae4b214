package perfprobe

import (
	"debug/elf"
	"errors"
	"fmt"
	"slices"
)

// Place is the instruction of an ELF file a probe goes on: the function
// symbol, an offset into it, and where that byte is in memory (Vaddr, as
// linked) and in the file (FileOffset, what uprobe_events takes).
type Place struct {
	File       string
	Symbol     string
	Offset     uint64 // from the symbol's start
	Vaddr      uint64
	FileOffset uint64
	Size       uint64 // the symbol's st_size
	Bits       int    // 32 or 64: the file's class, the decoding mode
}

// Locate finds function sym of the ELF file path, as perf probe -x does:
// from .symtab, else from .dynsym (a stripped shared library such as
// Debian's libc.so.6 has only that). An IFUNC symbol is refused: its
// address is the resolver's, not the function the program calls. off must
// fall inside the symbol when its size is known.
func Locate(path, sym string, off uint64) (Place, error) {
	f, err := elf.Open(path)
	if err != nil {
		return Place{}, err
	}
	defer f.Close()
	p := Place{File: path, Symbol: sym, Offset: off, Bits: 64}
	if f.Class == elf.ELFCLASS32 {
		p.Bits = 32
	}
	s, err := findFunc(f, sym)
	if err != nil {
		return Place{}, fmt.Errorf("%s: %w", path, err)
	}
	if s.Size != 0 && off >= s.Size {
		return Place{}, fmt.Errorf("%s: %s+%#x is past the function's end (%d bytes)", path, sym, off, s.Size)
	}
	p.Vaddr, p.Size = s.Value+off, s.Size
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_LOAD && p.Vaddr >= prog.Vaddr && p.Vaddr-prog.Vaddr < prog.Filesz {
			p.FileOffset = p.Vaddr - prog.Vaddr + prog.Off
			return p, nil
		}
	}
	return Place{}, fmt.Errorf("%s: %s+%#x at %#x is in no loaded segment", path, sym, off, p.Vaddr)
}

// findFunc is the defined function symbol sym: from .symtab if the file
// has one that names it, else from .dynsym. Several symbols of that name
// at different addresses (versioned definitions) are refused as ambiguous.
func findFunc(f *elf.File, sym string) (elf.Symbol, error) {
	stripped := true
	for _, table := range []func() ([]elf.Symbol, error){f.Symbols, f.DynamicSymbols} {
		syms, err := table()
		if errors.Is(err, elf.ErrNoSymbols) {
			continue
		}
		if err != nil {
			return elf.Symbol{}, err
		}
		stripped = false
		var found []elf.Symbol
		for _, s := range syms {
			if s.Name != sym || s.Section == elf.SHN_UNDEF || s.Value == 0 {
				continue
			}
			switch elf.ST_TYPE(s.Info) {
			case elf.STT_FUNC:
				if !slices.ContainsFunc(found, func(o elf.Symbol) bool { return o.Value == s.Value }) {
					found = append(found, s) // aliases (malloc, __libc_malloc) are one function
				}
			case elf.STT_GNU_IFUNC:
				return elf.Symbol{}, fmt.Errorf("%s is an IFUNC (its address is the resolver's): probe the implementation it selects", sym)
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		default:
			return elf.Symbol{}, fmt.Errorf("%s names %d functions at different addresses", sym, len(found))
		}
	}
	if stripped {
		return elf.Symbol{}, fmt.Errorf("no symbol table (stripped): cannot find %s", sym)
	}
	return elf.Symbol{}, fmt.Errorf("no function symbol %s", sym)
}
