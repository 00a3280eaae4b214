package kernel

import (
	"errors"
	"io"
	"syscall"

	"github.com/probesim/probesim/kernel/vfs"
)

// The standard streams and the snapshot files, the files a guest had
// before the filesystem view.

// stdioFile is descriptor 0, 1 or 2 as the process inherits it: a stream
// from or to the host side of the run. They stat as pipes (see the package
// comment), with the inode number of a pipe the shell made for each.
type stdioFile struct {
	FileDefaults
	r   io.Reader // stdin; nil reads as end of file
	w   io.Writer // stdout, stderr
	ino uint64
	q   WaitQueue
}

// readChunk bounds the host buffer of one read: a guest may pass a huge
// count.
const readChunk = 1 << 20

func (s *stdioFile) Read(f *FileDescription, dst []byte) (int, syscall.Errno) {
	if s.r == nil {
		return 0, 0
	}
	m, err := s.r.Read(dst)
	if err != nil && err != io.EOF && m == 0 {
		return 0, syscall.EIO
	}
	return m, 0
}

func (s *stdioFile) Write(f *FileDescription, src []byte) (int, syscall.Errno) {
	if e := writeAll(s.w, src); e != 0 {
		return 0, e
	}
	return len(src), 0
}

func (s *stdioFile) Stat() fileStat {
	return fileStat{mode: sIFIFO | 0o600, blksize: 4096, ino: s.ino, dev: pipefsDev, nlink: 1, guestOwned: true}
}

// Readiness: the host side of a standard stream is always ready (its
// contents are an input of the run, never waited for), so its queue is
// never notified.
func (s *stdioFile) Readiness(mask EventMask) EventMask {
	r := EventOut | EventWrNorm
	if s.w == nil {
		r = EventIn | EventRdNorm
	}
	return r & (mask | eventsAlways)
}

func (s *stdioFile) Queue() *WaitQueue { return &s.q }

func (s *stdioFile) linkText() string { return "pipe:[" + itoa(int(s.ino)) + "]" }

// ClosedStdin, as Config.Stdin, starts the process with descriptor 0 not
// open, as a shell's <&- does: reads of it fail with EBADF, and the first
// file the guest opens gets descriptor 0 (alloc_fd takes the lowest).
var ClosedStdin io.Reader = closedStdin{}

type closedStdin struct{}

func (closedStdin) Read([]byte) (int, error) { return 0, io.ErrClosedPipe }

// writeAll passes buf to the host writer. The guest gets the host's errno
// when there is one (ENOSPC on /dev/full, EPIPE for a closed pipe, EIO,
// EFBIG); a writer failing without an errno is a reader that went away:
// EPIPE, as for a pipe.
func writeAll(w io.Writer, buf []byte) syscall.Errno {
	if _, err := w.Write(buf); err != nil {
		var e syscall.Errno
		if errors.As(err, &e) && e != 0 {
			return e
		}
		return syscall.EPIPE
	}
	return 0
}

// snapshotFile is a synthetic read-only file (procfs, sysfs) whose text
// was taken at open, as fs/proc/task_mmu.c effectively does for a single
// read of maps.
type snapshotFile struct {
	FileDefaults
	data []byte
	st   fileStat
	n    *vfs.Node
}

func (s *snapshotFile) node() *vfs.Node { return s.n }

func (s *snapshotFile) ReadAt(f *FileDescription, dst []byte, off int64) (int, syscall.Errno) {
	if off >= int64(len(s.data)) {
		return 0, 0
	}
	return copy(dst, s.data[off:]), 0
}

func (s *snapshotFile) Read(f *FileDescription, dst []byte) (int, syscall.Errno) {
	if f.pos >= int64(len(s.data)) {
		return 0, 0
	}
	n := copy(dst, s.data[f.pos:])
	f.pos += int64(n)
	return n, 0
}

func (s *snapshotFile) Seek(f *FileDescription, off int64, whence int) (int64, syscall.Errno) {
	return seekIn(f, off, whence, int64(len(s.data)))
}

// Stat: procfs files report size 0, as fs/proc does.
func (s *snapshotFile) Stat() fileStat { return s.st }

// seekIn is generic_file_llseek over a file of the given size.
func seekIn(f *FileDescription, off int64, whence int, size int64) (int64, syscall.Errno) {
	var base int64
	switch whence {
	case 0: // SEEK_SET
	case 1: // SEEK_CUR
		base = f.pos
	case 2: // SEEK_END
		base = size
	default:
		return 0, syscall.EINVAL
	}
	if base+off < 0 {
		return 0, syscall.EINVAL
	}
	f.pos = base + off
	return f.pos, 0
}
