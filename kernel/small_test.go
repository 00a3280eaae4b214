package kernel

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPrctlName(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		buf := h.alloc(16)
		require.Equal(t, uint64(0), h.call("prctl", prGetName, buf))
		assert.Equal(t, "guest-program", string(h.get(buf, 13)), "the program's name by default")
		require.Equal(t, uint64(0), h.call("prctl", prSetName, h.str("a-much-longer-name-than-fits")))
		require.Equal(t, uint64(0), h.call("prctl", prGetName, buf))
		assert.Equal(t, append([]byte("a-much-longer-n"), 0), h.get(buf, 16), "cut to 15 bytes")
		assert.Equal(t, h.errRet(syscall.EINVAL), h.call("prctl", prSetSeccomp, 2, 0))
		assert.Equal(t, uint64(1), h.k.Unsupported()["prctl:PR_SET_SECCOMP"], "counted")
		assert.Equal(t, h.errRet(syscall.EINVAL), h.call("prctl", 9999))
		assert.Equal(t, uint64(1), h.k.Unsupported()["prctl:option 9999"])
	})
}

func TestSysinfoDescribesTheMachine(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		h.cycles = 3_000_000_000 * 5 // 5 s
		buf := h.alloc(128)
		require.Equal(t, uint64(0), h.call("sysinfo", buf))
		if h.arch == X8664 {
			assert.Equal(t, uint64(5), h.u64(buf), "uptime")
			assert.Equal(t, uint64(8<<30), h.u64(buf+32), "totalram")
			assert.Equal(t, uint32(1), h.u32(buf+104), "mem_unit (struct sysinfo is 112 bytes)")
		} else {
			assert.Equal(t, uint32(5), h.u32(buf), "uptime")
			assert.Equal(t, uint32(8<<30/4096), h.u32(buf+16), "totalram in pages")
			assert.Equal(t, uint32(4096), h.u32(buf+52), "mem_unit (struct sysinfo is 64 bytes)")
		}
	})
}

func TestSchedAndPriorities(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		mask := h.data([]byte{1, 0, 0, 0, 0, 0, 0, 0})
		assert.Equal(t, uint64(0), h.call("sched_setaffinity", 0, 8, mask))
		none := h.data(make([]byte, 8))
		assert.Equal(t, h.errRet(syscall.EINVAL), h.call("sched_setaffinity", 0, 8, none), "no vCPU in the mask")
		assert.Equal(t, uint64(20), h.call("getpriority", 0, 0))
		assert.Equal(t, uint64(0), h.call("setpriority", 0, 0, 5))
		assert.Equal(t, uint64(15), h.call("getpriority", 0, 0))
		assert.Equal(t, h.errRet(syscall.EACCES), h.call("setpriority", 0, 0, 0), "lowering nice needs CAP_SYS_NICE")
		assert.Equal(t, uint64(0x79), h.call("membarrier", 0, 0), "MEMBARRIER_CMD_QUERY")
		assert.Equal(t, uint64(ParentPID), h.call("getppid"))
	})
}

// The first process leads its own group and session: setpgid and setsid
// on a session leader are EPERM (kernel/sys.c).
func TestProcessGroupAndSession(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		pid := h.call("getpid")
		assert.Equal(t, pid, h.call("getpgrp"))
		assert.Equal(t, pid, h.call("getpgid", 0))
		assert.Equal(t, pid, h.call("getpgid", pid))
		assert.Equal(t, pid, h.call("getsid", 0))
		assert.Equal(t, h.errRet(syscall.ESRCH), h.call("getpgid", 4242))
		assert.Equal(t, h.errRet(syscall.EPERM), h.call("setpgid", 0, 0), "a session leader")
		assert.Equal(t, h.errRet(syscall.EPERM), h.call("setpgid", pid, pid), "a session leader")
		assert.Equal(t, h.errRet(syscall.EPERM), h.call("setpgid", 0, 4242), "no other group to join")
		assert.Equal(t, h.errRet(syscall.ESRCH), h.call("setpgid", 4242, 0))
		assert.Equal(t, h.errRet(syscall.EPERM), h.call("setsid"), "a group leader cannot start a session")
	})
}
