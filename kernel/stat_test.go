package kernel

import (
	"bytes"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	atEmptyPath     = 0x1000
	statxBasicMask  = 0x7ff
	sentinel        = 0xa5
	pipeMode        = 0o010600 // S_IFIFO | 0600
	procMode        = 0o100444 // S_IFREG | 0444
	pipefsDevice    = 0x0d
	procDevice      = 0x16
	statSize64      = 144 // x86-64 struct stat
	stat64Size386   = 96  // i386 struct stat64
	statxStructSize = 256
)

// wantStat is what the stat family must report for a descriptor.
type wantStat struct {
	dev, ino uint64
	mode     uint32
	blksize  uint64
	time     int64 // every timestamp, in nanoseconds (0 for the pipes)
}

func stdioStat(fd uint64) wantStat {
	return wantStat{dev: pipefsDevice, ino: 1000 + fd, mode: pipeMode, blksize: 4096}
}

// mapsStat is /proc/self/maps as the view has it: a procfs node whose
// times are when the kernel made it (the guest clock's epoch here).
func (h *harness) mapsStat() wantStat {
	n, e := h.k.FS().Lookup(nil, "/proc/self/maps", true)
	require.Zero(h.t, e)
	return wantStat{dev: procDevice, ino: n.Ino(), mode: procMode, blksize: 1024, time: Epoch * 1e9}
}

// statBuf returns a buffer of n bytes followed by a sentinel, filled with
// the sentinel, so that both untouched fields and overruns show.
func (h *harness) statBuf(n int) uint64 {
	a := h.alloc(n + 16)
	h.put(a, bytes.Repeat([]byte{sentinel}, n+16))
	return a
}

func (h *harness) requireSentinelAfter(buf uint64, n int) {
	h.t.Helper()
	require.Equal(h.t, bytes.Repeat([]byte{sentinel}, 16), h.get(buf+uint64(n), 16), "written beyond %d bytes", n)
}

// checkStat64 decodes x86-64 struct stat (arch/x86/include/uapi/asm/stat.h):
// dev 0, ino 8, nlink 16 (longs), mode 24, uid 28, gid 32, pad 36 (ints),
// rdev 40, size 48, blksize 56, blocks 64, then three timespecs from 72 and
// three unused longs up to 144.
func (h *harness) checkStat64(buf uint64, w wantStat) {
	t := h.t
	t.Helper()
	assert.Equal(t, w.dev, h.u64(buf+0), "st_dev")
	assert.Equal(t, w.ino, h.u64(buf+8), "st_ino")
	assert.Equal(t, uint64(1), h.u64(buf+16), "st_nlink")
	assert.Equal(t, w.mode, h.u32(buf+24), "st_mode")
	assert.Equal(t, uint32(testUID), h.u32(buf+28), "st_uid")
	assert.Equal(t, uint32(testUID), h.u32(buf+32), "st_gid")
	assert.Equal(t, uint32(0), h.u32(buf+36), "__pad0")
	assert.Equal(t, uint64(0), h.u64(buf+40), "st_rdev")
	assert.Equal(t, uint64(0), h.u64(buf+48), "st_size")
	assert.Equal(t, w.blksize, h.u64(buf+56), "st_blksize")
	assert.Equal(t, uint64(0), h.u64(buf+64), "st_blocks")
	for i := uint64(0); i < 3; i++ {
		assert.Equal(t, uint64(w.time/1e9), h.u64(buf+72+16*i), "time %d seconds", i)
		assert.Equal(t, uint64(w.time%1e9), h.u64(buf+80+16*i), "time %d nanoseconds", i)
	}
	assert.Equal(t, make([]byte, statSize64-120), h.get(buf+120, statSize64-120), "unused")
	h.requireSentinelAfter(buf, statSize64)
}

// checkStat64I386 decodes i386 struct stat64 (arch/x86/include/uapi/asm/
// stat.h, packed): dev 0 (u64), pad 8, __st_ino 12, mode 16, nlink 20,
// uid 24, gid 28, rdev 32 (u64), pad 40, size 44 (s64), blksize 52,
// blocks 56 (u64), atime 64, mtime 72, ctime 80 (sec, nsec), ino 88 (u64).
func (h *harness) checkStat64I386(buf uint64, w wantStat) {
	t := h.t
	t.Helper()
	assert.Equal(t, w.dev, h.u64(buf+0), "st_dev")
	assert.Equal(t, uint32(0), h.u32(buf+8), "__pad0")
	assert.Equal(t, uint32(w.ino), h.u32(buf+12), "__st_ino")
	assert.Equal(t, w.mode, h.u32(buf+16), "st_mode")
	assert.Equal(t, uint32(1), h.u32(buf+20), "st_nlink")
	assert.Equal(t, uint32(testUID), h.u32(buf+24), "st_uid")
	assert.Equal(t, uint32(testUID), h.u32(buf+28), "st_gid")
	assert.Equal(t, uint64(0), h.u64(buf+32), "st_rdev")
	assert.Equal(t, uint32(0), h.u32(buf+40), "__pad3")
	assert.Equal(t, uint64(0), h.u64(buf+44), "st_size")
	assert.Equal(t, uint32(w.blksize), h.u32(buf+52), "st_blksize")
	assert.Equal(t, uint64(0), h.u64(buf+56), "st_blocks")
	for i := uint64(0); i < 3; i++ {
		assert.Equal(t, uint32(w.time/1e9), h.u32(buf+64+8*i), "time %d seconds", i)
		assert.Equal(t, uint32(w.time%1e9), h.u32(buf+68+8*i), "time %d nanoseconds", i)
	}
	assert.Equal(t, w.ino, h.u64(buf+88), "st_ino")
	h.requireSentinelAfter(buf, stat64Size386)
}

// checkStatx decodes struct statx (include/uapi/linux/stat.h), the same on
// both ABIs: mask 0, blksize 4, attributes 8, nlink 16, uid 20, gid 24,
// mode 28 (u16), ino 32, size 40, blocks 48, attributes_mask 56, four
// timestamps of 16 bytes from 64, rdev major/minor 128/132, dev
// major/minor 136/140, then spare space up to 256.
func (h *harness) checkStatx(buf uint64, w wantStat) {
	t := h.t
	t.Helper()
	assert.Equal(t, uint32(statxBasicMask), h.u32(buf+0), "stx_mask")
	assert.Equal(t, uint32(w.blksize), h.u32(buf+4), "stx_blksize")
	assert.Equal(t, uint64(0), h.u64(buf+8), "stx_attributes")
	assert.Equal(t, uint32(1), h.u32(buf+16), "stx_nlink")
	assert.Equal(t, uint32(testUID), h.u32(buf+20), "stx_uid")
	assert.Equal(t, uint32(testUID), h.u32(buf+24), "stx_gid")
	assert.Equal(t, uint16(w.mode), h.u16(buf+28), "stx_mode")
	assert.Equal(t, w.ino, h.u64(buf+32), "stx_ino")
	assert.Equal(t, uint64(0), h.u64(buf+40), "stx_size")
	assert.Equal(t, make([]byte, 64-48), h.get(buf+48, 64-48), "blocks, attributes_mask")
	for _, off := range []uint64{64, 96, 112} { // atime, ctime, mtime
		assert.Equal(t, uint64(w.time/1e9), h.u64(buf+off), "time at %d", off)
		assert.Equal(t, uint32(w.time%1e9), h.u32(buf+off+8), "time at %d", off)
	}
	assert.Equal(t, make([]byte, 16), h.get(buf+80, 16), "no birth time")
	assert.Equal(t, uint32(0), h.u32(buf+128), "stx_rdev_major")
	assert.Equal(t, uint32(0), h.u32(buf+132), "stx_rdev_minor")
	assert.Equal(t, uint32(w.dev>>8), h.u32(buf+136), "stx_dev_major")
	assert.Equal(t, uint32(w.dev&0xff), h.u32(buf+140), "stx_dev_minor")
	assert.Equal(t, make([]byte, statxStructSize-144), h.get(buf+144, statxStructSize-144), "spare")
	h.requireSentinelAfter(buf, statxStructSize)
}

func TestFstatX8664(t *testing.T) {
	h := newHarness(t, X8664)
	maps := h.call("open", h.str("/proc/self/maps"), oRdonly)
	empty := h.str("")
	for _, tc := range []struct {
		fd   uint64
		want wantStat
	}{
		{0, stdioStat(0)}, {1, stdioStat(1)}, {2, stdioStat(2)}, {maps, h.mapsStat()},
	} {
		buf := h.statBuf(statSize64)
		require.Equal(t, uint64(0), h.call("fstat", tc.fd, buf), "fstat(%d)", tc.fd)
		h.checkStat64(buf, tc.want)

		buf = h.statBuf(statSize64)
		require.Equal(t, uint64(0), h.call("newfstatat", tc.fd, empty, buf, atEmptyPath), "newfstatat(%d)", tc.fd)
		h.checkStat64(buf, tc.want)
	}
	buf := h.statBuf(statSize64)
	for _, tc := range []struct {
		name string
		ret  uint64
		want syscall.Errno
	}{
		{"fstat closed", h.call("fstat", 9, buf), syscall.EBADF},
		{"fstat unmapped", h.call("fstat", 1, unmapped), syscall.EFAULT},
		{"newfstatat empty path without AT_EMPTY_PATH", h.call("newfstatat", 1, empty, buf, 0), syscall.ENOENT},
		{"newfstatat a path", h.call("newfstatat", atFdcwd6, h.str("/etc/passwd"), buf, 0), syscall.ENOENT},
		{"newfstatat closed", h.call("newfstatat", 9, empty, buf, atEmptyPath), syscall.EBADF},
		{"newfstatat unmapped path", h.call("newfstatat", 1, unmapped, buf, atEmptyPath), syscall.EFAULT},
		{"newfstatat unmapped buffer", h.call("newfstatat", 1, empty, unmapped, atEmptyPath), syscall.EFAULT},
	} {
		assert.Equal(t, h.errRet(tc.want), tc.ret, tc.name)
	}
	assert.Equal(t, bytes.Repeat([]byte{sentinel}, statSize64), h.get(buf, statSize64), "failures write nothing")
}

func TestFstat64I386(t *testing.T) {
	h := newHarness(t, I386)
	maps := h.call("open", h.str("/proc/self/maps"), oRdonly)
	empty := h.str("")
	for _, tc := range []struct {
		fd   uint64
		want wantStat
	}{
		{0, stdioStat(0)}, {1, stdioStat(1)}, {2, stdioStat(2)}, {maps, h.mapsStat()},
	} {
		buf := h.statBuf(stat64Size386)
		require.Equal(t, uint64(0), h.call("fstat64", tc.fd, buf), "fstat64(%d)", tc.fd)
		h.checkStat64I386(buf, tc.want)

		buf = h.statBuf(stat64Size386)
		require.Equal(t, uint64(0), h.call("fstatat64", tc.fd, empty, buf, atEmptyPath), "fstatat64(%d)", tc.fd)
		h.checkStat64I386(buf, tc.want)
	}
	buf := h.statBuf(stat64Size386)
	assert.Equal(t, h.errRet(syscall.EBADF), h.call("fstat64", 9, buf))
	assert.Equal(t, h.errRet(syscall.EFAULT), h.call("fstat64", 1, unmapped))
	assert.Equal(t, h.errRet(syscall.ENOENT), h.call("fstatat64", 1, empty, buf, 0))
	assert.Equal(t, h.errRet(syscall.ENOENT), h.call("fstatat64", atFdcwd, h.str("/proc/self/nope"), buf, 0))
	assert.Equal(t, h.errRet(syscall.EBADF), h.call("fstatat64", 9, empty, buf, atEmptyPath))
	// The old struct stat call is not modelled.
	assert.Equal(t, h.errRet(syscall.ENOSYS), h.call("fstat", 1, buf))
	assert.Equal(t, bytes.Repeat([]byte{sentinel}, stat64Size386), h.get(buf, stat64Size386))
}

func TestStatx(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		maps := h.call("open", h.str("/proc/self/maps"), oRdonly)
		empty := h.str("")
		for _, tc := range []struct {
			fd   uint64
			want wantStat
		}{
			{1, stdioStat(1)}, {maps, h.mapsStat()},
		} {
			buf := h.statBuf(statxStructSize)
			// statx(dirfd, path, flags, mask, buf)
			require.Equal(t, uint64(0), h.call("statx", tc.fd, empty, atEmptyPath, statxBasicMask, buf))
			h.checkStatx(buf, tc.want)
		}
		buf := h.statBuf(statxStructSize)
		assert.Equal(t, h.errRet(syscall.ENOENT), h.call("statx", 1, empty, 0, statxBasicMask, buf))
		assert.Equal(t, h.errRet(syscall.ENOENT), h.call("statx", 1, h.str("/bin/sh"), 0, statxBasicMask, buf))
		assert.Equal(t, h.errRet(syscall.EBADF), h.call("statx", 9, empty, atEmptyPath, statxBasicMask, buf))
		assert.Equal(t, h.errRet(syscall.EFAULT), h.call("statx", 1, empty, atEmptyPath, statxBasicMask, unmapped))
		assert.Equal(t, bytes.Repeat([]byte{sentinel}, statxStructSize), h.get(buf, statxStructSize))
	})
}
