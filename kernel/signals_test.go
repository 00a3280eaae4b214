package kernel

import (
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	sigUSR1 = 10
	sigUSR2 = 12
	sigALRM = 14

	sigBlock   = 0
	sigUnblock = 1
	sigSetmask = 2
)

// bit is the sigset_t bit of sig.
func bit(sig int) uint64 { return 1 << (sig - 1) }

// sigactionSize is struct sigaction as rt_sigaction takes it: handler,
// flags, restorer as longs, then the 64-bit mask: 20 bytes on i386
// (compat), 32 on x86-64.
func (h *harness) sigactionSize() int {
	if h.arch == I386 {
		return 20
	}
	return 32
}

func (h *harness) sigaction(handler, flags, restorer, mask uint64) uint64 {
	return h.data(append(h.words(handler, flags, restorer), le64(mask)...))
}

func TestRtSigaction(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		size := h.sigactionSize()
		act1 := h.sigaction(0x401000, saSiginfo|saRestorer, 0x401100, bit(SIGINT)|bit(SIGKILL)|bit(SIGSTOP))
		act2 := h.sigaction(sigIGN, 0, 0, 0)
		old := h.statBuf(size)

		require.Equal(t, uint64(0), h.call("rt_sigaction", sigUSR1, act1, old, 8))
		assert.Equal(t, make([]byte, size), h.get(old, size), "the initial disposition is SIG_DFL")
		h.requireSentinelAfter(old, size)
		handler, flags, mask := h.k.SigAction(sigUSR1)
		assert.Equal(t, []uint64{0x401000, saSiginfo | saRestorer, bit(SIGINT)},
			[]uint64{handler, flags, mask}, "SIGKILL and SIGSTOP are dropped from sa_mask")

		require.Equal(t, uint64(0), h.call("rt_sigaction", sigUSR1, act2, old, 8))
		assert.Equal(t, append(h.words(0x401000, saSiginfo|saRestorer, 0x401100), le64(bit(SIGINT))...),
			h.get(old, size), "the previous action comes back")
		handler, _, _ = h.k.SigAction(sigUSR1)
		assert.Equal(t, uint64(sigIGN), handler)

		// Query only.
		require.Equal(t, uint64(0), h.call("rt_sigaction", sigUSR1, 0, old, 8))
		assert.Equal(t, append(h.words(sigIGN, 0, 0), le64(0)...), h.get(old, size))
		require.Equal(t, uint64(0), h.call("rt_sigaction", SIGKILL, 0, old, 8), "SIGKILL may be queried")
		assert.Equal(t, make([]byte, size), h.get(old, size))

		h.put(old, make([]byte, size))
		for _, tc := range []struct {
			name                string
			sig, act, old, size uint64
			want                syscall.Errno
		}{
			{"set SIGKILL", SIGKILL, act1, 0, 8, syscall.EINVAL},
			{"set SIGSTOP", SIGSTOP, act1, 0, 8, syscall.EINVAL},
			{"signal 0", 0, act1, 0, 8, syscall.EINVAL},
			{"signal 65", 65, act1, 0, 8, syscall.EINVAL},
			{"sigsetsize 4", sigUSR2, act1, 0, 4, syscall.EINVAL},
			{"unmapped act", sigUSR2, unmapped, 0, 8, syscall.EFAULT},
			{"act mask off the mapping", sigUSR2, h.scratch + scratchSize - uint64(size-8), 0, 8, syscall.EFAULT},
			{"unmapped old", sigUSR2, act1, unmapped, 8, syscall.EFAULT},
		} {
			assert.Equal(t, h.errRet(tc.want), h.call("rt_sigaction", tc.sig, tc.act, tc.old, tc.size), tc.name)
		}
		handler, _, _ = h.k.SigAction(SIGKILL)
		assert.Equal(t, uint64(0), handler)
		handler, _, _ = h.k.SigAction(0)
		assert.Equal(t, uint64(0), handler, "out of range reads as SIG_DFL")
		handler, _, _ = h.k.SigAction(65)
		assert.Equal(t, uint64(0), handler)
		// The act was read before the old one failed to be written (as in
		// Linux, the change stands).
		handler, _, _ = h.k.SigAction(sigUSR2)
		assert.Equal(t, uint64(0x401000), handler)

		// Real-time signals up to 64 are valid.
		require.Equal(t, uint64(0), h.call("rt_sigaction", 64, act1, 0, 8))
	})
}

func TestRtSigprocmask(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		set, old := h.alloc(8), h.statBuf(8)
		put := func(v uint64) { h.put(set, le64(v)) }

		put(bit(sigUSR1) | bit(SIGKILL) | bit(SIGSTOP) | bit(64))
		require.Equal(t, uint64(0), h.call("rt_sigprocmask", sigBlock, set, old, 8))
		assert.Equal(t, uint64(0), h.u64(old))
		h.requireSentinelAfter(old, 8)
		assert.Equal(t, bit(sigUSR1)|bit(64), h.th.SigMask, "SIGKILL and SIGSTOP cannot be blocked")

		put(bit(sigUSR2))
		require.Equal(t, uint64(0), h.call("rt_sigprocmask", sigBlock, set, old, 8))
		assert.Equal(t, bit(sigUSR1)|bit(64), h.u64(old))
		assert.Equal(t, bit(sigUSR1)|bit(sigUSR2)|bit(64), h.th.SigMask)

		put(bit(sigUSR1) | bit(sigALRM))
		require.Equal(t, uint64(0), h.call("rt_sigprocmask", sigUnblock, set, 0, 8))
		assert.Equal(t, bit(sigUSR2)|bit(64), h.th.SigMask)

		put(bit(sigALRM) | bit(SIGSTOP))
		require.Equal(t, uint64(0), h.call("rt_sigprocmask", sigSetmask, set, old, 8))
		assert.Equal(t, bit(sigUSR2)|bit(64), h.u64(old))
		assert.Equal(t, bit(sigALRM), h.th.SigMask)

		// A NULL set only reads the mask; how is not looked at.
		require.Equal(t, uint64(0), h.call("rt_sigprocmask", 99, 0, old, 8))
		assert.Equal(t, bit(sigALRM), h.u64(old))

		for _, tc := range []struct {
			name      string
			how, set  uint64
			old, size uint64
			want      syscall.Errno
		}{
			{"bad how", 3, set, 0, 8, syscall.EINVAL},
			{"sigsetsize 4", sigBlock, set, 0, 4, syscall.EINVAL},
			{"unmapped set", sigBlock, unmapped, 0, 8, syscall.EFAULT},
			{"unmapped old", sigBlock, 0, unmapped, 8, syscall.EFAULT},
		} {
			assert.Equal(t, h.errRet(tc.want), h.call("rt_sigprocmask", tc.how, tc.set, tc.old, tc.size), tc.name)
		}
		assert.Equal(t, bit(sigALRM), h.th.SigMask, "failures change nothing")
	})
}

// deliver is the harness task's return to user mode after a syscall.
func (h *harness) deliver() Result { return h.k.ExitToUser(h.th, true, false) }

func TestSignalSelf(t *testing.T) {
	killed := func(sig int) Result { return Result{Outcome: Killed, Signal: sig} }
	forEachArch(t, func(t *testing.T, h *harness) {
		minus1 := uint64(0xffffffff)
		if h.arch == X8664 {
			minus1 = ^uint64(0)
		}
		for _, tc := range []struct {
			name string
			args []uint64
			want Result
		}{
			{"kill", []uint64{testPID, SIGTERM}, killed(SIGTERM)},
			{"kill", []uint64{0, SIGINT}, killed(SIGINT)},
			{"tkill", []uint64{testTID, SIGABRT}, killed(SIGABRT)},
			{"tgkill", []uint64{testPID, testTID, SIGSEGV}, killed(SIGSEGV)},
			{"kill", []uint64{testPID, SIGKILL}, killed(SIGKILL)},
			{"kill", []uint64{testPID, 64}, killed(64)},
		} {
			// The syscall queues the signal; the return to user mode
			// takes the default action.
			assert.Equal(t, uint64(0), h.call(tc.name, tc.args...), "%s%v", tc.name, tc.args)
			assert.Equal(t, tc.want, h.deliver(), "%s%v", tc.name, tc.args)
		}

		// Ignored by default, or not sent at all.
		for _, tc := range []struct {
			name string
			args []uint64
		}{
			{"kill", []uint64{testPID, SIGCHLD}},
			{"kill", []uint64{testPID, SIGURG}},
			{"kill", []uint64{testPID, SIGWINCH}},
			{"kill", []uint64{testPID, SIGCONT}},
			{"tkill", []uint64{testTID, SIGCHLD}},
			{"kill", []uint64{testPID, 0}},
			{"tgkill", []uint64{testPID, testTID, 0}},
		} {
			assert.Equal(t, uint64(0), h.call(tc.name, tc.args...), "%s%v", tc.name, tc.args)
			assert.Equal(t, Result{}, h.deliver(), "%s%v", tc.name, tc.args)
		}

		for _, tc := range []struct {
			name string
			args []uint64
			want syscall.Errno
		}{
			{"kill", []uint64{999, SIGTERM}, syscall.ESRCH},
			{"kill", []uint64{minus1, SIGTERM}, syscall.ESRCH}, // every process but the caller: nobody
			{"kill", []uint64{testPID, 65}, syscall.EINVAL},
			{"tkill", []uint64{testTID + 1, SIGTERM}, syscall.ESRCH},
			{"tkill", []uint64{testTID, 65}, syscall.EINVAL},
			{"tgkill", []uint64{testPID + 1, testTID, SIGTERM}, syscall.ESRCH},
			{"tgkill", []uint64{testPID, testTID + 1, SIGTERM}, syscall.ESRCH},
			{"tgkill", []uint64{testPID, testTID, 65}, syscall.EINVAL},
		} {
			assert.Equal(t, h.errRet(tc.want), h.call(tc.name, tc.args...), "%s%v", tc.name, tc.args)
		}
	})
}

func TestSignalDispositions(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		ign := h.sigaction(sigIGN, 0, 0, 0)
		handler := h.sigaction(0x401000, saRestorer, 0x401100, 0)
		dfl := h.sigaction(sigDFL, 0, 0, 0)
		require.Equal(t, uint64(0), h.call("rt_sigaction", SIGTERM, ign, 0, 8))
		require.Equal(t, uint64(0), h.call("rt_sigaction", sigUSR1, handler, 0, 8))
		require.Equal(t, uint64(0), h.call("rt_sigaction", SIGCHLD, handler, 0, 8))

		assert.Equal(t, uint64(0), h.call("kill", testPID, SIGTERM), "SIG_IGN")
		assert.Equal(t, Result{}, h.deliver())

		// A handler runs: the task resumes in it, on a frame below its
		// stack.
		h.cpu.regs.SP = h.scratch + scratchSize - 64
		h.cpu.regs.IP = 0x400123
		assert.Equal(t, uint64(0), h.call("kill", testPID, sigUSR1))
		assert.Equal(t, Result{RegsSet: true}, h.deliver())
		assert.Equal(t, uint64(0x401000), h.cpu.regs.IP, "in the handler")
		assert.Less(t, h.cpu.regs.SP, h.scratch+scratchSize-64, "on a frame below the stack")
		assert.Equal(t, bit(sigUSR1), h.th.SigMask, "the signal is blocked while its handler runs")
		h.th.SigMask = 0
		h.cpu.regs.SP = h.scratch + scratchSize - 64
		assert.Equal(t, uint64(0), h.call("tgkill", testPID, testTID, SIGCHLD))
		assert.Equal(t, Result{RegsSet: true}, h.deliver(), "a handled SIGCHLD is no longer ignored")

		// Blocked signals stay pending.
		set := h.data(le64(bit(sigUSR1) | bit(sigUSR2) | bit(SIGKILL)))
		require.Equal(t, uint64(0), h.call("rt_sigprocmask", sigBlock, set, 0, 8))
		assert.Equal(t, uint64(0), h.call("kill", testPID, sigUSR1))
		assert.Equal(t, uint64(0), h.call("tkill", testTID, sigUSR2))
		assert.Equal(t, Result{}, h.deliver())
		pending := h.alloc(8)
		require.Equal(t, uint64(0), h.call("rt_sigpending", pending, 8))
		assert.Equal(t, bit(sigUSR1)|bit(sigUSR2), h.u64(pending))
		assert.Equal(t, uint64(0), h.call("kill", testPID, SIGKILL))
		assert.Equal(t, Result{Outcome: Killed, Signal: SIGKILL}, h.deliver(), "SIGKILL is never blocked")

		// Back to the default action.
		require.Equal(t, uint64(0), h.call("rt_sigaction", SIGTERM, dfl, 0, 8))
		assert.Equal(t, uint64(0), h.call("kill", testPID, SIGTERM))
		assert.Equal(t, Result{Outcome: Killed, Signal: SIGTERM}, h.deliver())
	})
}

func TestSignalName(t *testing.T) {
	for sig, want := range map[int]string{
		SIGSEGV: "SIGSEGV", SIGKILL: "SIGKILL", 10: "SIGUSR1", 31: "SIGSYS", SIGCHLD: "SIGCHLD",
		32: "SIGRTMIN+0", 34: "SIGRTMIN+2", 64: "SIGRTMIN+32",
		0: "SIG0", 65: "SIG65", -3: "SIG-3",
	} {
		assert.Equal(t, want, SignalName(sig), "signal %d", sig)
	}
	for _, v := range []int{0, 7, 1234567890, -42} {
		assert.Equal(t, strconv.Itoa(v), itoa(v))
	}
}
