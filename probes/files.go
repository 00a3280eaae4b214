package probes

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/probesim/probesim/kernel/vfs"
)

// The files probes name.
//
// A probe on a file other than the program (BINARY:SYMBOL, BINARY:0xOFFSET,
// uprobe:BINARY:SYMBOL) names it by path. Linux's uprobe_register takes the
// inode the path resolves to (kern_path in trace_uprobe.c, then
// d_real_inode): the probe is on the file, wherever and however often it
// is mapped. probesim resolves the path in the guest's view of the
// filesystem when there is a machine (--root and --mount decide what
// /lib/x86_64-linux-gnu/libc.so.6 is), and keys the probe by the view's
// device and inode numbers, the identity every mapping of the file carries
// (mmu.File.Identity).

// ObjectFile is a file a probe names, open for reading.
type ObjectFile struct {
	Path     string // as the spec names it
	Data     io.ReaderAt
	Size     int64
	Dev, Ino uint64 // the file's identity, as its mappings show it
}

// Files opens the file at path for a probe. Its errors are one line and
// name the path.
type Files func(path string) (ObjectFile, error)

// HostFiles opens files on the host, for resolving specs without a
// machine (the file's host device and inode are its identity).
func HostFiles(path string) (ObjectFile, error) {
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return ObjectFile{}, fmt.Errorf("%s: no such file", path)
	}
	if err != nil {
		return ObjectFile{}, fmt.Errorf("%s: %v", path, errors.Unwrap(err))
	}
	if !st.Mode().IsRegular() {
		return ObjectFile{}, fmt.Errorf("%s: not a regular file", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return ObjectFile{}, fmt.Errorf("%s: %v", path, errors.Unwrap(err))
	}
	f := ObjectFile{Path: path, Data: bytes.NewReader(data), Size: int64(len(data))}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		f.Dev, f.Ino = uint64(sys.Dev), sys.Ino
	}
	return f, nil
}

// ViewFiles opens files in a guest's view of the filesystem, path taken
// from its root, symlinks followed, as the kernel's open would.
func ViewFiles(fs *vfs.FS) Files {
	return func(path string) (ObjectFile, error) {
		n, e := fs.Lookup(fs.Root(), path, true)
		switch {
		case e == syscall.ENOENT || e == syscall.ENOTDIR:
			return ObjectFile{}, fmt.Errorf("%s: no such file in the guest's view", path)
		case e != 0:
			return ObjectFile{}, fmt.Errorf("%s: %v", path, e)
		case !n.IsRegular():
			return ObjectFile{}, fmt.Errorf("%s: not a regular file", path)
		}
		st := fs.Stat(n)
		return ObjectFile{Path: path, Data: fs.Reader(n), Size: st.Size, Dev: st.Dev, Ino: st.Ino}, nil
	}
}
