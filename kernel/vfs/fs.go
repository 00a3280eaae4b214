package vfs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Config describes a view.
type Config struct {
	// Root is the host directory the guest sees as "/" ("" = the host's
	// own root).
	Root string
	// Mounts bind host directories at guest paths, in order.
	Mounts []Mount
	// HostTimes shows host files' own timestamps instead of Epoch.
	HostTimes bool
	// Epoch is the timestamp of every host file (nanoseconds since 1970).
	Epoch int64
	// Now is the guest's wall clock in nanoseconds, for changes.
	Now func() int64
	// UID and GID are the guest's credentials; HostUID and HostGID the
	// invoking host user's, whose files appear as the guest's.
	UID, GID         uint32
	HostUID, HostGID int
}

// Mount binds the host directory Host at the guest path Guest. Without RW
// the host directory is read-only: the guest's changes go to the overlay.
type Mount struct {
	Host, Guest string
	RW          bool
}

// ParseMount reads "HOST:GUEST[:ro|rw]".
func ParseMount(s string) (Mount, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return Mount{}, fmt.Errorf("%q: want HOST:GUEST[:ro|rw]", s)
	}
	m := Mount{Host: parts[0], Guest: parts[1]}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
		case "rw":
			m.RW = true
		default:
			return Mount{}, fmt.Errorf("%q: mode %q: want ro or rw", s, parts[2])
		}
	}
	return m, nil
}

// mount is one host directory (or the kernel's own filesystem) in the view.
type mount struct {
	dev uint64
	rw  bool
}

// HostRead is a host file whose contents the guest read.
type HostRead struct {
	Path   string // the guest path it had when first read
	Size   int64
	SHA256 string
}

// FS is a view.
type FS struct {
	cfg       Config
	root      *Node
	inos      map[uint64]bool
	hostReads []HostRead
	nextDev   uint64
}

// Device numbers: the root's host directory looks like sda1, each bind
// mount the next partition; the kernel's filesystems have the numbers a
// Debian 12 system gives them.
const (
	devRoot  = 0x801
	DevTmpfs = 0x2e
	DevProc  = 0x16
	DevDev   = 0x05
	DevSys   = 0x15
)

// New builds the view; an unusable root or mount is a one-line error.
func New(cfg Config) (*FS, error) {
	if cfg.Root == "" {
		cfg.Root = "/"
	}
	if cfg.Now == nil {
		cfg.Now = func() int64 { return cfg.Epoch }
	}
	root, err := hostDir(cfg.Root)
	if err != nil {
		return nil, &ConfigError{"root", fmt.Errorf("%s: %w", cfg.Root, err)}
	}
	f := &FS{cfg: cfg, inos: map[uint64]bool{}, nextDev: devRoot + 1}
	f.root = f.newNode(nil, "", S_IFDIR|0o755, &mount{dev: devRoot})
	f.root.host = root
	f.hostAttrs(f.root)
	for _, m := range cfg.Mounts {
		if err := f.bind(m); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// NewEmpty builds a view whose root is an empty in-memory directory, with
// no host files at all (tests, and programs run without a host view).
func NewEmpty(cfg Config) *FS {
	if cfg.Now == nil {
		cfg.Now = func() int64 { return cfg.Epoch }
	}
	f := &FS{cfg: cfg, inos: map[uint64]bool{}, nextDev: devRoot + 1}
	f.root = f.newNode(nil, "", S_IFDIR|0o755, &mount{dev: devRoot})
	f.root.uid, f.root.gid = 0, 0
	f.root.populated, f.root.children = true, map[string]*Node{}
	return f
}

// SetClock sets the clock that timestamps the guest's changes.
func (f *FS) SetClock(now func() int64) { f.cfg.Now = now }

// AddFile puts a read-only regular file with data at the guest path p,
// making the directories above it in the overlay as needed (the program
// of a run from memory appears where its path says).
func (f *FS) AddFile(p string, data []byte, perm uint32) error {
	if !insideView(p) {
		return fmt.Errorf("%s: outside the view", p)
	}
	dir := f.root
	parts := strings.Split(strings.Trim(path.Clean(p), "/"), "/")
	for _, c := range parts[:len(parts)-1] {
		next, e := dir.child(c)
		if e != 0 {
			return e
		}
		if next == nil {
			next = f.newNode(dir, c, S_IFDIR|0o755, dir.mount)
			next.uid, next.gid = 0, 0
			next.populated, next.children = true, map[string]*Node{}
			f.link(dir, c, next)
		}
		if !next.IsDir() {
			return fmt.Errorf("%s: %s is not a directory", p, next.Path())
		}
		dir = next
	}
	name := parts[len(parts)-1]
	n := f.newNode(dir, name, S_IFREG|perm, dir.mount)
	n.uid, n.gid = 0, 0
	n.data = data
	f.link(dir, name, n)
	return nil
}

// hostDir checks that p is a host directory and returns its absolute path.
func hostDir(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", errors.New("no such directory")
		}
		return "", errors.Unwrap(err)
	}
	if !st.IsDir() {
		return "", errors.New("not a directory")
	}
	return abs, nil
}

func (f *FS) bind(m Mount) error {
	host, err := hostDir(m.Host)
	if err != nil {
		return &ConfigError{"mount", fmt.Errorf("%s: %w", m.Host, err)}
	}
	g := m.Guest
	if !insideView(g) {
		return &ConfigError{"mount", fmt.Errorf("target %s: outside the view (want an absolute path without . or ..)", m.Guest)}
	}
	n := f.newNode(nil, path.Base(g), S_IFDIR, &mount{dev: f.nextDev, rw: m.RW})
	f.nextDev++
	n.host, n.hostRW = host, m.RW
	f.hostAttrs(n)
	if path.Clean(g) == "/" {
		n.parent, n.name = nil, ""
		f.root = n
		return nil
	}
	if err := f.attach(path.Clean(g), n); err != nil {
		return &ConfigError{"mount", err}
	}
	return nil
}

// ConfigError is a root or mount the view cannot have; Field says which
// ("root" or "mount") and Err says why, in one line.
type ConfigError struct {
	Field string
	Err   error
}

func (e *ConfigError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// insideView reports whether g names a place in the view: absolute, with
// no "." or ".." component that could climb out of it.
func insideView(g string) bool {
	if !path.IsAbs(g) {
		return false
	}
	for _, c := range strings.Split(g, "/") {
		if c == "." || c == ".." {
			return false
		}
	}
	return true
}

// Attach puts n at the guest path p, over whatever was there (as a mount
// hides the directory below it). p's parent must be a directory of the
// view; n keeps its own entries.
func (f *FS) Attach(p string, n *Node) error { return f.attach(p, n) }

func (f *FS) attach(p string, n *Node) error {
	dirPath, name := path.Split(p)
	dir, e := f.lookup(f.root, dirPath, true, 0, false)
	if e != 0 || !dir.IsDir() {
		return fmt.Errorf("target %s: %s is not a directory in the view", p, path.Clean(dirPath))
	}
	if e := dir.populate(); e != 0 {
		return fmt.Errorf("target %s: %w", p, e)
	}
	if dir.dyn != nil {
		return fmt.Errorf("target %s: inside a kernel directory", p)
	}
	n.parent, n.name = dir, name
	dir.children[name] = n
	return nil
}

// Root is the view's root directory.
func (f *FS) Root() *Node { return f.root }

// HostReads lists the host files the guest read, in the order it first
// read them.
func (f *FS) HostReads() []HostRead { return append([]HostRead(nil), f.hostReads...) }

// newNode makes a node in dir (not linked into it) with a fresh inode.
func (f *FS) newNode(dir *Node, name string, mode uint32, m *mount) *Node {
	now := f.cfg.Now()
	n := &Node{fs: f, name: name, parent: dir, mode: mode, uid: f.cfg.UID, gid: f.cfg.GID,
		nlink: 1, atime: now, mtime: now, ctime: now, mount: m}
	if m != nil {
		n.dev = m.dev
	}
	if mode&S_IFMT == S_IFDIR {
		n.nlink = 2
	}
	p := name
	if dir != nil {
		p = path.Join(dir.Path(), name)
	}
	n.ino = f.allocIno(p)
	return n
}

// allocIno gives the inode number for a node first seen at guest path p:
// a hash of p, the next free number after it on a collision.
func (f *FS) allocIno(p string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(p))
	ino := h.Sum64()&0x7fffffff | 0x100 // 31 bits, never the reserved low numbers
	for f.inos[ino] {
		ino = (ino+1)&0x7fffffff | 0x100
	}
	f.inos[ino] = true
	return ino
}

// hostAttrs fills n's type, permissions, owner, link count and times from
// its host file (lstat).
func (f *FS) hostAttrs(n *Node) {
	st, err := os.Lstat(n.host)
	if err != nil {
		return
	}
	n.mode = uint32(unixMode(st))
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		n.uid, n.gid = f.mapUID(sys.Uid), f.mapGID(sys.Gid)
		n.nlink = uint32(sys.Nlink)
		n.rdev = uint64(sys.Rdev)
		if f.cfg.HostTimes {
			n.atime = sys.Atim.Sec*1e9 + sys.Atim.Nsec
			n.mtime = sys.Mtim.Sec*1e9 + sys.Mtim.Nsec
			n.ctime = sys.Ctim.Sec*1e9 + sys.Ctim.Nsec
		}
	}
	if !f.cfg.HostTimes {
		n.atime, n.mtime, n.ctime = f.cfg.Epoch, f.cfg.Epoch, f.cfg.Epoch
	}
	if n.IsSymlink() {
		n.target, _ = os.Readlink(n.host)
	}
}

func (f *FS) mapUID(u uint32) uint32 {
	if int(u) == f.cfg.HostUID {
		return f.cfg.UID
	}
	return u
}

func (f *FS) mapGID(g uint32) uint32 {
	if int(g) == f.cfg.HostGID {
		return f.cfg.GID
	}
	return g
}

// unixMode converts Go's FileMode to st_mode.
func unixMode(st fs.FileInfo) uint32 {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return sys.Mode
	}
	m := uint32(st.Mode().Perm())
	switch {
	case st.IsDir():
		m |= S_IFDIR
	case st.Mode()&fs.ModeSymlink != 0:
		m |= S_IFLNK
	default:
		m |= S_IFREG
	}
	return m
}

// populate lists a host directory into n.children, sorted, once.
func (n *Node) populate() syscall.Errno {
	if n.populated {
		return 0
	}
	n.populated = true
	n.children = map[string]*Node{}
	if n.host == "" {
		return 0
	}
	ents, err := os.ReadDir(n.host)
	if err != nil {
		return hostErrno(err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, name := range names {
		c := n.fs.newNode(n, name, 0, n.mount)
		c.host = filepath.Join(n.host, name)
		c.hostRW = n.hostRW
		n.fs.hostAttrs(c)
		if c.mode == 0 { // vanished meanwhile
			continue
		}
		n.children[name] = c
	}
	return 0
}

// load reads a host-backed regular file into memory, once, and records
// the read.
func (n *Node) load() syscall.Errno {
	if n.host == "" || n.hostLoaded || n.hostRW {
		return 0
	}
	b, err := os.ReadFile(n.host)
	if err != nil {
		return hostErrno(err)
	}
	n.data, n.hostLoaded = b, true
	sum := sha256.Sum256(b)
	n.hostSum = hex.EncodeToString(sum[:])
	n.fs.hostReads = append(n.fs.hostReads, HostRead{Path: n.Path(), Size: int64(len(b)), SHA256: n.hostSum})
	return 0
}

// copyUp makes a host-backed file of a read-only mount the overlay's own:
// its contents stay in memory and the host is never written.
func (n *Node) copyUp() syscall.Errno {
	if n.hostRW || n.host == "" {
		return 0
	}
	if n.IsRegular() {
		if e := n.load(); e != 0 {
			return e
		}
	}
	if n.IsDir() {
		if e := n.populate(); e != 0 {
			return e
		}
	}
	n.host = ""
	return 0
}

func (f *FS) hostSize(n *Node) int64 {
	st, err := os.Stat(n.host)
	if err != nil {
		return 0
	}
	return st.Size()
}

// hostErrno is the Linux errno of a host error.
func hostErrno(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, fs.ErrNotExist) {
		return syscall.ENOENT
	}
	if errors.Is(err, fs.ErrPermission) {
		return syscall.EACCES
	}
	return syscall.EIO
}
