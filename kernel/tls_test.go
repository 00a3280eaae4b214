package kernel

import (
	"errors"
	"syscall"
	"testing"

	"github.com/probesim/probesim/mmu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// user_desc flag bits (arch/x86/include/uapi/asm/ldt.h), in the 32-bit word
// at offset 12.
const (
	udSeg32        = 1 << 0
	udContentsCode = 2 << 1
	udReadExecOnly = 1 << 3
	udLimitInPages = 1 << 4
	udNotPresent   = 1 << 5
	udUseable      = 1 << 6

	// glibc's TLS descriptor (sysdeps/i386/nptl/tls.h TLS_INIT_TP):
	// seg_32bit, limit_in_pages, useable, limit 0xfffff.
	glibcFlags = udSeg32 | udLimitInPages | udUseable
	// udEmpty is LDT_empty: read_exec_only and seg_not_present only.
	udEmpty = udReadExecOnly | udNotPresent

	tlsBase = 0xf7fc3740
	// glibcDesc is the descriptor fill_ldt builds for glibc's user_desc with
	// base 0xf7fc3740, worked out by hand:
	//
	//	low dword:  base[15:0]=0x3740 in bits 31..16, limit[15:0]=0xffff
	//	            -> 0x3740ffff
	//	high dword: base[31:24]=0xf7 in bits 31..24
	//	            G=1 (bit 23), D/B=1 (22), L=0 (21), AVL=1 (20),
	//	            limit[19:16]=0xf (19..16)             -> 0xdf in bits 23..16
	//	            P=1 (15), DPL=3 (14..13), S=1 (12),
	//	            type=0b0011 (writable data, accessed)  -> 0xf3 in bits 15..8
	//	            base[23:16]=0xfc in bits 7..0
	//	            -> 0xf7dff3fc
	glibcDesc = 0xf7dff3fc_3740ffff
)

func (h *harness) userDesc(entry, base, limit, flags uint32) uint64 {
	return h.data(le32(entry, base, limit, flags))
}

func TestSetThreadArea(t *testing.T) {
	h := newHarness(t, I386)
	ud := h.userDesc(0xffffffff, tlsBase, 0xfffff, glibcFlags)

	// entry -1 allocates the lowest free slot and writes its number back.
	for i, want := range []int{12, 13, 14} {
		if i > 0 {
			h.put(ud, le32(0xffffffff))
		}
		require.Equal(t, uint64(0), h.call("set_thread_area", ud), "allocation %d", i)
		assert.Equal(t, uint32(want), h.u32(ud), "entry_number written back")
		assert.Equal(t, le32(tlsBase, 0xfffff, glibcFlags), h.get(ud+4, 12), "the rest is not touched")
		assert.Equal(t, TLSDesc{Info: [16]byte(le32(uint32(want), tlsBase, 0xfffff, glibcFlags)), Desc: glibcDesc, Used: true},
			h.th.TLS[want-TLSEntryMin])
	}
	assert.Equal(t, []gdtWrite{{12, glibcDesc}, {13, glibcDesc}, {14, glibcDesc}}, h.cpu.gdt)

	h.put(ud, le32(0xffffffff))
	assert.Equal(t, h.errRet(syscall.ESRCH), h.call("set_thread_area", ud), "all three slots in use")
	assert.Equal(t, uint32(0xffffffff), h.u32(ud))
	assert.Len(t, h.cpu.gdt, 3)

	// An explicit slot is replaced in place.
	other := h.userDesc(13, 0x12345678, 0xabcde, udSeg32)
	require.Equal(t, uint64(0), h.call("set_thread_area", other))
	// limit 0xabcde, byte granular, not useable, writable accessed data:
	// low 0x5678bcde, high 0x12 | D (0x40 << 16) | 0xa << 16 | 0xf3 << 8 | 0x34.
	assert.Equal(t, gdtWrite{13, 0x124af334_5678bcde}, h.cpu.gdt[3])

	// Clearing a slot (LDT_empty or the all-zero LDT_zero) frees it.
	require.Equal(t, uint64(0), h.call("set_thread_area", h.userDesc(12, 0, 0, udEmpty)))
	require.Equal(t, uint64(0), h.call("set_thread_area", h.userDesc(14, 0, 0, 0)))
	assert.Equal(t, []gdtWrite{{12, 0}, {14, 0}}, h.cpu.gdt[4:])
	assert.False(t, h.th.TLS[0].Used)
	assert.False(t, h.th.TLS[2].Used)
	h.put(ud, le32(0xffffffff))
	require.Equal(t, uint64(0), h.call("set_thread_area", ud))
	assert.Equal(t, uint32(12), h.u32(ud), "a cleared slot is free again")

	for _, tc := range []struct {
		name  string
		entry uint32
		flags uint32
		want  syscall.Errno
	}{
		{"below the TLS slots", 11, glibcFlags, syscall.EINVAL},
		{"above the TLS slots", 15, glibcFlags, syscall.EINVAL},
		{"entry 0", 0, glibcFlags, syscall.EINVAL},
		{"16-bit segment", 12, udLimitInPages, syscall.EINVAL},
		{"code segment", 12, glibcFlags | udContentsCode, syscall.EINVAL},
		{"not present", 12, glibcFlags | udNotPresent, syscall.EINVAL},
	} {
		assert.Equal(t, h.errRet(tc.want), h.call("set_thread_area", h.userDesc(tc.entry, tlsBase, 0xfffff, tc.flags)), tc.name)
	}
	// A descriptor that is refused allocates nothing.
	h.cpu.gdt = nil
	h.th.TLS[1] = TLSDesc{}
	bad := h.userDesc(0xffffffff, tlsBase, 0xfffff, udLimitInPages)
	assert.Equal(t, h.errRet(syscall.EINVAL), h.call("set_thread_area", bad))
	assert.Equal(t, uint32(0xffffffff), h.u32(bad), "entry_number untouched")
	assert.Empty(t, h.cpu.gdt)

	assert.Equal(t, h.errRet(syscall.EFAULT), h.call("set_thread_area", unmapped))
	ro := h.readOnlyPage(le32(0xffffffff, tlsBase, 0xfffff, glibcFlags))
	assert.Equal(t, h.errRet(syscall.EFAULT), h.call("set_thread_area", ro), "entry_number cannot be written back")
	assert.Empty(t, h.cpu.gdt)
	assert.Equal(t, h.errRet(syscall.EFAULT), h.call("set_thread_area", h.scratch+scratchSize-8))

	h.cpu.fail = errors.New("engine gone")
	assert.Equal(t, h.errRet(syscall.EFAULT), h.call("set_thread_area", h.userDesc(13, tlsBase, 0xfffff, glibcFlags)))
}

// readOnlyPage maps a read-only page holding b and returns its address.
func (h *harness) readOnlyPage(b []byte) uint64 {
	h.t.Helper()
	addr, e := h.as.Mmap(0, 0x1000, mmu.ProtRead, mmu.MapPrivate|mmu.MapAnonymous, "")
	require.Zero(h.t, e)
	require.NoError(h.t, h.as.WriteForce(addr, b))
	return addr
}

func TestSetThreadAreaWithoutCPU(t *testing.T) {
	h := newHarness(t, I386)
	h.th.CPU = nil
	ud := h.userDesc(0xffffffff, tlsBase, 0xfffff, glibcFlags)
	require.Equal(t, uint64(0), h.call("set_thread_area", ud))
	assert.Equal(t, uint64(glibcDesc), h.th.TLS[0].Desc, "recorded for the scheduler to install")
}

func TestGetThreadArea(t *testing.T) {
	h := newHarness(t, I386)
	require.Equal(t, uint64(0), h.call("set_thread_area", h.userDesc(0xffffffff, tlsBase, 0xfffff, glibcFlags)))

	q := h.userDesc(12, 0, 0, 0)
	require.Equal(t, uint64(0), h.call("get_thread_area", q))
	assert.Equal(t, le32(12, tlsBase, 0xfffff, glibcFlags), h.get(q, 16))

	// An unused slot reads back as the empty descriptor (fill_user_desc of
	// an all-zero descriptor).
	q = h.userDesc(14, 0xdead, 0xbeef, glibcFlags)
	require.Equal(t, uint64(0), h.call("get_thread_area", q))
	assert.Equal(t, le32(14, 0, 0, udEmpty), h.get(q, 16))

	assert.Equal(t, h.errRet(syscall.EINVAL), h.call("get_thread_area", h.userDesc(11, 0, 0, 0)))
	assert.Equal(t, h.errRet(syscall.EINVAL), h.call("get_thread_area", h.userDesc(15, 0, 0, 0)))
	assert.Equal(t, h.errRet(syscall.EINVAL), h.call("get_thread_area", h.userDesc(0xffffffff, 0, 0, 0)))
	assert.Equal(t, h.errRet(syscall.EFAULT), h.call("get_thread_area", unmapped))
	assert.Equal(t, h.errRet(syscall.EFAULT), h.call("get_thread_area", h.readOnlyPage(le32(12))))
}

func TestArchPrctl(t *testing.T) {
	const (
		setGS = 0x1001
		setFS = 0x1002
		getFS = 0x1003
		getGS = 0x1004
	)
	h := newHarness(t, X8664)
	out := h.alloc(8)

	require.Equal(t, uint64(0), h.call("arch_prctl", setFS, 0x7ffff7d8a740))
	require.Equal(t, uint64(0), h.call("arch_prctl", setGS, 0x1234))
	assert.Equal(t, []uint64{0x7ffff7d8a740}, h.cpu.fsBases)
	assert.Equal(t, []uint64{0x1234}, h.cpu.gsBases)
	assert.Equal(t, uint64(0x7ffff7d8a740), h.th.FSBase)
	assert.Equal(t, uint64(0x1234), h.th.GSBase)

	require.Equal(t, uint64(0), h.call("arch_prctl", getFS, out))
	assert.Equal(t, uint64(0x7ffff7d8a740), h.u64(out))
	require.Equal(t, uint64(0), h.call("arch_prctl", getGS, out))
	assert.Equal(t, uint64(0x1234), h.u64(out))

	require.Equal(t, uint64(0), h.call("arch_prctl", setFS, 0x7fffffffefff), "the last user address")
	for _, tc := range []struct {
		name       string
		code, addr uint64
		want       syscall.Errno
	}{
		{"FS at TASK_SIZE_MAX", setFS, 0x7ffffffff000, syscall.EPERM},
		{"non-canonical FS", setFS, 0x0000800000000000, syscall.EPERM},
		{"kernel GS", setGS, 0xffff888000000000, syscall.EPERM},
		{"unknown code", 0x1005, 0, syscall.EINVAL},
		{"ARCH_GET_CPUID", 0x1011, 0, syscall.EINVAL},
		{"GET_FS to unmapped memory", getFS, unmapped, syscall.EFAULT},
	} {
		assert.Equal(t, h.errRet(tc.want), h.call("arch_prctl", tc.code, tc.addr), tc.name)
	}
	assert.Equal(t, []uint64{0x7ffff7d8a740, 0x7fffffffefff}, h.cpu.fsBases, "refused bases never reach the CPU")
	assert.Equal(t, uint64(0x7fffffffefff), h.th.FSBase)

	h.cpu.fail = errors.New("engine gone")
	assert.Equal(t, h.errRet(syscall.EFAULT), h.call("arch_prctl", setFS, 0x1000))
	assert.Equal(t, h.errRet(syscall.EFAULT), h.call("arch_prctl", setGS, 0x1000))

	t.Run("i386", func(t *testing.T) {
		h := newHarness(t, I386)
		for _, code := range []uint64{setFS, getFS, setGS, 0x3001} {
			assert.Equal(t, h.errRet(syscall.EINVAL), h.call("arch_prctl", code, h.alloc(8)), "code %#x", code)
		}
		assert.Empty(t, h.cpu.fsBases)
		assert.Empty(t, h.k.Unsupported(), "handled, not unsupported")
	})
	t.Run("without CPU", func(t *testing.T) {
		h := newHarness(t, X8664)
		h.th.CPU = nil
		require.Equal(t, uint64(0), h.call("arch_prctl", setFS, 0x5000))
		assert.Equal(t, uint64(0x5000), h.th.FSBase)
	})
}
