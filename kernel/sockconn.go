package kernel

import (
	"encoding/binary"
	"syscall"
)

// bind, listen, connect, accept, shutdown, getsockname and getpeername
// (net/socket.c and the families' proto_ops).

const somaxconn = 4096 // net.core.somaxconn

func sysBind(k *Kernel, t *Task, a Args) (uint64, Result) {
	_, s, e := sockOf(t, a[0])
	if e != 0 {
		return fail(e)
	}
	b, e := k.readSockaddr(a[1], a[2])
	if e != 0 {
		return fail(e)
	}
	if s.family == afUnix {
		ua, auto, e := unixAddr(b)
		if e != 0 {
			return fail(e)
		}
		return fail0(k.bindUnix(t, s, ua, auto))
	}
	x, e := inetAddr(s.family, b)
	if e != 0 {
		return fail(e)
	}
	if x.family == afUnspec {
		// inet_bind accepts AF_UNSPEC with INADDR_ANY, for old programs.
		if s.family != afInet || !x.isAny() {
			return fail(syscall.EAFNOSUPPORT)
		}
	}
	return fail0(k.bindInet(s, x, "bind"))
}

// fail0 is ok0 for errno 0, else fail.
func fail0(e syscall.Errno) (uint64, Result) {
	if e != 0 {
		return fail(e)
	}
	return ok0()
}

func sysListen(k *Kernel, t *Task, a Args) (uint64, Result) {
	_, s, e := sockOf(t, a[0])
	if e != 0 {
		return fail(e)
	}
	if !s.isStream() {
		return fail(syscall.EOPNOTSUPP)
	}
	if s.state == ssConnected || s.state == ssConnecting {
		return fail(syscall.EINVAL)
	}
	if !s.bound {
		if s.family == afUnix {
			return fail(syscall.EINVAL)
		}
		if e := k.claimPort(s, 0, syscall.EADDRINUSE); e != 0 {
			return fail(e)
		}
	}
	if s.isTCP() && s.state != ssListening {
		for _, o := range k.net().ports[0][s.local.port] {
			if o != s && o.state == ssListening && s.conflicts(o, true) {
				return fail(syscall.EADDRINUSE)
			}
		}
	}
	backlog := uint32(a[1])
	if backlog > somaxconn {
		backlog = somaxconn
	}
	s.backlog = int(backlog)
	s.state = ssListening
	if s.family == afUnix {
		s.cred, s.hasCred = k.ownCred(), true // unix_listen's init_peercred
	}
	k.promote(s)
	return ok0()
}

// dissolve reports whether an address is AF_UNSPEC, which disconnects a
// datagram socket (and aborts a TCP connection).
func dissolve(b []byte) bool { return len(b) >= 2 && binary.LittleEndian.Uint16(b) == afUnspec }

func sysConnect(k *Kernel, t *Task, a Args) (uint64, Result) {
	f, s, e := sockOf(t, a[0])
	if e != 0 {
		return fail(e)
	}
	b, e := k.readSockaddr(a[1], a[2])
	if e != 0 {
		return fail(e)
	}
	nonblock := f.flags&oNonblock != 0
	if s.family == afUnix {
		if !s.isStream() && dissolve(b) {
			s.peer, s.remote, s.state = nil, sockAddr{family: afUnix}, ssUnconnected
			return ok0()
		}
		ua, auto, e := unixAddr(b)
		if e != 0 || auto {
			return fail(syscall.EINVAL)
		}
		if s.isStream() {
			switch s.state {
			case ssListening:
				return fail(syscall.EINVAL)
			case ssConnected:
				return fail(syscall.EISCONN)
			case ssConnecting:
				return fail(syscall.EALREADY)
			}
		}
		o, e := k.findUnix(t, s, ua)
		if e != 0 {
			return fail(e)
		}
		if !s.isStream() {
			s.peer, s.remote, s.state = o, o.local, ssConnected
			return ok0()
		}
		if o.state != ssListening {
			return fail(syscall.ECONNREFUSED)
		}
		s.remote = o.local
		return k.streamConnect(t, s, o, nonblock)
	}
	if dissolve(b) {
		if s.isTCP() && s.state == ssConnected {
			s.abort()
		}
		s.state, s.remote = ssUnconnected, sockAddr{family: s.family}
		return ok0()
	}
	x, e := inetAddr(s.family, b)
	if e != 0 {
		return fail(e)
	}
	if s.isTCP() {
		switch s.state {
		case ssConnected, ssListening:
			return fail(syscall.EISCONN)
		case ssConnecting:
			return fail(syscall.EALREADY)
		}
	}
	x, e = k.loopbackDest(s, x, "connect")
	if e != 0 {
		return fail(e)
	}
	if !s.bound {
		if e := k.claimPort(s, 0, syscall.EADDRNOTAVAIL); e != 0 {
			return fail(e)
		}
	}
	s.local.ip = s.sourceFor(x)
	s.remote = x
	if !s.isTCP() {
		s.state = ssConnected
		return ok0()
	}
	l := k.lookupInet(0, x, func(o *sock) bool { return o.state == ssListening })
	if l == nil {
		// The reset comes back at once over loopback: a blocking connect
		// sees it, a non-blocking one finds it in SO_ERROR.
		if nonblock {
			s.soError = syscall.ECONNREFUSED
			s.wake(evAll)
			return fail(syscall.EINPROGRESS)
		}
		return fail(syscall.ECONNREFUSED)
	}
	return k.streamConnect(t, s, l, nonblock)
}

// streamConnect connects s to the listener l, or queues it until l's
// accept queue has room (a blocking connect waits; a non-blocking TCP
// connect is in progress; a non-blocking AF_UNIX one is EAGAIN, as in
// unix_stream_connect).
func (k *Kernel) streamConnect(t *Task, s, l *sock, nonblock bool) (uint64, Result) {
	if len(l.acceptq) > l.backlog {
		if nonblock && !s.isTCP() {
			return fail(syscall.EAGAIN)
		}
		s.state, s.connectTo = ssConnecting, l
		l.pending = append(l.pending, s)
		if nonblock {
			return fail(syscall.EINPROGRESS)
		}
		return s.waitConnect(t)
	}
	k.establish(s, l)
	if nonblock && s.isTCP() {
		return fail(syscall.EINPROGRESS)
	}
	return ok0()
}

// waitConnect sleeps until a queued connect is established or refused.
// Deviation: a signal takes the connect back out of the queue and
// restarts it (or fails with EINTR), where Linux lets a TCP handshake go
// on and a restarted connect sees EALREADY.
func (s *sock) waitConnect(t *Task) (uint64, Result) {
	return t.blockOnQueues([]*WaitQueue{&s.q}, []EventMask{EventOut | EventErr}, 0, func(t *Task, why wakeReason) (uint64, Result) {
		switch {
		case s.state == ssConnected:
			return ok0()
		case s.state != ssConnecting:
			e := s.soError
			s.soError = 0
			if e == 0 {
				e = syscall.ECONNREFUSED
			}
			return fail(e)
		case why == wokenBySignal:
			if s.connectTo != nil {
				s.connectTo.dropPending(s)
			}
			s.state, s.connectTo = ssUnconnected, nil
			return fail(errRestartSys)
		}
		return s.waitConnect(t)
	})
}

// establish makes the connection between s and a new socket in l's accept
// queue (the handshake, or unix_stream_connect's embryo).
func (k *Kernel) establish(s, l *sock) {
	c := k.newSock(l.family, l.stype, l.protocol)
	c.opts = l.opts
	c.state, s.state = ssConnected, ssConnected
	c.peer, s.peer = s, c
	if s.family == afUnix {
		// SO_PEERCRED: the connecting process's, and the listener's
		// (init_peercred, copy_peercred); one process is both.
		c.cred, s.cred = k.ownCred(), k.ownCred()
		c.hasCred, s.hasCred = true, true
	}
	c.remote = s.local
	if s.family == afUnix {
		c.local = l.local // the name, not the binding: closing c frees nothing
	} else {
		c.local = sockAddr{family: l.family, ip: s.remote.ip, port: l.local.port}
		// An accepted socket holds its listener's port (__inet_inherit_port).
		pi := c.protoIndex()
		k.net().ports[pi][c.local.port] = append(k.net().ports[pi][c.local.port], c)
		c.bound = true
	}
	l.acceptq = append(l.acceptq, c)
	k.net().connected++
	l.wake(EventIn | EventRdNorm)
	s.wake(EventOut | EventWrNorm | EventWrBand)
}

// promote establishes queued connects while l's accept queue has room.
func (k *Kernel) promote(l *sock) {
	for len(l.pending) > 0 && len(l.acceptq) <= l.backlog {
		p := l.pending[0]
		l.pending = l.pending[1:]
		p.connectTo = nil
		k.establish(p, l)
	}
}

// abort resets s's connection (tcp_disconnect, a zero-linger close).
func (s *sock) abort() {
	if p := s.peer; p != nil && !p.released {
		p.shut, p.soError, p.state, p.peerGone = shutdownMask, syscall.ECONNRESET, ssUnconnected, true
		p.wake(evAll)
	}
	s.peer = nil
	s.dropQueue()
	s.shut = 0
}

func sysAccept(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.accept(t, a[0], a[1], a[2], 0, 0)
}

func sysAccept4(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.accept(t, a[0], a[1], a[2], a[3], 0)
}

func (k *Kernel) accept(t *Task, fd, addr, lenAddr, flags, deadline uint64) (uint64, Result) {
	if flags&^uint64(sockNonblock|sockCloexec) != 0 {
		return fail(syscall.EINVAL)
	}
	f, s, e := sockOf(t, fd)
	if e != 0 {
		return fail(e)
	}
	if !s.isStream() {
		return fail(syscall.EOPNOTSUPP)
	}
	if s.state != ssListening {
		return fail(syscall.EINVAL)
	}
	if t.files.lowestFree() >= k.nofile() {
		return fail(syscall.EMFILE)
	}
	if len(s.acceptq) == 0 {
		if f.flags&oNonblock != 0 {
			return fail(syscall.EAGAIN)
		}
		if deadline == 0 {
			deadline = k.sockDeadline(s.opts.rcvtimeo)
		}
		return k.sockWait(t, f, &s.q, EventIn, deadline, func() (uint64, Result) {
			return k.accept(t, fd, addr, lenAddr, flags, deadline)
		}, stopWith(0, deadline, nil))
	}
	c := s.acceptq[0]
	s.acceptq = s.acceptq[1:]
	k.promote(s)
	nfd, e := t.installFD(NewFileDescription(c, oReadWrite|uint32(flags)&sockNonblock), flags&sockCloexec != 0)
	if e != 0 {
		return fail(e)
	}
	if addr != 0 {
		if e := k.putSockaddr(c.remote.encode(c.family), addr, lenAddr); e != 0 {
			// Linux keeps the new descriptor and reports the fault.
			t.files.remove(nfd)
			return fail(e)
		}
	}
	return okv(nfd)
}

func sysShutdown(k *Kernel, t *Task, a Args) (uint64, Result) {
	_, s, e := sockOf(t, a[0])
	if e != 0 {
		return fail(e)
	}
	if a[1] > 2 {
		return fail(syscall.EINVAL)
	}
	mode := int(a[1]) + 1 // SHUT_RD, SHUT_WR, SHUT_RDWR to sk_shutdown bits
	// The peer's view: our SEND_SHUTDOWN is its RCV_SHUTDOWN and back.
	peerMode := (mode&rcvShutdown)<<1 | (mode&sendShutdown)>>1
	if s.family == afUnix {
		s.shut |= mode
		if p := s.peer; p != nil && s.isStream() && !p.released {
			p.shut |= peerMode
			p.wake(evAll)
		}
		s.wake(evAll)
		return ok0()
	}
	switch s.state {
	case ssListening:
		if mode&rcvShutdown != 0 {
			s.stopListening()
		}
		return ok0()
	case ssConnected:
		s.shut |= mode
		if p := s.peer; s.isTCP() && p != nil && !p.released && mode&sendShutdown != 0 {
			p.shut |= rcvShutdown // the FIN
			p.wake(evAll)
		}
		s.wake(evAll)
		return ok0()
	}
	s.shut |= mode
	s.wake(evAll)
	return fail(syscall.ENOTCONN)
}

// stopListening is inet_csk_listen_stop: queued connections are reset.
func (s *sock) stopListening() {
	for _, c := range s.acceptq {
		c.opts.lingerOn, c.opts.linger = true, 0
		c.Release()
	}
	for _, c := range s.pending {
		c.connectTo, c.state, c.soError = nil, ssUnconnected, syscall.ECONNREFUSED
		c.wake(evAll)
	}
	s.acceptq, s.pending, s.state = nil, nil, ssUnconnected
	s.wake(evAll)
}

func sysGetsockname(k *Kernel, t *Task, a Args) (uint64, Result) {
	_, s, e := sockOf(t, a[0])
	if e != 0 {
		return fail(e)
	}
	return fail0(k.putSockaddr(s.local.encode(s.family), a[1], a[2]))
}

func sysGetpeername(k *Kernel, t *Task, a Args) (uint64, Result) {
	_, s, e := sockOf(t, a[0])
	if e != 0 {
		return fail(e)
	}
	if s.family == afUnix && s.peer == nil || s.family != afUnix && s.state != ssConnected {
		return fail(syscall.ENOTCONN)
	}
	return fail0(k.putSockaddr(s.remote.encode(s.family), a[1], a[2]))
}

// sockDeadline is the deadline of a wait with timeout SO_RCVTIMEO or
// SO_SNDTIMEO (jiffies, 0: none).
func (k *Kernel) sockDeadline(j int64) uint64 {
	if j <= 0 {
		return 0
	}
	return k.deadlineFor(jiffiesToNS(j))
}
