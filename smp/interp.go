package smp

import (
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"syscall"

	"github.com/probesim/probesim/emu"
	"github.com/probesim/probesim/emu/loader"
	"github.com/probesim/probesim/kernel"
	"github.com/probesim/probesim/kernel/vfs"
	"github.com/probesim/probesim/mmu"
)

// openInterp finds a dynamic program's interpreter (PT_INTERP) in the
// guest's filesystem view, as load_elf_binary opens it with open_exec (a
// relative path from the working directory, symbolic links followed, a
// regular file with search and execute permission), and parses it. It
// returns the Image at bias 0, named as /proc/self/maps shows it: the
// resolved path (d_path of the opened file).
//
// The errors are execve's, one line each: ENOENT for a missing interpreter
// (bash says "required file not found"), EACCES for one that is not a
// regular executable file, ELIBBAD for one that is not an ELF loader for the
// program's machine.
func openInterp(view *vfs.FS, cwd string, prog *loader.Image) (*emu.Object, *vfs.Node, error) {
	p := prog.Interp
	if !path.IsAbs(p) {
		p = path.Join(cwd, p)
	}
	fail := func(kind loader.ErrKind, e syscall.Errno, what string) error {
		return &loader.Error{Path: prog.Path, Kind: kind,
			Msg: fmt.Sprintf("interpreter %s: %s", prog.Interp, what),
			Err: &fs.PathError{Op: "execve", Path: prog.Interp, Err: e}}
	}
	n, e := view.Lookup(view.Root(), p, true)
	if e != 0 {
		kind := loader.Unreadable
		if e == syscall.ENOENT || e == syscall.ENOTDIR {
			kind = loader.NotExist
		}
		return nil, nil, fail(kind, e, e.Error()+" in the guest's filesystem view")
	}
	if !n.IsRegular() {
		return nil, nil, fail(loader.Unreadable, syscall.EACCES, "not a regular file")
	}
	if e := view.Access(n, 1|4); e != 0 { // MAY_EXEC|MAY_READ
		return nil, nil, fail(loader.Unreadable, e, e.Error())
	}
	im, err := loader.ParseInterp(n.Path(), view.Reader(n), n.Size(), prog.Arch)
	if err != nil {
		return nil, nil, fail(loader.KindOf(err), syscall.ELIBBAD, err.Error())
	}
	return &emu.Object{Image: im, Name: n.Path(), ID: kernel.ViewFileID(view, n)}, n, nil
}

// exePath is the program's path as /proc/self/exe and its mappings show
// it: absolute, or the guest path as given for a program run from memory.
//
// Deviation: Linux shows the path with symbolic links resolved (d_path of
// the opened file: /usr/bin/cat for /bin/cat on a merged-/usr system).
// probesim keeps the path as given, made absolute: static glibc reads
// /proc/self/exe at start-up, so a resolved path would make a run's cycles
// depend on where a symbolic link points on the host (a checkout's
// location, say) rather than on the command line.
func exePath(program string, fromMemory bool) string {
	if fromMemory {
		return program
	}
	if abs, err := filepath.Abs(program); err == nil {
		return abs
	}
	return program
}

// viewFileID is the identity of the file at p in the guest's view, or zero
// when the view does not hold it (a program outside --root).
func viewFileID(view *vfs.FS, p string) mmu.FileID {
	n, e := view.Lookup(view.Root(), p, true)
	if e != 0 || !n.IsRegular() {
		return mmu.FileID{}
	}
	return kernel.ViewFileID(view, n)
}
