package vfs

import (
	"strings"
	"syscall"
)

// Path resolution (fs/namei.c, reduced): components are looked up one by
// one from the root or a start directory, with search permission needed on
// every directory passed, symlinks followed (40 at most: ELOOP), "." and
// ".." resolved in the view (".." of the root is the root), and a trailing
// slash requiring a directory.

const (
	maxSymlinks = 40
	nameMax     = 255
)

// Lookup resolves p from dir (for a relative p; the root otherwise),
// following a final symlink when follow is set.
func (f *FS) Lookup(dir *Node, p string, follow bool) (*Node, syscall.Errno) {
	if p == "" {
		return nil, syscall.ENOENT
	}
	return f.lookup(dir, p, follow, 0, true)
}

// LookupParent resolves all of p but its last component, which it
// returns; trailing reports a trailing slash. "/" and paths ending in "."
// or ".." have no last component to create or remove: they give the
// directory itself with last "." or "..".
func (f *FS) LookupParent(dir *Node, p string) (parent *Node, last string, trailing bool, e syscall.Errno) {
	if p == "" {
		return nil, "", false, syscall.ENOENT
	}
	trimmed := strings.TrimRight(p, "/")
	trailing = len(trimmed) < len(p)
	if trimmed == "" {
		return f.root, ".", true, 0
	}
	i := strings.LastIndexByte(trimmed, '/')
	head, last := "", trimmed
	if i >= 0 {
		head, last = trimmed[:i+1], trimmed[i+1:]
	}
	if len(last) > nameMax {
		return nil, "", false, syscall.ENAMETOOLONG
	}
	if head == "" {
		if dir == nil {
			dir = f.root
		}
		parent = dir
	} else {
		parent, e = f.lookup(dir, head, true, 0, true)
		if e != 0 {
			return nil, "", false, e
		}
	}
	if !parent.IsDir() {
		return nil, "", false, syscall.ENOTDIR
	}
	if e := f.permission(parent, mayExec); e != 0 {
		return nil, "", false, e
	}
	return parent, last, trailing, 0
}

func (f *FS) lookup(dir *Node, p string, follow bool, depth int, check bool) (*Node, syscall.Errno) {
	cur := dir
	if strings.HasPrefix(p, "/") || cur == nil {
		cur = f.root
	}
	trailing := strings.HasSuffix(p, "/")
	parts := strings.Split(p, "/")
	// Drop empty components (leading, doubled and trailing slashes).
	comps := parts[:0]
	for _, c := range parts {
		if c != "" {
			comps = append(comps, c)
		}
	}
	for i, c := range comps {
		if !cur.IsDir() {
			return nil, syscall.ENOTDIR
		}
		if check {
			if e := f.permission(cur, mayExec); e != 0 {
				return nil, e
			}
		}
		if len(c) > nameMax {
			return nil, syscall.ENAMETOOLONG
		}
		last := i == len(comps)-1
		var next *Node
		switch c {
		case ".":
			next = cur
		case "..":
			next = cur.Parent()
		default:
			var e syscall.Errno
			if next, e = cur.child(c); e != 0 {
				return nil, e
			}
			if next == nil {
				return nil, syscall.ENOENT
			}
		}
		if next.IsSymlink() && (!last || follow || trailing) {
			if depth >= maxSymlinks {
				return nil, syscall.ELOOP
			}
			if next.magic != nil {
				// /proc/<pid>/fd/N and friends land on the open file
				// itself, whatever its path (proc_get_link).
				if next = next.magic(); next == nil {
					return nil, syscall.ENOENT
				}
				cur = next
				continue
			}
			target, e := next.Readlink()
			if e != 0 {
				return nil, e
			}
			if target == "" {
				return nil, syscall.ENOENT
			}
			if next, e = f.lookup(cur, target, true, depth+1, check); e != 0 {
				return nil, e
			}
		}
		cur = next
	}
	if trailing && !cur.IsDir() {
		return nil, syscall.ENOTDIR
	}
	return cur, 0
}

// Access bits of permission checks (MAY_EXEC, MAY_WRITE, MAY_READ).
const (
	mayExec  = 1
	mayWrite = 2
	mayRead  = 4
)

// Access checks whether the guest may read (4), write (2) or execute (1)
// n, as access(2) would report it.
func (f *FS) Access(n *Node, mask uint32) syscall.Errno { return f.permission(n, mask) }

// permission is generic_permission for the guest's credentials: root
// passes everything but execution of a file with no exec bit at all.
func (f *FS) permission(n *Node, mask uint32) syscall.Errno {
	if f.cfg.UID == 0 {
		if mask&mayExec != 0 && !n.IsDir() && n.mode&0o111 == 0 {
			return syscall.EACCES
		}
		return 0
	}
	perm := n.mode & 0o7
	switch {
	case n.uid == f.cfg.UID:
		perm = n.mode >> 6 & 0o7
	case n.gid == f.cfg.GID:
		perm = n.mode >> 3 & 0o7
	}
	if mask&^perm != 0 {
		return syscall.EACCES
	}
	return 0
}
