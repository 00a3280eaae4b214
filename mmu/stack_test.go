package mmu

import (
	"errors"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const stackTop = 0x7ffffffff000

// stackVMA is the main stack as setup_arg_pages leaves it: VM_STACK_FLAGS
// include VM_ACCOUNT (smaps shows "gd ac" on [stack]).
func stackVMA(start, end uint64) VMA {
	return VMA{Start: start, End: end, Prot: rw, Flags: GrowsDown | Stack | Anonymous | Private | Accounted, Name: "[stack]"}
}

func TestSetupStack(t *testing.T) {
	as, fb := newSpace(t, Config{})
	require.NoError(t, as.SetupStack(stackTop, 32*pg))
	assert.Equal(t, []VMA{stackVMA(stackTop-32*pg, stackTop)}, as.VMAs())
	assert.Empty(t, fb.takeCalls(), "pages are translated when touched")
	assert.Equal(t, "7ffffffdf000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n", as.MapsText())

	for _, tc := range []struct {
		top, size uint64
		msg       string
	}{
		{stackTop + 1, pg, "page aligned"},
		{stackTop, 0, "does not fit"},
		{pg, 2 * pg, "does not fit"},
		{TaskSize64 + pg, pg, "above the task size"},
		{0x100000000, 9 << 20, "exceeds the stack limit"},
		{stackTop, pg, "overlaps"},
	} {
		err := as.SetupStack(tc.top, tc.size)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.msg)
	}
}

func TestGrowStack(t *testing.T) {
	as, fb := newSpace(t, Config{})
	require.NoError(t, as.SetupStack(stackTop, 32*pg))
	fb.takeCalls()

	// An access a few pages below grows the VMA down to that page.
	assert.True(t, as.GrowStack(stackTop-40*pg+123))
	assert.Equal(t, []VMA{stackVMA(stackTop-40*pg, stackTop)}, as.VMAs())
	// The engines learn of the new pages when they touch them.
	assert.Empty(t, fb.takeCalls())
	st := as.Stats()
	assert.Equal(t, uint64(1), st.StackGrowths)

	// Already grown (another vCPU got there first): retry.
	assert.True(t, as.GrowStack(stackTop-40*pg))
	// Exactly the stack limit.
	assert.True(t, as.GrowStack(stackTop-DefaultStackLimit))
	assert.Equal(t, []VMA{stackVMA(stackTop-DefaultStackLimit, stackTop)}, as.VMAs())
	// One page more is refused.
	assert.False(t, as.GrowStack(stackTop-DefaultStackLimit-1))
	st = as.Stats()
	assert.Equal(t, uint64(2), st.StackGrowths)
	assert.Equal(t, uint64(1), st.StackGrowthRefusals)
	assert.Equal(t, DefaultStackLimit, st.MappedBytes)

	// Fresh stack pages read as zero through the backend.
	got, err := fb.peek(stackTop-DefaultStackLimit, 4)
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 0, 0, 0}, got)
}

func TestGrowStackRefusals(t *testing.T) {
	tests := []struct {
		name  string
		lower func(as *AddressSpace)
		addr  uint64
		want  bool
	}{
		{"nothing below", nil, stackTop - 64*pg, true},
		{"within the guard gap of a lower mapping", func(as *AddressSpace) {
			mustMmap(t, as, stackTop-32*pg-DefaultGuardGap-pg, pg, rw, anonPriv|MapFixed)
		}, stackTop - 33*pg, false},
		{"exactly the guard gap away", func(as *AddressSpace) {
			mustMmap(t, as, stackTop-33*pg-DefaultGuardGap-pg, pg, rw, anonPriv|MapFixed)
		}, stackTop - 33*pg, true},
		{"a PROT_NONE mapping below does not count", func(as *AddressSpace) {
			mustMmap(t, as, stackTop-34*pg, pg, ProtNone, anonPriv|MapFixed)
		}, stackTop - 33*pg, true},
		{"another growsdown mapping below does not count", func(as *AddressSpace) {
			mustMmap(t, as, stackTop-34*pg, pg, rw, anonPriv|MapFixed|MapGrowsDown)
		}, stackTop - 33*pg, true},
		{"address above every mapping", nil, stackTop + pg, false},
		{"below a mapping that does not grow down", func(as *AddressSpace) {
			mustMmap(t, as, 0x400000, pg, rw, anonPriv|MapFixed)
		}, 0x3ff000, false},
		{"inside a plain mapping", func(as *AddressSpace) {
			mustMmap(t, as, 0x400000, pg, rw, anonPriv|MapFixed)
		}, 0x400000, false},
		{"past the stack limit", nil, stackTop - DefaultStackLimit - pg, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as, _ := newSpace(t, Config{})
			require.NoError(t, as.SetupStack(stackTop, 32*pg))
			if tc.lower != nil {
				tc.lower(as)
			}
			before := as.VMAs()
			assert.Equal(t, tc.want, as.GrowStack(tc.addr))
			if !tc.want {
				assert.Equal(t, before, as.VMAs())
			}
		})
	}
}

func TestGrowStackBelowMinAddr(t *testing.T) {
	as, _ := newSpace(t, Config{TaskSize: TaskSize32})
	_, e := as.Mmap(0x20000, 4*pg, rw, anonPriv|MapFixed|MapGrowsDown, "")
	require.Zero(t, e)
	assert.True(t, as.GrowStack(0x10000))
	assert.False(t, as.GrowStack(0xf000))
}

func TestGrowStackMergesWithIdenticalGrowsDownBelow(t *testing.T) {
	// Deviation (documented on expandDownLocked): Linux's expand_downwards
	// does not merge, so two VMAs with equal flags ("gd ac") remain there;
	// the emulator merges to keep invariant 2.
	as, _ := newSpace(t, Config{})
	mustMmap(t, as, 0x500000, pg, rw, anonPriv|MapFixed|MapGrowsDown)
	mustMmap(t, as, 0x502000, pg, rw, anonPriv|MapFixed|MapGrowsDown)
	assert.True(t, as.GrowStack(0x501000))
	assert.Equal(t, []VMA{{Start: 0x500000, End: 0x503000, Prot: rw, Flags: GrowsDown | Anonymous | Private | Accounted}}, as.VMAs())
}

func TestDeepStackGrowth(t *testing.T) {
	// A 128 MiB limit: the whole stack can be grown and touched at both
	// ends; only the touched pages are populated.
	as, _ := newSpace(t, Config{StackLimit: 128 << 20})
	require.NoError(t, as.SetupStack(stackTop, pg))
	require.True(t, as.GrowStack(stackTop-(64<<20)))
	require.True(t, as.GrowStack(stackTop-(66<<20)))
	require.NoError(t, as.Write(stackTop-(66<<20), []byte{1}))
	require.NoError(t, as.Write(stackTop-8, []byte{2}))
	assert.Equal(t, uint64(2), as.Stats().ResidentPages)
}

func TestSetStackLimit(t *testing.T) {
	as, _ := newSpace(t, Config{})
	require.NoError(t, as.SetupStack(stackTop, 4*pg))
	assert.Equal(t, DefaultStackLimit, as.StackLimit())
	as.SetStackLimit(8 * pg)
	assert.Equal(t, uint64(8*pg), as.StackLimit())
	assert.False(t, as.GrowStack(stackTop-9*pg))
	assert.True(t, as.GrowStack(stackTop-8*pg))
}

func TestExpandDown(t *testing.T) {
	as, fb := newSpace(t, Config{})
	require.NoError(t, as.SetupStack(stackTop, 4*pg))
	v := as.VMAs()[0]
	fb.takeCalls()
	require.NoError(t, as.ExpandDown(v, 3))
	assert.Equal(t, []VMA{stackVMA(stackTop-7*pg, stackTop)}, as.VMAs())
	assert.Empty(t, fb.takeCalls(), "growing changes no translation")

	err := as.ExpandDown(v, 1)
	require.Error(t, err, "v is stale: no VMA starts there any more")
	assert.Contains(t, err.Error(), "no VMA starts")
	v = as.VMAs()[0]
	assert.ErrorContains(t, as.ExpandDown(v, 0), "cannot grow")
	assert.ErrorContains(t, as.ExpandDown(v, -1), "cannot grow")
	err = as.ExpandDown(v, int(DefaultStackLimit/pg))
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.ENOMEM))
	assert.Contains(t, err.Error(), "stack limit")

	mustMmap(t, as, 0x400000, pg, rw, anonPriv|MapFixed)
	p := as.VMAs()[0]
	assert.ErrorContains(t, as.ExpandDown(p, 1), "does not grow down")
	mustMmap(t, as, stackTop-9*pg, pg, rw, anonPriv|MapFixed|MapGrowsDown)
	assert.ErrorContains(t, as.ExpandDown(v, 3), "overlaps")
	assert.ErrorContains(t, as.ExpandDown(v, 1<<60), "below address 0")
}

func TestKernelAccessGrowsStack(t *testing.T) {
	as, _ := newSpace(t, Config{})
	require.NoError(t, as.SetupStack(stackTop, 4*pg))
	// read(fd, buf_on_stack, n) with buf below the mapped stack grows it,
	// as a kernel-mode fault on a user address does.
	require.NoError(t, as.Write(stackTop-6*pg-16, make([]byte, 32)))
	assert.Equal(t, []VMA{stackVMA(stackTop-7*pg, stackTop)}, as.VMAs())
	// Forced access does not (GUP no longer expands stacks).
	err := as.ReadForce(stackTop-8*pg, make([]byte, 1))
	assert.True(t, errors.Is(err, syscall.EFAULT))
}

func TestStackGrowthKeepsPageProtOverrides(t *testing.T) {
	as, fb := newSpace(t, Config{})
	require.NoError(t, as.SetupStack(stackTop, 4*pg))
	fb2, err := attachFake(as)
	require.NoError(t, err)
	for a := uint64(stackTop - 4*pg); a < stackTop; a += pg {
		_, err := fb.touch(a, true)
		require.NoError(t, err)
	}
	// Overrides set out of address order: exec added on one page (an
	// out-of-line probe copy), read-only and inaccessible on two others.
	require.NoError(t, as.SetPageProt(stackTop-pg, rwx))
	require.NoError(t, as.SetPageProt(stackTop-3*pg, ro))
	require.NoError(t, as.SetPageProt(stackTop-2*pg, ProtNone))
	fb.takeCalls()

	require.True(t, as.GrowStack(stackTop-6*pg))
	assert.Equal(t, []VMA{stackVMA(stackTop-6*pg, stackTop)}, as.VMAs())
	// Growing changes no existing translation.
	assert.Empty(t, fb.takeCalls())
	for _, b := range []*fakeBackend{fb, fb2} {
		for a, want := range map[uint64]Prot{stackTop - pg: rwx, stackTop - 3*pg: ro, stackTop - 2*pg: ProtNone, stackTop - 4*pg: rw, stackTop - 6*pg: rw} {
			p, err := b.touch(a, true)
			require.NoError(t, err)
			assert.Equal(t, want, p.prot, "page %#x", a)
		}
	}
	p, ok := as.PageProt(stackTop - pg)
	require.True(t, ok)
	assert.Equal(t, rwx, p)
	assert.Equal(t, 3, as.Stats().PageProtOverrides)
	requireInvariants(t, as, fb, fb2)

	// Data written through the engine before a growth is still there after
	// it, seen by the other engine too.
	require.NoError(t, fb.poke(stackTop-4*pg, []byte("keep")))
	require.True(t, as.GrowStack(stackTop-7*pg))
	got, err := fb2.peek(stackTop-4*pg, 4)
	require.NoError(t, err)
	assert.Equal(t, []byte("keep"), got)
	requireInvariants(t, as, fb, fb2)
}
