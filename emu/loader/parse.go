package loader

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Load opens the file at path and parses it as Parse does, reading only
// what Linux reads to start a program: the ELF header, the program headers
// and the loaded segments, each with one bounded read. The section headers
// and the symbol table are read when Symbols, Lookup or SymbolAt first need
// them, so damage there does not stop a program that needs no symbols. The
// Image keeps the file open for that until Close.
func Load(path string) (*Image, error) {
	// Stat before opening: execve runs regular files only (do_open_execat:
	// S_ISREG, else EACCES), and opening or reading anything else may block
	// (a FIFO without a writer) or never end (/dev/zero).
	st, err := os.Stat(path)
	if err != nil {
		return nil, osError(path, err)
	}
	if err := checkRegular(path, st); err != nil {
		return nil, err
	}
	// O_NONBLOCK: should path have become a FIFO since the Stat, the open
	// must not wait for a writer; the Stat of the open file then refuses it.
	// For a regular file the flag changes nothing.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, osError(path, err)
	}
	im, err := load(path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return im, nil
}

func load(path string, f *os.File) (*Image, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, osError(path, err)
	}
	if err := checkRegular(path, st); err != nil {
		return nil, err
	}
	im, err := parse(path, f, st.Size(), false)
	if err != nil {
		return nil, err
	}
	// execve needs an execute bit (fs/exec.c do_open_execat: MAY_EXEC), even
	// for root. Deviation: Linux checks it before reading the file; probesim
	// checks it last, so a file that is not a program at all is reported as
	// such rather than as "permission denied".
	if st.Mode().Perm()&0o111 == 0 {
		return nil, newError(path, Unreadable, "permission denied (no execute permission)")
	}
	im.symtab = &symbolTable{src: f, size: st.Size(), closer: f}
	return im, nil
}

// checkRegular refuses what execve refuses with EACCES before reading a
// byte: anything but a regular file.
func checkRegular(path string, st fs.FileInfo) error {
	if st.Mode().IsRegular() {
		return nil
	}
	what := "not a regular file"
	switch m := st.Mode(); {
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeNamedPipe != 0:
		what = "a FIFO"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeCharDevice != 0:
		what = "a character device"
	case m&fs.ModeDevice != 0:
		what = "a block device"
	}
	return &Error{Path: path, Kind: Unreadable, Msg: "not a regular file (" + what + "): only regular files can be run",
		Err: &fs.PathError{Op: "execve", Path: path, Err: syscall.EACCES}}
}

// Parse validates data as a static i386 or x86-64 Linux executable and
// returns its load plan. path is only used in messages and Image.Path. Every
// failure is an *Error; Parse never panics and does not retain data (the
// Image keeps a private copy, read for its symbols only when they are
// first needed).
func Parse(path string, data []byte) (*Image, error) {
	src := bytes.NewReader(bytes.Clone(data))
	im, err := parse(path, src, src.Size(), false)
	if err != nil {
		return nil, err
	}
	im.symtab = &symbolTable{src: src, size: src.Size()}
	return im, nil
}

// parse reads the load plan from the size bytes of r: the ELF header, the
// program headers and the segments' file ranges, each read once and only
// after the headers that locate it are checked, so no read is larger than
// the file or, for segments, than MaxMemory in all.
func parse(path string, r io.ReaderAt, size int64, asInterp bool) (*Image, error) {
	f := &fileReader{path: path, r: r, size: uint64(size)}
	h, err := parseHeader(path, f)
	if err != nil {
		return nil, err
	}
	phdrs, err := parseProgs(f, h)
	if err != nil {
		return nil, err
	}
	interp, err := readInterp(f, phdrs)
	if err != nil {
		return nil, err
	}
	if asInterp && interp != "" {
		// Deviation: load_elf_interp ignores the interpreter's own
		// PT_INTERP; an interpreter that asks for another one is not a
		// loader probesim can start, and ld.so never does.
		return nil, newError(path, Dynamic, "the interpreter itself asks for an interpreter (%s)", interp)
	}
	im := &Image{
		Path:      path,
		Arch:      h.arch,
		StaticPIE: h.typ == elf.ET_DYN && interp == "" && !asInterp,
		Interp:    interp,
		Phent:     uint64(h.phentsize),
		Phnum:     uint64(h.phnum),
	}
	if err := planSegments(f, h, phdrs, im, asInterp); err != nil {
		return nil, err
	}
	if err := readSegments(f, im); err != nil {
		return nil, err
	}
	return im, nil
}

// fileReader reads bounded ranges of an executable of known size.
type fileReader struct {
	path string
	r    io.ReaderAt
	size uint64
}

// check reports an error unless [off, off+n) lies in the file.
func (f *fileReader) check(what string, off, n uint64) error {
	if off > f.size || n > f.size-off {
		return corrupt(f.path, "%s file range [0x%x, +0x%x) outside the file (%d bytes)", what, off, n, f.size)
	}
	return nil
}

// read returns a new buffer holding the n bytes at off, which check has
// accepted. A file that shrank since is corrupt; other failures are the
// os error.
func (f *fileReader) read(off, n uint64) ([]byte, error) {
	buf := make([]byte, n)
	m, err := f.r.ReadAt(buf, int64(off))
	if m == len(buf) {
		return buf, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return nil, corrupt(f.path, "the file ends at 0x%x, inside [0x%x, +0x%x) (did it change while being read?)", off+uint64(m), off, n)
	}
	return nil, osError(f.path, err)
}

// prefix reads the first min(n, size) bytes.
func (f *fileReader) prefix(n uint64) ([]byte, error) {
	return f.read(0, min(n, f.size))
}

// header is the part of the ELF file header the loader uses, widened to 64
// bits whatever the class.
type header struct {
	arch      Arch
	typ       elf.Type
	entry     uint64
	phoff     uint64
	phentsize uint16
	phnum     uint16
}

const (
	ehdr32Size = 52
	ehdr64Size = 64
	phdr32Size = 32
	phdr64Size = 56
)

var le = binary.LittleEndian

// parseHeader checks the ELF identification and file header in the order
// fs/binfmt_elf.c load_elf_binary does (magic, type, machine, phentsize),
// with the class, byte order and OS ABI checks debug/elf-style tools make
// first because the rest of the header cannot be read without them.
func parseHeader(path string, f *fileReader) (header, error) {
	var h header
	data, err := f.prefix(ehdr64Size)
	if err != nil {
		return h, err
	}
	if len(data) < 4 || !bytes.Equal(data[:4], []byte(elf.ELFMAG)) {
		return h, newError(path, NotELF, "not an ELF executable")
	}
	if len(data) < elf.EI_NIDENT {
		return h, corrupt(path, "truncated ELF identification (%d of %d bytes)", len(data), elf.EI_NIDENT)
	}
	class := elf.Class(data[elf.EI_CLASS])
	if class != elf.ELFCLASS32 && class != elf.ELFCLASS64 {
		return h, newError(path, Unsupported, "unsupported ELF class %v (probesim runs i386 and x86-64)", class)
	}
	if d := elf.Data(data[elf.EI_DATA]); d != elf.ELFDATA2LSB {
		return h, newError(path, Unsupported, "unsupported data encoding %v (probesim runs little-endian i386 and x86-64)", d)
	}
	// Deviation: Linux ignores EI_OSABI. probesim emulates the Linux system
	// call ABI only, so a program marked for another OS would misbehave in
	// confusing ways; refuse it up front.
	if abi := elf.OSABI(data[elf.EI_OSABI]); abi != elf.ELFOSABI_NONE && abi != elf.ELFOSABI_LINUX {
		return h, newError(path, Unsupported, "unsupported OS ABI %v (probesim runs Linux programs)", abi)
	}
	size := ehdr64Size
	if class == elf.ELFCLASS32 {
		size = ehdr32Size
	}
	if len(data) < size {
		return h, corrupt(path, "truncated ELF header (%d of %d bytes)", len(data), size)
	}
	h.typ = elf.Type(le.Uint16(data[16:]))
	machine := elf.Machine(le.Uint16(data[18:]))
	if class == elf.ELFCLASS32 {
		h.entry = uint64(le.Uint32(data[24:]))
		h.phoff = uint64(le.Uint32(data[28:]))
		h.phentsize = le.Uint16(data[42:])
		h.phnum = le.Uint16(data[44:])
	} else {
		h.entry = le.Uint64(data[24:])
		h.phoff = le.Uint64(data[32:])
		h.phentsize = le.Uint16(data[54:])
		h.phnum = le.Uint16(data[56:])
	}

	switch h.typ {
	case elf.ET_EXEC, elf.ET_DYN:
	case elf.ET_REL:
		return h, newError(path, NotELF, "not an executable (ET_REL: a relocatable object file; link it first)")
	case elf.ET_CORE:
		return h, newError(path, NotELF, "not an executable (ET_CORE: a core dump)")
	default:
		return h, newError(path, NotELF, "not an executable (ELF type %v)", h.typ)
	}

	switch {
	case class == elf.ELFCLASS32 && machine == elf.EM_386:
		h.arch = ArchI386
	case class == elf.ELFCLASS64 && machine == elf.EM_X86_64:
		h.arch = ArchX8664
	case class == elf.ELFCLASS32 && machine == elf.EM_X86_64:
		return h, newError(path, Unsupported, "unsupported x32 ABI program (ELFCLASS32, EM_X86_64) (probesim runs i386 and x86-64)")
	case machine == elf.EM_386 || machine == elf.EM_X86_64:
		return h, newError(path, Unsupported, "unsupported machine %v in an %v file (probesim runs i386 and x86-64)", machine, class)
	default:
		return h, newError(path, Unsupported, "unsupported machine %v (probesim runs i386 and x86-64)", machine)
	}

	want := uint16(phdr64Size)
	if h.arch == ArchI386 {
		want = phdr32Size
	}
	if h.phentsize != want {
		return h, corrupt(path, "bad e_phentsize %d (want %d)", h.phentsize, want)
	}
	// load_elf_phdrs: at least one header and the table at most 64 KiB.
	if h.phnum < 1 || uint64(h.phnum)*uint64(h.phentsize) > 65536 {
		return h, corrupt(path, "bad e_phnum %d", h.phnum)
	}
	return h, nil
}

// prog is one program header, widened to 64 bits.
type prog struct {
	typ                              elf.ProgType
	flags                            elf.ProgFlag
	off, vaddr, filesz, memsz, align uint64
}

func parseProgs(f *fileReader, h header) ([]prog, error) {
	tableSize := uint64(h.phnum) * uint64(h.phentsize)
	if h.phoff > f.size || tableSize > f.size-h.phoff {
		return nil, corrupt(f.path, "program headers [0x%x, +0x%x) outside the file (%d bytes)", h.phoff, tableSize, f.size)
	}
	// At most 64 KiB (parseHeader checked e_phnum).
	data, err := f.read(h.phoff, tableSize)
	if err != nil {
		return nil, err
	}
	phdrs := make([]prog, h.phnum)
	for i := range phdrs {
		b := data[uint64(i)*uint64(h.phentsize):]
		p := &phdrs[i]
		p.typ = elf.ProgType(le.Uint32(b))
		if h.arch == ArchI386 {
			p.off = uint64(le.Uint32(b[4:]))
			p.vaddr = uint64(le.Uint32(b[8:]))
			p.filesz = uint64(le.Uint32(b[16:]))
			p.memsz = uint64(le.Uint32(b[20:]))
			p.flags = elf.ProgFlag(le.Uint32(b[24:]))
			p.align = uint64(le.Uint32(b[28:]))
		} else {
			p.flags = elf.ProgFlag(le.Uint32(b[4:]))
			p.off = le.Uint64(b[8:])
			p.vaddr = le.Uint64(b[16:])
			p.filesz = le.Uint64(b[32:])
			p.memsz = le.Uint64(b[40:])
			p.align = le.Uint64(b[48:])
		}
	}
	return phdrs, nil
}

// readSegments reads the file ranges of the planned segments and of the TLS
// template: at most MaxMemory bytes for the segments (planSegments bounds
// their memory, and Filesz <= Memsz) and MaxMemory for the template.
func readSegments(f *fileReader, im *Image) error {
	for i := range im.Segments {
		s := &im.Segments[i]
		data, err := f.read(s.FileOff, s.Filesz)
		if err != nil {
			return err
		}
		s.Data = data
	}
	if t := im.TLS; t != nil {
		data, err := f.read(t.FileOff, t.Filesz)
		if err != nil {
			return err
		}
		t.Data = data
	}
	return nil
}
