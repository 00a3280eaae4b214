package kernel

import "syscall"

// Descriptor syscalls: dup, dup2, dup3, fcntl, close_range (fs/file.c,
// fs/fcntl.c).

// installAt puts f at descriptor fd, closing what was there (do_dup2).
func (t *Task) installAt(f *FileDescription, fd uint64, cloexec bool) syscall.Errno {
	if fd >= t.k.nofile() {
		return syscall.EBADF
	}
	for uint64(len(t.files.slots)) <= fd {
		t.files.slots = append(t.files.slots, fdSlot{})
	}
	old := t.files.slots[fd].fd
	f.IncRef()
	t.files.slots[fd] = fdSlot{f, cloexec}
	if old != nil {
		old.DecRef()
	}
	return 0
}

// dupFrom installs f at the lowest free descriptor at or above min
// (F_DUPFD).
func (t *Task) dupFrom(f *FileDescription, min uint64, cloexec bool) (uint64, syscall.Errno) {
	if min >= t.k.nofile() {
		return 0, syscall.EINVAL
	}
	fd := min
	for fd < uint64(len(t.files.slots)) && t.files.slots[fd].fd != nil {
		fd++
	}
	if fd >= t.k.nofile() {
		return 0, syscall.EMFILE
	}
	if e := t.installAt(f, fd, cloexec); e != 0 {
		return 0, e
	}
	return fd, 0
}

func sysDup(k *Kernel, t *Task, a Args) (uint64, Result) {
	f := t.files.Get(a[0])
	if f == nil {
		return fail(syscall.EBADF)
	}
	fd, e := t.dupFrom(f, 0, false)
	if e == syscall.EINVAL {
		e = syscall.EMFILE
	}
	if e != 0 {
		return fail(e)
	}
	return okv(fd)
}

func sysDup2(k *Kernel, t *Task, a Args) (uint64, Result) {
	oldfd, newfd := uint64(uint32(a[0])), uint64(uint32(a[1]))
	f := t.files.Get(oldfd)
	if f == nil {
		return fail(syscall.EBADF)
	}
	if oldfd == newfd {
		return okv(newfd)
	}
	if e := t.installAt(f, newfd, false); e != 0 {
		return fail(e)
	}
	return okv(newfd)
}

func sysDup3(k *Kernel, t *Task, a Args) (uint64, Result) {
	oldfd, newfd := uint64(uint32(a[0])), uint64(uint32(a[1]))
	if a[2]&^oCloexec != 0 || oldfd == newfd {
		return fail(syscall.EINVAL)
	}
	f := t.files.Get(oldfd)
	if f == nil {
		return fail(syscall.EBADF)
	}
	if e := t.installAt(f, newfd, a[2]&oCloexec != 0); e != 0 {
		return fail(e)
	}
	return okv(newfd)
}

// close_range flags (include/uapi/linux/close_range.h).
const (
	closeRangeUnshare = 2
	closeRangeCloexec = 4
)

func sysCloseRange(k *Kernel, t *Task, a Args) (uint64, Result) {
	first, last, flags := uint64(uint32(a[0])), uint64(uint32(a[1])), a[2]
	if flags&^uint64(closeRangeUnshare|closeRangeCloexec) != 0 || first > last {
		return fail(syscall.EINVAL)
	}
	if flags&closeRangeUnshare != 0 && t.files.refs > 1 {
		// A private copy first, so that other tasks keep theirs.
		old := t.files
		t.files = old.fork()
		old.refs--
	}
	for fd := first; fd <= last && fd < uint64(len(t.files.slots)); fd++ {
		if flags&closeRangeCloexec != 0 {
			if t.files.slots[fd].fd != nil {
				t.files.slots[fd].cloexec = true
			}
			continue
		}
		t.files.remove(fd)
	}
	return ok0()
}

// fcntl commands (include/uapi/asm-generic/fcntl.h, linux/fcntl.h).
const (
	fDupfd        = 0
	fGetfd        = 1
	fSetfd        = 2
	fGetfl        = 3
	fSetfl        = 4
	fGetlk        = 5
	fSetlk        = 6
	fSetlkw       = 7
	fSetown       = 8
	fGetown       = 9
	fSetsig       = 10
	fGetsig       = 11
	fGetlk64      = 12 // i386
	fSetlk64      = 13
	fSetlkw64     = 14
	fSetownEx     = 15
	fGetownEx     = 16
	fOfdGetlk     = 36
	fOfdSetlk     = 37
	fOfdSetlkw    = 38
	fSetlease     = 1024
	fGetlease     = 1025
	fNotify       = 1026
	fDupfdCloexec = 1030
	fSetpipeSz    = 1031
	fGetpipeSz    = 1032
	fAddSeals     = 1033
	fGetSeals     = 1034
	fdCloexec     = 1
	fUnlck        = 2
	// setflMask are the status flags F_SETFL may change.
	setflMask = oAppend | oNonblock | oAsync | oDirect | oNoatime
)

var fcntlNames = map[uint64]string{fSetsig: "F_SETSIG", fGetsig: "F_GETSIG", fSetownEx: "F_SETOWN_EX",
	fGetownEx: "F_GETOWN_EX", fSetlease: "F_SETLEASE", fGetlease: "F_GETLEASE", fNotify: "F_NOTIFY",
	fAddSeals: "F_ADD_SEALS", fGetSeals: "F_GET_SEALS"}

func sysFcntl(k *Kernel, t *Task, a Args) (uint64, Result) {
	fd, cmd, arg := a[0], a[1], a[2]
	f := t.files.Get(fd)
	if f == nil {
		return fail(syscall.EBADF)
	}
	switch cmd {
	case fDupfd, fDupfdCloexec:
		nfd, e := t.dupFrom(f, uint64(uint32(arg)), cmd == fDupfdCloexec)
		if e != 0 {
			return fail(e)
		}
		return okv(nfd)
	case fGetfd:
		if t.files.slots[fd].cloexec {
			return okv(fdCloexec)
		}
		return ok0()
	case fSetfd:
		t.files.slots[fd].cloexec = arg&fdCloexec != 0
		return ok0()
	case fGetfl:
		return okv(uint64(f.flags &^ oPath))
	case fSetfl:
		if f.flags&oPath != 0 {
			return fail(syscall.EBADF)
		}
		f.flags = f.flags&^setflMask | uint32(arg)&setflMask
		return ok0()
	case fGetlk, fGetlk64, fOfdGetlk:
		return k.getlk(t, f, cmd, arg)
	case fSetlk, fSetlkw, fSetlk64, fSetlkw64, fOfdSetlk, fOfdSetlkw:
		// One process holds every lock it asks for: accepted and noted.
		if fileNode(f) == nil {
			return fail(syscall.EINVAL)
		}
		k.note("fcntl", lockName(cmd))
		return ok0()
	case fSetown:
		k.note("fcntl", "F_SETOWN")
		return ok0()
	case fGetown:
		return ok0()
	case fGetpipeSz, fSetpipeSz:
		p, ok := f.impl.(*pipeEnd)
		if !ok {
			return fail(syscall.EBADF)
		}
		if cmd == fGetpipeSz {
			return okv(uint64(p.p.capacity))
		}
		return p.p.setCapacity(uint64(uint32(arg)))
	}
	name, ok := fcntlNames[cmd]
	if !ok {
		return fail(syscall.EINVAL)
	}
	k.unsupportedDetail("fcntl", name)
	return fail(syscall.EINVAL)
}

func lockName(cmd uint64) string {
	switch cmd {
	case fSetlk, fSetlk64:
		return "F_SETLK"
	case fSetlkw, fSetlkw64:
		return "F_SETLKW"
	case fOfdSetlk:
		return "F_OFD_SETLK"
	}
	return "F_OFD_SETLKW"
}

// getlk answers F_GETLK: no other process holds a lock, so the struct
// flock comes back with l_type F_UNLCK (fs/locks.c posix_test_lock).
func (k *Kernel) getlk(t *Task, f *FileDescription, cmd, arg uint64) (uint64, Result) {
	if fileNode(f) == nil {
		return fail(syscall.EINVAL)
	}
	b, e := k.readBytes(arg, 2)
	if e != 0 {
		return fail(e)
	}
	typ := uint16(b[0]) | uint16(b[1])<<8
	if typ > 2 {
		return fail(syscall.EINVAL)
	}
	newStructB := newStruct(2)
	newStructB.u16(0, fUnlck)
	return okOrFault(k.writeBytes(arg, newStructB.b))
}

// Generic ioctls every descriptor has (fs/ioctl.c do_vfs_ioctl), then
// the file's own: FIONREAD for pipes and eventfds. No descriptor is a
// terminal: TCGETS and the other terminal requests are ENOTTY.
const (
	fioclex  = 0x5451
	fionclex = 0x5450
	fionbio  = 0x5421
	fionread = 0x541b
	fioasync = 0x5452
)

func sysIoctl(k *Kernel, t *Task, a Args) (uint64, Result) {
	fd, req := a[0], uint32(a[1])
	f := t.files.Get(fd)
	if f == nil {
		return fail(syscall.EBADF)
	}
	switch req {
	case fioclex, fionclex:
		t.files.slots[fd].cloexec = req == fioclex
		return ok0()
	case fionbio, fioasync:
		v, e := k.readU32(a[2])
		if e != 0 {
			return fail(e)
		}
		bit := uint32(oNonblock)
		if req == fioasync {
			bit = oAsync
		}
		if v != 0 {
			f.flags |= bit
		} else {
			f.flags &^= bit
		}
		return ok0()
	case fionread:
		if r, ok := f.impl.(interface{ readable() int }); ok {
			b := newStruct(4)
			b.u32(0, uint32(r.readable()))
			return okOrFault(k.writeBytes(a[2], b.b))
		}
		if r, ok := f.impl.(*regularFile); ok {
			b := newStruct(4)
			b.u32(0, uint32(max(0, r.n.Size()-f.pos)))
			return okOrFault(k.writeBytes(a[2], b.b))
		}
	}
	return fail(syscall.ENOTTY)
}
