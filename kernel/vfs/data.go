package vfs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"syscall"
)

// maxFileSize bounds a file the guest makes in memory (the overlay is host
// memory): larger writes or truncations fail with EFBIG, as a file past
// RLIMIT_FSIZE would.
const maxFileSize = 4 << 30

// ReadAt reads a regular file's contents at off.
func (f *FS) ReadAt(n *Node, p []byte, off int64) (int, syscall.Errno) {
	if !n.IsRegular() {
		return 0, syscall.EINVAL
	}
	if n.hostRW {
		fd, err := os.Open(n.host)
		if err != nil {
			return 0, hostErrno(err)
		}
		defer fd.Close()
		m, err := fd.ReadAt(p, off)
		if m == 0 && err != nil && !errors.Is(err, io.EOF) {
			return 0, hostErrno(err)
		}
		return m, 0
	}
	if e := n.load(); e != 0 {
		return 0, e
	}
	if off >= int64(len(n.data)) {
		return 0, 0
	}
	n.atime = f.cfg.Now()
	return copy(p, n.data[off:]), 0
}

// WriteAt writes a regular file's contents at off, growing it.
func (f *FS) WriteAt(n *Node, p []byte, off int64) (int, syscall.Errno) {
	if !n.IsRegular() {
		return 0, syscall.EINVAL
	}
	end := off + int64(len(p))
	if end > maxFileSize || end < off {
		return 0, syscall.EFBIG
	}
	f.touch(n)
	if n.hostRW {
		fd, err := os.OpenFile(n.host, os.O_WRONLY, 0)
		if err != nil {
			return 0, hostErrno(err)
		}
		defer fd.Close()
		m, err := fd.WriteAt(p, off)
		if err != nil && m == 0 {
			return 0, hostErrno(err)
		}
		return m, 0
	}
	if e := n.copyUp(); e != 0 {
		return 0, e
	}
	if end > int64(len(n.data)) {
		if end > int64(cap(n.data)) {
			grown := make([]byte, end, max(end, 2*int64(cap(n.data))))
			copy(grown, n.data)
			n.data = grown
		} else {
			n.data = n.data[:end]
		}
	}
	return copy(n.data[off:], p), 0
}

// Truncate sets a regular file's size.
func (f *FS) Truncate(n *Node, size int64) syscall.Errno {
	if n.IsDir() {
		return syscall.EISDIR
	}
	if !n.IsRegular() {
		return syscall.EINVAL
	}
	if size < 0 {
		return syscall.EINVAL
	}
	if size > maxFileSize {
		return syscall.EFBIG
	}
	f.touch(n)
	if n.hostRW {
		return hostErrno0(os.Truncate(n.host, size))
	}
	if e := n.copyUp(); e != 0 {
		return e
	}
	if size <= int64(len(n.data)) {
		clear(n.data[size:])
		n.data = n.data[:size]
		return 0
	}
	grown := make([]byte, size)
	copy(grown, n.data)
	n.data = grown
	return 0
}

func hostErrno0(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	return hostErrno(err)
}

// Stat is what stat(2) reports about a node.
type Stat struct {
	Mode                uint32
	Ino, Dev, Rdev      uint64
	Nlink               uint32
	UID, GID            uint32
	Size, Blocks        int64
	Blksize             int64
	Atime, Mtime, Ctime int64 // nanoseconds since 1970
}

// Stat describes n.
func (f *FS) Stat(n *Node) Stat {
	st := Stat{Mode: n.mode, Ino: n.ino, Dev: n.dev, Rdev: n.rdev, Nlink: n.nlink, UID: n.uid, GID: n.gid,
		Size: n.Size(), Blksize: 4096, Atime: n.atime, Mtime: n.mtime, Ctime: n.ctime}
	if n.IsDir() {
		st.Size = 4096
		if n.dyn != nil || n.mount != nil && (n.dev == DevProc || n.dev == DevSys) {
			st.Size = 0
		}
	}
	if n.gen != nil {
		st.Size = 0       // procfs files report 0, as fs/proc does,
		st.Blksize = 1024 // and a block size of 1 KiB
	}
	if n.IsRegular() || n.IsDir() {
		// Whole 4 KiB blocks, as ext4 and tmpfs allocate them (a file
		// is taken as not sparse), in 512-byte units.
		st.Blocks = (st.Size + 4095) / 4096 * 8
	}
	return st
}

// Chmod sets n's permission bits (the owner, or root, may).
func (f *FS) Chmod(n *Node, perm uint32) syscall.Errno {
	if f.cfg.UID != 0 && n.uid != f.cfg.UID {
		return syscall.EPERM
	}
	if n.hostRW {
		if err := os.Chmod(n.host, os.FileMode(perm&0o777)); err != nil {
			return hostErrno(err)
		}
	}
	n.mode = n.mode&S_IFMT | perm&0o7777
	n.ctime = f.cfg.Now()
	return 0
}

// Chown changes n's owner; an unprivileged guest may only give a file it
// owns to one of its own groups, which here means changing nothing.
func (f *FS) Chown(n *Node, uid, gid int64) syscall.Errno {
	if f.cfg.UID != 0 {
		if n.uid != f.cfg.UID || uid != -1 && uint32(uid) != n.uid || gid != -1 && uint32(gid) != f.cfg.GID {
			return syscall.EPERM
		}
	}
	if uid != -1 {
		n.uid = uint32(uid)
	}
	if gid != -1 {
		n.gid = uint32(gid)
	}
	n.ctime = f.cfg.Now()
	return 0
}

// SetTimes sets n's access and modification times (nanoseconds; -1 keeps
// one); the owner may set any time, others with write access only now.
func (f *FS) SetTimes(n *Node, atime, mtime int64, now bool) syscall.Errno {
	if f.cfg.UID != 0 && n.uid != f.cfg.UID {
		if !now {
			return syscall.EPERM
		}
		if e := f.permission(n, mayWrite); e != 0 {
			return e
		}
	}
	if atime >= 0 {
		n.atime = atime
	}
	if mtime >= 0 {
		n.mtime = mtime
	}
	n.ctime = f.cfg.Now()
	return 0
}

// SHA256 is the hex SHA-256 of a regular file's contents as the guest
// sees them now (the host's, as first read, while the file is unchanged).
func (f *FS) SHA256(n *Node) string {
	if n.host != "" && n.hostLoaded {
		return n.hostSum
	}
	h := sha256.New()
	buf := make([]byte, 64<<10)
	for off := int64(0); ; {
		m, e := f.ReadAt(n, buf, off)
		h.Write(buf[:m])
		off += int64(m)
		if e != 0 || m < len(buf) {
			break
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Reader returns an io.ReaderAt over a regular file of the view, for
// readers outside the kernel (the ELF loader, the probes' symbol tables):
// a short read is io.EOF, a failed one its errno.
func (f *FS) Reader(n *Node) io.ReaderAt { return nodeReader{f, n} }

type nodeReader struct {
	fs *FS
	n  *Node
}

func (r nodeReader) ReadAt(p []byte, off int64) (int, error) {
	n, e := r.fs.ReadAt(r.n, p, off)
	if e != 0 {
		return n, e
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
