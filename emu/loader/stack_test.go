package loader

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodedStack is the initial stack read back the way a libc's _start does,
// independently of BuildStack's bookkeeping.
type decodedStack struct {
	argc       uint64
	argv, envp []string
	argvAddr   []uint64
	auxTypes   []AuxType
	aux        map[AuxType]uint64
	auxEnd     uint64 // first byte after the AT_NULL pair
}

func decodeStack(t *testing.T, arch Arch, img []byte, sp uint64) decodedStack {
	t.Helper()
	word := arch.WordSize()
	read := func(addr uint64) uint64 {
		require.GreaterOrEqual(t, addr, sp)
		require.LessOrEqual(t, addr-sp+word, uint64(len(img)))
		b := img[addr-sp:]
		if word == 4 {
			return uint64(binary.LittleEndian.Uint32(b))
		}
		return binary.LittleEndian.Uint64(b)
	}
	cstr := func(addr uint64) string {
		require.GreaterOrEqual(t, addr, sp)
		b := img[addr-sp:]
		n := bytes.IndexByte(b, 0)
		require.GreaterOrEqual(t, n, 0, "string at 0x%x is NUL-terminated", addr)
		return string(b[:n])
	}
	var d decodedStack
	d.aux = map[AuxType]uint64{}
	d.argc = read(sp)
	p := sp + word
	for ; read(p) != 0; p += word {
		d.argvAddr = append(d.argvAddr, read(p))
		d.argv = append(d.argv, cstr(read(p)))
	}
	for p += word; read(p) != 0; p += word {
		d.envp = append(d.envp, cstr(read(p)))
	}
	for p += word; ; p += 2 * word {
		typ := AuxType(read(p))
		d.auxTypes = append(d.auxTypes, typ)
		if typ == AtNull {
			break
		}
		d.aux[typ] = read(p + word)
	}
	d.auxEnd = p + 2*word
	return d
}

func loadTiny(t *testing.T, arch Arch) *Image {
	t.Helper()
	v := map[Arch]string{ArchI386: "tiny32", ArchX8664: "tiny64"}[arch]
	im, err := Load(buildProg(t, v))
	require.NoError(t, err)
	return im
}

func TestBuildStackRoundTrip(t *testing.T) {
	for _, arch := range []Arch{ArchI386, ArchX8664} {
		t.Run(arch.String(), func(t *testing.T) {
			im := loadTiny(t, arch)
			argv := []string{"/usr/bin/prog", "-x", "", "hello world"}
			envp := []string{"HOME=/root", "PATH=/bin:/usr/bin"}
			spec := NewStackSpec(im, argv, envp)
			for i := range spec.Random {
				spec.Random[i] = byte(0xA0 + i)
			}
			spec.HWCap = 0x178bfbff
			img, sp, lay, err := BuildStack(spec)
			require.NoError(t, err)

			top := arch.StackTop()
			assert.Zero(t, sp%16, "sp 16-byte aligned")
			assert.Equal(t, top-sp, uint64(len(img)))
			assert.Equal(t, sp, lay.SP)
			assert.Equal(t, top, lay.Top)

			d := decodeStack(t, arch, img, sp)
			assert.Equal(t, uint64(4), d.argc)
			assert.Equal(t, argv, d.argv)
			assert.Equal(t, envp, d.envp)
			assert.Equal(t, lay.Argv, d.argvAddr)

			assert.Equal(t, []AuxType{AtHWCap, AtPagesz, AtClkTck, AtPhdr, AtPhent, AtPhnum, AtBase,
				AtFlags, AtEntry, AtUID, AtEUID, AtGID, AtEGID, AtSecure, AtRandom, AtHWCap2,
				AtExecFn, AtPlatform, AtNull}, d.auxTypes)
			assert.Equal(t, im.Entry, d.aux[AtEntry])
			assert.Equal(t, im.PhdrAddr, d.aux[AtPhdr])
			assert.NotZero(t, d.aux[AtPhdr])
			assert.Equal(t, im.Phent, d.aux[AtPhent])
			assert.Equal(t, im.Phnum, d.aux[AtPhnum])
			assert.Equal(t, uint64(4096), d.aux[AtPagesz])
			assert.Equal(t, uint64(100), d.aux[AtClkTck])
			assert.Equal(t, uint64(0x178bfbff), d.aux[AtHWCap])
			assert.Equal(t, uint64(1000), d.aux[AtUID])
			assert.Equal(t, uint64(1000), d.aux[AtEUID])
			assert.Equal(t, uint64(1000), d.aux[AtGID])
			assert.Equal(t, uint64(1000), d.aux[AtEGID])
			assert.Zero(t, d.aux[AtSecure])
			assert.Zero(t, d.aux[AtBase])
			assert.Zero(t, d.aux[AtFlags])
			assert.NotContains(t, d.aux, AtSysinfoEHdr)

			rnd := d.aux[AtRandom]
			assert.Equal(t, lay.Random, rnd)
			assert.Equal(t, spec.Random[:], img[rnd-sp:rnd-sp+16])
			assert.Equal(t, lay.ExecFn, d.aux[AtExecFn])
			assert.Equal(t, "/usr/bin/prog\x00", string(img[lay.ExecFn-sp:lay.ExecFn-sp+14]))
			assert.Equal(t, lay.Platform, d.aux[AtPlatform])
			assert.Equal(t, arch.Platform()+"\x00", string(img[lay.Platform-sp:lay.Platform-sp+uint64(len(arch.Platform())+1)]))

			// Layout from the top, as in fs/exec.c and create_elf_tables.
			assert.Equal(t, make([]byte, 8), img[len(img)-8:], "end marker")
			assert.Equal(t, top-8-uint64(len(spec.ExecFn)+1), lay.ExecFn)
			assert.Equal(t, lay.ExecFn-uint64(len(envp[1])+1), lay.Envp[1])
			assert.Equal(t, lay.Envp[1]-uint64(len(envp[0])+1), lay.Envp[0])
			assert.Equal(t, lay.Envp[0]-uint64(len(argv[3])+1), lay.Argv[3])
			assert.Equal(t, lay.Argv[0], lay.Strings)
			assert.Equal(t, lay.Strings&^15-uint64(len(arch.Platform())+1), lay.Platform)
			assert.Equal(t, lay.Platform-16, lay.Random)
			assert.Equal(t, lay.Auxv+uint64(len(lay.Aux))*2*arch.WordSize(), d.auxEnd)
			assert.LessOrEqual(t, d.auxEnd, lay.Random)
			assert.Less(t, lay.Random-d.auxEnd, uint64(16), "only alignment padding above auxv")
			assert.Equal(t, sp+arch.WordSize(), lay.ArgvPtrs)
			assert.Equal(t, lay.ArgvPtrs+5*arch.WordSize(), lay.EnvpPtrs)
			assert.Equal(t, lay.EnvpPtrs+3*arch.WordSize(), lay.Auxv)
		})
	}
}

// TestBuildStackMatchesLinux compares with what Linux 6.18 (x86-64 kernel,
// randomize_va_space off via `setarch -R`) gave a static program run as
// `env -i X=1 ./auxdump a` (and ./auxdump32 for i386). Linux also passed
// AT_SYSINFO_EHDR, AT_MINSIGSTKSZ, AT_RSEQ_FEATURE_SIZE and AT_RSEQ_ALIGN
// (and AT_SYSINFO on i386); giving BuildStack the same number of extra
// entries must reproduce its stack pointer exactly.
func TestBuildStackMatchesLinux(t *testing.T) {
	cases := []struct {
		arch                          Arch
		execfn                        string
		extra                         []AuxEntry
		sp, argv0, argv1, envp0, exec uint64
		random, platform              uint64
	}{
		{ArchX8664, "./auxdump",
			[]AuxEntry{{AtSysinfoEHdr, 0x7ffff7ffd000}, {AtMinSigStkSz, 0xd30}, {AtRseqFeatSize, 0x1c}, {AtRseqAlign, 0x20}},
			0x7fffffffee10, 0x7fffffffefde, 0x7fffffffefe8, 0x7fffffffefea, 0x7fffffffefee,
			0x7fffffffefb9, 0x7fffffffefc9},
		{ArchI386, "./auxdump32",
			[]AuxEntry{{AtSysinfo, 0xf7ffc5e0}, {AtSysinfoEHdr, 0xf7ffc000}, {AtMinSigStkSz, 0xd30}, {AtRseqFeatSize, 0x1c}, {AtRseqAlign, 0x20}},
			0xffffdee0, 0xffffdfda, 0xffffdfe6, 0xffffdfe8, 0xffffdfec,
			0xffffdfbb, 0xffffdfcb},
	}
	for _, c := range cases {
		t.Run(c.arch.String(), func(t *testing.T) {
			spec := NewStackSpec(loadTiny(t, c.arch), []string{c.execfn, "a"}, []string{"X=1"})
			spec.Extra = c.extra
			img, sp, lay, err := BuildStack(spec)
			require.NoError(t, err)
			assert.Equal(t, c.sp, sp)
			assert.Equal(t, []uint64{c.argv0, c.argv1}, lay.Argv)
			assert.Equal(t, []uint64{c.envp0}, lay.Envp)
			assert.Equal(t, c.exec, lay.ExecFn)
			assert.Equal(t, c.random, lay.Random)
			assert.Equal(t, c.platform, lay.Platform)
			d := decodeStack(t, c.arch, img, sp)
			// Extra entries come right before AT_NULL.
			n := len(d.auxTypes)
			for i, e := range c.extra {
				assert.Equal(t, e.Type, d.auxTypes[n-1-len(c.extra)+i])
				assert.Equal(t, e.Value, d.aux[e.Type])
			}
		})
	}
}

func TestBuildStackEdgeCases(t *testing.T) {
	im := loadTiny(t, ArchX8664)

	// Empty argv becomes argv = {""} (fs/exec.c since Linux 5.18).
	spec := NewStackSpec(im, nil, nil)
	img, sp, lay, err := BuildStack(spec)
	require.NoError(t, err)
	d := decodeStack(t, ArchX8664, img, sp)
	assert.Equal(t, uint64(1), d.argc)
	assert.Equal(t, []string{""}, d.argv)
	assert.Empty(t, d.envp)
	assert.Equal(t, "", spec.ExecFn)
	assert.Equal(t, byte(0), img[lay.ExecFn-sp])

	// No platform: neither the string nor AT_PLATFORM.
	spec = NewStackSpec(im, []string{"p"}, nil)
	spec.Platform = ""
	spec.Secure = true
	spec.Top = 0x7fff0000
	img, sp, lay, err = BuildStack(spec)
	require.NoError(t, err)
	d = decodeStack(t, ArchX8664, img, sp)
	assert.NotContains(t, d.aux, AtPlatform)
	assert.Zero(t, lay.Platform)
	assert.Equal(t, uint64(1), d.aux[AtSecure])
	assert.Equal(t, uint64(0x7fff0000), lay.Top)
	assert.Equal(t, (lay.Strings&^15)-16, lay.Random)

	// Zero Top and Arch default from the image.
	img, sp, _, err = BuildStack(StackSpec{Image: im, Argv: []string{"p"}})
	require.NoError(t, err)
	assert.Equal(t, ArchX8664.StackTop(), sp+uint64(len(img)))
}

func TestBuildStackErrors(t *testing.T) {
	im := loadTiny(t, ArchX8664)
	base := func() StackSpec { return NewStackSpec(im, []string{"p"}, []string{"A=1"}) }
	cases := []struct {
		name   string
		mutate func(s *StackSpec)
		msg    string
		e2big  bool
	}{
		{"no image", func(s *StackSpec) { s.Image = nil }, "build stack: no image", false},
		{"arch mismatch", func(s *StackSpec) { s.Arch = ArchI386 },
			"build stack: architecture i386 does not match the x86_64 image", false},
		{"unaligned top", func(s *StackSpec) { s.Top = 0x7fff0008 },
			"build stack: top 0x7fff0008 is not 16-byte aligned or is above the x86_64 user address space", false},
		{"top above task size", func(s *StackSpec) { s.Top = 0x800000000000 },
			"build stack: top 0x800000000000 is not 16-byte aligned or is above the x86_64 user address space", false},
		{"top too low", func(s *StackSpec) { s.Top = 0x1000 },
			"build stack: top 0x1000 is too low for the arguments", false},
		{"NUL in argv", func(s *StackSpec) { s.Argv = []string{"p", "a\x00b"} },
			"build stack: argv[1] contains a NUL byte", false},
		{"NUL in envp", func(s *StackSpec) { s.Envp = []string{"A=\x00"} },
			"build stack: envp[0] contains a NUL byte", false},
		{"huge argument", func(s *StackSpec) { s.Argv = []string{"p", strings.Repeat("x", MaxArgStrlen)} },
			"build stack: argv[1] is longer than 131071 bytes: argument list too long", true},
		{"huge environment", func(s *StackSpec) {
			s.Envp = nil
			for range 17 {
				s.Envp = append(s.Envp, strings.Repeat("e", MaxArgStrlen-1))
			}
			// 17 strings of 128 KiB, "p" twice (argv, execfn), "x86_64", 18 pointers.
		}, "build stack: 2228379 bytes of arguments and environment exceed 2097152: argument list too long", true},
		{"AT_NULL in extra", func(s *StackSpec) { s.Extra = []AuxEntry{{AtNull, 0}} },
			"build stack: AT_NULL in extra auxv entries", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := base()
			c.mutate(&s)
			_, _, _, err := BuildStack(s)
			require.Error(t, err)
			assert.Equal(t, c.msg, err.Error())
			assert.Equal(t, c.e2big, errors.Is(err, ErrArgListTooLong))
		})
	}
}

func TestAuxTypeString(t *testing.T) {
	assert.Equal(t, "AT_RANDOM", AtRandom.String())
	assert.Equal(t, "AT_MINSIGSTKSZ", AtMinSigStkSz.String())
	assert.Equal(t, "AT_99", AuxType(99).String())
}
