package kernel

import (
	"syscall"

	"github.com/probesim/probesim/kernel/vfs"
)

// Pipes (fs/pipe.c): a buffer of Linux's default 64 KiB between a read
// end and a write end. A read of an empty pipe blocks while a writer
// exists and returns 0 (end of file) once none does; a write blocks while
// the pipe is full, writes of at most PIPE_BUF bytes go in whole or not
// at all, and a write with no reader left fails with EPIPE (and SIGPIPE).
// Readiness and wake-ups go through the pipe's wait queue. Named FIFOs of
// the view are pipes too (fifo.go).

const (
	pipeBuf         = 4096      // PIPE_BUF: the atomic write size
	pipeDefaultSize = 16 * 4096 // PIPE_DEF_BUFFERS pages
	pipeMaxSize     = 1 << 20   // /proc/sys/fs/pipe-max-size
)

type pipe struct {
	k        *Kernel
	data     []byte // buffered bytes, oldest first, from head
	head     int
	capacity int
	readers  int
	writers  int
	q        WaitQueue
	ino      uint64
	node     *vfs.Node // what /proc/<pid>/fd/N of an end leads to
	// anonymous: made by pipe(2), not a named FIFO of the view.
	anonymous bool
	// Named FIFOs: how many ends were ever opened, for fifo_open's wait.
	rOpened, wOpened int
}

func (k *Kernel) newPipe() *pipe {
	k.pipeIno++
	p := &pipe{k: k, capacity: pipeDefaultSize, ino: k.pipeIno, anonymous: true}
	p.node = k.fs.NewFIFO("pipe:["+itoa(int(p.ino))+"]", pipefsDev)
	p.node.Private = p
	return p
}

func (p *pipe) buffered() int { return len(p.data) - p.head }
func (p *pipe) space() int    { return p.capacity - p.buffered() }

// setCapacity is F_SETPIPE_SZ: a power-of-two number of pages, at most
// pipe-max-size, never below what is buffered (EBUSY).
func (p *pipe) setCapacity(n uint64) (uint64, Result) {
	if n > pipeMaxSize {
		return fail(syscall.EPERM)
	}
	size := uint64(4096)
	for size < n {
		size <<= 1
	}
	if int(size) < p.buffered() {
		return fail(syscall.EBUSY)
	}
	p.capacity = int(size)
	p.q.Notify(EventOut | EventWrNorm)
	return okv(size)
}

// pipeEnd is an open end of a pipe (an O_RDWR FIFO open is both).
type pipeEnd struct {
	FileDefaults
	p           *pipe
	read, write bool
}

func (e *pipeEnd) Read(f *FileDescription, dst []byte) (int, syscall.Errno) {
	p := e.p
	if len(dst) == 0 {
		return 0, 0
	}
	if p.buffered() == 0 {
		if p.writers == 0 {
			return 0, 0
		}
		return 0, syscall.EAGAIN
	}
	n := copy(dst, p.data[p.head:])
	p.head += n
	if p.head == len(p.data) {
		p.data, p.head = p.data[:0], 0
	} else if p.head > p.capacity {
		p.data = append(p.data[:0], p.data[p.head:]...)
		p.head = 0
	}
	p.q.Notify(EventOut | EventWrNorm)
	return n, 0
}

func (e *pipeEnd) Write(f *FileDescription, src []byte) (int, syscall.Errno) {
	p := e.p
	if p.readers == 0 {
		p.k.sigpipe()
		return 0, syscall.EPIPE
	}
	if len(src) == 0 {
		return 0, 0
	}
	space := p.space()
	if space <= 0 || len(src) <= pipeBuf && space < len(src) {
		return 0, syscall.EAGAIN
	}
	n := min(space, len(src))
	p.data = append(p.data, src[:n]...)
	p.q.Notify(EventIn | EventRdNorm)
	return n, 0
}

func (e *pipeEnd) Readiness(mask EventMask) EventMask {
	p := e.p
	var r EventMask
	if e.read {
		if p.buffered() > 0 {
			r |= EventIn | EventRdNorm
		}
		if p.writers == 0 && p.wOpened > 0 {
			r |= EventHUp
		}
	}
	if e.write {
		if p.space() >= pipeBuf {
			r |= EventOut | EventWrNorm
		}
		if p.readers == 0 {
			r |= EventErr
		}
	}
	return r & (mask | eventsAlways)
}

func (e *pipeEnd) Queue() *WaitQueue { return &e.p.q }

func (e *pipeEnd) Stat() fileStat {
	return fileStat{mode: sIFIFO | 0o600, blksize: 4096, ino: e.p.ino, dev: pipefsDev, nlink: 1, guestOwned: true}
}

func (e *pipeEnd) linkText() string    { return "pipe:[" + itoa(int(e.p.ino)) + "]" }
func (e *pipeEnd) linkNode() *vfs.Node { return e.p.node }
func (e *pipeEnd) readable() int       { return e.p.buffered() }

// Release closes the end: the last writer gone is end of file for the
// readers, the last reader gone is EPIPE for the writers.
func (e *pipeEnd) Release() {
	p := e.p
	if e.read {
		p.readers--
		if p.readers == 0 {
			p.q.Notify(EventErr | EventOut | EventWrNorm)
		}
	}
	if e.write {
		p.writers--
		if p.writers == 0 {
			p.q.Notify(EventHUp | EventIn | EventRdNorm)
		}
	}
}

// openEnd makes a new description of an end of p.
func (p *pipe) openEnd(read, write bool, flags uint32) *FileDescription {
	if read {
		p.readers++
		p.rOpened++
	}
	if write {
		p.writers++
		p.wOpened++
	}
	return NewFileDescription(&pipeEnd{p: p, read: read, write: write}, flags)
}

// sysPipe2 is pipe2(fds[2], flags): O_CLOEXEC, O_NONBLOCK, O_DIRECT
// (packet mode, accepted as the byte stream it is for whole writes).
func sysPipe2(k *Kernel, t *Task, a Args) (uint64, Result) {
	if a[1]&^uint64(oCloexec|oNonblock|oDirect) != 0 {
		return fail(syscall.EINVAL)
	}
	return k.pipe(t, a[0], uint32(a[1]))
}

func sysPipe(k *Kernel, t *Task, a Args) (uint64, Result) { return k.pipe(t, a[0], 0) }

func (k *Kernel) pipe(t *Task, addr uint64, flags uint32) (uint64, Result) {
	if uint64(len(t.files.slots)) >= k.nofile() && t.files.lowestFree() >= k.nofile()-1 {
		// Two descriptors are needed.
		if t.files.lowestFree() >= k.nofile() {
			return fail(syscall.EMFILE)
		}
	}
	p := k.newPipe()
	status := flags & (oNonblock | oDirect)
	r := p.openEnd(true, false, oReadOnly|status)
	w := p.openEnd(false, true, oWriteOnly|status)
	rfd, e := t.installFD(r, flags&oCloexec != 0)
	if e != 0 {
		w.DecRef()
		return fail(e)
	}
	wfd, e := t.installFD(w, flags&oCloexec != 0)
	if e != 0 {
		t.files.remove(rfd)
		return fail(e)
	}
	b := newStruct(8)
	b.u32(0, uint32(rfd))
	b.u32(4, uint32(wfd))
	if e := k.writeBytes(addr, b.b); e != 0 {
		t.files.remove(rfd)
		t.files.remove(wfd)
		return fail(e)
	}
	return ok0()
}
