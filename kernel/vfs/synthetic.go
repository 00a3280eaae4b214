package vfs

import "syscall"

// Synthetic nodes: the kernel's own files (procfs, device files, sysfs),
// made with these constructors and put into the view with Attach or
// AddChild. They live in memory; their contents come from the kernel.

// DynDir is a directory whose entries the kernel produces when asked
// (/proc/<pid>/fd). Lookup returns nil for a name that does not exist;
// it must return the same node for the same name while the entry exists,
// so that inode numbers stay put (DynCache helps).
type DynDir interface {
	List() []string
	Lookup(name string) *Node
}

// NewDir makes an empty in-memory directory on device dev.
func (f *FS) NewDir(name string, perm uint32, dev uint64) *Node {
	n := f.newNode(nil, name, S_IFDIR|perm, &mount{dev: dev})
	n.uid, n.gid = 0, 0
	n.populated, n.children = true, map[string]*Node{}
	return n
}

// NewDynDir makes a directory whose entries d produces.
func (f *FS) NewDynDir(name string, perm uint32, dev uint64, d DynDir) *Node {
	n := f.newNode(nil, name, S_IFDIR|perm, &mount{dev: dev})
	n.uid, n.gid = f.cfg.UID, f.cfg.GID
	n.dyn, n.populated = d, true
	return n
}

// NewGenerated makes a read-only file whose contents gen produces at
// every open, as a procfs file's show function does.
func (f *FS) NewGenerated(name string, perm uint32, dev uint64, gen func() []byte) *Node {
	n := f.newNode(nil, name, S_IFREG|perm, &mount{dev: dev})
	n.uid, n.gid = 0, 0
	n.gen = gen
	return n
}

// NewLink makes a symlink whose target link produces at every readlink.
func (f *FS) NewLink(name string, dev uint64, link func() string) *Node {
	n := f.newNode(nil, name, S_IFLNK|0o777, &mount{dev: dev})
	n.uid, n.gid = 0, 0
	n.link = link
	return n
}

// NewMagicLink makes a procfs magic link: readlink gives text, and path
// resolution through it lands on the node target returns (nil: ENOENT),
// as following /proc/<pid>/fd/N reaches the open file even when its path
// is gone.
func (f *FS) NewMagicLink(name string, dev uint64, text func() string, target func() *Node) *Node {
	n := f.NewLink(name, dev, text)
	n.magic = target
	return n
}

// NewFIFO makes a FIFO node that no directory holds, for the kernel's
// anonymous pipes (what /proc/<pid>/fd/N of a pipe lands on).
func (f *FS) NewFIFO(name string, dev uint64) *Node {
	n := f.newNode(nil, name, S_IFIFO|0o600, &mount{dev: dev})
	n.removed = true
	return n
}

// NewSocket makes a socket node that no directory holds, for the kernel's
// sockets (what /proc/<pid>/fd/N of a socket lands on; opening it is
// ENXIO, as for any socket inode).
func (f *FS) NewSocket(name string, dev uint64) *Node {
	n := f.newNode(nil, name, S_IFSOCK|0o777, &mount{dev: dev})
	n.removed = true
	return n
}

// NewDevice makes a character device; open produces what an open of it
// gives the kernel (Device).
func (f *FS) NewDevice(name string, perm uint32, rdev uint64, open func() (any, syscall.Errno)) *Node {
	n := f.newNode(nil, name, S_IFCHR|perm, &mount{dev: DevDev})
	n.uid, n.gid = 0, 0
	n.rdev, n.open = rdev, open
	return n
}

// SetOwner makes a synthetic node owned by the guest (a /proc/<pid> entry).
func (n *Node) SetOwner(uid, gid uint32) { n.uid, n.gid = uid, gid }

// AddChild puts c into the in-memory directory n.
func (n *Node) AddChild(c *Node) {
	n.children[c.name] = c
	c.parent = n
	if c.IsDir() {
		n.nlink++
	}
}

// DynCache keeps the nodes a DynDir made, by name.
type DynCache struct {
	nodes map[string]*Node
}

// Get returns the cached node for name, making it with mk the first time.
func (c *DynCache) Get(name string, mk func() *Node) *Node {
	if n, ok := c.nodes[name]; ok {
		return n
	}
	if c.nodes == nil {
		c.nodes = map[string]*Node{}
	}
	n := mk()
	c.nodes[name] = n
	return n
}

// Forget drops the cached node for name (its entry went away).
func (c *DynCache) Forget(name string) { delete(c.nodes, name) }
