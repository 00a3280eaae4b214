package mmu

// Guest memory access by the modelled kernel and the host.
//
// Read and Write have copy_from_user/copy_to_user semantics: every byte must
// lie in a VMA that allows the access, judged by the VMA's permissions (the
// page fault handler's view, access_error in arch/x86/mm/fault.c: any
// accessible VMA can be read, writing needs VM_WRITE), not by page-table
// overrides. An unmapped address just below a growsdown VMA grows it, as a
// kernel-mode fault on a user address does. Deviation: the access is
// all-or-nothing (nothing is copied when any byte faults), where Linux may
// copy a prefix; FaultError.Addr tells how far the access would have got.
//
// ReadForce and WriteForce are access_process_vm with FOLL_FORCE: only
// mappedness matters (GUP does not grow stacks since Linux 6.5).

type accessKind uint8

const (
	accessRead accessKind = iota
	accessWrite
	accessForceRead  // any mapped byte
	accessForceWrite // any mapped byte
)

func (k accessKind) forced() bool { return k >= accessForceRead }

// checkLocked validates an access of n bytes at addr, growing stacks where
// allowed, and for a write reports whether any page touched is executable
// in the page table (reads do not need to know, and never pay for it).
func (as *AddressSpace) checkLocked(addr uint64, n int, kind accessKind) (exec bool, err error) {
	write := kind == accessWrite || kind == accessForceWrite
	if n == 0 {
		return false, nil
	}
	end := addr + uint64(n)
	if end < addr {
		return false, &FaultError{Addr: addr, Write: write, Reason: "address overflow"}
	}
	for a := addr; a < end; {
		i, ok := as.findVMA(a)
		if !ok {
			if kind.forced() || as.growStackLocked(a) != nil {
				return false, &FaultError{Addr: a, Write: write, Reason: "unmapped"}
			}
			i, _ = as.findVMA(a)
		}
		v := as.vmas[i]
		switch {
		case kind == accessRead && v.Prot&ProtAll == 0:
			return false, &FaultError{Addr: a, Write: write, Reason: "not readable"}
		case kind == accessWrite && v.Prot&ProtWrite == 0:
			return false, &FaultError{Addr: a, Write: write, Reason: "not writable"}
		}
		exec = exec || v.Prot&ProtExec != 0
		a = v.End
	}
	if !write {
		return false, nil
	}
	if !exec && len(as.pageProt) != 0 {
		exec = as.anyExec(addr, end)
	}
	return exec, nil
}

// copyLocked copies between buf and guest memory at addr, which checkLocked
// accepted. A page never touched reads as zeros; writing populates it,
// which fails only when physical memory is used up.
func (as *AddressSpace) copyLocked(addr uint64, buf []byte, toGuest bool) error {
	for len(buf) > 0 {
		page := pageAlignDown(addr)
		n := min(uint64(len(buf)), page+PageSize-addr)
		host := as.pageHost(page)
		switch {
		case toGuest:
			var err error
			if host, err = as.pageHostForWrite(page); err != nil {
				return &FaultError{Addr: addr, Write: true, Reason: "out of memory"}
			}
			copy(host[addr-page:], buf[:n])
		case host == nil && as.fileAt(page):
			// A file page the guest never touched reads the file: fault
			// it in, as copy_from_user would.
			var err error
			if host, err = as.populateLocked(page); err != nil {
				return &FaultError{Addr: addr, Reason: "out of memory"}
			}
			copy(buf[:n], host[addr-page:])
		case host == nil:
			clear(buf[:n])
		default:
			copy(buf[:n], host[addr-page:])
		}
		buf = buf[n:]
		addr += n
	}
	return nil
}

// Read copies guest memory at addr into buf (copy_from_user).
func (as *AddressSpace) Read(addr uint64, buf []byte) error {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.dead != nil {
		return as.dead
	}
	if _, err := as.checkLocked(addr, len(buf), accessRead); err != nil {
		return err
	}
	return as.copyLocked(addr, buf, false)
}

// Write copies data into guest memory at addr (copy_to_user). If any byte
// written is in an executable page (or one whose execute permission was
// revoked, see revoke.go), translations of the written range are dropped on
// every backend afterwards, unless the write changed no byte.
func (as *AddressSpace) Write(addr uint64, data []byte) error {
	return as.write(addr, data, accessWrite)
}

// WriteForce writes data at addr whatever the permissions, as uprobes write
// int3 into read-only text (FOLL_FORCE). The bytes must be mapped.
// Translations of the range are dropped afterwards wherever it lies, unless
// the write changed no byte: rewriting the bytes already there (an
// out-of-line copy written again on every hit) leaves every translation
// valid, and dropping one costs a retranslation.
func (as *AddressSpace) WriteForce(addr uint64, data []byte) error {
	return as.write(addr, data, accessForceWrite)
}

func (as *AddressSpace) write(addr uint64, data []byte, kind accessKind) error {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.dead != nil {
		return as.dead
	}
	exec, err := as.checkLocked(addr, len(data), kind)
	if err != nil {
		return err
	}
	if len(data) == 0 {
		return nil
	}
	end := addr + uint64(len(data))
	if !exec && !kind.forced() && !as.revokedOverlaps(addr, end) {
		return as.copyLocked(addr, data, true)
	}
	if as.equalLocked(addr, data) && !as.sharesCachePages(addr, end) {
		return nil
	}
	err = as.copyLocked(addr, data, true)
	as.invalidate(addr, end)
	return err
}

// equalLocked reports whether guest memory at addr, which checkLocked
// accepted, already holds data.
func (as *AddressSpace) equalLocked(addr uint64, data []byte) bool {
	var zeros [PageSize]byte
	for len(data) > 0 {
		page := pageAlignDown(addr)
		n := min(uint64(len(data)), page+PageSize-addr)
		var host []byte
		if h := as.pageHost(page); h != nil {
			host = h[addr-page : addr-page+n]
		} else {
			host = zeros[:n]
		}
		if string(host) != string(data[:n]) {
			return false
		}
		data = data[n:]
		addr += n
	}
	return true
}

// ReadForce reads guest memory whatever the permissions (FOLL_FORCE); the
// bytes must be mapped. It does not grow stacks.
func (as *AddressSpace) ReadForce(addr uint64, buf []byte) error {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.dead != nil {
		return as.dead
	}
	if _, err := as.checkLocked(addr, len(buf), accessForceRead); err != nil {
		return err
	}
	return as.copyLocked(addr, buf, false)
}

// ReadString reads a NUL-terminated string at addr, looking at no more than
// limit bytes (strncpy_from_user). The NUL is not part of the result. No NUL
// within limit bytes is ErrStringTooLong; a fault before the NUL is a
// FaultError, even if the limit is reached later.
func (as *AddressSpace) ReadString(addr uint64, limit int) (string, error) {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.dead != nil {
		return "", as.dead
	}
	var out []byte
	for limit > 0 {
		// Read up to the end of the page, so a string ending just before
		// an unmapped page is fine.
		n := int(min(uint64(limit), PageSize-addr&pageMask))
		if _, err := as.checkLocked(addr, n, accessRead); err != nil {
			return "", err
		}
		start := len(out)
		out = append(out, make([]byte, n)...)
		if err := as.copyLocked(addr, out[start:], false); err != nil {
			return "", err
		}
		for i, c := range out[start:] {
			if c == 0 {
				return string(out[:start+i]), nil
			}
		}
		limit -= n
		addr += uint64(n)
	}
	return "", ErrStringTooLong
}
