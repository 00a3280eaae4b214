package kernel

import (
	"strings"
	"syscall"

	"github.com/probesim/probesim/kernel/vfs"
)

// FSContext is a task's place in the filesystem view (struct fs_struct):
// its working directory and umask, shared by tasks created with CLONE_FS
// and copied for the others. The root is the view's root for every task
// (chroot is not modelled).
type FSContext struct {
	refs  int
	cwd   *vfs.Node
	umask uint32
}

func (c *FSContext) incRef() *FSContext {
	c.refs++
	return c
}

func (c *FSContext) fork() *FSContext { return &FSContext{refs: 1, cwd: c.cwd, umask: c.umask} }

// *at flags (include/uapi/linux/fcntl.h).
const (
	atFDCWD           = -100
	atSymlinkNofollow = 0x100
	atRemovedir       = 0x200
	atEaccess         = 0x200
	atSymlinkFollow   = 0x400
	atNoAutomount     = 0x800
	atEmptyPth        = 0x1000
	atStatxSyncMask   = 0x6000
	// atFDCWDArg is AT_FDCWD as a syscall argument (the *at calls take
	// an int: only its low 32 bits count).
	atFDCWDArg = 0xffffff9c
)

// startDir is where a *at syscall's relative path starts: the working
// directory for AT_FDCWD, else the directory open at dirfd.
func (t *Task) startDir(dirfd uint64, path string) (*vfs.Node, syscall.Errno) {
	if strings.HasPrefix(path, "/") {
		return nil, 0
	}
	if int32(dirfd) == atFDCWD {
		return t.fsc.cwd, 0
	}
	f := t.files.Get(uint64(uint32(dirfd)))
	if f == nil {
		return nil, syscall.EBADF
	}
	n := fileNode(f)
	if n == nil || !n.IsDir() {
		return nil, syscall.ENOTDIR
	}
	return n, 0
}

// lookupAt resolves path from dirfd, following a final symlink if follow.
func (t *Task) lookupAt(dirfd uint64, path string, follow bool) (*vfs.Node, syscall.Errno) {
	start, e := t.startDir(dirfd, path)
	if e != 0 {
		return nil, e
	}
	return t.k.fs.Lookup(start, path, follow)
}

// parentAt resolves all of path but its last component from dirfd.
func (t *Task) parentAt(dirfd uint64, path string) (*vfs.Node, string, bool, syscall.Errno) {
	start, e := t.startDir(dirfd, path)
	if e != 0 {
		return nil, "", false, e
	}
	return t.k.fs.LookupParent(start, path)
}

// pathArg reads a path argument: EFAULT for a bad pointer, ENAMETOOLONG
// past PATH_MAX, ENOENT for an empty path.
func (k *Kernel) pathArg(addr uint64) (string, syscall.Errno) {
	p, e := k.readPath(addr)
	if e != 0 {
		return "", e
	}
	if p == "" {
		return "", syscall.ENOENT
	}
	return p, 0
}

// lookupPathArg reads the path at addr and resolves it from dirfd,
// following a final symbolic link.
func (t *Task) lookupPathArg(dirfd, addr uint64) (*vfs.Node, syscall.Errno) {
	path, e := t.k.pathArg(addr)
	if e != 0 {
		return nil, e
	}
	return t.lookupAt(dirfd, path, true)
}

// fileNode is the view node an open description refers to, or nil.
func fileNode(f *FileDescription) *vfs.Node {
	if nf, ok := f.impl.(interface{ node() *vfs.Node }); ok {
		return nf.node()
	}
	return nil
}
