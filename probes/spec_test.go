package probes

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/emu/insn"
	"github.com/probesim/probesim/emu/loader"
	"github.com/probesim/probesim/fixtures"
)

// arches pairs a fixture directory name with its decoding mode.
var arches = []struct {
	name string
	mode int
}{{fixtures.ArchI386, 32}, {fixtures.ArchAMD64, 64}}

// loadFixture loads a built fixture; `make fixtures` builds them.
func loadFixture(t *testing.T, arch, name string) *loader.Image {
	t.Helper()
	path, err := fixtures.Path(arch, name)
	require.NoError(t, err)
	im, err := loader.Load(path)
	require.NoError(t, err)
	return im
}

// elfSymbol reads a symbol's value (a global first, else the first local) with debug/elf, independently of the
// loader, as the oracle for Resolve.
func elfSymbol(t *testing.T, path, name string) uint64 {
	t.Helper()
	f, err := elf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	syms, err := f.Symbols()
	require.NoError(t, err)
	local, found := uint64(0), false
	for _, s := range syms {
		if s.Name != name {
			continue
		}
		if elf.ST_BIND(s.Info) == elf.STB_GLOBAL {
			return s.Value
		}
		if !found {
			local, found = s.Value, true
		}
	}
	if found {
		return local
	}
	t.Fatalf("no symbol %s in %s", name, path)
	return 0
}

// codeAt returns the image's bytes at addr (up to 15).
func codeAt(t *testing.T, im *loader.Image, addr uint64) []byte {
	t.Helper()
	seg, ok := im.SegmentAt(addr)
	require.True(t, ok)
	b := seg.Data[addr-seg.Vaddr:]
	return b[:min(len(b), 15)]
}

func TestResolveSymbolEntries(t *testing.T) {
	for _, a := range arches {
		im := loadFixture(t, a.name, "threads")
		for _, name := range []string{"probed", "main"} {
			s, err := Resolve(im, name)
			require.NoError(t, err, "%s %s", a.name, name)
			assert.Equal(t, elfSymbol(t, im.Path, name), s.Addr, "%s %s", a.name, name)
			assert.Equal(t, name, s.Symbol)
			assert.Equal(t, uint64(0), s.Offset)
			assert.Equal(t, name, s.Text)
			n, err := insn.Len(codeAt(t, im, s.Addr), a.mode)
			require.NoError(t, err)
			assert.Equal(t, n, s.Len)
			assert.Equal(t, codeAt(t, im, s.Addr)[:n], s.Bytes)
		}
	}
}

// probed's first instructions (from objdump of the fixtures): on i386
// "imul edx, [esp+4], 0x9e3779b1" (8 bytes) then "lock add dword ptr
// [0x...], 1"; on x86-64 "imul edi, edi, 0x9e3779b1" (6 bytes) then "lock
// add qword ptr [rip+...], 1". The lengths are computed by decoding here.
func TestResolveOffsetsInProbed(t *testing.T) {
	for _, a := range arches {
		im := loadFixture(t, a.name, "threads")
		base := elfSymbol(t, im.Path, "probed")
		first, err := insn.Len(codeAt(t, im, base), a.mode)
		require.NoError(t, err)
		require.Greater(t, first, 3, "probed+3 must be inside the first instruction")

		// The second instruction, by decimal and hex offset.
		for _, text := range []string{fmt.Sprintf("probed+%d", first), fmt.Sprintf("probed+0x%x", first)} {
			s, err := Resolve(im, text)
			require.NoError(t, err, text)
			assert.Equal(t, base+uint64(first), s.Addr, text)
			assert.Equal(t, uint64(first), s.Offset)
			// atomic_fetch_add on total_calls: LOCK-prefixed, accepted and
			// flagged; RIP-relative on x86-64, absolute on i386.
			assert.Equal(t, "Linux uprobes refuses lock prefix", s.LinuxRefusal, text)
			if a.mode == 64 {
				assert.Equal(t, ClassRIPRelative, s.Class, text)
			} else {
				assert.Equal(t, ClassPlain, s.Class, text)
			}
		}
		// The same instruction by absolute address.
		s, err := Resolve(im, fmt.Sprintf("0x%x", base+uint64(first)))
		require.NoError(t, err)
		assert.Equal(t, "probed", s.Symbol)
		assert.Equal(t, uint64(first), s.Offset)

		_, err = Resolve(im, "probed+3")
		require.EqualError(t, err, fmt.Sprintf(
			`probe "probed+3": not on an instruction boundary (instructions start at probed+0 and probed+%d)`, first))
		_, err = Resolve(im, fmt.Sprintf("0x%x", base+1))
		require.EqualError(t, err, fmt.Sprintf(
			`probe "0x%x": not on an instruction boundary (instructions start at probed+0 and probed+%d)`, base+1, first))
	}
}

// TestRawAddressWithoutSymbolSize: an address no symbol's size covers
// (parse_dec of the assembly fixtures has no .size) is checked by decoding
// from the nearest symbol before it, so one inside an instruction is
// refused, as it is for a symbol with a size.
func TestRawAddressWithoutSymbolSize(t *testing.T) {
	for _, a := range arches {
		im := loadFixture(t, a.name, "loop")
		base := elfSymbol(t, im.Path, "parse_dec")
		sym, _, ok := im.SymbolAt(base + 1)
		require.False(t, ok && sym.Name == "parse_dec" && sym.Size > 0, "parse_dec has no size (%+v)", sym)
		first, err := insn.Len(codeAt(t, im, base), a.mode)
		require.NoError(t, err)
		require.Greater(t, first, 1)
		_, err = Resolve(im, fmt.Sprintf("0x%x", base+1))
		require.EqualError(t, err, fmt.Sprintf(`probe "0x%x": not on an instruction boundary (instructions start at parse_dec+0 and parse_dec+%d), decoding from parse_dec, the nearest symbol before it`, base+1, first))
		s, err := Resolve(im, fmt.Sprintf("0x%x", base+uint64(first)))
		require.NoError(t, err, "the next instruction")
		assert.Equal(t, base+uint64(first), s.Addr)
	}
}

// The ret that ends probed is found by decoding and classed ClassRet.
func TestResolveProbedRet(t *testing.T) {
	for _, a := range arches {
		im := loadFixture(t, a.name, "threads")
		base := elfSymbol(t, im.Path, "probed")
		off := 0
		for {
			inst, err := insn.Decode(codeAt(t, im, base+uint64(off)), a.mode)
			require.NoError(t, err)
			if Classify(inst, a.mode) == ClassRet {
				break
			}
			off += inst.Len
			require.Less(t, off, 64, "no ret in probed")
		}
		s, err := Resolve(im, fmt.Sprintf("probed+%d", off))
		require.NoError(t, err)
		assert.Equal(t, ClassRet, s.Class)
		assert.Equal(t, []byte{0xC3}, s.Bytes)
	}
}

func TestResolveErrors(t *testing.T) {
	for _, a := range arches {
		im := loadFixture(t, a.name, "threads")
		data := elfSymbol(t, im.Path, "total_calls") // an atomic counter in .bss/.data
		cases := map[string]string{
			"nosuch":          fmt.Sprintf(`probe "nosuch": no symbol "nosuch" in %s`, im.Path),
			"nosuch+4":        fmt.Sprintf(`probe "nosuch+4": no symbol "nosuch" in %s`, im.Path),
			"main+x":          `probe "main+x": bad offset "x"`,
			"main+":           `probe "main+": bad offset ""`,
			"main+-1":         `probe "main+-1": bad offset "-1"`,
			"main+0xzz":       `probe "main+0xzz": bad offset "0xzz"`,
			"0x10":            `probe "0x10": address is not in an executable segment`,
			"0xnothex":        `probe "0xnothex": bad address "0xnothex"`,
			"":                `probe "": empty probe spec (want SYMBOL, SYMBOL+OFFSET or 0xADDRESS)`,
			"total_calls":     `probe "total_calls": address is not in an executable segment`,
			"main+1000000000": `probe "main+1000000000": offset 1000000000 is past the end of main`,
		}
		cases[fmt.Sprintf("0x%x", data)] = fmt.Sprintf(`probe "0x%x": address is not in an executable segment`, data)
		for text, want := range cases {
			_, err := Resolve(im, text)
			require.Error(t, err, "%s %q", a.name, text)
			assert.Contains(t, err.Error(), want, "%s %q", a.name, text)
			assert.NotContains(t, err.Error(), "\n")
		}
	}
	_, err := Resolve(nil, "main")
	require.EqualError(t, err, `probe "main": no program image`)
}

// An address in .data is refused even though a symbol contains it.
func TestResolveDataSectionAddress(t *testing.T) {
	for _, a := range arches {
		path, err := fixtures.Path(a.name, "threads")
		require.NoError(t, err)
		f, err := elf.Open(path)
		require.NoError(t, err)
		sec := f.Section(".data")
		f.Close()
		require.NotNil(t, sec)
		im := loadFixture(t, a.name, "threads")
		text := fmt.Sprintf("0x%x", sec.Addr+8)
		_, err = Resolve(im, text)
		require.EqualError(t, err, fmt.Sprintf(`probe %q: address is not in an executable segment`, text))
	}
}

// The i386 static glibc has functions whose first instruction is call rel32
// (the .cold parts that start with "call abort"); the first such function
// symbol resolves to ClassRelCall.
func TestResolveI386CallAtFunctionEntry(t *testing.T) {
	im := loadFixture(t, fixtures.ArchI386, "threads")
	found := ""
	syms, err := im.Symbols()
	require.NoError(t, err)
	for _, sym := range syms {
		seg, ok := im.SegmentAt(sym.Value)
		if !sym.Func || !ok || !seg.Exec {
			continue
		}
		inst, err := insn.Decode(codeAt(t, im, sym.Value), 32)
		if err == nil && Classify(inst, 32) == ClassRelCall {
			if got, ok := im.Lookup(sym.Name); ok && got.Value == sym.Value {
				found = sym.Name
				break
			}
		}
	}
	require.NotEmpty(t, found, "no i386 function starts with call rel32")
	s, err := Resolve(im, found)
	require.NoError(t, err)
	assert.Equal(t, ClassRelCall, s.Class)
	assert.Equal(t, byte(0xE8), s.Bytes[0])
	assert.Equal(t, 4, StackWriteBytes(s.Insn, 32))
}

func TestParseList(t *testing.T) {
	im := loadFixture(t, fixtures.ArchAMD64, "threads")
	base := elfSymbol(t, im.Path, "probed")
	specs, err := ParseList(im, []string{"probed", "main"})
	require.NoError(t, err)
	require.Len(t, specs, 2)
	assert.Equal(t, "probed", specs[0].Text)
	assert.Equal(t, "main", specs[1].Text)

	_, err = ParseList(im, []string{"probed", fmt.Sprintf("0x%x", base), "nosuch", "main+x"})
	require.EqualError(t, err, fmt.Sprintf(
		"probe \"0x%x\": same address 0x%x as probe \"probed\"\n"+
			"probe \"nosuch\": no symbol \"nosuch\" in %s\n"+
			"probe \"main+x\": bad offset \"x\"", base, base, im.Path))

	specs, err = ParseList(im, nil)
	require.NoError(t, err)
	assert.Empty(t, specs)
}

func TestParseOffset(t *testing.T) {
	for in, want := range map[string]uint64{"0": 0, "10": 10, "010": 10, "0x10": 16, "0X1f": 31} {
		got, err := parseOffset(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "x", "+1", "-1", "0x", "1.5", "99999999999999999999"} {
		_, err := parseOffset(in)
		assert.EqualError(t, err, fmt.Sprintf("bad offset %q", in))
	}
}

// TestResolveWithDamagedSectionHeaders: a program whose e_shstrndx is
// garbage runs (the loader needs program headers only), but no probe spec
// resolves, a symbol or an address, and the one error says why.
func TestResolveWithDamagedSectionHeaders(t *testing.T) {
	for _, a := range arches {
		path, err := fixtures.Path(a.name, "threads")
		require.NoError(t, err)
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		shstrndx := 62
		if a.mode == 32 {
			shstrndx = 50
		}
		binary.LittleEndian.PutUint16(data[shstrndx:], 0xfeff)
		im, err := loader.Parse("damaged", data)
		require.NoError(t, err)
		entry := fmt.Sprintf("0x%x", im.Entry)
		for _, text := range []string{"probed", entry} {
			_, err = Resolve(im, text)
			var ue *UnresolvableError
			require.ErrorAs(t, err, &ue, text)
			assert.Equal(t, fmt.Sprintf(`damaged: cannot resolve probe %q: section headers corrupt: invalid ELF shstrndx '65279' in record at byte 0x0`, text), err.Error())
			assert.ErrorIs(t, err, loader.ErrSectionHeaders)
		}
		_, err = ParseList(im, []string{"probed", "main", entry})
		assert.EqualError(t, err, `damaged: cannot resolve probe "probed": section headers corrupt: invalid ELF shstrndx '65279' in record at byte 0x0`)
	}
}

// TestResolveBpftraceForms: uprobe:[PATH:]SPEC is SPEC and
// uretprobe:[PATH:]SPEC is SPEC%return; a PATH that is the program run
// (the same path or the same file) gives the program's probe, another
// names a file probe (filespec_test.go), and bad forms a one-line error.
func TestResolveBpftraceForms(t *testing.T) {
	for _, a := range arches {
		im := loadFixture(t, a.name, "threads")
		link := t.TempDir() + "/threads"
		require.NoError(t, os.Symlink(im.Path, link))
		entry, err := Resolve(im, "probed")
		require.NoError(t, err)
		ret, err := Resolve(im, "probed%return")
		require.NoError(t, err)
		for _, text := range []string{"uprobe:probed", "uprobe:" + im.Path + ":probed", "uprobe:" + link + ":probed"} {
			s, err := Resolve(im, text)
			require.NoError(t, err, text)
			assert.Equal(t, entry.Addr, s.Addr, text)
			assert.False(t, s.Return, text)
			assert.Equal(t, text, s.Text)
		}
		for _, text := range []string{"uretprobe:probed", "uretprobe:" + link + ":probed"} {
			s, err := Resolve(im, text)
			require.NoError(t, err, text)
			assert.Equal(t, ret.Addr, s.Addr, text)
			assert.True(t, s.Return, text)
		}
		s, err := Resolve(im, "uretprobe:probed r=$retval")
		require.NoError(t, err)
		assert.Len(t, s.Args, 1, "fetch arguments follow the form too")
		for text, want := range map[string]string{
			"uprobe:":                  `probe "uprobe:": uprobe: no function after the prefix (want uprobe:[PATH:]SPEC)`,
			"uretprobe:/bin/sh:probed": `probe "uretprobe:/bin/sh:probed": `, // not in Debian's dash, or not this arch
			"uretprobe:probed%return":  `probe "uretprobe:probed%return": uretprobe: takes no %return suffix`,
			"uprobe:probed%return":     `probe "uprobe:probed%return": uprobe: takes no %return suffix`,
			"uretprobe:probed+1":       `a return probe must be on a function's first instruction`,
		} {
			_, err := Resolve(im, text)
			require.Error(t, err, text)
			assert.Contains(t, err.Error(), want, text)
			assert.NotContains(t, err.Error(), "\n")
		}
	}
}
