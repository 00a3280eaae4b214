package insn

// maxAccesses is the most accesses one instruction makes (movs: two operands;
// push/call through memory: operand plus stack slot; enter: two); it sizes
// the scratch buffer so the scan does not allocate.
const maxAccesses = 4

// FindFaulting decodes the block [blockStart, blockStart+len(code)) in mode
// (32 or 64) and returns the address of the first instruction whose memory
// access, computed from regs, covers faultAddr (any byte of the access).
// The scan stops at the first undecodable instruction. ok is false when no
// instruction matches; the caller then falls back to the block start. See
// the package documentation for the accesses modelled and for why the first
// match is taken and when it is wrong.
func FindFaulting(code []byte, blockStart uint64, mode int, regs Regs, faultAddr uint64) (addr uint64, ok bool) {
	if mode != 32 && mode != 64 {
		return 0, false
	}
	mask := modeMask(mode)
	if faultAddr&^mask != 0 {
		return 0, false // a 32-bit guest cannot fault above 4 GiB
	}
	var buf [maxAccesses]access
	for off := 0; off < len(code); {
		inst, err := Decode(code[off:], mode)
		if err != nil {
			return 0, false
		}
		ip := blockStart + uint64(off)
		for _, a := range accesses(&inst, ip, mode, &regs, buf[:0]) {
			if a.covers(faultAddr, mask) {
				return ip, true
			}
		}
		off += inst.Len
	}
	return 0, false
}

// FaultAddress decodes the one instruction at ip (code holds its bytes, or
// more) in mode and returns the first byte that its memory accesses,
// computed from regs, touch in the page [page, page+4096): the address a
// page fault on that page reports (CR2). With an exact ip (Unicorn 2.1's
// virtual TLB restores the state of the faulting instruction) this turns
// the page the TLB refused into the faulting address. ok is false when the
// instruction does not decode or touches nothing in the page that can be
// computed; the caller then reports the page itself.
func FaultAddress(code []byte, ip uint64, mode int, regs Regs, page uint64) (addr uint64, ok bool) {
	if mode != 32 && mode != 64 {
		return 0, false
	}
	mask := modeMask(mode)
	inst, err := Decode(code, mode)
	if err != nil {
		return 0, false
	}
	var buf [maxAccesses]access
	for _, a := range accesses(&inst, ip, mode, &regs, buf[:0]) {
		// The access [a.addr, a.addr+a.size) modulo mask meets the page
		// at its first byte inside it.
		lo := a.addr & mask
		if a.covers(page, mask) {
			return page, true
		}
		if lo >= page && lo-page < 4096 {
			return lo, true
		}
	}
	return 0, false
}
