package kernel

import "syscall"

// Socket data: one attempt to send or receive (sendOnce, recvOnce), and
// the syscalls' loops around them that block, honour MSG_DONTWAIT,
// MSG_WAITALL, SO_RCVTIMEO and SO_SNDTIMEO, and move the bytes between
// guest iovecs and the model (unix_stream_sendmsg and _read_generic,
// unix_dgram_sendmsg and _recvmsg, tcp_sendmsg and tcp_recvmsg,
// udp_sendmsg and udp_recvmsg, reduced).

// send and recv flags (include/linux/socket.h).
const (
	msgOOB         = 0x1
	msgPeek        = 0x2
	msgDontroute   = 0x4
	msgCtrunc      = 0x8
	msgTrunc       = 0x20
	msgDontwait    = 0x40
	msgEOR         = 0x80
	msgWaitall     = 0x100
	msgConfirm     = 0x800
	msgErrqueue    = 0x2000
	msgNosignal    = 0x4000
	msgMore        = 0x8000
	msgFastopen    = 0x20000000
	msgCmsgCloexec = 0x40000000

	unixMaxDgramQlen = 10    // net.unix.max_dgram_qlen
	udpMaxPayload4   = 65507 // 65535 - IPv4 and UDP headers
	udpMaxPayload6   = 65527 // 65535 - UDP header (the IPv6 header is outside the length)
)

// sendReq is what a send carries besides its bytes.
type sendReq struct {
	to     *sock     // an AF_UNIX datagram destination named by address
	dest   *sockAddr // a UDP destination named by address
	rights []*FileDescription
	flags  int
}

// dgramFull reports whether an AF_UNIX datagram of n bytes from s must
// wait for room in s's destination d: a socket not connected back to the
// sender takes at most max_dgram_qlen datagrams (unix_recvq_full), and
// every sender is bounded by the buffer.
func (d *sock) dgramFull(s *sock, n int) bool {
	return d.peer != s && len(d.rq) >= unixMaxDgramQlen || d.rqBytes > 0 && d.space() < n
}

// pipeError is EPIPE with SIGPIPE unless MSG_NOSIGNAL.
func (s *sock) pipeError(flags int) syscall.Errno {
	if flags&msgNosignal == 0 {
		s.k.sigpipe()
	}
	return syscall.EPIPE
}

// takeError returns and clears the pending error (sock_error).
func (s *sock) takeError() syscall.Errno {
	e := s.soError
	s.soError = 0
	return e
}

// sendOnce makes one attempt to send data: the bytes taken (a stream may
// take part), or an errno, EAGAIN meaning no room; wait is then the queue
// to sleep on. Rights are handed over only when it returns no error.
func (s *sock) sendOnce(data []byte, req *sendReq, wait **WaitQueue, flags int) (int, syscall.Errno) {
	if req == nil {
		req = &sendReq{flags: flags}
	}
	if wait != nil {
		*wait = &s.q
	}
	switch {
	case s.isStream():
		return s.sendStream(data, req)
	case s.family == afUnix:
		return s.sendUnixDgram(data, req, wait)
	}
	return s.sendUDP(data, req)
}

func (s *sock) sendStream(data []byte, req *sendReq) (int, syscall.Errno) {
	if s.isTCP() {
		if e := s.takeError(); e != 0 {
			return 0, e
		}
		if s.state != ssConnected || s.shut&sendShutdown != 0 {
			return 0, s.pipeError(req.flags)
		}
	} else {
		if s.state != ssConnected || s.peer == nil {
			return 0, syscall.ENOTCONN
		}
		if s.shut&sendShutdown != 0 || s.peer.released || s.peer.shut&rcvShutdown != 0 {
			return 0, s.pipeError(req.flags)
		}
	}
	p := s.peer
	if s.peerGone || p == nil || p.released {
		// TCP: the other end is closed; the data goes out and a reset
		// comes back, so the next send fails.
		s.shut, s.soError, s.state = shutdownMask, syscall.ECONNRESET, ssUnconnected
		s.wake(evAll)
		return len(data), 0
	}
	if len(data) == 0 {
		return 0, 0
	}
	n := len(data)
	if s.stype == sockSeqpacket {
		if n > s.opts.sndbuf {
			return 0, syscall.EMSGSIZE
		}
		if p.rqBytes > 0 && p.space() < n {
			return 0, syscall.EAGAIN
		}
	} else {
		n = min(n, p.space())
		if n <= 0 {
			return 0, syscall.EAGAIN
		}
	}
	seg := segment{data: append([]byte(nil), data[:n]...), from: s.local, rights: req.rights, cred: s.k.ownCred()}
	if last := len(p.rq) - 1; s.stype == sockStream && req.rights == nil && last >= 0 && p.rq[last].rights == nil {
		p.rq[last].data = append(p.rq[last].data, seg.data...)
	} else {
		p.rq = append(p.rq, seg)
	}
	p.rqBytes += n
	p.wake(EventIn | EventRdNorm)
	return n, 0
}

func (s *sock) sendUnixDgram(data []byte, req *sendReq, wait **WaitQueue) (int, syscall.Errno) {
	d := req.to
	if d == nil {
		d = s.peer
		if d == nil {
			return 0, syscall.ENOTCONN
		}
		if d.released {
			// unix_dgram_disconnected: the peer is forgotten.
			s.peer, s.state = nil, ssUnconnected
			return 0, syscall.ECONNREFUSED
		}
	}
	if d.released {
		return 0, syscall.ECONNREFUSED // it closed while the sender waited
	}
	if d.peer != nil && d.peer != s {
		return 0, syscall.EPERM // unix_may_send
	}
	if s.shut&sendShutdown != 0 || d.shut&rcvShutdown != 0 {
		return 0, syscall.EPIPE
	}
	if len(data) > s.opts.sndbuf-32 {
		return 0, syscall.EMSGSIZE
	}
	if d.dgramFull(s, len(data)) {
		if wait != nil {
			*wait = &d.peerWait
		}
		return 0, syscall.EAGAIN
	}
	d.rq = append(d.rq, segment{data: append([]byte(nil), data...), from: s.local, rights: req.rights, cred: s.k.ownCred()})
	d.rqBytes += len(data)
	d.wake(EventIn | EventRdNorm)
	return len(data), 0
}

func (s *sock) sendUDP(data []byte, req *sendReq) (int, syscall.Errno) {
	var dest sockAddr
	switch {
	case req.dest != nil:
		dest = *req.dest
	case s.state == ssConnected:
		dest = s.remote
	default:
		return 0, syscall.EDESTADDRREQ
	}
	if e := s.takeError(); e != 0 {
		return 0, e
	}
	limit := udpMaxPayload4
	if s.family == afInet6 {
		limit = udpMaxPayload6
	}
	if len(data) > limit {
		return 0, syscall.EMSGSIZE
	}
	if !s.bound {
		if e := s.k.claimPort(s, 0, syscall.EAGAIN); e != 0 {
			return 0, e
		}
	}
	src := sockAddr{ip: s.sourceFor(dest), port: s.local.port}
	r := s.k.lookupInet(1, dest, func(o *sock) bool {
		return o.state != ssConnected || o.remote.ip == src.ip && o.remote.port == src.port
	})
	switch {
	case r == nil:
		// ICMP port unreachable: a connected socket hears of it.
		if s.state == ssConnected {
			s.soError = syscall.ECONNREFUSED
			s.wake(EventErr)
		}
	case r.shut&rcvShutdown != 0 || r.rqBytes+len(data) > r.opts.rcvbuf:
		// Dropped, as udp_queue_rcv_skb drops on a full buffer.
	default:
		src.family = r.family
		r.rq = append(r.rq, segment{data: append([]byte(nil), data...), from: src})
		r.rqBytes += len(data)
		r.wake(EventIn | EventRdNorm)
	}
	return len(data), 0
}

// recvResult is what one receive got.
type recvResult struct {
	data    []byte
	full    int // a datagram's whole length
	from    sockAddr
	named   bool // from is an address (not an unnamed AF_UNIX sender)
	rights  []*FileDescription
	cred    ucred
	hasCred bool
}

// recvOnce makes one attempt to receive at most max bytes. It returns
// EAGAIN when nothing is there yet, and a zero-length result at end of
// stream.
func (s *sock) recvOnce(max int, flags int) (recvResult, syscall.Errno) {
	var r recvResult
	if s.state == ssListening {
		if s.isTCP() {
			return r, syscall.ENOTCONN
		}
		return r, syscall.EINVAL
	}
	if len(s.rq) == 0 {
		if e := s.takeError(); e != 0 {
			return r, e
		}
		if s.shut&rcvShutdown != 0 {
			return r, 0
		}
		if s.isTCP() && s.state != ssConnected {
			return r, syscall.ENOTCONN
		}
		return r, syscall.EAGAIN
	}
	peek := flags&msgPeek != 0
	first := s.rq[0]
	r.from, r.cred, r.hasCred = first.from, first.cred, true
	r.named = first.from.family != afUnix || first.from.path != ""
	if !s.isStream() || s.stype == sockSeqpacket {
		// One record, the rest of it discarded.
		r.full = len(first.data)
		r.data = append([]byte(nil), first.data[:min(max, len(first.data))]...)
		r.rights = first.rights
		if peek {
			r.rights = dupRights(first.rights)
		} else {
			s.rq = s.rq[1:]
			s.rqBytes -= len(first.data)
		}
		s.readSpace()
		return r, 0
	}
	if max == 0 {
		return r, 0 // nothing asked for: nothing consumed, no descriptors
	}
	var used int // segments wholly consumed
	for i := range s.rq {
		seg := &s.rq[i] // only the first can be partly read already
		start := seg.off
		n := min(max-len(r.data), len(seg.data)-start)
		r.data = append(r.data, seg.data[start:start+n]...)
		if !peek {
			seg.off = start + n
			if seg.off == len(seg.data) {
				used++
			}
		}
		if seg.rights != nil {
			// A read stops after the bytes that carried descriptors.
			if peek {
				r.rights = dupRights(seg.rights)
			} else {
				r.rights, seg.rights = seg.rights, nil
			}
			break
		}
		if len(r.data) == max {
			break
		}
	}
	if !peek {
		s.rq = s.rq[used:]
		s.rqBytes -= len(r.data)
		if len(s.rq) == 0 {
			s.rq = nil
		}
	}
	r.full = len(r.data)
	s.readSpace()
	return r, 0
}

// readSpace tells writers waiting for room in s's queue that there is.
func (s *sock) readSpace() {
	if p := s.peer; p != nil && !p.released && (s.isStream() || p.peer == s) {
		p.wake(EventOut | EventWrNorm | EventWrBand)
	}
	s.peerWait.Notify(EventOut | EventWrNorm)
}

func dupRights(fs []*FileDescription) []*FileDescription {
	if fs == nil {
		return nil
	}
	out := append([]*FileDescription(nil), fs...)
	for _, f := range out {
		f.IncRef()
	}
	return out
}

// gather reads n bytes at offset off of the guest vector segs.
func (k *Kernel) gather(segs []iovec, off, n uint64) ([]byte, syscall.Errno) {
	out := make([]byte, 0, n)
	for _, sg := range segs {
		if n == 0 {
			break
		}
		if off >= sg.len {
			off -= sg.len
			continue
		}
		take := min(sg.len-off, n)
		b, e := k.readBytes(sg.base+off, int(take))
		if e != 0 {
			return nil, e
		}
		out = append(out, b...)
		n -= take
		off = 0
	}
	return out, 0
}

// scatter writes b at offset off of the guest vector segs.
func (k *Kernel) scatter(segs []iovec, off uint64, b []byte) syscall.Errno {
	for _, sg := range segs {
		if len(b) == 0 {
			break
		}
		if off >= sg.len {
			off -= sg.len
			continue
		}
		take := min(sg.len-off, uint64(len(b)))
		if e := k.writeBytes(sg.base+off, b[:take]); e != 0 {
			return e
		}
		b = b[take:]
		off = 0
	}
	return 0
}

func segsTotal(segs []iovec) uint64 {
	var t uint64
	for _, s := range segs {
		t += s.len
	}
	return t
}

// sockSend sends the guest vector segs on s, done bytes of it sent
// already: a stream sends it all, waiting for room unless non-blocking
// (then what went through counts); a datagram goes whole or not at all.
func (k *Kernel) sockSend(t *Task, f *FileDescription, s *sock, segs []iovec, req *sendReq, deadline, done uint64) (uint64, Result) {
	total := segsTotal(segs)
	nonblock := f.flags&oNonblock != 0 || req.flags&msgDontwait != 0
	for {
		var chunk uint64
		switch {
		case s.stype == sockStream:
			chunk = min(total-done, ioChunk)
		case total > 1<<20:
			return fail(syscall.EMSGSIZE) // beyond any buffer
		default:
			chunk = total
		}
		data, e := k.gather(segs, done, chunk)
		if e != 0 {
			return partialResult(done, e)
		}
		var wait *WaitQueue
		n, e := s.sendOnce(data, req, &wait, req.flags)
		if e == 0 {
			req.rights = nil // handed over with the first bytes
		}
		done += uint64(n)
		switch {
		case e == syscall.EAGAIN:
		case e != 0:
			req.releaseRights()
			return partialResult(done, e)
		case done >= total || s.stype != sockStream:
			return okv(done)
		case n > 0:
			continue
		}
		if nonblock {
			req.releaseRights()
			return partialResult(done, syscall.EAGAIN)
		}
		if deadline == 0 {
			deadline = k.sockDeadline(s.opts.sndtimeo)
		}
		return k.sockWait(t, f, wait, EventOut, deadline, func() (uint64, Result) {
			return k.sockSend(t, f, s, segs, req, deadline, done)
		}, stopWith(done, deadline, req.releaseRights))
	}
}

func (r *sendReq) releaseRights() {
	for _, f := range r.rights {
		f.DecRef()
	}
	r.rights = nil
}

// partialResult is the bytes done, or e when none were.
func partialResult(done uint64, e syscall.Errno) (uint64, Result) {
	if done > 0 {
		return okv(done)
	}
	return fail(e)
}

// sockWait blocks t until q notifies one of mask or deadline passes; then
// again runs the call on, or (a signal, the deadline) stop ends it.
func (k *Kernel) sockWait(t *Task, f *FileDescription, q *WaitQueue, mask EventMask, deadline uint64,
	again func() (uint64, Result), stop func(wakeReason) (uint64, Result)) (uint64, Result) {
	f.IncRef() // the call holds the file while it sleeps
	return t.blockOnQueues([]*WaitQueue{q}, []EventMask{mask}, deadline, func(_ *Task, why wakeReason) (uint64, Result) {
		defer f.DecRef()
		if why == wokenByEvent {
			return again()
		}
		return stop(why)
	})
}

// stopWith is the usual end of an interrupted socket call with done bytes
// transferred: those count; none is EAGAIN after the timeout, EINTR for
// a signal when a timeout was set (sock_intr_errno), else a restart.
func stopWith(done, deadline uint64, cleanup func()) func(wakeReason) (uint64, Result) {
	return func(why wakeReason) (uint64, Result) {
		if cleanup != nil {
			cleanup()
		}
		switch {
		case done > 0:
			return okv(done)
		case why == wokenByTimeout:
			return fail(syscall.EAGAIN)
		case deadline != 0:
			return fail(syscall.EINTR)
		}
		return fail(errRestartSys)
	}
}

// recvDone finishes a receive: the result, the bytes copied, and the
// value the syscall returns.
type recvDone func(r *recvResult, copied uint64) (uint64, Result)

// sockRecv receives into the guest vector segs, done bytes of it filled
// already (MSG_WAITALL goes on until all are); first holds what the first
// receive got (the sender's address, the descriptors).
func (k *Kernel) sockRecv(t *Task, f *FileDescription, s *sock, segs []iovec, flags int, deadline, done uint64,
	first *recvResult, finish recvDone) (uint64, Result) {
	total := segsTotal(segs)
	nonblock := f.flags&oNonblock != 0 || flags&msgDontwait != 0
	for {
		r, e := s.recvOnce(int(min(total-done, maxRW)), flags)
		if e == syscall.EAGAIN {
			if done > 0 && (nonblock || flags&msgWaitall == 0) {
				return finish(first, done)
			}
			if nonblock {
				return fail(e)
			}
			if deadline == 0 {
				deadline = k.sockDeadline(s.opts.rcvtimeo)
			}
			stop := stopWith(0, deadline, nil)
			return k.sockWait(t, f, &s.q, EventIn, deadline, func() (uint64, Result) {
				return k.sockRecv(t, f, s, segs, flags, deadline, done, first, finish)
			}, func(why wakeReason) (uint64, Result) {
				if done > 0 {
					return finish(first, done) // what MSG_WAITALL got so far
				}
				return stop(why)
			})
		}
		if e != 0 {
			if done > 0 {
				return finish(first, done)
			}
			return fail(e)
		}
		if first == nil {
			first = &r
		} else if r.rights != nil {
			first.rights = append(first.rights, r.rights...)
		}
		discard := s.isTCP() && flags&msgTrunc != 0
		if !discard {
			if e := k.scatter(segs, done, r.data); e != 0 {
				return fail(e)
			}
		}
		done += uint64(len(r.data))
		if flags&msgWaitall == 0 || flags&msgPeek != 0 || s.stype != sockStream || len(r.data) == 0 ||
			r.rights != nil || done >= total {
			return finish(first, done)
		}
	}
}
