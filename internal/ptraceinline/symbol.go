package ptraceinline

import (
	"debug/elf"
	"fmt"
)

// SymbolAddr is the address of function name in the static (ET_EXEC)
// x86-64 executable at path: where its code runs, as the tracer needs it
// (a position-independent program would need its load address too).
func SymbolAddr(path, name string) (uint64, error) {
	f, err := elf.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 || f.Type != elf.ET_EXEC {
		return 0, fmt.Errorf("%s: want a static (ET_EXEC) x86-64 executable, got %v %v", path, f.Type, f.Machine)
	}
	syms, err := f.Symbols()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	for _, s := range syms {
		if s.Name == name && elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Value != 0 {
			return s.Value, nil
		}
	}
	return 0, fmt.Errorf("%s: no function symbol %s", path, name)
}
