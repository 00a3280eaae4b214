package kernel

import (
	"fmt"
	"syscall"

	"github.com/probesim/probesim/kernel/vfs"
)

// Socket names: AF_UNIX sockets bound to paths of the view (a socket inode
// made in the view's overlay, as unix_bind's mknod) or to names of the
// abstract namespace, and the inet families' port tables, one per
// protocol, on the loopback network.
//
// Deviations: ephemeral ports come from a counter over Linux's default
// ip_local_port_range (32768-60999), where Linux hashes and randomises;
// autobound AF_UNIX names count up from 00000 where Linux starts at a
// random number. A closed TCP socket frees its port at once (there is no
// TIME_WAIT), so SO_REUSEADDR matters only between sockets that are open.

const (
	ephemeralLow  = 32768
	ephemeralHigh = 60999
	unprivPorts   = 1024 // net.ipv4.ip_unprivileged_port_start
)

// netState is the simulated network: the abstract namespace and the
// sockets bound to each port, in bind order, per protocol (TCP, UDP).
type netState struct {
	abstract  map[string]*sock
	ports     [2]map[uint16][]*sock
	next      [2]uint16
	autobind  uint32
	connected uint64 // connections established, for the report
}

func (k *Kernel) net() *netState {
	if k.netst == nil {
		k.netst = &netState{abstract: map[string]*sock{},
			ports: [2]map[uint16][]*sock{{}, {}}, next: [2]uint16{ephemeralLow, ephemeralLow}}
	}
	return k.netst
}

func (s *sock) protoIndex() int {
	if s.stype == sockDgram {
		return 1
	}
	return 0
}

// bindUnix names s: a path of the view, an abstract name, or (autobind)
// the next free five-hex-digit abstract name.
func (k *Kernel) bindUnix(t *Task, s *sock, a sockAddr, autobind bool) syscall.Errno {
	if s.bound {
		return syscall.EINVAL
	}
	ns := k.net()
	switch {
	case autobind:
		for i := 0; ; i++ {
			if i > 0xfffff {
				return syscall.ENOSPC
			}
			name := fmt.Sprintf("%05x", ns.autobind&0xfffff)
			ns.autobind++
			if ns.abstract[name] == nil {
				a = sockAddr{family: afUnix, abstract: true, path: name}
				break
			}
		}
		fallthrough
	case a.abstract:
		if ns.abstract[a.path] != nil {
			return syscall.EADDRINUSE
		}
		ns.abstract[a.path] = s
		s.abstract = true
	default:
		dir, last, _, e := t.parentAt(atFDCWDArg, a.path)
		if e != 0 {
			return e
		}
		n, e := k.fs.Create(dir, last, vfs.S_IFSOCK|0o777&^t.fsc.umask)
		if e == syscall.EEXIST {
			return syscall.EADDRINUSE
		}
		if e != 0 {
			return e
		}
		n.Private = s
		s.bindNode = n
	}
	s.local, s.bound = a, true
	return 0
}

// findUnix is unix_find_other: the socket an AF_UNIX address names.
func (k *Kernel) findUnix(t *Task, s *sock, a sockAddr) (*sock, syscall.Errno) {
	var o *sock
	if a.abstract {
		o = k.net().abstract[a.path]
	} else {
		if a.path == "" {
			return nil, syscall.EINVAL
		}
		n, e := t.lookupAt(atFDCWDArg, a.path, true)
		if e != 0 {
			return nil, e
		}
		if e := k.fs.Access(n, 2); e != 0 {
			return nil, e
		}
		if n.Mode()&vfs.S_IFMT != vfs.S_IFSOCK {
			return nil, syscall.ECONNREFUSED
		}
		o, _ = n.Private.(*sock) // a host socket file has none: nobody listens
	}
	if o == nil || o.released {
		return nil, syscall.ECONNREFUSED
	}
	if o.stype != s.stype {
		return nil, syscall.EPROTOTYPE
	}
	return o, 0
}

// unbind releases s's name: an abstract name is free again; a path stays
// in the view, leading nowhere, as a socket file does after close.
func (s *sock) unbind() {
	if !s.bound {
		return
	}
	if s.family == afUnix {
		if s.abstract {
			delete(s.k.net().abstract, s.local.path)
		} else if n := s.bindNode; n != nil && n.Private == s {
			n.Private = nil
		}
		return
	}
	ns := s.k.net()
	pi := s.protoIndex()
	list := ns.ports[pi][s.local.port]
	for i, o := range list {
		if o == s {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(ns.ports[pi], s.local.port)
	} else {
		ns.ports[pi][s.local.port] = list
	}
	s.bound = false
}

// addrSet is the set of address kinds a wildcard binding takes: IPv4,
// IPv6 or both (a dual-stack in6addr_any).
func (s *sock) addrSet() int {
	switch {
	case s.family == afInet || s.local.isV4():
		return 1
	case s.opts.v6only:
		return 2
	}
	return 3
}

// covers reports whether s, bound, receives for address x.
func (s *sock) covers(x sockAddr) bool {
	if !s.local.isAny() {
		return s.local.ip == x.ip
	}
	if x.isV4() {
		return s.addrSet()&1 != 0
	}
	return s.addrSet()&2 != 0
}

// overlaps reports whether two bindings share an address.
func (s *sock) overlaps(o *sock) bool {
	switch {
	case !s.local.isAny():
		return o.covers(s.local)
	case !o.local.isAny():
		return s.covers(o.local)
	}
	return s.addrSet()&o.addrSet() != 0
}

// conflicts is inet_csk_bind_conflict and udp_lib_lport_inuse, reduced:
// overlapping bindings of one port conflict unless both sockets set
// SO_REUSEPORT, or both set SO_REUSEADDR and (TCP) neither listens.
func (s *sock) conflicts(o *sock, listening bool) bool {
	if o == s || !s.overlaps(o) {
		return false
	}
	if s.opts.reusePort && o.opts.reusePort {
		return false
	}
	if s.opts.reuseAddr && o.opts.reuseAddr {
		return s.isTCP() && (listening || o.state == ssListening)
	}
	return true
}

// bindInet binds s to a (port 0: an ephemeral one) after the checks of
// inet_bind and inet6_bind.
func (k *Kernel) bindInet(s *sock, a sockAddr, name string) syscall.Errno {
	if s.bound {
		return syscall.EINVAL
	}
	if s.family == afInet6 && a.isV4() && s.opts.v6only {
		return syscall.EINVAL
	}
	if !a.isAny() && !a.isLoopback() {
		k.unsupportedDetail(name, "non-loopback address")
		return syscall.EADDRNOTAVAIL
	}
	if a.port != 0 && a.port < unprivPorts {
		return syscall.EACCES
	}
	s.local.ip = a.ip
	return k.claimPort(s, a.port, syscall.EADDRINUSE)
}

// claimPort binds s to port, or to a free ephemeral port when port is 0
// (busy: exhausted, the errno for the caller: EADDRINUSE for bind,
// EADDRNOTAVAIL for connect's autobind).
func (k *Kernel) claimPort(s *sock, port uint16, exhausted syscall.Errno) syscall.Errno {
	ns := k.net()
	pi := s.protoIndex()
	table := ns.ports[pi]
	if port == 0 {
		for i := 0; i <= ephemeralHigh-ephemeralLow; i++ {
			p := ns.next[pi]
			ns.next[pi]++
			if ns.next[pi] > ephemeralHigh {
				ns.next[pi] = ephemeralLow
			}
			if len(table[p]) == 0 {
				port = p
				break
			}
		}
		if port == 0 {
			return exhausted
		}
	} else {
		for _, o := range table[port] {
			if s.conflicts(o, false) {
				return syscall.EADDRINUSE
			}
		}
	}
	s.local.port = port
	table[port] = append(table[port], s)
	s.bound = true
	return 0
}

// loopbackDest checks a destination: the unspecified address means the
// host itself (loopback); anything but loopback is ENETUNREACH, counted.
func (k *Kernel) loopbackDest(s *sock, x sockAddr, name string) (sockAddr, syscall.Errno) {
	if s.family == afInet6 && x.isV4() && s.opts.v6only {
		return x, syscall.ENETUNREACH
	}
	switch {
	case x.isAny() && x.isV4():
		x.ip = ip4Loopback
	case x.isAny():
		x.ip = ip6Loopback
	case !x.isLoopback():
		k.unsupportedDetail(name, "non-loopback address")
		return x, syscall.ENETUNREACH
	}
	return x, 0
}

// sourceFor is the local address s sends from to x: its bound address,
// or the loopback route's source (127.0.0.1, ::1).
func (s *sock) sourceFor(x sockAddr) [16]byte {
	if !s.local.isAny() {
		return s.local.ip
	}
	if x.isV4() {
		return ip4Loopback
	}
	return ip6Loopback
}

// lookupInet finds the socket of protocol index pi that receives for x
// from src: a bound address before a wildcard (compute_score), in bind
// order; accept filters the candidates.
func (k *Kernel) lookupInet(pi int, x sockAddr, accept func(*sock) bool) *sock {
	var wild *sock
	for _, o := range k.net().ports[pi][x.port] {
		if o.released || !o.covers(x) || !accept(o) {
			continue
		}
		if !o.local.isAny() {
			return o
		}
		if wild == nil {
			wild = o
		}
	}
	return wild
}
