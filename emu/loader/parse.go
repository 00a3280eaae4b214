package loader

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"io"
	"os"
)

// Load reads the file at path and parses it with Parse.
func Load(path string) (*Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, osError(path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, osError(path, err)
	}
	if st.Size() > MaxMemory {
		return nil, corrupt(path, "file is %d bytes, more than the %d MiB limit", st.Size(), MaxMemory>>20)
	}
	// Read one byte past the limit so a file that grew after Stat is still
	// caught by the size check below.
	data, err := io.ReadAll(io.LimitReader(f, MaxMemory+1))
	if err != nil {
		return nil, osError(path, err)
	}
	if len(data) > MaxMemory {
		return nil, corrupt(path, "file is more than the %d MiB limit", MaxMemory>>20)
	}
	im, err := Parse(path, data)
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
	return im, nil
}

// Parse validates data as a static i386 or x86-64 Linux executable and
// returns its load plan. path is only used in messages and Image.Path. Every
// failure is an *Error; Parse never panics and does not retain data.
func Parse(path string, data []byte) (*Image, error) {
	h, err := parseHeader(path, data)
	if err != nil {
		return nil, err
	}
	phdrs, err := parseProgs(path, data, h)
	if err != nil {
		return nil, err
	}
	for _, p := range phdrs {
		if p.typ == elf.PT_INTERP {
			return nil, newError(path, Dynamic, "dynamically linked programs are not supported yet; build with -static")
		}
	}
	im := &Image{
		Path:      path,
		Arch:      h.arch,
		StaticPIE: h.typ == elf.ET_DYN,
		Phent:     uint64(h.phentsize),
		Phnum:     uint64(h.phnum),
	}
	if err := planSegments(path, data, h, phdrs, im); err != nil {
		return nil, err
	}
	syms, err := readSymbols(path, data, im.Arch, im.Bias)
	if err != nil {
		return nil, err
	}
	im.Symbols = syms
	im.syms = newSymbolIndex(syms)
	return im, nil
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
func parseHeader(path string, data []byte) (header, error) {
	var h header
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

func parseProgs(path string, data []byte, h header) ([]prog, error) {
	tableSize := uint64(h.phnum) * uint64(h.phentsize)
	if h.phoff > uint64(len(data)) || tableSize > uint64(len(data))-h.phoff {
		return nil, corrupt(path, "program headers [0x%x, +0x%x) outside the file (%d bytes)", h.phoff, tableSize, len(data))
	}
	phdrs := make([]prog, h.phnum)
	for i := range phdrs {
		b := data[h.phoff+uint64(i)*uint64(h.phentsize):]
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

// fileRange checks that [off, off+size) lies in the file and returns a copy.
func fileRange(path string, data []byte, what string, off, size uint64) ([]byte, error) {
	if off > uint64(len(data)) || size > uint64(len(data))-off {
		return nil, corrupt(path, "%s file range [0x%x, +0x%x) outside the file (%d bytes)", what, off, size, len(data))
	}
	return bytes.Clone(data[off : off+size : off+size]), nil
}
