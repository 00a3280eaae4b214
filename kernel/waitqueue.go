package kernel

// Wait queues (include/linux/wait.h, reduced): a file keeps one queue of
// the waiters interested in its readiness; when its state changes it
// notifies the queue with the events that may now be ready, and every
// waiter whose mask meets them is called, in the order they were added.
// A task blocked on files (a read of an empty pipe, poll, epoll_wait)
// waits through such entries; epoll's own entries mark its items ready.

// EventMask is a set of poll events (include/uapi/asm-generic/poll.h).
type EventMask uint32

const (
	EventIn     EventMask = 0x001
	EventPri    EventMask = 0x002
	EventOut    EventMask = 0x004
	EventErr    EventMask = 0x008
	EventHUp    EventMask = 0x010
	EventNVal   EventMask = 0x020
	EventRdNorm EventMask = 0x040
	EventRdBand EventMask = 0x080
	EventWrNorm EventMask = 0x100
	EventWrBand EventMask = 0x200
	EventMsg    EventMask = 0x400
	EventRdHUp  EventMask = 0x2000

	// eventsAlways are reported whatever the caller asked for.
	eventsAlways = EventErr | EventHUp | EventNVal
)

// Waiter is one entry of a wait queue.
type Waiter struct {
	mask   EventMask
	notify func(ready EventMask)
	q      *WaitQueue
}

// WaitQueue is a FIFO of waiters.
type WaitQueue struct {
	waiters []*Waiter
}

// NewWaiter returns an entry calling notify with the ready events for
// notifications that meet mask (errors and hang-ups always do).
func NewWaiter(mask EventMask, notify func(EventMask)) *Waiter {
	return &Waiter{mask: mask | eventsAlways, notify: notify}
}

// Add puts w at the tail of q.
func (q *WaitQueue) Add(w *Waiter) {
	w.q = q
	q.waiters = append(q.waiters, w)
}

// Remove takes w off its queue, if it is on one.
func (w *Waiter) Remove() {
	q := w.q
	if q == nil {
		return
	}
	for i, o := range q.waiters {
		if o == w {
			q.waiters = append(q.waiters[:i], q.waiters[i+1:]...)
			break
		}
	}
	w.q = nil
}

// Notify calls every waiter interested in ready, oldest first. A waiter's
// callback may remove waiters (itself included) or add new ones: Notify
// works on a copy of the queue and skips entries removed meanwhile.
func (q *WaitQueue) Notify(ready EventMask) {
	if len(q.waiters) == 0 {
		return
	}
	ws := append([]*Waiter(nil), q.waiters...)
	for _, w := range ws {
		if w.q == q && w.mask&ready != 0 {
			w.notify(ready)
		}
	}
}

// Len is the number of waiters.
func (q *WaitQueue) Len() int { return len(q.waiters) }
