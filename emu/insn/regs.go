package insn

import "golang.org/x/arch/x86/x86asm"

// Regs is the register file at the fault: the 16 general registers in
// x86asm order (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15, i.e.
// GPR[r-x86asm.RAX] for a 64-bit register r) and the FS and GS segment bases.
// In 32-bit mode only the low 32 bits of GPR[0..7] are read.
type Regs struct {
	GPR            [16]uint64
	FSBase, GSBase uint64
}

// Indices into Regs.GPR of the registers the implicit accesses use (stack,
// frame pointer, maskmov destination).
const (
	gprSP = int(x86asm.RSP - x86asm.RAX)
	gprBP = int(x86asm.RBP - x86asm.RAX)
	gprDI = int(x86asm.RDI - x86asm.RAX)
)

// value returns the value of an address register: a 16-, 32- or 64-bit GPR
// read at its width, or the instruction pointer (IP/EIP/RIP), which in an
// address means the next instruction's address nextIP. ok is false for any
// other register (8-bit, vector, segment), which cannot form an address we
// can compute.
func (r *Regs) value(reg x86asm.Reg, nextIP uint64) (v uint64, ok bool) {
	switch {
	case reg >= x86asm.RAX && reg <= x86asm.R15:
		return r.GPR[reg-x86asm.RAX], true
	case reg >= x86asm.EAX && reg <= x86asm.R15L:
		return uint64(uint32(r.GPR[reg-x86asm.EAX])), true
	case reg >= x86asm.AX && reg <= x86asm.R15W:
		return uint64(uint16(r.GPR[reg-x86asm.AX])), true
	case reg == x86asm.RIP:
		return nextIP, true
	case reg == x86asm.EIP:
		return uint64(uint32(nextIP)), true
	case reg == x86asm.IP:
		return uint64(uint16(nextIP)), true
	}
	return 0, false
}

// regWidth is the width in bits of an address register, 0 if it is not one.
func regWidth(reg x86asm.Reg) int {
	switch {
	case reg >= x86asm.RAX && reg <= x86asm.R15, reg == x86asm.RIP:
		return 64
	case reg >= x86asm.EAX && reg <= x86asm.R15L, reg == x86asm.EIP:
		return 32
	case reg >= x86asm.AX && reg <= x86asm.R15W, reg == x86asm.IP:
		return 16
	}
	return 0
}

// gpr returns GPR[i] as the stack and string instructions read it in mode:
// all 64 bits in 64-bit mode, the low 32 bits in 32-bit mode (Linux's flat
// 32-bit segments, so ESP/ESI/EDI).
func (r *Regs) gpr(i, mode int) uint64 {
	return r.GPR[i] & modeMask(mode)
}

// modeMask is the linear-address mask of mode: 32-bit mode wraps at 4 GiB.
func modeMask(mode int) uint64 {
	if mode == 32 {
		return 0xFFFF_FFFF
	}
	return ^uint64(0)
}

// widthMask is the mask of an address size in bits.
func widthMask(bits int) uint64 {
	if bits >= 64 {
		return ^uint64(0)
	}
	return 1<<uint(bits) - 1
}

// RegFamily maps a general-purpose register of any width (al, ah, ax, eax,
// r8b, ...) to its 64-bit register, or 0 for any other register.
func RegFamily(r x86asm.Reg) x86asm.Reg {
	switch {
	case r >= x86asm.RAX && r <= x86asm.R15:
		return r
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return x86asm.RAX + (r - x86asm.EAX)
	case r >= x86asm.AX && r <= x86asm.R15W:
		return x86asm.RAX + (r - x86asm.AX)
	case r >= x86asm.SPB && r <= x86asm.R15B:
		return x86asm.RSP + (r - x86asm.SPB)
	case r >= x86asm.AL && r <= x86asm.BL:
		return x86asm.RAX + (r - x86asm.AL)
	case r >= x86asm.AH && r <= x86asm.BH:
		return x86asm.RAX + (r - x86asm.AH)
	}
	return 0
}
