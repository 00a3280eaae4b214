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

// Symbol is a defined function or data symbol of the program's .symtab.
type Symbol struct {
	Name  string
	Value uint64 // relocated address
	Size  uint64 // st_size; 0 when the toolchain did not record one
	// Func is true for STT_FUNC and STT_GNU_IFUNC (the IFUNC's resolver).
	Func bool
	// Global is true for STB_GLOBAL and STB_WEAK, false for STB_LOCAL.
	Global bool
}

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

	once sync.Once
	syms []Symbol
	ix   *symbolIndex
	err  error
}

// Symbols returns the defined code and data symbols of .symtab, relocated
// and sorted by address then name (empty for a stripped program). It reads
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
		t.syms, t.err = readSymbols(im.Path, r, im.Arch, im.Bias)
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

// readSymbols returns the defined symbols of .symtab that name an address:
// STT_NOTYPE, STT_OBJECT, STT_FUNC and STT_GNU_IFUNC symbols of a real
// section. Section, file and TLS symbols (whose values are offsets, not
// addresses) and SHN_ABS/SHN_COMMON symbols are left out.
func readSymbols(path string, r io.ReaderAt, arch Arch, bias uint64) (syms []Symbol, err error) {
	// debug/elf is the standard library's parser; guard against a panic on
	// hostile section headers so Parse keeps its never-panics promise.
	defer func() {
		if r := recover(); r != nil {
			syms, err = nil, sectionError(path, "%v", r)
		}
	}()
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, sectionError(path, "%s", oneLine(err))
	}
	raw, err := f.Symbols()
	if errors.Is(err, elf.ErrNoSymbols) {
		return nil, nil
	}
	if err != nil {
		return nil, sectionError(path, "symbol table: %s", oneLine(err))
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
		syms = append(syms, Symbol{
			Name:   s.Name,
			Value:  (s.Value + bias) & mask,
			Size:   s.Size,
			Func:   typ == elf.STT_FUNC || typ == elf.STT_GNU_IFUNC,
			Global: elf.ST_BIND(s.Info) != elf.STB_LOCAL,
		})
	}
	slices.SortFunc(syms, compareSymbols)
	return slices.Compact(syms), nil
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
	default:
		return cmpBool(a.Global, b.Global)
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
		// different files); a global one wins, else the lowest address.
		if j, ok := ix.byName[s.Name]; !ok || (s.Global && !syms[j].Global) {
			ix.byName[s.Name] = i
		}
	}
	return ix
}

// Lookup finds a symbol by name. When several share the name, a global one
// is preferred, then the one at the lowest address.
func (im *Image) Lookup(name string) (Symbol, bool) {
	t := im.table()
	i, ok := t.ix.byName[name]
	if !ok {
		return Symbol{}, false
	}
	return t.syms[i], true
}

// SymbolAt finds the symbol containing addr and returns it with addr's
// offset from its start. A symbol contains addr when addr is in
// [Value, Value+Size), or equals Value for a symbol without a size. Among
// several candidates the one starting closest below addr wins, then a
// function over data, a global over a local, and finally the first name in
// byte order.
func (im *Image) SymbolAt(addr uint64) (Symbol, uint64, bool) {
	t := im.table()
	ix, syms := t.ix, t.syms
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
	return a.Name < b.Name
}

// String formats a symbol for reports.
func (s Symbol) String() string {
	return fmt.Sprintf("%s@0x%x+0x%x", s.Name, s.Value, s.Size)
}
