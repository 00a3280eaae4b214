package kernel

import (
	"encoding/binary"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The socket layer's answers that the sockets fixture cannot show against
// a native run: what depends on the host's network or privileges (off-host
// destinations, raw sockets, netlink), the counting in the report, the
// deterministic ephemeral ports, and i386's socketcall.

func sockaddrIn(ip [4]byte, port uint16) []byte {
	b := make([]byte, sockaddrInLen)
	binary.LittleEndian.PutUint16(b, afInet)
	binary.BigEndian.PutUint16(b[2:], port)
	copy(b[4:], ip[:])
	return b
}

func sockaddrIn6(ip [16]byte, port uint16) []byte {
	b := make([]byte, sockaddrIn6Len)
	binary.LittleEndian.PutUint16(b, afInet6)
	binary.BigEndian.PutUint16(b[2:], port)
	copy(b[8:], ip[:])
	return b
}

// port returns the port of the socket address at addr.
func (h *harness) port(addr uint64) uint16 { return binary.BigEndian.Uint16(h.get(addr+2, 2)) }

// sockname calls getsockname on fd and returns the port.
func (h *harness) sockname(fd uint64) uint16 {
	h.t.Helper()
	addr, lenp := h.alloc(sockaddrIn6Len), h.data(le32(sockaddrIn6Len))
	require.Zero(h.t, h.call("getsockname", fd, addr, lenp))
	return h.port(addr)
}

func TestSocketFamiliesAndTypesNotModelledAreCounted(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		const afNetlink, afPacket, ipprotoSCTP = 16, 17, 132
		assert.Equal(t, h.errRet(syscall.EAFNOSUPPORT), h.call("socket", afNetlink, sockRaw, 0))
		assert.Equal(t, h.errRet(syscall.EAFNOSUPPORT), h.call("socket", afPacket, sockRaw, 0))
		assert.Equal(t, h.errRet(syscall.EPERM), h.call("socket", afInet, sockRaw, 1))
		assert.Equal(t, h.errRet(syscall.EPROTONOSUPPORT), h.call("socket", afInet6, sockStream, ipprotoSCTP))
		// Linux's answer for a combination that exists nowhere: not a gap.
		assert.Equal(t, h.errRet(syscall.EPROTONOSUPPORT), h.call("socket", afInet, sockStream, ipprotoUDP))
		assert.Equal(t, h.errRet(syscall.EINVAL), h.call("socket", afInet, sockStream|0x100, 0))
		assert.Equal(t, map[string]uint64{
			"socket:AF_NETLINK": 1, "socket:AF_PACKET": 1,
			"socket:AF_INET SOCK_RAW": 1, "socket:AF_INET6 protocol 132": 1,
		}, h.k.Unsupported())
	})
}

func TestDestinationsOffTheHostAreUnreachable(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		tcp := h.call("socket", afInet, sockStream, 0)
		far := sockaddrIn([4]byte{10, 1, 2, 3}, 80)
		assert.Equal(t, h.errRet(syscall.ENETUNREACH), h.call("connect", tcp, h.data(far), uint64(len(far))))
		tcp6 := h.call("socket", afInet6, sockStream, 0)
		far6 := sockaddrIn6([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}, 443)
		assert.Equal(t, h.errRet(syscall.ENETUNREACH), h.call("connect", tcp6, h.data(far6), uint64(len(far6))))
		udp := h.call("socket", afInet, sockDgram, 0)
		dns := sockaddrIn([4]byte{8, 8, 8, 8}, 53)
		msg := h.data([]byte("query"))
		assert.Equal(t, h.errRet(syscall.ENETUNREACH), h.call("sendto", udp, msg, 5, 0, h.data(dns), uint64(len(dns))))
		assert.Equal(t, h.errRet(syscall.EADDRNOTAVAIL), h.call("bind", udp, h.data(dns), uint64(len(dns))))
		// The unspecified address is the host itself: loopback.
		any := sockaddrIn([4]byte{}, 9)
		assert.Equal(t, h.errRet(syscall.ECONNREFUSED), h.call("connect", tcp, h.data(any), uint64(len(any))))
		assert.Equal(t, map[string]uint64{
			"connect:non-loopback address": 2, "sendto:non-loopback address": 1, "bind:non-loopback address": 1,
		}, h.k.Unsupported())
	})
}

func TestLoopbackTCPWithoutBlocking(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		l := h.call("socket", afInet, sockStream|sockNonblock, 0)
		lo := sockaddrIn([4]byte{127, 0, 0, 1}, 0)
		require.Zero(t, h.call("bind", l, h.data(lo), uint64(len(lo))))
		require.Zero(t, h.call("listen", l, 1))
		// Ephemeral ports count up from the bottom of ip_local_port_range.
		lport := h.sockname(l)
		assert.Equal(t, uint16(ephemeralLow), lport)
		assert.Equal(t, h.errRet(syscall.EAGAIN), h.call("accept4", l, 0, 0, 0))

		c := h.call("socket", afInet, sockStream|sockNonblock, 0)
		dst := sockaddrIn([4]byte{127, 0, 0, 1}, lport)
		assert.Equal(t, h.errRet(syscall.EINPROGRESS), h.call("connect", c, h.data(dst), uint64(len(dst))))
		assert.Equal(t, h.errRet(syscall.EISCONN), h.call("connect", c, h.data(dst), uint64(len(dst))))
		val, vlen := h.alloc(4), h.data(le32(4))
		require.Zero(t, h.call("getsockopt", c, solSocket, soError, val, vlen))
		assert.Zero(t, h.u32(val))
		assert.Equal(t, uint16(ephemeralLow+1), h.sockname(c))

		peer, plen := h.alloc(sockaddrInLen), h.data(le32(sockaddrInLen))
		a := h.call("accept4", l, peer, plen, sockCloexec)
		require.Less(t, a, uint64(1024))
		assert.Equal(t, uint16(ephemeralLow+1), h.port(peer))
		assert.Equal(t, lport, h.sockname(a), "an accepted socket has the listener's port")

		msg := h.data([]byte("ping"))
		assert.Equal(t, uint64(4), h.call("sendto", c, msg, 4, 0, 0, 0))
		buf := h.alloc(16)
		assert.Equal(t, uint64(4), h.call("recvfrom", a, buf, 16, 0, 0, 0))
		assert.Equal(t, "ping", string(h.get(buf, 4)))
		assert.Equal(t, h.errRet(syscall.EAGAIN), h.call("recvfrom", a, buf, 16, msgDontwait, 0, 0))

		// Closing with unread data resets the connection (tcp_close).
		assert.Equal(t, uint64(4), h.call("sendto", a, msg, 4, 0, 0, 0))
		require.Zero(t, h.call("close", c))
		assert.Equal(t, h.errRet(syscall.ECONNRESET), h.call("recvfrom", a, buf, 16, 0, 0, 0))
		assert.Zero(t, h.call("recvfrom", a, buf, 16, 0, 0, 0), "then end of file")
		assert.Empty(t, h.k.Unsupported())
	})
}

func TestSocketOptionsNotModelledAreCounted(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		const soAttachFilter, tcpInfo = 26, 11
		s := h.call("socket", afInet, sockStream, 0)
		one := h.data(le32(1))
		assert.Equal(t, h.errRet(syscall.ENOPROTOOPT), h.call("setsockopt", s, solSocket, soAttachFilter, one, 4))
		val, vlen := h.alloc(256), h.data(le32(256))
		assert.Equal(t, h.errRet(syscall.ENOPROTOOPT), h.call("getsockopt", s, ipprotoTCP, tcpInfo, val, vlen))
		require.Zero(t, h.call("setsockopt", s, ipprotoTCP, tcpKeepidle, h.data(le32(15)), 4))
		require.Zero(t, h.call("getsockopt", s, ipprotoTCP, tcpKeepidle, val, vlen))
		assert.Equal(t, uint32(15), h.u32(val))
		assert.Equal(t, h.errRet(syscall.EINVAL), h.call("setsockopt", s, ipprotoTCP, tcpKeepcnt, h.data(le32(0)), 4))
		// SO_RCVBUF is doubled for the bookkeeping overhead, as on Linux.
		require.Zero(t, h.call("setsockopt", s, solSocket, soRcvbuf, h.data(le32(10000)), 4))
		require.Zero(t, h.call("getsockopt", s, solSocket, soRcvbuf, val, vlen))
		assert.Equal(t, uint32(20000), h.u32(val))
		u := h.call("socket", afUnix, sockStream, 0)
		assert.Equal(t, h.errRet(syscall.EOPNOTSUPP), h.call("setsockopt", u, ipprotoTCP, tcpNodelay, one, 4))
		assert.Equal(t, h.errRet(syscall.EOPNOTSUPP), h.call("sendto", u, one, 1, msgOOB, 0, 0))
		assert.Equal(t, map[string]uint64{
			"setsockopt:SOL_SOCKET 26": 1, "getsockopt:IPPROTO_TCP 11": 1,
			"setsockopt:IPPROTO_TCP 1": 1, "sendto:MSG_OOB": 1,
		}, h.k.Unsupported())
	})
}

// socketcall runs i386's multiplexer with the arguments in an array.
func (h *harness) socketcall(call uint64, args ...uint64) uint64 {
	h.t.Helper()
	return h.call("socketcall", call, h.data(le32(u32s(args)...)))
}

func u32s(v []uint64) []uint32 {
	out := make([]uint32, len(v))
	for i, x := range v {
		out[i] = uint32(x)
	}
	return out
}

func TestSocketcallRunsTheSocketSyscalls(t *testing.T) {
	h := newHarness(t, I386)
	const sysSocketpair, sysSend, sysRecv, sysRecvmmsg = 8, 9, 10, 19
	sv := h.alloc(8)
	require.Zero(t, h.socketcall(sysSocketpair, afUnix, sockDgram, 0, sv))
	a, b := uint64(h.u32(sv)), uint64(h.u32(sv+4))
	assert.Equal(t, uint64(3), h.socketcall(sysSend, a, h.data([]byte("abc")), 3, 0))
	buf := h.alloc(8)
	assert.Equal(t, uint64(3), h.socketcall(sysRecv, b, buf, 8, 0))
	assert.Equal(t, "abc", string(h.get(buf, 3)))
	// The direct syscalls (359-373) are the same handlers.
	assert.Equal(t, uint64(2), h.call("sendto", b, h.data([]byte("de")), 2, 0, 0, 0))
	assert.Equal(t, uint64(2), h.socketcall(sysRecv, a, buf, 8, msgDontwait))
	assert.Equal(t, h.errRet(syscall.EAGAIN), h.socketcall(sysRecv, a, buf, 8, msgDontwait))
	assert.Equal(t, h.errRet(syscall.EINVAL), h.socketcall(0))
	assert.Equal(t, h.errRet(syscall.EINVAL), h.socketcall(21))
	// recvmmsg through socketcall: two datagrams into a vector of three,
	// MSG_WAITFORONE so that the third does not wait.
	for _, m := range []string{"fg", "hij"} {
		assert.Equal(t, uint64(len(m)), h.call("sendto", b, h.data([]byte(m)), uint64(len(m)), 0, 0, 0))
	}
	buf = h.alloc(16)
	vec := h.alloc(3 * 32)
	for i := uint64(0); i < 3; i++ {
		iov := h.data(le32(uint32(buf+4*i), 4))
		h.put(vec+32*i+8, le32(uint32(iov), 1)) // msg_iov, msg_iovlen
	}
	assert.Equal(t, uint64(2), h.socketcall(sysRecvmmsg, a, vec, 3, msgWaitforone, 0))
	assert.Equal(t, []uint32{2, 3}, []uint32{h.u32(vec + 28), h.u32(vec + 32 + 28)}, "msg_len")
	assert.Equal(t, "fg\x00\x00hij", string(h.get(buf, 7)))
	assert.Empty(t, h.k.Unsupported())
	assert.Equal(t, uint64(8), h.k.Counts()["socketcall"])
}

func TestSocketDescriptorsInProc(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		s := h.call("socket", afUnix, sockStream, 0)
		buf := h.alloc(64)
		n := h.call("readlink", h.str("/proc/self/fd/"+itoa(int(s))), buf, 64)
		require.Less(t, n, uint64(64))
		assert.Regexp(t, `^socket:\[\d+\]$`, string(h.get(buf, int(n))))
		st := h.alloc(256)
		name, modeOff := "fstat", uint64(24)
		if h.arch == I386 {
			name, modeOff = "fstat64", 16
		}
		require.Zero(t, h.call(name, s, st))
		assert.Equal(t, uint32(0o140000), h.u32(st+modeOff)&0o170000, "S_IFSOCK")
		// A socket inode cannot be opened, through /proc either.
		assert.Equal(t, h.errRet(syscall.ENXIO), h.call("openat", atFDCWDArg, h.str("/proc/self/fd/"+itoa(int(s))), oReadWrite, 0))
	})
}

func TestSendmmsgAndRecvmmsg(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		sv := h.alloc(8)
		require.Zero(t, h.call("socketpair", afUnix, sockDgram, 0, sv))
		a, b := uint64(h.u32(sv)), uint64(h.u32(sv+4))
		size := h.k.mmsghdrSize()
		_, iovOff, iovlenOff, _, _, _ := h.k.msghdrOff()
		vector := func(bufs ...uint64) uint64 {
			vec := h.alloc(int(size) * len(bufs))
			for i, p := range bufs {
				iov := h.data(h.words(p, 3))
				h.put(vec+uint64(i)*size+uint64(iovOff), h.words(iov))
				h.put(vec+uint64(i)*size+uint64(iovlenOff), h.words(1))
			}
			return vec
		}
		out := vector(h.data([]byte("one")), h.data([]byte("two")))
		assert.Equal(t, uint64(2), h.call("sendmmsg", a, out, 2, 0))
		in1, in2, in3 := h.alloc(3), h.alloc(3), h.alloc(3)
		in := vector(in1, in2, in3)
		// Two datagrams for three entries; MSG_DONTWAIT ends the call
		// with what it got.
		assert.Equal(t, uint64(2), h.call("recvmmsg", b, in, 3, msgDontwait, 0))
		assert.Equal(t, "one", string(h.get(in1, 3)))
		assert.Equal(t, "two", string(h.get(in2, 3)))
		assert.Equal(t, uint32(3), h.u32(in+size+uint64(map[Arch]int{I386: 28, X8664: 56}[h.arch])), "msg_len")
		assert.Equal(t, h.errRet(syscall.EAGAIN), h.call("recvmmsg", b, in, 3, msgDontwait, 0))
	})
}
