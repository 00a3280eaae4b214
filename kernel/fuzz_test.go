package kernel

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fuzzArg turns a fuzzed word into a syscall argument: as often as not a
// pointer into the harness's scratch memory (so that handlers get past
// EFAULT and parse what the fuzzer wrote there), else an extreme value or
// the word itself.
func fuzzArg(h *harness, v uint64) uint64 {
	extremes := []uint64{0, 1, 2, 0xffffffff, 1 << 31, 1 << 32, 1 << 63, 1<<64 - 1, unmapped, h.scratch + scratchSize - 1}
	switch v & 3 {
	case 0, 1:
		return h.scratch + (v>>2)%scratchSize
	case 2:
		return extremes[(v>>2)%uint64(len(extremes))]
	}
	return v >> 2
}

// FuzzSyscalls makes two syscalls of any number with fuzzed arguments
// over scratch memory holding fuzzed bytes, on either ABI, the second on
// the state the first left. Nothing may panic or block (a watchdog fails a
// call that does not return); the address space is the checked one
// (mmu.NewChecked), which verifies its invariants after every change; the
// Outcome must be one the machine handles; the strace line is one line;
// and the host is left alone: the kernel's only host effects are its
// stdout and stderr writers, and nothing appears in the working directory.
func FuzzSyscalls(f *testing.F) {
	f.Add(false, uint16(1), uint64(4), uint64(0), uint64(16), uint64(0), uint64(0), uint64(0), []byte("hello"))                             // write
	f.Add(true, uint16(5), uint64(0), uint64(2), uint64(0), uint64(0), uint64(0), uint64(0), []byte("/proc/self/maps\x00"))                 // open
	f.Add(false, uint16(9), uint64(2), uint64(1<<14), uint64(7), uint64(0x22), uint64(^uint64(0)), uint64(0), []byte{})                     // mmap
	f.Add(false, uint16(12), uint64(6), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0), []byte{})                                    // brk
	f.Add(true, uint16(243), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0), make([]byte, 16))                            // set_thread_area
	f.Add(false, uint16(228), uint64(1), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0), make([]byte, 16))                           // clock_gettime
	f.Add(false, uint16(318), uint64(0), uint64(64), uint64(0), uint64(0), uint64(0), uint64(0), []byte{})                                  // getrandom
	f.Add(false, uint16(53), uint64(1), uint64(1), uint64(0), uint64(0), uint64(0), uint64(0), []byte{})                                    // socketpair
	f.Add(false, uint16(42), uint64(4), uint64(1), uint64(16), uint64(0), uint64(0), uint64(0), []byte("\x02\x00\x00\x50\x7f\x00\x00\x01")) // connect
	f.Add(true, uint16(102), uint64(1), uint64(1), uint64(0), uint64(0), uint64(0), uint64(0), []byte("\x01\x00\x00\x00\x01\x00\x00\x00"))  // socketcall
	wd, err := os.Getwd()
	require.NoError(f, err)
	before, err := os.ReadDir(wd)
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, i386 bool, nr uint16, a0, a1, a2, a3, a4, a5 uint64, mem []byte) {
		arch := X8664
		if i386 {
			arch = I386
		}
		var trace strings.Builder
		h := newHarness(t, arch, withTrace(&trace))
		h.put(h.scratch, mem[:min(len(mem), scratchSize)])
		limit := uint64(len(sysnamesX8664))
		if i386 {
			limit = uint64(len(sysnamesI386))
		}
		num := uint64(nr) % (limit + 8) // a few past the table: ENOSYS
		args := Args{fuzzArg(h, a0), fuzzArg(h, a1), fuzzArg(h, a2), fuzzArg(h, a3), fuzzArg(h, a4), fuzzArg(h, a5)}
		for range 2 {
			trace.Reset()
			watchdog := time.AfterFunc(30*time.Second, func() {
				panic("syscall " + h.k.SyscallName(num) + " did not return")
			})
			_, res := h.k.Syscall(h.th, num, args)
			watchdog.Stop()
			require.Contains(t, []Outcome{Continue, Block, ExitThread, ExitGroup, Killed}, res.Outcome, "%s", h.k.SyscallName(num))
			require.Equal(t, 1, strings.Count(trace.String(), "\n"), "one trace line: %q", trace.String())
			if res.Outcome != Continue {
				break
			}
		}
		after, err := os.ReadDir(wd)
		require.NoError(t, err)
		require.Equal(t, names(before), names(after), "the working directory is untouched")
	})
}

func names(entries []os.DirEntry) string {
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(e.Name() + "\n")
	}
	return b.String()
}
