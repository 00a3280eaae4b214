package kernel

import (
	"syscall"

	"github.com/probesim/probesim/kernel/vfs"
)

// The path syscalls of the filesystem view (fs/namei.c, fs/open.c,
// fs/stat.c, fs/d_path.c), on kernel/vfs. Each *at form takes its
// directory from dirfd (AT_FDCWD: the working directory); the old forms
// are the *at form with AT_FDCWD.

func sysReadlink(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.readlinkat(t, atFDCWDArg, a[0], a[1], a[2])
}

func sysReadlinkat(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.readlinkat(t, a[0], a[1], a[2], a[3])
}

func (k *Kernel) readlinkat(t *Task, dirfd, pathAddr, buf, size uint64) (uint64, Result) {
	path, e := k.readPath(pathAddr)
	if e != 0 {
		return fail(e)
	}
	if int32(size) <= 0 || k.cfg.Arch == X8664 && int64(size) <= 0 {
		return fail(syscall.EINVAL)
	}
	var n *vfs.Node
	if path == "" {
		// readlinkat(fd, "", ...) reads the link an O_PATH|O_NOFOLLOW
		// descriptor names.
		f := t.files.Get(uint64(uint32(dirfd)))
		if int32(dirfd) == atFDCWD || f == nil {
			return fail(syscall.ENOENT)
		}
		if n = fileNode(f); n == nil {
			return fail(syscall.ENOENT)
		}
	} else if n, e = t.lookupAt(dirfd, path, false); e != 0 {
		return fail(e)
	}
	target, e := n.Readlink()
	if e != 0 {
		return fail(e)
	}
	b := []byte(target)
	if uint64(len(b)) > size {
		b = b[:size] // readlink truncates silently
	}
	if e := k.writeBytes(buf, b); e != 0 {
		return fail(e)
	}
	return okv(uint64(len(b)))
}

func sysMkdir(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.mkdirat(t, atFDCWDArg, a[0], a[1])
}

func sysMkdirat(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.mkdirat(t, a[0], a[1], a[2])
}

func (k *Kernel) mkdirat(t *Task, dirfd, pathAddr, mode uint64) (uint64, Result) {
	path, e := k.pathArg(pathAddr)
	if e != 0 {
		return fail(e)
	}
	dir, last, _, e := t.parentAt(dirfd, path)
	if e != 0 {
		return fail(e)
	}
	if _, e := k.fs.Mkdir(dir, last, uint32(mode)&0o7777&^t.fsc.umask); e != 0 {
		return fail(e)
	}
	return ok0()
}

func sysMknod(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.mknodat(t, atFDCWDArg, a[0], a[1], a[2])
}

func sysMknodat(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.mknodat(t, a[0], a[1], a[2], a[3])
}

// mknodat makes regular files and FIFOs; device nodes need CAP_MKNOD
// (EPERM), sockets are made by bind.
func (k *Kernel) mknodat(t *Task, dirfd, pathAddr, mode, dev uint64) (uint64, Result) {
	path, e := k.pathArg(pathAddr)
	if e != 0 {
		return fail(e)
	}
	m := uint32(mode)
	switch m & sIFMT {
	case 0, sIFREG, sIFIFO:
	case vfs.S_IFCHR, vfs.S_IFBLK:
		return fail(syscall.EPERM)
	case vfs.S_IFSOCK:
		k.unsupportedDetail("mknod", "S_IFSOCK")
		return fail(syscall.EPERM)
	default:
		return fail(syscall.EINVAL)
	}
	dir, last, _, e := t.parentAt(dirfd, path)
	if e != 0 {
		return fail(e)
	}
	if _, e := k.fs.Create(dir, last, m&sIFMT|m&0o7777&^t.fsc.umask); e != 0 {
		return fail(e)
	}
	return ok0()
}

func sysUnlink(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.unlinkat(t, atFDCWDArg, a[0], 0)
}

func sysRmdir(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.unlinkat(t, atFDCWDArg, a[0], atRemovedir)
}

func sysUnlinkat(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.unlinkat(t, a[0], a[1], a[2])
}

func (k *Kernel) unlinkat(t *Task, dirfd, pathAddr, flags uint64) (uint64, Result) {
	if flags&^uint64(atRemovedir) != 0 {
		return fail(syscall.EINVAL)
	}
	path, e := k.pathArg(pathAddr)
	if e != 0 {
		return fail(e)
	}
	dir, last, trailing, e := t.parentAt(dirfd, path)
	if e != 0 {
		return fail(e)
	}
	if flags&atRemovedir != 0 {
		e = k.fs.Rmdir(dir, last)
	} else {
		if trailing || last == "." || last == ".." {
			if c, e := k.fs.Lookup(dir, last, true); e == 0 && c.IsDir() {
				return fail(syscall.EISDIR)
			}
			return fail(syscall.ENOTDIR)
		}
		e = k.fs.Unlink(dir, last)
	}
	if e != 0 {
		return fail(e)
	}
	return ok0()
}

func sysRename(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.renameat(t, atFDCWDArg, a[0], atFDCWDArg, a[1], 0)
}

func sysRenameat(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.renameat(t, a[0], a[1], a[2], a[3], 0)
}

func sysRenameat2(k *Kernel, t *Task, a Args) (uint64, Result) {
	if a[4]&4 != 0 { // RENAME_WHITEOUT needs CAP_MKNOD
		return fail(syscall.EPERM)
	}
	return k.renameat(t, a[0], a[1], a[2], a[3], a[4])
}

func (k *Kernel) renameat(t *Task, odirfd, opath, ndirfd, npath, flags uint64) (uint64, Result) {
	op, e := k.pathArg(opath)
	if e != 0 {
		return fail(e)
	}
	np, e := k.pathArg(npath)
	if e != 0 {
		return fail(e)
	}
	odir, olast, _, e := t.parentAt(odirfd, op)
	if e != 0 {
		return fail(e)
	}
	ndir, nlast, _, e := t.parentAt(ndirfd, np)
	if e != 0 {
		return fail(e)
	}
	if e := k.fs.Rename(odir, olast, ndir, nlast, uint32(flags)); e != 0 {
		return fail(e)
	}
	return ok0()
}

func sysLink(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.linkat(t, atFDCWDArg, a[0], atFDCWDArg, a[1], 0)
}

func sysLinkat(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.linkat(t, a[0], a[1], a[2], a[3], a[4])
}

func (k *Kernel) linkat(t *Task, odirfd, opath, ndirfd, npath, flags uint64) (uint64, Result) {
	if flags&^uint64(atSymlinkFollow|atEmptyPth) != 0 {
		return fail(syscall.EINVAL)
	}
	op, e := k.readPath(opath)
	if e != 0 {
		return fail(e)
	}
	var src *vfs.Node
	if op == "" && flags&atEmptyPth != 0 {
		f := t.files.Get(uint64(uint32(odirfd)))
		if f == nil {
			return fail(syscall.EBADF)
		}
		if src = fileNode(f); src == nil {
			return fail(syscall.ENOENT)
		}
	} else if src, e = t.lookupAt(odirfd, op, flags&atSymlinkFollow != 0); e != 0 {
		return fail(e)
	}
	np, e := k.pathArg(npath)
	if e != 0 {
		return fail(e)
	}
	ndir, nlast, _, e := t.parentAt(ndirfd, np)
	if e != 0 {
		return fail(e)
	}
	if e := k.fs.Link(src, ndir, nlast); e != 0 {
		return fail(e)
	}
	return ok0()
}

func sysSymlink(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.symlinkat(t, a[0], atFDCWDArg, a[1])
}

func sysSymlinkat(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.symlinkat(t, a[0], a[1], a[2])
}

func (k *Kernel) symlinkat(t *Task, targetAddr, dirfd, pathAddr uint64) (uint64, Result) {
	target, e := k.pathArg(targetAddr)
	if e != 0 {
		return fail(e)
	}
	path, e := k.pathArg(pathAddr)
	if e != 0 {
		return fail(e)
	}
	dir, last, _, e := t.parentAt(dirfd, path)
	if e != 0 {
		return fail(e)
	}
	if _, e := k.fs.Symlink(dir, last, target); e != 0 {
		return fail(e)
	}
	return ok0()
}

func sysAccess(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.faccessat(t, atFDCWDArg, a[0], a[1], 0)
}

func sysFaccessat(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.faccessat(t, a[0], a[1], a[2], 0)
}

func sysFaccessat2(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.faccessat(t, a[0], a[1], a[2], a[3])
}

func (k *Kernel) faccessat(t *Task, dirfd, pathAddr, mode, flags uint64) (uint64, Result) {
	if mode&^7 != 0 || flags&^uint64(atEaccess|atSymlinkNofollow|atEmptyPth) != 0 {
		return fail(syscall.EINVAL)
	}
	path, e := k.readPath(pathAddr)
	if e != 0 {
		return fail(e)
	}
	var n *vfs.Node
	if path == "" {
		if flags&atEmptyPth == 0 {
			return fail(syscall.ENOENT)
		}
		if n, e = t.startDir(dirfd, ""); e != 0 {
			f := t.files.Get(uint64(uint32(dirfd)))
			if f == nil || fileNode(f) == nil {
				return fail(syscall.EBADF)
			}
			n = fileNode(f)
		}
	} else if n, e = t.lookupAt(dirfd, path, flags&atSymlinkNofollow == 0); e != 0 {
		return fail(e)
	}
	if mode != 0 {
		if e := k.fs.Access(n, uint32(mode)); e != 0 {
			return fail(e)
		}
	}
	return ok0()
}

func sysChdir(k *Kernel, t *Task, a Args) (uint64, Result) {
	n, e := t.lookupPathArg(atFDCWDArg, a[0])
	if e != 0 {
		return fail(e)
	}
	return k.chdir(t, n)
}

func sysFchdir(k *Kernel, t *Task, a Args) (uint64, Result) {
	f := t.files.Get(a[0])
	if f == nil {
		return fail(syscall.EBADF)
	}
	n := fileNode(f)
	if n == nil {
		return fail(syscall.ENOTDIR)
	}
	return k.chdir(t, n)
}

func (k *Kernel) chdir(t *Task, n *vfs.Node) (uint64, Result) {
	if !n.IsDir() {
		return fail(syscall.ENOTDIR)
	}
	if e := k.fs.Access(n, 1); e != 0 {
		return fail(e)
	}
	t.fsc.cwd = n
	return ok0()
}

// sysGetcwd writes the working directory's path (d_path): ENOENT once it
// was removed, ERANGE when it does not fit.
func sysGetcwd(k *Kernel, t *Task, a Args) (uint64, Result) {
	cwd := t.fsc.cwd
	if cwd.Removed() {
		return fail(syscall.ENOENT)
	}
	p := append([]byte(cwd.Path()), 0)
	if uint64(len(p)) > a[1] {
		return fail(syscall.ERANGE)
	}
	if e := k.writeBytes(a[0], p); e != 0 {
		return fail(e)
	}
	return okv(uint64(len(p)))
}

func sysUmask(k *Kernel, t *Task, a Args) (uint64, Result) {
	old := t.fsc.umask
	t.fsc.umask = uint32(a[0]) & 0o777
	return okv(uint64(old))
}

func sysTruncate(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.truncatePath(t, a[0], k.longArg(a[1]))
}

func sysFtruncate(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.ftruncate(t, a[0], k.longArg(a[1]))
}

// sysTruncate64 and sysFtruncate64 are i386's, with the length in two
// registers (low first).
func sysTruncate64(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.truncatePath(t, a[0], int64(a[2]<<32|a[1]))
}

func sysFtruncate64(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.ftruncate(t, a[0], int64(a[2]<<32|a[1]))
}

// longArg is a C long argument, sign-extended on i386.
func (k *Kernel) longArg(v uint64) int64 {
	if k.cfg.Arch == I386 {
		return int64(int32(v))
	}
	return int64(v)
}

func (k *Kernel) truncatePath(t *Task, pathAddr uint64, size int64) (uint64, Result) {
	n, e := t.lookupPathArg(atFDCWDArg, pathAddr)
	if e != 0 {
		return fail(e)
	}
	if n.IsDir() {
		return fail(syscall.EISDIR)
	}
	if e := k.fs.Access(n, 2); e != 0 {
		return fail(e)
	}
	if e := k.fileTruncate(k.fs, n, size); e != 0 {
		return fail(e)
	}
	return ok0()
}

func (k *Kernel) ftruncate(t *Task, fd uint64, size int64) (uint64, Result) {
	f := t.files.Get(fd)
	if f == nil {
		return fail(syscall.EBADF)
	}
	r, ok := f.impl.(interface{ truncate(int64) syscall.Errno })
	if !ok || !f.writable() {
		return fail(syscall.EINVAL)
	}
	if size < 0 {
		return fail(syscall.EINVAL)
	}
	if e := r.truncate(size); e != 0 {
		return fail(e)
	}
	return ok0()
}

// sysFsync serves fsync, fdatasync and syncfs: nothing is buffered, so
// they only check the descriptor.
// sysFsync is fsync and fdatasync: a regular file's dirty mapped pages
// go to the view; the view needs no more.
func sysFsync(k *Kernel, t *Task, a Args) (uint64, Result) {
	f := t.files.Get(a[0])
	if f == nil {
		return fail(syscall.EBADF)
	}
	if r, ok := f.impl.(*regularFile); ok {
		k.mm().PageCache().Writeback(nodePages{r.fs, r.n})
	}
	return ok0()
}

// sysSyncfs is syncfs: every dirty mapped page goes back (the view is
// one filesystem as far as the page cache goes).
func sysSyncfs(k *Kernel, t *Task, a Args) (uint64, Result) {
	if t.files.Get(a[0]) == nil {
		return fail(syscall.EBADF)
	}
	return sysSync(k, t, a)
}

// sysSync writes every dirty mapped page back.
func sysSync(k *Kernel, t *Task, a Args) (uint64, Result) {
	k.mm().PageCache().Writeback(nil)
	return ok0()
}

func sysChmod(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.fchmodat(t, atFDCWDArg, a[0], a[1])
}

func sysFchmodat(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.fchmodat(t, a[0], a[1], a[2])
}

func (k *Kernel) fchmodat(t *Task, dirfd, pathAddr, mode uint64) (uint64, Result) {
	n, e := t.lookupPathArg(dirfd, pathAddr)
	if e != 0 {
		return fail(e)
	}
	if e := k.fs.Chmod(n, uint32(mode)); e != 0 {
		return fail(e)
	}
	return ok0()
}

func sysFchmod(k *Kernel, t *Task, a Args) (uint64, Result) {
	f := t.files.Get(a[0])
	if f == nil {
		return fail(syscall.EBADF)
	}
	n := fileNode(f)
	if n == nil {
		return fail(syscall.EINVAL)
	}
	if e := k.fs.Chmod(n, uint32(a[1])); e != 0 {
		return fail(e)
	}
	return ok0()
}

// id is a uid_t or gid_t argument: -1 leaves the id alone. The old i386
// calls take 16-bit ids, where 0xffff is -1.
func id32(v uint64) int64 {
	if uint32(v) == 0xffffffff {
		return -1
	}
	return int64(uint32(v))
}

func id16(v uint64) int64 {
	if uint16(v) == 0xffff {
		return -1
	}
	return int64(uint16(v))
}

func chownHandler(follow bool, at, fd bool, id func(uint64) int64) Handler {
	return func(k *Kernel, t *Task, a Args) (uint64, Result) {
		var n *vfs.Node
		var uid, gid int64
		switch {
		case fd:
			f := t.files.Get(a[0])
			if f == nil {
				return fail(syscall.EBADF)
			}
			if n = fileNode(f); n == nil {
				return fail(syscall.EINVAL)
			}
			uid, gid = id(a[1]), id(a[2])
		default:
			dirfd, pathArg, flags := uint64(atFDCWDArg), a[0], uint64(0)
			uid, gid = id(a[1]), id(a[2])
			if at {
				dirfd, pathArg, flags = a[0], a[1], a[4]
				uid, gid = id(a[2]), id(a[3])
			}
			path, e := k.pathArg(pathArg)
			if e != 0 {
				return fail(e)
			}
			if n, e = t.lookupAt(dirfd, path, follow && flags&atSymlinkNofollow == 0); e != 0 {
				return fail(e)
			}
		}
		if e := k.fs.Chown(n, uid, gid); e != 0 {
			return fail(e)
		}
		return ok0()
	}
}

// sysUtimensat is utimensat(dirfd, path, times[2], flags): UTIME_NOW
// (2^30-1) and UTIME_OMIT (2^30-2) as nanoseconds; a NULL path sets the
// descriptor's file.
func sysUtimensat(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.utimens(t, a[0], a[1], a[2], a[3], k.cfg.Arch == X8664, true)
}

func sysUtimensatTime64(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.utimens(t, a[0], a[1], a[2], a[3], true, true)
}

// sysUtimes is utimes(path, struct timeval[2]) (microseconds).
func sysUtimes(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.utimens(t, atFDCWDArg, a[0], a[1], 0, k.cfg.Arch == X8664, false)
}

func (k *Kernel) utimens(t *Task, dirfd, pathAddr, times, flags uint64, wide, nanos bool) (uint64, Result) {
	const utimeNow, utimeOmit = 1<<30 - 1, 1<<30 - 2
	var n *vfs.Node
	if pathAddr == 0 {
		f := t.files.Get(uint64(uint32(dirfd)))
		if f == nil {
			return fail(syscall.EBADF)
		}
		if n = fileNode(f); n == nil {
			return fail(syscall.EINVAL)
		}
	} else {
		path, e := k.pathArg(pathAddr)
		if e != 0 {
			return fail(e)
		}
		if n, e = t.lookupAt(dirfd, path, flags&atSymlinkNofollow == 0); e != 0 {
			return fail(e)
		}
	}
	now := k.realtimeNanos()
	at, mt := now, now
	setNow := true
	if times != 0 {
		size := uint64(8)
		if wide {
			size = 16
		}
		v := [2]int64{}
		for i := range v {
			sec, frac, e := k.readTimespec(times+uint64(i)*size, wide)
			if e != 0 {
				return fail(e)
			}
			if !nanos {
				frac *= 1000
			}
			switch {
			case nanos && frac == utimeNow:
				v[i] = now
			case nanos && frac == utimeOmit:
				v[i] = -1
			case frac < 0 || frac >= 1e9:
				return fail(syscall.EINVAL)
			default:
				v[i] = sec*1e9 + frac
				setNow = false
			}
		}
		at, mt = v[0], v[1]
	}
	if e := k.fs.SetTimes(n, at, mt, setNow); e != 0 {
		return fail(e)
	}
	return ok0()
}

// realtimeNanos is CLOCK_REALTIME in nanoseconds, the view's clock.
func (k *Kernel) realtimeNanos() int64 {
	return int64(Epoch*1_000_000_000 + k.nanos(k.cfg.Clock()))
}

// statfs: the filesystem a node lives on, by its device.
func (k *Kernel) statfsOf(n *vfs.Node) []uint64 {
	st := k.fs.Stat(n)
	magic := uint64(0xef53) // ext4
	switch st.Dev {
	case vfs.DevProc:
		magic = 0x9fa0
	case vfs.DevSys:
		magic = 0x62656572
	case vfs.DevTmpfs, vfs.DevDev:
		magic = 0x01021994
	}
	// type, bsize, blocks, bfree, bavail, files, ffree, fsid, namelen, frsize, flags
	return []uint64{magic, 4096, 1 << 20, 1 << 19, 1 << 19, 1 << 20, 1 << 19, st.Dev, 255, 4096, 0x20 /* ST_RELATIME */}
}

func (k *Kernel) putStatfs(addr uint64, v []uint64, wide64 bool) (uint64, Result) {
	if k.cfg.Arch == X8664 {
		b := newStruct(120)
		for i, x := range v {
			b.u64(8*i, x)
		}
		return okOrFault(k.writeBytes(addr, b.b))
	}
	if !wide64 {
		// i386 struct statfs: longs (32-bit), fsid two ints.
		b := newStruct(64)
		for i, x := range v[:7] {
			b.u32(4*i, uint32(x))
		}
		b.u32(28, uint32(v[7]))
		b.u32(36, uint32(v[8]))
		b.u32(40, uint32(v[9]))
		b.u32(44, uint32(v[10]))
		return okOrFault(k.writeBytes(addr, b.b))
	}
	// i386 struct statfs64 (84 bytes, packed): type, bsize (u32), then
	// blocks..ffree (u64), fsid (2 x u32), namelen, frsize, flags (u32).
	b := newStruct(84)
	b.u32(0, uint32(v[0]))
	b.u32(4, uint32(v[1]))
	for i, x := range v[2:7] {
		b.u64(8+8*i, x)
	}
	b.u32(48, uint32(v[7]))
	b.u32(56, uint32(v[8]))
	b.u32(60, uint32(v[9]))
	b.u32(64, uint32(v[10]))
	return okOrFault(k.writeBytes(addr, b.b))
}

func okOrFault(e syscall.Errno) (uint64, Result) {
	if e != 0 {
		return fail(e)
	}
	return ok0()
}

func sysStatfs(k *Kernel, t *Task, a Args) (uint64, Result) {
	n, e := t.lookupPathArg(atFDCWDArg, a[0])
	if e != 0 {
		return fail(e)
	}
	return k.putStatfs(a[1], k.statfsOf(n), false)
}

func sysFstatfs(k *Kernel, t *Task, a Args) (uint64, Result) {
	n, e := t.fdNode(a[0])
	if e != 0 {
		return fail(e)
	}
	return k.putStatfs(a[1], k.statfsOf(n), false)
}

// sysStatfs64 and sysFstatfs64 are i386's (path or fd, size, buf).
func sysStatfs64(k *Kernel, t *Task, a Args) (uint64, Result) {
	if a[1] != 84 {
		return fail(syscall.EINVAL)
	}
	n, e := t.lookupPathArg(atFDCWDArg, a[0])
	if e != 0 {
		return fail(e)
	}
	return k.putStatfs(a[2], k.statfsOf(n), true)
}

func sysFstatfs64(k *Kernel, t *Task, a Args) (uint64, Result) {
	if a[1] != 84 {
		return fail(syscall.EINVAL)
	}
	n, e := t.fdNode(a[0])
	if e != 0 {
		return fail(e)
	}
	return k.putStatfs(a[2], k.statfsOf(n), true)
}

// fdNode is the view node behind fd (EBADF, or ENOSYS-like EINVAL for a
// file that has none: pipes and the standard streams live on pipefs).
func (t *Task) fdNode(fd uint64) (*vfs.Node, syscall.Errno) {
	f := t.files.Get(fd)
	if f == nil {
		return nil, syscall.EBADF
	}
	n := fileNode(f)
	if n == nil {
		return t.k.fs.Root(), 0
	}
	return n, 0
}

// sysFadvise and friends: advice has no effect in memory; the descriptor
// and the advice are checked.
func sysFadvise(k *Kernel, t *Task, a Args) (uint64, Result) {
	f := t.files.Get(a[0])
	if f == nil {
		return fail(syscall.EBADF)
	}
	if fileNode(f) == nil {
		return fail(syscall.ESPIPE)
	}
	return ok0()
}

// sysFlock accepts and records locks: one guest process cannot contend
// with itself across descriptions in a way probesim models.
func sysFlock(k *Kernel, t *Task, a Args) (uint64, Result) {
	if t.files.Get(a[0]) == nil {
		return fail(syscall.EBADF)
	}
	k.note("flock", flockName(a[1]))
	return ok0()
}

func flockName(op uint64) string {
	switch op &^ 4 { // LOCK_NB
	case 1:
		return "LOCK_SH"
	case 2:
		return "LOCK_EX"
	case 8:
		return "LOCK_UN"
	}
	return "other"
}

// sysFallocate extends a file to offset+len (mode 0 only).
func sysFallocate(k *Kernel, t *Task, a Args) (uint64, Result) {
	f := t.files.Get(a[0])
	if f == nil {
		return fail(syscall.EBADF)
	}
	off, length := k.longArg(a[2]), k.longArg(a[3])
	if k.cfg.Arch == I386 {
		off, length = int64(a[3]<<32|a[2]), int64(a[5]<<32|a[4])
	}
	if a[1] != 0 {
		k.unsupportedDetail("fallocate", "mode")
		return fail(syscall.EOPNOTSUPP)
	}
	if off < 0 || length <= 0 {
		return fail(syscall.EINVAL)
	}
	r, ok := f.impl.(*regularFile)
	if !ok {
		return fail(syscall.ENODEV)
	}
	if !f.writable() {
		return fail(syscall.EBADF)
	}
	if end := off + length; end > r.n.Size() {
		if e := r.truncate(end); e != 0 {
			return fail(e)
		}
	}
	return ok0()
}
