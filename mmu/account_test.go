package mmu

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// VM_ACCOUNT (Accounted) and VM_NORESERVE (NoReserve) only show in merging:
// two VMAs with equal permissions stay apart when one has a flag the other
// lacks. Every expectation here was checked against Linux 6.18 by running
// the same calls natively and reading /proc/self/smaps ("ac" and "nr" in
// VmFlags).

func TestRelroStaysApartFromReadOnlyFileMapping(t *testing.T) {
	// ld.so maps a library's data segment rw right after its read-only
	// segment, with contiguous file offsets, then makes the RELRO part
	// read-only. The rw mapping was accounted and stays so, written or
	// not (a file mapping has no anon_vma exemption).
	as, fb := newSpace(t, Config{})
	f := FileBacked | Private
	require.NoError(t, as.MapFixed(0x400000, pg, ro, f, "/lib/x", 0))
	require.NoError(t, as.MapFixed(0x401000, pg, rw, f, "/lib/x", 0x1000))
	assert.Equal(t, []VMA{
		{Start: 0x400000, End: 0x401000, Prot: ro, Flags: f, Name: "/lib/x"},
		{Start: 0x401000, End: 0x402000, Prot: rw, Flags: f | Accounted, Name: "/lib/x", Offset: 0x1000},
	}, as.VMAs())
	fb.takeCalls()

	require.Zero(t, as.Mprotect(0x401000, pg, ro))
	assert.Equal(t, []call{{"protect", 0x401000, pg, ro}}, fb.takeCalls())
	assert.Equal(t, []VMA{
		{Start: 0x400000, End: 0x401000, Prot: ro, Flags: f, Name: "/lib/x"},
		{Start: 0x401000, End: 0x402000, Prot: ro, Flags: f | Accounted, Name: "/lib/x", Offset: 0x1000},
	}, as.VMAs())
	assert.Equal(t, ""+
		"00400000-00401000 r--p 00000000 00:00 0                                  /lib/x\n"+
		"00401000-00402000 r--p 00001000 00:00 0                                  /lib/x\n", as.MapsText())

	// Without the flag difference the same two pieces do merge.
	require.NoError(t, as.MapFixed(0x401000, pg, ro, f, "/lib/x", 0x1000))
	assert.Equal(t, []VMA{{Start: 0x400000, End: 0x402000, Prot: ro, Flags: f, Name: "/lib/x"}}, as.VMAs())
}

func TestAnonymousOnceWritableStaysApart(t *testing.T) {
	const a = 0x400000
	as, _ := newSpace(t, Config{})
	mustMmap(t, as, a, 2*pg, ro, anonPriv|MapFixed)
	assert.Equal(t, []VMA{anonVMA(a, a+2*pg, ro)}, as.VMAs())

	// mprotect makes the upper page writable: it becomes accounted.
	require.Zero(t, as.Mprotect(a+pg, pg, rw))
	assert.Equal(t, []VMA{anonVMA(a, a+pg, ro), acctVMA(a+pg, a+2*pg, rw)}, as.VMAs())
	require.NoError(t, as.Write(a+pg, []byte{1})) // see acctVMA

	// Read-only again, it keeps the flag and does not merge with the
	// never-writable page below.
	require.Zero(t, as.Mprotect(a+pg, pg, ro))
	assert.Equal(t, []VMA{anonVMA(a, a+pg, ro), acctVMA(a+pg, a+2*pg, ro)}, as.VMAs())
	assert.Equal(t, ""+
		"00400000-00401000 r--p 00000000 00:00 0 \n"+
		"00401000-00402000 r--p 00000000 00:00 0 \n", as.MapsText())

	// Once the lower page has been through the same, the two merge.
	require.Zero(t, as.Mprotect(a, pg, rw))
	require.NoError(t, as.Write(a, []byte{1}))
	require.Zero(t, as.Mprotect(a, pg, ro))
	assert.Equal(t, []VMA{acctVMA(a, a+2*pg, ro)}, as.VMAs())

	// Already accounted or writable memory gains nothing from mprotect.
	require.Zero(t, as.Mprotect(a, 2*pg, rwx))
	assert.Equal(t, []VMA{acctVMA(a, a+2*pg, rwx)}, as.VMAs())
}

func TestSharedMemoryIsNeverAccounted(t *testing.T) {
	const a = 0x400000
	as, _ := newSpace(t, Config{})
	mustMmap(t, as, a, 2*pg, ro, MapAnonymous|MapShared|MapFixed)
	require.Zero(t, as.Mprotect(a, pg, rw))
	require.Zero(t, as.Mprotect(a, pg, ro))
	assert.Equal(t, []VMA{{Start: a, End: a + 2*pg, Prot: ro, Flags: Anonymous | Shared}}, as.VMAs())
}

func TestNoReserveIsNotAccounted(t *testing.T) {
	const a = 0x400000
	as, _ := newSpace(t, Config{})
	nr := Anonymous | Private | NoReserve

	// A MAP_NORESERVE rw mapping is not accounted, so it stays apart from
	// an ordinary rw mapping next to it.
	mustMmap(t, as, a, pg, rw, anonPriv|MapFixed|MapNoReserve)
	mustMmap(t, as, a+pg, pg, rw, anonPriv|MapFixed)
	assert.Equal(t, []VMA{{Start: a, End: a + pg, Prot: rw, Flags: nr}, anonVMA(a+pg, a+2*pg, rw)}, as.VMAs())
	assert.Equal(t, ""+
		"00400000-00401000 rw-p 00000000 00:00 0 \n"+
		"00401000-00402000 rw-p 00000000 00:00 0 \n", as.MapsText())
	// Two MAP_NORESERVE mappings merge.
	mustMmap(t, as, a-pg, pg, rw, anonPriv|MapFixed|MapNoReserve)
	assert.Equal(t, []VMA{{Start: a - pg, End: a + pg, Prot: rw, Flags: nr}, anonVMA(a+pg, a+2*pg, rw)}, as.VMAs())

	// A read-only one stays apart from an ordinary read-only one, and
	// mprotect does not account it when it becomes writable (glibc's
	// arena heaps: PROT_NONE with MAP_NORESERVE, made rw piecewise).
	const b = 0x500000
	mustMmap(t, as, b, 2*pg, ProtNone, anonPriv|MapFixed|MapNoReserve)
	mustMmap(t, as, b+2*pg, pg, ProtNone, anonPriv|MapFixed)
	require.Zero(t, as.Mprotect(b, pg, rw))
	assert.Equal(t, []VMA{
		{Start: b, End: b + pg, Prot: rw, Flags: nr},
		{Start: b + pg, End: b + 2*pg, Prot: ProtNone, Flags: nr},
		anonVMA(b+2*pg, b+3*pg, ProtNone),
	}, as.VMAs()[2:])

	// Shared memory with MAP_NORESERVE carries the flag too.
	const c = 0x600000
	mustMmap(t, as, c, pg, rw, MapAnonymous|MapShared|MapFixed|MapNoReserve)
	v, ok := as.FindVMA(c)
	require.True(t, ok)
	assert.Equal(t, Anonymous|Shared|NoReserve, v.Flags)
}

func TestMapFixedAccounting(t *testing.T) {
	as, _ := newSpace(t, Config{})
	require.NoError(t, as.MapFixed(0x400000, pg, rw, Anonymous|Private|NoReserve, "", 0))
	require.NoError(t, as.MapFixed(0x500000, pg, ro, Anonymous|Private|Accounted, "", 0))
	require.NoError(t, as.MapFixed(0x600000, pg, rw, Anonymous|Shared, "", 0))
	assert.Equal(t, []VMA{
		{Start: 0x400000, End: 0x401000, Prot: rw, Flags: Anonymous | Private | NoReserve},
		{Start: 0x500000, End: 0x501000, Prot: ro, Flags: Anonymous | Private | Accounted},
		{Start: 0x600000, End: 0x601000, Prot: rw, Flags: Anonymous | Shared},
	}, as.VMAs())
	for _, f := range []Flags{Anonymous | Shared | Accounted, Anonymous | Private | NoReserve | Accounted} {
		assert.ErrorContains(t, as.MapFixed(0x700000, pg, rw, f, "", 0), "only private reserved memory is Accounted", "%v", f)
	}
	assert.Len(t, as.VMAs(), 3)
}

func TestStackIsAccounted(t *testing.T) {
	// VM_STACK_FLAGS include VM_ACCOUNT, so a stack page made read-only
	// and writable again merges back into the stack.
	as, _ := newSpace(t, Config{})
	require.NoError(t, as.SetupStack(stackTop, 4*pg))
	require.Zero(t, as.Mprotect(stackTop-2*pg, pg, ro))
	f := GrowsDown | Stack | Anonymous | Private | Accounted
	assert.Equal(t, []VMA{
		stackVMA(stackTop-4*pg, stackTop-2*pg),
		{Start: stackTop - 2*pg, End: stackTop - pg, Prot: ro, Flags: f, Name: "[stack]"},
		stackVMA(stackTop-pg, stackTop),
	}, as.VMAs())
	require.Zero(t, as.Mprotect(stackTop-2*pg, pg, rw))
	assert.Equal(t, []VMA{stackVMA(stackTop-4*pg, stackTop)}, as.VMAs())
}
