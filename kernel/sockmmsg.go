package kernel

import "syscall"

// recvmmsg and sendmmsg (net/socket.c do_recvmmsg, __sys_sendmmsg): a
// vector of struct mmsghdr, each a msghdr and the length it moved, run as
// recvmsg and sendmsg one entry after the other. Each entry is tried
// without blocking; when it would block and the call may (a blocking
// socket, no MSG_DONTWAIT, and for recvmmsg's later entries no
// MSG_WAITFORONE), the task waits on the socket and tries that entry
// again, so the call sleeps where Linux's inner recvmsg or sendmsg would.
// An error after some entries ends the call with their count; recvmmsg
// keeps it for the next call (sk_err), unless it is EAGAIN. Deviation: a
// stream entry that fills the peer's buffer records what went through
// instead of waiting for the rest.

const (
	msgWaitforone = 0x10000
	uioMaxIOV     = 1024
)

// mmsghdrSize is sizeof(struct mmsghdr): the msghdr and msg_len, padded.
func (k *Kernel) mmsghdrSize() uint64 {
	if k.cfg.Arch == I386 {
		return 32
	}
	return 64
}

// isErrno reports whether a handler's return value is -errno.
func isErrno(ret uint64) (syscall.Errno, bool) {
	if v := int64(ret); v < 0 && v >= -4095 {
		return syscall.Errno(-v), true
	}
	return 0, false
}

// putMsgLen writes an entry's msg_len, which follows its msghdr.
func (k *Kernel) putMsgLen(entry, n uint64) syscall.Errno {
	off := uint64(56) // sizeof(struct msghdr)
	if k.cfg.Arch == I386 {
		off = 28
	}
	b := newStruct(4)
	b.u32(0, uint32(n))
	return k.writeBytes(entry+off, b.b)
}

// recvmmsgHandler is recvmmsg(fd, vec, vlen, flags, timeout); wide: the
// timeout is a 64-bit timespec (x86-64, i386's recvmmsg_time64).
func recvmmsgHandler(wide bool) Handler {
	return func(k *Kernel, t *Task, a Args) (uint64, Result) {
		f, s, e := sockOf(t, a[0])
		if e != 0 {
			return fail(e)
		}
		ns, e := k.timeoutArg(a[4], wide)
		if e != 0 {
			return fail(e)
		}
		var end uint64
		if ns >= 0 {
			end = addFP(k.nowFP(), k.nsToFP(uint64(ns)))
		}
		return k.recvmmsgFrom(t, f, s, a, min(a[2], uioMaxIOV), 0, end, wide)
	}
}

func (k *Kernel) recvmmsgFrom(t *Task, f *FileDescription, s *sock, a Args, vlen, count, end uint64, wide bool) (uint64, Result) {
	flags := a[3] &^ msgWaitforone
	if count > 0 && a[3]&msgWaitforone != 0 {
		flags |= msgDontwait
	}
	for count < vlen {
		entry := a[1] + count*k.mmsghdrSize()
		ret, _ := sysRecvmsg(k, t, Args{a[0], entry, flags | msgDontwait})
		if e, bad := isErrno(ret); bad {
			if e == syscall.EAGAIN && f.flags&oNonblock == 0 && flags&msgDontwait == 0 {
				stop := stopWith(0, 0, nil)
				return k.sockWait(t, f, &s.q, EventIn, k.sockDeadline(s.opts.rcvtimeo), func() (uint64, Result) {
					return k.recvmmsgFrom(t, f, s, a, vlen, count, end, wide)
				}, func(why wakeReason) (uint64, Result) {
					if count > 0 {
						return okv(count)
					}
					return stop(why)
				})
			}
			if count == 0 {
				return fail(e)
			}
			if e != syscall.EAGAIN {
				s.soError = e
			}
			return okv(count)
		}
		if e := k.putMsgLen(entry, ret); e != 0 {
			return partialResult(count, e)
		}
		count++
		if a[3]&msgWaitforone != 0 {
			flags |= msgDontwait
		}
		if end != 0 {
			var left uint64
			if now := k.nowFP(); end > now {
				left = k.fpToNS(end - now)
			}
			if e := k.putTime(a[4], left/1e9, left%1e9, wide); e != 0 {
				return partialResult(count, e)
			}
			if left == 0 {
				break
			}
		}
	}
	return okv(count)
}

// sysSendmmsg is sendmmsg(fd, vec, vlen, flags).
func sysSendmmsg(k *Kernel, t *Task, a Args) (uint64, Result) {
	f, s, e := sockOf(t, a[0])
	if e != 0 {
		return fail(e)
	}
	return k.sendmmsgFrom(t, f, s, a, min(a[2], uioMaxIOV), 0)
}

func (k *Kernel) sendmmsgFrom(t *Task, f *FileDescription, s *sock, a Args, vlen, count uint64) (uint64, Result) {
	for count < vlen {
		entry := a[1] + count*k.mmsghdrSize()
		ret, _ := sysSendmsg(k, t, Args{a[0], entry, a[3] | msgDontwait})
		if e, bad := isErrno(ret); bad {
			if e == syscall.EAGAIN && f.flags&oNonblock == 0 && a[3]&msgDontwait == 0 {
				stop := stopWith(0, 0, nil)
				return k.sockWait(t, f, k.sendWaitQueue(t, s, entry), EventOut, k.sockDeadline(s.opts.sndtimeo),
					func() (uint64, Result) { return k.sendmmsgFrom(t, f, s, a, vlen, count) },
					func(why wakeReason) (uint64, Result) {
						if count > 0 {
							return okv(count)
						}
						return stop(why)
					})
			}
			if count == 0 {
				return fail(e)
			}
			return okv(count)
		}
		if e := k.putMsgLen(entry, ret); e != 0 {
			return partialResult(count, e)
		}
		count++
	}
	return okv(count)
}

// sendWaitQueue is where a send of the msghdr at hdr waits for room: an
// AF_UNIX datagram's destination's senders' queue, else the socket's own.
func (k *Kernel) sendWaitQueue(t *Task, s *sock, hdr uint64) *WaitQueue {
	if s.family != afUnix || s.isStream() {
		return &s.q
	}
	if m, e := k.readMsghdr(hdr); e == 0 && m.name != 0 && m.namelen != 0 {
		if b, e := k.readSockaddr(m.name, m.namelen); e == 0 {
			if ua, auto, e := unixAddr(b); e == 0 && !auto {
				if d, e := k.findUnix(t, s, ua); e == 0 {
					return &d.peerWait
				}
			}
		}
	}
	if s.peer != nil {
		return &s.peer.peerWait
	}
	return &s.q
}
