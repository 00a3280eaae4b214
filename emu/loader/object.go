package loader

import (
	"debug/elf"
	"encoding/hex"
	"io"
	"slices"
	"sort"
)

// Object is any ELF file a process may map, as a probe on it needs it: a
// program (ET_EXEC, static-pie or dynamic) or a shared library (ET_DYN,
// PT_INTERP or not: libc.so.6 has one so that it runs as a program), with
// its PT_LOAD segments at their link-time addresses and its symbols.
// Unlike Image it is not a load plan: nothing here is relocated, and
// nothing is refused that a mapping of the file could still execute.
//
// A probe on a file is placed by file offset, as Linux's uprobe_register
// takes an inode and an offset (uprobe_events' PATH:0xOFFSET). A symbol's
// link-time address goes to a file offset through the PT_LOAD that holds
// it, as perf probe converts it (vaddr - p_vaddr + p_offset).
type Object struct {
	Path string
	Arch Arch
	Type elf.Type // ET_EXEC or ET_DYN
	// Interp: the file has a PT_INTERP (a dynamic program, or a library
	// that can also run, like libc.so.6).
	Interp bool
	// Loads are the PT_LOAD headers with p_memsz > 0, in file order.
	Loads []LoadSegment
	// Size is the file's size in bytes.
	Size int64

	r         io.ReaderAt
	syms      []Symbol
	ix        *symbolIndex
	source    string
	buildID   string
	debugFile string
}

// LoadSegment is one PT_LOAD header of an Object, unrelocated.
type LoadSegment struct {
	Vaddr, Memsz      uint64 // p_vaddr, p_memsz
	Offset, Filesz    uint64 // p_offset, p_filesz
	Read, Write, Exec bool   // PF_R, PF_W, PF_X
}

// ContainsVaddr reports whether vaddr is in the file-backed bytes of l.
func (l LoadSegment) ContainsVaddr(vaddr uint64) bool {
	return vaddr >= l.Vaddr && vaddr-l.Vaddr < l.Filesz
}

// ContainsOffset reports whether the file offset off is in l's file range.
func (l LoadSegment) ContainsOffset(off uint64) bool {
	return off >= l.Offset && off-l.Offset < l.Filesz
}

// ReadObject reads the ELF and program headers and the symbols of the
// file r of size bytes, named path in errors. Errors are *Error: NotELF
// (no ELF magic, or a relocatable object or core dump), Unsupported (not
// x86), Corrupt (damaged headers; damaged section headers have
// ErrSectionHeaders in their chain).
func ReadObject(path string, r io.ReaderAt, size int64) (o *Object, err error) {
	var magic [4]byte
	if n, _ := r.ReadAt(magic[:], 0); n < 4 || string(magic[:]) != elf.ELFMAG {
		return nil, newError(path, NotELF, "not an ELF file")
	}
	defer func() {
		if p := recover(); p != nil {
			o, err = nil, corrupt(path, "%v", p)
		}
	}()
	f, err := elf.NewFile(io.NewSectionReader(r, 0, size))
	if err != nil {
		return nil, corrupt(path, "%s", oneLine(err))
	}
	o = &Object{Path: path, Type: f.Type, Size: size, r: r}
	switch {
	case f.Machine == elf.EM_X86_64 && f.Class == elf.ELFCLASS64:
		o.Arch = ArchX8664
	case f.Machine == elf.EM_386 && f.Class == elf.ELFCLASS32:
		o.Arch = ArchI386
	default:
		return nil, newError(path, Unsupported, "unsupported ELF file: %v %v (want x86-64 or i386)", f.Class, f.Machine)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return nil, newError(path, NotELF, "not a program or shared library: ELF type %v", f.Type)
	}
	for _, p := range f.Progs {
		switch {
		case p.Type == elf.PT_INTERP:
			o.Interp = true
		case p.Type == elf.PT_LOAD && p.Memsz > 0:
			if p.Filesz > p.Memsz || p.Off > uint64(size) || p.Filesz > uint64(size)-p.Off {
				return nil, corrupt(path, "PT_LOAD at offset 0x%x (0x%x bytes) is not inside the file", p.Off, p.Filesz)
			}
			o.Loads = append(o.Loads, LoadSegment{Vaddr: p.Vaddr, Memsz: p.Memsz, Offset: p.Off, Filesz: p.Filesz,
				Read: p.Flags&elf.PF_R != 0, Write: p.Flags&elf.PF_W != 0, Exec: p.Flags&elf.PF_X != 0})
		}
	}
	if len(o.Loads) == 0 {
		return nil, corrupt(path, "no PT_LOAD segment")
	}
	o.buildID = readBuildID(f, r, size)
	o.syms, o.source, err = readSymbols(path, io.NewSectionReader(r, 0, size), o.Arch, 0)
	if err != nil {
		return nil, err
	}
	o.ix = newSymbolIndex(o.syms)
	return o, nil
}

// Symbols are the file's defined symbols (.symtab, else .dynsym) at their
// link-time addresses, sorted by address then name; empty when stripped
// of both.
func (o *Object) Symbols() []Symbol { return o.syms }

// SymbolSource is SymtabSection, DynsymSection or "" (no symbols).
func (o *Object) SymbolSource() string { return o.source }

// Lookup finds a symbol as Image.Lookup does (NAME, NAME@VERSION,
// NAME@@VERSION).
func (o *Object) Lookup(name string) (Symbol, bool) { return lookupSymbol(o.syms, o.ix, name) }

// SymbolAt finds the symbol containing the link-time address vaddr, as
// Image.SymbolAt does.
func (o *Object) SymbolAt(vaddr uint64) (Symbol, uint64, bool) { return symbolAt(o.syms, o.ix, vaddr) }

// PrecedingSymbol is the symbol starting closest below or at vaddr,
// whatever its size.
func (o *Object) PrecedingSymbol(vaddr uint64) (Symbol, bool) {
	i := sort.Search(len(o.syms), func(i int) bool { return o.syms[i].Value > vaddr }) - 1
	if i < 0 {
		return Symbol{}, false
	}
	return o.syms[i], true
}

// LoadOfVaddr is the PT_LOAD whose file-backed bytes hold vaddr.
func (o *Object) LoadOfVaddr(vaddr uint64) (LoadSegment, bool) {
	for _, l := range o.Loads {
		if l.ContainsVaddr(vaddr) {
			return l, true
		}
	}
	return LoadSegment{}, false
}

// LoadOfOffset is the PT_LOAD whose file range holds off; an executable
// one wins where two share bytes of the file.
func (o *Object) LoadOfOffset(off uint64) (LoadSegment, bool) {
	var found LoadSegment
	ok := false
	for _, l := range o.Loads {
		if l.ContainsOffset(off) && (!ok || l.Exec && !found.Exec) {
			found, ok = l, true
		}
	}
	return found, ok
}

// ReadAt reads the file at off, returning the bytes read.
func (o *Object) ReadAt(p []byte, off uint64) int {
	if off >= uint64(o.Size) {
		return 0
	}
	n, _ := o.r.ReadAt(p, int64(off))
	return n
}

// BuildID is the file's GNU build ID (NT_GNU_BUILD_ID in a PT_NOTE) in
// lower-case hex, "" when it has none: what names its separate debug file,
// /usr/lib/debug/.build-id/NN/REST.debug (DebugFilePath).
func (o *Object) BuildID() string { return o.buildID }

// DebugFilePath is where Debian's -dbg packages (and the GNU tools) put
// the separate debug file of a file with build ID id.
func DebugFilePath(id string) string {
	if len(id) < 3 {
		return ""
	}
	return "/usr/lib/debug/.build-id/" + id[:2] + "/" + id[2:] + ".debug"
}

// DebugFile is the separate debug file whose .symtab gives the symbols, ""
// when they are the file's own.
func (o *Object) DebugFile() string { return o.debugFile }

// UseDebugSymbols takes the symbols of the separate debug file r (size
// bytes, named path) when the file has no .symtab of its own and the
// debug file has one and the same build ID, as perf's symbol lookup does
// for a stripped library (dso__load: the build-id debug file before the
// binary's own .dynsym). It reports whether it did.
func (o *Object) UseDebugSymbols(path string, r io.ReaderAt, size int64) bool {
	if o.source == SymtabSection || o.buildID == "" {
		return false
	}
	ok := func() (ok bool) {
		// A debug file keeps the program headers but not the bytes they
		// map (its sections are SHT_NOBITS): only the notes and the
		// symbols are read.
		defer func() {
			if recover() != nil {
				ok = false
			}
		}()
		f, err := elf.NewFile(io.NewSectionReader(r, 0, size))
		if err != nil || readBuildID(f, r, size) != o.buildID {
			return false
		}
		syms, source, err := readSymbols(path, io.NewSectionReader(r, 0, size), o.Arch, 0)
		if err != nil || source != SymtabSection {
			return false
		}
		// The .dynsym's symbols stay, for their versions
		// (NAME@@VERSION): the debug file's .symtab has none.
		syms = append(syms, o.syms...)
		slices.SortFunc(syms, compareSymbols)
		syms = slices.Compact(syms)
		o.syms, o.ix, o.source, o.debugFile = syms, newSymbolIndex(syms), SymtabSection, path
		return true
	}()
	return ok
}

// readBuildID reads NT_GNU_BUILD_ID from the PT_NOTE segments.
func readBuildID(f *elf.File, r io.ReaderAt, size int64) string {
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE || p.Filesz > 1<<16 || p.Off > uint64(size) || p.Filesz > uint64(size)-p.Off {
			continue
		}
		data := make([]byte, p.Filesz)
		if n, _ := r.ReadAt(data, int64(p.Off)); n != len(data) {
			continue
		}
		align := uint64(4)
		if p.Align == 8 {
			align = 8
		}
		for len(data) >= 12 {
			namesz, descsz, typ := uint64(f.ByteOrder.Uint32(data)), uint64(f.ByteOrder.Uint32(data[4:])), f.ByteOrder.Uint32(data[8:])
			nameEnd := 12 + namesz
			descStart := (nameEnd + align - 1) &^ (align - 1)
			descEnd := descStart + descsz
			if descEnd > uint64(len(data)) || descEnd < descStart {
				break
			}
			if typ == 3 && namesz == 4 && string(data[12:15]) == "GNU" {
				return hex.EncodeToString(data[descStart:descEnd])
			}
			next := (descEnd + align - 1) &^ (align - 1)
			if next > uint64(len(data)) {
				break
			}
			data = data[next:]
		}
	}
	return ""
}
