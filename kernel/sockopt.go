package kernel

import (
	"encoding/binary"
	"syscall"
)

// getsockopt and setsockopt (net/core/sock.c sk_setsockopt and
// sk_getsockopt, net/ipv4/tcp.c, ip_sockglue.c, net/ipv6/ipv6_sockglue.c):
// the options Go's net package, glibc and common servers use. Options
// that only tune what the model does not have (keepalive probes, Nagle,
// TOS) are kept and read back, as they change nothing over a loss-free
// loopback; an option the model cannot honour is ENOPROTOOPT (or Linux's
// errno for a socket without the feature) and counted by name.

const (
	soDebug        = 1
	soReuseaddr    = 2
	soType         = 3
	soError        = 4
	soDontroute    = 5
	soBroadcast    = 6
	soSndbuf       = 7
	soRcvbuf       = 8
	soKeepalive    = 9
	soOobinline    = 10
	soNoCheck      = 11
	soPriority     = 12
	soLinger       = 13
	soReuseport    = 15
	soPasscred     = 16
	soPeercred     = 17
	soRcvlowat     = 18
	soSndlowat     = 19
	soRcvtimeoOld  = 20
	soSndtimeoOld  = 21
	soAcceptconn   = 30
	soSndbufforce  = 32
	soRcvbufforce  = 33
	soMark         = 36
	soProtocol     = 38
	soDomain       = 39
	soCookie       = 57
	soRcvtimeoNew  = 66
	soSndtimeoNew  = 67
	soBindtodevice = 25

	tcpNodelay      = 1
	tcpMaxseg       = 2
	tcpCork         = 3
	tcpKeepidle     = 4
	tcpKeepintvl    = 5
	tcpKeepcnt      = 6
	tcpSyncnt       = 7
	tcpLinger2      = 8
	tcpDeferAccept  = 9
	tcpWindowClamp  = 10
	tcpQuickack     = 12
	tcpUserTimeout  = 18
	tcpNotsentLowat = 25

	ipTos         = 1
	ipTTL         = 2
	ipRecverr     = 11
	ipMtuDiscover = 10
	ipMtu         = 14

	ipv6UnicastHops = 16
	ipv6MtuDiscover = 23
	ipv6Recverr     = 25
	ipv6V6only      = 26
	ipv6Tclass      = 67

	wmemMax       = 212992 // net.core.wmem_max and rmem_max
	sockMinSndbuf = 4608   // SOCK_MIN_SNDBUF on x86-64
	sockMinRcvbuf = 2304   // SOCK_MIN_RCVBUF
	loopbackMSS   = 65483  // MTU 65536 less the IPv4, TCP and timestamp headers
)

// sockOpts are a socket's option values.
type sockOpts struct {
	reuseAddr, reusePort, keepalive, broadcast, dontroute, oobinline    bool
	passcred, nodelay, cork, quickack, v6only, recverr, lingerOn, debug bool
	linger                                                              int32
	rcvbuf, sndbuf                                                      int
	priority, tos, ttl, hops, tclass, mtuDiscover                       int32
	keepidle, keepintvl, keepcnt, userTimeout, maxseg, syncnt           int32
	linger2, deferAccept, windowClamp, notsentLowat                     int32
	rcvtimeo, sndtimeo                                                  int64 // jiffies, 0: none
}

// kernelHZ is CONFIG_HZ of Debian\'s kernels: socket timeouts are kept in
// jiffies, so SO_RCVTIMEO reads back rounded up to 4 ms, as on the host.
const kernelHZ = 250

func jiffiesToNS(j int64) int64 { return j * (1e9 / kernelHZ) }

// defaultSockOpts are a new socket's, with Linux's default buffer sizes
// (net.core.[rw]mem_default; tcp_wmem and tcp_rmem's defaults for TCP).
func defaultSockOpts(family, stype int) sockOpts {
	o := sockOpts{rcvbuf: wmemMax, sndbuf: wmemMax, ttl: -1, hops: -1, tclass: -1,
		keepidle: 7200, keepintvl: 75, keepcnt: 9, syncnt: 6, linger2: 60}
	if family != afUnix && stype == sockStream {
		o.rcvbuf, o.sndbuf = 131072, 16384
	}
	return o
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

func levelName(level uint64) string {
	switch level {
	case solSocket:
		return "SOL_SOCKET"
	case ipprotoTCP:
		return "IPPROTO_TCP"
	case ipprotoIP:
		return "IPPROTO_IP"
	case ipprotoIPv6:
		return "IPPROTO_IPV6"
	case ipprotoUDP:
		return "SOL_UDP"
	}
	return "level " + itoa(int(level))
}

// optUnsupported counts an option probesim does not model.
func (k *Kernel) optUnsupported(name string, level, opt uint64, e syscall.Errno) (uint64, Result) {
	k.unsupportedDetail(name, levelName(level)+" "+itoa(int(opt)))
	return fail(e)
}

// timeoutBytes encodes a timeout as SO_RCVTIMEO returns it: struct
// timeval of the ABI (old) or __kernel_sock_timeval (new, 64-bit fields).
func (k *Kernel) timeoutBytes(j int64, wide bool) []byte {
	sec, usec := j/kernelHZ, j%kernelHZ*(1e6/kernelHZ)
	if !wide && k.cfg.Arch == I386 {
		b := newStruct(8)
		b.u32(0, uint32(sec))
		b.u32(4, uint32(usec))
		return b.b
	}
	b := newStruct(16)
	b.u64(0, uint64(sec))
	b.u64(8, uint64(usec))
	return b.b
}

func sysGetsockopt(k *Kernel, t *Task, a Args) (uint64, Result) {
	_, s, e := sockOf(t, a[0])
	if e != 0 {
		return fail(e)
	}
	level, opt := a[1], a[2]
	ulen, e := k.readU32(a[4])
	if e != 0 {
		return fail(e)
	}
	if int32(ulen) < 0 {
		return fail(syscall.EINVAL)
	}
	var v []byte
	ival := func(x int32) { v = binary.LittleEndian.AppendUint32(nil, uint32(x)) }
	o := &s.opts
	switch level {
	case solSocket:
		switch opt {
		case soDebug:
			ival(b2i(o.debug))
		case soReuseaddr:
			ival(b2i(o.reuseAddr))
		case soReuseport:
			ival(b2i(o.reusePort))
		case soType:
			ival(int32(s.stype))
		case soProtocol:
			ival(int32(s.protocol))
		case soDomain:
			ival(int32(s.family))
		case soAcceptconn:
			ival(b2i(s.state == ssListening))
		case soError:
			ival(int32(s.takeError()))
		case soDontroute:
			ival(b2i(o.dontroute))
		case soBroadcast:
			ival(b2i(o.broadcast))
		case soSndbuf:
			ival(int32(o.sndbuf))
		case soRcvbuf:
			ival(int32(o.rcvbuf))
		case soKeepalive:
			ival(b2i(o.keepalive))
		case soOobinline:
			ival(b2i(o.oobinline))
		case soPriority:
			ival(o.priority)
		case soPasscred:
			ival(b2i(o.passcred))
		case soRcvlowat, soSndlowat:
			ival(1)
		case soLinger:
			v = binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, uint32(b2i(o.lingerOn))), uint32(o.linger))
		case soPeercred:
			c := ucred{pid: 0, uid: 65534, gid: 65534} // no peer: overflowuid
			if s.hasCred {
				c = s.cred
			}
			b := newStruct(12)
			b.u32(0, c.pid)
			b.u32(4, c.uid)
			b.u32(8, c.gid)
			v = b.b
		case soCookie:
			v = binary.LittleEndian.AppendUint64(nil, s.ino)
		case soRcvtimeoOld, soRcvtimeoNew:
			v = k.timeoutBytes(o.rcvtimeo, opt == soRcvtimeoNew)
		case soSndtimeoOld, soSndtimeoNew:
			v = k.timeoutBytes(o.sndtimeo, opt == soSndtimeoNew)
		default:
			return k.optUnsupported("getsockopt", level, opt, syscall.ENOPROTOOPT)
		}
	case ipprotoTCP:
		if !s.isTCP() {
			return k.optLevelMismatch("getsockopt", s, level, opt)
		}
		switch opt {
		case tcpNodelay:
			ival(b2i(o.nodelay))
		case tcpMaxseg:
			switch {
			case o.maxseg != 0:
				ival(o.maxseg)
			case s.state == ssConnected:
				ival(loopbackMSS)
			default:
				ival(536) // TCP_MSS_DEFAULT
			}
		case tcpCork:
			ival(b2i(o.cork))
		case tcpKeepidle:
			ival(o.keepidle)
		case tcpKeepintvl:
			ival(o.keepintvl)
		case tcpKeepcnt:
			ival(o.keepcnt)
		case tcpSyncnt:
			ival(o.syncnt)
		case tcpLinger2:
			ival(o.linger2)
		case tcpDeferAccept:
			ival(o.deferAccept)
		case tcpWindowClamp:
			ival(o.windowClamp)
		case tcpQuickack:
			ival(b2i(!o.quickack))
		case tcpUserTimeout:
			ival(o.userTimeout)
		case tcpNotsentLowat:
			ival(o.notsentLowat)
		default:
			return k.optUnsupported("getsockopt", level, opt, syscall.ENOPROTOOPT)
		}
	case ipprotoIP, ipprotoIPv6:
		x, e := k.ipOpt(s, level, opt)
		if e != 0 {
			return fail(e)
		}
		if x == nil {
			return k.optUnsupported("getsockopt", level, opt, syscall.ENOPROTOOPT)
		}
		ival(*x)
		if level == ipprotoIP && opt == ipTTL && *x < 0 {
			ival(64)
		}
		if level == ipprotoIPv6 && opt == ipv6UnicastHops && *x < 0 {
			ival(64)
		}
		if level == ipprotoIPv6 && opt == ipv6Tclass && *x < 0 {
			ival(0)
		}
	default:
		return k.optLevelMismatch("getsockopt", s, level, opt)
	}
	n := min(int(ulen), len(v))
	if e := k.writeBytes(a[3], v[:n]); e != 0 && n > 0 {
		return fail(e)
	}
	b := newStruct(4)
	b.u32(0, uint32(n))
	return fail0(k.writeBytes(a[4], b.b))
}

// optLevelMismatch is a level the socket's protocol has not: AF_UNIX
// sockets have no protocol options (EOPNOTSUPP), an inet socket sends
// another protocol's level to IP's handler (ENOPROTOOPT).
func (k *Kernel) optLevelMismatch(name string, s *sock, level, opt uint64) (uint64, Result) {
	if s.family == afUnix {
		return k.optUnsupported(name, level, opt, syscall.EOPNOTSUPP)
	}
	return k.optUnsupported(name, level, opt, syscall.ENOPROTOOPT)
}

// ipOpt is the storage of an IP or IPv6 level option (nil: not modelled).
func (k *Kernel) ipOpt(s *sock, level, opt uint64) (*int32, syscall.Errno) {
	o := &s.opts
	if s.family == afUnix {
		return nil, 0
	}
	if level == ipprotoIP {
		switch opt {
		case ipTos:
			return &o.tos, 0
		case ipTTL:
			return &o.ttl, 0
		case ipMtuDiscover:
			return &o.mtuDiscover, 0
		}
		return nil, 0
	}
	if s.family != afInet6 {
		return nil, 0
	}
	switch opt {
	case ipv6UnicastHops:
		return &o.hops, 0
	case ipv6Tclass:
		return &o.tclass, 0
	case ipv6MtuDiscover:
		return &o.mtuDiscover, 0
	}
	return nil, 0
}

func sysSetsockopt(k *Kernel, t *Task, a Args) (uint64, Result) {
	_, s, e := sockOf(t, a[0])
	if e != 0 {
		return fail(e)
	}
	level, opt, optval, optlen := a[1], a[2], a[3], a[4]
	if int32(optlen) < 0 {
		return fail(syscall.EINVAL)
	}
	readInt := func() (int32, syscall.Errno) {
		if optlen < 4 {
			return 0, syscall.EINVAL
		}
		v, e := k.readU32(optval)
		return int32(v), e
	}
	o := &s.opts
	boolOpt := func(p *bool) (uint64, Result) {
		v, e := readInt()
		if e != 0 {
			return fail(e)
		}
		*p = v != 0
		return ok0()
	}
	rangeOpt := func(p *int32, lo, hi int32) (uint64, Result) {
		v, e := readInt()
		if e != 0 {
			return fail(e)
		}
		if v < lo || v > hi {
			return fail(syscall.EINVAL)
		}
		*p = v
		return ok0()
	}
	switch level {
	case solSocket:
		switch opt {
		case soDebug:
			return boolOpt(&o.debug)
		case soReuseaddr:
			return boolOpt(&o.reuseAddr)
		case soReuseport:
			return boolOpt(&o.reusePort)
		case soDontroute:
			return boolOpt(&o.dontroute)
		case soBroadcast:
			return boolOpt(&o.broadcast)
		case soKeepalive:
			return boolOpt(&o.keepalive)
		case soOobinline:
			return boolOpt(&o.oobinline)
		case soPasscred:
			return boolOpt(&o.passcred)
		case soSndbuf, soRcvbuf:
			v, e := readInt()
			if e != 0 {
				return fail(e)
			}
			// sk_setsockopt: clamp to [wr]mem_max, double for overhead.
			n := int(min(uint32(v), wmemMax)) * 2
			if opt == soSndbuf {
				o.sndbuf = max(n, sockMinSndbuf)
			} else {
				o.rcvbuf = max(n, sockMinRcvbuf)
			}
			return ok0()
		case soSndbufforce, soRcvbufforce, soMark, soBindtodevice:
			return fail(syscall.EPERM) // CAP_NET_ADMIN or CAP_NET_RAW
		case soPriority:
			v, e := readInt()
			if e != 0 {
				return fail(e)
			}
			if v < 0 || v > 6 {
				return fail(syscall.EPERM) // above 6 needs CAP_NET_ADMIN
			}
			o.priority = v
			return ok0()
		case soLinger:
			if optlen < 8 {
				return fail(syscall.EINVAL)
			}
			b, e := k.readBytes(optval, 8)
			if e != 0 {
				return fail(e)
			}
			o.lingerOn = binary.LittleEndian.Uint32(b) != 0
			o.linger = int32(binary.LittleEndian.Uint32(b[4:]))
			return ok0()
		case soRcvlowat:
			v, e := readInt()
			if e != 0 {
				return fail(e)
			}
			if v > 1 {
				// A low-water mark above one byte would change when reads
				// and polls see data: not modelled.
				return k.optUnsupported("setsockopt", level, opt, syscall.ENOPROTOOPT)
			}
			return ok0()
		case soSndlowat:
			return fail(syscall.ENOPROTOOPT) // Linux never sets it
		case soRcvtimeoOld, soSndtimeoOld, soRcvtimeoNew, soSndtimeoNew:
			j, e := k.sockTimeout(optval, optlen, opt == soRcvtimeoNew || opt == soSndtimeoNew)
			if e != 0 {
				return fail(e)
			}
			if opt == soRcvtimeoOld || opt == soRcvtimeoNew {
				o.rcvtimeo = j
			} else {
				o.sndtimeo = j
			}
			return ok0()
		case soType, soError, soProtocol, soDomain, soAcceptconn, soPeercred, soCookie:
			return fail(syscall.ENOPROTOOPT)
		}
		return k.optUnsupported("setsockopt", level, opt, syscall.ENOPROTOOPT)
	case ipprotoTCP:
		if !s.isTCP() {
			return k.optLevelMismatch("setsockopt", s, level, opt)
		}
		switch opt {
		case tcpNodelay:
			return boolOpt(&o.nodelay)
		case tcpCork:
			// Corked data is held for at most 200 ms; the model delivers
			// at once, which over loopback only moves time.
			k.note("setsockopt", "TCP_CORK")
			return boolOpt(&o.cork)
		case tcpQuickack:
			v, e := readInt()
			if e != 0 {
				return fail(e)
			}
			o.quickack = v == 0 // stored inverted: get reports !pingpong
			return ok0()
		case tcpMaxseg:
			return rangeOpt(&o.maxseg, 88, 32767)
		case tcpKeepidle:
			return rangeOpt(&o.keepidle, 1, 32767)
		case tcpKeepintvl:
			return rangeOpt(&o.keepintvl, 1, 32767)
		case tcpKeepcnt:
			return rangeOpt(&o.keepcnt, 1, 127)
		case tcpSyncnt:
			return rangeOpt(&o.syncnt, 1, 127)
		case tcpLinger2:
			return rangeOpt(&o.linger2, -1<<31, 1<<31-1)
		case tcpDeferAccept:
			k.note("setsockopt", "TCP_DEFER_ACCEPT")
			return rangeOpt(&o.deferAccept, -1<<31, 1<<31-1)
		case tcpWindowClamp:
			return rangeOpt(&o.windowClamp, 0, 1<<31-1)
		case tcpUserTimeout:
			return rangeOpt(&o.userTimeout, 0, 1<<31-1)
		case tcpNotsentLowat:
			return rangeOpt(&o.notsentLowat, -1<<31, 1<<31-1)
		}
		return k.optUnsupported("setsockopt", level, opt, syscall.ENOPROTOOPT)
	case ipprotoIPv6:
		if s.family == afInet6 && opt == ipv6V6only {
			if s.bound {
				return fail(syscall.EINVAL)
			}
			return boolOpt(&o.v6only)
		}
		if s.family == afInet6 && opt == ipv6Recverr {
			return boolOpt(&o.recverr)
		}
		fallthrough
	case ipprotoIP:
		if s.family != afUnix && level == ipprotoIP && opt == ipRecverr {
			return boolOpt(&o.recverr)
		}
		p, _ := k.ipOpt(s, level, opt)
		if p == nil {
			if s.family == afUnix {
				return k.optUnsupported("setsockopt", level, opt, syscall.EOPNOTSUPP)
			}
			return k.optUnsupported("setsockopt", level, opt, syscall.ENOPROTOOPT)
		}
		switch {
		case level == ipprotoIP && opt == ipTTL, level == ipprotoIPv6:
			return rangeOpt(p, -1, 255)
		case opt == ipMtuDiscover:
			return rangeOpt(p, 0, 5)
		}
		return rangeOpt(p, -1<<31, 1<<31-1)
	}
	return k.optLevelMismatch("setsockopt", s, level, opt)
}

// sockTimeout reads SO_RCVTIMEO's struct timeval (wide: 64-bit fields)
// as jiffies, rounded up (sock_set_timeout): zero is no timeout, a
// negative one is none either, microseconds out of range are EDOM.
func (k *Kernel) sockTimeout(addr, optlen uint64, wide bool) (int64, syscall.Errno) {
	var sec, usec int64
	if wide || k.cfg.Arch == X8664 {
		if optlen < 16 {
			return 0, syscall.EINVAL
		}
		b, e := k.readBytes(addr, 16)
		if e != 0 {
			return 0, e
		}
		sec, usec = int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))
	} else {
		if optlen < 8 {
			return 0, syscall.EINVAL
		}
		b, e := k.readBytes(addr, 8)
		if e != 0 {
			return 0, e
		}
		sec, usec = int64(int32(binary.LittleEndian.Uint32(b))), int64(int32(binary.LittleEndian.Uint32(b[4:])))
	}
	if usec < 0 || usec >= 1e6 {
		return 0, syscall.EDOM
	}
	if sec < 0 {
		return 0, 0
	}
	if sec > (1<<62)/1_000_000_000 {
		return 0, 0 // MAX_SCHEDULE_TIMEOUT
	}
	return sec*kernelHZ + (usec+1e6/kernelHZ-1)/(1e6/kernelHZ), 0
}
