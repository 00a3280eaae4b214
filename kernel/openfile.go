package kernel

import (
	"syscall"

	"github.com/probesim/probesim/kernel/vfs"
)

// open(2) flags (include/uapi/asm-generic/fcntl.h, x86 values).
const (
	oExcl      = 0o200
	oNoctty    = 0o400
	oTrunc     = 0o1000
	oDsync     = 0o10000
	oAsync     = 0o20000
	oDirect    = 0o40000
	oLargefile = 0o100000
	oDirectory = 0o200000
	oNofollow  = 0o400000
	oNoatime   = 0o1000000
	oCloexec   = 0o2000000
	oSync      = 0o4010000
	oPath      = 0o10000000
	oTmpfile   = 0o20000000 | oDirectory
	// statusFlags are what a description keeps of the open flags (and
	// F_GETFL reports).
	statusFlags = oAppend | oNonblock | oDsync | oAsync | oDirect | oLargefile | oNoatime | oSync | oPath
)

func sysOpen(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.openat(t, atFDCWDArg, a[0], a[1], a[2])
}

func sysOpenat(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.openat(t, a[0], a[1], a[2], a[3])
}

func sysCreat(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.openat(t, atFDCWDArg, a[0], oCreat|oWriteOnly|oTrunc, a[1])
}

// openat is do_sys_openat2 and path_openat (fs/namei.c, fs/open.c),
// reduced to the checks a guest can observe.
func (k *Kernel) openat(t *Task, dirfd, pathAddr, flags, mode uint64) (uint64, Result) {
	path, e := k.pathArg(pathAddr)
	if e != 0 {
		return fail(e)
	}
	fl := uint32(flags)
	if k.cfg.Arch == X8664 {
		fl |= oLargefile // force_o_largefile
	}
	f, e := k.openPath(t, dirfd, path, fl, uint32(mode))
	if e == errBlockFIFO {
		return k.blockFIFO(t, fl&oCloexec != 0)
	}
	if e != 0 {
		return fail(e)
	}
	fd, e := t.installFD(f, fl&oCloexec != 0)
	if e != 0 {
		return fail(e)
	}
	return okv(fd)
}

// openPath opens path from dirfd and returns the new description.
func (k *Kernel) openPath(t *Task, dirfd uint64, path string, fl, mode uint32) (*FileDescription, syscall.Errno) {
	acc := fl & oAccMode
	if fl&oTmpfile == oTmpfile {
		if acc == oReadOnly {
			return nil, syscall.EINVAL
		}
		dir, e := t.lookupAt(dirfd, path, true)
		if e != 0 {
			return nil, e
		}
		n, e := k.fs.TempFile(dir, mode&0o7777&^t.fsc.umask)
		if e != 0 {
			return nil, e
		}
		return k.openNode(t, n, fl&^oTmpfile, true)
	}
	if fl&oPath != 0 {
		fl &= oPath | oDirectory | oNofollow | oCloexec | oLargefile
	}
	var n *vfs.Node
	created := false
	if fl&oCreat != 0 && fl&oPath == 0 {
		dir, last, trailing, e := t.parentAt(dirfd, path)
		if e != 0 {
			return nil, e
		}
		if last == "." || last == ".." {
			return nil, syscall.EISDIR
		}
		// O_EXCL and O_NOFOLLOW do not follow a final symlink.
		c, e := k.fs.Lookup(dir, last, fl&(oExcl|oNofollow) == 0)
		switch {
		case e == syscall.ENOENT:
			if trailing {
				return nil, syscall.EISDIR
			}
			if l, e := k.fs.Lookup(dir, last, false); e == 0 && l.IsSymlink() {
				// A dangling symlink, whose target Linux would create:
				// not modelled.
				return nil, syscall.ENOENT
			}
			if n, e = k.fs.Create(dir, last, vfs.S_IFREG|mode&0o7777&^t.fsc.umask); e != 0 {
				return nil, e
			}
			created = true
		case e != 0:
			return nil, e
		case fl&oExcl != 0:
			return nil, syscall.EEXIST
		case c.IsSymlink():
			return nil, syscall.ELOOP
		case c.IsDir():
			return nil, syscall.EISDIR
		default:
			n = c
		}
	} else {
		var e syscall.Errno
		n, e = t.lookupAt(dirfd, path, fl&oNofollow == 0)
		if e != 0 {
			return nil, e
		}
		if n.IsSymlink() && fl&oPath == 0 {
			return nil, syscall.ELOOP // O_NOFOLLOW
		}
	}
	return k.openNode(t, n, fl, created)
}

// openNode opens node n with flags fl (may_open and do_dentry_open).
func (k *Kernel) openNode(t *Task, n *vfs.Node, fl uint32, created bool) (*FileDescription, syscall.Errno) {
	acc := fl & oAccMode
	if fl&oDirectory != 0 && !n.IsDir() {
		return nil, syscall.ENOTDIR
	}
	if fl&oPath != 0 {
		return NewFileDescription(&pathFile{fs: k.fs, n: n}, fl&statusFlags|oReadOnly), 0
	}
	if acc == 3 {
		return nil, syscall.EINVAL
	}
	if n.IsDir() && (acc != oReadOnly || fl&oTrunc != 0) {
		return nil, syscall.EISDIR
	}
	if !created {
		var want uint32
		if acc != oWriteOnly {
			want |= 4
		}
		if acc != oReadOnly || fl&oTrunc != 0 {
			want |= 2
		}
		if e := k.fs.Access(n, want); e != 0 {
			return nil, e
		}
	}
	flags := fl&statusFlags | acc
	var impl FileImpl
	switch n.Mode() & vfs.S_IFMT {
	case vfs.S_IFDIR:
		impl = &dirFile{fs: k.fs, n: n}
	case vfs.S_IFREG:
		if data, ok := n.Generated(); ok {
			if acc != oReadOnly {
				return nil, syscall.EACCES
			}
			impl = &snapshotFile{data: data, st: nodeStat(k.fs, n), n: n}
			break
		}
		if fl&oTrunc != 0 && acc != oReadOnly {
			if e := k.fileTruncate(k.fs, n, 0); e != 0 {
				return nil, e
			}
		}
		impl = &regularFile{k: k, fs: k.fs, n: n}
	case vfs.S_IFCHR:
		open, ok := n.Device()
		if !ok {
			return nil, syscall.ENXIO // a host device: never opened
		}
		v, e := open()
		if e != 0 {
			return nil, e
		}
		d := v.(FileImpl)
		if dn, ok := d.(interface{ setNode(*vfs.FS, *vfs.Node) }); ok {
			dn.setNode(k.fs, n)
		}
		impl = d
	case vfs.S_IFIFO:
		return k.openFIFO(t, n, flags)
	default:
		return nil, syscall.ENXIO // sockets and host devices
	}
	return NewFileDescription(impl, flags), 0
}

// installFD gives f a descriptor of t's table, within RLIMIT_NOFILE.
func (t *Task) installFD(f *FileDescription, cloexec bool) (uint64, syscall.Errno) {
	fd := t.files.lowestFree()
	if fd >= t.k.nofile() {
		f.DecRef()
		return 0, syscall.EMFILE
	}
	return t.files.install(f, cloexec), 0
}

// regularFile is an open regular file of the view.
type regularFile struct {
	FileDefaults
	k  *Kernel // its page cache (memory.go) sits between the file and the view
	fs *vfs.FS
	n  *vfs.Node
}

func (r *regularFile) node() *vfs.Node { return r.n }

func (r *regularFile) Read(f *FileDescription, dst []byte) (int, syscall.Errno) {
	n, e := r.k.fileRead(r.fs, r.n, dst, f.pos)
	f.pos += int64(n)
	return n, e
}

func (r *regularFile) ReadAt(f *FileDescription, dst []byte, off int64) (int, syscall.Errno) {
	return r.k.fileRead(r.fs, r.n, dst, off)
}

func (r *regularFile) Write(f *FileDescription, src []byte) (int, syscall.Errno) {
	if f.flags&oAppend != 0 {
		f.pos = r.n.Size()
	}
	n, e := r.k.fileWrite(r.fs, r.n, src, f.pos)
	f.pos += int64(n)
	return n, e
}

// WriteAt is pwrite; with O_APPEND Linux appends whatever the offset.
func (r *regularFile) WriteAt(f *FileDescription, src []byte, off int64) (int, syscall.Errno) {
	if f.flags&oAppend != 0 {
		off = r.n.Size()
	}
	return r.k.fileWrite(r.fs, r.n, src, off)
}

func (r *regularFile) Seek(f *FileDescription, off int64, whence int) (int64, syscall.Errno) {
	size := r.n.Size()
	switch whence {
	case 3, 4: // SEEK_DATA, SEEK_HOLE: no holes, one data extent
		if off < 0 || off >= size {
			return 0, syscall.ENXIO
		}
		if whence == 4 {
			off = size
		}
		f.pos = off
		return off, 0
	}
	return seekIn(f, off, whence, size)
}

func (r *regularFile) Stat() fileStat { return nodeStat(r.fs, r.n) }

func (r *regularFile) truncate(size int64) syscall.Errno { return r.k.fileTruncate(r.fs, r.n, size) }

// pathFile is an O_PATH description: it names a node for fstat, fchdir
// and the *at calls, and allows no I/O (EBADF).
type pathFile struct {
	FileDefaults
	fs *vfs.FS
	n  *vfs.Node
}

func (p *pathFile) node() *vfs.Node                                     { return p.n }
func (p *pathFile) Stat() fileStat                                      { return nodeStat(p.fs, p.n) }
func (p *pathFile) Read(*FileDescription, []byte) (int, syscall.Errno)  { return 0, syscall.EBADF }
func (p *pathFile) Write(*FileDescription, []byte) (int, syscall.Errno) { return 0, syscall.EBADF }
