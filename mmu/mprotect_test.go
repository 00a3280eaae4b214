package mmu

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMprotectSplitAndMerge(t *testing.T) {
	const a = 0x400000
	as, fb := newSpace(t, Config{})
	mustMmap(t, as, a, 4*pg, rw, anonPriv|MapFixed)
	require.NoError(t, as.Write(a, []byte{1})) // see acctVMA
	fb.takeCalls()

	// The read-only middle stays accounted.
	require.Zero(t, as.Mprotect(a+pg, 2*pg, ro))
	assert.Equal(t, []VMA{acctVMA(a, a+pg, rw), acctVMA(a+pg, a+3*pg, ro), acctVMA(a+3*pg, a+4*pg, rw)}, as.VMAs())
	assert.Equal(t, []call{{"protect", a + pg, 2 * pg, ro}}, fb.takeCalls())
	assert.Equal(t, ""+
		"00400000-00401000 rw-p 00000000 00:00 0 \n"+
		"00401000-00403000 r--p 00000000 00:00 0 \n"+
		"00403000-00404000 rw-p 00000000 00:00 0 \n", as.MapsText())

	// Making the middle identical again merges all three (vma_merge).
	require.Zero(t, as.Mprotect(a+pg, 2*pg, rw))
	assert.Equal(t, []VMA{anonVMA(a, a+4*pg, rw)}, as.VMAs())
	assert.Equal(t, "00400000-00404000 rw-p 00000000 00:00 0 \n", as.MapsText())

	// Same permissions: nothing to tell the backends.
	fb.takeCalls()
	require.Zero(t, as.Mprotect(a, 4*pg, rw))
	assert.Empty(t, fb.takeCalls())

	// Changing the head page by page merges each page into the lower
	// neighbour: both are accounted.
	require.Zero(t, as.Mprotect(a, pg, ro))
	require.Zero(t, as.Mprotect(a+pg, pg, ro))
	assert.Equal(t, []VMA{acctVMA(a, a+2*pg, ro), acctVMA(a+2*pg, a+4*pg, rw)}, as.VMAs())

	// A never-writable mapping below has the same permissions but no
	// VM_ACCOUNT: it stays apart (as on Linux 6.18).
	mustMmap(t, as, a-pg, pg, ro, anonPriv|MapFixed)
	assert.Equal(t, []VMA{anonVMA(a-pg, a, ro), acctVMA(a, a+2*pg, ro), acctVMA(a+2*pg, a+4*pg, rw)}, as.VMAs())
	assert.Equal(t, ""+
		"003ff000-00400000 r--p 00000000 00:00 0 \n"+
		"00400000-00402000 r--p 00000000 00:00 0 \n"+
		"00402000-00404000 rw-p 00000000 00:00 0 \n", as.MapsText())
}

func TestMprotectFileOffsets(t *testing.T) {
	as, _ := newSpace(t, Config{})
	require.NoError(t, as.MapFixed(0x400000, 4*pg, rx, FileBacked|Private, "/f", 0x10000))
	require.Zero(t, as.Mprotect(0x402000, pg, ro))
	f := FileBacked | Private
	assert.Equal(t, []VMA{
		{Start: 0x400000, End: 0x402000, Prot: rx, Flags: f, Name: "/f", Offset: 0x10000},
		{Start: 0x402000, End: 0x403000, Prot: ro, Flags: f, Name: "/f", Offset: 0x12000},
		{Start: 0x403000, End: 0x404000, Prot: rx, Flags: f, Name: "/f", Offset: 0x13000},
	}, as.VMAs())
	assert.Equal(t, ""+
		"00400000-00402000 r-xp 00010000 00:00 0                                  /f\n"+
		"00402000-00403000 r--p 00012000 00:00 0                                  /f\n"+
		"00403000-00404000 r-xp 00013000 00:00 0                                  /f\n", as.MapsText())
	require.Zero(t, as.Mprotect(0x402000, pg, rx))
	assert.Equal(t, []VMA{{Start: 0x400000, End: 0x404000, Prot: rx, Flags: f, Name: "/f", Offset: 0x10000}}, as.VMAs())
}

func TestMprotectErrors(t *testing.T) {
	const a = 0x400000
	tests := []struct {
		name      string
		addr, len uint64
		prot      uint32
		errno     syscall.Errno
		want      []VMA
	}{
		{"unaligned", a + 1, pg, uint32(ro), syscall.EINVAL, nil},
		{"unknown bit", a, pg, 0x10, syscall.EINVAL, nil},
		{"both grows bits", a, pg, ProtGrowsDown | ProtGrowsUp, syscall.EINVAL, nil},
		{"zero length succeeds", a, 0, uint32(ro), 0, nil},
		{"wrapping range", a, ^uint64(0) - pg, uint32(ro), syscall.ENOMEM, nil},
		{"nothing mapped", 0x900000, pg, uint32(ro), syscall.ENOMEM, nil},
		{"hole at the start", a - pg, 2 * pg, uint32(ro), syscall.ENOMEM, nil},
		{"growsup on x86", a, pg, uint32(ro) | ProtGrowsUp, syscall.EINVAL, nil},
		{"growsdown on a plain VMA", a + pg, pg, uint32(ro) | ProtGrowsDown, syscall.EINVAL, nil},
		{"PROT_SEM is ignored", a, pg, uint32(ro) | ProtSem, 0,
			[]VMA{acctVMA(a, a+pg, ro), acctVMA(a+pg, a+2*pg, rw), acctVMA(a+4*pg, a+6*pg, rw)}},
		{"hole in the middle: the part before it changes", a + pg, 4 * pg, uint32(ro), syscall.ENOMEM,
			[]VMA{acctVMA(a, a+pg, rw), acctVMA(a+pg, a+2*pg, ro), acctVMA(a+4*pg, a+6*pg, rw)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as, _ := newSpace(t, Config{})
			mustMmap(t, as, a, 2*pg, rw, anonPriv|MapFixed)
			mustMmap(t, as, a+4*pg, 2*pg, rw, anonPriv|MapFixed)
			require.NoError(t, as.Write(a, []byte{1})) // see acctVMA
			require.NoError(t, as.Write(a+4*pg, []byte{1}))
			before := as.VMAs()
			assert.Equal(t, tc.errno, as.MprotectRaw(tc.addr, tc.len, tc.prot))
			want := tc.want
			if want == nil {
				want = before
			}
			assert.Equal(t, want, as.VMAs())
		})
	}
}

func TestMprotectGrowsDown(t *testing.T) {
	as, _ := newSpace(t, Config{})
	require.NoError(t, as.SetupStack(0x7ffffffff000, 4*pg))
	// PROT_GROWSDOWN applies from the start of the stack VMA.
	require.Zero(t, as.MprotectRaw(0x7fffffffd000, pg, uint32(rwx)|ProtGrowsDown))
	f := GrowsDown | Stack | Anonymous | Private | Accounted
	assert.Equal(t, []VMA{
		{Start: 0x7fffffffb000, End: 0x7fffffffe000, Prot: rwx, Flags: f, Name: "[stack]"},
		{Start: 0x7fffffffe000, End: 0x7ffffffff000, Prot: rw, Flags: f, Name: "[stack]"},
	}, as.VMAs())
}

func TestMprotectInvalidation(t *testing.T) {
	const a = 0x400000
	as, fb := newSpace(t, Config{})
	mustMmap(t, as, a, 4*pg, rw, anonPriv|MapFixed)
	require.NoError(t, as.Write(a, []byte{1})) // see acctVMA
	fb.takeCalls()
	// Adding exec: no translation can exist, nothing to drop.
	require.Zero(t, as.Mprotect(a, 2*pg, rx))
	assert.Empty(t, invalidations(fb.takeCalls()))
	// rx -> rwx keeps exec: nothing to drop.
	require.Zero(t, as.Mprotect(a, pg, rwx))
	assert.Empty(t, invalidations(fb.takeCalls()))
	// Removing exec from part of it: revoke exactly those pages, before
	// the protection change.
	require.Zero(t, as.Mprotect(a, 3*pg, ro))
	assert.Equal(t, []call{
		{"revoke", a, pg, 0}, {"protect", a, pg, ro},
		{"revoke", a + pg, pg, 0}, {"protect", a + pg, pg, ro},
		{"protect", a + 2*pg, pg, ro},
	}, fb.takeCalls())
	assert.Equal(t, []VMA{acctVMA(a, a+3*pg, ro), acctVMA(a+3*pg, a+4*pg, rw)}, as.VMAs())
}

func TestReadImpliesExec(t *testing.T) {
	as, _ := newSpace(t, Config{TaskSize: TaskSize32, ReadImpliesExec: true})
	a := mustMmap(t, as, 0, pg, ro, anonPriv)
	b := mustMmap(t, as, 0x400000, pg, ProtWrite, anonPriv|MapFixed)
	require.Zero(t, as.Mprotect(b, pg, rw))
	va, _ := as.FindVMA(a)
	vb, _ := as.FindVMA(b)
	assert.Equal(t, rx, va.Prot)
	assert.Equal(t, rwx, vb.Prot)
	as.SetBrkBase(0x1000000)
	require.Equal(t, uint64(0x1001000), as.Brk(0x1001000))
	h, _ := as.FindVMA(0x1000000)
	assert.Equal(t, rwx, h.Prot)
}
