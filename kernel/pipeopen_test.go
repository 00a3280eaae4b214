package kernel

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An anonymous pipe opened through /proc/self/fd waits for no peer, as
// fifo_open's is_pipe cases: with its writer closed, the read end opens at
// once and reads what was written, then EOF (bash's process substitution,
// cat /dev/fd/0).
func TestAnonymousPipeReopenedThroughProcDoesNotWait(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		fds := h.data(make([]byte, 8))
		require.Zero(t, h.call("pipe2", fds, 0))
		b := make([]byte, 8)
		require.NoError(t, h.k.Mem().Read(fds, b))
		r, w := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])
		require.EqualValues(t, 3, h.call("write", uint64(w), h.str("hi\n"), 3))
		require.Zero(t, h.call("close", uint64(w)))
		fd := h.call("openat", atFDCWDArg, h.str("/proc/self/fd/"+itoa(int(r))), oReadOnly, 0)
		require.Less(t, fd, uint64(1024), "the open returns a descriptor at once")
		buf := h.data(make([]byte, 16))
		assert.EqualValues(t, 3, h.call("read", fd, buf, 16))
		assert.EqualValues(t, 0, h.call("read", fd, buf, 16), "EOF: no writer")
	})
}
