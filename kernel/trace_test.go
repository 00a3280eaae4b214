package kernel

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTrace(t *testing.T) {
	t.Run("x86_64", func(t *testing.T) {
		var trace bytes.Buffer
		h := newHarness(t, X8664, withTrace(&trace))
		buf := h.data([]byte("hi"))
		h.cycles = 123
		h.call("write", 1, buf, 2)
		h.cycles = 456
		h.call("close", 77)
		h.call("io_uring_setup", 1, 2, 3, 4, 5, 6)
		h.call("mmap", 0, 0x1000, protRead, mapPrivAn, ^uint64(0), 0)
		h.sys("exit_group", 0x2a)

		want := []string{
			fmt.Sprintf("[123] 1003 write(0x1, %#x, 0x2, 0x0, 0x0, 0x0) = 2", buf),
			"[456] 1003 close(0x4d, 0x0, 0x0, 0x0, 0x0, 0x0) = -1 bad file descriptor",
			"[456] 1003 io_uring_setup(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = -1 function not implemented",
			fmt.Sprintf("[456] 1003 mmap(0x0, 0x1000, 0x1, 0x22, 0xffffffffffffffff, 0x0) = %d", h.scratch-0x1000),
			"[456] 1003 exit_group(0x2a, 0x0, 0x0, 0x0, 0x0, 0x0) = ?",
		}
		assert.Equal(t, strings.Join(want, "\n")+"\n", trace.String())
	})
	t.Run("i386", func(t *testing.T) {
		var trace bytes.Buffer
		h := newHarness(t, I386, withTrace(&trace))
		h.cycles = 7
		// Arguments are shown truncated to 32 bits, as the guest passed them.
		h.call("getpid", 1<<32|5)
		addr := h.call("mmap2", 0, 0x1000, protRead, mapPrivAn, noFD, 0)
		require.Greater(t, addr, uint64(0x80000000))
		h.call("write", 0, 0, 0)
		h.call("kill", testPID, SIGSEGV)
		require.Equal(t, Killed, h.deliver().Outcome)
		h.sys("exit", 1)

		want := []string{
			"[7] 1003 getpid(0x5, 0x0, 0x0, 0x0, 0x0, 0x0) = 1000",
			// An address above 2 GiB is a result, not a negative number.
			fmt.Sprintf("[7] 1003 mmap2(0x0, 0x1000, 0x1, 0x22, 0xffffffff, 0x0) = %d", addr),
			"[7] 1003 write(0x0, 0x0, 0x0, 0x0, 0x0, 0x0) = -1 bad file descriptor",
			"[7] 1003 kill(0x3e8, 0xb, 0x0, 0x0, 0x0, 0x0) = 0",
			"[7] 1003 exit(0x1, 0x0, 0x0, 0x0, 0x0, 0x0) = ?",
		}
		assert.Equal(t, strings.Join(want, "\n")+"\n", trace.String())
	})
}
