package loader

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nmSymbols runs nm and returns name -> address for defined symbols.
func nmSymbols(t *testing.T, path string) map[string]uint64 {
	t.Helper()
	out, err := exec.Command("nm", "--defined-only", path).Output()
	require.NoError(t, err)
	syms := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			continue
		}
		v, err := strconv.ParseUint(f[0], 16, 64)
		require.NoError(t, err)
		syms[f[2]] = v
	}
	return syms
}

// checkAgainstELF compares the plan with what debug/elf reads from the file.
func checkAgainstELF(t *testing.T, path string, im *Image, wantArch Arch, wantPIE bool) {
	t.Helper()
	f, err := elf.Open(path)
	require.NoError(t, err)
	defer f.Close()

	assert.Equal(t, path, im.Path)
	assert.Equal(t, wantArch, im.Arch)
	assert.Equal(t, wantPIE, im.StaticPIE)
	require.Equal(t, wantPIE, f.Type == elf.ET_DYN)
	if wantPIE {
		assert.Equal(t, wantArch.DynBase(), im.Bias, "static-pie first PT_LOAD is at 0")
	} else {
		assert.Zero(t, im.Bias)
	}
	assert.Equal(t, f.Entry+im.Bias, im.Entry)
	assert.Equal(t, uint64(len(f.Progs)), im.Phnum)
	assert.Equal(t, map[Arch]uint64{ArchI386: 32, ArchX8664: 56}[wantArch], im.Phent)

	var loads []*elf.Prog
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			loads = append(loads, p)
		}
		if p.Type == elf.PT_PHDR {
			assert.Equal(t, p.Vaddr+im.Bias, im.PhdrAddr)
		}
	}
	require.Len(t, im.Segments, len(loads))
	for i, p := range loads {
		s := im.Segments[i]
		assert.Equal(t, p.Vaddr+im.Bias, s.Vaddr, "segment %d", i)
		assert.Equal(t, p.Memsz, s.Memsz)
		assert.Equal(t, p.Filesz, s.Filesz)
		assert.Equal(t, p.Off, s.FileOff)
		assert.Equal(t, p.Flags&elf.PF_R != 0, s.Read)
		assert.Equal(t, p.Flags&elf.PF_W != 0, s.Write)
		assert.Equal(t, p.Flags&elf.PF_X != 0, s.Exec)
		want := make([]byte, p.Filesz)
		_, err := p.ReadAt(want, 0)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(want, s.Data), "segment %d data", i)
	}
	last := im.Segments[len(im.Segments)-1]
	assert.Equal(t, (last.Vaddr+last.Memsz+PageSize-1)&^uint64(PageSize-1), im.BrkStart)
	checkInvariants(t, im)

	// A static program has a PT_LOAD that maps the ELF header and program
	// headers: AT_PHDR must point at the header table inside it.
	seg, ok := im.SegmentAt(im.PhdrAddr)
	require.True(t, ok, "PhdrAddr 0x%x in a segment", im.PhdrAddr)
	off := im.PhdrAddr - seg.Vaddr
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var phoff uint64
	if wantArch == ArchI386 {
		phoff = uint64(binary.LittleEndian.Uint32(raw[28:]))
	} else {
		phoff = binary.LittleEndian.Uint64(raw[32:])
	}
	assert.Equal(t, raw[phoff:phoff+im.Phent*im.Phnum], seg.Data[off:off+im.Phent*im.Phnum])
}

func TestLoadRealPrograms(t *testing.T) {
	cases := []struct {
		variant string
		arch    Arch
		pie     bool
	}{
		{"x64", ArchX8664, false},
		{"x64pie", ArchX8664, true},
		{"i386", ArchI386, false},
		{"i386pie", ArchI386, true},
		{"musl", ArchX8664, false},
	}
	for _, c := range cases {
		t.Run(c.variant, func(t *testing.T) {
			path := buildProg(t, c.variant)
			im, err := Load(path)
			require.NoError(t, err)
			checkAgainstELF(t, path, im, c.arch, c.pie)

			// Symbols agree with nm, relocated by the bias.
			nm := nmSymbols(t, path)
			for _, name := range []string{"main", "probe_func", "probe_counter", "probe_buf", "_start"} {
				s, ok := im.Lookup(name)
				require.True(t, ok, name)
				require.Contains(t, nm, name)
				assert.Equal(t, nm[name]+im.Bias, s.Value, name)
			}
			mainSym, _ := im.Lookup("main")
			assert.True(t, mainSym.Func)
			assert.True(t, mainSym.Global)
			assert.NotZero(t, mainSym.Size)
			counter, _ := im.Lookup("probe_counter")
			assert.False(t, counter.Func)
			assert.Equal(t, uint64(4), counter.Size)
			buf, _ := im.Lookup("probe_buf")
			assert.Equal(t, uint64(100), buf.Size)
			_, ok := im.Lookup("probe_tls")
			assert.False(t, ok, "TLS symbols hold offsets, not addresses")
			_, ok = im.Lookup("no_such_symbol")
			assert.False(t, ok)

			// The initialised datum is in a writable segment with value 42;
			// the bss array is in the zero tail of one.
			seg, ok := im.SegmentAt(counter.Value)
			require.True(t, ok)
			assert.True(t, seg.Write)
			assert.False(t, seg.Exec)
			off := counter.Value - seg.Vaddr
			assert.Equal(t, uint32(42), binary.LittleEndian.Uint32(seg.Data[off:]))
			seg, ok = im.SegmentAt(buf.Value)
			require.True(t, ok)
			assert.GreaterOrEqual(t, buf.Value-seg.Vaddr, seg.Filesz, "bss lies past Filesz")

			// main's code is executable and read-only.
			seg, ok = im.SegmentAt(mainSym.Value)
			require.True(t, ok)
			assert.True(t, seg.Exec)
			assert.True(t, seg.Read)
			assert.False(t, seg.Write)

			// SymbolAt maps addresses inside main back to main.
			s, off, ok := im.SymbolAt(mainSym.Value + mainSym.Size - 1)
			require.True(t, ok)
			assert.Equal(t, "main", s.Name)
			assert.Equal(t, mainSym.Size-1, off)
			s, off, ok = im.SymbolAt(counter.Value + 2)
			require.True(t, ok)
			assert.Equal(t, "probe_counter", s.Name)
			assert.Equal(t, uint64(2), off)

			// Every gcc toolchain here emits PT_GNU_STACK without PF_X and a
			// PT_TLS for probe_tls (initial value 7).
			assert.True(t, im.HasGNUStack)
			assert.False(t, im.ExecStack)
			assert.False(t, im.ReadImpliesExec)
			require.NotNil(t, im.TLS)
			assert.Len(t, im.TLS.Data, int(im.TLS.Filesz))
			assert.GreaterOrEqual(t, im.TLS.Memsz, im.TLS.Filesz)
			assert.Contains(t, string(im.TLS.Data), "\x07\x00\x00\x00")
		})
	}
}

func TestStrippedProgramHasNoSymbols(t *testing.T) {
	im, err := Load(buildProg(t, "x64strip"))
	require.NoError(t, err)
	syms, err := im.Symbols()
	require.NoError(t, err)
	assert.Empty(t, syms)
	_, ok := im.Lookup("main")
	assert.False(t, ok)
	_, _, ok = im.SymbolAt(im.Entry)
	assert.False(t, ok)
	assert.True(t, inExecSegment(im.Segments, im.Entry))
}

func TestTinyPrograms(t *testing.T) {
	for _, c := range []struct {
		variant string
		arch    Arch
		base    uint64
	}{{"tiny64", ArchX8664, 0x400000}, {"tiny32", ArchI386, 0x8048000}} {
		t.Run(c.variant, func(t *testing.T) {
			path := buildProg(t, c.variant)
			im, err := Load(path)
			require.NoError(t, err)
			checkAgainstELF(t, path, im, c.arch, false)
			assert.Equal(t, c.base, im.Segments[0].Vaddr)
			assert.Nil(t, im.TLS)
			start, ok := im.Lookup("_start")
			require.True(t, ok)
			assert.Equal(t, im.Entry, start.Value)
			assert.Equal(t, c.arch.String(), map[Arch]string{ArchI386: "i386", ArchX8664: "x86_64"}[c.arch])
		})
	}
}

func requireKind(t *testing.T, err error, kind ErrKind, msg string) *Error {
	t.Helper()
	require.Error(t, err)
	var le *Error
	require.True(t, errors.As(err, &le), "error %T %v is not *Error", err, err)
	assert.Equal(t, kind, le.Kind, "%v", err)
	assert.NotContains(t, err.Error(), "\n")
	if msg != "" {
		assert.Equal(t, msg, err.Error())
	}
	return le
}

func TestOSErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	_, err := Load(missing)
	le := requireKind(t, err, NotExist, "stat "+missing+": no such file or directory")
	assert.True(t, errors.Is(err, fs.ErrNotExist))
	assert.Equal(t, missing, le.Path)
	assert.Equal(t, NotExist, KindOf(err))

	dir := t.TempDir()
	_, err = Load(dir)
	requireKind(t, err, Unreadable, dir+": not a regular file (a directory): only regular files can be run")
	assert.True(t, errors.Is(err, fs.ErrPermission), "execve's EACCES")
	assert.False(t, errors.Is(err, fs.ErrNotExist))
	assert.Equal(t, ErrKind(0), KindOf(errors.New("other")))
}

func TestRejectsNonExecutables(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, nil, 0o755))
	_, err := Load(empty)
	requireKind(t, err, NotELF, empty+": not an ELF executable")

	_, err = Parse("hello.txt", []byte("hello"))
	requireKind(t, err, NotELF, "hello.txt: not an ELF executable")
	_, err = Parse("script", []byte("#!/bin/sh\necho hi\n"))
	requireKind(t, err, NotELF, "script: not an ELF executable")

	obj := buildProg(t, "obj")
	_, err = Load(obj)
	requireKind(t, err, NotELF, obj+": not an executable (ET_REL: a relocatable object file; link it first)")

	data := readProg(t, "tiny64")
	binary.LittleEndian.PutUint16(data[16:], uint16(elf.ET_CORE))
	_, err = Parse("core", data)
	requireKind(t, err, NotELF, "core: not an executable (ET_CORE: a core dump)")
}

func TestDynamicProgramsNameTheirInterpreter(t *testing.T) {
	for _, c := range []struct {
		variant, interp string
		arch            Arch
	}{{"dyn", "/lib64/ld-linux-x86-64.so.2", ArchX8664}, {"dyn32", "/lib/ld-linux.so.2", ArchI386}} {
		path := buildProg(t, c.variant)
		im, err := Load(path)
		require.NoError(t, err)
		assert.Equal(t, c.interp, im.Interp)
		assert.False(t, im.StaticPIE, "a PIE with PT_INTERP is not a static-pie")
		// Debian's gcc links PIEs: ET_DYN programs go to ELF_ET_DYN_BASE.
		assert.Equal(t, c.arch.DynBase(), im.Segments[0].PageStart(), c.variant)
	}
}

func TestParseInterpPlacesTheLoaderWhereRebaseSays(t *testing.T) {
	for _, c := range []struct {
		path string
		arch Arch
	}{{"/lib64/ld-linux-x86-64.so.2", ArchX8664}, {"/lib/ld-linux.so.2", ArchI386}} {
		data, err := os.ReadFile(c.path)
		require.NoError(t, err)
		im, err := ParseInterp(c.path, bytes.NewReader(data), int64(len(data)), c.arch)
		require.NoError(t, err)
		require.Equal(t, uint64(0), im.Segments[0].PageStart(), "planned at bias 0")
		span := im.Span()
		entry := im.Entry
		const base = 0x7fff0000
		im.Rebase(base)
		assert.Equal(t, uint64(base), im.Bias)
		assert.Equal(t, uint64(base), im.Segments[0].PageStart())
		assert.Equal(t, span, im.Span())
		assert.Equal(t, entry+base, im.Entry)
		syms, err := im.Symbols()
		require.NoError(t, err)
		if len(syms) > 0 {
			assert.GreaterOrEqual(t, syms[0].Value, uint64(base), "symbols are read relocated")
		}

		other := ArchI386
		if c.arch == ArchI386 {
			other = ArchX8664
		}
		_, err = ParseInterp(c.path, bytes.NewReader(data), int64(len(data)), other)
		requireKind(t, err, Unsupported, "")
	}
}

func TestBadInterpreterPaths(t *testing.T) {
	path := buildProg(t, "dyn")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	f, err := elf.NewFile(bytes.NewReader(data))
	require.NoError(t, err)
	var interp *elf.Prog
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			interp = p
		}
	}
	require.NotNil(t, interp)
	end := int(interp.Off + interp.Filesz - 1)
	_, err = Parse("p", patch(data, end, 'x'))
	requireKind(t, err, Corrupt, "p: corrupt ELF: PT_INTERP is not NUL-terminated")
	_, err = Parse("p", patch(data, int(interp.Off)+3, 0))
	requireKind(t, err, Corrupt, "p: corrupt ELF: PT_INTERP has a NUL inside the path")
}

// patch returns a copy of data with b written at off.
func patch(data []byte, off int, b ...byte) []byte {
	c := bytes.Clone(data)
	copy(c[off:], b)
	return c
}

func u16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

func TestRejectsUnsupported(t *testing.T) {
	x64 := readProg(t, "tiny64")
	i386 := readProg(t, "tiny32")
	cases := []struct {
		name string
		data []byte
		msg  string
	}{
		{"aarch64", patch(x64, 18, u16(uint16(elf.EM_AARCH64))...),
			"p: unsupported machine EM_AARCH64 (probesim runs i386 and x86-64)"},
		{"arm32", patch(i386, 18, u16(uint16(elf.EM_ARM))...),
			"p: unsupported machine EM_ARM (probesim runs i386 and x86-64)"},
		{"x32", patch(i386, 18, u16(uint16(elf.EM_X86_64))...),
			"p: unsupported x32 ABI program (ELFCLASS32, EM_X86_64) (probesim runs i386 and x86-64)"},
		{"386in64", patch(x64, 18, u16(uint16(elf.EM_386))...),
			"p: unsupported machine EM_386 in an ELFCLASS64 file (probesim runs i386 and x86-64)"},
		{"bigendian", patch(x64, elf.EI_DATA, byte(elf.ELFDATA2MSB)),
			"p: unsupported data encoding ELFDATA2MSB (probesim runs little-endian i386 and x86-64)"},
		{"classnone", patch(x64, elf.EI_CLASS, 0),
			"p: unsupported ELF class ELFCLASSNONE (probesim runs i386 and x86-64)"},
		{"freebsd", patch(x64, elf.EI_OSABI, byte(elf.ELFOSABI_FREEBSD)),
			"p: unsupported OS ABI ELFOSABI_FREEBSD (probesim runs Linux programs)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("p", c.data)
			requireKind(t, err, Unsupported, c.msg)
		})
	}
	// ELFOSABI_LINUX (GNU) is accepted like ELFOSABI_NONE.
	_, err := Parse("p", patch(x64, elf.EI_OSABI, byte(elf.ELFOSABI_LINUX)))
	require.NoError(t, err)
}
