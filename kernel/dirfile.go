package kernel

import (
	"syscall"

	"github.com/probesim/probesim/kernel/vfs"
)

// dirFile is an open directory. getdents reads its entries from a listing
// taken when reading starts (and again after a rewind), as a
// readdir over a changing directory may or may not see the changes; "."
// and ".." come first, then the entries in name order. The position is
// the index of the next entry.
type dirFile struct {
	FileDefaults
	fs      *vfs.FS
	n       *vfs.Node
	entries []vfs.Dirent
	listed  bool
}

func (d *dirFile) node() *vfs.Node { return d.n }
func (d *dirFile) Stat() fileStat  { return nodeStat(d.fs, d.n) }

func (d *dirFile) Read(*FileDescription, []byte) (int, syscall.Errno)  { return 0, syscall.EISDIR }
func (d *dirFile) Write(*FileDescription, []byte) (int, syscall.Errno) { return 0, syscall.EBADF }

func (d *dirFile) Seek(f *FileDescription, off int64, whence int) (int64, syscall.Errno) {
	pos, e := seekIn(f, off, whence, 0)
	if e == 0 && pos == 0 {
		d.listed = false // rewinddir sees the directory anew
	}
	return pos, e
}

func (d *dirFile) list() syscall.Errno {
	if d.listed {
		return 0
	}
	ents, e := d.n.Entries()
	if e != 0 {
		return e
	}
	self := vfs.Dirent{Name: ".", Ino: d.n.Ino(), Type: 4}
	parent := vfs.Dirent{Name: "..", Ino: d.n.Parent().Ino(), Type: 4}
	d.entries = append([]vfs.Dirent{self, parent}, ents...)
	d.listed = true
	return 0
}

// getdents fills buf with records laid out by rec, from the position on.
// The first record that does not fit stops it; a buffer too small for
// the first is EINVAL (filldir).
func (k *Kernel) getdents(t *Task, fd, addr, count uint64, rec func(e vfs.Dirent, off uint64) []byte) (uint64, Result) {
	f := t.files.Get(fd)
	if f == nil {
		return fail(syscall.EBADF)
	}
	d, ok := f.impl.(*dirFile)
	if !ok {
		return fail(syscall.ENOTDIR)
	}
	if e := k.fs.Access(d.n, 4); e != 0 && !d.listed {
		return fail(e)
	}
	if e := d.list(); e != 0 {
		return fail(e)
	}
	count = min(count, 1<<20)
	var out []byte
	for f.pos >= 0 && f.pos < int64(len(d.entries)) {
		r := rec(d.entries[f.pos], uint64(f.pos+1))
		if uint64(len(out)+len(r)) > count {
			if len(out) == 0 {
				return fail(syscall.EINVAL)
			}
			break
		}
		out = append(out, r...)
		f.pos++
	}
	if e := k.writeBytes(addr, out); e != 0 {
		return fail(e)
	}
	return okv(uint64(len(out)))
}

// sysGetdents64: struct linux_dirent64 {u64 ino; s64 off; u16 reclen; u8
// type; char name[]}, 8-byte aligned.
func sysGetdents64(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.getdents(t, a[0], a[1], a[2], func(e vfs.Dirent, off uint64) []byte {
		reclen := (19 + len(e.Name) + 1 + 7) &^ 7
		b := newStruct(reclen)
		b.u64(0, e.Ino)
		b.u64(8, off)
		b.u16(16, uint16(reclen))
		b.b[18] = e.Type
		copy(b.b[19:], e.Name)
		return b.b
	})
}

// sysGetdents is the old getdents: struct linux_dirent {long ino; long
// off; u16 reclen; char name[]; char pad; char type}, aligned to a long.
func sysGetdents(k *Kernel, t *Task, a Args) (uint64, Result) {
	ws := k.cfg.Arch.wordSize()
	return k.getdents(t, a[0], a[1], a[2], func(e vfs.Dirent, off uint64) []byte {
		reclen := (2*ws + 2 + len(e.Name) + 2 + ws - 1) &^ (ws - 1)
		b := newStruct(reclen)
		b.word(k.cfg.Arch, 0, e.Ino)
		b.word(k.cfg.Arch, ws, off)
		b.u16(2*ws, uint16(reclen))
		copy(b.b[2*ws+2:], e.Name)
		b.b[reclen-1] = e.Type
		return b.b
	})
}
