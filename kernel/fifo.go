package kernel

import (
	"syscall"

	"github.com/probesim/probesim/kernel/vfs"
)

// openFIFO opens a FIFO of the view (fs/pipe.c fifo_open) or, through
// /proc/<pid>/fd/N, an anonymous pipe: the node's pipe (made on the first
// open of a named FIFO) gets a new end. A read-only open waits for a
// writer and a write-only open for a reader, unless O_NONBLOCK (then a
// write-only open without a reader is ENXIO); O_RDWR waits for nobody.
// An anonymous pipe waits for nobody.
func (k *Kernel) openFIFO(t *Task, n *vfs.Node, flags uint32) (*FileDescription, syscall.Errno) {
	p, _ := n.Private.(*pipe)
	if p == nil {
		p = k.newPipe()
		p.node, p.anonymous = n, false
		n.Private = p
	}
	if p.anonymous {
		// fifo_open's is_pipe cases: an anonymous pipe's open waits for
		// no peer and is never ENXIO (the other end may be long closed:
		// bash's process substitution opens /dev/fd/63 after its writer
		// may have exited).
		mode := flags & oAccMode
		return p.openEnd(mode != oWriteOnly, mode != oReadOnly, flags), 0
	}
	switch flags & oAccMode {
	case oReadOnly:
		f := p.openEnd(true, false, flags)
		if p.writers == 0 && flags&oNonblock == 0 {
			return k.waitFIFOPeer(t, f, p, false)
		}
		return f, 0
	case oWriteOnly:
		if p.readers == 0 {
			if flags&oNonblock != 0 {
				return nil, syscall.ENXIO
			}
			f := p.openEnd(false, true, flags)
			return k.waitFIFOPeer(t, f, p, true)
		}
		return p.openEnd(false, true, flags), 0
	}
	return p.openEnd(true, true, flags), 0
}

// errFIFOWait is openFIFO's "the open blocks" answer: the description is
// made, and the caller blocks until the other end is opened.
type fifoWait struct {
	f      *FileDescription
	p      *pipe
	writer bool
	count  int // the other end's opens when the wait began
}

// waitFIFOPeer records that the open must wait for the other end; the
// open syscall blocks (openat turns this into Block).
func (k *Kernel) waitFIFOPeer(t *Task, f *FileDescription, p *pipe, writer bool) (*FileDescription, syscall.Errno) {
	w := &fifoWait{f: f, p: p, writer: writer, count: p.rOpened}
	if !writer {
		w.count = p.wOpened
	}
	t.fifoWait = w
	return nil, errBlockFIFO
}

// errBlockFIFO is an internal errno value (never returned to the guest)
// that tells openat to block on t.fifoWait.
const errBlockFIFO = syscall.Errno(1 << 20)

// blockFIFO puts the opener to sleep until the other end is opened, then
// installs the description.
func (k *Kernel) blockFIFO(t *Task, cloexec bool) (uint64, Result) {
	w := t.fifoWait
	t.fifoWait = nil
	q := &w.p.q
	var again func(*Task, wakeReason) (uint64, Result)
	again = func(t *Task, why wakeReason) (uint64, Result) {
		if why == wokenBySignal {
			w.f.DecRef()
			return fail(errRestartSys)
		}
		opened := w.p.wOpened
		if w.writer {
			opened = w.p.rOpened
		}
		if opened == w.count {
			return t.blockOnQueues([]*WaitQueue{q}, []EventMask{EventIn | EventOut}, 0, again)
		}
		fd, e := t.installFD(w.f, cloexec)
		if e != 0 {
			return fail(e)
		}
		return okv(fd)
	}
	return again(t, wokenByEvent)
}
