package mmu

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultMmapBase(t *testing.T) {
	assert.Equal(t, uint64(base64), DefaultMmapBase(TaskSize64, DefaultStackLimit, DefaultGuardGap))
	assert.Equal(t, uint64(base32), DefaultMmapBase(TaskSize32, DefaultStackLimit, DefaultGuardGap))
	// A 1 GiB stack limit moves the base below the 128 MiB minimum gap.
	assert.Equal(t, uint64(TaskSize64-(1<<30)-DefaultGuardGap), DefaultMmapBase(TaskSize64, 1<<30, DefaultGuardGap))
	// An unlimited stack is clamped to 5/6 of the task size.
	assert.Equal(t, pageAlignUp(TaskSize32-TaskSize32/6*5), DefaultMmapBase(TaskSize32, ^uint64(0), DefaultGuardGap))
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, c := range []Config{
		{TaskSize: TaskSize32 + 1},
		{TaskSize: TaskSize32, MmapBase: 0x1234},
		{TaskSize: TaskSize32, MmapBase: TaskSize64},
		{TaskSize: TaskSize32, GuardGap: 100},
		{TaskSize: TaskSize32, MinAddr: 0x10001},
	} {
		_, err := NewChecked(c)
		assert.Error(t, err, "%+v", c)
		// New does not panic: the space refuses everything and says why.
		bad := New(c)
		require.Error(t, bad.Err())
		_, e := bad.Mmap(0, pg, rw, anonPriv, "")
		assert.Equal(t, syscall.ENOMEM, e)
		assert.ErrorContains(t, bad.MapFixed(0x400000, pg, rw, Anonymous|Private, "", 0), "mmu: ")
		assert.ErrorContains(t, bad.SetupStack(0x7ffffffff000, pg), "mmu: ")
		assert.Equal(t, bad.Err(), bad.Attach(newFake()))
		assert.NoError(t, bad.Close())
	}
	as, err := NewChecked(Config{})
	require.NoError(t, err)
	c := as.Config()
	assert.Equal(t, Config{TaskSize: TaskSize64, MmapBase: base64, StackLimit: 8 << 20, GuardGap: 1 << 20, MinAddr: 65536, PhysMemory: DefaultPhysMemory}, c)
}

func TestMmapPlacement(t *testing.T) {
	type op struct {
		addr, length uint64
		prot         Prot
		flags        uint32
	}
	tests := []struct {
		name  string
		cfg   Config
		setup []op
		call  op
		want  uint64
		errno syscall.Errno
	}{
		{name: "first goes right below the mmap base", call: op{0, 3 * pg, rw, anonPriv}, want: base64 - 3*pg},
		{name: "i386 base", cfg: Config{TaskSize: TaskSize32}, call: op{0, pg, rw, anonPriv}, want: base32 - pg},
		{name: "length rounded up", call: op{0, 1, rw, anonPriv}, want: base64 - pg},
		{name: "next goes below the previous", setup: []op{{0, pg, rw, anonPriv}}, call: op{0, 2 * pg, ro, anonPriv}, want: base64 - 3*pg},
		{name: "free hint honoured", call: op{0x10000000, pg, rw, anonPriv}, want: 0x10000000},
		{name: "unaligned hint rounded down", call: op{0x10000123, pg, rw, anonPriv}, want: 0x10000000},
		{name: "hint below mmap_min_addr raised", call: op{0x1000, pg, rw, anonPriv}, want: 0x10000},
		{name: "busy hint falls back to top-down",
			setup: []op{{0x10000000, pg, rw, anonPriv | MapFixed}}, call: op{0x10000000, pg, rw, anonPriv}, want: base64 - pg},
		{name: "hint too close below a growsdown mapping is refused",
			setup: []op{{0x10100000, pg, rw, anonPriv | MapFixed | MapGrowsDown}}, call: op{0x10000000, pg, rw, anonPriv}, want: base64 - pg},
		{name: "hint just clear of the guard gap",
			setup: []op{{0x10100000, pg, rw, anonPriv | MapFixed | MapGrowsDown}}, call: op{0x10000000 - pg, pg, rw, anonPriv}, want: 0x10000000 - pg},
		{name: "top-down skips the guard gap of a growsdown mapping",
			setup: []op{{base64 - pg, pg, rw, anonPriv | MapFixed | MapGrowsDown}}, call: op{0, pg, rw, anonPriv}, want: base64 - pg - DefaultGuardGap - pg},
		{name: "top-down fills a hole that fits",
			setup: []op{{base64 - pg, pg, rw, anonPriv | MapFixed}, {base64 - 4*pg, pg, ro, anonPriv | MapFixed}},
			call:  op{0, 2 * pg, rx, anonPriv}, want: base64 - 3*pg},
		{name: "top-down skips a hole too small",
			setup: []op{{base64 - pg, pg, rw, anonPriv | MapFixed}, {base64 - 3*pg, pg, ro, anonPriv | MapFixed}},
			call:  op{0, 2 * pg, rx, anonPriv}, want: base64 - 5*pg},
		{name: "bottom-up fallback from TaskSize/3 when below the base is full",
			cfg: Config{TaskSize: TaskSize32, MmapBase: 0x20000}, call: op{0, 32 * pg, rw, anonPriv}, want: 0x55555000},
		{name: "MAP_32BIT searches [1 GiB, 2 GiB) bottom-up", call: op{0, pg, rw, anonPriv | Map32Bit}, want: 0x40000000},
		{name: "MAP_32BIT is ignored by 32-bit tasks", cfg: Config{TaskSize: TaskSize32}, call: op{0, pg, rw, anonPriv | Map32Bit}, want: base32 - pg},
		{name: "fixed", call: op{0x400000, pg, rw, anonPriv | MapFixed}, want: 0x400000},
		{name: "fixed noreplace on free range", call: op{0x400000, pg, rw, anonPriv | MapFixedNoReplace}, want: 0x400000},
		{name: "fixed ending exactly at the task size", call: op{TaskSize64 - pg, pg, rw, anonPriv | MapFixed}, want: TaskSize64 - pg},
		{name: "shared anonymous", call: op{0, pg, rw, MapAnonymous | MapShared}, want: base64 - pg},
		{name: "populate, noreserve and stack hints accepted", call: op{0, pg, rw, anonPriv | MapPopulate | MapNoReserve | MapStack}, want: base64 - pg},

		{name: "length 0", call: op{0, 0, rw, anonPriv}, errno: syscall.EINVAL},
		{name: "length overflowing when aligned", call: op{0, ^uint64(0), rw, anonPriv}, errno: syscall.ENOMEM},
		{name: "length beyond the task size", call: op{0, TaskSize32 + pg, rw, anonPriv}, cfg: Config{TaskSize: TaskSize32}, errno: syscall.ENOMEM},
		{name: "file mapping refused", call: op{0, pg, rw, MapPrivate}, errno: syscall.ENODEV},
		{name: "huge pages unavailable", call: op{0, pg, rw, anonPriv | MapHugeTLB}, errno: syscall.ENOMEM},
		{name: "neither shared nor private", call: op{0, pg, rw, MapAnonymous}, errno: syscall.EINVAL},
		{name: "shared validate on anonymous memory", call: op{0, pg, rw, MapAnonymous | MapSharedValidate}, errno: syscall.EINVAL},
		{name: "shared growsdown", call: op{0, pg, rw, MapAnonymous | MapShared | MapGrowsDown}, errno: syscall.EINVAL},
		{name: "fixed unaligned", call: op{0x400010, pg, rw, anonPriv | MapFixed}, errno: syscall.EINVAL},
		{name: "fixed beyond the task size", call: op{TaskSize64 - pg, 2 * pg, rw, anonPriv | MapFixed}, errno: syscall.ENOMEM},
		{name: "fixed unaligned and beyond the task size is ENOMEM first", call: op{TaskSize64 + 0x10, pg, rw, anonPriv | MapFixed}, errno: syscall.ENOMEM},
		{name: "fixed below mmap_min_addr", call: op{0x1000, pg, rw, anonPriv | MapFixed}, errno: syscall.EPERM},
		{name: "fixed noreplace over a mapping",
			setup: []op{{0x400000, 2 * pg, rw, anonPriv | MapFixed}}, call: op{0x401000, 2 * pg, rw, anonPriv | MapFixedNoReplace}, errno: syscall.EEXIST},
		{name: "placement before the type check: EEXIST beats EINVAL",
			setup: []op{{0x400000, pg, rw, anonPriv | MapFixed}}, call: op{0x400000, pg, rw, MapAnonymous | MapFixedNoReplace}, errno: syscall.EEXIST},
		{name: "no room anywhere", cfg: Config{TaskSize: 0x100000, MmapBase: 0x80000}, call: op{0, 0x100000, rw, anonPriv}, errno: syscall.ENOMEM},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as, _ := newSpace(t, tc.cfg)
			for _, s := range tc.setup {
				mustMmap(t, as, s.addr, s.length, s.prot, s.flags)
			}
			before := as.VMAs()
			got, errno := as.Mmap(tc.call.addr, tc.call.length, tc.call.prot, tc.call.flags, "")
			require.Equal(t, tc.errno, errno)
			if errno != 0 {
				assert.Equal(t, uint64(0), got)
				assert.Equal(t, before, as.VMAs(), "a failed mmap must not change anything")
				return
			}
			assert.Equal(t, tc.want, got)
			v, ok := as.FindVMA(got)
			require.True(t, ok)
			assert.Equal(t, tc.call.prot, v.Prot)
		})
	}
}

func TestMmapFlagsBecomeVMAFlags(t *testing.T) {
	as, _ := newSpace(t, Config{})
	a := mustMmap(t, as, 0x400000, pg, rw, MapAnonymous|MapShared|MapFixed)
	b := mustMmap(t, as, 0x500000, pg, rw, anonPriv|MapFixed|MapGrowsDown)
	c, e := as.Mmap(0x600000, pg, rw|0xf0, anonPriv|MapFixed, "[anon:buf]")
	require.Zero(t, e)
	d := mustMmap(t, as, 0x700000, pg, ro, anonPriv|MapFixed)
	// smaps VmFlags on Linux: shared "sh" without "ac", private writable
	// memory "ac" (growsdown too: "gd ac"), read-only memory neither.
	assert.Equal(t, []VMA{
		{Start: a, End: a + pg, Prot: rw, Flags: Anonymous | Shared},
		{Start: b, End: b + pg, Prot: rw, Flags: Anonymous | Private | GrowsDown | Accounted},
		{Start: c, End: c + pg, Prot: rw, Flags: Anonymous | Private | Accounted, Name: "[anon:buf]"},
		{Start: d, End: d + pg, Prot: ro, Flags: Anonymous | Private},
	}, as.VMAs())
}

func TestMmapMergesWithNeighbours(t *testing.T) {
	as, _ := newSpace(t, Config{})
	mustMmap(t, as, 0, pg, rw, anonPriv)
	mustMmap(t, as, 0, 2*pg, rw, anonPriv)
	mustMmap(t, as, 0, pg, ro, anonPriv)
	assert.Equal(t, []VMA{
		anonVMA(base64-4*pg, base64-3*pg, ro),
		anonVMA(base64-3*pg, base64, rw),
	}, as.VMAs())
	// Filling a hole between two identical mappings joins all three.
	mustMmap(t, as, 0x400000, pg, rw, anonPriv|MapFixed)
	mustMmap(t, as, 0x402000, pg, rw, anonPriv|MapFixed)
	mustMmap(t, as, 0x401000, pg, rw, anonPriv|MapFixed)
	v, ok := as.FindVMA(0x401000)
	require.True(t, ok)
	assert.Equal(t, anonVMA(0x400000, 0x403000, rw), v)
	// A different name does not merge.
	_, e := as.Mmap(0x403000, pg, rw, anonPriv|MapFixed, "[anon:x]")
	require.Zero(t, e)
	assert.Len(t, as.VMAs(), 4)
}

func TestMmapFixedReplacesAndSplits(t *testing.T) {
	as, fb := newSpace(t, Config{})
	mustMmap(t, as, 0x400000, 4*pg, rwx, anonPriv|MapFixed)
	require.NoError(t, as.Write(0x400000, []byte{1, 2, 3}))
	require.NoError(t, as.Write(0x402000, []byte{4, 5, 6}))
	fb.takeCalls()

	mustMmap(t, as, 0x401000, 2*pg, ro, anonPriv|MapFixed)
	assert.Equal(t, []VMA{
		anonVMA(0x400000, 0x401000, rwx),
		anonVMA(0x401000, 0x403000, ro),
		anonVMA(0x403000, 0x404000, rwx),
	}, as.VMAs())
	assert.Equal(t, []call{
		{"invalidate", 0x401000, 2 * pg, 0},
		{"unmap", 0x401000, 2 * pg, 0},
	}, fb.takeCalls())
	// The replaced pages are fresh zeros; the untouched page keeps its data.
	got, err := fb.peek(0x402000, 3)
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 0, 0}, got)
	got, err = fb.peek(0x400000, 3)
	require.NoError(t, err)
	assert.Equal(t, []byte{1, 2, 3}, got)
}

func TestMapFixedForLoader(t *testing.T) {
	as, fb := newSpace(t, Config{TaskSize: TaskSize32})
	require.NoError(t, as.MapFixed(0x8048000, 0x1800, rx, FileBacked|Private, "/bin/prog", 0))
	require.NoError(t, as.MapFixedData(0x804a000, pg, rw, FileBacked|Private, "/bin/prog", 0x2000, []byte("data")))
	require.NoError(t, as.MapFixed(0x804b000, 2*pg, rw, Anonymous|Private, "", 0))
	// A private writable file mapping is accounted like anonymous memory
	// (smaps "ac"), and so is the bss (vm_brk_flags).
	assert.Equal(t, []VMA{
		{Start: 0x8048000, End: 0x804a000, Prot: rx, Flags: FileBacked | Private, Name: "/bin/prog"},
		{Start: 0x804a000, End: 0x804b000, Prot: rw, Flags: FileBacked | Private | Accounted, Name: "/bin/prog", Offset: 0x2000},
		{Start: 0x804b000, End: 0x804d000, Prot: rw, Flags: Anonymous | Private | Accounted},
	}, as.VMAs())
	got, err := fb.peek(0x804a000, 5)
	require.NoError(t, err)
	assert.Equal(t, []byte("data\x00"), got)
	// Contiguous file offsets with equal permissions merge.
	require.NoError(t, as.MapFixed(0x9000000, pg, ro, FileBacked|Private, "/lib/x", 0x5000))
	require.NoError(t, as.MapFixed(0x9001000, pg, ro, FileBacked|Private, "/lib/x", 0x6000))
	require.NoError(t, as.MapFixed(0x9002000, pg, ro, FileBacked|Private, "/lib/x", 0x8000))
	v, _ := as.FindVMA(0x9001000)
	assert.Equal(t, VMA{Start: 0x9000000, End: 0x9002000, Prot: ro, Flags: FileBacked | Private, Name: "/lib/x", Offset: 0x5000}, v)
	v, _ = as.FindVMA(0x9002000)
	assert.Equal(t, uint64(0x9002000), v.Start, "a gap in file offsets does not merge")
}

func TestMapFixedRejectsBadInput(t *testing.T) {
	as, _ := newSpace(t, Config{TaskSize: TaskSize32})
	for _, tc := range []struct {
		name         string
		addr, size   uint64
		p            Prot
		f            Flags
		offset       uint64
		data         []byte
		wantContains string
	}{
		{"unaligned", 0x1001, pg, rw, Anonymous | Private, 0, nil, "not page aligned"},
		{"zero size", 0x100000, 0, rw, Anonymous | Private, 0, nil, "zero size"},
		{"beyond task", TaskSize32, pg, rw, Anonymous | Private, 0, nil, "task size"},
		{"bad prot", 0x100000, pg, 8, Anonymous | Private, 0, nil, "invalid protection"},
		{"both private and shared", 0x100000, pg, rw, Anonymous | Private | Shared, 0, nil, "Private and Shared"},
		{"neither anonymous nor file", 0x100000, pg, rw, Private, 0, nil, "Anonymous and FileBacked"},
		{"unknown flag", 0x100000, pg, rw, Anonymous | Private | 1<<20, 0, nil, "unknown"},
		{"anonymous with offset", 0x100000, pg, rw, Anonymous | Private, 0x1000, nil, "file offset"},
		{"unaligned offset", 0x100000, pg, rw, FileBacked | Private, 0x10, nil, "not page aligned"},
		{"data too large", 0x100000, pg, rw, Anonymous | Private, 0, make([]byte, pg+1), "do not fit"},
	} {
		err := as.MapFixedData(tc.addr, tc.size, tc.p, tc.f, "", tc.offset, tc.data)
		require.Error(t, err, tc.name)
		assert.Contains(t, err.Error(), tc.wantContains, tc.name)
	}
	assert.Empty(t, as.VMAs())
}
