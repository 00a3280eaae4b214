// Package vfs is the guest's view of a filesystem: a tree of nodes whose
// directories and files come lazily from host directories (the root and
// the bind mounts), from memory (what the guest creates, the overlay), or
// from the kernel itself (procfs and device files, added with the Synthetic
// constructors).
//
// # The view
//
// The root is a host directory (Config.Root, "/" by default), read-only;
// Config.Mounts bind other host directories at guest paths, read-only or
// read-write. Everything the guest changes under a read-only host
// directory (a created, written, renamed or removed file) goes to an
// in-memory overlay that lives as long as the FS: the host is never
// written, unless a mount says RW, where changes go through to the host
// directory as the guest makes them. Host files are read whole into
// memory the first time the guest opens them (and recorded, with their
// size and SHA-256, in HostReads); a file the guest writes is copied up
// first.
//
// # Determinism
//
// Directory listings are sorted by name. Inode numbers are a hash of the
// guest path a node first had (probing past collisions in creation order),
// device numbers are per mount, and timestamps are Config.Epoch for host
// files (their host times with Config.HostTimes) and the simulated clock
// (Config.Now) for changes the guest makes. The invoking host user's files
// appear as the guest's own (Config.UID, Config.GID), as a user namespace
// maps its creator; other owners show as they are. Nothing else of the
// host is visible: the guest sees what the host files contain, and the
// report lists those files.
//
// # Permissions
//
// Access is checked as fs/namei.c's generic_permission does for an
// unprivileged task with the credentials Config.UID/GID: owner, group or
// other bits, and search permission on every directory of a path.
// Read-only only means that the host is not written: the guest's writes
// there succeed, into the overlay, as far as permissions allow.
//
// # Locking
//
// An FS is not safe for concurrent use; the kernel calls it from the
// machine's goroutine.
package vfs
