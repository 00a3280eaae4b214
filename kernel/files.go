package kernel

import (
	"fmt"
	"syscall"
)

// maxRW bounds one read or write, as MAX_RW_COUNT does in fs/read_write.c.
const maxRW = 0x7ffff000

// writable returns the description behind fd if it is open for writing.
// ksys_write and do_writev (fs/read_write.c) look the descriptor up before
// touching the buffer, so a bad descriptor is EBADF even when the buffer is
// bad too.
func (t *Task) writable(fd uint64) *FileDescription {
	f := t.files.Get(fd)
	if f == nil || !f.writable() {
		return nil
	}
	return f
}

// writeChunk bounds the host buffer of one write: a guest may ask to write
// gigabytes, which are copied and passed on a megabyte at a time.
const writeChunk = 1 << 20

func sysWrite(k *Kernel, t *Task, a Args) (uint64, Result) {
	w := t.writable(a[0])
	if w == nil {
		return fail(syscall.EBADF)
	}
	n := min(a[2], maxRW)
	var done uint64
	for done < n {
		m := min(n-done, writeChunk)
		buf, e := k.readBytes(a[1]+done, int(m))
		if e == 0 {
			_, e = w.impl.Write(w, buf)
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

func sysWritev(k *Kernel, t *Task, a Args) (uint64, Result) {
	iov, cnt := a[1], a[2]
	w := t.writable(a[0])
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
	if _, e := w.impl.Write(w, buf); e != 0 {
		return fail(e)
	}
	return okv(uint64(len(buf)))
}

func sysRead(k *Kernel, t *Task, a Args) (uint64, Result) {
	f := t.files.Get(a[0])
	if f == nil || !f.readable() {
		return fail(syscall.EBADF)
	}
	buf := make([]byte, min(a[2], maxRW, readChunk))
	n, e := f.impl.Read(f, buf)
	if e != 0 {
		return fail(e)
	}
	if n > 0 {
		if e := k.writeBytes(a[1], buf[:n]); e != 0 {
			return fail(e)
		}
	}
	return okv(uint64(n))
}

// *at flags that matter here.
const (
	atFDCWD    = -100
	atEmptyPth = 0x1000
)

func sysOpen(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.open(t, a[0], a[1])
}

func sysOpenat(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.open(t, a[1], a[2])
}

// open resolves the few synthetic files probesim provides. The guest never
// reaches the host file system (see the package comment).
func (k *Kernel) open(t *Task, pathAddr, flags uint64) (uint64, Result) {
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
		snap := &snapshotFile{data: []byte(k.cfg.Mem.MapsText()), ino: 4026531840 + t.files.lowestFree()}
		return okv(t.files.install(NewFileDescription(snap, oReadOnly), false))
	}
	return fail(syscall.ENOENT)
}

func sysClose(k *Kernel, t *Task, a Args) (uint64, Result) {
	if !t.files.remove(a[0]) {
		return fail(syscall.EBADF)
	}
	return ok0()
}

// seek is lseek: files without a position (the standard descriptors are
// pipes) give ESPIPE.
func (t *Task) seek(fd uint64, off int64, whence uint64) (int64, syscall.Errno) {
	f := t.files.Get(fd)
	if f == nil {
		return 0, syscall.EBADF
	}
	// A file without a position gives ESPIPE whatever whence is
	// (no_llseek); the others refuse a bad whence with EINVAL.
	return f.impl.Seek(f, off, int(whence))
}

func sysLseek(k *Kernel, t *Task, a Args) (uint64, Result) {
	off := int64(a[1])
	if k.cfg.Arch == I386 {
		off = int64(int32(a[1]))
	}
	pos, e := t.seek(a[0], off, a[2])
	if e != 0 {
		return fail(e)
	}
	return okv(uint64(pos))
}

// sysLlseek is i386 _llseek(fd, off_hi, off_lo, loff_t *result, whence).
func sysLlseek(k *Kernel, t *Task, a Args) (uint64, Result) {
	pos, e := t.seek(a[0], int64(a[1]<<32|a[2]), a[4])
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
func sysIoctl(k *Kernel, t *Task, a Args) (uint64, Result) {
	if t.files.Get(a[0]) == nil {
		return fail(syscall.EBADF)
	}
	return fail(syscall.ENOTTY)
}

func sysReadlink(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.readlink(a[0], a[1], a[2])
}

func sysReadlinkat(k *Kernel, t *Task, a Args) (uint64, Result) {
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
