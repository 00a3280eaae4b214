package kernel

import (
	"encoding/binary"
	"syscall"
)

// Socket addresses (struct sockaddr_un, sockaddr_in, sockaddr_in6) between
// guest memory and the model, as move_addr_to_kernel, unix_validate_addr,
// unix_mkname_bsd and the inet families' checks read them.

// sockAddr is an address of any family. An AF_UNIX address is a path of
// the view, a name of the abstract namespace, or unnamed (neither). An
// inet address keeps its IP in IPv6 form, an IPv4 one mapped
// (::ffff:a.b.c.d), so one comparison serves both families.
type sockAddr struct {
	family   int
	path     string
	abstract bool
	ip       [16]byte
	port     uint16
}

const (
	sockaddrStorage = 128 // sizeof(struct sockaddr_storage)
	sockaddrUnLen   = 110 // sizeof(struct sockaddr_un)
	sockaddrInLen   = 16
	sockaddrIn6Len  = 28
	sin6LenRFC2133  = 24
)

var v4MappedPrefix = [12]byte{10: 0xff, 11: 0xff}

func (a sockAddr) isV4() bool { return [12]byte(a.ip[:12]) == v4MappedPrefix }

// isAny is INADDR_ANY or in6addr_any.
func (a sockAddr) isAny() bool {
	if a.isV4() {
		return a.ip[12]|a.ip[13]|a.ip[14]|a.ip[15] == 0
	}
	return a.ip == [16]byte{}
}

// isLoopback is 127.0.0.0/8 or ::1.
func (a sockAddr) isLoopback() bool {
	if a.isV4() {
		return a.ip[12] == 127
	}
	return a.ip == [16]byte{15: 1}
}

func ip4(a, b, c, d byte) [16]byte {
	ip := [16]byte{10: 0xff, 11: 0xff}
	ip[12], ip[13], ip[14], ip[15] = a, b, c, d
	return ip
}

var (
	ip4Loopback = ip4(127, 0, 0, 1)
	ip6Loopback = [16]byte{15: 1}
	ip4Any      = ip4(0, 0, 0, 0)
)

// readSockaddr copies a socket address of addrlen bytes from the guest
// (move_addr_to_kernel: EINVAL beyond sockaddr_storage).
func (k *Kernel) readSockaddr(addr, addrlen uint64) ([]byte, syscall.Errno) {
	if int32(addrlen) < 0 || addrlen > sockaddrStorage {
		return nil, syscall.EINVAL
	}
	if addrlen == 0 {
		return nil, 0
	}
	return k.readBytes(addr, int(addrlen))
}

// unixAddr parses an AF_UNIX address. autobind is an address of the
// family alone (bind's request for an abstract name).
func unixAddr(b []byte) (a sockAddr, autobind bool, e syscall.Errno) {
	if len(b) < 2 || binary.LittleEndian.Uint16(b) != afUnix {
		return a, false, syscall.EINVAL
	}
	a.family = afUnix
	if len(b) > sockaddrUnLen {
		return a, false, syscall.EINVAL
	}
	p := b[2:]
	if len(p) == 0 {
		return a, true, 0
	}
	if p[0] == 0 {
		a.abstract, a.path = true, string(p[1:])
		return a, false, 0
	}
	for i, c := range p {
		if c == 0 {
			p = p[:i]
			break
		}
	}
	a.path = string(p)
	return a, false, 0
}

// inetAddr parses an address for a socket of family: EINVAL when too
// short, EAFNOSUPPORT for another family. AF_UNSPEC is reported as such
// (connect's dissolve, bind's INADDR_ANY compatibility).
func inetAddr(family int, b []byte) (sockAddr, syscall.Errno) {
	a := sockAddr{family: family}
	if family == afInet {
		if len(b) < sockaddrInLen {
			return a, syscall.EINVAL
		}
	} else if len(b) < sin6LenRFC2133 {
		if len(b) >= 2 && binary.LittleEndian.Uint16(b) == afUnspec {
			a.family = afUnspec
			return a, 0
		}
		return a, syscall.EINVAL
	}
	switch int(binary.LittleEndian.Uint16(b)) {
	case afUnspec:
		a.family = afUnspec
		if family == afInet {
			a.ip = ip4(b[4], b[5], b[6], b[7])
		}
		return a, 0
	case family:
	default:
		return a, syscall.EAFNOSUPPORT
	}
	a.port = binary.BigEndian.Uint16(b[2:])
	if family == afInet {
		a.ip = ip4(b[4], b[5], b[6], b[7])
	} else {
		copy(a.ip[:], b[8:24])
	}
	return a, 0
}

// encode is the address as the guest sees it, for a socket of family.
func (a sockAddr) encode(family int) []byte {
	switch family {
	case afUnix:
		b := []byte{afUnix, 0}
		switch {
		case a.abstract:
			b = append(append(b, 0), a.path...)
		case a.path != "":
			b = append(append(b, a.path...), 0)
		}
		return b
	case afInet:
		b := make([]byte, sockaddrInLen)
		binary.LittleEndian.PutUint16(b, afInet)
		binary.BigEndian.PutUint16(b[2:], a.port)
		copy(b[4:], a.ip[12:])
		return b
	}
	b := make([]byte, sockaddrIn6Len)
	binary.LittleEndian.PutUint16(b, afInet6)
	binary.BigEndian.PutUint16(b[2:], a.port)
	copy(b[8:], a.ip[:])
	return b
}

// putSockaddr writes an address to a guest (addr, *addrlen) pair as
// move_addr_to_user does: at most *addrlen bytes, and *addrlen set to the
// address's full length. A nil address (an unnamed sender) has length 0.
func (k *Kernel) putSockaddr(b []byte, addr, lenAddr uint64) syscall.Errno {
	if lenAddr == 0 {
		return 0
	}
	ulen, e := k.readU32(lenAddr)
	if e != 0 {
		return e
	}
	if int32(ulen) < 0 {
		return syscall.EINVAL
	}
	if n := min(int(ulen), len(b)); n > 0 {
		if e := k.writeBytes(addr, b[:n]); e != 0 {
			return e
		}
	}
	lb := newStruct(4)
	lb.u32(0, uint32(len(b)))
	return k.writeBytes(lenAddr, lb.b)
}
