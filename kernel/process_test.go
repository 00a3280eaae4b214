package kernel

import (
	"syscall"
	"testing"

	"github.com/probesim/probesim/mmu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	rlimitCPU    = 0
	rlimStack    = 3
	rlimCore     = 4
	rlimNofile   = 7
	rlimMemlock  = 8
	infinity64   = ^uint64(0)
	grndNonblk   = 1
	grndRand     = 2
	grndInsecure = 4
)

func TestExit(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		for _, tc := range []struct {
			name string
			arg  uint64
			want Result
			desc string
		}{
			{"exit", 0, Result{Outcome: ExitThread, Status: 0}, "exit(0)"},
			{"exit", 0x1ff, Result{Outcome: ExitThread, Status: 0xff}, "status & 0xff"},
			{"exit_group", 3, Result{Outcome: ExitGroup, Status: 3}, "exit_group(3)"},
			{"exit_group", 0x100, Result{Outcome: ExitGroup, Status: 0}, "256 & 0xff"},
			{"exit_group", ^uint64(0), Result{Outcome: ExitGroup, Status: 255}, "exit_group(-1)"},
		} {
			ret, res := h.sys(tc.name, tc.arg)
			assert.Equal(t, uint64(0), ret, tc.desc)
			assert.Equal(t, tc.want, res, tc.desc)
		}
	})
}

func TestIdentities(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		assert.Equal(t, uint64(testPID), h.call("getpid"))
		assert.Equal(t, uint64(testTID), h.call("gettid"))
		assert.Equal(t, uint64(ParentPID), h.call("getppid"), "the modelled init: the parent is outside the guest's world")
		names := []string{"getuid", "geteuid", "getgid", "getegid"}
		if h.arch == I386 {
			names = append(names, "getuid32", "geteuid32", "getgid32", "getegid32")
		}
		for _, n := range names {
			assert.Equal(t, uint64(testUID), h.call(n), n)
		}
		assert.Equal(t, uint64(0), h.call("sched_yield"))

		other := h.k.NewTask(1042, nil)
		got, _ := h.k.Syscall(other, nr(t, h.arch, "gettid"), Args{})
		assert.Equal(t, uint64(1042), got, "gettid is per thread")
	})
}

func TestSetTidAddressAndRobustList(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		addr := h.alloc(4)
		assert.Equal(t, uint64(testTID), h.call("set_tid_address", addr))
		assert.Equal(t, addr, h.th.ClearChildTID)
		assert.Equal(t, uint64(testTID), h.call("set_tid_address", 0))
		assert.Equal(t, uint64(0), h.th.ClearChildTID)

		// struct robust_list_head is three longs: 12 bytes on i386, 24 on x86-64.
		size, wrong := uint64(24), uint64(12)
		if h.arch == I386 {
			size, wrong = 12, 24
		}
		head := h.alloc(24)
		assert.Equal(t, uint64(0), h.call("set_robust_list", head, size))
		assert.Equal(t, head, h.th.RobustList)
		assert.Equal(t, h.errRet(syscall.EINVAL), h.call("set_robust_list", head+8, wrong))
		assert.Equal(t, h.errRet(syscall.EINVAL), h.call("set_robust_list", head+8, 0))
		assert.Equal(t, head, h.th.RobustList, "a refused list is not recorded")
	})
}

func TestUnsupportedAndCounts(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		// rseq is deliberately ENOSYS (glibc copes): not "unsupported".
		assert.Equal(t, h.errRet(syscall.ENOSYS), h.call("rseq", 0, 32, 0, 0x53053053))
		assert.Equal(t, h.errRet(syscall.ENOSYS), h.call("io_uring_setup", 8, 0))
		assert.Equal(t, h.errRet(syscall.ENOSYS), h.call("io_uring_setup", 8, 0))
		ret, res := h.k.Syscall(h.th, 9999, Args{})
		assert.Equal(t, h.errRet(syscall.ENOSYS), ret)
		assert.Equal(t, Result{}, res)
		h.call("getpid")

		assert.Equal(t, map[string]uint64{"io_uring_setup": 2, "syscall_9999": 1}, h.k.Unsupported())
		assert.Equal(t, map[string]uint64{"rseq": 1, "io_uring_setup": 2, "syscall_9999": 1, "getpid": 1}, h.k.Counts())

		// The maps are copies.
		h.k.Counts()["getpid"] = 100
		h.k.Unsupported()["x"] = 1
		assert.Equal(t, uint64(1), h.k.Counts()["getpid"])
		assert.Len(t, h.k.Unsupported(), 2)
	})
}

func TestSyscallName(t *testing.T) {
	k32, k64 := newHarness(t, I386).k, newHarness(t, X8664).k
	assert.Equal(t, "exit", k32.SyscallName(1))
	assert.Equal(t, "write", k64.SyscallName(1))
	assert.Equal(t, "mmap", k32.SyscallName(90), "old_mmap keeps its header name")
	assert.Equal(t, "mmap", k64.SyscallName(9))
	assert.Equal(t, "break", k32.SyscallName(17), "named even though no kernel implements it")
	assert.Equal(t, "syscall_222", k32.SyscallName(222), "a hole in the i386 table")
	assert.Equal(t, "syscall_400", k64.SyscallName(400), "a hole in the x86-64 table")
	assert.Equal(t, "syscall_100000", k64.SyscallName(100000))
	assert.Equal(t, "syscall_18446744073709551615", k64.SyscallName(^uint64(0)))
	assert.Equal(t, "i386", I386.String())
	assert.Equal(t, "x86_64", X8664.String())
}

func TestRegisterReplacesHandler(t *testing.T) {
	h := newHarness(t, X8664)
	h.k.Register("getpid", func(k *Kernel, t *Task, a Args) (uint64, Result) {
		return a[0] + 1, Result{Outcome: Block}
	})
	ret, res := h.sys("getpid", 41)
	assert.Equal(t, uint64(42), ret)
	assert.Equal(t, Result{Outcome: Block}, res)
	h.k.Register("io_uring_setup", sysSchedYield)
	assert.Equal(t, uint64(0), h.call("io_uring_setup"))
	assert.Empty(t, h.k.Unsupported())
}

func TestNewDefaults(t *testing.T) {
	as := mmu.New(mmu.Config{})
	t.Cleanup(func() { require.NoError(t, as.Close()) })
	k := New(Config{Arch: X8664, Mem: as})
	assert.Equal(t, X8664, k.Arch())
	assert.Same(t, as, k.Mem())
	assert.Equal(t, uint64(3_000_000_000), k.Config().FreqHz)
	th := k.NewTask(1, nil)
	buf, e := as.Mmap(0, 0x1000, mmu.ProtRead|mmu.ProtWrite, mmu.MapPrivate|mmu.MapAnonymous, "")
	require.Zero(t, e)
	ret, _ := k.Syscall(th, 1, Args{1, buf, 10}) // write to a discarded stdout
	assert.Equal(t, uint64(10), ret)
	ret, _ = k.Syscall(th, 1, Args{2, buf, 3})
	assert.Equal(t, uint64(3), ret)
	ret, _ = k.Syscall(th, 201, Args{0}) // time: the default clock stays at 0
	assert.Equal(t, uint64(Epoch), ret)

	assert.PanicsWithValue(t, "linux.New: nil address space", func() { New(Config{}) })
}

func TestPrlimit64Stack(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		old := h.alloc(16)
		// prlimit64(pid, resource, new, old) with struct rlimit64 {u64, u64}.
		require.Equal(t, uint64(0), h.call("prlimit64", 0, rlimStack, 0, old))
		assert.Equal(t, le64(8<<20, infinity64), h.get(old, 16))

		newLim := h.data(le64(16<<20, infinity64))
		require.Equal(t, uint64(0), h.call("prlimit64", testPID, rlimStack, newLim, old))
		assert.Equal(t, le64(8<<20, infinity64), h.get(old, 16), "old is the value before the change")
		assert.Equal(t, uint64(16<<20), h.k.Mem().StackLimit())
		require.Equal(t, uint64(0), h.call("prlimit64", 0, rlimStack, 0, old))
		assert.Equal(t, le64(16<<20, infinity64), h.get(old, 16))

		for _, tc := range []struct {
			name                   string
			pid, res, newLim, oldp uint64
			want                   syscall.Errno
		}{
			{"another process", 999, rlimStack, 0, old, syscall.ESRCH},
			{"resource out of range", 0, 16, 0, old, syscall.EINVAL},
			{"soft above hard", 0, rlimStack, h.data(le64(2, 1)), old, syscall.EINVAL},
			{"raising the hard limit", 0, rlimNofile, h.data(le64(1024, 1<<21)), old, syscall.EPERM},
			{"unmapped new", 0, rlimStack, unmapped, old, syscall.EFAULT},
			{"new running off the mapping", 0, rlimStack, h.scratch + scratchSize - 8, old, syscall.EFAULT},
			{"unmapped old", 0, rlimStack, 0, unmapped, syscall.EFAULT},
		} {
			assert.Equal(t, h.errRet(tc.want), h.call("prlimit64", tc.pid, tc.res, tc.newLim, tc.oldp), tc.name)
		}
		assert.Equal(t, uint64(16<<20), h.k.Mem().StackLimit(), "refused changes change nothing")

		require.Equal(t, uint64(0), h.call("prlimit64", 0, rlimNofile, 0, old))
		assert.Equal(t, le64(1024, 1048576), h.get(old, 16))
		require.Equal(t, uint64(0), h.call("prlimit64", 0, rlimitCPU, 0, old))
		assert.Equal(t, le64(infinity64, infinity64), h.get(old, 16))
	})
}

func TestGetrlimit(t *testing.T) {
	t.Run("x86-64", func(t *testing.T) {
		h := newHarness(t, X8664)
		buf := h.alloc(16)
		for _, tc := range []struct {
			res      uint64
			cur, max uint64
		}{
			{rlimStack, 8 << 20, infinity64},
			{rlimNofile, 1024, 1048576},
			{rlimCore, 0, infinity64},
			{rlimMemlock, 8 << 20, 8 << 20},
			{rlimitCPU, infinity64, infinity64},
			{6, 4096, 4096},              // RLIMIT_NPROC: the process limit
			{11, 95000, 95000},           // RLIMIT_SIGPENDING
			{12, 819200, 819200},         // RLIMIT_MSGQUEUE
			{13, 0, 0},                   // RLIMIT_NICE
			{14, 0, 0},                   // RLIMIT_RTPRIO
			{15, infinity64, infinity64}, // RLIMIT_RTTIME
		} {
			require.Equal(t, uint64(0), h.call("getrlimit", tc.res, buf))
			assert.Equal(t, le64(tc.cur, tc.max), h.get(buf, 16), "resource %d", tc.res)
		}
		assert.Equal(t, h.errRet(syscall.EINVAL), h.call("getrlimit", 16, buf))
		assert.Equal(t, h.errRet(syscall.EFAULT), h.call("getrlimit", rlimStack, unmapped))
	})
	t.Run("i386", func(t *testing.T) {
		h := newHarness(t, I386)
		buf := h.alloc(16)
		h.put(buf+8, []byte{0xee, 0xee})
		// A stack limit above 4 GiB shows the clamping of the soft limit too.
		require.Equal(t, uint64(0), h.call("prlimit64", 0, rlimStack, h.data(le64(5<<30, infinity64)), 0))
		for _, tc := range []struct {
			name     string
			res      uint64
			cur, max uint32
		}{
			// ugetrlimit clamps to COMPAT_RLIM_INFINITY, getrlimit (the
			// old one) to 0x7fffffff.
			{"ugetrlimit", rlimStack, 0xffffffff, 0xffffffff},
			{"getrlimit", rlimStack, 0x7fffffff, 0x7fffffff},
			{"ugetrlimit", rlimNofile, 1024, 1048576},
			{"getrlimit", rlimNofile, 1024, 1048576},
			{"ugetrlimit", rlimCore, 0, 0xffffffff},
			{"getrlimit", rlimCore, 0, 0x7fffffff},
		} {
			require.Equal(t, uint64(0), h.call(tc.name, tc.res, buf))
			assert.Equal(t, le32(tc.cur, tc.max), h.get(buf, 8), "%s(%d)", tc.name, tc.res)
		}
		assert.Equal(t, []byte{0xee, 0xee}, h.get(buf+8, 2), "struct rlimit is 8 bytes on i386")
		for _, n := range []string{"getrlimit", "ugetrlimit"} {
			assert.Equal(t, h.errRet(syscall.EINVAL), h.call(n, 16, buf))
			assert.Equal(t, h.errRet(syscall.EFAULT), h.call(n, rlimStack, unmapped))
		}
	})
}

func TestGetrandom(t *testing.T) {
	draw := func(t *testing.T, arch Arch, seed uint64) (first, second []byte) {
		h := newHarness(t, arch, withSeed(seed))
		buf := h.alloc(32)
		require.Equal(t, uint64(32), h.call("getrandom", buf, 32, 0))
		first = h.get(buf, 32)
		require.Equal(t, uint64(32), h.call("getrandom", buf, 32, grndNonblk))
		return first, h.get(buf, 32)
	}
	for _, arch := range arches {
		a1, a2 := draw(t, arch, 7)
		b1, b2 := draw(t, arch, 7)
		c1, _ := draw(t, arch, 8)
		assert.Equal(t, a1, b1, "%v: same seed, same bytes", arch)
		assert.Equal(t, a2, b2, "%v: same seed, same stream", arch)
		assert.NotEqual(t, a1, a2, "%v: the stream advances", arch)
		assert.NotEqual(t, a1, c1, "%v: another seed, other bytes", arch)
		assert.NotEqual(t, make([]byte, 32), a1)
	}

	forEachArch(t, func(t *testing.T, h *harness) {
		buf := h.alloc(16)
		for _, f := range []uint64{0, grndNonblk, grndRand, grndInsecure, grndNonblk | grndRand, grndNonblk | grndInsecure} {
			assert.Equal(t, uint64(16), h.call("getrandom", buf, 16, f), "flags %#x", f)
		}
		for _, f := range []uint64{8, 0x100, grndRand | grndInsecure, grndNonblk | grndRand | grndInsecure} {
			assert.Equal(t, h.errRet(syscall.EINVAL), h.call("getrandom", buf, 16, f), "flags %#x", f)
		}
		assert.Equal(t, uint64(0), h.call("getrandom", unmapped, 0, 0), "an empty request touches no memory")
		assert.Equal(t, h.errRet(syscall.EFAULT), h.call("getrandom", unmapped, 16, 0))
	})
}

func TestUname(t *testing.T) {
	for _, tc := range []struct {
		arch    Arch
		machine string
	}{{I386, "i686"}, {X8664, "x86_64"}} {
		h := newHarness(t, tc.arch)
		buf := h.alloc(6*65 + 8)
		h.put(buf+6*65, []byte("sentinel"))
		require.Equal(t, uint64(0), h.call("uname", buf))
		// struct new_utsname: six fields of 65 bytes, NUL padded.
		field := func(i int) string {
			b := h.get(buf+uint64(i*65), 65)
			n := 0
			for n < len(b) && b[n] != 0 {
				n++
			}
			assert.Equal(t, make([]byte, 65-n), b[n:], "field %d is NUL padded", i)
			return string(b[:n])
		}
		assert.Equal(t, "Linux", field(0), "sysname")
		assert.Equal(t, "probesim", field(1), "nodename")
		assert.Equal(t, "6.1.0-probesim", field(2), "release")
		assert.Equal(t, "#1 SMP PREEMPT_DYNAMIC probesim", field(3), "version")
		assert.Equal(t, tc.machine, field(4), "machine")
		assert.Equal(t, "(none)", field(5), "domainname")
		assert.Equal(t, "sentinel", string(h.get(buf+6*65, 8)))
		assert.Equal(t, h.errRet(syscall.EFAULT), h.call("uname", unmapped))
	}
}
