package mmu

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// heapVMA is the brk area: do_brk_flags always sets VM_ACCOUNT (smaps
// shows "ac" on [heap]).
func heapVMA(start, end uint64) VMA {
	return VMA{Start: start, End: end, Prot: rw, Flags: Anonymous | Private | Heap | Accounted, Name: "[heap]"}
}

func TestBrk(t *testing.T) {
	const base = 0x4c8000
	as, fb := newSpace(t, Config{})
	assert.Equal(t, uint64(0), as.Brk(0), "no brk before SetBrkBase")
	assert.Equal(t, uint64(0), as.Brk(0x500000))

	as.SetBrkBase(base - 0x123) // rounded up to the page
	assert.Equal(t, uint64(base), as.Brk(0))
	assert.Empty(t, as.VMAs(), "the heap appears with the first growth")

	// Growing: an unaligned break maps whole pages, returns the request.
	assert.Equal(t, uint64(base+0x21010), as.Brk(base+0x21010))
	assert.Equal(t, []VMA{heapVMA(base, base+0x22000)}, as.VMAs())
	assert.Empty(t, fb.takeCalls(), "pages are translated when touched")

	// Within the same page: no mapping change.
	assert.Equal(t, uint64(base+0x21fff), as.Brk(base+0x21fff))
	assert.Equal(t, uint64(base+0x21001), as.Brk(base+0x21001))
	assert.Empty(t, fb.takeCalls())

	// Growing again extends the same VMA; nothing is populated yet.
	assert.Equal(t, uint64(base+0x43000), as.Brk(base+0x43000))
	assert.Equal(t, []VMA{heapVMA(base, base+0x43000)}, as.VMAs())
	assert.Zero(t, as.Stats().ResidentPages)

	// Shrinking unmaps (translations dropped first).
	require.NoError(t, as.Write(base+0x30000, []byte{7}))
	fb.takeCalls()
	assert.Equal(t, uint64(base+0x10000), as.Brk(base+0x10000))
	assert.Equal(t, []VMA{heapVMA(base, base+0x10000)}, as.VMAs())
	assert.Equal(t, []call{{"invalidate", base + 0x10000, 0x33000, 0}, {"unmap", base + 0x10000, 0x33000, 0}}, fb.takeCalls())

	// Pages given back and taken again read as zero.
	assert.Equal(t, uint64(base+0x43000), as.Brk(base+0x43000))
	b := make([]byte, 1)
	require.NoError(t, as.Read(base+0x30000, b))
	assert.Equal(t, []byte{0}, b)

	// Below start_brk: failure returns the current break.
	assert.Equal(t, uint64(base+0x43000), as.Brk(base-pg))
	// Down to start_brk removes the heap VMA.
	assert.Equal(t, uint64(base), as.Brk(base))
	assert.Empty(t, as.VMAs())
	// Shrinking with nothing mapped fails.
	as.SetBrkBase(base)
	assert.Equal(t, uint64(base+pg), as.Brk(base+pg))
	require.Zero(t, as.Munmap(base, pg))
	assert.Equal(t, uint64(base+pg), as.Brk(base))
}

func TestBrkStopsBeforeNextMapping(t *testing.T) {
	const base = 0x600000
	as, _ := newSpace(t, Config{})
	as.SetBrkBase(base)
	mustMmap(t, as, base+0x10000, pg, rw, anonPriv|MapFixed)
	// The new break plus one page must stay below the next mapping.
	assert.Equal(t, uint64(base), as.Brk(base+0x10000))
	assert.Equal(t, uint64(base), as.Brk(base+0xf001))
	assert.Equal(t, uint64(base+0xf000), as.Brk(base+0xf000))

	// A growsdown mapping above also keeps its guard gap.
	as2, _ := newSpace(t, Config{})
	as2.SetBrkBase(base)
	mustMmap(t, as2, base+0x200000, pg, rw, anonPriv|MapFixed|MapGrowsDown)
	limit := uint64(base + 0x200000 - DefaultGuardGap - pg)
	assert.Equal(t, uint64(base), as2.Brk(limit+pg))
	assert.Equal(t, limit, as2.Brk(limit))
}

func TestBrkBudgetAndTaskSize(t *testing.T) {
	as, _ := newSpace(t, Config{TaskSize: TaskSize32, MaxMemory: 0x10000})
	as.SetBrkBase(0x10000000)
	assert.Equal(t, uint64(0x10000000), as.Brk(0x10011000), "over the budget")
	assert.Equal(t, uint64(0x10010000), as.Brk(0x10010000), "exactly the budget")
	as2, _ := newSpace(t, Config{TaskSize: TaskSize32})
	as2.SetBrkBase(TaskSize32 - pg)
	assert.Equal(t, TaskSize32-pg, as2.Brk(TaskSize32+pg))
	start, cur := as2.BrkRange()
	assert.Equal(t, TaskSize32-pg, start)
	assert.Equal(t, TaskSize32-pg, cur)
}

func TestBrkDoesNotMergeWithPlainAnonymous(t *testing.T) {
	// Deviation documented on canMerge/Heap: the heap keeps its own VMA.
	as, _ := newSpace(t, Config{})
	as.SetBrkBase(0x601000)
	mustMmap(t, as, 0x600000, pg, rw, anonPriv|MapFixed)
	assert.Equal(t, uint64(0x603000), as.Brk(0x603000))
	assert.Equal(t, []VMA{anonVMA(0x600000, 0x601000, rw), heapVMA(0x601000, 0x603000)}, as.VMAs())
}
