package loader

import (
	"bytes"
	"debug/elf"
	"io"
)

// PathMax is PATH_MAX: the longest PT_INTERP load_elf_binary accepts.
const PathMax = 4096

// readInterp returns the path of the first PT_INTERP, as load_elf_binary
// reads it (fs/binfmt_elf.c): between 2 bytes and PATH_MAX, inside the
// file, NUL-terminated; a later PT_INTERP is ignored. It returns "" for a
// program without one.
func readInterp(f *fileReader, phdrs []prog) (string, error) {
	for _, p := range phdrs {
		if p.typ != elf.PT_INTERP {
			continue
		}
		if p.filesz < 2 || p.filesz > PathMax {
			return "", corrupt(f.path, "PT_INTERP of %d bytes (want 2 to %d)", p.filesz, PathMax)
		}
		if err := f.check("PT_INTERP", p.off, p.filesz); err != nil {
			return "", err
		}
		b, err := f.read(p.off, p.filesz)
		if err != nil {
			return "", err
		}
		if b[len(b)-1] != 0 {
			return "", corrupt(f.path, "PT_INTERP is not NUL-terminated")
		}
		b = b[:len(b)-1]
		if bytes.IndexByte(b, 0) >= 0 {
			return "", corrupt(f.path, "PT_INTERP has a NUL inside the path")
		}
		return string(b), nil
	}
	return "", nil
}

// ParseInterp validates the size bytes of r as the program interpreter of
// a program for arch (what load_elf_interp checks: an ELF ET_DYN or ET_EXEC
// for the same machine, with loadable segments) and returns its load plan
// at bias 0 for an ET_DYN; Rebase then places it. path is used in messages
// and Image.Path. The Image reads its symbols from r when asked.
func ParseInterp(path string, r io.ReaderAt, size int64, arch Arch) (*Image, error) {
	im, err := parse(path, r, size, true)
	if err != nil {
		return nil, err
	}
	if im.Arch != arch {
		// elf_check_arch on the interpreter fails: execve returns ELIBBAD.
		return nil, newError(path, Unsupported, "the interpreter is an %v program, the program is %v", im.Arch, arch)
	}
	im.symtab = &symbolTable{src: r, size: size}
	return im, nil
}

// Span is the size of the address range the segments cover, from the
// first one's page to the last one's page end: what load_elf_interp
// reserves in one mapping (total_mapping_size) before placing the segments.
func (im *Image) Span() uint64 {
	if len(im.Segments) == 0 {
		return 0
	}
	return im.Segments[len(im.Segments)-1].PageEnd() - im.Segments[0].PageStart()
}

// Rebase moves an Image planned at bias 0 (an ET_DYN interpreter) so that
// its first segment's page starts at base, as load_elf_interp does with the
// address mmap chose. It must be called before the symbols are first read.
func (im *Image) Rebase(base uint64) {
	if len(im.Segments) == 0 {
		return
	}
	d := base - im.Segments[0].PageStart()
	mask := im.Arch.wordMask()
	im.Bias = (im.Bias + d) & mask
	for i := range im.Segments {
		im.Segments[i].Vaddr = (im.Segments[i].Vaddr + d) & mask
	}
	if im.TLS != nil {
		im.TLS.Vaddr = (im.TLS.Vaddr + d) & mask
	}
	im.Entry = (im.Entry + d) & mask
	if im.PhdrAddr != 0 {
		im.PhdrAddr = (im.PhdrAddr + d) & mask
	}
	im.BrkStart = (im.BrkStart + d) & mask
}
