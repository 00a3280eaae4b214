package kernel

import "syscall"

// read(2), write(2) and their vector and positional forms (fs/read_write.c).
//
// Transfers go through the description's FileImpl a chunk at a time, so a
// guest asking for gigabytes costs a bounded host buffer. A file that
// fills requests fully (a regular file, a memory device) is read and
// written chunk after chunk up to the count; a stream stops at the first
// short transfer, as it returns what is there. A stream with nothing to
// give (EAGAIN) blocks the task until the file's wait queue says it is
// ready, unless the description is O_NONBLOCK (block.go).

// ioChunk bounds the host buffer of one transfer step.
const ioChunk = 1 << 20

// fullFile reports whether f's file transfers whole requests.
func fullFile(f *FileDescription) bool {
	switch f.impl.(type) {
	case *regularFile, *devFile:
		return true
	}
	return false
}

// iovec is one segment of a vector transfer.
type iovec struct{ base, len uint64 }

// iovecs reads an iovec array (UIO_MAXIOV entries at most); the total is
// clamped to MAX_RW_COUNT, as rw_copy_check_uvector does.
func (k *Kernel) iovecs(addr, cnt uint64) ([]iovec, syscall.Errno) {
	if cnt > 1024 {
		return nil, syscall.EINVAL
	}
	ws := uint64(k.cfg.Arch.wordSize())
	out := make([]iovec, 0, cnt)
	var total uint64
	for i := uint64(0); i < cnt; i++ {
		base, e := k.readWord(addr + i*2*ws)
		if e != 0 {
			return nil, e
		}
		n, e := k.readWord(addr + i*2*ws + ws)
		if e != 0 {
			return nil, e
		}
		if int64(n) < 0 || k.cfg.Arch == I386 && int32(n) < 0 {
			return nil, syscall.EINVAL
		}
		n = min(n, maxRW-total)
		total += n
		out = append(out, iovec{base, n})
	}
	return out, 0
}

// readInto reads from f into the guest segments segs; at is the position
// for pread (nil: the description's own). It returns the bytes read or an
// errno, EAGAIN meaning nothing was available.
func (k *Kernel) readInto(f *FileDescription, segs []iovec, at *int64) (uint64, syscall.Errno) {
	var done uint64
	full := fullFile(f)
	for _, s := range segs {
		for off := uint64(0); off < s.len; {
			buf := make([]byte, min(s.len-off, ioChunk))
			var n int
			var e syscall.Errno
			if at != nil {
				n, e = f.impl.ReadAt(f, buf, *at+int64(done))
			} else {
				n, e = f.impl.Read(f, buf)
			}
			if e != 0 {
				if done > 0 {
					return done, 0
				}
				return 0, e
			}
			if n > 0 {
				if e := k.writeBytes(s.base+off, buf[:n]); e != 0 {
					if done > 0 {
						return done, 0
					}
					return 0, e
				}
			}
			done += uint64(n)
			off += uint64(n)
			if n < len(buf) || !full {
				return done, 0 // a short transfer, or a stream's first
			}
		}
	}
	return done, 0
}

// writeFrom writes the guest segments segs to f, at for pwrite (nil: the
// description's position, or the end for O_APPEND). The segments are
// gathered into chunks of ioChunk bytes, each written at once, so a
// writev of a few small segments is one write, atomic on a pipe as on
// Linux; a bad buffer in a chunk fails the chunk (EFAULT if it is the
// first), as pipe_write discards a partly copied page.
func (k *Kernel) writeFrom(f *FileDescription, segs []iovec, at *int64) (uint64, syscall.Errno) {
	var total uint64
	for _, s := range segs {
		total += s.len
	}
	var done uint64
	chunk := make([]byte, 0, min(total, ioChunk))
	flush := func() (bool, syscall.Errno) {
		if len(chunk) == 0 {
			return true, 0
		}
		var n int
		var e syscall.Errno
		if at != nil {
			n, e = f.impl.WriteAt(f, chunk, *at+int64(done))
		} else {
			n, e = f.impl.Write(f, chunk)
		}
		done += uint64(n)
		full := n == len(chunk)
		chunk = chunk[:0]
		return e == 0 && full, e
	}
	for _, s := range segs {
		for off := uint64(0); off < s.len; {
			take := min(s.len-off, ioChunk-uint64(len(chunk)))
			b, e := k.readBytes(s.base+off, int(take))
			if e != 0 {
				if done == 0 {
					return 0, e
				}
				return done, 0
			}
			chunk = append(chunk, b...)
			off += take
			if len(chunk) == ioChunk {
				if ok, e := flush(); !ok {
					return writeStop(done, e)
				}
			}
		}
	}
	if ok, e := flush(); !ok {
		return writeStop(done, e)
	}
	return done, 0
}

// writeStop is a write's outcome when a chunk did not go through whole:
// a stream that is full (EAGAIN, or a short write) reports EAGAIN with
// what was written, so that a blocking writer waits for room and goes on;
// another error after some bytes is the bytes, as on Linux.
func writeStop(done uint64, e syscall.Errno) (uint64, syscall.Errno) {
	if e == 0 || e == syscall.EAGAIN {
		return done, syscall.EAGAIN
	}
	return partialIO(done, e)
}

// partialIO is a transfer's outcome after an error: what was done counts,
// as on Linux; nothing done is the error.
func partialIO(done uint64, e syscall.Errno) (uint64, syscall.Errno) {
	if done > 0 {
		return done, 0
	}
	return 0, e
}

// transfer runs one read or write syscall on fd: it checks the
// descriptor, does the I/O and blocks on EAGAIN unless O_NONBLOCK; the
// whole syscall runs again when the file is ready.
func (k *Kernel) transfer(t *Task, fd uint64, write bool, segsOf func() ([]iovec, syscall.Errno), at *int64,
	again func() (uint64, Result)) (uint64, Result) {
	f := t.files.Get(fd)
	if f == nil || write && !f.writable() || !write && !f.readable() {
		return fail(syscall.EBADF)
	}
	if at != nil && *at < 0 {
		return fail(syscall.EINVAL)
	}
	segs, e := segsOf()
	if e != 0 {
		return fail(e)
	}
	if s, ok := f.impl.(*sock); ok && at == nil {
		// read and write on a socket are recv and send without flags.
		if write {
			return k.sockSend(t, f, s, segs, &sendReq{}, 0, 0)
		}
		return k.sockRecv(t, f, s, segs, 0, 0, 0, nil, func(_ *recvResult, n uint64) (uint64, Result) { return okv(n) })
	}
	if write {
		return k.writeOn(t, f, segs, at, 0)
	}
	n, e := k.readInto(f, segs, at)
	if e == syscall.EAGAIN && f.flags&oNonblock == 0 {
		return t.blockOnFile(f, EventIn, again)
	}
	if e != 0 {
		return fail(e)
	}
	return okv(n)
}

// writeOn writes segs to f, done bytes of the syscall being written
// already. A full stream blocks a blocking writer until there is room,
// and the write goes on from where it stopped (pipe_write waits between
// pages); a non-blocking one returns what went through, or EAGAIN.
func (k *Kernel) writeOn(t *Task, f *FileDescription, segs []iovec, at *int64, done uint64) (uint64, Result) {
	n, e := k.writeFrom(f, segs, at)
	done += n
	if e == syscall.EAGAIN {
		if f.flags&oNonblock != 0 {
			if done > 0 {
				return okv(done)
			}
			return fail(e)
		}
		rest := advance(segs, n)
		f.IncRef() // the syscall holds the file while it sleeps
		w, ok := f.impl.(Waitable)
		if !ok {
			f.DecRef()
			return okv(done)
		}
		return t.blockOnQueues([]*WaitQueue{w.Queue()}, []EventMask{EventOut}, 0, func(_ *Task, why wakeReason) (uint64, Result) {
			defer f.DecRef()
			if why == wokenBySignal {
				// What went through counts; nothing is ERESTARTSYS.
				if done > 0 {
					return okv(done)
				}
				return fail(errRestartSys)
			}
			return k.writeOn(t, f, rest, at, done)
		})
	}
	if e != 0 {
		if done > 0 {
			return okv(done)
		}
		return fail(e)
	}
	return okv(done)
}

// advance drops the first n bytes of segs.
func advance(segs []iovec, n uint64) []iovec {
	for len(segs) > 0 && n >= segs[0].len {
		n -= segs[0].len
		segs = segs[1:]
	}
	if len(segs) > 0 && n > 0 {
		first := iovec{segs[0].base + n, segs[0].len - n}
		segs = append([]iovec{first}, segs[1:]...)
	}
	return segs
}

func oneSeg(base, n uint64) func() ([]iovec, syscall.Errno) {
	return func() ([]iovec, syscall.Errno) { return []iovec{{base, min(n, maxRW)}}, 0 }
}

func sysRead(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.transfer(t, a[0], false, oneSeg(a[1], a[2]), nil, func() (uint64, Result) { return sysRead(k, t, a) })
}

func sysWrite(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.transfer(t, a[0], true, oneSeg(a[1], a[2]), nil, func() (uint64, Result) { return sysWrite(k, t, a) })
}

func sysReadv(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.transfer(t, a[0], false, func() ([]iovec, syscall.Errno) { return k.iovecs(a[1], a[2]) }, nil,
		func() (uint64, Result) { return sysReadv(k, t, a) })
}

func sysWritev(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.transfer(t, a[0], true, func() ([]iovec, syscall.Errno) { return k.iovecs(a[1], a[2]) }, nil,
		func() (uint64, Result) { return sysWritev(k, t, a) })
}

// pos64 is a 64-bit file position: one register on x86-64, a pair (low
// first) on i386.
func (k *Kernel) pos64(lo, hi uint64) int64 {
	if k.cfg.Arch == I386 {
		return int64(hi<<32 | lo&0xffffffff)
	}
	return int64(lo)
}

func sysPread64(k *Kernel, t *Task, a Args) (uint64, Result) {
	pos := k.pos64(a[3], a[4])
	return k.transfer(t, a[0], false, oneSeg(a[1], a[2]), &pos, func() (uint64, Result) { return sysPread64(k, t, a) })
}

func sysPwrite64(k *Kernel, t *Task, a Args) (uint64, Result) {
	pos := k.pos64(a[3], a[4])
	return k.transfer(t, a[0], true, oneSeg(a[1], a[2]), &pos, func() (uint64, Result) { return sysPwrite64(k, t, a) })
}

// preadv(fd, iov, cnt, pos_l, pos_h); a position of -1 in preadv2 means
// the description's own.
func (k *Kernel) vpos(a Args, v2 bool) *int64 {
	pos := k.pos64(a[3], a[4])
	if v2 && pos == -1 {
		return nil
	}
	return &pos
}

func sysPreadv(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.transfer(t, a[0], false, func() ([]iovec, syscall.Errno) { return k.iovecs(a[1], a[2]) }, k.vpos(a, false),
		func() (uint64, Result) { return sysPreadv(k, t, a) })
}

func sysPwritev(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.transfer(t, a[0], true, func() ([]iovec, syscall.Errno) { return k.iovecs(a[1], a[2]) }, k.vpos(a, false),
		func() (uint64, Result) { return sysPwritev(k, t, a) })
}

func sysPreadv2(k *Kernel, t *Task, a Args) (uint64, Result) {
	if a[5] != 0 {
		k.unsupportedDetail("preadv2", "flags")
		return fail(syscall.EOPNOTSUPP)
	}
	return k.transfer(t, a[0], false, func() ([]iovec, syscall.Errno) { return k.iovecs(a[1], a[2]) }, k.vpos(a, true),
		func() (uint64, Result) { return sysPreadv2(k, t, a) })
}

func sysPwritev2(k *Kernel, t *Task, a Args) (uint64, Result) {
	if a[5] != 0 {
		k.unsupportedDetail("pwritev2", "flags")
		return fail(syscall.EOPNOTSUPP)
	}
	return k.transfer(t, a[0], true, func() ([]iovec, syscall.Errno) { return k.iovecs(a[1], a[2]) }, k.vpos(a, true),
		func() (uint64, Result) { return sysPwritev2(k, t, a) })
}

// sendfile(out, in, offset *, count): copies in to out through a host
// buffer; with offset, in's position is left alone and *offset advances.
func sendfileHandler(wideOff bool) Handler {
	return func(k *Kernel, t *Task, a Args) (uint64, Result) {
		in, out := t.files.Get(a[1]), t.files.Get(a[0])
		if in == nil || out == nil || !in.readable() || !out.writable() {
			return fail(syscall.EBADF)
		}
		if out.flags&oAppend != 0 {
			return fail(syscall.EINVAL)
		}
		var pos *int64
		if a[2] != 0 {
			var v int64
			if wideOff {
				u, e := k.readU64(a[2])
				if e != 0 {
					return fail(e)
				}
				v = int64(u)
			} else {
				u, e := k.readU32(a[2])
				if e != 0 {
					return fail(e)
				}
				v = int64(int32(u))
			}
			if v < 0 {
				return fail(syscall.EINVAL)
			}
			pos = &v
		}
		// A regular file read at its own position is read at that
		// position, which moves by what was written: a short or refused
		// write loses nothing, as splice takes only what the output took.
		ownPos := pos == nil && fullFile(in)
		if ownPos {
			p := in.pos
			pos = &p
			defer func() { in.pos = p }()
		}
		count := min(a[3], maxRW)
		var done uint64
		for done < count {
			buf := make([]byte, min(count-done, ioChunk))
			var n int
			var e syscall.Errno
			if pos != nil {
				n, e = in.impl.ReadAt(in, buf, *pos)
			} else {
				n, e = in.impl.Read(in, buf)
			}
			if e == syscall.EAGAIN && done == 0 && in.flags&oNonblock == 0 {
				return t.blockOnFile(in, EventIn, func() (uint64, Result) { return sendfileHandler(wideOff)(k, t, a) })
			}
			if e != 0 {
				if done > 0 {
					break
				}
				return fail(e)
			}
			if n == 0 {
				break
			}
			w, e := out.impl.Write(out, buf[:n])
			if e == syscall.EAGAIN && done == 0 && pos != nil && out.flags&oNonblock == 0 {
				// A blocking output that is full (a socket, a pipe): wait
				// for room, then start again from the same position.
				if ownPos {
					in.pos = *pos
				}
				return t.blockOnFile(out, EventOut, func() (uint64, Result) { return sendfileHandler(wideOff)(k, t, a) })
			}
			if e != 0 {
				if done > 0 {
					break
				}
				return fail(e)
			}
			done += uint64(w)
			if pos != nil {
				*pos += int64(w)
			}
			if w < n {
				break
			}
		}
		if pos != nil && !ownPos {
			b := newStruct(8)
			if wideOff {
				b.u64(0, uint64(*pos))
			} else {
				b = newStruct(4)
				b.u32(0, uint32(*pos))
			}
			if e := k.writeBytes(a[2], b.b); e != 0 {
				return fail(e)
			}
		}
		return okv(done)
	}
}
