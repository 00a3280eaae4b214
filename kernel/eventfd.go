package kernel

import (
	"encoding/binary"
	"syscall"
)

// eventfd (fs/eventfd.c): a 64-bit counter. A read returns it and resets
// it (EFD_SEMAPHORE: returns 1 and decrements), blocking while it is 0; a
// write adds to it, blocking while the sum would pass 2^64-2.

const (
	efdSemaphore = 1
	eventfdMax   = ^uint64(0) - 1
)

type eventFD struct {
	FileDefaults
	count     uint64
	semaphore bool
	q         WaitQueue
}

func (e *eventFD) Read(f *FileDescription, dst []byte) (int, syscall.Errno) {
	if len(dst) < 8 {
		return 0, syscall.EINVAL
	}
	if e.count == 0 {
		return 0, syscall.EAGAIN
	}
	v := e.count
	if e.semaphore {
		v = 1
	}
	e.count -= v
	binary.LittleEndian.PutUint64(dst, v)
	e.q.Notify(EventOut | EventWrNorm)
	return 8, 0
}

func (e *eventFD) Write(f *FileDescription, src []byte) (int, syscall.Errno) {
	if len(src) < 8 {
		return 0, syscall.EINVAL
	}
	v := binary.LittleEndian.Uint64(src)
	if v == ^uint64(0) {
		return 0, syscall.EINVAL
	}
	if eventfdMax-e.count < v {
		return 0, syscall.EAGAIN
	}
	e.count += v
	if v > 0 {
		e.q.Notify(EventIn | EventRdNorm)
	}
	return 8, 0
}

func (e *eventFD) Readiness(mask EventMask) EventMask {
	var r EventMask
	if e.count > 0 {
		r |= EventIn | EventRdNorm
	}
	if e.count < eventfdMax {
		r |= EventOut | EventWrNorm
	}
	return r & (mask | eventsAlways)
}

func (e *eventFD) Queue() *WaitQueue { return &e.q }
func (e *eventFD) Stat() fileStat    { return anonStat() }
func (e *eventFD) linkText() string  { return "anon_inode:[eventfd]" }
func (e *eventFD) readable() int     { return 8 }

// anonStat is what fstat reports for an anonymous inode (fs/anon_inodes.c):
// a mode-0600 file of no type, on anon_inodefs, owned by the task.
func anonStat() fileStat {
	return fileStat{mode: 0o600, blksize: 4096, ino: 1, dev: 0x0e, nlink: 1, guestOwned: true}
}

func sysEventfd(k *Kernel, t *Task, a Args) (uint64, Result) { return k.eventfd(t, a[0], 0) }

func sysEventfd2(k *Kernel, t *Task, a Args) (uint64, Result) { return k.eventfd(t, a[0], a[1]) }

func (k *Kernel) eventfd(t *Task, initval, flags uint64) (uint64, Result) {
	if flags&^uint64(oCloexec|oNonblock|efdSemaphore) != 0 {
		return fail(syscall.EINVAL)
	}
	e := &eventFD{count: uint64(uint32(initval)), semaphore: flags&efdSemaphore != 0}
	f := NewFileDescription(e, oReadWrite|uint32(flags)&oNonblock)
	fd, errno := t.installFD(f, flags&oCloexec != 0)
	if errno != 0 {
		return fail(errno)
	}
	return okv(fd)
}
