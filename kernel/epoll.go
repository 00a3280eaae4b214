package kernel

import (
	"syscall"
)

// epoll (fs/eventpoll.c): an interest list of (descriptor, file) items,
// each watching its file's wait queue, and a ready list in the order the
// items became ready. epoll_wait reports ready items from the head of the
// list, looking at each file's readiness again: a level-triggered item
// still ready goes back to the tail (so items take turns), an
// edge-triggered one leaves the list until its file notifies again, and a
// one-shot item is disarmed until EPOLL_CTL_MOD. An epoll descriptor is a
// file too: it is ready for reading while its ready list is not empty.

const (
	epollCtlAdd = 1
	epollCtlDel = 2
	epollCtlMod = 3

	epollExclusive = 1 << 28
	epollWakeup    = 1 << 29
	epollOneshot   = 1 << 30
	epollET        = 1 << 31
	epollFlags     = epollExclusive | epollWakeup | epollOneshot | epollET
)

type epitem struct {
	ep     *epollFile
	fd     uint64
	file   *FileDescription
	events uint32 // the requested events and flags
	data   uint64
	w      *Waiter
	ready  bool // on the ready list
}

type epollFile struct {
	FileDefaults
	items map[epkey]*epitem
	ready []*epitem
	q     WaitQueue
}

type epkey struct {
	fd   uint64
	file *FileDescription
}

func (ep *epollFile) Readiness(mask EventMask) EventMask {
	for _, it := range ep.ready {
		if readiness(it.file, EventMask(it.events)) != 0 {
			return (EventIn | EventRdNorm) & (mask | eventsAlways)
		}
	}
	return 0
}

func (ep *epollFile) Queue() *WaitQueue { return &ep.q }
func (ep *epollFile) Stat() fileStat    { return anonStat() }
func (ep *epollFile) linkText() string  { return "anon_inode:[eventpoll]" }

func (ep *epollFile) Release() {
	for _, it := range ep.items {
		it.w.Remove()
		it.file.dropReleaseHook(it)
	}
	ep.items, ep.ready = nil, nil
}

// markReady puts it on the ready list (ep_poll_callback) and wakes the
// epoll's own waiters.
func (ep *epollFile) markReady(it *epitem) {
	if it.ready || it.events&^epollFlags == 0 {
		return
	}
	it.ready = true
	ep.ready = append(ep.ready, it)
	ep.q.Notify(EventIn | EventRdNorm)
}

func (ep *epollFile) unready(it *epitem) {
	if !it.ready {
		return
	}
	it.ready = false
	for i, o := range ep.ready {
		if o == it {
			ep.ready = append(ep.ready[:i], ep.ready[i+1:]...)
			break
		}
	}
}

func (ep *epollFile) remove(it *epitem) {
	it.w.Remove()
	ep.unready(it)
	delete(ep.items, epkey{it.fd, it.file})
}

func sysEpollCreate(k *Kernel, t *Task, a Args) (uint64, Result) {
	if int32(a[0]) <= 0 {
		return fail(syscall.EINVAL)
	}
	return k.epollCreate(t, 0)
}

func sysEpollCreate1(k *Kernel, t *Task, a Args) (uint64, Result) {
	if a[0]&^uint64(oCloexec) != 0 {
		return fail(syscall.EINVAL)
	}
	return k.epollCreate(t, a[0])
}

func (k *Kernel) epollCreate(t *Task, flags uint64) (uint64, Result) {
	ep := &epollFile{items: map[epkey]*epitem{}}
	fd, e := t.installFD(NewFileDescription(ep, oReadWrite), flags&oCloexec != 0)
	if e != 0 {
		return fail(e)
	}
	return okv(fd)
}

func (t *Task) epollFile(fd uint64) (*epollFile, syscall.Errno) {
	f := t.files.Get(fd)
	if f == nil {
		return nil, syscall.EBADF
	}
	ep, ok := f.impl.(*epollFile)
	if !ok {
		return nil, syscall.EINVAL
	}
	return ep, 0
}

// sysEpollCtl is epoll_ctl(epfd, op, fd, struct epoll_event *): the
// event is packed, {u32 events; u64 data}, on both ABIs.
func sysEpollCtl(k *Kernel, t *Task, a Args) (uint64, Result) {
	ep, e := t.epollFile(a[0])
	if e != 0 {
		return fail(e)
	}
	fd, op := uint64(uint32(a[2])), a[1]
	f := t.files.Get(fd)
	if f == nil {
		return fail(syscall.EBADF)
	}
	if _, ok := f.impl.(Waitable); !ok {
		return fail(syscall.EPERM) // regular files and directories
	}
	if f.impl == FileImpl(ep) {
		return fail(syscall.EINVAL)
	}
	var events uint32
	var data uint64
	if op != epollCtlDel {
		b, e := k.readBytes(a[3], 12)
		if e != 0 {
			return fail(e)
		}
		events = uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
		for i := 7; i >= 0; i-- {
			data = data<<8 | uint64(b[4+i])
		}
		events |= uint32(EventErr | EventHUp)
	}
	key := epkey{fd, f}
	it := ep.items[key]
	switch op {
	case epollCtlAdd:
		if it != nil {
			return fail(syscall.EEXIST)
		}
		it = &epitem{ep: ep, fd: fd, file: f, events: events, data: data}
		it.w = NewWaiter(EventMask(events), func(EventMask) { ep.markReady(it) })
		f.impl.(Waitable).Queue().Add(it.w)
		f.addReleaseHook(it)
		ep.items[key] = it
		if readiness(f, EventMask(events)) != 0 {
			ep.markReady(it)
		}
	case epollCtlMod:
		if it == nil {
			return fail(syscall.ENOENT)
		}
		if events&epollExclusive != 0 {
			return fail(syscall.EINVAL)
		}
		it.events, it.data = events, data
		it.w.mask = EventMask(events) | eventsAlways
		if readiness(f, EventMask(events)) != 0 {
			ep.markReady(it)
		}
	case epollCtlDel:
		if it == nil {
			return fail(syscall.ENOENT)
		}
		ep.remove(it)
		f.dropReleaseHook(it)
	default:
		return fail(syscall.EINVAL)
	}
	return ok0()
}

// fileReleased is the epoll side of closing a file's last descriptor
// (eventpoll_release): its items go.
func (it *epitem) fileReleased() { it.ep.remove(it) }

func epollPwaitHandler(k *Kernel, t *Task, a Args) (uint64, Result) {
	if e := k.tempMaskArg(t, a[4], a[5]); e != 0 {
		return fail(e)
	}
	return epollWaitHandler(k, t, a)
}

func epollWaitHandler(k *Kernel, t *Task, a Args) (uint64, Result) {
	ms := int64(int32(a[3]))
	ns := int64(-1)
	if ms >= 0 {
		ns = ms * 1e6
	}
	return k.epollWait(t, a[0], a[1], a[2], k.deadlineFor(ns))
}

func sysEpollPwait2(k *Kernel, t *Task, a Args) (uint64, Result) {
	if e := k.tempMaskArg(t, a[4], a[5]); e != 0 {
		return fail(e)
	}
	ns, e := k.timeoutArg(a[3], true)
	if e != 0 {
		return fail(e)
	}
	return k.epollWait(t, a[0], a[1], a[2], k.deadlineFor(ns))
}

func (k *Kernel) epollWait(t *Task, epfd, addr, max, deadline uint64) (uint64, Result) {
	ep, e := t.epollFile(epfd)
	if e != 0 {
		return fail(e)
	}
	maxEvents := int(int32(max))
	if maxEvents <= 0 || maxEvents > (1<<31-1)/12 {
		return fail(syscall.EINVAL)
	}
	return k.epollLoop(t, ep, addr, maxEvents, deadline)
}

func (k *Kernel) epollLoop(t *Task, ep *epollFile, addr uint64, maxEvents int, deadline uint64) (uint64, Result) {
	var out []byte
	var again []*epitem
	n := 0
	for len(ep.ready) > 0 && n < maxEvents {
		it := ep.ready[0]
		ep.ready = ep.ready[1:]
		it.ready = false
		r := readiness(it.file, EventMask(it.events))
		if r == 0 {
			continue
		}
		b := newStruct(12)
		b.u32(0, uint32(r))
		b.u64(4, it.data)
		out = append(out, b.b...)
		n++
		switch {
		case it.events&epollOneshot != 0:
			it.events &= epollFlags // disarmed until EPOLL_CTL_MOD
			it.w.mask = 0
		case it.events&epollET == 0:
			again = append(again, it) // level-triggered: still ready
		}
	}
	for _, it := range again {
		it.ready = true
		ep.ready = append(ep.ready, it)
	}
	if n > 0 {
		if e := k.writeBytes(addr, out); e != 0 {
			return fail(e)
		}
		return okv(uint64(n))
	}
	return t.waitReady([]*FileDescription{{impl: ep}}, []EventMask{EventIn}, deadline, syscall.EINTR,
		func() (uint64, Result) { return k.epollLoop(t, ep, addr, maxEvents, deadline) },
		func() (uint64, Result) { return ok0() })
}
