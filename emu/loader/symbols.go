package loader

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Symbol is a defined function or data symbol of the file's .symtab, or
// of its .dynsym when it has no .symtab (a stripped shared library or
// program keeps the dynamic symbols, which the dynamic loader needs).
type Symbol struct {
	Name  string
	Value uint64 // relocated address
	Size  uint64 // st_size; 0 when the toolchain did not record one
	// Func is true for STT_FUNC and STT_GNU_IFUNC (the IFUNC's resolver).
	Func bool
	// Global is true for STB_GLOBAL and STB_WEAK, false for STB_LOCAL.
	Global bool
	// IFUNC is true for STT_GNU_IFUNC: Value is the resolver, which the
	// dynamic loader calls once to choose the implementation callers get.
	IFUNC bool
	// Version is a .dynsym symbol's version ("GLIBC_2.2.5"), "" for none;
	// Hidden marks a version that is not the default one (objdump's
	// "(GLIBC_2.2.5)", spelled name@GLIBC_2.2.5 rather than
	// name@@GLIBC_2.2.5): old binaries link to it, new ones cannot.
	Version string
	Hidden  bool
}

// Symbol tables a file's symbols come from (SymbolSource).
const (
	SymtabSection = ".symtab"
	DynsymSection = ".dynsym"
)

// ErrSectionHeaders is in the chain of the error Symbols returns when the
// section headers, or the symbol table they locate, are damaged. Running a
// program never needs them (Linux reads program headers only); resolving
// a probe does.
var ErrSectionHeaders = errors.New("section headers corrupt")

// symbolTable is an Image's symbols, read from src on first use.
type symbolTable struct {
	src    io.ReaderAt
	size   int64
	closer io.Closer // the file Load opened, or nil

	once   sync.Once
	syms   []Symbol
	ix     *symbolIndex
	source string // SymtabSection, DynsymSection, or "" for none
	err    error
}

// Symbols returns the defined code and data symbols of .symtab (else of
// .dynsym), relocated and sorted by address then name (empty for a
// program stripped of both). It reads
// the section headers and the symbol table on the first call; when they are
// damaged it returns an *Error of kind Corrupt whose chain holds
// ErrSectionHeaders, and Lookup and SymbolAt find nothing.
func (im *Image) Symbols() ([]Symbol, error) {
	t := im.table()
	return t.syms, t.err
}

// table reads the symbols once.
func (im *Image) table() *symbolTable {
	t := im.symtab
	if t == nil {
		// A hand-built Image has no file: no symbols.
		return &symbolTable{ix: newSymbolIndex(nil)}
	}
	t.once.Do(func() {
		r := io.NewSectionReader(t.src, 0, t.size)
		t.syms, t.source, t.err = readSymbols(im.Path, r, im.Arch, im.Bias)
		t.ix = newSymbolIndex(t.syms)
	})
	return t
}

// Close releases the file Load opened for the symbols (a no-op for an
// Image from Parse). Symbols not read by then are not read afterwards:
// Symbols returns an error.
func (im *Image) Close() error {
	t := im.symtab
	if t == nil || t.closer == nil {
		return nil
	}
	t.once.Do(func() {
		t.err = newError(im.Path, Unreadable, "symbols: the image was closed before they were read")
		t.ix = newSymbolIndex(nil)
	})
	err := t.closer.Close()
	t.closer = nil
	return err
}

// sectionError is the error for damaged section headers.
func sectionError(path, format string, args ...any) *Error {
	return &Error{Path: path, Kind: Corrupt, Msg: ErrSectionHeaders.Error() + ": " + fmt.Sprintf(format, args...), Err: ErrSectionHeaders}
}

// SymbolSource is the table Symbols come from: SymtabSection,
// DynsymSection, or "" when the file has neither (or they are damaged).
func (im *Image) SymbolSource() string { return im.table().source }

// readSymbols returns the defined symbols of .symtab, else of .dynsym,
// that name an address: STT_NOTYPE, STT_OBJECT, STT_FUNC and STT_GNU_IFUNC
// symbols of a real section, and the table they came from. Section, file
// and TLS symbols (whose values are offsets, not addresses) and
// SHN_ABS/SHN_COMMON symbols are left out. perf probe looks the same way
// (symsrc__init prefers .symtab and falls back to .dynsym).
func readSymbols(path string, r io.ReaderAt, arch Arch, bias uint64) (syms []Symbol, source string, err error) {
	// debug/elf is the standard library's parser; guard against a panic on
	// hostile section headers so Parse keeps its never-panics promise.
	defer func() {
		if r := recover(); r != nil {
			syms, source, err = nil, "", sectionError(path, "%v", r)
		}
	}()
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, "", sectionError(path, "%s", oneLine(err))
	}
	source, what := SymtabSection, "symbol table"
	raw, err := f.Symbols()
	if errors.Is(err, elf.ErrNoSymbols) {
		source, what = DynsymSection, "dynamic symbol table"
		raw, err = f.DynamicSymbols()
	}
	if errors.Is(err, elf.ErrNoSymbols) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", sectionError(path, "%s: %s", what, oneLine(err))
	}
	mask := arch.wordMask()
	for _, s := range raw {
		typ := elf.ST_TYPE(s.Info)
		switch typ {
		case elf.STT_NOTYPE, elf.STT_OBJECT, elf.STT_FUNC, elf.STT_GNU_IFUNC:
		default:
			continue
		}
		if s.Name == "" || s.Section == elf.SHN_UNDEF || s.Section == elf.SHN_ABS || s.Section == elf.SHN_COMMON {
			continue
		}
		sym := Symbol{
			Name:   s.Name,
			Value:  (s.Value + bias) & mask,
			Size:   s.Size,
			Func:   typ == elf.STT_FUNC || typ == elf.STT_GNU_IFUNC,
			Global: elf.ST_BIND(s.Info) != elf.STB_LOCAL,
			IFUNC:  typ == elf.STT_GNU_IFUNC,
		}
		if s.HasVersion && s.Version != "" {
			sym.Version, sym.Hidden = s.Version, s.VersionIndex.IsHidden()
		}
		syms = append(syms, sym)
	}
	if len(syms) == 0 && source == DynsymSection {
		source = ""
	}
	slices.SortFunc(syms, compareSymbols)
	return slices.Compact(syms), source, nil
}

// compareSymbols orders by address, then name, then the remaining fields so
// the order is total and duplicates are adjacent.
func compareSymbols(a, b Symbol) int {
	switch {
	case a.Value != b.Value:
		return cmpU64(a.Value, b.Value)
	case a.Name != b.Name:
		return strings.Compare(a.Name, b.Name)
	case a.Size != b.Size:
		return cmpU64(a.Size, b.Size)
	case a.Func != b.Func:
		return cmpBool(a.Func, b.Func)
	case a.Global != b.Global:
		return cmpBool(a.Global, b.Global)
	case a.IFUNC != b.IFUNC:
		return cmpBool(a.IFUNC, b.IFUNC)
	case a.Version != b.Version:
		return strings.Compare(a.Version, b.Version)
	default:
		return cmpBool(a.Hidden, b.Hidden)
	}
}

func cmpU64(a, b uint64) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

func cmpBool(a, b bool) int {
	if a == b {
		return 0
	}
	if !a {
		return -1
	}
	return 1
}

// oneLine keeps debug/elf's message on one line and names truncation
// plainly instead of a bare "EOF".
func oneLine(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "truncated (the file ends inside them)"
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

// symbolIndex is immutable once built, so lookups are safe from any number
// of goroutines.
type symbolIndex struct {
	byName  map[string]int // index into Image.Symbols of the preferred symbol
	maxSize uint64         // largest Size, bounds SymbolAt's backward scan
}

func newSymbolIndex(syms []Symbol) *symbolIndex {
	ix := &symbolIndex{byName: make(map[string]int, len(syms))}
	for i, s := range syms {
		ix.maxSize = max(ix.maxSize, s.Size)
		// Several local symbols may share a name (static functions of
		// different files), and several versions of one dynamic symbol
		// (memcpy@GLIBC_2.2.5, memcpy@@GLIBC_2.14): a global one wins,
		// then the default version, else the lowest address.
		if j, ok := ix.byName[s.Name]; !ok || preferredName(s, syms[j]) {
			ix.byName[s.Name] = i
		}
	}
	return ix
}

// preferredName reports whether a, later in address order, should be what
// its name finds instead of b.
func preferredName(a, b Symbol) bool {
	if a.Global != b.Global {
		return a.Global
	}
	if a.Hidden != b.Hidden {
		return !a.Hidden
	}
	// The same function in a debug file's .symtab and in the .dynsym:
	// the dynamic symbol, which has its version.
	return a.Value == b.Value && a.Version != "" && b.Version == ""
}

// Lookup finds a symbol by name. When several share the name, a global one
// is preferred, then the default version, then the one at the lowest
// address. NAME@VERSION and NAME@@VERSION (the default version) name a
// version of a dynamic symbol, as objdump -T and perf spell them.
func (im *Image) Lookup(name string) (Symbol, bool) {
	t := im.table()
	return lookupSymbol(t.syms, t.ix, name)
}

func lookupSymbol(syms []Symbol, ix *symbolIndex, name string) (Symbol, bool) {
	if i, ok := ix.byName[name]; ok {
		return syms[i], true
	}
	base, version, versioned := strings.Cut(name, "@")
	if !versioned || base == "" {
		return Symbol{}, false
	}
	wantDefault := strings.HasPrefix(version, "@")
	version = strings.TrimPrefix(version, "@")
	for _, s := range syms {
		if s.Name == base && s.Version == version && (!wantDefault || !s.Hidden) {
			return s, true
		}
	}
	return Symbol{}, false
}

// SymbolAt finds the symbol containing addr and returns it with addr's
// offset from its start. A symbol contains addr when addr is in
// [Value, Value+Size), or equals Value for a symbol without a size. Among
// several candidates the one starting closest below addr wins, then a
// function over data, a global over a local, and finally the first name in
// byte order.
func (im *Image) SymbolAt(addr uint64) (Symbol, uint64, bool) {
	t := im.table()
	return symbolAt(t.syms, t.ix, addr)
}

func symbolAt(syms []Symbol, ix *symbolIndex, addr uint64) (Symbol, uint64, bool) {
	// First symbol with Value > addr; candidates are below it.
	i := sort.Search(len(syms), func(i int) bool { return syms[i].Value > addr })
	best := -1
	for j := i - 1; j >= 0; j-- {
		s := syms[j]
		off := addr - s.Value
		if best >= 0 && s.Value != syms[best].Value {
			break // a closer start already matched
		}
		if off != 0 && off >= ix.maxSize {
			break // no earlier symbol can be large enough to reach addr
		}
		if (off == 0 || off < s.Size) && (best < 0 || betterSymbol(s, syms[best])) {
			best = j
		}
	}
	if best < 0 {
		return Symbol{}, 0, false
	}
	return syms[best], addr - syms[best].Value, true
}

// betterSymbol ranks two candidates starting at the same address.
func betterSymbol(a, b Symbol) bool {
	if a.Func != b.Func {
		return a.Func
	}
	if a.Global != b.Global {
		return a.Global
	}
	if a.Hidden != b.Hidden {
		return !a.Hidden
	}
	return a.Name < b.Name
}

// String formats a symbol for reports.
func (s Symbol) String() string {
	return fmt.Sprintf("%s@0x%x+0x%x", s.Name, s.Value, s.Size)
}
