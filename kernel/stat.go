package kernel

import "syscall"

// fileStat is the subset of struct kstat probesim reports.
type fileStat struct {
	mode    uint32
	uid     uint32 // owner: the guest itself (pipe inodes get current_fsuid(),
	gid     uint32 // /proc/self files the task's euid and egid)
	size    uint64
	blksize uint64
	ino     uint64
	dev     uint64
	rdev    uint64
}

const (
	sIFIFO = 0o010000
	sIFREG = 0o100000
)

// pipefsDev is the device number of pipefs on a typical system; the standard
// descriptors report it so that they look like the pipes they pretend to be.
const pipefsDev = 0x0d

func (k *Kernel) statFD(t *Task, fd uint64) (fileStat, syscall.Errno) {
	f := t.files.Get(fd)
	if f == nil {
		return fileStat{}, syscall.EBADF
	}
	st := f.impl.Stat()
	id := uint32(k.cfg.UID) // getgid reports the uid too
	st.uid, st.gid = id, id
	return st, 0
}

// statAt resolves the (dirfd, path, flags) triple of the *at calls. Only
// AT_EMPTY_PATH on an open descriptor names something that exists.
func (k *Kernel) statAt(t *Task, dirfd, pathAddr, flags uint64) (fileStat, syscall.Errno) {
	path, e := k.readPath(pathAddr)
	if e != 0 {
		return fileStat{}, e
	}
	if path == "" {
		if flags&atEmptyPth == 0 {
			return fileStat{}, syscall.ENOENT
		}
		return k.statFD(t, dirfd)
	}
	return fileStat{}, syscall.ENOENT
}

// encodeStat lays out x86-64 struct stat (144 bytes).
func encodeStat(st fileStat) []byte {
	b := newStruct(144)
	b.u64(0, st.dev)
	b.u64(8, st.ino)
	b.u64(16, 1) // st_nlink
	b.u32(24, st.mode)
	b.u32(28, st.uid)
	b.u32(32, st.gid)
	b.u64(40, st.rdev)
	b.u64(48, st.size)
	b.u64(56, st.blksize)
	return b.b
}

// encodeStat64 lays out i386 struct stat64 (96 bytes).
func encodeStat64(st fileStat) []byte {
	b := newStruct(96)
	b.u64(0, st.dev)
	b.u32(12, uint32(st.ino))
	b.u32(16, st.mode)
	b.u32(20, 1) // st_nlink
	b.u32(24, st.uid)
	b.u32(28, st.gid)
	b.u64(32, st.rdev)
	b.u64(44, st.size)
	b.u32(52, uint32(st.blksize))
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
	b.u32(16, 1) // stx_nlink
	b.u32(20, st.uid)
	b.u32(24, st.gid)
	b.u16(28, uint16(st.mode))
	b.u64(32, st.ino)
	b.u64(40, st.size)
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

// sysStatx is statx(dirfd, path, flags, mask, buf).
func sysStatx(k *Kernel, t *Task, a Args) (uint64, Result) {
	st, e := k.statAt(t, a[0], a[1], a[2])
	return k.putStat(a[4], st, e, encodeStatx)
}
