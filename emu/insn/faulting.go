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
