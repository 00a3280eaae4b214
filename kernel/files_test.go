package kernel

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"

	"github.com/probesim/probesim/mmu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	oRdonly  = 0
	oWronly  = 1
	oRdwr    = 2
	seekSet  = 0
	seekCur  = 1
	seekEnd  = 2
	tcgets   = 0x5401
	atFdcwd  = 0xffffff9c // AT_FDCWD (-100) as a 32-bit argument
	atFdcwd6 = ^uint64(99)
)

func TestErrnoEncoding(t *testing.T) {
	// -EBADF as the return register holds it on each ABI.
	assert.Equal(t, uint64(0xfffffff7), neg(I386, syscall.EBADF))
	assert.Equal(t, uint64(0xfffffffffffffff7), neg(X8664, syscall.EBADF))
	h32, h64 := newHarness(t, I386), newHarness(t, X8664)
	assert.Equal(t, uint64(0xfffffff7), h32.call("close", 99))
	assert.Equal(t, uint64(0xfffffffffffffff7), h64.call("close", 99))
	assert.Equal(t, uint64(0xffffffda), h32.call("io_uring_setup"), "-ENOSYS on i386")
	assert.Equal(t, uint64(0xffffffffffffffda), h64.call("io_uring_setup"), "-ENOSYS on x86-64")
}

func TestWrite(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		buf := h.data([]byte("hello, world"))
		assert.Equal(t, uint64(5), h.call("write", 1, buf, 5))
		assert.Equal(t, uint64(7), h.call("write", 2, buf+5, 7))
		assert.Equal(t, uint64(0), h.call("write", 1, unmapped, 0), "an empty write touches no memory")
		assert.Equal(t, "hello", h.stdout.String())
		assert.Equal(t, ", world", h.stderr.String())

		for _, tc := range []struct {
			name    string
			fd, buf uint64
			want    syscall.Errno
		}{
			{"stdin is read-only", 0, buf, syscall.EBADF},
			{"closed descriptor", 7, buf, syscall.EBADF},
			{"descriptor truncated to 32 bits is stdin", 1 << 32, buf, syscall.EBADF},
			{"bad descriptor wins over bad buffer", 7, unmapped, syscall.EBADF},
			{"unmapped buffer", 1, unmapped, syscall.EFAULT},
			{"buffer running off the mapping", 1, h.scratch + scratchSize - 2, syscall.EFAULT},
		} {
			assert.Equal(t, h.errRet(tc.want), h.call("write", tc.fd, tc.buf, 4), tc.name)
		}
		maps := h.call("open", h.str("/proc/self/maps"), oRdonly)
		assert.Equal(t, h.errRet(syscall.EBADF), h.call("write", maps, buf, 4), "opened read-only")
		assert.Equal(t, "hello", h.stdout.String(), "failed writes leave stdout alone")
	})
}

// chunkWriter records each Write separately.
type chunkWriter struct{ chunks []string }

func (w *chunkWriter) Write(p []byte) (int, error) {
	w.chunks = append(w.chunks, string(p))
	return len(p), nil
}

type brokenPipe struct{}

func (brokenPipe) Write([]byte) (int, error) { return 0, errors.New("reader went away") }

func TestWritePipeError(t *testing.T) {
	for _, arch := range arches {
		h := newHarness(t, arch, func(c *Config) { c.Stdout = brokenPipe{} })
		buf := h.data([]byte("x"))
		assert.Equal(t, h.errRet(syscall.EPIPE), h.call("write", 1, buf, 1), "%v", arch)
	}
}

// hostErrWriter fails like an os.File does, with the errno in a PathError.
type hostErrWriter struct{ errno syscall.Errno }

func (w hostErrWriter) Write([]byte) (int, error) {
	return 0, &os.PathError{Op: "write", Path: "/dev/stdout", Err: w.errno}
}

// TestWriteHostErrno: a host write error reaches the guest as its errno
// (on /dev/full, ENOSPC, as natively); before, every failure was EPIPE.
func TestWriteHostErrno(t *testing.T) {
	for _, arch := range arches {
		for _, e := range []syscall.Errno{syscall.ENOSPC, syscall.EIO, syscall.EPIPE, syscall.EFBIG} {
			h := newHarness(t, arch, func(c *Config) { c.Stdout = io.MultiWriter(&bytes.Buffer{}, hostErrWriter{e}) })
			buf := h.data([]byte("x"))
			assert.Equal(t, h.errRet(e), h.call("write", 1, buf, 1), "%v %v", arch, e)
			iov := h.data(h.words(buf, 1))
			assert.Equal(t, h.errRet(e), h.call("writev", 1, iov, 1), "%v %v", arch, e)
		}
	}
	// The real thing: a guest writing to /dev/full.
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	require.NoError(t, err)
	defer full.Close()
	h := newHarness(t, X8664, func(c *Config) { c.Stdout = full })
	assert.Equal(t, h.errRet(syscall.ENOSPC), h.call("write", 1, h.data([]byte("x")), 1))
}

// TestClosedStdin: with ClosedStdin, descriptor 0 is not open, as after a
// shell's <&-: reads fail with EBADF (before: end of file), and the next
// open takes descriptor 0.
func TestClosedStdin(t *testing.T) {
	for _, arch := range arches {
		h := newHarness(t, arch, withStdin(ClosedStdin))
		assert.Equal(t, h.errRet(syscall.EBADF), h.call("read", 0, h.alloc(8), 8), "%v", arch)
		assert.Equal(t, uint64(0), h.call("open", h.str("/proc/self/maps"), oRdonly), "%v: lowest free descriptor", arch)
	}
}

func TestWritev(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch.String(), func(t *testing.T) {
			w := &chunkWriter{}
			h := newHarness(t, arch, func(c *Config) { c.Stdout = w })
			ab, cde := h.data([]byte("ab")), h.data([]byte("cde"))
			// struct iovec is {void *base; size_t len}: 8 bytes on i386,
			// 16 on x86-64. The empty iovec's base is never touched.
			iov := h.data(h.words(ab, 2, unmapped, 0, cde, 3))
			if arch == I386 {
				assert.Len(t, h.get(iov, 24), 24)
			}
			assert.Equal(t, uint64(5), h.call("writev", 1, iov, 3))
			assert.Equal(t, []string{"abcde"}, w.chunks, "writev gathers into one write")

			bad := h.data(h.words(ab, 2, unmapped, 4))
			signBit := uint64(1) << 63 // a negative ssize_t length
			if arch == I386 {
				signBit = 0x80000000
			}
			negative := h.data(h.words(ab, signBit))
			for _, tc := range []struct {
				name         string
				fd, iov, cnt uint64
				want         syscall.Errno
			}{
				{"stdin", 0, iov, 1, syscall.EBADF},
				{"closed descriptor", 9, iov, 1, syscall.EBADF},
				{"read-only procfs file", h.call("open", h.str("/proc/self/maps"), oRdonly), iov, 1, syscall.EBADF},
				{"bad descriptor wins over bad iovec array", 9, unmapped, 1, syscall.EBADF},
				{"more than UIO_MAXIOV", 1, iov, 1025, syscall.EINVAL},
				{"unmapped iovec array", 1, unmapped, 1, syscall.EFAULT},
				{"unmapped buffer in the second iovec", 1, bad, 2, syscall.EFAULT},
				{"negative length", 1, negative, 1, syscall.EINVAL},
			} {
				assert.Equal(t, h.errRet(tc.want), h.call("writev", tc.fd, tc.iov, tc.cnt), tc.name)
			}
			assert.Equal(t, []string{"abcde"}, w.chunks, "failed writev writes nothing, not even a prefix")
			require.Equal(t, uint64(2), h.call("writev", 2, iov, 1))
			assert.Equal(t, "ab", h.stderr.String())
			assert.Equal(t, uint64(0), h.call("writev", 1, iov, 0), "no iovecs")
		})
	}
}

func TestRead(t *testing.T) {
	for _, arch := range arches {
		h := newHarness(t, arch, withStdin(strings.NewReader("input data\n")))
		buf := h.alloc(64)
		assert.Equal(t, uint64(5), h.call("read", 0, buf, 5))
		assert.Equal(t, "input", string(h.get(buf, 5)))
		assert.Equal(t, uint64(6), h.call("read", 0, buf, 64))
		assert.Equal(t, " data\n", string(h.get(buf, 6)))
		assert.Equal(t, uint64(0), h.call("read", 0, buf, 64), "end of input")

		for _, tc := range []struct {
			name string
			fd   uint64
			want syscall.Errno
		}{
			{"stdout is write-only", 1, syscall.EBADF},
			{"stderr is write-only", 2, syscall.EBADF},
			{"closed descriptor", 5, syscall.EBADF},
		} {
			assert.Equal(t, h.errRet(tc.want), h.call("read", tc.fd, buf, 4), "%v: %s", arch, tc.name)
		}
	}

	t.Run("a huge count is bounded", func(t *testing.T) {
		h := newHarness(t, X8664, withStdin(strings.NewReader("abc")))
		buf := h.alloc(8)
		assert.Equal(t, uint64(3), h.call("read", 0, buf, 1<<40))
		assert.Equal(t, "abc", string(h.get(buf, 3)))
	})
	t.Run("no stdin reads end of file", func(t *testing.T) {
		h := newHarness(t, X8664)
		assert.Equal(t, uint64(0), h.call("read", 0, h.alloc(8), 8))
	})
	t.Run("unmapped buffer", func(t *testing.T) {
		h := newHarness(t, I386, withStdin(strings.NewReader("abc")))
		assert.Equal(t, h.errRet(syscall.EFAULT), h.call("read", 0, unmapped, 3))
	})
	t.Run("host read error", func(t *testing.T) {
		h := newHarness(t, X8664, withStdin(iotest.ErrReader(errors.New("disk on fire"))))
		assert.Equal(t, h.errRet(syscall.EIO), h.call("read", 0, h.alloc(8), 8))
	})
}

// readAll reads fd to its end in chunks of n bytes.
func (h *harness) readAll(fd uint64, n int) string {
	h.t.Helper()
	buf := h.alloc(n)
	var out []byte
	for i := 0; ; i++ {
		require.Less(h.t, i, 10000, "read never reached the end")
		got := h.call("read", fd, buf, uint64(n))
		require.LessOrEqual(h.t, got, uint64(n))
		if got == 0 {
			return string(out)
		}
		out = append(out, h.get(buf, int(got))...)
	}
}

func TestOpenProcMaps(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		// Something named, so the text has padded lines.
		require.NoError(t, h.as.SetupStack(0x40000000, 0x3000))
		want := h.as.MapsText()
		require.Contains(t, want, "[stack]")

		fd := h.call("open", h.str("/proc/self/maps"), oRdonly)
		require.Equal(t, uint64(3), fd)
		// The text is a snapshot taken at open.
		_, e := h.as.Mmap(0, 0x1000, mmu.ProtRead, mmu.MapPrivate|mmu.MapAnonymous, "")
		require.Zero(t, e)
		assert.Equal(t, want, h.readAll(fd, 7))

		dirfd := uint64(atFdcwd)
		if h.arch == X8664 {
			dirfd = atFdcwd6
		}
		fd2 := h.call("openat", dirfd, h.str("/proc/1000/maps"), oRdonly)
		require.Equal(t, uint64(4), fd2)
		assert.Equal(t, h.as.MapsText(), h.readAll(fd2, 100))
		assert.NotEqual(t, want, h.as.MapsText())

		assert.Equal(t, uint64(5), h.call("open", h.str("/proc/thread-self/maps"), oRdonly))

		for _, tc := range []struct {
			name  string
			path  uint64
			flags uint64
			want  syscall.Errno
		}{
			{"another pid", h.str("/proc/1001/maps"), oRdonly, syscall.ENOENT},
			{"host file", h.str("/etc/passwd"), oRdonly, syscall.ENOENT},
			{"relative path", h.str("maps"), oRdonly, syscall.ENOENT},
			{"empty path", h.str(""), oRdonly, syscall.ENOENT},
			{"write-only", h.str("/proc/self/maps"), oWronly, syscall.EACCES},
			{"read-write", h.str("/proc/self/maps"), oRdwr, syscall.EACCES},
			{"unmapped path", unmapped, oRdonly, syscall.EFAULT},
		} {
			assert.Equal(t, h.errRet(tc.want), h.call("open", tc.path, tc.flags), "open: %s", tc.name)
			assert.Equal(t, h.errRet(tc.want), h.call("openat", dirfd, tc.path, tc.flags), "openat: %s", tc.name)
		}
	})
}

func TestCloseAndDescriptorReuse(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		path := h.str("/proc/self/maps")
		require.Equal(t, uint64(3), h.call("open", path, oRdonly))
		require.Equal(t, uint64(4), h.call("open", path, oRdonly))
		require.Equal(t, uint64(5), h.call("open", path, oRdonly))

		assert.Equal(t, uint64(0), h.call("close", 4))
		assert.Equal(t, h.errRet(syscall.EBADF), h.call("close", 4), "double close")
		assert.Equal(t, h.errRet(syscall.EBADF), h.call("read", 4, h.alloc(8), 8), "read after close")
		assert.Equal(t, h.errRet(syscall.EBADF), h.call("lseek", 4, 0, seekSet), "lseek after close")
		assert.Equal(t, uint64(4), h.call("open", path, oRdonly), "lowest free descriptor")

		// Closing stdout frees descriptor 1 for the next open.
		assert.Equal(t, uint64(0), h.call("close", 1))
		assert.Equal(t, h.errRet(syscall.EBADF), h.call("write", 1, h.data([]byte("x")), 1))
		assert.Equal(t, uint64(1), h.call("open", path, oRdonly))
		assert.Equal(t, uint64(6), h.call("open", path, oRdonly))
		assert.Equal(t, h.errRet(syscall.EBADF), h.call("close", 1000))
		assert.Empty(t, h.stdout.String())
	})
}

func TestLseek(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		text := h.as.MapsText()
		size := uint64(len(text))
		require.Greater(t, size, uint64(20))
		fd := h.call("open", h.str("/proc/self/maps"), oRdonly)
		buf := h.alloc(8)
		minus := func(v int64) uint64 { // a negative off_t argument
			if h.arch == I386 {
				return uint64(uint32(int32(v)))
			}
			return uint64(v)
		}

		assert.Equal(t, uint64(10), h.call("lseek", fd, 10, seekSet))
		require.Equal(t, uint64(5), h.call("read", fd, buf, 5))
		assert.Equal(t, text[10:15], string(h.get(buf, 5)))
		assert.Equal(t, uint64(15), h.call("lseek", fd, 0, seekCur))
		assert.Equal(t, uint64(12), h.call("lseek", fd, minus(-3), seekCur))
		assert.Equal(t, size-5, h.call("lseek", fd, minus(-5), seekEnd))
		require.Equal(t, uint64(5), h.call("read", fd, buf, 8))
		assert.Equal(t, text[size-5:], string(h.get(buf, 5)))
		assert.Equal(t, size+100, h.call("lseek", fd, 100, seekEnd), "beyond the end is allowed")
		assert.Equal(t, uint64(0), h.call("read", fd, buf, 8))

		for _, tc := range []struct {
			name           string
			fd, off, whnce uint64
			want           syscall.Errno
		}{
			{"negative position", fd, minus(-1), seekSet, syscall.EINVAL},
			{"before the start from the end", fd, minus(-int64(size) - 1), seekEnd, syscall.EINVAL},
			{"SEEK_DATA", fd, 0, 3, syscall.EINVAL},
			{"stdin is a pipe", 0, 0, seekSet, syscall.ESPIPE},
			{"stdout is a pipe", 1, 0, seekCur, syscall.ESPIPE},
			{"closed descriptor", 9, 0, seekSet, syscall.EBADF},
		} {
			assert.Equal(t, h.errRet(tc.want), h.call("lseek", tc.fd, tc.off, tc.whnce), tc.name)
		}
		assert.Equal(t, size+100, h.call("lseek", fd, 0, seekCur), "failed seeks keep the position")
	})
}

func TestLlseekI386(t *testing.T) {
	h := newHarness(t, I386)
	text := h.as.MapsText()
	size := uint64(len(text))
	fd := h.call("open", h.str("/proc/self/maps"), oRdonly)
	res := h.alloc(8)
	buf := h.alloc(8)

	// _llseek(fd, offset_high, offset_low, loff_t *result, whence)
	assert.Equal(t, uint64(0), h.call("_llseek", fd, 0, 20, res, seekSet))
	assert.Equal(t, uint64(20), h.u64(res))
	require.Equal(t, uint64(4), h.call("read", fd, buf, 4))
	assert.Equal(t, text[20:24], string(h.get(buf, 4)))

	// -5 as a 64-bit offset split into two 32-bit halves.
	assert.Equal(t, uint64(0), h.call("_llseek", fd, 0xffffffff, 0xfffffffb, res, seekEnd))
	assert.Equal(t, size-5, h.u64(res))

	// A position above 4 GiB needs the high half.
	assert.Equal(t, uint64(0), h.call("_llseek", fd, 1, 0x10, res, seekSet))
	assert.Equal(t, uint64(1<<32|0x10), h.u64(res))

	assert.Equal(t, h.errRet(syscall.EFAULT), h.call("_llseek", fd, 0, 0, unmapped, seekSet))
	assert.Equal(t, h.errRet(syscall.EINVAL), h.call("_llseek", fd, 0, 0, res, 7))
	assert.Equal(t, h.errRet(syscall.ESPIPE), h.call("_llseek", 1, 0, 0, res, seekSet))
	assert.Equal(t, h.errRet(syscall.EBADF), h.call("_llseek", 9, 0, 0, res, seekSet))
	assert.Equal(t, uint64(1<<32|0x10), h.u64(res), "failures leave *result alone")
}

func TestIoctl(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		fd := h.call("open", h.str("/proc/self/maps"), oRdonly)
		termios := h.alloc(64)
		for _, f := range []uint64{0, 1, 2, fd} {
			assert.Equal(t, h.errRet(syscall.ENOTTY), h.call("ioctl", f, tcgets, termios), "TCGETS on fd %d", f)
		}
		assert.Equal(t, h.errRet(syscall.EBADF), h.call("ioctl", 9, tcgets, termios))
		assert.Equal(t, make([]byte, 64), h.get(termios, 64), "nothing written")
	})
}

func TestReadlink(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		self, byPid := h.str("/proc/self/exe"), h.str("/proc/1000/exe")
		n := uint64(len(testExe))
		dirfd := uint64(atFdcwd)
		if h.arch == X8664 {
			dirfd = atFdcwd6
		}
		for _, tc := range []struct {
			name string
			call func(path, buf, size uint64) uint64
		}{
			{"readlink", func(p, b, s uint64) uint64 { return h.call("readlink", p, b, s) }},
			{"readlinkat", func(p, b, s uint64) uint64 { return h.call("readlinkat", dirfd, p, b, s) }},
		} {
			buf := h.alloc(64)
			h.put(buf, []byte(strings.Repeat("#", 64)))
			assert.Equal(t, n, tc.call(self, buf, 64), tc.name)
			assert.Equal(t, testExe+"#", string(h.get(buf, int(n)+1)), "%s: no NUL appended", tc.name)

			assert.Equal(t, n, tc.call(byPid, buf, n), tc.name)
			assert.Equal(t, uint64(1), tc.call(h.str("/proc/self/cwd"), buf, 64), "%s: the working directory", tc.name)
			assert.Equal(t, "/", string(h.get(buf, 1)))

			h.put(buf, []byte(strings.Repeat("#", 64)))
			assert.Equal(t, uint64(5), tc.call(self, buf, 5), "%s truncates", tc.name)
			assert.Equal(t, testExe[:5]+"#", string(h.get(buf, 6)))

			huge := uint64(1) << 63 // negative as an int
			if h.arch == I386 {
				huge = 0x80000000
			}
			for _, e := range []struct {
				name            string
				path, buf, size uint64
				want            syscall.Errno
			}{
				{"size 0", self, buf, 0, syscall.EINVAL},
				{"negative size", self, buf, huge, syscall.EINVAL},
				{"not a link", h.str("/proc/self/maps"), buf, 64, syscall.EINVAL},
				{"a missing file", h.str("/proc/self/nope"), buf, 64, syscall.ENOENT},
				{"another pid", h.str("/proc/1/exe"), buf, 64, syscall.ENOENT},
				{"unmapped buffer", self, unmapped, 64, syscall.EFAULT},
				{"unmapped path", unmapped, buf, 64, syscall.EFAULT},
			} {
				assert.Equal(t, h.errRet(e.want), tc.call(e.path, e.buf, e.size), "%s: %s", tc.name, e.name)
			}
		}
	})
}

// Config.NoFile (--nofile) is RLIMIT_NOFILE's soft limit: descriptors at or
// above it cannot be allocated, by open, dup, pipe or eventfd.
func TestNoFileLimit(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		h = newHarness(t, h.arch, func(c *Config) { c.NoFile = 6 })
		path := h.str("/proc/self/maps")
		assert.Equal(t, uint64(3), h.call("open", path, oRdonly))
		assert.Equal(t, uint64(4), h.call("open", path, oRdonly))
		assert.Equal(t, uint64(5), h.call("dup", 0))
		assert.Equal(t, h.errRet(syscall.EMFILE), h.call("open", path, oRdonly))
		assert.Equal(t, h.errRet(syscall.EMFILE), h.call("dup", 0))
		assert.Equal(t, h.errRet(syscall.EMFILE), h.call("eventfd2", 0, 0))
		fds := h.alloc(8)
		assert.Equal(t, h.errRet(syscall.EMFILE), h.call("pipe2", fds, 0))
		assert.Equal(t, h.errRet(syscall.EBADF), h.call("dup2", 0, 6), "dup2 past the limit")
		lim := h.alloc(16)
		require.Equal(t, uint64(0), h.call("prlimit64", 0, 7, 0, lim))
		assert.Equal(t, uint64(6), h.u64(lim))
		// Closing one makes room for one.
		assert.Equal(t, uint64(0), h.call("close", 4))
		assert.Equal(t, uint64(4), h.call("open", path, oRdonly))
	})
}
