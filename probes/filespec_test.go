package probes

import (
	"debug/elf"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
)

// Debian's C libraries, libc6 and gcc-multilib's libc6-i386 (make deps),
// with the version their base symbols carry.
var libcs = []struct {
	arch, path, version string
}{
	{fixtures.ArchAMD64, "/lib/x86_64-linux-gnu/libc.so.6", "GLIBC_2.2.5"},
	{fixtures.ArchI386, "/lib32/libc.so.6", "GLIBC_2.0"},
}

// dynsymValue is readelf's address of NAME@@VERSION in path, the oracle.
func dynsymValue(t *testing.T, path, name string) uint64 {
	t.Helper()
	out, err := exec.Command("readelf", "-W", "--dyn-syms", path).Output()
	require.NoError(t, err, "readelf (binutils, make deps)")
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 8 && f[7] == name {
			v, err := strconv.ParseUint(f[1], 16, 64)
			require.NoError(t, err)
			return v
		}
	}
	t.Fatalf("readelf: no %s in %s", name, path)
	return 0
}

// TestResolveLibrarySymbols: perf's and bpftrace's forms on Debian's
// libc.so.6 resolve to the file offset readelf gives (through the text
// PT_LOAD), with the instruction's bytes from the file, the version
// spelled or not, an offset into the function checked for a boundary, and
// the IFUNC strlen on its resolver with the note perf's warning gives.
func TestResolveLibrarySymbols(t *testing.T) {
	for _, lc := range libcs {
		t.Run(lc.arch, func(t *testing.T) {
			im := loadFixture(t, lc.arch, "threads")
			data, err := os.ReadFile(lc.path)
			require.NoError(t, err)
			r := &Resolver{Image: im}
			for _, name := range []string{"malloc", "free", "strlen"} {
				want := dynsymValue(t, lc.path, name+"@@"+lc.version)
				for _, text := range []string{lc.path + ":" + name, "uprobe:" + lc.path + ":" + name,
					lc.path + ":" + name + "@@" + lc.version, lc.path + ":" + name + "%return", "uretprobe:" + lc.path + ":" + name} {
					s, err := r.Resolve(text)
					require.NoError(t, err, text)
					require.NotNil(t, s.File, text)
					assert.Zero(t, s.Addr, "no address until mapped")
					assert.Equal(t, want, s.File.Vaddr, text)
					// Debian's libc links its text at its file offset.
					assert.Equal(t, want, s.File.Offset, text)
					assert.Equal(t, data[want:want+uint64(s.Len)], s.Bytes, text)
					assert.Equal(t, name, s.Symbol)
					assert.Equal(t, strings.Contains(text, "%return") || strings.HasPrefix(text, "uret"), s.Return, text)
					assert.Equal(t, name == "strlen", s.Note != "", "%s: the IFUNC note", text)
					assert.NotZero(t, s.File.Ino)
					assert.Equal(t, lc.path, s.File.Path)
				}
				off, err := r.Resolve(lc.path + ":0x" + strconv.FormatUint(want, 16))
				require.NoError(t, err)
				assert.Equal(t, want, off.File.Offset, "BINARY:0xOFFSET is a file offset")
				assert.Zero(t, off.Offset, "at a symbol's start (%s, an alias of %s)", off.Symbol, name)
			}
			// malloc+1 is inside its first instruction (endbr64 on x86-64,
			// push or endbr32 on i386) unless that is one byte long.
			m, err := r.Resolve(lc.path + ":malloc")
			require.NoError(t, err)
			next, err := r.Resolve(lc.path + ":malloc+" + strconv.Itoa(m.Len))
			require.NoError(t, err)
			assert.Equal(t, m.File.Offset+uint64(m.Len), next.File.Offset)
			if m.Len > 1 {
				_, err = r.Resolve(lc.path + ":malloc+1")
				assert.ErrorContains(t, err, "not on an instruction boundary")
			}
		})
	}
}

// TestResolveLibraryErrors: one line naming the file and the symbol, for
// a missing file, a file that is not ELF, an unknown symbol, a stripped
// library, a library of the other arch, and a place that is not code.
func TestResolveLibraryErrors(t *testing.T) {
	im := loadFixture(t, fixtures.ArchAMD64, "threads")
	dir := t.TempDir()
	text := dir + "/notes.txt"
	require.NoError(t, os.WriteFile(text, []byte("not a library\n"), 0o644))
	stripped := dir + "/libstripped.so"
	require.NoError(t, exec.Command("objcopy", "--strip-all", "--remove-section=.dynsym", "--remove-section=.dynstr",
		"--remove-section=.gnu.hash", "--remove-section=.hash", "--remove-section=.gnu.version",
		"--remove-section=.note.gnu.build-id", "/lib/x86_64-linux-gnu/libc.so.6", stripped).Run())
	libc := "/lib/x86_64-linux-gnu/libc.so.6"
	for spec, want := range map[string]string{
		"/lib/x86_64-linux-gnu/libnope.so.1:malloc": `probe "/lib/x86_64-linux-gnu/libnope.so.1:malloc": /lib/x86_64-linux-gnu/libnope.so.1: no such file`,
		text + ":malloc":           `probe "` + text + `:malloc": ` + text + `: not an ELF file`,
		libc + ":no_such_function": `probe "` + libc + `:no_such_function": no symbol "no_such_function" in ` + libc + ` (.symtab of /usr/lib/debug/.build-id/`,
		"uprobe:" + libc + ":nope": `no symbol "nope" in ` + libc,
		stripped + ":malloc":       `probe "` + stripped + `:malloc": ` + stripped + ` is stripped (no .symtab or .dynsym symbols): no symbol "malloc"`,
		"/lib32/libc.so.6:malloc":  `/lib32/libc.so.6 is i386, the program is x86_64`,
		libc + ":0x10":             `offset 0x10 of ` + libc + ` is not in an executable segment`,
		libc + ":0x7fffffff":       `offset 0x7fffffff is not in a loaded segment`,
		libc + ":malloc+100000":    `offset 100000 is past the end of malloc`,
		libc + ":":                 `nothing after the binary`,
		libc + ":malloc+1%return":  `a return probe must be on a function's first instruction`,
	} {
		_, err := Resolve(im, spec)
		require.Error(t, err, spec)
		assert.Contains(t, err.Error(), want, spec)
		assert.NotContains(t, err.Error(), "\n", spec)
	}
	_, err := ParseList(im, []string{libc + ":malloc", "uprobe:" + libc + ":malloc"})
	assert.EqualError(t, err, `probe "uprobe:`+libc+`:malloc": same offset 0x`+strconv.FormatUint(dynsymValue(t, libc, "malloc@@GLIBC_2.2.5"), 16)+` of `+libc+` as probe "`+libc+`:malloc"`)
	specs, err := ParseList(im, []string{libc + ":malloc", libc + ":malloc%return", "probed"})
	require.NoError(t, err, "an entry and a return probe share an offset")
	assert.Len(t, specs, 3)
}

// TestResolveProgramByName: naming the program itself gives the program's
// probe, at its address as before; BINARY:0xOFFSET is then a file offset.
func TestResolveProgramByName(t *testing.T) {
	for _, a := range arches {
		im := loadFixture(t, a.name, "threads")
		plain, err := Resolve(im, "probed")
		require.NoError(t, err)
		named, err := Resolve(im, im.Path+":probed")
		require.NoError(t, err)
		assert.Nil(t, named.File)
		assert.Equal(t, plain.Addr, named.Addr)
		seg, ok := im.SegmentAt(plain.Addr)
		require.True(t, ok)
		off := plain.Addr - seg.Vaddr + seg.FileOff
		byOff, err := Resolve(im, im.Path+":0x"+strconv.FormatUint(off, 16))
		require.NoError(t, err)
		assert.Equal(t, plain.Addr, byOff.Addr, "a file offset of the program")
		byGuest, err := (&Resolver{Image: im, GuestPath: "/usr/bin/threads"}).Resolve("uprobe:/usr/bin/threads:probed")
		require.NoError(t, err)
		assert.Equal(t, plain.Addr, byGuest.Addr, "the program's path in the guest")
	}
}

// TestResolveFileOffsetAndAddress: on a file whose text is not linked at
// its file offset (a copy of the mapexec fixture, ET_EXEC at 0x400000),
// perf's FILE:0xOFFSET is a file offset and bpftrace's uprobe:FILE:0xADDR
// the file's own link-time address: both name mapped_work, at the offset
// readelf's PT_LOAD gives.
func TestResolveFileOffsetAndAddress(t *testing.T) {
	for _, a := range arches {
		im := loadFixture(t, a.name, "threads")
		_, lib := libraryCopy(t, a.name)
		vaddr := elfSymbol(t, lib, "mapped_work")
		sym, err := Resolve(im, lib+":mapped_work")
		require.NoError(t, err)
		off := sym.File.Offset
		assert.Equal(t, vaddr, sym.File.Vaddr)
		assert.NotEqual(t, vaddr, off, "ET_EXEC: linked above its file offset")
		f, err := elf.Open(lib)
		require.NoError(t, err)
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && vaddr >= p.Vaddr && vaddr < p.Vaddr+p.Filesz {
				assert.Equal(t, vaddr-p.Vaddr+p.Off, off, "through the PT_LOAD, as perf converts it")
			}
		}
		f.Close()
		byOff, err := Resolve(im, lib+":0x"+strconv.FormatUint(off, 16))
		require.NoError(t, err)
		byAddr, err := Resolve(im, "uprobe:"+lib+":0x"+strconv.FormatUint(vaddr, 16))
		require.NoError(t, err)
		for _, s := range []Spec{byOff, byAddr} {
			assert.Equal(t, *sym.File, *s.File, s.Text)
			assert.Equal(t, "mapped_work", s.Symbol, s.Text)
			assert.Equal(t, sym.Bytes, s.Bytes, s.Text)
		}
		_, err = Resolve(im, lib+":0x"+strconv.FormatUint(vaddr, 16))
		assert.ErrorContains(t, err, "is not in a loaded segment", "an address is no file offset")
	}
}
