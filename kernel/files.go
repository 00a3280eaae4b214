package kernel

import "syscall"

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
