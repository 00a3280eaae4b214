package vfs

import (
	"os"
	"path/filepath"
	"syscall"
)

// Changes to the view. Each follows the checks of its fs/namei.c
// counterpart (may_create, may_delete): the directory must be searchable
// and writable, the sticky bit restricts deletion to the owner, a removed
// directory takes no new entries. In a read-write mount the change is made
// on the host first, and fails with the host's errno.

// checkCreate is may_create.
func (f *FS) checkCreate(dir *Node, name string) syscall.Errno {
	if !dir.IsDir() {
		return syscall.ENOTDIR
	}
	if dir.removed {
		return syscall.ENOENT
	}
	if dir.dyn != nil || dir.gen != nil {
		return syscall.EACCES
	}
	if name == "." || name == ".." {
		return syscall.EEXIST
	}
	if c, e := dir.child(name); e != 0 {
		return e
	} else if c != nil {
		return syscall.EEXIST
	}
	return f.permission(dir, mayWrite|mayExec)
}

// link puts n into dir under name and copies dir up.
func (f *FS) link(dir *Node, name string, n *Node) {
	dir.copyUp()
	n.parent, n.name = dir, name
	dir.children[name] = n
	if n.IsDir() {
		dir.nlink++
	}
	f.touch(dir)
}

func (f *FS) touch(n *Node) {
	now := f.cfg.Now()
	n.mtime, n.ctime = now, now
}

// hostChild is the host path of name in a read-write mount's dir.
func hostChild(dir *Node, name string) string {
	if !dir.hostRW || dir.host == "" {
		return ""
	}
	return filepath.Join(dir.host, name)
}

// Create makes a regular file (S_IFREG), FIFO or socket node name in dir
// with permission bits perm (already masked by the umask).
func (f *FS) Create(dir *Node, name string, mode uint32) (*Node, syscall.Errno) {
	if e := f.checkCreate(dir, name); e != 0 {
		return nil, e
	}
	if mode&S_IFMT == 0 {
		mode |= S_IFREG
	}
	n := f.newNode(dir, name, mode, dir.mount)
	if h := hostChild(dir, name); h != "" {
		if mode&S_IFMT != S_IFREG {
			return nil, syscall.EPERM
		}
		fd, err := os.OpenFile(h, os.O_CREATE|os.O_EXCL|os.O_WRONLY, os.FileMode(mode&0o777))
		if err != nil {
			return nil, hostErrno(err)
		}
		fd.Close()
		n.host, n.hostRW = h, true
	}
	n.gid = f.cfg.GID
	if dir.mode&0o2000 != 0 { // setgid directory
		n.gid = dir.gid
	}
	f.link(dir, name, n)
	return n, 0
}

// TempFile makes an unnamed regular file in dir (O_TMPFILE).
func (f *FS) TempFile(dir *Node, perm uint32) (*Node, syscall.Errno) {
	if !dir.IsDir() {
		return nil, syscall.ENOTDIR
	}
	if e := f.permission(dir, mayWrite|mayExec); e != 0 {
		return nil, e
	}
	if dir.hostRW {
		return nil, syscall.EOPNOTSUPP
	}
	n := f.newNode(dir, "#tmpfile", S_IFREG|perm, dir.mount)
	n.removed, n.nlink = true, 0
	return n, 0
}

// Mkdir makes a directory.
func (f *FS) Mkdir(dir *Node, name string, perm uint32) (*Node, syscall.Errno) {
	if e := f.checkCreate(dir, name); e != 0 {
		return nil, e
	}
	n := f.newNode(dir, name, S_IFDIR|perm, dir.mount)
	if h := hostChild(dir, name); h != "" {
		if err := os.Mkdir(h, os.FileMode(perm)); err != nil {
			return nil, hostErrno(err)
		}
		n.host, n.hostRW = h, true
	}
	n.populated, n.children = true, map[string]*Node{}
	if dir.mode&0o2000 != 0 {
		n.gid, n.mode = dir.gid, n.mode|0o2000
	}
	f.link(dir, name, n)
	return n, 0
}

// Symlink makes a symbolic link to target.
func (f *FS) Symlink(dir *Node, name, target string) (*Node, syscall.Errno) {
	if e := f.checkCreate(dir, name); e != 0 {
		return nil, e
	}
	if target == "" {
		return nil, syscall.ENOENT
	}
	n := f.newNode(dir, name, S_IFLNK|0o777, dir.mount)
	n.target = target
	if h := hostChild(dir, name); h != "" {
		if err := os.Symlink(target, h); err != nil {
			return nil, hostErrno(err)
		}
		n.host, n.hostRW = h, true
	}
	f.link(dir, name, n)
	return n, 0
}

// Link gives n a second name (link(2)); directories cannot be linked.
func (f *FS) Link(n, dir *Node, name string) syscall.Errno {
	if n.IsDir() {
		return syscall.EPERM
	}
	if e := f.checkCreate(dir, name); e != 0 {
		return e
	}
	if n.mount != dir.mount {
		return syscall.EXDEV
	}
	if n.removed && n.nlink == 0 {
		return syscall.ENOENT
	}
	if h := hostChild(dir, name); h != "" {
		if err := os.Link(n.host, h); err != nil {
			return hostErrno(err)
		}
	} else if e := n.copyUp(); e != 0 {
		return e
	}
	dir.copyUp()
	dir.children[name] = n
	n.nlink++
	n.ctime = f.cfg.Now()
	f.touch(dir)
	return 0
}

// checkDelete is may_delete for child c of dir.
func (f *FS) checkDelete(dir *Node, c *Node) syscall.Errno {
	if dir.dyn != nil {
		return syscall.EACCES
	}
	if e := f.permission(dir, mayWrite|mayExec); e != 0 {
		return e
	}
	if dir.mode&0o1000 != 0 && f.cfg.UID != 0 && c.uid != f.cfg.UID && dir.uid != f.cfg.UID {
		return syscall.EPERM
	}
	return 0
}

// Unlink removes the non-directory name from dir.
func (f *FS) Unlink(dir *Node, name string) syscall.Errno {
	c, e := dir.child(name)
	if e != 0 {
		return e
	}
	if c == nil {
		return syscall.ENOENT
	}
	if c.IsDir() {
		return syscall.EISDIR
	}
	if e := f.checkDelete(dir, c); e != 0 {
		return e
	}
	if h := hostChild(dir, name); h != "" {
		if err := os.Remove(h); err != nil {
			return hostErrno(err)
		}
	}
	f.unlinkChild(dir, name, c)
	return 0
}

func (f *FS) unlinkChild(dir *Node, name string, c *Node) {
	dir.copyUp()
	delete(dir.children, name)
	c.nlink--
	if c.IsDir() {
		dir.nlink--
		c.nlink = 0
	}
	if c.nlink == 0 || c.IsDir() {
		c.removed = true
	}
	c.ctime = f.cfg.Now()
	f.touch(dir)
}

// Rmdir removes the empty directory name from dir.
func (f *FS) Rmdir(dir *Node, name string) syscall.Errno {
	if name == "." {
		return syscall.EINVAL
	}
	if name == ".." {
		return syscall.ENOTEMPTY
	}
	c, e := dir.child(name)
	if e != 0 {
		return e
	}
	if c == nil {
		return syscall.ENOENT
	}
	if !c.IsDir() {
		return syscall.ENOTDIR
	}
	if e := f.checkDelete(dir, c); e != 0 {
		return e
	}
	if c.mount != dir.mount || c == f.root {
		return syscall.EBUSY
	}
	if ents, e := c.Entries(); e != 0 {
		return e
	} else if len(ents) > 0 {
		return syscall.ENOTEMPTY
	}
	if h := hostChild(dir, name); h != "" {
		if err := os.Remove(h); err != nil {
			return hostErrno(err)
		}
	}
	f.unlinkChild(dir, name, c)
	return 0
}

// Rename flags (include/uapi/linux/fs.h).
const (
	RenameNoReplace = 1
	RenameExchange  = 2
)

// Rename moves oldName of oldDir to newName of newDir (renameat2).
func (f *FS) Rename(oldDir *Node, oldName string, newDir *Node, newName string, flags uint32) syscall.Errno {
	if flags&^(RenameNoReplace|RenameExchange) != 0 || flags == RenameNoReplace|RenameExchange {
		return syscall.EINVAL
	}
	for _, n := range []string{oldName, newName} {
		if n == "." || n == ".." {
			return syscall.EBUSY
		}
	}
	src, e := oldDir.child(oldName)
	if e != 0 {
		return e
	}
	if src == nil {
		return syscall.ENOENT
	}
	if !newDir.IsDir() {
		return syscall.ENOTDIR
	}
	if newDir.removed {
		return syscall.ENOENT
	}
	if oldDir.mount != newDir.mount || src.mount != oldDir.mount {
		return syscall.EXDEV
	}
	if e := f.checkDelete(oldDir, src); e != 0 {
		return e
	}
	if e := f.permission(newDir, mayWrite|mayExec); e != 0 {
		return e
	}
	// A directory cannot move below itself.
	for d := newDir; ; d = d.parent {
		if d == src {
			return syscall.EINVAL
		}
		if d.parent == nil {
			break
		}
	}
	dst, e := newDir.child(newName)
	if e != 0 {
		return e
	}
	if dst == src {
		return 0
	}
	if dst != nil {
		if flags&RenameNoReplace != 0 {
			return syscall.EEXIST
		}
		if flags&RenameExchange == 0 {
			switch {
			case src.IsDir() && !dst.IsDir():
				return syscall.ENOTDIR
			case !src.IsDir() && dst.IsDir():
				return syscall.EISDIR
			case dst.IsDir():
				if ents, _ := dst.Entries(); len(ents) > 0 {
					return syscall.ENOTEMPTY
				}
			}
		}
	} else if flags&RenameExchange != 0 {
		return syscall.ENOENT
	}
	if oh, nh := hostChild(oldDir, oldName), hostChild(newDir, newName); oh != "" {
		if err := os.Rename(oh, nh); err != nil {
			return hostErrno(err)
		}
	}
	oldDir.copyUp()
	newDir.copyUp()
	if flags&RenameExchange != 0 {
		oldDir.children[oldName], newDir.children[newName] = dst, src
		dst.parent, dst.name = oldDir, oldName
		src.parent, src.name = newDir, newName
		return 0
	}
	if dst != nil {
		f.unlinkChild(newDir, newName, dst)
	}
	delete(oldDir.children, oldName)
	if src.IsDir() {
		oldDir.nlink--
		newDir.nlink++
	}
	newDir.children[newName] = src
	src.parent, src.name = newDir, newName
	if src.hostRW {
		rehost(src, hostChild(newDir, newName))
	}
	src.ctime = f.cfg.Now()
	f.touch(oldDir)
	f.touch(newDir)
	return 0
}

// rehost gives a renamed node of a read-write mount, and what of its tree
// was listed, its new host paths.
func rehost(n *Node, host string) {
	n.host = host
	for name, c := range n.children {
		if c.hostRW {
			rehost(c, filepath.Join(host, name))
		}
	}
}
