package kernel

import "syscall"

// Extended attributes. The view keeps none and takes none: every
// filesystem of it behaves as one mounted without xattr support, where
// fs/xattr.c's vfs_getxattr and friends return EOPNOTSUPP once the path or
// descriptor is resolved (so a missing file is still ENOENT and a bad
// descriptor EBADF). Programs treat EOPNOTSUPP as "no attributes": ls -l
// prints no ACL or SELinux marker, cp -a copies without them. Each call
// is counted in the report as "NAME:extended attributes".
//
// Deviation: a host file's own attributes (security.capability, ACLs) are
// not shown to the guest.

// xattrPath is {get,set,list,remove}xattr and their l* forms: path first.
func xattrPath(name string, follow bool) Handler {
	return func(k *Kernel, t *Task, a Args) (uint64, Result) {
		path, e := k.pathArg(a[0])
		if e != 0 {
			return fail(e)
		}
		if _, e := t.lookupAt(atFDCWDArg, path, follow); e != 0 {
			return fail(e)
		}
		k.unsupportedDetail(name, "extended attributes")
		return fail(syscall.EOPNOTSUPP)
	}
}

// xattrFD is the f* forms: the descriptor first.
func xattrFD(name string) Handler {
	return func(k *Kernel, t *Task, a Args) (uint64, Result) {
		if t.files.Get(a[0]) == nil {
			return fail(syscall.EBADF)
		}
		k.unsupportedDetail(name, "extended attributes")
		return fail(syscall.EOPNOTSUPP)
	}
}

// xattrEntries are the twelve xattr syscalls, the same on both ABIs.
func xattrEntries() map[string]entry {
	const note = "no filesystem of the view supports extended attributes: EOPNOTSUPP after the path or fd is resolved, counted"
	out := map[string]entry{}
	for _, op := range []string{"get", "set", "list", "remove"} {
		n := op + "xattr"
		out[n] = partial(xattrPath(n, true), note)
		out["l"+n] = partial(xattrPath("l"+n, false), note)
		out["f"+n] = partial(xattrFD("f"+n), note)
	}
	return out
}
