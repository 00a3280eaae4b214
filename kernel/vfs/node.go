package vfs

import (
	"sort"
	"syscall"
)

// File types (S_IFMT values of include/uapi/linux/stat.h).
const (
	S_IFMT   = 0o170000
	S_IFSOCK = 0o140000
	S_IFLNK  = 0o120000
	S_IFREG  = 0o100000
	S_IFBLK  = 0o060000
	S_IFDIR  = 0o040000
	S_IFCHR  = 0o020000
	S_IFIFO  = 0o010000
)

// Node is a file of the view: a directory, a regular file, a symlink, a
// device, a FIFO. Its contents are in memory (data, children), or still on
// the host (host set, not loaded yet), or produced by the kernel (gen, dyn).
type Node struct {
	fs     *FS
	name   string
	parent *Node // nil for the root; a removed node keeps its last parent
	mount  *mount

	mode       uint32 // S_IF* | permission bits
	uid, gid   uint32
	ino, dev   uint64
	rdev       uint64
	nlink      uint32
	atime      int64 // nanoseconds since 1970
	mtime      int64
	ctime      int64
	removed    bool // unlinked: still usable through open descriptions
	hostLoaded bool
	hostSum    string // the SHA-256 of the host contents load read

	// host is the host path behind the node ("" = none). A regular file's
	// contents are read from it on first use (load); a directory's
	// entries are listed from it on first lookup (populate).
	host string
	// hostRW: the node lies in a read-write mount: changes go to host.
	hostRW bool

	data   []byte // a regular file's contents, once in memory
	target string // a symlink's target

	// Directories.
	children  map[string]*Node // nil until populated
	populated bool

	// Synthetic nodes (synthetic.go).
	gen     func() []byte               // a file whose contents are produced at open
	link    func() string               // a symlink whose target is produced at readlink
	magic   func() *Node                // a procfs magic link: where following it lands
	dyn     DynDir                      // a directory whose entries are produced
	Private any                         // the kernel's own data for a synthetic node
	open    func() (any, syscall.Errno) // a device: what an open returns (Open)
}

// Name is the node's last path component.
func (n *Node) Name() string { return n.name }

// Mode is the node's type and permission bits.
func (n *Node) Mode() uint32 { return n.mode }

// IsDir reports whether the node is a directory.
func (n *Node) IsDir() bool { return n.mode&S_IFMT == S_IFDIR }

// IsRegular reports whether the node is a regular file.
func (n *Node) IsRegular() bool { return n.mode&S_IFMT == S_IFREG }

// IsSymlink reports whether the node is a symbolic link.
func (n *Node) IsSymlink() bool { return n.mode&S_IFMT == S_IFLNK }

// Ino is the node's inode number.
func (n *Node) Ino() uint64 { return n.ino }

// Parent is the directory that holds the node (the root is its own).
func (n *Node) Parent() *Node {
	if n.parent == nil {
		return n
	}
	return n.parent
}

// Removed reports whether the node was unlinked.
func (n *Node) Removed() bool { return n.removed }

// Path is the node's guest path as it is now ("/" for the root).
func (n *Node) Path() string {
	if n.parent == nil {
		return "/"
	}
	var parts []string
	for c := n; c.parent != nil; c = c.parent {
		parts = append(parts, c.name)
	}
	p := ""
	for i := len(parts) - 1; i >= 0; i-- {
		p += "/" + parts[i]
	}
	return p
}

// child returns the entry name of directory n, or nil.
func (n *Node) child(name string) (*Node, syscall.Errno) {
	if n.dyn != nil {
		c := n.dyn.Lookup(name)
		if c != nil {
			c.parent = n
		}
		return c, 0
	}
	if e := n.populate(); e != 0 {
		return nil, e
	}
	return n.children[name], 0
}

// Dirent is one directory entry.
type Dirent struct {
	Name string
	Ino  uint64
	Type uint8 // DT_* (the S_IF* type >> 12)
}

// Entries lists directory n, sorted by name, without "." and "..".
func (n *Node) Entries() ([]Dirent, syscall.Errno) {
	if !n.IsDir() {
		return nil, syscall.ENOTDIR
	}
	if n.removed {
		return nil, 0 // an rmdir'ed directory reads as empty
	}
	var out []Dirent
	if n.dyn != nil {
		for _, name := range n.dyn.List() {
			if c := n.dyn.Lookup(name); c != nil {
				out = append(out, Dirent{Name: name, Ino: c.ino, Type: uint8(c.mode >> 12 & 0xf)})
			}
		}
		return out, 0
	}
	if e := n.populate(); e != 0 {
		return nil, e
	}
	names := make([]string, 0, len(n.children))
	for name := range n.children {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c := n.children[name]
		out = append(out, Dirent{Name: name, Ino: c.ino, Type: uint8(c.mode >> 12 & 0xf)})
	}
	return out, 0
}

// Size is a regular file's size (a symlink's target length).
func (n *Node) Size() int64 {
	switch {
	case n.IsSymlink():
		return int64(len(n.target))
	case n.IsRegular():
		if n.host != "" && !n.hostLoaded {
			return n.fs.hostSize(n)
		}
		return int64(len(n.data))
	}
	return 0
}

// Readlink returns a symlink's target.
func (n *Node) Readlink() (string, syscall.Errno) {
	if !n.IsSymlink() {
		return "", syscall.EINVAL
	}
	if n.link != nil {
		return n.link(), 0
	}
	return n.target, 0
}

// Generated reports whether the node's contents are produced at open (a
// procfs file), and produces them.
func (n *Node) Generated() ([]byte, bool) {
	if n.gen == nil {
		return nil, false
	}
	return n.gen(), true
}

// Device returns what opening a device node gives (its Open function).
func (n *Node) Device() (func() (any, syscall.Errno), bool) { return n.open, n.open != nil }
