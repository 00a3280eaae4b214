package kernel

import (
	"syscall"

	"github.com/probesim/probesim/kernel/vfs"
)

// fileStat is the subset of struct kstat probesim reports.
type fileStat struct {
	mode    uint32
	uid     uint32
	gid     uint32
	size    uint64
	blksize uint64
	blocks  uint64
	ino     uint64
	dev     uint64
	rdev    uint64
	nlink   uint32
	// Times in nanoseconds since 1970 (0 for the standard descriptors).
	atime, mtime, ctime int64
	// guestOwned: the file belongs to the task (a pipe's inode gets
	// current_fsuid(), /proc/self files the task's euid and egid), so
	// statFD fills in the guest's credentials.
	guestOwned bool
}

const (
	sIFIFO = 0o010000
	sIFREG = 0o100000
	sIFDIR = 0o040000
	sIFLNK = 0o120000
	sIFMT  = 0o170000
)

// pipefsDev is the device number of pipefs on a typical system; the standard
// descriptors report it so that they look like the pipes they pretend to be.
const pipefsDev = 0x0d

// nodeStat is the kstat of a node of the view.
func nodeStat(fs *vfs.FS, n *vfs.Node) fileStat {
	s := fs.Stat(n)
	return fileStat{mode: s.Mode, uid: s.UID, gid: s.GID, size: uint64(s.Size), blksize: uint64(s.Blksize),
		blocks: uint64(s.Blocks), ino: s.Ino, dev: s.Dev, rdev: s.Rdev, nlink: s.Nlink,
		atime: s.Atime, mtime: s.Mtime, ctime: s.Ctime}
}

func (k *Kernel) statFD(t *Task, fd uint64) (fileStat, syscall.Errno) {
	f := t.files.Get(fd)
	if f == nil {
		return fileStat{}, syscall.EBADF
	}
	st := f.impl.Stat()
	if st.guestOwned {
		id := uint32(k.cfg.UID) // getgid reports the uid too
		st.uid, st.gid = id, id
	}
	return st, 0
}

// statAt resolves the (dirfd, path, flags) triple of the *at calls:
// AT_SYMLINK_NOFOLLOW stats a final symlink itself, AT_EMPTY_PATH with an
// empty path the descriptor dirfd.
func (k *Kernel) statAt(t *Task, dirfd, pathAddr, flags uint64) (fileStat, syscall.Errno) {
	if flags&^uint64(atSymlinkNofollow|atEmptyPth|atNoAutomount|atStatxSyncMask) != 0 {
		return fileStat{}, syscall.EINVAL
	}
	path, e := k.readPath(pathAddr)
	if e != 0 {
		return fileStat{}, e
	}
	if path == "" {
		if flags&atEmptyPth == 0 {
			return fileStat{}, syscall.ENOENT
		}
		if int32(dirfd) == atFDCWD {
			return nodeStat(k.fs, t.fsc.cwd), 0
		}
		return k.statFD(t, dirfd)
	}
	n, e := t.lookupAt(dirfd, path, flags&atSymlinkNofollow == 0)
	if e != 0 {
		return fileStat{}, e
	}
	return nodeStat(k.fs, n), 0
}

func secs(ns int64) (uint64, uint64) {
	s, n := ns/1e9, ns%1e9
	if n < 0 {
		s, n = s-1, n+1e9
	}
	return uint64(s), uint64(n)
}

// encodeStat lays out x86-64 struct stat (144 bytes).
func encodeStat(st fileStat) []byte {
	b := newStruct(144)
	b.u64(0, st.dev)
	b.u64(8, st.ino)
	b.u64(16, uint64(st.nlink))
	b.u32(24, st.mode)
	b.u32(28, st.uid)
	b.u32(32, st.gid)
	b.u64(40, st.rdev)
	b.u64(48, st.size)
	b.u64(56, st.blksize)
	b.u64(64, st.blocks)
	for i, ns := range []int64{st.atime, st.mtime, st.ctime} {
		s, n := secs(ns)
		b.u64(72+16*i, s)
		b.u64(80+16*i, n)
	}
	return b.b
}

// encodeStat64 lays out i386 struct stat64 (96 bytes).
func encodeStat64(st fileStat) []byte {
	b := newStruct(96)
	b.u64(0, st.dev)
	b.u32(12, uint32(st.ino))
	b.u32(16, st.mode)
	b.u32(20, st.nlink)
	b.u32(24, st.uid)
	b.u32(28, st.gid)
	b.u64(32, st.rdev)
	b.u64(44, st.size)
	b.u32(52, uint32(st.blksize))
	b.u64(56, st.blocks)
	for i, ns := range []int64{st.atime, st.mtime, st.ctime} {
		s, n := secs(ns)
		b.u32(64+8*i, uint32(s))
		b.u32(68+8*i, uint32(n))
	}
	b.u64(88, st.ino)
	return b.b
}

// statx mask bits for what encodeStatx fills in (STATX_BASIC_STATS).
const statxBasicStats = 0x7ff

// encodeStatx lays out struct statx (256 bytes), identical on both ABIs.
func encodeStatx(st fileStat) []byte {
	b := newStruct(256)
	b.u32(0, statxBasicStats)
	b.u32(4, uint32(st.blksize))
	b.u32(16, st.nlink)
	b.u32(20, st.uid)
	b.u32(24, st.gid)
	b.u16(28, uint16(st.mode))
	b.u64(32, st.ino)
	b.u64(40, st.size)
	b.u64(48, st.blocks)
	// atime 64, btime 80 (not reported), ctime 96, mtime 112.
	for _, f := range []struct {
		off int
		ns  int64
	}{{64, st.atime}, {96, st.ctime}, {112, st.mtime}} {
		s, n := secs(f.ns)
		b.u64(f.off, s)
		b.u32(f.off+8, uint32(n))
	}
	b.u32(128, uint32(st.rdev>>8))
	b.u32(132, uint32(st.rdev&0xff))
	b.u32(136, uint32(st.dev>>8))
	b.u32(140, uint32(st.dev&0xff))
	return b.b
}

func (k *Kernel) putStat(addr uint64, st fileStat, e syscall.Errno, enc func(fileStat) []byte) (uint64, Result) {
	if e != 0 {
		return fail(e)
	}
	if e := k.writeBytes(addr, enc(st)); e != 0 {
		return fail(e)
	}
	return ok0()
}

func sysFstat(k *Kernel, t *Task, a Args) (uint64, Result) {
	st, e := k.statFD(t, a[0])
	return k.putStat(a[1], st, e, encodeStat)
}

func sysNewfstatat(k *Kernel, t *Task, a Args) (uint64, Result) {
	st, e := k.statAt(t, a[0], a[1], a[3])
	return k.putStat(a[2], st, e, encodeStat)
}

func sysFstat64(k *Kernel, t *Task, a Args) (uint64, Result) {
	st, e := k.statFD(t, a[0])
	return k.putStat(a[1], st, e, encodeStat64)
}

func sysFstatat64(k *Kernel, t *Task, a Args) (uint64, Result) {
	st, e := k.statAt(t, a[0], a[1], a[3])
	return k.putStat(a[2], st, e, encodeStat64)
}

// sysStat, sysLstat (x86-64) and sysStat64, sysLstat64 (i386) are the
// path forms relative to the working directory.
func sysStat(k *Kernel, t *Task, a Args) (uint64, Result) {
	st, e := k.statAt(t, atFDCWDArg, a[0], 0)
	return k.putStat(a[1], st, e, encodeStat)
}

func sysLstat(k *Kernel, t *Task, a Args) (uint64, Result) {
	st, e := k.statAt(t, atFDCWDArg, a[0], atSymlinkNofollow)
	return k.putStat(a[1], st, e, encodeStat)
}

func sysStat64(k *Kernel, t *Task, a Args) (uint64, Result) {
	st, e := k.statAt(t, atFDCWDArg, a[0], 0)
	return k.putStat(a[1], st, e, encodeStat64)
}

func sysLstat64(k *Kernel, t *Task, a Args) (uint64, Result) {
	st, e := k.statAt(t, atFDCWDArg, a[0], atSymlinkNofollow)
	return k.putStat(a[1], st, e, encodeStat64)
}

// sysStatx is statx(dirfd, path, flags, mask, buf).
func sysStatx(k *Kernel, t *Task, a Args) (uint64, Result) {
	st, e := k.statAt(t, a[0], a[1], a[2])
	return k.putStat(a[4], st, e, encodeStatx)
}
