package kernel

import (
	"encoding/binary"
	"syscall"
)

// sendto, recvfrom, sendmsg and recvmsg, with struct msghdr and control
// messages (net/socket.c, net/core/scm.c): SCM_RIGHTS passes descriptors
// over AF_UNIX sockets, SCM_CREDENTIALS is checked and, with SO_PASSCRED,
// received. Deviation: descriptors in flight in a cycle of sockets nobody
// can reach are not collected (there is no unix_gc); they are freed with
// the process.

const (
	solSocket      = 1
	scmRights      = 1
	scmCredentials = 2
	scmMaxFD       = 253 // SCM_MAX_FD
)

// sendFlags checks a send's flags: what probesim does not model is
// counted and gets Linux's errno without the feature.
func (k *Kernel) sendFlags(name string, s *sock, flags uint64) syscall.Errno {
	switch {
	case flags&msgOOB != 0:
		// Urgent data (TCP) and AF_UNIX's out-of-band byte are not modelled.
		k.unsupportedDetail(name, "MSG_OOB")
		return syscall.EOPNOTSUPP
	case flags&msgFastopen != 0:
		k.unsupportedDetail(name, "MSG_FASTOPEN")
		return syscall.EOPNOTSUPP
	}
	return 0
}

// sendDest resolves a send's destination address for s.
func (k *Kernel) sendDest(t *Task, s *sock, name string, b []byte, req *sendReq) syscall.Errno {
	if b == nil {
		return 0
	}
	if s.isStream() {
		if s.family == afUnix {
			if s.state == ssConnected {
				return syscall.EISCONN
			}
			return syscall.EOPNOTSUPP
		}
		return 0 // TCP ignores the address of a send
	}
	if s.family == afUnix {
		ua, auto, e := unixAddr(b)
		if e != 0 || auto {
			return syscall.EINVAL
		}
		d, e := k.findUnix(t, s, ua)
		if e != 0 {
			return e
		}
		req.to = d
		return 0
	}
	x, e := inetAddr(s.family, b)
	if e != 0 {
		return e
	}
	if x.family == afUnspec {
		return syscall.EAFNOSUPPORT
	}
	x, e = k.loopbackDest(s, x, name)
	if e != 0 {
		return e
	}
	if x.port == 0 {
		return syscall.EINVAL
	}
	req.dest = &x
	return 0
}

// sysSendto is sendto(fd, buf, len, flags, addr, addrlen); send is
// sendto without an address.
func sysSendto(k *Kernel, t *Task, a Args) (uint64, Result) {
	f, s, e := sockOf(t, a[0])
	if e != 0 {
		return fail(e)
	}
	if e := k.sendFlags("sendto", s, a[3]); e != 0 {
		return fail(e)
	}
	req := &sendReq{flags: int(a[3])}
	if a[4] != 0 {
		b, e := k.readSockaddr(a[4], a[5])
		if e != 0 {
			return fail(e)
		}
		if e := k.sendDest(t, s, "sendto", b, req); e != 0 {
			return fail(e)
		}
	}
	return k.sockSend(t, f, s, []iovec{{a[1], min(a[2], maxRW)}}, req, 0, 0)
}

// sysRecvfrom is recvfrom(fd, buf, len, flags, addr, addrlen).
func sysRecvfrom(k *Kernel, t *Task, a Args) (uint64, Result) {
	f, s, e := sockOf(t, a[0])
	if e != 0 {
		return fail(e)
	}
	flags := int(a[3])
	if e := recvFlags(flags); e != 0 {
		return fail(e)
	}
	return k.sockRecv(t, f, s, []iovec{{a[1], min(a[2], maxRW)}}, flags, 0, 0, nil, func(r *recvResult, n uint64) (uint64, Result) {
		if r != nil && a[4] != 0 {
			var b []byte
			if r.named && !s.isTCP() {
				b = r.from.encode(s.family)
			}
			if e := k.putSockaddr(b, a[4], a[5]); e != 0 {
				return fail(e)
			}
		}
		if r != nil {
			r.dropRights() // recvfrom has nowhere to put them
		}
		return okv(recvValue(s, r, n, flags))
	})
}

// recvFlags: MSG_OOB finds no urgent data (EINVAL, as tcp_recvmsg says
// without any) and MSG_ERRQUEUE an empty error queue: probesim never
// queues either.
func recvFlags(flags int) syscall.Errno {
	switch {
	case flags&msgOOB != 0:
		return syscall.EINVAL
	case flags&msgErrqueue != 0:
		return syscall.EAGAIN
	}
	return 0
}

// recvValue is a receive's return value: the bytes copied, or with
// MSG_TRUNC a datagram's real length.
func recvValue(s *sock, r *recvResult, n uint64, flags int) uint64 {
	if r != nil && flags&msgTrunc != 0 && (!s.isStream() || s.stype == sockSeqpacket) {
		return uint64(r.full)
	}
	return n
}

func (r *recvResult) dropRights() {
	for _, f := range r.rights {
		f.DecRef()
	}
	r.rights = nil
}

// msghdr is struct msghdr (user_msghdr) in the ABI's layout.
type msghdr struct {
	name, namelen, iov, iovlen, control, controllen, flags uint64
}

func (k *Kernel) msghdrOff() (namelen, iov, iovlen, control, controllen, flags int) {
	if k.cfg.Arch == I386 {
		return 4, 8, 12, 16, 20, 24
	}
	return 8, 16, 24, 32, 40, 48
}

func (k *Kernel) readMsghdr(addr uint64) (msghdr, syscall.Errno) {
	var m msghdr
	nl, io, il, c, cl, fl := k.msghdrOff()
	size := fl + 4
	b, e := k.readBytes(addr, size)
	if e != 0 {
		return m, e
	}
	word := func(off int) uint64 {
		if k.cfg.Arch == I386 {
			return uint64(binary.LittleEndian.Uint32(b[off:]))
		}
		return binary.LittleEndian.Uint64(b[off:])
	}
	m.name = word(0)
	m.namelen = uint64(binary.LittleEndian.Uint32(b[nl:]))
	m.iov, m.iovlen = word(io), word(il)
	m.control, m.controllen = word(c), word(cl)
	m.flags = uint64(binary.LittleEndian.Uint32(b[fl:]))
	return m, 0
}

// cmsgLayout is the control message header's size and alignment.
func (k *Kernel) cmsgLayout() (hdr, align uint64) {
	if k.cfg.Arch == I386 {
		return 12, 4
	}
	return 16, 8
}

func cmsgAlign(n, a uint64) uint64 { return (n + a - 1) &^ (a - 1) }

// sendControl parses a sendmsg's control messages (__scm_send): the
// descriptors of SCM_RIGHTS, references taken.
func (k *Kernel) sendControl(t *Task, s *sock, m msghdr) ([]*FileDescription, syscall.Errno) {
	if m.controllen == 0 {
		return nil, 0
	}
	if m.controllen > 1<<16 || int64(m.controllen) < 0 {
		return nil, syscall.ENOBUFS
	}
	buf, e := k.readBytes(m.control, int(m.controllen))
	if e != 0 {
		return nil, e
	}
	hdr, align := k.cmsgLayout()
	var rights []*FileDescription
	bad := func(e syscall.Errno) ([]*FileDescription, syscall.Errno) {
		for _, f := range rights {
			f.DecRef()
		}
		return nil, e
	}
	for off := uint64(0); off+hdr <= uint64(len(buf)); {
		var clen uint64
		if hdr == 12 {
			clen = uint64(binary.LittleEndian.Uint32(buf[off:]))
		} else {
			clen = binary.LittleEndian.Uint64(buf[off:])
		}
		if clen < hdr || off+clen > uint64(len(buf)) {
			return bad(syscall.EINVAL)
		}
		level := int32(binary.LittleEndian.Uint32(buf[off+hdr-8:]))
		typ := int32(binary.LittleEndian.Uint32(buf[off+hdr-4:]))
		data := buf[off+hdr : off+clen]
		switch {
		case s.family == afUnix && level != solSocket:
			// __scm_send skips other levels.
		case level == solSocket && typ == scmRights && s.family == afUnix:
			n := len(data) / 4
			if n == 0 || len(rights)+n > scmMaxFD {
				return bad(syscall.EINVAL)
			}
			for i := 0; i < n; i++ {
				f := t.files.Get(uint64(binary.LittleEndian.Uint32(data[4*i:])))
				if f == nil {
					return bad(syscall.EBADF)
				}
				f.IncRef()
				rights = append(rights, f)
			}
		case level == solSocket && typ == scmCredentials && s.family == afUnix:
			if len(data) != 12 {
				return bad(syscall.EINVAL)
			}
			c := k.ownCred()
			if binary.LittleEndian.Uint32(data) != c.pid || binary.LittleEndian.Uint32(data[4:]) != c.uid ||
				binary.LittleEndian.Uint32(data[8:]) != c.gid {
				return bad(syscall.EPERM) // only one's own, without privileges
			}
		default:
			k.unsupportedDetail("sendmsg", "cmsg "+itoa(int(level))+"/"+itoa(int(typ)))
			return bad(syscall.EINVAL)
		}
		off += cmsgAlign(clen, align)
	}
	return rights, 0
}

func sysSendmsg(k *Kernel, t *Task, a Args) (uint64, Result) {
	f, s, e := sockOf(t, a[0])
	if e != 0 {
		return fail(e)
	}
	m, e := k.readMsghdr(a[1])
	if e != 0 {
		return fail(e)
	}
	if e := k.sendFlags("sendmsg", s, a[2]); e != 0 {
		return fail(e)
	}
	segs, e := k.iovecs(m.iov, m.iovlen)
	if e != 0 {
		return fail(e)
	}
	req := &sendReq{flags: int(a[2])}
	if m.name != 0 && m.namelen != 0 {
		b, e := k.readSockaddr(m.name, m.namelen)
		if e != 0 {
			return fail(e)
		}
		if e := k.sendDest(t, s, "sendmsg", b, req); e != 0 {
			return fail(e)
		}
	}
	rights, e := k.sendControl(t, s, m)
	if e != 0 {
		return fail(e)
	}
	req.rights = rights
	return k.sockSend(t, f, s, segs, req, 0, 0)
}

func sysRecvmsg(k *Kernel, t *Task, a Args) (uint64, Result) {
	f, s, e := sockOf(t, a[0])
	if e != 0 {
		return fail(e)
	}
	flags := int(a[2])
	if e := recvFlags(flags); e != 0 {
		return fail(e)
	}
	m, e := k.readMsghdr(a[1])
	if e != 0 {
		return fail(e)
	}
	segs, e := k.iovecs(m.iov, m.iovlen)
	if e != 0 {
		return fail(e)
	}
	return k.sockRecv(t, f, s, segs, flags, 0, 0, nil, func(r *recvResult, n uint64) (uint64, Result) {
		nl, _, _, _, cl, fl := k.msghdrOff()
		var outFlags uint32
		var name []byte
		var ctl []byte
		if r != nil {
			if r.named && !s.isTCP() {
				name = r.from.encode(s.family)
			}
			if r.full > len(r.data) && (!s.isStream() || s.stype == sockSeqpacket) {
				outFlags |= msgTrunc
			}
			var trunc bool
			ctl, trunc = k.recvControl(t, s, r, m.controllen, flags&msgCmsgCloexec != 0)
			if trunc {
				outFlags |= msgCtrunc
			}
		}
		if m.name != 0 {
			if n := min(int(m.namelen), len(name)); n > 0 {
				if e := k.writeBytes(m.name, name[:n]); e != 0 {
					return fail(e)
				}
			}
		}
		b := newStruct(4)
		b.u32(0, uint32(len(name)))
		if e := k.writeBytes(a[1]+uint64(nl), b.b); e != 0 {
			return fail(e)
		}
		if len(ctl) > 0 {
			if e := k.writeBytes(m.control, ctl); e != 0 {
				return fail(e)
			}
		}
		wb := newStruct(k.cfg.Arch.wordSize())
		wb.word(k.cfg.Arch, 0, uint64(len(ctl)))
		if e := k.writeBytes(a[1]+uint64(cl), wb.b); e != 0 {
			return fail(e)
		}
		b.u32(0, outFlags)
		if e := k.writeBytes(a[1]+uint64(fl), b.b); e != 0 {
			return fail(e)
		}
		return okv(recvValue(s, r, n, flags))
	})
}

// recvControl builds a recvmsg's control messages in at most room bytes
// (put_cmsg, scm_detach_fds): the sender's credentials with SO_PASSCRED,
// then the descriptors received, installed in t's table. What does not
// fit is MSG_CTRUNC, and descriptors without room are closed.
func (k *Kernel) recvControl(t *Task, s *sock, r *recvResult, room uint64, cloexec bool) ([]byte, bool) {
	hdr, align := k.cmsgLayout()
	var out []byte
	trunc := false
	put := func(typ int, data []byte) {
		left := room - uint64(len(out))
		if room < uint64(len(out)) || left < hdr {
			trunc = true
			return
		}
		clen := hdr + uint64(len(data))
		msg := make([]byte, hdr, clen)
		if hdr == 12 {
			binary.LittleEndian.PutUint32(msg, uint32(clen))
		} else {
			binary.LittleEndian.PutUint64(msg, clen)
		}
		binary.LittleEndian.PutUint32(msg[hdr-8:], solSocket)
		binary.LittleEndian.PutUint32(msg[hdr-4:], uint32(typ))
		msg = append(msg, data...)
		if uint64(len(msg)) > left {
			trunc = true
			msg = msg[:left]
		}
		out = append(out, msg...)
		if pad := cmsgAlign(uint64(len(out)), align) - uint64(len(out)); uint64(len(out))+pad <= room {
			out = append(out, make([]byte, pad)...)
		}
	}
	if s.opts.passcred && s.family == afUnix && r.hasCred {
		b := newStruct(12)
		b.u32(0, r.cred.pid)
		b.u32(4, r.cred.uid)
		b.u32(8, r.cred.gid)
		put(scmCredentials, b.b)
	}
	if len(r.rights) > 0 {
		left := uint64(0)
		if room >= uint64(len(out))+hdr {
			left = (room - uint64(len(out)) - hdr) / 4
		}
		var fds []byte
		for i, f := range r.rights {
			if uint64(i) >= left {
				trunc = true
				f.DecRef()
				continue
			}
			fd, e := t.installFD(f, cloexec)
			if e != 0 {
				trunc = true
				continue
			}
			fds = binary.LittleEndian.AppendUint32(fds, uint32(fd))
		}
		r.rights = nil
		if len(fds) > 0 {
			put(scmRights, fds)
		} else {
			trunc = true
		}
	}
	return out, trunc
}
