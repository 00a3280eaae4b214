package kernel

import (
	"fmt"
	"io"
	"syscall"
)

// fileKind says what a descriptor refers to.
type fileKind int

const (
	fileStdin fileKind = iota
	fileStdout
	fileStderr
	fileSnapshot // a synthetic read-only file whose text was taken at open
)

type openFile struct {
	kind fileKind
	path string
	data []byte // fileSnapshot contents
	off  int64
}

// fdTable is the process's descriptor table. Descriptors are allocated
// lowest-free-first, as fs/file.c alloc_fd does.
type fdTable struct{ fds []*openFile }

func (t *fdTable) init() {
	t.fds = []*openFile{{kind: fileStdin}, {kind: fileStdout}, {kind: fileStderr}}
}

func (t *fdTable) get(fd uint64) *openFile {
	if fd >= uint64(len(t.fds)) {
		return nil
	}
	return t.fds[fd]
}

func (t *fdTable) install(f *openFile) uint64 {
	for i, cur := range t.fds {
		if cur == nil {
			t.fds[i] = f
			return uint64(i)
		}
	}
	t.fds = append(t.fds, f)
	return uint64(len(t.fds) - 1)
}

// maxRW bounds one read or write, as MAX_RW_COUNT does in fs/read_write.c.
const maxRW = 0x7ffff000

// writer returns where the bytes written to fd go, or nil when fd is not
// open for writing. ksys_write and do_writev (fs/read_write.c) look the
// descriptor up before touching the buffer, so a bad descriptor is EBADF
// even when the buffer is bad too.
func (k *Kernel) writer(fd uint64) io.Writer {
	f := k.files.get(fd)
	if f == nil {
		return nil
	}
	switch f.kind {
	case fileStdout:
		return k.cfg.Stdout
	case fileStderr:
		return k.cfg.Stderr
	}
	return nil
}

// writeChunk bounds the host buffer of one write: a guest may ask to write
// gigabytes, which are copied and passed on a megabyte at a time.
const writeChunk = 1 << 20

func sysWrite(k *Kernel, t *Thread, a Args) (uint64, Result) {
	w := k.writer(a[0])
	if w == nil {
		return fail(syscall.EBADF)
	}
	n := min(a[2], maxRW)
	var done uint64
	for done < n {
		m := min(n-done, writeChunk)
		buf, e := k.readBytes(a[1]+done, int(m))
		if e == 0 {
			e = writeAll(w, buf)
		}
		if e != 0 {
			// Like a partial write on Linux: what was written counts.
			if done > 0 {
				break
			}
			return fail(e)
		}
		done += m
	}
	return okv(done)
}

func sysWritev(k *Kernel, t *Thread, a Args) (uint64, Result) {
	iov, cnt := a[1], a[2]
	w := k.writer(a[0])
	if w == nil {
		return fail(syscall.EBADF)
	}
	if cnt > 1024 { // UIO_MAXIOV
		return fail(syscall.EINVAL)
	}
	ws := uint64(k.cfg.Arch.wordSize())
	var buf []byte
	for i := uint64(0); i < cnt; i++ {
		base, e := k.readWord(iov + i*2*ws)
		if e != 0 {
			return fail(e)
		}
		n, e := k.readWord(iov + i*2*ws + ws)
		if e != 0 {
			return fail(e)
		}
		if uint64(len(buf))+n > maxRW {
			return fail(syscall.EINVAL)
		}
		b, e := k.readBytes(base, int(n))
		if e != 0 {
			return fail(e)
		}
		buf = append(buf, b...)
	}
	if e := writeAll(w, buf); e != 0 {
		return fail(e)
	}
	return okv(uint64(len(buf)))
}

// writeAll passes buf to the host writer. A failing writer is a reader that
// went away: EPIPE, as for a pipe (SIGPIPE is not modelled).
func writeAll(w io.Writer, buf []byte) syscall.Errno {
	if _, err := w.Write(buf); err != nil {
		return syscall.EPIPE
	}
	return 0
}

func sysRead(k *Kernel, t *Thread, a Args) (uint64, Result) {
	f := k.files.get(a[0])
	if f == nil {
		return fail(syscall.EBADF)
	}
	n := a[2]
	if n > maxRW {
		n = maxRW
	}
	var data []byte
	switch f.kind {
	case fileStdin:
		if k.cfg.Stdin == nil {
			return okv(0)
		}
		// Bound the host buffer: a guest may pass a huge count.
		buf := make([]byte, min(n, 1<<20))
		m, err := k.cfg.Stdin.Read(buf)
		if err != nil && err != io.EOF && m == 0 {
			return fail(syscall.EIO)
		}
		data = buf[:m]
	case fileSnapshot:
		if f.off < int64(len(f.data)) {
			end := min(f.off+int64(n), int64(len(f.data)))
			data = f.data[f.off:end]
			f.off = end
		}
	default:
		return fail(syscall.EBADF)
	}
	if len(data) > 0 {
		if e := k.writeBytes(a[1], data); e != 0 {
			return fail(e)
		}
	}
	return okv(uint64(len(data)))
}

// openat flags that matter here.
const (
	oAccMode   = 3
	oCreat     = 0o100
	atFDCWD    = -100
	atEmptyPth = 0x1000
)

func sysOpen(k *Kernel, t *Thread, a Args) (uint64, Result) {
	return k.open(a[0], a[1])
}

func sysOpenat(k *Kernel, t *Thread, a Args) (uint64, Result) {
	return k.open(a[1], a[2])
}

// open resolves the few synthetic files probesim provides. The guest never
// reaches the host file system (see the package comment).
func (k *Kernel) open(pathAddr, flags uint64) (uint64, Result) {
	path, e := k.readPath(pathAddr)
	if e != 0 {
		return fail(e)
	}
	if path == "" {
		return fail(syscall.ENOENT)
	}
	switch path {
	case "/proc/self/maps", "/proc/thread-self/maps", fmt.Sprintf("/proc/%d/maps", k.cfg.PID):
		if flags&oAccMode != 0 || flags&oCreat != 0 {
			return fail(syscall.EACCES)
		}
		return okv(k.files.install(&openFile{kind: fileSnapshot, path: path, data: []byte(k.cfg.Mem.MapsText())}))
	}
	return fail(syscall.ENOENT)
}

func sysClose(k *Kernel, t *Thread, a Args) (uint64, Result) {
	if k.files.get(a[0]) == nil {
		return fail(syscall.EBADF)
	}
	k.files.fds[a[0]] = nil
	return ok0()
}

// lseek on a snapshot file; the standard descriptors are pipes (ESPIPE).
func (k *Kernel) seek(fd uint64, off int64, whence uint64) (int64, syscall.Errno) {
	f := k.files.get(fd)
	if f == nil {
		return 0, syscall.EBADF
	}
	if f.kind != fileSnapshot {
		return 0, syscall.ESPIPE
	}
	var base int64
	switch whence {
	case 0:
	case 1:
		base = f.off
	case 2:
		base = int64(len(f.data))
	default:
		return 0, syscall.EINVAL
	}
	if base+off < 0 {
		return 0, syscall.EINVAL
	}
	f.off = base + off
	return f.off, 0
}

func sysLseek(k *Kernel, t *Thread, a Args) (uint64, Result) {
	off := int64(a[1])
	if k.cfg.Arch == I386 {
		off = int64(int32(a[1]))
	}
	pos, e := k.seek(a[0], off, a[2])
	if e != 0 {
		return fail(e)
	}
	return okv(uint64(pos))
}

// sysLlseek is i386 _llseek(fd, off_hi, off_lo, loff_t *result, whence).
func sysLlseek(k *Kernel, t *Thread, a Args) (uint64, Result) {
	pos, e := k.seek(a[0], int64(a[1]<<32|a[2]), a[4])
	if e != 0 {
		return fail(e)
	}
	b := newStruct(8)
	b.u64(0, uint64(pos))
	if e := k.writeBytes(a[3], b.b); e != 0 {
		return fail(e)
	}
	return ok0()
}

// sysIoctl: no descriptor here is a terminal, so TCGETS and every other
// request get ENOTTY, as a pipe would give.
func sysIoctl(k *Kernel, t *Thread, a Args) (uint64, Result) {
	if k.files.get(a[0]) == nil {
		return fail(syscall.EBADF)
	}
	return fail(syscall.ENOTTY)
}

func sysReadlink(k *Kernel, t *Thread, a Args) (uint64, Result) {
	return k.readlink(a[0], a[1], a[2])
}

func sysReadlinkat(k *Kernel, t *Thread, a Args) (uint64, Result) {
	return k.readlink(a[1], a[2], a[3])
}

func (k *Kernel) readlink(pathAddr, buf, size uint64) (uint64, Result) {
	path, e := k.readPath(pathAddr)
	if e != 0 {
		return fail(e)
	}
	if int64(size) <= 0 || (k.cfg.Arch == I386 && int32(size) <= 0) {
		return fail(syscall.EINVAL)
	}
	if path != "/proc/self/exe" && path != fmt.Sprintf("/proc/%d/exe", k.cfg.PID) {
		return fail(syscall.ENOENT)
	}
	target := []byte(k.cfg.ExePath)
	if uint64(len(target)) > size {
		target = target[:size] // readlink truncates silently
	}
	if e := k.writeBytes(buf, target); e != 0 {
		return fail(e)
	}
	return okv(uint64(len(target)))
}
