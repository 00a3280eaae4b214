package kernel

import (
	"syscall"

	"github.com/probesim/probesim/kernel/vfs"
)

// Sockets, inside the simulation only (net/socket.c, net/unix/af_unix.c,
// net/ipv4/tcp*.c and udp.c, reduced): AF_UNIX stream, datagram and
// seqpacket sockets on paths of the view and in the abstract namespace,
// and AF_INET/AF_INET6 TCP and UDP on loopback addresses, carried
// in-process. Nothing ever reaches the host's network: a destination that
// is not a loopback address is ENETUNREACH, a bind to an address that is
// not local is EADDRNOTAVAIL, both counted in the report.
//
// One type, sock, models every family: a socket has a receive queue of
// segments (a stream's bytes, or one datagram each), its shutdown bits
// (sk_shutdown), a pending error (sk_err), and for a connected stream the
// socket at the other end, whose receive queue it writes into. A TCP
// connection is established at connect time, as if the handshake over
// loopback took no time: there are no retransmissions, no TIME_WAIT and no
// congestion window, and the receiver's buffer (SO_RCVBUF) is the only
// flow control. Readiness and wake-ups go through each socket's wait
// queue, so poll, select, epoll, O_NONBLOCK and blocking work unchanged
// (waitqueue.go, block.go).

// Address families, socket types and protocols (include/linux/socket.h,
// net.h, uapi/linux/in.h).
const (
	afUnspec = 0
	afUnix   = 1
	afInet   = 2
	afInet6  = 10

	sockStream    = 1
	sockDgram     = 2
	sockRaw       = 3
	sockSeqpacket = 5
	sockTypeMask  = 0xf
	sockNonblock  = oNonblock
	sockCloexec   = oCloexec

	ipprotoIP   = 0
	ipprotoTCP  = 6
	ipprotoUDP  = 17
	ipprotoIPv6 = 41

	// sk_shutdown bits.
	rcvShutdown  = 1
	sendShutdown = 2
	shutdownMask = rcvShutdown | sendShutdown

	sockfsDev = 0x08 // sockfs's anonymous device on a typical system
)

// familyName names the families a report may show.
func familyName(f int) string {
	switch f {
	case afUnspec:
		return "AF_UNSPEC"
	case afUnix:
		return "AF_UNIX"
	case afInet:
		return "AF_INET"
	case afInet6:
		return "AF_INET6"
	case 4:
		return "AF_IPX"
	case 5:
		return "AF_APPLETALK"
	case 9:
		return "AF_X25"
	case 15:
		return "AF_KEY"
	case 16:
		return "AF_NETLINK"
	case 17:
		return "AF_PACKET"
	case 29:
		return "AF_CAN"
	case 31:
		return "AF_BLUETOOTH"
	case 38:
		return "AF_ALG"
	case 40:
		return "AF_VSOCK"
	case 44:
		return "AF_XDP"
	}
	return "AF_" + itoa(f)
}

func typeName(t int) string {
	switch t {
	case sockStream:
		return "SOCK_STREAM"
	case sockDgram:
		return "SOCK_DGRAM"
	case sockRaw:
		return "SOCK_RAW"
	case 4:
		return "SOCK_RDM"
	case sockSeqpacket:
		return "SOCK_SEQPACKET"
	case 6:
		return "SOCK_DCCP"
	case 10:
		return "SOCK_PACKET"
	}
	return "SOCK_" + itoa(t)
}

type sockState int

const (
	ssUnconnected sockState = iota // TCP_CLOSE: new, or its connection over
	ssListening
	ssConnecting // a connect waiting for room in the listener's queue
	ssConnected
)

// ucred is struct ucred (SO_PEERCRED, SCM_CREDENTIALS).
type ucred struct{ pid, uid, gid uint32 }

// segment is one unit of a receive queue: bytes of a stream written by
// one send (a stream merges plain sends into one), or one datagram.
type segment struct {
	data   []byte
	off    int // bytes of data already read (streams)
	from   sockAddr
	rights []*FileDescription // SCM_RIGHTS carried with the first byte
	cred   ucred
}

// sock is one socket of any family.
type sock struct {
	FileDefaults
	k                       *Kernel
	family, stype, protocol int
	ino                     uint64
	node                    *vfs.Node // the inode /proc/<pid>/fd/N leads to
	q                       WaitQueue
	// peerWait is where AF_UNIX datagram senders wait for room in this
	// socket's queue (unix_dgram_peer_wake_relay's peer_wait).
	peerWait WaitQueue

	state         sockState
	bound         bool
	local, remote sockAddr
	// peer: a connected stream's other end; an AF_UNIX datagram socket's
	// connected destination.
	peer *sock
	// peerGone: the other end of the stream was closed (TCP: its FIN).
	peerGone bool
	released bool

	rq      []segment
	rqBytes int // unread bytes in rq
	shut    int // rcvShutdown | sendShutdown
	soError syscall.Errno

	// Listening: connections waiting for accept (the accept queue, at
	// most backlog+1 of them) and connects waiting for room in it.
	backlog int
	acceptq []*sock
	pending []*sock
	// connectTo is the listener a connecting socket waits on.
	connectTo *sock

	cred     ucred // the peer's credentials (SO_PEERCRED)
	hasCred  bool
	abstract bool      // bound in the abstract namespace (local.path)
	bindNode *vfs.Node // the socket file it bound in the view
	opts     sockOpts
}

func (k *Kernel) ownCred() ucred {
	return ucred{pid: uint32(k.self().TGID), uid: uint32(k.cfg.UID), gid: uint32(k.cfg.UID)}
}

func (k *Kernel) newSock(family, stype, protocol int) *sock {
	k.pipeIno++
	s := &sock{k: k, family: family, stype: stype, protocol: protocol, ino: k.pipeIno}
	s.node = k.fs.NewSocket("socket:["+itoa(int(s.ino))+"]", sockfsDev)
	s.node.Private = s
	s.opts = defaultSockOpts(family, stype)
	s.local.family, s.remote.family = family, family
	return s
}

func (s *sock) isStream() bool { return s.stype != sockDgram }
func (s *sock) isInet() bool   { return s.family != afUnix }
func (s *sock) isTCP() bool    { return s.isInet() && s.stype == sockStream }

// space is the room left in s's receive buffer.
func (s *sock) space() int { return s.opts.rcvbuf - s.rqBytes }

// wake notifies s's waiters of ev.
func (s *sock) wake(ev EventMask) { s.q.Notify(ev) }

// evAll is every event a change of a socket's state (a close, a reset, a
// shutdown) may make ready or end.
const evAll = EventIn | EventRdNorm | EventOut | EventWrNorm | EventWrBand | EventErr | EventHUp | EventRdHUp

// Readiness is unix_poll, unix_dgram_poll, tcp_poll and udp_poll reduced
// to the model's states.
func (s *sock) Readiness(mask EventMask) EventMask {
	var r EventMask
	if s.soError != 0 {
		r |= EventErr
	}
	if s.shut == shutdownMask {
		r |= EventHUp
	}
	if s.shut&rcvShutdown != 0 {
		r |= EventIn | EventRdNorm | EventRdHUp
	}
	switch {
	case s.state == ssListening:
		if len(s.acceptq) > 0 {
			r |= EventIn | EventRdNorm
		}
		return r & (mask | eventsAlways)
	case len(s.rq) > 0:
		r |= EventIn | EventRdNorm
	}
	if s.isStream() {
		if s.state == ssUnconnected {
			r |= EventHUp // TCP_CLOSE
		}
		if s.state != ssConnecting && (s.state != ssConnected || s.peerGone || s.peer == nil || s.shut&sendShutdown != 0 ||
			s.peer.space() > 0) {
			r |= EventOut | EventWrNorm | EventWrBand
		}
	} else if p := s.peer; s.family != afUnix || p == nil || p.released || !p.dgramFull(s, 1) {
		r |= EventOut | EventWrNorm | EventWrBand
	}
	return r & (mask | eventsAlways)
}

func (s *sock) Queue() *WaitQueue { return &s.q }

func (s *sock) Stat() fileStat {
	return fileStat{mode: vfs.S_IFSOCK | 0o777, blksize: 4096, ino: s.ino, dev: sockfsDev, nlink: 1, guestOwned: true}
}

func (s *sock) linkText() string    { return "socket:[" + itoa(int(s.ino)) + "]" }
func (s *sock) linkNode() *vfs.Node { return s.node }
func (s *sock) readable() int {
	if s.isStream() {
		return s.rqBytes
	}
	if len(s.rq) > 0 {
		return len(s.rq[0].data) // FIONREAD of a datagram socket: the next one's size
	}
	return 0
}

// Read and Write serve sendfile and splice-like callers; read(2) and
// write(2) on a socket go through recv and send (rw.go's transfer).
func (s *sock) Read(f *FileDescription, dst []byte) (int, syscall.Errno) {
	r, e := s.recvOnce(len(dst), 0)
	return copy(dst, r.data), e
}

func (s *sock) Write(f *FileDescription, src []byte) (int, syscall.Errno) {
	n, e := s.sendOnce(src, nil, nil, 0)
	return n, e
}

// Release is the last close (unix_release_sock, tcp_close, udp_destroy).
func (s *sock) Release() {
	s.released = true
	s.unbind()
	for _, c := range s.acceptq {
		// Connections nobody accepted are reset (inet_csk_listen_stop;
		// unix_release_sock's embryos get ECONNRESET).
		c.abort()
		c.Release()
	}
	s.acceptq = nil
	for _, c := range s.pending {
		c.connectTo = nil
		c.state = ssUnconnected
		c.soError = syscall.ECONNREFUSED
		c.wake(evAll)
	}
	s.pending = nil
	if s.connectTo != nil {
		s.connectTo.dropPending(s)
	}
	unread := s.rqBytes > 0 || len(s.rq) > 0
	s.dropQueue()
	if p := s.peer; p != nil && s.isStream() && !p.released {
		p.peerGone = true
		switch {
		case !s.isTCP():
			p.shut = shutdownMask
			if unread {
				p.soError = syscall.ECONNRESET
			}
		case unread || s.opts.lingerOn && s.opts.linger == 0:
			// tcp_close sends a reset when data was left unread, or
			// with a zero linger time.
			p.shut = shutdownMask
			p.soError = syscall.ECONNRESET
			p.state = ssUnconnected
		default:
			p.shut |= rcvShutdown // the FIN
		}
		p.wake(evAll)
	}
	if s.family == afUnix && !s.isStream() {
		// Datagram sockets connected to s learn at their next send.
		s.peerWait.Notify(evAll)
	}
	s.peer = nil
}

func (s *sock) dropQueue() {
	for _, seg := range s.rq {
		for _, f := range seg.rights {
			f.DecRef()
		}
	}
	s.rq, s.rqBytes = nil, 0
}

func (s *sock) dropPending(c *sock) {
	for i, o := range s.pending {
		if o == c {
			s.pending = append(s.pending[:i], s.pending[i+1:]...)
			return
		}
	}
}

// sockOf returns the socket behind descriptor fd: EBADF if none is open,
// ENOTSOCK if it is not a socket.
func sockOf(t *Task, fd uint64) (*FileDescription, *sock, syscall.Errno) {
	f := t.files.Get(fd)
	if f == nil {
		return nil, nil, syscall.EBADF
	}
	s, ok := f.impl.(*sock)
	if !ok {
		return nil, nil, syscall.ENOTSOCK
	}
	return f, s, 0
}

// socketArgs checks socket(2)'s family, type and protocol as
// __sock_create and the families' create functions do, and returns the
// type without its flags and the protocol in effect.
func (k *Kernel) socketArgs(name string, family, typ, protocol uint64) (int, int, syscall.Errno) {
	stype := int(typ & sockTypeMask)
	if typ&^uint64(sockTypeMask|sockNonblock|sockCloexec) != 0 {
		return 0, 0, syscall.EINVAL
	}
	if family >= 46 { // AF_MAX
		return 0, 0, syscall.EAFNOSUPPORT
	}
	switch family {
	case afUnix:
		if protocol != 0 && protocol != afUnix {
			return 0, 0, syscall.EPROTONOSUPPORT
		}
		switch stype {
		case sockStream, sockDgram, sockSeqpacket:
		case sockRaw:
			stype = sockDgram // unix_create: SOCK_RAW is a datagram socket
		default:
			return 0, 0, syscall.ESOCKTNOSUPPORT
		}
		return stype, 0, 0
	case afInet, afInet6:
		switch {
		case stype == sockStream && (protocol == 0 || protocol == ipprotoTCP):
			return stype, ipprotoTCP, 0
		case stype == sockDgram && (protocol == 0 || protocol == ipprotoUDP):
			return stype, ipprotoUDP, 0
		case stype == sockRaw:
			// Linux needs CAP_NET_RAW, which the guest's identity lacks.
			k.unsupportedDetail(name, familyName(int(family))+" SOCK_RAW")
			return 0, 0, syscall.EPERM
		case stype == sockDgram && (protocol == 1 || protocol == 58):
			// Ping sockets: net.ipv4.ping_group_range excludes everyone by default.
			k.unsupportedDetail(name, familyName(int(family))+" ICMP")
			return 0, 0, syscall.EACCES
		case stype == sockStream || stype == sockDgram:
			switch protocol {
			case 33, 132, 136, 262: // DCCP, SCTP, UDP-Lite, MPTCP: real, not modelled
				k.unsupportedDetail(name, familyName(int(family))+" protocol "+itoa(int(protocol)))
			}
			return 0, 0, syscall.EPROTONOSUPPORT
		}
		k.unsupportedDetail(name, familyName(int(family))+" "+typeName(stype))
		return 0, 0, syscall.ESOCKTNOSUPPORT
	}
	k.unsupportedDetail(name, familyName(int(family)))
	return 0, 0, syscall.EAFNOSUPPORT
}

// sysSocket is socket(family, type, protocol).
func sysSocket(k *Kernel, t *Task, a Args) (uint64, Result) {
	stype, proto, e := k.socketArgs("socket", a[0], a[1], a[2])
	if e != 0 {
		return fail(e)
	}
	s := k.newSock(int(a[0]), stype, proto)
	fd, e := t.installFD(NewFileDescription(s, oReadWrite|uint32(a[1])&sockNonblock), a[1]&sockCloexec != 0)
	if e != 0 {
		return fail(e)
	}
	return okv(fd)
}

// sysSocketpair is socketpair(family, type, protocol, sv[2]): AF_UNIX
// only, as on Linux (the inet families have no socketpair: EOPNOTSUPP).
func sysSocketpair(k *Kernel, t *Task, a Args) (uint64, Result) {
	stype, proto, e := k.socketArgs("socketpair", a[0], a[1], a[2])
	if e != 0 {
		return fail(e)
	}
	if a[0] != afUnix {
		return fail(syscall.EOPNOTSUPP)
	}
	if t.files.lowestFree() >= k.nofile()-1 {
		return fail(syscall.EMFILE)
	}
	s1, s2 := k.newSock(afUnix, stype, proto), k.newSock(afUnix, stype, proto)
	s1.peer, s2.peer = s2, s1
	s1.state, s2.state = ssConnected, ssConnected
	s1.cred, s2.cred = k.ownCred(), k.ownCred()
	s1.hasCred, s2.hasCred = true, true
	flags := oReadWrite | uint32(a[1])&sockNonblock
	cloexec := a[1]&sockCloexec != 0
	fd1, e := t.installFD(NewFileDescription(s1, flags), cloexec)
	if e != 0 {
		return fail(e)
	}
	fd2, e := t.installFD(NewFileDescription(s2, flags), cloexec)
	if e != 0 {
		t.files.remove(fd1)
		return fail(e)
	}
	b := newStruct(8)
	b.u32(0, uint32(fd1))
	b.u32(4, uint32(fd2))
	if e := k.writeBytes(a[3], b.b); e != 0 {
		t.files.remove(fd1)
		t.files.remove(fd2)
		return fail(e)
	}
	return ok0()
}
