package kernel

import (
	"syscall"
	"testing"

	"github.com/probesim/probesim/mmu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	protRead   = 1
	protWrite  = 2
	protExec   = 4
	mapPrivAn  = 0x22 // MAP_PRIVATE | MAP_ANONYMOUS
	mapPrivate = 0x02
	mapFixed   = 0x10
	madvDontNd = 4
	noFD       = 0xffffffff // fd -1 as a 32-bit argument
)

// mmapBase is where the harness's address space places mappings top-down.
func mmapBase(arch Arch) uint64 {
	if arch == I386 {
		return mmu.DefaultMmapBase(mmu.TaskSize32, mmu.DefaultStackLimit, mmu.DefaultGuardGap)
	}
	return mmu.DefaultMmapBase(mmu.TaskSize64, mmu.DefaultStackLimit, mmu.DefaultGuardGap)
}

func (h *harness) vma(addr uint64) mmu.VMA {
	h.t.Helper()
	v, ok := h.as.FindVMA(addr)
	require.True(h.t, ok, "no VMA at %#x", addr)
	return v
}

func TestBrk(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		assert.Equal(t, uint64(0), h.call("brk", 0), "no heap before the loader sets one")
		assert.Equal(t, uint64(0), h.call("brk", 0x700000), "growing fails without a base")

		h.as.SetBrkBase(0x601234)
		assert.Equal(t, uint64(0x602000), h.call("brk", 0), "brk(0) returns the page-aligned base")

		assert.Equal(t, uint64(0x623456), h.call("brk", 0x623456), "grow")
		v := h.vma(0x602000)
		assert.Equal(t, mmu.VMA{Start: 0x602000, End: 0x624000, Prot: mmu.ProtRead | mmu.ProtWrite,
			Flags: mmu.Anonymous | mmu.Private | mmu.Heap | mmu.Accounted, Name: "[heap]"}, v)
		h.put(0x623000, []byte("heap data"))

		assert.Equal(t, uint64(0x603010), h.call("brk", 0x603010), "shrink")
		assert.Equal(t, uint64(0x604000), h.vma(0x602000).End)
		_, ok := h.as.FindVMA(0x623000)
		assert.False(t, ok, "released pages are unmapped")

		assert.Equal(t, uint64(0x603010), h.call("brk", 0x500000), "below the base fails: current break")
		assert.Equal(t, uint64(0x603010), h.call("brk", 0))
	})
}

func TestMmapAnonymous(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		require.Equal(t, mmapBase(h.arch)-scratchSize, h.scratch)
		name := "mmap"
		if h.arch == I386 {
			name = "mmap2"
		}
		fd := uint64(noFD)
		if h.arch == X8664 {
			fd = ^uint64(0)
		}
		// Top-down placement right below the scratch area.
		addr := h.call(name, 0, 0x2000, protRead|protWrite, mapPrivAn, fd, 0)
		assert.Equal(t, h.scratch-0x2000, addr)
		h.put(addr+0x1ff0, []byte("anonymous"))

		ro := h.call(name, 0, 100, protRead, mapPrivAn, fd, 0)
		assert.Equal(t, addr-0x1000, ro, "length rounded up to a page")
		assert.Equal(t, mmu.ProtRead, h.vma(ro).Prot)

		fixed := h.call(name, 0x40000000, 0x1000, protRead|protExec, mapPrivAn|mapFixed, fd, 0)
		assert.Equal(t, uint64(0x40000000), fixed)
		assert.Equal(t, mmu.ProtRead|mmu.ProtExec, h.vma(fixed).Prot)

		// PROT_SEM is accepted and dropped.
		sem := h.call(name, 0x40001000, 0x1000, protRead|0x8, mapPrivAn|mapFixed, fd, 0)
		assert.Equal(t, uint64(0x40001000), sem)
		assert.Equal(t, mmu.ProtRead, h.vma(sem).Prot)

		maps := h.call("open", h.str("/proc/self/maps"), oRdonly)
		for _, tc := range []struct {
			name                     string
			len, prot, flags, fd, pg uint64
			want                     syscall.Errno
		}{
			{"file mapping of a closed descriptor", 0x1000, protRead, mapPrivate, 9, 0, syscall.EBADF},
			{"file mapping of fd -1", 0x1000, protRead, mapPrivate, fd, 0, syscall.EBADF},
			{"file mapping of stdout", 0x1000, protRead, mapPrivate, 1, 0, syscall.ENODEV},
			{"file mapping of a procfs file", 0x1000, protRead, mapPrivate, maps, 0, syscall.ENODEV},
			{"length 0", 0, protRead, mapPrivAn, fd, 0, syscall.EINVAL},
			{"neither shared nor private", 0x1000, protRead, 0x20, fd, 0, syscall.EINVAL},
			{"unknown prot bit", 0x1000, 0x10, mapPrivAn, fd, 0, syscall.EINVAL},
		} {
			assert.Equal(t, h.errRet(tc.want), h.call(name, 0, tc.len, tc.prot, tc.flags, tc.fd, tc.pg), tc.name)
		}
	})
}

func TestMmapOffsets(t *testing.T) {
	t.Run("x86-64 offset in bytes", func(t *testing.T) {
		h := newHarness(t, X8664)
		assert.Equal(t, h.errRet(syscall.EINVAL), h.call("mmap", 0, 0x1000, protRead, mapPrivAn, ^uint64(0), 0x800))
		assert.Equal(t, h.scratch-0x1000, h.call("mmap", 0, 0x1000, protRead, mapPrivAn, ^uint64(0), 0x3000),
			"an aligned offset is ignored for anonymous memory")
	})
	t.Run("i386 mmap2 offset in pages", func(t *testing.T) {
		h := newHarness(t, I386)
		// pgoff 1 is byte offset 4096: aligned by construction.
		assert.Equal(t, h.scratch-0x1000, h.call("mmap2", 0, 0x1000, protRead, mapPrivAn, noFD, 1))
		assert.Equal(t, h.errRet(syscall.ENODEV), h.call("mmap2", 0, 0x1000, protRead, mapPrivate, 2, 3))
	})
	t.Run("i386 old_mmap reads its arguments from memory", func(t *testing.T) {
		h := newHarness(t, I386)
		// struct mmap_arg_struct { addr, len, prot, flags, fd, offset }, 6 x u32.
		args := h.data(le32(0, 0x3000, protRead|protWrite, mapPrivAn, noFD, 0))
		addr := h.call("mmap", args)
		assert.Equal(t, h.scratch-0x3000, addr)
		assert.Equal(t, mmu.VMA{Start: addr, End: h.scratch + scratchSize, Prot: mmu.ProtRead | mmu.ProtWrite,
			Flags: mmu.Anonymous | mmu.Private | mmu.Accounted}, h.vma(addr), "merged with the scratch area above it")

		unaligned := h.data(le32(0, 0x1000, protRead, mapPrivAn, noFD, 0x800))
		assert.Equal(t, h.errRet(syscall.EINVAL), h.call("mmap", unaligned))
		file := h.data(le32(0, 0x1000, protRead, mapPrivate, 7, 0))
		assert.Equal(t, h.errRet(syscall.EBADF), h.call("mmap", file))
		assert.Equal(t, h.errRet(syscall.EFAULT), h.call("mmap", unmapped))
		assert.Equal(t, h.errRet(syscall.EFAULT), h.call("mmap", h.scratch+scratchSize-20), "struct running off the mapping")
	})
}

func TestMunmapMprotectMadvise(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		const base = 0x40000000
		_, e := h.as.Mmap(base, 0x4000, mmu.ProtRead|mmu.ProtWrite, mmu.MapPrivate|mmu.MapAnonymous|mmu.MapFixed, "")
		require.Zero(t, e)

		// mprotect
		assert.Equal(t, uint64(0), h.call("mprotect", base, 0x1000, protRead))
		assert.Equal(t, mmu.ProtRead, h.vma(base).Prot)
		assert.Equal(t, mmu.ProtRead|mmu.ProtWrite, h.vma(base+0x1000).Prot)
		assert.Equal(t, uint64(0), h.call("mprotect", base, 0x1000, protRead|protExec|0x01000000),
			"PROT_GROWSDOWN is accepted")
		assert.Equal(t, mmu.ProtRead|mmu.ProtExec, h.vma(base).Prot)
		assert.Equal(t, uint64(0), h.call("mprotect", base, 0x1000, protRead|0x8), "PROT_SEM is ignored")
		assert.Equal(t, mmu.ProtRead, h.vma(base).Prot)
		for _, tc := range []struct {
			name            string
			addr, len, prot uint64
			want            syscall.Errno
		}{
			{"GROWSDOWN and GROWSUP", base, 0x1000, protRead | 0x03000000, syscall.EINVAL},
			{"unknown bit", base, 0x1000, protRead | 0x10, syscall.EINVAL},
			{"unknown high bit", base, 0x1000, protRead | 0x80000000, syscall.EINVAL},
			{"unaligned", base + 1, 0x1000, protRead, syscall.EINVAL},
			{"unmapped", 0x50000000, 0x1000, protRead, syscall.ENOMEM},
		} {
			assert.Equal(t, h.errRet(tc.want), h.call("mprotect", tc.addr, tc.len, tc.prot), tc.name)
		}
		assert.Equal(t, mmu.ProtRead, h.vma(base).Prot, "failures change nothing")

		// madvise
		h.put(base+0x2000, []byte("dirty"))
		assert.Equal(t, uint64(0), h.call("madvise", base+0x2000, 0x1000, madvDontNd))
		assert.Equal(t, make([]byte, 5), h.get(base+0x2000, 5), "MADV_DONTNEED zeroes private anonymous memory")
		assert.Equal(t, h.errRet(syscall.EINVAL), h.call("madvise", base, 0x1000, 999))
		assert.Equal(t, h.errRet(syscall.ENOMEM), h.call("madvise", 0x50000000, 0x1000, 0))

		// munmap
		assert.Equal(t, uint64(0), h.call("munmap", base+0x1000, 0x2000))
		_, ok := h.as.FindVMA(base + 0x1000)
		assert.False(t, ok)
		assert.Equal(t, uint64(base+0x3000), h.vma(base+0x3000).Start, "the VMA was split")
		assert.Equal(t, uint64(0), h.call("munmap", 0x50000000, 0x1000), "unmapping nothing succeeds")
		assert.Equal(t, h.errRet(syscall.EINVAL), h.call("munmap", base+1, 0x1000))
		assert.Equal(t, h.errRet(syscall.EINVAL), h.call("munmap", base, 0))
	})
}
