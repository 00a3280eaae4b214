package mcacheck

import (
	"debug/elf"
	"fmt"
)

// function is the code of one function symbol of an ELF file.
type function struct {
	addr uint64
	code []byte
	mode int
}

// readFunction returns the bytes of the function symbol sym of the ELF file at path, and the
// mode its class implies (ELFCLASS32: 32, ELFCLASS64: 64).
func readFunction(path, sym string) (function, error) {
	f, err := elf.Open(path)
	if err != nil {
		return function{}, err
	}
	defer f.Close()
	mode := 64
	if f.Class == elf.ELFCLASS32 {
		mode = 32
	}
	if f.Machine != elf.EM_X86_64 && f.Machine != elf.EM_386 {
		return function{}, fmt.Errorf("%s: not an x86 ELF file (%v)", path, f.Machine)
	}
	syms, err := f.Symbols()
	if err != nil {
		return function{}, fmt.Errorf("%s: %v", path, err)
	}
	for _, s := range syms {
		if s.Name != sym || elf.ST_TYPE(s.Info) == elf.STT_OBJECT || s.Section == elf.SHN_UNDEF {
			continue
		}
		if int(s.Section) >= len(f.Sections) {
			continue
		}
		sec := f.Sections[s.Section]
		size := s.Size
		if size == 0 { // assembly labels such as _start carry no size: take the rest of the section
			size = sec.Addr + sec.Size - s.Value
		}
		if s.Value < sec.Addr || s.Value+size > sec.Addr+sec.Size {
			return function{}, fmt.Errorf("%s: symbol %s lies outside its section %s", path, sym, sec.Name)
		}
		code := make([]byte, size)
		if _, err := sec.ReadAt(code, int64(s.Value-sec.Addr)); err != nil {
			return function{}, fmt.Errorf("%s: reading %s: %v", path, sym, err)
		}
		return function{addr: s.Value, code: code, mode: mode}, nil
	}
	return function{}, fmt.Errorf("%s: no function symbol %q", path, sym)
}
