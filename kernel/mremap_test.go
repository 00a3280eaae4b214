package kernel

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mremap of private anonymous memory: a shrink keeps the address, a growth
// into free pages stays in place, a blocked growth moves with
// MREMAP_MAYMOVE (the bytes come along, the old range goes) and is ENOMEM
// without it; a file or shared mapping is ENOSYS, counted.
func TestMremapPrivateAnonymous(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		const pg = 4096
		mmap := "mmap"
		if h.k.Arch() == I386 {
			mmap = "mmap2" // i386's mmap is old_mmap, with its arguments in memory
		}
		a := h.call(mmap, 0, 4*pg, 3, 0x22, ^uint64(0), 0) // PROT_READ|WRITE, MAP_PRIVATE|ANONYMOUS
		require.Less(t, a, uint64(1)<<47)

		require.NoError(t, h.k.Mem().Write(a, []byte("moved bytes")))
		assert.Equal(t, a, h.call("mremap", a, 4*pg, 2*pg, 0, 0), "shrink")
		assert.Equal(t, a, h.call("mremap", a, 2*pg, 3*pg, 0, 0), "grow in place into the freed page")
		// Block the page after it, then grow.
		block := h.call(mmap, a+3*pg, pg, 1, 0x22|0x10, ^uint64(0), 0)
		require.Equal(t, a+3*pg, block)
		assert.Equal(t, h.errRet(syscall.ENOMEM), h.call("mremap", a, 3*pg, 8*pg, 0, 0), "no room, no MAYMOVE")
		b := h.call("mremap", a, 3*pg, 8*pg, 1, 0)
		require.NotEqual(t, a, b)
		got := make([]byte, 11)
		require.NoError(t, h.k.Mem().Read(b, got))
		assert.Equal(t, "moved bytes", string(got))
		_, still := h.k.Mem().FindVMA(a)
		assert.False(t, still, "the old range is unmapped")
		assert.Equal(t, h.errRet(syscall.EINVAL), h.call("mremap", b+1, pg, 2*pg, 1, 0))
		assert.Equal(t, h.errRet(syscall.EFAULT), h.call("mremap", b, 16*pg, 32*pg, 1, 0), "more than one mapping")
		s := h.call(mmap, 0, pg, 3, 0x21, ^uint64(0), 0) // MAP_SHARED|ANONYMOUS
		assert.Equal(t, h.errRet(syscall.ENOSYS), h.call("mremap", s, pg, 2*pg, 1, 0))
		assert.EqualValues(t, 1, h.k.Unsupported()["mremap:file, shared, stack or heap mapping"])
	})
}
