package loader

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Debian's own C libraries: libc6 and gcc-multilib's libc6-i386 (make deps).
const (
	libc64 = "/lib/x86_64-linux-gnu/libc.so.6"
	libc32 = "/lib32/libc.so.6"
)

func readObject(t *testing.T, path string) *Object {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	require.NoError(t, err)
	o, err := ReadObject(path, f, st.Size())
	require.NoError(t, err)
	return o
}

// readelfDynsym is readelf's view of a file's dynamic symbols: the
// address, size and type of each NAME@VERSION or NAME@@VERSION.
func readelfDynsym(t *testing.T, path string) map[string][3]string {
	t.Helper()
	out, err := exec.Command("readelf", "-W", "--dyn-syms", path).Output()
	require.NoError(t, err, "readelf (binutils, make deps)")
	syms := map[string][3]string{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 8 && f[6] != "UND" {
			syms[f[7]] = [3]string{f[1], f[2], f[3]}
		}
	}
	return syms
}

// TestObjectLibc: Debian's stripped libc.so.6 (both arches) reads as a
// shared library with a PT_INTERP, symbols from .dynsym, and the lookups a
// probe makes agree with readelf: malloc and free, the IFUNC strlen,
// versioned names, and two versions of memcpy, the default one an IFUNC.
func TestObjectLibc(t *testing.T) {
	for _, c := range []struct {
		path, ver string
		arch      Arch
	}{{libc64, "GLIBC_2.2.5", ArchX8664}, {libc32, "GLIBC_2.0", ArchI386}} {
		t.Run(c.arch.String(), func(t *testing.T) {
			o := readObject(t, c.path)
			assert.Equal(t, c.arch, o.Arch)
			assert.Equal(t, elf.ET_DYN, o.Type)
			assert.True(t, o.Interp, "libc.so.6 runs as a program")
			assert.Equal(t, DynsymSection, o.SymbolSource(), "Debian strips .symtab")
			real := readelfDynsym(t, c.path)
			for _, name := range []string{"malloc", "free", "strlen", "exit"} {
				want, ok := real[name+"@@"+c.ver]
				require.True(t, ok, name)
				for _, spelled := range []string{name, name + "@@" + c.ver, name + "@" + c.ver} {
					s, ok := o.Lookup(spelled)
					require.True(t, ok, spelled)
					v, _ := strconv.ParseUint(want[0], 16, 64)
					assert.Equal(t, v, s.Value, spelled)
					assert.Equal(t, want[1], strconv.FormatUint(s.Size, 10), spelled)
					assert.Equal(t, want[2] == "IFUNC", s.IFUNC, spelled)
					assert.Equal(t, name, s.Name)
					assert.Equal(t, c.ver, s.Version)
					assert.False(t, s.Hidden)
				}
				s, _ := o.Lookup(name)
				l, ok := o.LoadOfVaddr(s.Value)
				require.True(t, ok)
				assert.True(t, l.Exec, "%s is in the text segment", name)
				at, off, ok := o.SymbolAt(s.Value + 1)
				require.True(t, ok)
				assert.Equal(t, uint64(1), off)
				assert.Equal(t, s.Value, at.Value)
			}
			strlen, _ := o.Lookup("strlen")
			assert.True(t, strlen.IFUNC)
			_, ok := o.Lookup("no_such_function")
			assert.False(t, ok)
			_, ok = o.Lookup("malloc@@GLIBC_9.9")
			assert.False(t, ok)
		})
	}
	o := readObject(t, libc64)
	old, ok := o.Lookup("memcpy@GLIBC_2.2.5")
	require.True(t, ok)
	cur, ok := o.Lookup("memcpy")
	require.True(t, ok)
	real := readelfDynsym(t, libc64)
	v, _ := strconv.ParseUint(real["memcpy@GLIBC_2.2.5"][0], 16, 64)
	assert.Equal(t, v, old.Value, "the old version")
	assert.NotEqual(t, old.Value, cur.Value)
	assert.True(t, old.Hidden)
	assert.False(t, old.IFUNC)
	assert.Equal(t, "IFUNC", real["memcpy@@GLIBC_2.14"][2])
	assert.True(t, cur.IFUNC, "plain memcpy is the default version, an IFUNC")
	assert.Equal(t, "GLIBC_2.14", cur.Version)
}

// TestObjectErrors: what is not an ELF program or library is refused
// with its kind.
func TestObjectErrors(t *testing.T) {
	_, err := ReadObject("text", strings.NewReader("hello, world\n"), 13)
	requireKind(t, err, NotELF, "text: not an ELF file")
	_, err = ReadObject("empty", strings.NewReader(""), 0)
	requireKind(t, err, NotELF, "")
	data, err := os.ReadFile(libc64)
	require.NoError(t, err)
	_, err = ReadObject("cut", strings.NewReader(string(data[:100])), 100)
	requireKind(t, err, Corrupt, "")
}

// TestObjectDebugFile: Debian's libc6-dbg has libc.so.6's .symtab in its
// build-id debug file; with it the implementations behind the IFUNCs
// (__strlen_avx2, __strlen_sse2) are found, at the addresses readelf gives
// in the debug file, and the .dynsym names are found still.
func TestObjectDebugFile(t *testing.T) {
	o := readObject(t, libc64)
	require.Len(t, o.BuildID(), 40)
	out, err := exec.Command("readelf", "-n", libc64).Output()
	require.NoError(t, err)
	assert.Contains(t, string(out), "Build ID: "+o.BuildID())
	path := DebugFilePath(o.BuildID())
	f, err := os.Open(path)
	require.NoError(t, err, "libc6-dbg (make deps)")
	defer f.Close()
	st, err := f.Stat()
	require.NoError(t, err)
	_, ok := o.Lookup("__strlen_avx2")
	require.False(t, ok, "not in .dynsym")
	require.True(t, o.UseDebugSymbols(path, f, st.Size()))
	assert.Equal(t, SymtabSection, o.SymbolSource())
	assert.Equal(t, path, o.DebugFile())
	syms, err := exec.Command("readelf", "-Ws", path).Output()
	require.NoError(t, err)
	for _, name := range []string{"__strlen_avx2", "__strlen_sse2", "malloc"} {
		s, ok := o.Lookup(name)
		require.True(t, ok, name)
		assert.Regexp(t, fmt.Sprintf(`(?m)^\s*\d+: 0*%x\s+\d+\s+\w+\s+\w+\s+\w+\s+\d+ %s$`, s.Value, regexp.QuoteMeta(name)), string(syms), name)
		l, ok := o.LoadOfVaddr(s.Value)
		require.True(t, ok, name)
		assert.True(t, l.Exec, name)
	}
	other := readObject(t, libc32)
	assert.False(t, other.UseDebugSymbols(path, f, st.Size()), "another file's build ID")
}
