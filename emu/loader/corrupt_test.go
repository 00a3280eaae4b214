package loader

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// elfFile gives tests field-level access to a little-endian ELF image so
// they can corrupt one header field at a time.
type elfFile struct {
	data []byte
	is64 bool
}

func newELFFile(data []byte) *elfFile {
	return &elfFile{data: bytes.Clone(data), is64: data[elf.EI_CLASS] == byte(elf.ELFCLASS64)}
}

func (f *elfFile) word(off int) uint64 {
	if f.is64 {
		return binary.LittleEndian.Uint64(f.data[off:])
	}
	return uint64(binary.LittleEndian.Uint32(f.data[off:]))
}

func (f *elfFile) setWord(off int, v uint64) {
	if f.is64 {
		binary.LittleEndian.PutUint64(f.data[off:], v)
	} else {
		binary.LittleEndian.PutUint32(f.data[off:], uint32(v))
	}
}

func (f *elfFile) pick(off64, off32 int) int {
	if f.is64 {
		return off64
	}
	return off32
}

func (f *elfFile) entryOff() int     { return 24 }
func (f *elfFile) phoffOff() int     { return f.pick(32, 28) }
func (f *elfFile) phentsizeOff() int { return f.pick(54, 42) }
func (f *elfFile) phnumOff() int     { return f.pick(56, 44) }
func (f *elfFile) phoff() uint64     { return f.word(f.phoffOff()) }
func (f *elfFile) phnum() int        { return int(binary.LittleEndian.Uint16(f.data[f.phnumOff():])) }
func (f *elfFile) phentsize() int    { return f.pick(56, 32) }
func (f *elfFile) headersEnd() int   { return int(f.phoff()) + f.phnum()*f.phentsize() }

// Program header field offsets.
func (f *elfFile) ph(i int) int      { return int(f.phoff()) + i*f.phentsize() }
func (f *elfFile) pType(i int) int   { return f.ph(i) }
func (f *elfFile) pFlags(i int) int  { return f.ph(i) + f.pick(4, 24) }
func (f *elfFile) pOffset(i int) int { return f.ph(i) + f.pick(8, 4) }
func (f *elfFile) pVaddr(i int) int  { return f.ph(i) + f.pick(16, 8) }
func (f *elfFile) pFilesz(i int) int { return f.ph(i) + f.pick(32, 16) }
func (f *elfFile) pMemsz(i int) int  { return f.ph(i) + f.pick(40, 20) }
func (f *elfFile) typeOf(i int) elf.ProgType {
	return elf.ProgType(binary.LittleEndian.Uint32(f.data[f.pType(i):]))
}
func (f *elfFile) setType(i int, t elf.ProgType) {
	binary.LittleEndian.PutUint32(f.data[f.pType(i):], uint32(t))
}

// loads returns the indexes of the PT_LOAD headers.
func (f *elfFile) loads() []int {
	var l []int
	for i := 0; i < f.phnum(); i++ {
		if f.typeOf(i) == elf.PT_LOAD {
			l = append(l, i)
		}
	}
	return l
}

func (f *elfFile) find(t elf.ProgType) int {
	for i := 0; i < f.phnum(); i++ {
		if f.typeOf(i) == t {
			return i
		}
	}
	return -1
}

func TestTruncatedHeaders(t *testing.T) {
	for _, v := range []string{"x64", "i386", "x64pie", "musl"} {
		data := readProg(t, v)
		end := newELFFile(data).headersEnd()
		for n := 0; n <= end; n++ {
			_, err := Parse("p", data[:n])
			kind := Corrupt
			if n < 4 {
				kind = NotELF
			}
			requireKind(t, err, kind, "")
		}
	}
}

// TestEveryPrefixOfSmallPrograms truncates whole files, so the cut also
// falls inside segment data and the section headers. A cut in what Linux
// reads to start the program (headers and segments) makes it corrupt; a cut
// after that loses only the section headers, which the program runs
// without and only Symbols needs.
func TestEveryPrefixOfSmallPrograms(t *testing.T) {
	for _, v := range []string{"tiny64", "tiny32"} {
		data := readProg(t, v)
		f := newELFFile(data)
		loadEnd := f.headersEnd()
		for _, i := range f.loads() {
			loadEnd = max(loadEnd, int(f.word(f.pOffset(i))+f.word(f.pFilesz(i))))
		}
		require.Less(t, loadEnd, len(data), "the section headers follow the segments")
		for n := 0; n < len(data); n++ {
			im, err := Parse("p", data[:n])
			if n >= loadEnd {
				require.NoError(t, err, "cut at %d, after the segments (%d)", n, loadEnd)
				_, err = im.Symbols()
				requireKind(t, err, Corrupt, "")
				require.ErrorIs(t, err, ErrSectionHeaders)
				assert.Contains(t, err.Error(), "p: section headers corrupt: ")
				continue
			}
			kind := Corrupt
			if n < 4 {
				kind = NotELF
			}
			requireKind(t, err, kind, "")
		}
		im, err := Parse("p", data)
		require.NoError(t, err)
		_, err = im.Symbols()
		require.NoError(t, err)
	}
}

func TestCorruptHeaders(t *testing.T) {
	type mutation struct {
		name   string
		mutate func(f *elfFile)
		msg    string // without the "p: corrupt ELF: " prefix
	}
	for _, v := range []string{"tiny64", "tiny32"} {
		orig := newELFFile(readProg(t, v))
		loads := orig.loads()
		require.Len(t, loads, 3, "tiny programs have R, RX and R segments")
		l0, l1, l2 := loads[0], loads[1], loads[2]
		stack := orig.find(elf.PT_GNU_STACK)
		require.GreaterOrEqual(t, stack, 0)
		arch := ArchX8664
		if !orig.is64 {
			arch = ArchI386
		}
		size := uint64(len(orig.data))
		l1vaddr := orig.word(orig.pVaddr(l1))
		l2vaddr := orig.word(orig.pVaddr(l2))
		l2off := orig.word(orig.pOffset(l2))
		l2memsz := orig.word(orig.pMemsz(l2))
		tableSize := orig.phnum() * orig.phentsize()

		cases := []mutation{
			{"phoff past the end", func(f *elfFile) { f.setWord(f.phoffOff(), size+8) },
				fmt.Sprintf("program headers [0x%x, +0x%x) outside the file (%d bytes)", size+8, tableSize, size)},
			{"phoff overflows", func(f *elfFile) { f.setWord(f.phoffOff(), arch.wordMask()-8) },
				fmt.Sprintf("program headers [0x%x, +0x%x) outside the file (%d bytes)", arch.wordMask()-8, tableSize, size)},
			{"bad phentsize", func(f *elfFile) { binary.LittleEndian.PutUint16(f.data[f.phentsizeOff():], 40) },
				fmt.Sprintf("bad e_phentsize 40 (want %d)", orig.phentsize())},
			{"no phdrs", func(f *elfFile) { binary.LittleEndian.PutUint16(f.data[f.phnumOff():], 0) },
				"bad e_phnum 0"},
			{"too many phdrs", func(f *elfFile) { binary.LittleEndian.PutUint16(f.data[f.phnumOff():], 0xffff) },
				"bad e_phnum 65535"},
			{"filesz > memsz", func(f *elfFile) { f.setWord(f.pFilesz(l2), l2memsz+1) },
				fmt.Sprintf("PT_LOAD[%d] p_filesz 0x%x > p_memsz 0x%x", l2, l2memsz+1, l2memsz)},
			{"segment past the end", func(f *elfFile) { f.setWord(f.pOffset(l2), size-4) },
				fmt.Sprintf("PT_LOAD[%d] file range [0x%x, +0x%x) outside the file (%d bytes)", l2, size-4, l2memsz, size)},
			{"offset and vaddr disagree", func(f *elfFile) { f.setWord(f.pVaddr(l2), l2vaddr+0x10) },
				fmt.Sprintf("PT_LOAD[%d] p_vaddr 0x%x and p_offset 0x%x differ modulo the page size", l2, l2vaddr+0x10, l2off)},
			{"overlapping pages", func(f *elfFile) { f.setWord(f.pVaddr(l2), l1vaddr) },
				fmt.Sprintf("PT_LOAD[%d] [0x%x, 0x%x) overlaps the pages of PT_LOAD[%d] (which end at 0x%x)", l2, l1vaddr, l1vaddr+l2memsz, l1, l1vaddr+PageSize)},
			{"unsorted", func(f *elfFile) { f.setWord(f.pVaddr(l2), l1vaddr-PageSize) },
				fmt.Sprintf("PT_LOAD segments are not sorted by address (PT_LOAD[%d] at 0x%x follows PT_LOAD[%d] at 0x%x)", l2, l1vaddr-PageSize, l1, l1vaddr)},
			{"beyond task size", func(f *elfFile) { f.setWord(f.pVaddr(l2), arch.TaskSize()) },
				fmt.Sprintf("PT_LOAD[%d] [0x%x, +0x%x) is outside the %v user address space (which ends at 0x%x)", l2, arch.TaskSize(), l2memsz, arch, arch.TaskSize())},
			{"address overflow", func(f *elfFile) {
				f.setWord(f.pVaddr(l2), arch.wordMask()&^(PageSize-1))
				f.setWord(f.pMemsz(l2), 2*PageSize)
			}, fmt.Sprintf("PT_LOAD[%d] [0x%x, +0x2000) is outside the %v user address space (which ends at 0x%x)", l2, arch.wordMask()&^(PageSize-1), arch, arch.TaskSize())},
			{"below mmap_min_addr", func(f *elfFile) { f.setWord(f.pVaddr(l0), PageSize) },
				fmt.Sprintf("PT_LOAD[%d] at 0x1000 is below the lowest mappable address 0x10000 (vm.mmap_min_addr)", l0)},
			{"absurd memsz", func(f *elfFile) { f.setWord(f.pMemsz(l2), MaxMemory) },
				"PT_LOAD segments need more than 1024 MiB of memory"},
			{"entry in a data segment", func(f *elfFile) { f.setWord(f.entryOff(), l2vaddr) },
				fmt.Sprintf("entry point 0x%x is not inside an executable PT_LOAD segment", l2vaddr)},
			{"entry outside every segment", func(f *elfFile) { f.setWord(f.entryOff(), 0x20000) },
				"entry point 0x20000 is not inside an executable PT_LOAD segment"},
			{"no PT_LOAD", func(f *elfFile) {
				for _, i := range loads {
					f.setType(i, elf.PT_NULL)
				}
			}, "no PT_LOAD segment"},
			{"all PT_LOADs empty", func(f *elfFile) {
				for _, i := range loads {
					f.setWord(f.pFilesz(i), 0)
					f.setWord(f.pMemsz(i), 0)
				}
			}, "every PT_LOAD segment is empty"},
			{"PT_PHDR outside PT_LOADs", func(f *elfFile) {
				f.setType(stack, elf.PT_PHDR)
				f.setWord(f.pVaddr(stack), 0x20000)
			}, fmt.Sprintf("PT_PHDR[%d] at 0x20000 is not inside a PT_LOAD segment", stack)},
			{"PT_TLS filesz > memsz", func(f *elfFile) {
				f.setType(stack, elf.PT_TLS)
				f.setWord(f.pFilesz(stack), 8)
				f.setWord(f.pMemsz(stack), 4)
			}, fmt.Sprintf("PT_TLS[%d] p_filesz 0x8 > p_memsz 0x4", stack)},
			{"PT_TLS outside the file", func(f *elfFile) {
				f.setType(stack, elf.PT_TLS)
				f.setWord(f.pOffset(stack), size)
				f.setWord(f.pFilesz(stack), 8)
				f.setWord(f.pMemsz(stack), 8)
			}, fmt.Sprintf("PT_TLS[%d] file range [0x%x, +0x8) outside the file (%d bytes)", stack, size, size)},
		}
		for _, c := range cases {
			t.Run(v+"/"+c.name, func(t *testing.T) {
				f := newELFFile(orig.data)
				c.mutate(f)
				_, err := Parse("p", f.data)
				le := requireKind(t, err, Corrupt, "")
				assert.Equal(t, "p: corrupt ELF: "+c.msg, le.Error())
			})
		}
	}
}

// TestSectionHeaderDamage: Linux starts a program from its program headers
// alone, so damage to the section headers (an e_shoff past the end of the
// file, a bad e_shstrndx, a symbol table outside the file) does not stop
// Parse or Load; it is an error of Symbols only, and Lookup and SymbolAt
// then find nothing. Before, Parse refused all three.
func TestSectionHeaderDamage(t *testing.T) {
	for _, v := range []string{"tiny64", "tiny32", "x64", "i386", "x64pie"} {
		orig := readProg(t, v)
		fh, err := elf.NewFile(bytes.NewReader(orig))
		require.NoError(t, err)
		symtab := fh.Section(".symtab")
		require.NotNil(t, symtab, v)
		symtabIndex := slices.Index(fh.Sections, symtab)
		shoffOff, shentOff, shstrndxOff := 40, 58, 62
		if fh.Class == elf.ELFCLASS32 {
			shoffOff, shentOff, shstrndxOff = 32, 46, 50
		}
		for _, c := range []struct {
			name   string
			mutate func(f *elfFile)
			msg    string // after "p: section headers corrupt: "
		}{
			{"e_shoff past the end", func(f *elfFile) { f.setWord(shoffOff, uint64(len(orig))+8) }, ""},
			{"bad e_shstrndx", func(f *elfFile) { binary.LittleEndian.PutUint16(f.data[shstrndxOff:], 0xfeff) }, "invalid ELF shstrndx"},
			{"bad e_shentsize", func(f *elfFile) { binary.LittleEndian.PutUint16(f.data[shentOff:], 7) }, "invalid ELF shentsize"},
			{"symbol table outside the file", func(f *elfFile) {
				shoff := int(f.word(shoffOff))
				shent := int(binary.LittleEndian.Uint16(f.data[shentOff:]))
				sh := shoff + symtabIndex*shent
				f.setWord(sh+f.pick(24, 16), uint64(len(orig))) // sh_offset
			}, "symbol table: "},
		} {
			t.Run(v+"/"+c.name, func(t *testing.T) {
				f := newELFFile(orig)
				c.mutate(f)
				im, err := Parse("p", f.data)
				require.NoError(t, err, "the program headers are intact")
				checkInvariants(t, im)
				syms, err := im.Symbols()
				require.Empty(t, syms)
				le := requireKind(t, err, Corrupt, "")
				require.ErrorIs(t, err, ErrSectionHeaders)
				assert.True(t, strings.HasPrefix(le.Error(), "p: section headers corrupt: "+c.msg), "%q", le.Error())
				_, ok := im.Lookup("_start")
				assert.False(t, ok)
				_, _, ok = im.SymbolAt(im.Entry)
				assert.False(t, ok)

				// The same from a file through Load.
				path := filepath.Join(t.TempDir(), "p")
				require.NoError(t, os.WriteFile(path, f.data, 0o755))
				im, err = Load(path)
				require.NoError(t, err)
				defer im.Close()
				_, err = im.Symbols()
				require.ErrorIs(t, err, ErrSectionHeaders)
			})
		}
	}
}

func TestPTPhdrAndGNUStack(t *testing.T) {
	for _, v := range []string{"tiny64", "tiny32"} {
		t.Run(v, func(t *testing.T) {
			f := newELFFile(readProg(t, v))
			stack := f.find(elf.PT_GNU_STACK)
			l0 := f.loads()[0]
			base := f.word(f.pVaddr(l0))

			im, err := Parse("p", f.data)
			require.NoError(t, err)
			assert.Equal(t, base+f.phoff(), im.PhdrAddr, "AT_PHDR from the PT_LOAD holding e_phoff")

			// An executable PT_GNU_STACK.
			g := newELFFile(f.data)
			binary.LittleEndian.PutUint32(g.data[g.pFlags(stack):], uint32(elf.PF_R|elf.PF_W|elf.PF_X))
			im, err = Parse("p", g.data)
			require.NoError(t, err)
			assert.True(t, im.HasGNUStack)
			assert.True(t, im.ExecStack)
			assert.False(t, im.ReadImpliesExec)

			// No PT_GNU_STACK: exec-all on i386, exec-none on x86-64.
			g = newELFFile(f.data)
			g.setType(stack, elf.PT_NULL)
			im, err = Parse("p", g.data)
			require.NoError(t, err)
			assert.False(t, im.HasGNUStack)
			assert.Equal(t, im.Arch == ArchI386, im.ExecStack)
			assert.Equal(t, im.Arch == ArchI386, im.ReadImpliesExec)

			// A PT_PHDR inside a segment wins over the computed address.
			g = newELFFile(f.data)
			g.setType(stack, elf.PT_PHDR)
			g.setWord(g.pVaddr(stack), base+0x10)
			im, err = Parse("p", g.data)
			require.NoError(t, err)
			assert.Equal(t, base+0x10, im.PhdrAddr)

			// Headers outside every PT_LOAD: AT_PHDR is 0.
			g = newELFFile(f.data)
			g.setWord(g.pOffset(l0), PageSize)
			g.setWord(g.pFilesz(l0), 0x10)
			im, err = Parse("p", g.data)
			require.NoError(t, err)
			assert.Zero(t, im.PhdrAddr)

			// An empty PT_LOAD is skipped, not an error.
			g = newELFFile(f.data)
			g.setWord(g.pFilesz(l0), 0)
			g.setWord(g.pMemsz(l0), 0)
			im, err = Parse("p", g.data)
			require.NoError(t, err)
			assert.Len(t, im.Segments, 2)
		})
	}
}

// TestStaticPIEBias turns the ET_EXEC tiny programs into ET_DYN ones, whose
// first segment is not at 0, to check ELF_PAGESTART(base - vaddr).
func TestStaticPIEBias(t *testing.T) {
	for _, c := range []struct {
		variant string
		shift   uint64 // added to every vaddr and the entry before parsing
		bias    uint64
	}{
		{"tiny64", 0, 0x5555_5555_4000 - 0x40_0000},
		{"tiny32", 0, 0x5655_5000 - 0x804_8000},
		// First segment above the base: the bias wraps modulo 2^32.
		{"tiny32", 0x6000_0000 - 0x804_8000, 0x1_0000_0000 + 0x5655_5000 - 0x6000_0000},
	} {
		t.Run(fmt.Sprintf("%s+%x", c.variant, c.shift), func(t *testing.T) {
			exe := newELFFile(readProg(t, c.variant))
			for i := 0; i < exe.phnum(); i++ {
				if exe.typeOf(i) == elf.PT_LOAD {
					exe.setWord(exe.pVaddr(i), exe.word(exe.pVaddr(i))+c.shift)
				}
			}
			exe.setWord(exe.entryOff(), exe.word(exe.entryOff())+c.shift)
			orig, err := Parse("exe", exe.data)
			require.NoError(t, err)
			require.False(t, orig.StaticPIE)

			pie := newELFFile(exe.data)
			binary.LittleEndian.PutUint16(pie.data[16:], uint16(elf.ET_DYN))
			im, err := Parse("pie", pie.data)
			require.NoError(t, err)
			checkInvariants(t, im)
			assert.True(t, im.StaticPIE)
			assert.Equal(t, c.bias, im.Bias)
			assert.Equal(t, im.Arch.DynBase(), im.Segments[0].Vaddr)
			mask := im.Arch.wordMask()
			assert.Equal(t, (orig.Entry+c.bias)&mask, im.Entry)
			assert.Equal(t, (orig.PhdrAddr+c.bias)&mask, im.PhdrAddr)
			for i := range im.Segments {
				assert.Equal(t, (orig.Segments[i].Vaddr+c.bias)&mask, im.Segments[i].Vaddr)
			}
			// The symbol table was not shifted, but it is relocated by the
			// same bias.
			origStart, ok := orig.Lookup("_start")
			require.True(t, ok)
			start, ok := im.Lookup("_start")
			require.True(t, ok)
			assert.Equal(t, (origStart.Value+c.bias)&mask, start.Value)
			if c.shift == 0 {
				assert.Equal(t, im.Entry, start.Value)
			}
		})
	}
}

func TestParseDoesNotAliasInput(t *testing.T) {
	data := readProg(t, "tiny64")
	im, err := Parse("p", data)
	require.NoError(t, err)
	before := bytes.Clone(im.Segments[1].Data)
	for i := range data {
		data[i] = 0xAA
	}
	assert.Equal(t, before, im.Segments[1].Data)
}

func TestErrorKindStrings(t *testing.T) {
	assert.Equal(t, []string{"not-exist", "unreadable", "not-elf", "unsupported", "dynamic", "corrupt", "ErrKind(0)"},
		[]string{NotExist.String(), Unreadable.String(), NotELF.String(), Unsupported.String(), Dynamic.String(), Corrupt.String(), ErrKind(0).String()})
	assert.Equal(t, "Arch(0)", Arch(0).String())
	assert.False(t, Arch(0).Valid())
}
